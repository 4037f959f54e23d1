/**
 * Reconciliation jobs: each rule with its drift seeded, run through the real run framework
 * (batches continued by the scheduler), the report checked, and a second run changing nothing.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { Doc, Id } from "../../convex/_generated/dataModel";
import { netCost, refund, reserve, topUp } from "../../convex/model/billing/charging";
import { bump, COST_SHARD, SHARDS } from "../../convex/model/campaigns/counters";
import { RECOUNT_BATCH } from "../../convex/model/reconciliation/campaignJobs";
import { INVARIANT_PAGE, RESERVATION_BATCH } from "../../convex/model/reconciliation/moneyJobs";
import { RETENTION_BATCH } from "../../convex/model/reconciliation/retention";
import {
  RUN_PRUNE_BATCH,
  RUN_RETENTION_DAYS,
  RUNS_KEPT_PER_JOB,
} from "../../convex/model/reconciliation/runs";
import type { ReconciliationJob } from "../../convex/model/reconciliation/tables";
import { errorOf, setup, signUp, type T } from "./factories";
import { inTx } from "./billing-helpers";
import {
  cloud,
  OUT_WAMID,
  outbound,
  postCloud,
  stubWhatsAppEnv,
  world,
  type World,
} from "./whatsapp-helpers";

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
const NOW = Date.parse("2026-08-16T12:00:00Z");
const ADMIN = "root@platform.test";

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date(NOW));
  stubWhatsAppEnv();
  vi.stubEnv("PLATFORM_ADMIN_EMAILS", ADMIN);
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

/** Convex's transaction limits are on: every batch must stay within them. */
async function fresh(): Promise<{ t: T; w: World; as: ReturnType<typeof setup>["as"] }> {
  const { t, as } = setup({ transactionLimits: true });
  await t.mutation(internal.billing.seedRates, {});
  return { t, as, w: await world(t) };
}

const drain = (t: T) => t.finishAllScheduledFunctions(vi.runAllTimers);

/** Starts a run of `job` as the cron does, lets every batch run, and returns its report. */
async function runJob(t: T, job: ReconciliationJob, options: { now?: number; scope?: string } = {}) {
  const { runId } = await t.mutation(internal.reconciliation.start, {
    job,
    now: options.now ?? NOW,
    ...options,
  });
  await drain(t);
  return (await t.run((ctx) => ctx.db.get("reconciliationRuns", runId)))!;
}

const ledger = (t: T, tenantId: Id<"tenants">) =>
  t.run((ctx) =>
    ctx.db
      .query("ledgerEntries")
      .withIndex("by_tenant_seq", (q) => q.eq("tenantId", tenantId))
      .collect(),
  );
const alerts = (t: T) =>
  t.run(async (ctx) =>
    (await ctx.db.query("emails").collect()).filter((e) => e.kind === "reconciliation_alert"),
  );
const invariantOk = async (t: T, tenantId: Id<"tenants">) =>
  (await t.query(internal.billing.checkWalletInvariant, { tenantId })).ok;

/** An outbound message as the send pipeline leaves it, then changed by `patch`. */
async function sent(t: T, w: World, patch: Partial<Doc<"messages">>, wamid?: string) {
  const id = await outbound(t, w, { ...(wamid ? { providerMessageId: wamid } : {}), status: "sending" });
  await t.run((ctx) => ctx.db.patch("messages", id, patch));
  return id;
}

const utilityTemplate = {
  type: "template",
  text: undefined,
  template: { name: "order_update", language: "en", category: "utility" },
};

