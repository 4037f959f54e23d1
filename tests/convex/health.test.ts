/** Convex /health (degraded vs down per dependency) and /metrics (Prometheus text, token only). */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { internal } from "../../convex/_generated/api";
import { HEARTBEAT_STALE_MS, WEBHOOK_LAG_DEGRADED_MS } from "../../convex/model/health";
import { setup, type T } from "./factories";
import { cloud, postCloud, stubWhatsAppEnv, world } from "./whatsapp-helpers";
import { APPLY_INLINE_MAX } from "../../convex/whatsappWebhooks";

/**
 * One request with more messages than are applied while storing: they wait for scheduled
 * processing (the clock below moves without firing timers, so it stays waiting).
 */
function largeBatch(): string {
  const body = JSON.parse(cloud("message-text"));
  const value = body.entry[0].changes[0].value;
  const [message] = value.messages;
  value.messages = Array.from({ length: APPLY_INLINE_MAX + 1 }, (_, i) => ({
    ...message,
    id: `${message.id}.${i}`,
  }));
  return JSON.stringify(body);
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2024-06-03T16:00:00Z"));
  stubWhatsAppEnv();
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

type Health = {
  status: "ok" | "degraded" | "down";
  checks: Record<string, { status: string; detail?: string }>;
};

async function health(t: T): Promise<{ status: number; body: Health }> {
  const response = await t.fetch("/health", { method: "GET" });
  return { status: response.status, body: (await response.json()) as Health };
}

describe("Convex /health", () => {
  it("reports every dependency, all ok on a quiet deployment", async () => {
    const { t } = setup();
    await t.mutation(internal.system.heartbeat, {});
    const { status, body } = await health(t);
    expect(status).toBe(200);
    expect(body.status).toBe("ok");
    expect(Object.keys(body.checks).sort()).toEqual(
      ["database", "email", "openai", "scheduler", "webhooks", "whatsapp"].sort(),
    );
    for (const check of Object.values(body.checks)) expect(check.status).toBe("ok");
  });

  it("is degraded, still 200, when the scheduler has stopped beating", async () => {
    const { t } = setup();
    await t.mutation(internal.system.heartbeat, {});
    vi.setSystemTime(Date.now() + HEARTBEAT_STALE_MS + 1_000);
    const { status, body } = await health(t);
    expect(status).toBe(200);
    expect(body.status).toBe("degraded");
    expect(body.checks.scheduler).toMatchObject({
      status: "degraded",
      detail: expect.stringMatching(/heartbeat/),
    });
    expect(body.checks.database.status).toBe("ok");
  });

  it("is degraded when webhook events wait for processing, and ok again once processed", async () => {
    const { t } = setup();
    await world(t);
    await t.mutation(internal.system.heartbeat, {});
    expect((await postCloud(t, largeBatch())).status).toBe(200);
    // The clock moves without firing timers: the events' processing stays scheduled, not run.
    vi.setSystemTime(Date.now() + WEBHOOK_LAG_DEGRADED_MS + 5_000);
    await t.mutation(internal.system.heartbeat, {});
    const waiting = await health(t);
    expect(waiting.body.status).toBe("degraded");
    expect(waiting.body.checks.webhooks).toMatchObject({
      status: "degraded",
      detail: expect.stringMatching(/oldest webhook event has waited/),
    });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    await t.mutation(internal.system.heartbeat, {});
    expect((await health(t)).body.checks.webhooks.status).toBe("ok");
  });

  it("is degraded when the model breaker of a workspace is open", async () => {
    const { t } = setup();
    const w = await world(t);
    await t.mutation(internal.system.heartbeat, {});
    await t.run(async (ctx) => {
      const assistant = await ctx.db
        .query("assistants")
        .withIndex("by_tenant", (q) => q.eq("tenantId", w.tenantId))
        .unique();
      await ctx.db.patch("assistants", assistant!._id, {
        breaker: { ...assistant!.breaker, state: "open", openedAt: Date.now() },
      });
    });
    const { body } = await health(t);
    expect(body.status).toBe("degraded");
    expect(body.checks.openai).toMatchObject({
      status: "degraded",
      detail: expect.stringMatching(/1 workspace/),
    });
  });
});

describe("Convex /metrics", () => {
  it("does not exist without METRICS_TOKEN", async () => {
    const { t } = setup();
    const response = await t.fetch("/metrics", { method: "GET" });
    expect(response.status).toBe(404);
  });

  it("refuses a missing or wrong token", async () => {
    vi.stubEnv("METRICS_TOKEN", "scrape-token-7c1e");
    const { t } = setup();
    expect((await t.fetch("/metrics", { method: "GET" })).status).toBe(401);
    const wrong = await t.fetch("/metrics", {
      method: "GET",
      headers: { authorization: "Bearer scrape-token-7c1f" },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toBe("Bearer");
  });

  it("answers Prometheus text with check states, webhook depths and lag", async () => {
    vi.stubEnv("METRICS_TOKEN", "scrape-token-7c1e");
    const { t } = setup();
    await world(t);
    await t.mutation(internal.system.heartbeat, {});
    await postCloud(t, largeBatch());
    vi.setSystemTime(Date.now() + 90_000);
    const response = await t.fetch("/metrics", {
      method: "GET",
      headers: { authorization: "Bearer scrape-token-7c1e" },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    // Every sample line is `name{labels} number` and every metric has HELP and TYPE.
    for (const line of text.trim().split("\n")) {
      expect(line).toMatch(
        /^(# (HELP|TYPE) switchboard_\w+ .+|switchboard_\w+(\{[^}]*\})? -?\d+(\.\d+)?(e[+-]?\d+)?)$/,
      );
    }
    expect(text).toContain("# TYPE switchboard_check_status gauge");
    expect(text).toContain('switchboard_check_status{check="webhooks"} 1');
    expect(text).toContain(`switchboard_webhook_events{state="pending"} ${APPLY_INLINE_MAX + 1}`);
    expect(text).toMatch(/^switchboard_webhook_lag_seconds 90$/m);
    expect(text).toMatch(/^switchboard_scheduler_heartbeat_age_seconds 90$/m);
  });
  it("reports each reconciliation job's latest run", async () => {
    vi.stubEnv("METRICS_TOKEN", "scrape-token-7c1e");
    const { t } = setup();
    await t.mutation(internal.reconciliation.start, { job: "old_reservations" });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const started = Math.floor(Date.now() / 1000);
    const text = await (
      await t.fetch("/metrics", { method: "GET", headers: { authorization: "Bearer scrape-token-7c1e" } })
    ).text();
    expect(text).toContain('switchboard_reconciliation_findings{job="old_reservations",outcome="found"} 0');
    expect(text).toContain(
      'switchboard_reconciliation_findings{job="old_reservations",outcome="needs_person"} 0',
    );
    expect(text).toContain('switchboard_reconciliation_run_failed{job="old_reservations"} 0');
    expect(text).toMatch(
      new RegExp(
        `^switchboard_reconciliation_last_run_timestamp_seconds\\{job="old_reservations"\\} ${started}$`,
        "m",
      ),
    );
    // Jobs that never ran have no samples.
    expect(text).not.toContain('job="wallet_invariant"');
  });
});
