/**
 * Data retention per workspace: messages (with their media files), assistant turns, processed
 * webhook events and records of sent emails older than the workspace's settings are deleted, and
 * the assistant's summaries of conversations quiet since then cleared, a bounded batch per mutation.
 *
 * Defaults (a workspace without settings): messages 365 days, webhook events
 * WEBHOOK_EVENT_RETENTION_DAYS (30), emails 180 days. The platform-wide webhook-event pruning
 * (whatsappWebhooks.pruneEvents) still applies, so a workspace can keep its events shorter than
 * the platform does, not longer. Messages still in the send pipeline or waiting for billing
 * (queued, sending, settlement pending or estimated) are kept until they are done. Email records
 * of no workspace (the platform's) are kept the default time.
 */
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../../_generated/server";
import { webhookEventRetentionDays } from "../../env";
import * as Audit from "../audit";
import { fail } from "../errors";
import { deleteMessage } from "../privacy/erase";
import { Findings, type StepInput, type StepResult } from "./runs";
import type { RetentionSettings } from "./tables";

export const DEFAULT_MESSAGE_DAYS = 365;
export const DEFAULT_EMAIL_DAYS = 180;
export const MAX_RETENTION_DAYS = 3650;
/** Documents deleted (or looked at) per batch. */
export const RETENTION_BATCH = 200;

const DAY_MS = 24 * 60 * 60 * 1000;

export function defaultRetention(): RetentionSettings {
  return {
    messagesDays: DEFAULT_MESSAGE_DAYS,
    webhookEventsDays: webhookEventRetentionDays(),
    emailsDays: DEFAULT_EMAIL_DAYS,
  };
}

export async function retentionOf(ctx: QueryCtx, tenantId: Id<"tenants">): Promise<RetentionSettings> {
  const row = await ctx.db
    .query("retentionSettings")
    .withIndex("by_tenant", (q) => q.eq("tenantId", tenantId))
    .unique();
  const defaults = defaultRetention();
  if (!row) return defaults;
  return {
    messagesDays: row.messagesDays,
    // The platform's pruning caps it (see above).
    webhookEventsDays: Math.min(row.webhookEventsDays, defaults.webhookEventsDays),
    emailsDays: row.emailsDays,
  };
}

function checkDays(value: number, field: keyof RetentionSettings, label: string, max = MAX_RETENTION_DAYS) {
  if (!Number.isInteger(value) || value < 1 || value > max)
    fail("INVALID", `${label} must be a whole number of days from 1 to ${max}`, field);
  return value;
}

/** Saves a workspace's retention settings (owners and admins), audited. */
export async function setRetention(
  ctx: MutationCtx,
  user: Doc<"users">,
  tenantId: Id<"tenants">,
  input: RetentionSettings,
): Promise<RetentionSettings> {
  const platformEvents = webhookEventRetentionDays();
  const next: RetentionSettings = {
    messagesDays: checkDays(input.messagesDays, "messagesDays", "Messages"),
    webhookEventsDays: checkDays(
      input.webhookEventsDays,
      "webhookEventsDays",
      "Webhook events",
      platformEvents,
    ),
    emailsDays: checkDays(input.emailsDays, "emailsDays", "Emails"),
  };
  const before = await retentionOf(ctx, tenantId);
  const row = await ctx.db
    .query("retentionSettings")
    .withIndex("by_tenant", (q) => q.eq("tenantId", tenantId))
    .unique();
  const fields = { ...next, updatedAt: Date.now(), updatedBy: user._id };
  if (row) await ctx.db.patch("retentionSettings", row._id, fields);
  else await ctx.db.insert("retentionSettings", { tenantId, ...fields });
  const changed = Audit.diff(before, next);
  if (changed) {
    await Audit.record(ctx, {
      tenantId,
      actor: user,
      action: "tenant.retention_changed",
      targetType: "tenant",
      targetId: tenantId,
      summary: `Set data retention to messages ${next.messagesDays} days, webhook events ${next.webhookEventsDays} days, emails ${next.emailsDays} days`,
      ...changed,
    });
  }
  return next;
}

