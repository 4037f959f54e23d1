/**
 * What the health endpoint and the metrics endpoint read: the state of every dependency and queue,
 * each from a bounded read (an index range or the newest rows, capped), so the endpoints cost the
 * same with ten tenants or ten thousand.
 *
 * A check is `ok`, `degraded` (working, but a person should look: the scheduler is late, webhooks
 * wait, a provider fails often) or `down` (the database does not answer; only the HTTP action can
 * see that). Only `down` makes the endpoint answer 503: a load balancer should not take a
 * deployment out of service because WhatsApp or OpenAI is having a bad hour.
 */
import type { QueryCtx } from "../_generated/server";
import { JOB_NAMES } from "./reconciliation/jobs";
import { latestRun } from "./reconciliation/runs";
import { HEARTBEAT_JOB, jobStatus } from "./system";

export type CheckStatus = "ok" | "degraded" | "down";
export type Check = { status: CheckStatus; detail?: string };

/** The heartbeat cron runs every minute; three missed runs mean the scheduler is in trouble. */
export const HEARTBEAT_STALE_MS = 3 * 60_000;
/** A webhook event waiting longer than this for processing means processing falls behind. */
export const WEBHOOK_LAG_DEGRADED_MS = 60_000;
/** Recent provider calls looked at, and how recent. */
const RECENT_WINDOW_MS = 15 * 60_000;
const RECENT_SAMPLE = 200;
/** Counts above this are reported as this ("at least"), so a backlog cannot make a read unbounded. */
export const COUNT_CAP = 1_000;

export type HealthSnapshot = {
  at: number;
  version?: string;
  scheduler: Check & { lastRunAt: number | null; ageMs: number | null };
  webhooks: Check & { pending: number; retrying: number; dead: number; oldestWaitingMs: number };
  whatsapp: Check & { recentSends: number; recentProviderFailures: number };
  openai: Check & { openBreakers: number };
  email: Check & { recentSent: number; recentFailed: number };
  dispatch: {
    channels: {
      channelId: string;
      rate: number;
      maxRate: number;
      sentTotal: number;
      lastTickAt: number;
      throttledRecently: boolean;
    }[];
    runningCampaigns: number;
  };
  /** Each reconciliation job's latest run (jobs that never ran are left out). */
  reconciliation: {
    job: string;
    status: "running" | "done" | "failed";
    startedAt: number;
    found: number;
    fixed: number;
    needsPerson: number;
  }[];
};