describe("sends with no status webhook", () => {
  it("charges the estimate after the deadline, and a late webhook settles the difference exactly once", async () => {
    const { t, w } = await fresh();
    await inTx(t, (ctx) => topUp(ctx, { tenantId: w.tenantId, key: "grant", amount: 10_000_000 }));
    await inTx(t, (ctx) =>
      reserve(ctx, {
        tenantId: w.tenantId,
        key: "res:a",
        amount: 50_000,
        reference: { kind: "message", id: "a" },
      }),
    );
    const accepted = NOW - 27 * HOUR;
    const template = await sent(
      t,
      w,
      { ...utilityTemplate, statusAt: accepted, reservationKey: "res:a" },
      OUT_WAMID,
    );
    // Marked unknown by the stuck-send resolution, then no status for the deadline either.
    const text = await sent(t, w, { status: "unknown", statusAt: accepted }, "wamid.text-1");
    const young = await sent(t, w, { ...utilityTemplate, statusAt: NOW - 2 * HOUR }, "wamid.young");
    const stuck = await sent(t, w, { statusAt: accepted });

    const run = await runJob(t, "no_status");
    expect(run).toMatchObject({ status: "done", found: 2, fixed: 2, needsPerson: 0 });
    expect(run.details.map((d) => d.id).sort()).toEqual([template, text].sort());
    expect(run.details.find((d) => d.id === template)!.reason).toMatch(
      /charged the estimate 0\.\d+ EUR \(utility\)/,
    );

    const entries = await ledger(t, w.tenantId);
    const estimate = entries.find((e) => e.key.startsWith("estimate:"))!;
    expect(estimate).toMatchObject({ kind: "charge", detail: { category: "utility", estimate: true } });
    expect(estimate.reservedChange).toBe(-50_000); // the reservation is freed by the estimate
    const messages = await t.run((ctx) =>
      Promise.all([template, text, young, stuck].map((id) => ctx.db.get("messages", id))),
    );
    expect(messages.map((m) => m!.settlement)).toEqual(["estimated", "estimated", undefined, undefined]);
    expect(await invariantOk(t, w.tenantId)).toBe(true);

    // A second run finds nothing and writes nothing.
    expect(await runJob(t, "no_status")).toMatchObject({ found: 0, fixed: 0, needsPerson: 0 });
    expect(await ledger(t, w.tenantId)).toHaveLength(entries.length);

    // The real status (billed as marketing) arrives late, twice; settlement runs twice.
    const late = cloud("status-delivered").replace(
      /"timestamp": "\d+"/,
      `"timestamp": "${Math.floor((NOW - 26 * HOUR) / 1000)}"`,
    );
    await postCloud(t, late);
    await drain(t);
    await t.mutation(internal.billing.settlePending, {});
    await postCloud(t, late);
    await drain(t);
    await t.mutation(internal.billing.settlePending, {});
    await runJob(t, "no_status");

    const after = await ledger(t, w.tenantId);
    const added = after.slice(entries.length);
    expect(added.map((e) => e.kind).sort()).toEqual(["charge", "refund"]);
    const real = added.find((e) => e.kind === "charge")!;
    const refund = added.find((e) => e.kind === "refund")!;
    expect(real.detail).toMatchObject({ category: "marketing" });
    expect(real.detail?.estimate).toBeFalsy();
    expect(Math.abs(real.reservedChange)).toBe(0); // the share was freed once, by the estimate
    expect(refund.amount).toBe(-estimate.amount);
    // Net: exactly the real charge.
    const wallet = await t.run((ctx) =>
      ctx.db
        .query("wallets")
        .withIndex("by_tenant", (q) => q.eq("tenantId", w.tenantId))
        .unique(),
    );
    expect(wallet!.balance).toBe(10_000_000 + real.amount);
    expect(wallet!.reserved).toBe(0);
    expect((await t.run((ctx) => ctx.db.get("messages", template)))!.settlement).toBe("settled");
    expect(await invariantOk(t, w.tenantId)).toBe(true);
  }, 60_000);

  it("refunds the estimate when the late status says the send failed unbilled", async () => {
    const { t, w } = await fresh();
    const wamid = "wamid.HBgLMTY1MDU1NTEyMzQVAgARFBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA";
    const id = await sent(t, w, { ...utilityTemplate, statusAt: NOW - 30 * HOUR }, wamid);
    expect(await runJob(t, "no_status")).toMatchObject({ found: 1, fixed: 1 });
    const estimate = (await ledger(t, w.tenantId)).find((e) => e.key.startsWith("estimate:"))!;
    expect(estimate.amount).toBeLessThan(0);

    const failed = cloud("status-failed").replace(
      /"timestamp": "\d+"/,
      `"timestamp": "${Math.floor((NOW - 29 * HOUR) / 1000)}"`,
    );
    await postCloud(t, failed);
    await drain(t);
    await t.mutation(internal.billing.settlePending, {});
    await postCloud(t, failed);
    await drain(t);
    await t.mutation(internal.billing.settlePending, {});

    const entries = await ledger(t, w.tenantId);
    expect(entries.map((e) => e.kind)).toEqual(["charge", "refund"]);
    expect(entries[1]!.amount).toBe(-estimate.amount);
    expect((await t.run((ctx) => ctx.db.get("messages", id)))!).toMatchObject({
      status: "failed",
      settlement: "settled",
    });
    expect(await invariantOk(t, w.tenantId)).toBe(true);
  }, 60_000);

  it("closes a run that stopped without finishing as failed when the job next starts", async () => {
    const { t } = await fresh();
    const stale = await t.run((ctx) =>
      ctx.db.insert("reconciliationRuns", {
        job: "no_status",
        trigger: "cron",
        startedAt: NOW - 2 * HOUR,
        status: "running",
        found: 0,
        fixed: 0,
        needsPerson: 0,
        details: [],
        detailsDropped: 0,
        batches: 3,
        cursor: "{}",
      }),
    );
    // Within the hour a running run is not doubled…
    const again = await t.mutation(internal.reconciliation.start, { job: "no_status", now: NOW });
    expect(again).toEqual({ runId: stale, started: false });
    // …after it, it is closed as failed and a new run starts.
    vi.setSystemTime(new Date(NOW + 2 * HOUR));
    const next = await runJob(t, "no_status", { now: NOW + 2 * HOUR });
    expect(next).toMatchObject({ status: "done" });
    expect(await t.run((ctx) => ctx.db.get("reconciliationRuns", stale))).toMatchObject({
      status: "failed",
      error: expect.stringMatching(/stopped without finishing/),
    });
  });

  it("continues past one batch: more old sends than a batch are all estimated in one run", async () => {
    const { t, w } = await fresh();
    const count = 130; // SEND_BATCH is 100
    for (let i = 0; i < count; i++) await sent(t, w, { statusAt: NOW - 30 * HOUR }, `wamid.bulk-${i}`);
    const run = await runJob(t, "no_status");
    expect(run).toMatchObject({ status: "done", found: count, fixed: count });
    expect(run.batches).toBeGreaterThanOrEqual(2);
    expect(await runJob(t, "no_status")).toMatchObject({ found: 0 });
  }, 60_000);
});

