/**
 * Sends whose outcome was lost: a message claimed (`sending`) whose provider call never reported
 * back, as when the process dies mid-call. Past OUTBOUND_UNKNOWN_AFTER_MS the sweep marks it
 * `unknown`; it is never sent again, a late status webhook (by wamid or by our callback id)
 * settles it exactly once, and the campaign's counters follow the recipients.
 */
import { describe, expect, it, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { SendWindows } from "../../convex/model/campaigns/pacing";
import { claim } from "../../convex/model/outbound";
import type { SendResult } from "../../convex/providers/whatsappErrors";
import type { T } from "./factories";
import {
  countsOf,
  launchCampaign,
  recipients,
  shop,
  statuses as statusWebhook,
  step,
  useCampaignClock,
  type Shop,
  type StatusUpdate,
} from "./campaign-helpers";

const AFTER_MS = 60_000;

useCampaignClock({ OUTBOUND_UNKNOWN_AFTER_MS: String(AFTER_MS) });

type LostShop = Shop & {
  campaignId: Id<"campaigns">;
  /** Each recipient's message, in claim order. */
  messages: Id<"messages">[];
};

/** The delivery action's report of an answer to one of the campaign's messages, arriving now. */
function answerOf(s: LostShop, messageId: Id<"messages">, result: SendResult) {
  return { messageId, channelId: s.w.cloudChannelId, claimedAt: 0, answeredAt: Date.now(), result };
}

/**
 * A launched campaign to `n` contacts whose first tick has claimed everyone (the send intents
 * are written) and whose first `lost` messages were claimed by a delivery that then died: they
 * are `sending`, and the provider was never asked. The other deliveries then run normally, and
 * (unless `statusesCome` is false) WhatsApp reports them sent.
 */
async function campaignWithLostSends(n: number, lost: number, statusesCome = true): Promise<LostShop> {
  const s = await firstTickClaimed(n);
  const { t, messages } = s;
  await t.run(async (ctx) => {
    // The claim committed, then the process died before the provider call returned.
    for (const id of messages.slice(0, lost))
      expect(await claim(ctx, id, new SendWindows(ctx, Date.now()))).not.toBeNull();
  });
  await step(t);
  if (statusesCome) {
    const sent = await t.run(async (ctx) =>
      Promise.all(
        messages.slice(lost).map(async (id) => (await ctx.db.get("messages", id))!.providerMessageId!),
      ),
    );
    await statuses(
      t,
      sent.map((wamid) => ({ wamid, status: "sent" })),
    );
  }
  return s;
}

/**
 * A launched campaign to `n` contacts whose freeze and first tick ran (by hand, so the deliveries
 * they scheduled have not run): everyone's message is queued.
 */
async function firstTickClaimed(n: number): Promise<LostShop> {
  const s = await shop(n, {
    category: "UTILITY",
    prefix: "+346200",
    template: { name: "restock", text: "Hola {{1}}, ya tenemos tu talla." },
  });
  const { t, w } = s;
  const campaignId = await launchCampaign(s, { name: "Restock" });
  // The freeze and the first tick, run here by hand so the deliveries they schedule wait.
  await t.mutation(internal.campaigns.freezeStep, { campaignId });
  const at = await t.run(
    async (ctx) =>
      (await ctx.db
        .query("channelDispatch")
        .withIndex("by_channel", (q) => q.eq("channelId", w.cloudChannelId))
        .first())!.nextTickAt!,
  );
  expect((await t.mutation(internal.campaigns.tick, { channelId: w.cloudChannelId, at })).claimed).toBe(n);
  const messages = await t.run(async (ctx) => {
    const rows = await ctx.db
      .query("campaignRecipients")
      .withIndex("by_campaign_state_due", (q) => q.eq("campaignId", campaignId))
      .collect();
    return rows.map((r) => r.messageId!).sort();
  });
  return { ...s, campaignId, messages };
}

/** Cloud API status webhooks for the campaign's numbers, then their processing. */
async function statuses(t: T, updates: StatusUpdate[]) {
  await statusWebhook(t, updates, "34620000000");
  await step(t, 100);
}

async function state(s: LostShop) {
  const rows = await recipients(s.t, s.campaignId);
  const byState = countsOf(rows);
  const view = await s.owner.query(api.campaigns.get, { tenantId: s.w.tenantId, campaignId: s.campaignId });
  const counts = Object.fromEntries(Object.entries(view.counts).filter(([, n]) => n !== 0));
  return { byState, counts, view, rows };
}

/** The shop's Cloud number's dispatch row. */
const dispatchOf = (s: LostShop) =>
  s.t.run(
    async (ctx) =>
      (await ctx.db
        .query("channelDispatch")
        .withIndex("by_channel", (q) => q.eq("channelId", s.w.cloudChannelId))
        .first())!,
  );
const message = (s: LostShop, id: Id<"messages">) => s.t.run((ctx) => ctx.db.get("messages", id));
const sweep = (t: T, batch?: number) =>
  t.mutation(internal.outbound.resolveStuckSending, batch === undefined ? {} : { batch });

describe("deliveries lost before their claim", () => {
  it("are made again by the sweep once the messages waited past the deadline, and each is sent once", async () => {
    const s = await firstTickClaimed(4);
    // The process died with the deliveries scheduled (or started, which is not run again).
    await s.t.run(async (ctx) => {
      for (const job of await ctx.db.system.query("_scheduled_functions").collect())
        if (job.name.includes("deliverMany") && job.state.kind === "pending")
          await ctx.scheduler.cancel(job._id);
    });
    await step(s.t);
    expect(s.fake.sent).toHaveLength(0);
    expect((await sweep(s.t)).redelivered).toBe(0);
    vi.setSystemTime(Date.now() + AFTER_MS + 1_000);
    expect((await sweep(s.t)).redelivered).toBe(4);
    await step(s.t);
    expect(new Set(s.fake.sent.map((m) => m.body.to)).size).toBe(4);
    expect(s.fake.sent).toHaveLength(4);
    // Sent now: the next sweeps leave them alone.
    vi.setSystemTime(Date.now() + AFTER_MS + 1_000);
    expect((await sweep(s.t)).redelivered).toBe(0);
    await step(s.t);
    expect(s.fake.sent).toHaveLength(4);
  });
});

describe("sends whose outcome was lost", () => {
  it("become unknown past the deadline, are never sent again, and a late status settles each once", async () => {
    const s = await campaignWithLostSends(6, 3);
    const [a, b, c] = s.messages;
    // Three went out; the three lost ones are `sending` and were never offered to the provider.
    expect(s.fake.sent).toHaveLength(3);
    for (const id of [a, b, c]) expect(await message(s, id)).toMatchObject({ status: "sending" });

    // Before the deadline nothing is touched.
    expect(await sweep(s.t)).toEqual({ found: 0, resolved: 0, remaining: 0, redelivered: 0 });
    vi.setSystemTime(Date.now() + AFTER_MS + 1_000);
    expect(await sweep(s.t)).toEqual({ found: 3, resolved: 3, remaining: 0, redelivered: 0 });
    // Idempotent: the next run finds nothing.
    expect(await sweep(s.t)).toEqual({ found: 0, resolved: 0, remaining: 0, redelivered: 0 });
    const lost = await message(s, a);
    expect(lost).toMatchObject({ status: "unknown", attempts: 1 });
    expect(lost!.errorMessage).toMatch(/whether it went out is unknown\. It is not sent again/);
    let now = await state(s);
    expect(now.byState).toEqual({ unknown: 3, sent: 3 });
    expect(now.counts).toEqual(now.byState);
    expect(now.rows.find((r) => r.messageId === a)!.reason).toMatch(/not sent again/);

    // Ticks, retries and crons go on: nothing is sent again.
    for (let i = 0; i < 8; i++) await step(s.t);
    expect(s.fake.sent).toHaveLength(3);
    expect((await message(s, b))!.status).toBe("unknown");

    // The provider had received two of them after all: their statuses arrive late, matched by our
    // id (a) and by callback id then wamid (b); duplicates change nothing.
    await statuses(s.t, [{ wamid: "wamid.LATE_A", callback: a, status: "delivered" }]);
    await statuses(s.t, [{ wamid: "wamid.LATE_A", callback: a, status: "delivered" }]);
    await statuses(s.t, [{ wamid: "wamid.LATE_B", callback: b, status: "sent" }]);
    await statuses(s.t, [{ wamid: "wamid.LATE_B", status: "failed", code: 131026 }]);
    await statuses(s.t, [{ wamid: "wamid.LATE_B", status: "failed", code: 131026 }]);
    expect(await message(s, a)).toMatchObject({ status: "delivered", providerMessageId: "wamid.LATE_A" });
    expect(await message(s, b)).toMatchObject({ status: "failed", errorCode: 131026 });
    expect((await message(s, c))!.status).toBe("unknown");
    now = await state(s);
    expect(now.byState).toEqual({ delivered: 1, failed: 1, unknown: 1, sent: 3 });
    expect(now.counts).toEqual(now.byState);
    expect(now.rows.find((r) => r.messageId === a)!.reason).toBeUndefined();

    // The three that went out get their statuses; nothing is outstanding, and the campaign
    // completes with the one unknown counted as such.
    const wamids = (await Promise.all(s.messages.slice(3).map((id) => message(s, id)))).map(
      (m) => m!.providerMessageId!,
    );
    await statuses(
      s.t,
      wamids.map((wamid) => ({ wamid, status: "read" })),
    );
    for (let i = 0; i < 6; i++) await step(s.t);
    now = await state(s);
    expect(now.byState).toEqual({ delivered: 1, failed: 1, unknown: 1, read: 3 });
    expect(now.counts).toEqual(now.byState);
    expect(now.view.state).toBe("completed");
    expect(s.fake.sent).toHaveLength(3);
  });

  it("works through a backlog in bounded batches, rescheduling itself while more are left", async () => {
    const s = await campaignWithLostSends(7, 5);
    vi.setSystemTime(Date.now() + AFTER_MS + 1_000);
    expect(await sweep(s.t, 2)).toEqual({ found: 4, resolved: 2, remaining: 2, redelivered: 0 });
    for (let i = 0; i < 3; i++) await step(s.t, 10);
    const now = await state(s);
    expect(now.byState).toEqual({ unknown: 5, sent: 2 });
    expect(now.counts).toEqual(now.byState);
    expect(await sweep(s.t, 2)).toEqual({ found: 0, resolved: 0, remaining: 0, redelivered: 0 });
  });

  it("records the provider's late answer: a failure fails it, an id lets its status settle it", async () => {
    const s = await campaignWithLostSends(3, 2);
    const [a, b] = s.messages;
    vi.setSystemTime(Date.now() + AFTER_MS + 1_000);
    expect((await sweep(s.t)).resolved).toBe(2);
    expect(
      await s.t.mutation(internal.outbound.recordResult, {
        answer: answerOf(s, a, {
          ok: false,
          error: { class: "throttled", code: 130429, message: "Rate limit hit" },
        }),
      }),
    ).toBe("failed");
    expect(
      await s.t.mutation(internal.outbound.recordResult, {
        answer: answerOf(s, b, { ok: true, providerMessageId: "wamid.SLOW_B" }),
      }),
    ).toBe("sent");
    expect(await message(s, a)).toMatchObject({ status: "failed", errorCode: 130429 });
    expect(await message(s, b)).toMatchObject({ status: "unknown", providerMessageId: "wamid.SLOW_B" });
    await statuses(s.t, [{ wamid: "wamid.SLOW_B", status: "delivered" }]);
    for (let i = 0; i < 4; i++) await step(s.t);
    const now = await state(s);
    expect(now.byState).toEqual({ failed: 1, delivered: 1, sent: 1 });
    expect(now.counts).toEqual(now.byState);
    expect(s.fake.sent).toHaveLength(1);
  });

  it("also settles a message the provider accepted whose statuses never came", async () => {
    const s = await campaignWithLostSends(2, 0, false);
    vi.setSystemTime(Date.now() + AFTER_MS + 1_000);
    expect(await sweep(s.t)).toEqual({ found: 2, resolved: 2, remaining: 0, redelivered: 0 });
    const m = await message(s, s.messages[0]);
    expect(m!.status).toBe("unknown");
    expect(m!.errorMessage).toMatch(/WhatsApp accepted the message but reported nothing/);
    for (let i = 0; i < 6; i++) await step(s.t);
    const now = await state(s);
    expect(now.byState).toEqual({ unknown: 2 });
    expect(now.view.state).toBe("completed");
  });
});

describe("a dispatcher chain whose tick failed", () => {
  it("is started again by the watchdog, and the campaign goes on without sending anyone twice", async () => {
    const s = await campaignWithLostSends(3, 0);
    // More recipients arrive in a second campaign; its chain's next tick then never runs
    // (cancelled here: like a tick that failed, it leaves no successor).
    await s.t.run(async (ctx) => {
      for (let i = 100; i < 110; i++) {
        const phone = `+346200${String(i).padStart(5, "0")}`;
        const contactId = await ctx.db.insert("contacts", {
          tenantId: s.w.tenantId,
          name: `Late ${i}`,
          phone,
          createdAt: 1,
          tags: ["Late"],
        });
        await ctx.db.insert("contactAliases", {
          tenantId: s.w.tenantId,
          kind: "phone",
          value: phone,
          contactId,
        });
        await ctx.db.insert("contactTags", { tenantId: s.w.tenantId, tag: "late", contactId });
      }
    });
    const template = await s.t.run(async (ctx) => (await ctx.db.query("templates").first())!._id);
    const second = await s.owner.mutation(api.campaigns.create, {
      tenantId: s.w.tenantId,
      name: "Late",
      channelId: s.w.cloudChannelId,
      templateId: template,
      variables: [{ source: "name" }],
      audience: { kind: "filter", filter: { tag: "Late" } },
    });
    await s.owner.mutation(api.campaigns.launch, { tenantId: s.w.tenantId, campaignId: second });
    await s.t.mutation(internal.campaigns.freezeStep, { campaignId: second });
    const killTicks = () =>
      s.t.run(async (ctx) => {
        for (const job of await ctx.db.system.query("_scheduled_functions").collect())
          if (job.name.includes("tick") && job.state.kind === "pending") await ctx.scheduler.cancel(job._id);
      });
    await killTicks();
    for (let i = 0; i < 5; i++) await step(s.t);
    expect(s.fake.sent).toHaveLength(3);
    // A live chain is left alone: the watchdog right away changes nothing…
    const nextTick = async () => (await dispatchOf(s)).nextTickAt;
    const stuckAt = await nextTick();
    await s.t.mutation(internal.campaigns.restartStalledDispatch, {});
    expect(await nextTick()).toBe(stuckAt);
    // …half a minute later the chain counts as dead and starts again.
    await step(s.t, 31_000);
    expect(await s.t.mutation(internal.campaigns.restartStalledDispatch, {})).toEqual({
      channels: 1,
      freezes: 0,
    });
    expect(await nextTick()).not.toBe(stuckAt);
    // It did not fail, so nothing says the rate was too high: the start rate stays.
    expect((await dispatchOf(s)).rate).toBe(20);
    for (let i = 0; i < 4; i++) await step(s.t);
    expect(s.fake.sent).toHaveLength(13);
    expect(new Set(s.fake.sent.map((m) => m.body.to)).size).toBe(13);
  });

  it("halves the rate of a chain whose tick failed, and only then", async () => {
    const s = await campaignWithLostSends(1, 0);
    // The chain's next tick is overdue: first still waiting to run (a restarted backend catching
    // up), then failed (a tick that ran past the time limit rolls back and schedules nothing).
    const stall = async (failed: boolean) => {
      await s.t.run(async (ctx) => {
        for (const job of await ctx.db.system.query("_scheduled_functions").collect())
          if (job.name.includes("tick") && job.state.kind === "pending") await ctx.scheduler.cancel(job._id);
        const row = (await ctx.db
          .query("channelDispatch")
          .withIndex("by_channel", (q) => q.eq("channelId", s.w.cloudChannelId))
          .first())!;
        const tickJobId = await ctx.scheduler.runAfter(failed ? 0 : 3_600_000, internal.campaigns.tick, {
          // A tick that fails: its arguments do not validate.
          channelId: (failed ? s.w.tenantId : s.w.cloudChannelId) as Id<"channels">,
          at: 0,
        });
        await ctx.db.patch("channelDispatch", row._id, {
          nextTickAt: Date.now() - 31_000,
          tickJobId,
          rate: 40,
        });
      });
      await vi.advanceTimersByTimeAsync(10);
      await s.t.finishInProgressScheduledFunctions();
      const { tickJobId } = await dispatchOf(s);
      const job = await s.t.run(async (ctx) => ctx.db.system.get(tickJobId!));
      expect(job?.state.kind).toBe(failed ? "failed" : "pending");
    };
    await stall(false);
    await s.t.mutation(internal.campaigns.restartStalledDispatch, {});
    expect((await dispatchOf(s)).rate).toBe(40);
    await stall(true);
    await s.t.mutation(internal.campaigns.restartStalledDispatch, {});
    expect((await dispatchOf(s)).rate).toBe(20);
  });

  it("restarts a freeze whose step failed, and the campaign goes out once to everyone", async () => {
    const s = await campaignWithLostSends(2, 0);
    await s.t.run(async (ctx) => {
      for (let i = 200; i < 205; i++) {
        const phone = `+346200${String(i).padStart(5, "0")}`;
        const contactId = await ctx.db.insert("contacts", {
          tenantId: s.w.tenantId,
          name: `Frozen ${i}`,
          phone,
          createdAt: 1,
          tags: ["Frozen"],
        });
        await ctx.db.insert("contactAliases", {
          tenantId: s.w.tenantId,
          kind: "phone",
          value: phone,
          contactId,
        });
        await ctx.db.insert("contactTags", { tenantId: s.w.tenantId, tag: "frozen", contactId });
      }
    });
    const template = await s.t.run(async (ctx) => (await ctx.db.query("templates").first())!._id);
    const campaignId = await s.owner.mutation(api.campaigns.create, {
      tenantId: s.w.tenantId,
      name: "Frozen",
      channelId: s.w.cloudChannelId,
      templateId: template,
      variables: [{ source: "name" }],
      audience: { kind: "filter", filter: { tag: "Frozen" } },
    });
    await s.owner.mutation(api.campaigns.launch, { tenantId: s.w.tenantId, campaignId });
    // The freeze's first step fails (cancelled here, as one past the time limit leaves no successor).
    await s.t.run(async (ctx) => {
      for (const job of await ctx.db.system.query("_scheduled_functions").collect())
        if (job.name.includes("freezeStep") && job.state.kind === "pending")
          await ctx.scheduler.cancel(job._id);
    });
    await step(s.t, 5_000);
    const view = () => s.owner.query(api.campaigns.get, { tenantId: s.w.tenantId, campaignId });
    expect((await view()).state).toBe("preparing");
    expect(await s.t.mutation(internal.campaigns.restartStalledDispatch, {})).toMatchObject({ freezes: 0 });
    await step(s.t, 30_000);
    expect(await s.t.mutation(internal.campaigns.restartStalledDispatch, {})).toMatchObject({ freezes: 1 });
    for (let i = 0; i < 4; i++) await step(s.t);
    expect((await view()).counts).toMatchObject({ queued: 5, pending: 0 });
    expect(s.fake.sent).toHaveLength(7);
    expect(new Set(s.fake.sent.map((m) => m.body.to)).size).toBe(7);
  });
});