/** Every dependency's state, from bounded reads. */
export async function snapshot(ctx: QueryCtx, now = Date.now()): Promise<HealthSnapshot> {
  // Scheduler: the heartbeat cron proves crons and scheduled functions run.
  const heartbeat = await jobStatus(ctx, HEARTBEAT_JOB);
  const ageMs = heartbeat ? now - heartbeat.lastRunAt : null;
  const scheduler: HealthSnapshot["scheduler"] =
    ageMs === null
      ? {
          status: "ok",
          detail: "no heartbeat yet (the first runs a minute after start)",
          lastRunAt: null,
          ageMs,
        }
      : ageMs > HEARTBEAT_STALE_MS
        ? {
            status: "degraded",
            detail: `the heartbeat cron last ran ${Math.round(ageMs / 1000)} s ago`,
            lastRunAt: heartbeat!.lastRunAt,
            ageMs,
          }
        : { status: "ok", lastRunAt: heartbeat!.lastRunAt, ageMs };

  // Webhooks: how many wait for processing, and for how long the oldest has waited.
  const waiting = (state: "pending" | "retrying") =>
    ctx.db
      .query("webhookEvents")
      .withIndex("by_state_received", (q) => q.eq("state", state))
      .take(COUNT_CAP);
  const [pendingRows, retryingRows] = await Promise.all([waiting("pending"), waiting("retrying")]);
  const dead = (
    await ctx.db
      .query("webhookEvents")
      .withIndex("by_state_received", (q) => q.eq("state", "dead"))
      .take(COUNT_CAP)
  ).length;
  const oldest = Math.min(pendingRows[0]?.receivedAt ?? now, retryingRows[0]?.receivedAt ?? now);
  const oldestWaitingMs = Math.max(0, now - oldest);
  const webhooks: HealthSnapshot["webhooks"] = {
    status: oldestWaitingMs > WEBHOOK_LAG_DEGRADED_MS ? "degraded" : "ok",
    ...(oldestWaitingMs > WEBHOOK_LAG_DEGRADED_MS
      ? { detail: `the oldest webhook event has waited ${Math.round(oldestWaitingMs / 1000)} s` }
      : {}),
    pending: pendingRows.length,
    retrying: retryingRows.length,
    dead,
    oldestWaitingMs,
  };

  // WhatsApp: of the newest outbound messages of the last minutes, how many the provider failed
  // for reasons of its own (unreachable, 5xx, throttling), not the recipient's.
  const recentMessages = await ctx.db
    .query("messages")
    .withIndex("by_creation_time", (q) => q.gte("_creationTime", now - RECENT_WINDOW_MS))
    .order("desc")
    .take(RECENT_SAMPLE);
  const sends = recentMessages.filter((m) => m.direction === "out");
  const providerFailures = sends.filter(
    (m) => m.errorClass === "retryable" || m.errorClass === "throttled" || m.errorClass === "auth",
  ).length;
  const whatsappDegraded = providerFailures >= 5 && providerFailures / Math.max(1, sends.length) > 0.2;
  const whatsapp: HealthSnapshot["whatsapp"] = {
    status: whatsappDegraded ? "degraded" : "ok",
    ...(whatsappDegraded
      ? { detail: `${providerFailures} of the last ${sends.length} sends met a provider error` }
      : {}),
    recentSends: sends.length,
    recentProviderFailures: providerFailures,
  };

  // OpenAI: a workspace whose model breaker is open is answering offline or handing off.
  const assistants = await ctx.db.query("assistants").take(COUNT_CAP);
  const openBreakers = assistants.filter((a) => a.breaker.state === "open").length;
  const openai: HealthSnapshot["openai"] = {
    status: openBreakers > 0 ? "degraded" : "ok",
    ...(openBreakers > 0 ? { detail: `the model is failing for ${openBreakers} workspace(s)` } : {}),
    openBreakers,
  };

  // Email: the newest emails of the last minutes, sent or failed.
  const recentEmails = await ctx.db
    .query("emails")
    .withIndex("by_created", (q) => q.gte("createdAt", now - RECENT_WINDOW_MS))
    .order("desc")
    .take(RECENT_SAMPLE);
  const emailFailed = recentEmails.filter((e) => e.status === "failed").length;
  const emailSent = recentEmails.filter((e) => e.status === "sent").length;
  const emailDegraded = emailFailed >= 3 && emailFailed > emailSent;
  const email: HealthSnapshot["email"] = {
    status: emailDegraded ? "degraded" : "ok",
    ...(emailDegraded ? { detail: `${emailFailed} of the last ${recentEmails.length} emails failed` } : {}),
    recentSent: emailSent,
    recentFailed: emailFailed,
  };

  const dispatchRows = await ctx.db.query("channelDispatch").take(COUNT_CAP);
  const runningCampaigns = (
    await ctx.db
      .query("campaigns")
      .withIndex("by_state_scheduled", (q) => q.eq("state", "running"))
      .take(COUNT_CAP)
  ).length;
  const reconciliation = (
    await Promise.all(JOB_NAMES.map(async (job) => ({ job, run: await latestRun(ctx, job) })))
  ).flatMap(({ job, run }) =>
    run
      ? [
          {
            job,
            status: run.status,
            startedAt: run.startedAt,
            found: run.found,
            fixed: run.fixed,
            needsPerson: run.needsPerson,
          },
        ]
      : [],
  );
  return {
    at: now,
    reconciliation,
    scheduler,
    webhooks,
    whatsapp,
    openai,
    email,
    dispatch: {
      channels: dispatchRows.map((row) => ({
        channelId: row.channelId,
        rate: row.rate,
        maxRate: row.maxRate,
        sentTotal: row.sentTotal,
        lastTickAt: row.lastTickAt,
        throttledRecently: row.throttledAt !== undefined && now - row.throttledAt < 60_000,
      })),
      runningCampaigns,
    },
  };
}

/** The overall state: the worst of the checks. */
export function overall(checks: Check[]): CheckStatus {
  if (checks.some((c) => c.status === "down")) return "down";
  if (checks.some((c) => c.status === "degraded")) return "degraded";
  return "ok";
}

/** One Prometheus sample: `name{labels} value`. */
type Sample = {
  name: string;
  help: string;
  type: "gauge" | "counter";
  values: { labels?: Record<string, string>; value: number }[];
};