describe("sends stuck in sending", () => {
  it("marks sends with no answer past the deadline unknown through the outcome-unknown resolution, and reports each", async () => {
    const { t, w } = await fresh();
    const stuck = await sent(t, w, { statusAt: NOW - 20 * 60 * 1000 });
    const young = await sent(t, w, { statusAt: NOW - 5 * 60 * 1000 }); // within the deadline
    const run = await runJob(t, "stuck_sending");
    expect(run).toMatchObject({ found: 1, fixed: 1, needsPerson: 0 });
    expect(run.details[0]).toMatchObject({ id: stuck, outcome: "fixed" });
    expect(run.details[0]!.reason).toMatch(/Marked unknown: .*It is not sent again.*no way to ask/);
    const [a, b] = await t.run((ctx) =>
      Promise.all([ctx.db.get("messages", stuck), ctx.db.get("messages", young)]),
    );
    expect([a!.status, b!.status]).toEqual(["unknown", "sending"]);
    expect(await runJob(t, "stuck_sending")).toMatchObject({ found: 0 });
  });
});

describe("ledger vs balance", () => {
  it("finds a wallet whose balance does not match its ledger, across ledger pages, and alerts once per run", async () => {
    const { t, w } = await fresh();
    // A second, healthy workspace.
    const other = await t.run((ctx) =>
      ctx.db.insert("tenants", {
        name: "Beta",
        currency: "EUR",
        timeZone: "UTC",
        defaultCountry: "ES",
        slug: "beta",
        createdBy: w.userId,
        createdAt: NOW,
      }),
    );
    await inTx(t, (ctx) => topUp(ctx, { tenantId: other, key: "grant", amount: 1_000_000 }));
    await inTx(t, async (ctx) => {
      for (let i = 0; i < INVARIANT_PAGE + 20; i++)
        await topUp(ctx, { tenantId: w.tenantId, key: `g${i}`, amount: 1_000 });
    });
    expect(await runJob(t, "wallet_invariant")).toMatchObject({ found: 0, needsPerson: 0 });
    expect(await alerts(t)).toHaveLength(0);

    await t.run(async (ctx) => {
      const wallet = (await ctx.db
        .query("wallets")
        .withIndex("by_tenant", (q) => q.eq("tenantId", w.tenantId))
        .unique())!;
      await ctx.db.patch("wallets", wallet._id, { balance: wallet.balance + 7 });
    });
    const run = await runJob(t, "wallet_invariant");
    expect(run).toMatchObject({ status: "done", found: 1, fixed: 0, needsPerson: 1 });
    expect(run.batches).toBeGreaterThanOrEqual(3); // two pages of one ledger, one of the other
    expect(run.details[0]).toMatchObject({ tenantId: w.tenantId, outcome: "needs_person" });
    expect(run.details[0]!.reason).toMatch(/wallet balance \d+ ≠ sum of entries/);
    // Never corrected silently.
    expect(await invariantOk(t, w.tenantId)).toBe(false);
    const mail = await alerts(t);
    expect(mail).toHaveLength(1);
    expect(mail[0]).toMatchObject({ to: ADMIN });
    expect(mail[0]!.subject).toMatch(/1 finding needs a person \(Ledger vs balance\)/);

    // Running again reports it again, with its own single email.
    expect(await runJob(t, "wallet_invariant")).toMatchObject({ found: 1, needsPerson: 1 });
    expect(await alerts(t)).toHaveLength(2);
  }, 60_000);
});

