/**
 * Pacing at claim (convex/model/campaigns/pacing.ts): a campaign send is claimed only while the
 * number's last second has room, whatever the schedule did; a refused send leaves the count, and
 * the count at the first refusal is the ceiling.
 */
import { describe, expect, it, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { Doc, Id } from "../../convex/_generated/dataModel";
import type { MutationCtx } from "../../convex/_generated/server";
import {
  countsFrom,
  GUARD_MS,
  IN_FLIGHT_MAX_MS,
  roomOf,
  SECOND_MS,
  SendWindows,
  settled,
} from "../../convex/model/campaigns/pacing";
import {
  NOW,
  countsOf,
  createCampaign,
  recipients,
  shop,
  step,
  useCampaignClock,
  wamids,
  type Shop,
} from "./campaign-helpers";

useCampaignClock();

/** Runs `fn` in a transaction of a shop whose Cloud number has a dispatch row with `ceiling`. */
async function withDispatch(
  ceiling: number,
  fn: (ctx: MutationCtx, dispatch: Doc<"channelDispatch">, channelId: Id<"channels">) => Promise<void>,
) {
  const s = await shop(0);
  await dispatchRow(s, { rate: ceiling, maxRate: 80, ceiling });
  const channelId: Id<"channels"> = s.w.cloudChannelId;
  await s.t.run(async (ctx) => {
    const dispatch = await ctx.db
      .query("channelDispatch")
      .withIndex("by_channel", (q) => q.eq("channelId", channelId))
      .first();
    await fn(ctx, dispatch!, channelId);
  });
}

async function dispatchRow(s: Shop, row: { rate: number; maxRate: number; ceiling?: number }) {
  await s.t.run((ctx) =>
    ctx.db.insert("channelDispatch", {
      channelId: s.w.cloudChannelId,
      lastTickAt: 0,
      sentTotal: 0,
      ...row,
      ...(row.ceiling !== undefined ? { ceilingAt: NOW } : {}),
    }),
  );
}

/** Steps the clock 25 ms at a time until `done`, noting when each send left. */
async function sendTimes(s: Shop, done: () => boolean, maxMs = 20_000): Promise<number[]> {
  const times: number[] = [];
  for (let elapsed = 0; elapsed < maxMs && !done(); elapsed += 25) {
    const before = s.fake.sent.length;
    await step(s.t, 25);
    for (let i = before; i < s.fake.sent.length; i++) times.push(Date.now());
  }
  return times;
}

/** The most sends any one second held. */
function busiestSecond(times: number[]): number {
  let most = 0;
  for (const end of times) most = Math.max(most, times.filter((t) => t > end - SECOND_MS && t <= end).length);
  return most;
}

describe("pacing at claim", () => {
  it("holds campaign sends while the number's second is full, and sends each one once when it has room", async () => {
    const s = await shop(14);
    // The schedule offers ten a second; WhatsApp allows four.
    await dispatchRow(s, { rate: 10, maxRate: 10, ceiling: 4 });
    const campaignId = await createCampaign(s);
    await s.owner.mutation(api.campaigns.launch, { tenantId: s.w.tenantId, campaignId });
    const times = await sendTimes(s, () => s.fake.sent.length >= 14);
    expect(times).toHaveLength(14);
    expect(busiestSecond(times)).toBe(4);
    expect(new Set(s.fake.sent.map((m) => m.body.to)).size).toBe(14);
    // Four a second: 14 take a little over three seconds, not the 1.4 the schedule asked for.
    expect(times.at(-1)! - times[0]).toBeGreaterThanOrEqual(3 * (SECOND_MS + GUARD_MS));
    for (let i = 0; i < 5; i++) await step(s.t);
    expect(s.fake.sent).toHaveLength(14);
    // Each recipient's one message was accepted (its statuses would follow).
    expect(new Set(await wamids(s.t, campaignId)).size).toBe(14);
    expect(countsOf(await recipients(s.t, campaignId))).toEqual({ queued: 14 });
  });

  it("takes a refused send out of the count and puts the ceiling at what WhatsApp took in the second before", async () => {
    const s = await shop(12);
    await dispatchRow(s, { rate: 10, maxRate: 80 });
    const campaignId = await createCampaign(s);
    await s.owner.mutation(api.campaigns.launch, { tenantId: s.w.tenantId, campaignId });
    await sendTimes(s, () => s.fake.sent.length >= 6);
    expect(s.fake.sent).toHaveLength(6);
    s.fake.failNextSends({ status: 400, code: 130429, message: "(#130429) Rate limit hit" });
    await sendTimes(s, () => s.fake.sent.length >= 7);
    await step(s.t, 25);
    const { dispatch, window, refusedAt } = await s.t.run(async (ctx) => {
      const dispatch = (await ctx.db
        .query("channelDispatch")
        .withIndex("by_channel", (q) => q.eq("channelId", s.w.cloudChannelId))
        .first())!;
      const window = (await ctx.db
        .query("sendWindows")
        .withIndex("by_channel", (q) => q.eq("channelId", s.w.cloudChannelId))
        .first())!;
      const refused = (await ctx.db.query("messages").collect()).find((m) => m.errorCode === 130429)!;
      return { dispatch, window, refusedAt: refused.statusAt };
    });
    // Six went out in the second before the seventh, which WhatsApp refused.
    expect(dispatch.ceiling).toBe(6);
    // Its answer is not counted, and nothing is left in flight.
    expect(window.answered).toHaveLength(6);
    expect(window.answered.every((t) => t < refusedAt + 25)).toBe(true);
    expect(window.inFlight).toEqual([]);
    // The refused one is retried and everyone gets exactly one message.
    for (let i = 0; i < 15 && s.fake.sent.length < 13; i++) await step(s.t);
    expect(new Set(s.fake.sent.map((m) => m.body.to)).size).toBe(12);
    expect(new Set(await wamids(s.t, campaignId)).size).toBe(12);
  });

  it("counts sends in flight whenever they were claimed, accepted ones for a second after their answer, and conversation sends without holding them", async () => {
    const s = await shop(0);
    await dispatchRow(s, { rate: 2, maxRate: 80, ceiling: 2 });
    const channelId: Id<"channels"> = s.w.cloudChannelId;
    await s.t.run(async (ctx) => {
      const windows = new SendWindows(ctx, NOW);
      expect(await windows.take(channelId, true)).toBe(true);
      expect(await windows.take(channelId, true)).toBe(true);
      expect(await windows.take(channelId, true)).toBe(false);
      // A reply a person waits for goes, and counts.
      expect(await windows.take(channelId, false)).toBe(true);
      // Sends in flight fill the second: they count until a second after their answers.
      expect(await windows.nextAt(channelId)).toBe(NOW + SECOND_MS + GUARD_MS + 1);
      await windows.save();
    });
    await s.t.run(async (ctx) => {
      // Still in flight five seconds on (a slow provider): still counted.
      expect(await new SendWindows(ctx, NOW + 5_000).take(channelId, true)).toBe(false);
      // Answers: two accepted, the reply refused (it does not count).
      await settled(ctx, channelId, [
        { claimedAt: NOW, answeredAt: NOW + 5_010, accepted: true },
        { claimedAt: NOW, answeredAt: NOW + 5_010, accepted: true },
        { claimedAt: NOW, answeredAt: NOW + 5_020, accepted: false },
      ]);
      const row = await ctx.db
        .query("sendWindows")
        .withIndex("by_channel", (q) => q.eq("channelId", channelId))
        .first();
      expect(row).toMatchObject({ answered: [NOW + 5_010, NOW + 5_010], inFlight: [] });
      const full = new SendWindows(ctx, NOW + 5_500);
      expect(await full.take(channelId, true)).toBe(false);
      expect(await full.nextAt(channelId)).toBe(NOW + 5_010 + SECOND_MS + GUARD_MS + 1);
      expect(await new SendWindows(ctx, NOW + 5_010 + SECOND_MS + GUARD_MS + 1).take(channelId, true)).toBe(
        true,
      );
    });
  });

  it("counts an accepted send from its answer, or from shortly after its call when the answer is slow", async () => {
    // WhatsApp counts a send when it arrives, before it answers.
    expect(countsFrom(NOW, NOW + 20, 150)).toBe(NOW + 20);
    expect(countsFrom(NOW, NOW + 400, 150)).toBe(NOW + 150);
    // A limit of 10 000 ms counts every send from its answer.
    expect(countsFrom(NOW, NOW + 400, 10_000)).toBe(NOW + 400);
    await withDispatch(2, async (ctx, dispatch, channelId) => {
      const windows = new SendWindows(ctx, NOW);
      expect(await windows.take(channelId, true)).toBe(true);
      expect(await windows.take(channelId, true)).toBe(true);
      await windows.save();
      // Both answered 400 ms after their call: they count from 150 ms after it.
      await settled(ctx, channelId, [
        { claimedAt: NOW, answeredAt: NOW + 400, countsFrom: NOW + 150, accepted: true },
        { claimedAt: NOW, answeredAt: NOW + 400, countsFrom: NOW + 150, accepted: true },
      ]);
      const full = new SendWindows(ctx, NOW + 1_000);
      expect(await full.take(channelId, true)).toBe(false);
      // Room again a second after they were counted, not a second after the answer.
      expect(await full.nextAt(channelId)).toBe(NOW + 150 + SECOND_MS + GUARD_MS + 1);
      expect((await roomOf(ctx, dispatch, NOW + 1_000)).times(2)).toEqual([
        NOW + 150 + SECOND_MS + GUARD_MS + 1,
        NOW + 150 + SECOND_MS + GUARD_MS + 1,
      ]);
      expect(await new SendWindows(ctx, NOW + 150 + SECOND_MS + GUARD_MS + 1).take(channelId, true)).toBe(
        true,
      );
    });
  });

  it("counts a slow answer's send from WHATSAPP_SEND_ARRIVAL_MS after its call when that is set, and from its answer when not", async () => {
    const countedTimes = async (arrival: string | null) => {
      if (arrival !== null) vi.stubEnv("WHATSAPP_SEND_ARRIVAL_MS", arrival);
      const s = await shop(2);
      await dispatchRow(s, { rate: 10, maxRate: 80, ceiling: 10 });
      s.fake.answerSendsAfter(400);
      const campaignId = await createCampaign(s);
      await s.owner.mutation(api.campaigns.launch, { tenantId: s.w.tenantId, campaignId });
      await sendTimes(s, () => s.fake.sent.length >= 2);
      await step(s.t, 25);
      return await s.t.run(async (ctx) => {
        const window = await ctx.db
          .query("sendWindows")
          .withIndex("by_channel", (q) => q.eq("channelId", s.w.cloudChannelId))
          .first();
        // Claimed and called at the same instant of the fake clock; answered 400 ms later.
        const calls = (await ctx.db.query("messages").collect()).map((m) => m.statusAt).sort();
        return { counted: window!.answered, calls };
      });
    };
    const fromAnswers = await countedTimes(null);
    expect(fromAnswers.counted).toEqual(fromAnswers.calls.map((t) => t + 400));
    const fromCalls = await countedTimes("150");
    expect(fromCalls.counted).toEqual(fromCalls.calls.map((t) => t + 150));
  });

  it("fails a delivery before its claim when WHATSAPP_SEND_ARRIVAL_MS is not a number of milliseconds", async () => {
    vi.stubEnv("WHATSAPP_SEND_ARRIVAL_MS", "soon");
    const s = await shop(2);
    await dispatchRow(s, { rate: 10, maxRate: 80, ceiling: 10 });
    const campaignId = await createCampaign(s);
    await s.owner.mutation(api.campaigns.launch, { tenantId: s.w.tenantId, campaignId });
    await expect(
      s.t.action(internal.outbound.deliverMany, {
        messageIds: (await s.t.run((ctx) => ctx.db.query("messages").collect())).map((m) => m._id),
      }),
    ).rejects.toThrow(
      /WHATSAPP_SEND_ARRIVAL_MS must be a number of milliseconds from 0 to 10000 \(it is "soon"\)/,
    );
    for (let i = 0; i < 3; i++) await step(s.t);
    // Nothing was claimed or sent: the recipients wait, queued, for a working setting.
    expect(s.fake.sent).toHaveLength(0);
    expect(countsOf(await recipients(s.t, campaignId))).toEqual({ queued: 2 });
  });

  it("tells a tick how many sends the next half second has room for", async () => {
    await withDispatch(10, async (ctx, dispatch, channelId) => {
      expect((await roomOf(ctx, dispatch, NOW)).within(500)).toBe(10);
      const windows = new SendWindows(ctx, NOW);
      for (let i = 0; i < 6; i++) expect(await windows.take(channelId, true)).toBe(true);
      await windows.save();
      // Six in flight: they will count for a second after their answers.
      expect((await roomOf(ctx, dispatch, NOW)).within(500)).toBe(4);
      await settled(
        ctx,
        channelId,
        Array.from({ length: 6 }, (_, i) => ({
          claimedAt: NOW,
          answeredAt: NOW + 100 * i,
          accepted: i !== 5,
        })),
      );
      // Answered at NOW … NOW + 400 (the last refused): still counted half a second on, gone after
      // a second.
      expect((await roomOf(ctx, dispatch, NOW + 500)).within(500)).toBe(5);
      expect((await roomOf(ctx, dispatch, NOW + 800)).within(500)).toBe(8);
      expect((await roomOf(ctx, dispatch, NOW + 1_000)).within(500)).toBe(10);
    });
  });

  it("tells a tick when each of its next sends will find room", async () => {
    await withDispatch(4, async (ctx, dispatch, channelId) => {
      expect((await roomOf(ctx, dispatch, NOW)).times(6)).toEqual([NOW, NOW, NOW, NOW]);
      const windows = new SendWindows(ctx, NOW);
      for (let i = 0; i < 3; i++) expect(await windows.take(channelId, true)).toBe(true);
      await windows.save();
      // One in flight stays unanswered; two are answered (the later first).
      await settled(ctx, channelId, [
        { claimedAt: NOW, answeredAt: NOW + 300, accepted: true },
        { claimedAt: NOW, answeredAt: NOW + 100, accepted: true },
      ]);
      const dropOut = (answeredAt: number) => answeredAt + SECOND_MS + GUARD_MS + 1;
      // One free now, then the two answered ones as they drop out; the one in flight is unknown.
      expect((await roomOf(ctx, dispatch, NOW + 300)).times(6)).toEqual([
        NOW + 300,
        dropOut(NOW + 100),
        dropOut(NOW + 300),
      ]);
      expect((await roomOf(ctx, dispatch, NOW + 300)).times(2)).toEqual([NOW + 300, dropOut(NOW + 100)]);
      // A lowered ceiling: the first to drop out makes no room.
      const lowered = { ...dispatch, ceiling: 2 };
      expect((await roomOf(ctx, lowered, NOW + 300)).times(6)).toEqual([dropOut(NOW + 300)]);
    });
  });

  it("stops counting a send whose delivery was cut short between claim and answer", async () => {
    const s = await shop(0);
    await dispatchRow(s, { rate: 1, maxRate: 80, ceiling: 1 });
    const channelId: Id<"channels"> = s.w.cloudChannelId;
    await s.t.run(async (ctx) => {
      const windows = new SendWindows(ctx, NOW);
      expect(await windows.take(channelId, true)).toBe(true);
      await windows.save();
      expect(await new SendWindows(ctx, NOW + IN_FLIGHT_MAX_MS - 1).take(channelId, true)).toBe(false);
      expect(await new SendWindows(ctx, NOW + IN_FLIGHT_MAX_MS + 1).take(channelId, true)).toBe(true);
    });
  });

  it("carries a tick's part of the rate that the second had no room for to the next tick", async () => {
    const s = await shop(24);
    // Ten a tick.
    await dispatchRow(s, { rate: 20, maxRate: 20, ceiling: 20 });
    const campaignId = await createCampaign(s);
    await s.owner.mutation(api.campaigns.launch, { tenantId: s.w.tenantId, campaignId });
    await step(s.t, 0);
    const channelId: Id<"channels"> = s.w.cloudChannelId;
    const row = () =>
      s.t.run(
        async (ctx) =>
          (await ctx.db
            .query("channelDispatch")
            .withIndex("by_channel", (q) => q.eq("channelId", channelId))
            .first())!,
      );
    /** The channel's second as if `answered` sends were answered 100 ms ago (none in flight). */
    const answeredJustNow = (answered: number) =>
      s.t.run(async (ctx) => {
        const window = await ctx.db
          .query("sendWindows")
          .withIndex("by_channel", (q) => q.eq("channelId", channelId))
          .first();
        const fields = { answered: Array(answered).fill(Date.now() - 100), inFlight: [] };
        if (window) await ctx.db.patch("sendWindows", window._id, fields);
        else await ctx.db.insert("sendWindows", { channelId, ...fields });
      });
    const tick = async () =>
      await s.t.mutation(internal.campaigns.tick, { channelId, at: (await row()).nextTickAt! });

    // 16 of 20 still count for the tick's half second: room for 4, and one more.
    await answeredJustNow(16);
    expect((await tick()).claimed).toBe(5);
    expect((await row()).behind).toBe(5);
    // The second empty again: its own 10 and the 5 carried.
    await answeredJustNow(0);
    expect((await tick()).claimed).toBe(15);
    expect((await row()).behind).toBeUndefined();
    // Four recipients left: claimed, and nothing carried although the part was not used.
    expect((await tick()).claimed).toBe(4);
    expect((await row()).behind).toBeUndefined();
    for (let i = 0; i < 5; i++) await step(s.t);
    expect(s.fake.sent).toHaveLength(24);
    expect(new Set(s.fake.sent.map((m) => m.body.to)).size).toBe(24);
  });
});