/** A sample of one kind; a plain number is its one value, without labels. */
function sampleOf(type: Sample["type"]) {
  return (name: string, help: string, values: number | Sample["values"]): Sample => ({
    name,
    help,
    type,
    values: typeof values === "number" ? [{ value: values }] : values,
  });
}
const gauge = sampleOf("gauge");
const counter = sampleOf("counter");

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** The Prometheus text exposition format (version 0.0.4) of `samples`. */
export function prometheusText(samples: Sample[]): string {
  const lines: string[] = [];
  for (const sample of samples) {
    lines.push(`# HELP ${sample.name} ${sample.help}`, `# TYPE ${sample.name} ${sample.type}`);
    for (const { labels, value } of sample.values) {
      const rendered = labels
        ? `{${Object.entries(labels)
            .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
            .join(",")}}`
        : "";
      lines.push(`${sample.name}${rendered} ${Number.isFinite(value) ? value : 0}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

const STATUS_VALUE: Record<CheckStatus, number> = { ok: 0, degraded: 1, down: 2 };

/** The snapshot as metrics for scraping. */
export function metricsOf(s: HealthSnapshot): string {
  const checks = {
    scheduler: s.scheduler,
    webhooks: s.webhooks,
    whatsapp: s.whatsapp,
    openai: s.openai,
    email: s.email,
  };
  return prometheusText([
    gauge(
      "switchboard_check_status",
      "State of each dependency check: 0 ok, 1 degraded, 2 down.",
      Object.entries(checks).map(([check, c]) => ({
        labels: { check },
        value: STATUS_VALUE[c.status],
      })),
    ),
    gauge(
      "switchboard_scheduler_heartbeat_age_seconds",
      "Seconds since the heartbeat cron last ran (-1: not yet).",
      s.scheduler.ageMs === null ? -1 : s.scheduler.ageMs / 1000,
    ),
    gauge(
      "switchboard_webhook_events",
      "Webhook events by processing state (capped at 1000).",
      (["pending", "retrying", "dead"] as const).map((state) => ({
        labels: { state },
        value: s.webhooks[state],
      })),
    ),
    gauge(
      "switchboard_webhook_lag_seconds",
      "How long the oldest unprocessed webhook event has waited.",
      s.webhooks.oldestWaitingMs / 1000,
    ),
    gauge(
      "switchboard_whatsapp_recent_sends",
      "Outbound messages created in the last 15 minutes (sampled, at most 200), and those the provider failed.",
      [
        { labels: { outcome: "all" }, value: s.whatsapp.recentSends },
        { labels: { outcome: "provider_error" }, value: s.whatsapp.recentProviderFailures },
      ],
    ),
    gauge(
      "switchboard_assistant_breakers_open",
      "Workspaces whose model circuit breaker is open.",
      s.openai.openBreakers,
    ),
    gauge("switchboard_email_recent", "Emails of the last 15 minutes by outcome (sampled, at most 200).", [
      { labels: { outcome: "sent" }, value: s.email.recentSent },
      { labels: { outcome: "failed" }, value: s.email.recentFailed },
    ]),
    gauge("switchboard_campaigns_running", "Campaigns sending now.", s.dispatch.runningCampaigns),
    gauge(
      "switchboard_dispatch_rate",
      "Each channel's current campaign send rate (messages/s, adapted to throttling) and its ceiling.",
      s.dispatch.channels.flatMap((c) => [
        { labels: { channel: c.channelId, kind: "current" }, value: c.rate },
        { labels: { channel: c.channelId, kind: "max" }, value: c.maxRate },
      ]),
    ),
    counter(
      "switchboard_dispatch_sent_total",
      "Campaign messages each channel's dispatcher has handed to the send pipeline.",
      s.dispatch.channels.map((c) => ({ labels: { channel: c.channelId }, value: c.sentTotal })),
    ),
    gauge(
      "switchboard_reconciliation_findings",
      "What each reconciliation job's latest run found, fixed and left for a person.",
      s.reconciliation.flatMap((r) => [
        { labels: { job: r.job, outcome: "found" }, value: r.found },
        { labels: { job: r.job, outcome: "fixed" }, value: r.fixed },
        { labels: { job: r.job, outcome: "needs_person" }, value: r.needsPerson },
      ]),
    ),
    gauge(
      "switchboard_reconciliation_last_run_timestamp_seconds",
      "When each reconciliation job's latest run started (Unix seconds).",
      s.reconciliation.map((r) => ({
        labels: { job: r.job },
        value: Math.floor(r.startedAt / 1000),
      })),
    ),
    gauge(
      "switchboard_reconciliation_run_failed",
      "1 when a reconciliation job's latest run failed.",
      s.reconciliation.map((r) => ({ labels: { job: r.job }, value: r.status === "failed" ? 1 : 0 })),
    ),
    gauge(
      "switchboard_dispatch_throttled",
      "1 when the channel met WhatsApp's throughput limit (130429) in the last minute.",
      s.dispatch.channels.map((c) => ({
        labels: { channel: c.channelId },
        value: c.throttledRecently ? 1 : 0,
      })),
    ),
  ]);
}