async function campaign(t: T, w: World, recipients: number, extra: Partial<Doc<"campaigns">> = {}) {
  return await t.run(async (ctx) => {
    const templateId = await ctx.db.insert("templates", {
      tenantId: w.tenantId,
      channelId: w.cloudChannelId,
      name: "promo",
      language: "en",
      status: "APPROVED",
      updatedAt: NOW,
    });
    const campaignId = await ctx.db.insert("campaigns", {
      tenantId: w.tenantId,
      channelId: w.cloudChannelId,
      name: `Promo ${recipients}`,
      templateId,
      template: { name: "promo", language: "en", category: "marketing" },
      variables: [],
      audience: { kind: "contacts", contactIds: [] },
      state: "running",
      createdBy: w.userId,
      createdAt: NOW,
      frozen: recipients,
      audienceFrozen: true,
      batches: 0,
      ...extra,
    });
    const states = ["sent", "delivered", "read", "failed"] as const;
    for (let i = 0; i < recipients; i++) {
      const contactId = await ctx.db.insert("contacts", {
        tenantId: w.tenantId,
        phone: `+3460000${String(i).padStart(4, "0")}`,
        createdAt: NOW,
      });
      const shard = i % SHARDS;
      const state = states[i % states.length]!;
      await ctx.db.insert("campaignRecipients", {
        tenantId: w.tenantId,
        campaignId,
        contactId,
        state,
        dueAt: NOW,
        shard,
        updatedAt: NOW,
      });
      await bump(ctx as never, campaignId, shard, { [state]: 1 });
    }
    return campaignId;
  });
}

const counters = (t: T, campaignId: Id<"campaigns">) =>
  t.run((ctx) =>
    ctx.db
      .query("campaignCounters")
      .withIndex("by_campaign_shard", (q) => q.eq("campaignId", campaignId))
      .collect(),
  );

describe("campaign counters", () => {
  it("recounts, corrects drifted shards, reports the drift, and a second run finds nothing", async () => {
    const { t, w } = await fresh();
    const id = await campaign(t, w, 40);
    expect(await runJob(t, "campaign_counters")).toMatchObject({ found: 0 });
    const before = await counters(t, id);
    await t.run(async (ctx) => {
      const row = before.find((r) => r.shard === 3)!;
      await ctx.db.patch("campaignCounters", row._id, {
        counts: { ...row.counts, sent: row.counts.sent + 2, queued: 5 },
      });
    });
    const run = await runJob(t, "campaign_counters");
    expect(run).toMatchObject({ found: 1, fixed: 1, needsPerson: 0 });
    expect(run.details[0]!.reason).toMatch(/sent -2/);
    expect(run.details[0]!.reason).toMatch(/queued -5/);
    expect((await counters(t, id)).map((r) => r.counts)).toEqual(before.map((r) => r.counts));
    expect(await runJob(t, "campaign_counters")).toMatchObject({ found: 0, fixed: 0 });
  });

  it("reports, without writing, drift found in a campaign too big to recount in one transaction", async () => {
    const { t, w } = await fresh();
    const id = await campaign(t, w, RECOUNT_BATCH + 50, { state: "completed", finishedAt: NOW - 3 * DAY });
    await t.run(async (ctx) => {
      const row = (await ctx.db
        .query("campaignCounters")
        .withIndex("by_campaign_shard", (q) => q.eq("campaignId", id).eq("shard", 0))
        .first())!;
      await ctx.db.patch("campaignCounters", row._id, {
        counts: { ...row.counts, read: row.counts.read + 1 },
      });
    });
    const run = await runJob(t, "campaign_counters");
    expect(run).toMatchObject({ found: 1, fixed: 0, needsPerson: 1 });
    expect(run.batches).toBeGreaterThanOrEqual(2);
    expect(run.details[0]!.reason).toMatch(/read -1 .* over 2 batches/);
  }, 60_000);
});