/**
 * The phases of one workspace, in order. Messages and webhook events are read per channel (their
 * indexes start with the channel); assistant turns, conversation summaries and emails per
 * workspace. Turns and summaries hold what customers wrote, so they follow the messages' setting.
 */
type Phase = "messages" | "turns" | "summaries" | "events" | "emails";
const PHASES: Phase[] = ["messages", "turns", "summaries", "events", "emails"];
const PER_CHANNEL = new Set<Phase>(["messages", "events"]);
const WHAT: Record<Phase, string> = {
  messages: "messages",
  turns: "assistant turns",
  summaries: "conversation summaries",
  events: "processed webhook events",
  emails: "email records",
};

/** What one batch did: how many rows it deleted or cleared, and where the next one starts. */
type Batch = { handled: number; isDone: boolean; continueCursor: string | null };
const NOTHING: Batch = { handled: 0, isDone: true, continueCursor: null };

/** Runs `each` over a page's rows, counting those it handled (it returns false for rows kept). */
async function sweep<T>(
  page: { page: T[]; isDone: boolean; continueCursor: string },
  each: (row: T) => Promise<boolean>,
): Promise<Batch> {
  let handled = 0;
  for (const row of page.page) if (await each(row)) handled++;
  return { handled, isDone: page.isDone, continueCursor: page.continueCursor };
}

type RetentionCursor = {
  /** The creation time of the last workspace finished. */
  after: number | null;
  /** After every workspace: the platform's own email records (no workspace), from this page. */
  platform?: { page: string | null };
  current?: { tenantId: Id<"tenants">; created: number; phase: Phase; channel: number; page: string | null };
};

function keep(message: Doc<"messages">): boolean {
  return (
    message.status === "queued" ||
    message.status === "sending" ||
    message.settlement === "pending" ||
    message.settlement === "estimated"
  );
}

/** The platform's email records (alerts to platform admins, sign-in mail), kept the default time. */
async function platformEmails(
  ctx: MutationCtx,
  cursor: string | null,
  now: number,
  after: number | null,
): Promise<StepResult> {
  const cutoff = now - DEFAULT_EMAIL_DAYS * DAY_MS;
  const page = await ctx.db
    .query("emails")
    .withIndex("by_tenant_created", (q) => q.eq("tenantId", undefined).lt("createdAt", cutoff))
    .paginate({ cursor, numItems: RETENTION_BATCH });
  for (const row of page.page) await ctx.db.delete("emails", row._id);
  const findings = new Findings();
  if (page.page.length) {
    findings.add(
      "platform/emails",
      "fixed",
      `Deleted ${page.page.length} platform email records from before ${new Date(cutoff).toISOString().slice(0, 10)} (kept ${DEFAULT_EMAIL_DAYS} days)`,
    );
  }
  const next: RetentionCursor = { after, platform: { page: page.continueCursor } };
  return { findings: findings.list, cursor: page.isDone ? null : JSON.stringify(next) };
}

/**
 * One batch of one workspace's phase (messages per channel, assistant turns, conversation
 * summaries, webhook events per channel, then emails): deletes what is older than its setting;
 * each batch that deleted something is a finding (fixed) saying what and up to when.
 */