describe("campaign cost so far", () => {
  it("follows the ledger of the campaign's messages through estimates, late statuses and refunds, each once", async () => {
    const { t, w } = await fresh();
    await inTx(t, (ctx) => topUp(ctx, { tenantId: w.tenantId, key: "grant", amount: 10_000_000 }));
    const campaignId = await campaign(t, w, 3);
    // Two campaign sends accepted by WhatsApp and never heard of again; a third recipient has no message.
    const failedWamid = "wamid.HBgLMTY1MDU1NTEyMzQVAgARFBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA";
    const accepted = NOW - 30 * HOUR;
    const delivered = await sent(
      t,
      w,
      { ...utilityTemplate, origin: "campaign", statusAt: accepted },
      OUT_WAMID,
    );
    const failed = await sent(
      t,
      w,
      { ...utilityTemplate, origin: "campaign", statusAt: accepted },
      failedWamid,
    );
    // A message of no campaign, estimated alongside, must not count.
    await sent(t, w, { ...utilityTemplate, statusAt: accepted }, "wamid.not-a-campaign");
    await t.run(async (ctx) => {
      const rows = await ctx.db
        .query("campaignRecipients")
        .withIndex("by_campaign_state_due", (q) => q.eq("campaignId", campaignId))
        .take(2);
      await ctx.db.patch("campaignRecipients", rows[0]!._id, { messageId: delivered });
      await ctx.db.patch("campaignRecipients", rows[1]!._id, { messageId: failed });
    });
    const cost = async () => (await counters(t, campaignId)).find((r) => r.shard === COST_SHARD)?.cost ?? 0;
    const ledgerOfCampaign = async () =>
      (await ledger(t, w.tenantId)).filter(
        (e) => e.referenceKind === "message" && (e.referenceId === delivered || e.referenceId === failed),
      );
    expect(await cost()).toBe(0);

    // The no-status job charges both estimates: the cost so far grows by both.
    expect(await runJob(t, "no_status")).toMatchObject({ found: 3, fixed: 3 });
    const estimates = await ledgerOfCampaign();
    expect(estimates.map((e) => e.kind)).toEqual(["charge", "charge"]);
    expect(await cost()).toBe(netCost(estimates));
    expect(await cost()).toBeGreaterThan(0);
    // A second run changes nothing.
    await runJob(t, "no_status");
    expect(await cost()).toBe(netCost(estimates));

    // Late statuses, each twice: one delivered (the estimate is refunded and the real price
    // charged), one failed unbilled (the estimate is refunded).
    const at = `"timestamp": "${Math.floor((NOW - 29 * HOUR) / 1000)}"`;
    for (let i = 0; i < 2; i++) {
      await postCloud(t, cloud("status-delivered").replace(/"timestamp": "\d+"/, at));
      await postCloud(t, cloud("status-failed").replace(/"timestamp": "\d+"/, at));
      await drain(t);
      await t.mutation(internal.billing.settlePending, {});
    }
    const settled = await ledgerOfCampaign();
    expect(settled.map((e) => e.kind).sort()).toEqual(["charge", "charge", "charge", "refund", "refund"]);
    const real = settled.find((e) => e.kind === "charge" && e.key.startsWith("msg:"))!;
    expect(netCost(settled)).toBe(-real.amount);
    expect(await cost()).toBe(-real.amount);

    // A refund of part of the real charge (a platform admin's correction) lowers it; once.
    const part = Math.floor(-real.amount / 2);
    for (let i = 0; i < 2; i++) {
      await inTx(t, (ctx) =>
        refund(ctx, { tenantId: w.tenantId, chargeKey: real.key, amount: part, reason: "Goodwill" }),
      );
    }
    const final = await ledgerOfCampaign();
    expect(final).toHaveLength(settled.length + 1);
    expect(await cost()).toBe(netCost(final));
    expect(await cost()).toBe(-real.amount - part);
    expect(await invariantOk(t, w.tenantId)).toBe(true);
  }, 60_000);
});

describe("old reservations", () => {
  it("releases reservations past the deadline with their ledger entries, once, over several batches", async () => {
    const { t, w } = await fresh();
    const count = RESERVATION_BATCH + 10;
    await inTx(t, async (ctx) => {
      for (let i = 0; i < count; i++)
        await reserve(ctx, {
          tenantId: w.tenantId,
          key: `batch:c:${i}`,
          amount: 1_000,
          reference: { kind: "campaign", id: "c" },
        });
      await reserve(ctx, {
        tenantId: w.tenantId,
        key: "fresh",
        amount: 2_000,
        reference: { kind: "message", id: "m" },
      });
    });
    await t.run(async (ctx) => {
      for (const r of await ctx.db.query("reservations").collect())
        if (r.key !== "fresh") await ctx.db.patch("reservations", r._id, { createdAt: NOW - 3 * DAY });
    });
    const run = await runJob(t, "old_reservations");
    expect(run).toMatchObject({ status: "done", found: count, fixed: count, needsPerson: 0 });
    expect(run.batches).toBeGreaterThanOrEqual(2);
    const entries = await ledger(t, w.tenantId);
    expect(entries.filter((e) => e.kind === "release" && e.key.startsWith("release-stale:"))).toHaveLength(
      count,
    );
    const open = await t.run((ctx) => ctx.db.query("reservations").collect());
    expect(open.filter((r) => r.state === "open").map((r) => r.key)).toEqual(["fresh"]);
    expect(await invariantOk(t, w.tenantId)).toBe(true);
    expect(await runJob(t, "old_reservations")).toMatchObject({ found: 0 });
    expect(await ledger(t, w.tenantId)).toHaveLength(entries.length);
  }, 60_000);
});

describe("billed vs rate card", () => {
  it("reports, per day and category, what Meta billed that the rate card did not expect", async () => {
    const { t, w } = await fresh();
    const day = "2026-08-15";
    const at = Date.parse(`${day}T09:00:00Z`);
    const priced = (patch: Partial<Doc<"messages">>) =>
      sent(
        t,
        w,
        { status: "delivered", settlement: "settled", pricedAt: at, ...patch },
        `wamid.p${Math.random()}`,
      );
    await priced({ ...utilityTemplate, pricing: { type: "regular", category: "marketing", model: "PMP" } });
    await priced({ ...utilityTemplate, pricing: { type: "regular", category: "marketing", model: "PMP" } });
    await priced({ ...utilityTemplate, pricing: { type: "regular", category: "utility", model: "PMP" } }); // expected
    await priced({ pricing: { type: "free_customer_service", category: "service", model: "PMP" } }); // expected
    await priced({ pricing: { type: "regular", category: "service", model: "PMP" } }); // free-form billed
    await priced({
      ...utilityTemplate,
      pricing: { type: "regular", category: "utility", model: "PMP" },
      pricedAt: at - DAY,
    }); // another day

    const run = await runJob(t, "pricing_drift", { scope: day });
    expect(run).toMatchObject({ status: "done", scope: day, found: 2, needsPerson: 2, fixed: 0 });
    const reasons = run.details.map((d) => `${d.id}: ${d.reason}`).sort();
    expect(reasons[0]).toMatch(
      /^2026-08-15\/marketing: 2 messages on 2026-08-15: billed as marketing, the template's category is utility/,
    );
    expect(reasons[1]).toMatch(/^2026-08-15\/service: 1 message on 2026-08-15: a free-form message billed/);
    expect(await alerts(t)).toHaveLength(1);
    // The cron's default is yesterday.
    expect(await runJob(t, "pricing_drift")).toMatchObject({ scope: day, found: 2 });
    expect(await runJob(t, "pricing_drift", { scope: "2026-08-14" })).toMatchObject({ found: 0 });
  });
});