export async function retentionStep(ctx: MutationCtx, { cursor, now }: StepInput): Promise<StepResult> {
  const state: RetentionCursor = cursor ? (JSON.parse(cursor) as RetentionCursor) : { after: null };
  let current = state.current;
  if (!current) {
    const after = state.after;
    const tenant = await ctx.db
      .query("tenants")
      .withIndex("by_creation_time", (q) => (after === null ? q : q.gt("_creationTime", after)))
      .first();
    if (!tenant) return await platformEmails(ctx, state.platform?.page ?? null, now, state.after);
    current = {
      tenantId: tenant._id,
      created: tenant._creationTime,
      phase: "messages",
      channel: 0,
      page: null,
    };
  }
  const settings = await retentionOf(ctx, current.tenantId);
  const channels = await ctx.db
    .query("channels")
    .withIndex("by_tenant", (q) => q.eq("tenantId", current.tenantId))
    .take(100);
  const tenantId = current.tenantId;
  const days =
    current.phase === "events"
      ? settings.webhookEventsDays
      : current.phase === "emails"
        ? settings.emailsDays
        : settings.messagesDays;
  const cutoff = now - days * DAY_MS;
  const opts = { cursor: current.page, numItems: RETENTION_BATCH };
  const channelId = PER_CHANNEL.has(current.phase) ? channels[current.channel]?._id : undefined;
  let batch: Batch = NOTHING;
  switch (current.phase) {
    case "emails":
      batch = await sweep(
        await ctx.db
          .query("emails")
          .withIndex("by_tenant_created", (q) => q.eq("tenantId", tenantId).lt("createdAt", cutoff))
          .paginate(opts),
        async (row) => (await ctx.db.delete("emails", row._id), true),
      );
      break;
    case "turns":
      // Their ledger entries stay (they name the turn by id, like a deleted message's).
      batch = await sweep(
        await ctx.db
          .query("assistantTurns")
          .withIndex("by_tenant", (q) => q.eq("tenantId", tenantId).lt("startedAt", cutoff))
          .paginate(opts),
        async (turn) => (await ctx.db.delete("assistantTurns", turn._id), true),
      );
      break;
    case "summaries":
      // A conversation quiet since before the cutoff has had its messages deleted: the
      // assistant's summary of them, and the handoff note's, go too. The conversation stays.
      batch = await sweep(
        await ctx.db
          .query("conversations")
          .withIndex("by_tenant_last", (q) => q.eq("tenantId", tenantId).lt("lastMessageAt", cutoff))
          .paginate(opts),
        async (conversation) => {
          if (conversation.summary === undefined && !conversation.handoff?.summary) return false;
          await ctx.db.patch("conversations", conversation._id, {
            summary: undefined,
            ...(conversation.handoff ? { handoff: { ...conversation.handoff, summary: "" } } : {}),
          });
          return true;
        },
      );
      break;
    case "messages":
      if (!channelId) break;
      batch = await sweep(
        await ctx.db
          .query("messages")
          .withIndex("by_channel_created", (q) => q.eq("channelId", channelId).lt("createdAt", cutoff))
          .paginate(opts),
        async (message) => {
          if (keep(message)) return false;
          // With its media file and held-message row, as erasure deletes it.
          await deleteMessage(ctx, message);
          return true;
        },
      );
      break;
    case "events":
      if (!channelId) break;
      batch = await sweep(
        await ctx.db
          .query("webhookEvents")
          .withIndex("by_channel_received", (q) => q.eq("channelId", channelId).lt("receivedAt", cutoff))
          .paginate(opts),
        async (event) => {
          // Events still to process, and dead letters waiting for a person, are kept.
          if (event.state !== "done") return false;
          await ctx.db.delete("webhookEvents", event._id);
          return true;
        },
      );
      break;
  }
  const findings = new Findings();
  if (batch.handled > 0) {
    findings.add(
      `${tenantId}/${current.phase}`,
      "fixed",
      `${current.phase === "summaries" ? "Cleared" : "Deleted"} ${batch.handled} ${WHAT[current.phase]} from before ${new Date(cutoff).toISOString().slice(0, 10)} (kept ${days} days)`,
      tenantId,
    );
  }
  let next: RetentionCursor;
  const nextPhase = PHASES[PHASES.indexOf(current.phase) + 1];
  if (!batch.isDone) next = { after: state.after, current: { ...current, page: batch.continueCursor } };
  else if (PER_CHANNEL.has(current.phase) && current.channel + 1 < channels.length)
    next = { after: state.after, current: { ...current, channel: current.channel + 1, page: null } };
  else if (nextPhase)
    next = { after: state.after, current: { ...current, phase: nextPhase, channel: 0, page: null } };
  else next = { after: current.created };
  return { findings: findings.list, cursor: JSON.stringify(next) };
}