describe("data retention", () => {
  it("deletes what is older than the workspace's settings, in batches, keeping unsettled messages", async () => {
    const { t, w } = await fresh();
    await t.run((ctx) =>
      ctx.db.insert("retentionSettings", {
        tenantId: w.tenantId,
        messagesDays: 30,
        webhookEventsDays: 7,
        emailsDays: 10,
        updatedAt: NOW,
        updatedBy: w.userId,
      }),
    );
    const old = NOW - 40 * DAY;
    const count = RETENTION_BATCH + 30;
    const ids: Id<"messages">[] = [];
    for (let i = 0; i < count; i++)
      ids.push(await sent(t, w, { status: "read", createdAt: old, statusAt: old }, `wamid.old${i}`));
    const pending = await sent(
      t,
      w,
      { status: "delivered", createdAt: old, settlement: "pending" },
      "wamid.pending",
    );
    const recent = await sent(t, w, { status: "read", createdAt: NOW - 5 * DAY }, "wamid.recent");
    await t.run(async (ctx) => {
      await ctx.db.insert("emails", {
        tenantId: w.tenantId,
        to: "a@b.test",
        subject: "old",
        kind: "invitation",
        provider: "outbox",
        status: "stored",
        createdAt: NOW - 20 * DAY,
      });
      await ctx.db.insert("emails", {
        tenantId: w.tenantId,
        to: "a@b.test",
        subject: "new",
        kind: "invitation",
        provider: "outbox",
        status: "stored",
        createdAt: NOW - DAY,
      });
      // The platform's own mail (no workspace) is kept the default 180 days.
      for (const [subject, age] of [
        ["platform old", 200],
        ["platform new", 100],
      ] as const) {
        await ctx.db.insert("emails", {
          to: ADMIN,
          subject,
          kind: "reconciliation_alert",
          provider: "outbox",
          status: "stored",
          createdAt: NOW - age * DAY,
        });
      }
    });
    const run = await runJob(t, "retention");
    expect(run).toMatchObject({ status: "done", needsPerson: 0 });
    expect(run.batches).toBeGreaterThanOrEqual(2);
    const deleted = run.details
      .filter((d) => d.reason.startsWith("Deleted"))
      .map((d) => Number(/Deleted (\d+) messages/.exec(d.reason)?.[1] ?? 0));
    expect(deleted.reduce((a, b) => a + b, 0)).toBe(count);
    const left = await t.run((ctx) => ctx.db.query("messages").collect());
    expect(left.map((m) => m._id).sort()).toEqual([pending, recent].sort());
    const mail = await t.run((ctx) => ctx.db.query("emails").collect());
    expect(mail.map((e) => e.subject).sort()).toEqual(["new", "platform new"]);
    expect(await runJob(t, "retention")).toMatchObject({ found: 0 });
  }, 60_000);

  it("deletes old messages with their media files, old assistant turns, and summaries of quiet conversations", async () => {
    const { t, w } = await fresh();
    const old = NOW - 400 * DAY;
    const recent = NOW - 10 * DAY;
    // Two conversations: one quiet for longer than the 365 days kept by default, one active.
    const quietMessage = await sent(t, w, { status: "read", createdAt: old, statusAt: old }, "wamid.quiet");
    const activeMessage = await sent(
      t,
      w,
      { status: "read", createdAt: recent, statusAt: recent },
      "wamid.active",
    );
    const seeded = await t.run(async (ctx) => {
      const quiet = (await ctx.db.get("messages", quietMessage))!;
      const active = (await ctx.db.get("messages", activeMessage))!;
      const oldFile = await ctx.storage.store(new Blob(["old photo"]));
      const recentFile = await ctx.storage.store(new Blob(["recent photo"]));
      await ctx.db.patch("messages", quietMessage, {
        type: "image",
        content: { storageId: oldFile, mimeType: "image/jpeg" },
        heldAt: old,
      });
      await ctx.db.insert("heldMessages", { tenantId: w.tenantId, messageId: quietMessage, heldAt: old });
      await ctx.db.patch("messages", activeMessage, {
        type: "image",
        content: { storageId: recentFile, mimeType: "image/jpeg" },
      });
      await ctx.db.patch("conversations", quiet.conversationId, {
        lastMessageAt: old,
        summary: "Wants the red pair",
        handoff: { reason: "asked for a person", summary: "Where is order 4471?", at: old },
      });
      await ctx.db.patch("conversations", active.conversationId, {
        lastMessageAt: recent,
        summary: "Asked about opening hours",
      });
      const turn = (conversationId: Id<"conversations">, startedAt: number, asked: string) =>
        ctx.db.insert("assistantTurns", {
          tenantId: w.tenantId,
          conversationId,
          startedAt,
          finishedAt: startedAt + 1000,
          asked,
          outcome: "answered",
        });
      const oldTurns: Id<"assistantTurns">[] = [];
      // More than a batch of old turns.
      for (let i = 0; i < RETENTION_BATCH + 20; i++)
        oldTurns.push(await turn(quiet.conversationId, old + i, `old question ${i}`));
      const recentTurn = await turn(active.conversationId, recent, "recent question");
      return { quiet: quiet.conversationId, active: active.conversationId, oldFile, recentFile, recentTurn };
    });

    const run = await runJob(t, "retention");
    expect(run).toMatchObject({ status: "done", needsPerson: 0 });
    const reasons = run.details.map((d) => d.reason).join("\n");
    expect(reasons).toMatch(/Deleted 1 messages/);
    expect(reasons).toMatch(new RegExp(`Deleted ${RETENTION_BATCH} assistant turns`));
    expect(reasons).toMatch(/Deleted 20 assistant turns/);
    expect(reasons).toMatch(/Cleared 1 conversation summaries/);

    await t.run(async (ctx) => {
      expect(await ctx.db.get("messages", quietMessage)).toBeNull();
      expect(await ctx.db.get("messages", activeMessage)).not.toBeNull();
      // The stored file goes with the message, not only the row.
      expect(await ctx.db.system.get("_storage", seeded.oldFile)).toBeNull();
      expect(await ctx.storage.get(seeded.oldFile)).toBeNull();
      expect(await ctx.db.system.get("_storage", seeded.recentFile)).not.toBeNull();
      expect(await ctx.db.query("heldMessages").collect()).toEqual([]);
      const turns = await ctx.db.query("assistantTurns").collect();
      expect(turns.map((x) => x._id)).toEqual([seeded.recentTurn]);
      const quiet = (await ctx.db.get("conversations", seeded.quiet))!;
      expect(quiet.summary).toBeUndefined();
      expect(quiet.handoff).toMatchObject({ reason: "asked for a person", summary: "" });
      expect((await ctx.db.get("conversations", seeded.active))!.summary).toBe("Asked about opening hours");
    });
    expect(await runJob(t, "retention")).toMatchObject({ found: 0 });
  }, 60_000);

  it("lets a workspace admin set retention within limits, audited", async () => {
    const { t, as } = setup();
    const owner = await signUp(as, "olivia@acme.test");
    const { tenantId } = await owner.client.mutation(api.tenants.create, {
      name: "Acme",
      currency: "EUR",
      timeZone: "UTC",
      defaultCountry: "ES",
    });
    expect(await owner.client.query(api.reconciliation.retention, { tenantId })).toMatchObject({
      messagesDays: 365,
      webhookEventsDays: 30,
      emailsDays: 180,
    });
    const err = await errorOf(
      owner.client.mutation(api.reconciliation.setWorkspaceRetention, {
        tenantId,
        messagesDays: 90,
        webhookEventsDays: 60,
        emailsDays: 30,
      }),
    );
    expect(err).toMatchObject({ code: "INVALID", field: "webhookEventsDays" });
    await owner.client.mutation(api.reconciliation.setWorkspaceRetention, {
      tenantId,
      messagesDays: 90,
      webhookEventsDays: 14,
      emailsDays: 30,
    });
    expect(await owner.client.query(api.reconciliation.retention, { tenantId })).toMatchObject({
      messagesDays: 90,
      webhookEventsDays: 14,
      emailsDays: 30,
    });
    const audit = await t.run((ctx) => ctx.db.query("auditEvents").collect());
    expect(audit.map((a) => a.action)).toContain("tenant.retention_changed");
  });
});

describe("run reports", () => {
  it("are pruned when their job starts: older than the retention period, in bounded batches, keeping each job's latest", async () => {
    const { t } = await fresh();
    const old = NOW - (RUN_RETENTION_DAYS + 5) * DAY;
    const report = (job: ReconciliationJob, startedAt: number) => ({
      job,
      trigger: "cron" as const,
      startedAt,
      finishedAt: startedAt + 1000,
      status: "done" as const,
      found: 0,
      fixed: 0,
      needsPerson: 0,
      details: [],
      detailsDropped: 0,
      batches: 1,
    });
    const oldCount = RUN_PRUNE_BATCH + 30;
    await t.run(async (ctx) => {
      for (let i = 0; i < oldCount; i++)
        await ctx.db.insert("reconciliationRuns", report("stuck_sending", old - i * HOUR));
      for (let i = 0; i < 3; i++)
        await ctx.db.insert("reconciliationRuns", report("stuck_sending", NOW - (i + 1) * DAY));
      // A job that has not run for long keeps its latest reports whatever their age.
      for (let i = 0; i < RUNS_KEPT_PER_JOB + 4; i++)
        await ctx.db.insert("reconciliationRuns", report("pricing_drift", old - i * DAY));
    });
    const runsOf = (job: ReconciliationJob) =>
      t.run(async (ctx) => (await ctx.db.query("reconciliationRuns").collect()).filter((r) => r.job === job));

    await runJob(t, "stuck_sending");
    // One bounded batch: the oldest go first; the recent ones and the new run stay.
    expect(await runsOf("stuck_sending")).toHaveLength(oldCount - RUN_PRUNE_BATCH + 3 + 1);
    await runJob(t, "stuck_sending");
    const left = await runsOf("stuck_sending");
    // The latest reports before the new run are kept (old ones among them), plus the new run.
    expect(left).toHaveLength(RUNS_KEPT_PER_JOB + 1);
    expect(left.filter((r) => r.startedAt > NOW - RUN_RETENTION_DAYS * DAY)).toHaveLength(3 + 2);
    // Other jobs' reports are left to their own starts.
    expect(await runsOf("pricing_drift")).toHaveLength(RUNS_KEPT_PER_JOB + 4);

    await runJob(t, "pricing_drift");
    const drift = await runsOf("pricing_drift");
    // The latest reports up to the number kept, plus the new run; the oldest went.
    expect(drift).toHaveLength(RUNS_KEPT_PER_JOB + 1);
    expect(Math.min(...drift.map((r) => r.startedAt))).toBe(old - (RUNS_KEPT_PER_JOB - 1) * DAY);
  }, 60_000);
});

describe("running by hand", () => {
  it("lets platform admins start a run (audited, never two at once) and refuses everyone else", async () => {
    const { t, as } = setup();
    const admin = await signUp(as, ADMIN);
    const someone = await signUp(as, "mallory@evil.test");
    expect(
      await errorOf(someone.client.mutation(api.reconciliation.startNow, { job: "old_reservations" })),
    ).toBeTruthy();
    const first = await admin.client.mutation(api.reconciliation.startNow, { job: "old_reservations" });
    const second = await admin.client.mutation(api.reconciliation.startNow, { job: "old_reservations" });
    expect(first.started).toBe(true);
    expect(second).toEqual({ runId: first.runId, started: false });
    await drain(t);
    const jobs = await admin.client.query(api.reconciliation.jobs, {});
    expect(jobs.find((j) => j.job === "old_reservations")!.latest).toMatchObject({
      status: "done",
      trigger: "manual",
      requestedBy: ADMIN,
    });
    const audit = await t.run((ctx) => ctx.db.query("auditEvents").collect());
    expect(audit.filter((a) => a.action === "reconciliation.run_requested")).toHaveLength(2);
  });
});
