/**
 * WhatsApp's limits at the campaign dispatcher (decision 023), against the real send pipeline and
 * status webhooks (only Meta's end is faked): the messaging tier's people per 24 hours are never
 * exceeded, even by overlapping ticks and two numbers of one business account, the rest wait and
 * go when the limit frees up; the pair limit retries one recipient after 4^n seconds; the spam
 * limit pauses the channel's campaigns; marketing to US numbers is skipped; the estimate tells.
 */
import { describe, expect, it } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { SPAM_LIMIT_REASON } from "../../convex/model/campaigns/dispatch";
import { tierLimit } from "../../convex/model/campaigns/limits";
import {
  NOW,
  SPRING_SALE,
  approvedTemplate,
  dispatchRate,
  launchCampaign as launch,
  recipients,
  shop,
  statuses,
  step,
  useCampaignClock,
  view,
  wamids,
  type Shop,
} from "./campaign-helpers";
import { WABA_ID, cloud, postCloud } from "./whatsapp-helpers";

const HOUR = 60 * 60 * 1000;

useCampaignClock();

/** Distinct numbers the provider was asked to send to since `from` (an index into fake.sent). */
const distinctTo = (s: Shop, from = 0) => new Set(s.fake.sent.slice(from).map((m) => String(m.body.to))).size;

describe("messaging tiers", () => {
  it("reads Meta's tier values, plain numbers too, and assumes 250 when none was reported", () => {
    expect(tierLimit("TIER_250")).toBe(250);
    expect(tierLimit("TIER_2K")).toBe(2_000);
    expect(tierLimit("TIER_100K")).toBe(100_000);
    expect(tierLimit("TIER_UNLIMITED")).toBeNull();
    expect(tierLimit("10000")).toBe(10_000);
    expect(tierLimit(undefined)).toBe(250);
    expect(tierLimit("SOMETHING_NEW")).toBe(250);
  });

  it("never reaches more people in 24 hours than the tier allows, across overlapping ticks and two numbers of one account", async () => {
    const s = await shop(30, { tier: "20" });
    // A second number of the same WhatsApp Business Account shares the limit; it already
    // reached 5 of the contacts' neighbours today with its own campaign.
    const second = await s.t.run(async (ctx) => {
      const first = (await ctx.db.get("channels", s.w.cloudChannelId))!;
      const { _id, _creationTime, ...rest } = first;
      void _id;
      void _creationTime;
      const channelId = await ctx.db.insert("channels", {
        ...rest,
        name: "Acme second number",
        phoneNumberId: "106540352242999",
      });
      const templateId = await approvedTemplate(ctx, s.w.tenantId, channelId, SPRING_SALE);
      const others: Id<"contacts">[] = [];
      for (let i = 0; i < 5; i++) {
        const phone = `+34620000${String(i).padStart(3, "0")}`;
        const contactId = await ctx.db.insert("contacts", {
          tenantId: s.w.tenantId,
          name: `Other ${i}`,
          phone,
          createdAt: 1,
        });
        await ctx.db.insert("contactAliases", {
          tenantId: s.w.tenantId,
          kind: "phone",
          value: phone,
          contactId,
        });
        others.push(contactId);
      }
      return { channelId, templateId, others };
    });
    // Three of the campaign's contacts wrote within the last day: their window is open, so
    // they do not count against the limit.
    await s.t.run(async (ctx) => {
      for (const contactId of s.contacts.slice(27))
        await ctx.db.insert("conversations", {
          tenantId: s.w.tenantId,
          channelId: s.w.cloudChannelId,
          contactId,
          lastMessageAt: NOW - HOUR,
          lastInboundAt: NOW - HOUR,
          state: "bot",
        });
    });
    const otherCampaign = await launch(s, {
      name: "Other number",
      channelId: second.channelId,
      templateId: second.templateId,
      audience: { kind: "contacts", contactIds: second.others },
    });
    // Both numbers send fast enough for one tick to look at every recipient (the open windows
    // are at the end of the list).
    await s.t.run(async (ctx) => {
      for (const channelId of [s.w.cloudChannelId, second.channelId]) {
        const row = await ctx.db
          .query("channelDispatch")
          .withIndex("by_channel", (q) => q.eq("channelId", channelId))
          .first();
        if (row) await ctx.db.patch("channelDispatch", row._id, { rate: 80 });
        else
          await ctx.db.insert("channelDispatch", {
            channelId,
            rate: 80,
            maxRate: 80,
            lastTickAt: 0,
            sentTotal: 0,
          });
      }
    });
    const campaignId = await launch(s);
    await step(s.t, 0);
    // Overlapping ticks of both numbers for the same due times.
    const due = async (channelId: Id<"channels">) =>
      (await s.t.run((ctx) =>
        ctx.db
          .query("channelDispatch")
          .withIndex("by_channel", (q) => q.eq("channelId", channelId))
          .first(),
      ))!.nextTickAt!;
    const [dueA, dueB] = [await due(s.w.cloudChannelId), await due(second.channelId)];
    await Promise.all([
      s.t.mutation(internal.campaigns.tick, { channelId: s.w.cloudChannelId, at: dueA }),
      s.t.mutation(internal.campaigns.tick, { channelId: s.w.cloudChannelId, at: dueA }),
      s.t.mutation(internal.campaigns.tick, { channelId: second.channelId, at: dueB }),
    ]);
    for (let i = 0; i < 6; i++) await step(s.t);

    // 20 people outside a window in all, whichever number got there first, plus the 3 whose
    // window is open; the other 12 wait.
    const rows = [...(await recipients(s.t, campaignId)), ...(await recipients(s.t, otherCampaign))];
    const queued = rows.filter((r) => r.state === "queued");
    const pending = rows.filter((r) => r.state === "pending");
    expect(queued).toHaveLength(23);
    expect(pending).toHaveLength(12);
    for (const c of s.contacts.slice(27)) expect(queued.map((r) => r.contactId)).toContain(c);
    expect(distinctTo(s)).toBe(23);
    expect(s.fake.sent).toHaveLength(23);
    for (const id of new Set(pending.map((r) => r.campaignId))) {
      const v = await view(s, id);
      expect(v.state).toBe("running");
      expect(v.stateReason).toMatch(
        /^Waiting for WhatsApp's messaging limit: 20 people reached outside a conversation in the last 24 hours, of 20 people per 24 hours \(20\)\. .* the next from 2026-12-08 11:00 UTC\.$/,
      );
    }
    // The sent ones are delivered (so only the waiting ones keep the dispatchers busy).
    await statuses(
      s.t,
      [...(await wamids(s.t, campaignId)), ...(await wamids(s.t, otherCampaign))].map((wamid) => ({
        wamid,
        status: "delivered",
      })),
    );

    // Hours pass: nothing more goes while the 24 hours have not passed.
    const sentBefore = s.fake.sent.length;
    await step(s.t, 20 * HOUR);
    expect(s.fake.sent.length).toBe(sentBefore);
    // Once the hour of the first sends leaves the window, the rest go, and the note goes away.
    await step(s.t, 5 * HOUR);
    for (let i = 0; i < 4; i++) await step(s.t);
    const after = await recipients(s.t, campaignId);
    const afterOther = await recipients(s.t, otherCampaign);
    expect([...after, ...afterOther].filter((r) => r.state === "pending")).toHaveLength(0);
    expect(s.fake.sent.length).toBe(sentBefore + 12);
    expect((await view(s, campaignId)).stateReason).toBeNull();
    expect((await view(s, otherCampaign)).stateReason).toBeNull();
  });

  it("does not count a person twice: one reached earlier today takes none of the limit again", async () => {
    const s = await shop(4, { tier: "TIER_250" });
    const first = await launch(s, { name: "Morning" });
    for (let i = 0; i < 3; i++) await step(s.t);
    expect((await view(s, first)).counts.queued).toBe(4);
    await statuses(
      s.t,
      (await wamids(s.t, first)).map((wamid) => ({ wamid, status: "delivered" })),
    );
    await s.t.run((ctx) => ctx.db.patch("channels", s.w.cloudChannelId, { messagingTier: "4" }));
    await step(s.t, 2 * HOUR);
    // A second campaign to the same four people the same day: all four still go.
    const second = await launch(s, { name: "Afternoon" });
    for (let i = 0; i < 3; i++) await step(s.t);
    expect((await view(s, second)).counts.queued).toBe(4);
    expect((await view(s, second)).stateReason).toBeNull();
    const hours = await s.t.run((ctx) => ctx.db.query("messagingReachHours").collect());
    expect(hours.reduce((sum, h) => sum + h.count, 0)).toBe(4);
  });

  it("the estimate tells the tier, what is left of it, and how many would wait", async () => {
    const s = await shop(6, { tier: "TIER_250" });
    await s.t.run(async (ctx) => {
      const hour = Math.floor((NOW - HOUR) / HOUR) * HOUR;
      await ctx.db.insert("messagingReachHours", {
        tenantId: s.w.tenantId,
        scope: `${s.w.tenantId}:waba:${WABA_ID}`,
        hour,
        count: 246,
      });
      await ctx.db.insert("conversations", {
        tenantId: s.w.tenantId,
        channelId: s.w.cloudChannelId,
        contactId: s.contacts[0],
        lastMessageAt: NOW - HOUR,
        lastInboundAt: NOW - HOUR,
        state: "bot",
      });
      // A US number: WhatsApp does not deliver marketing templates there.
      await ctx.db.patch("contacts", s.contacts[1], { phone: "+14155550123" });
      await ctx.db.insert("contactAliases", {
        tenantId: s.w.tenantId,
        kind: "phone",
        value: "+14155550123",
        contactId: s.contacts[1],
      });
    });
    const estimate = await s.owner.query(api.campaigns.estimate, {
      tenantId: s.w.tenantId,
      templateId: s.templateId,
      variables: [{ source: "name" }],
      audience: { kind: "filter", filter: { tag: "VIP" } },
    });
    expect(estimate).toMatchObject({
      sampled: 6,
      sendable: 5,
      excluded: [{ reason: "WhatsApp does not deliver marketing templates to US (+1) numbers", count: 1 }],
      messagingLimit: { tier: "TIER_250", limit: 250, used: 246, remaining: 4, needed: 4, waiting: 0 },
    });
    await s.t.run((ctx) => ctx.db.patch("channels", s.w.cloudChannelId, { messagingTier: "TIER_UNLIMITED" }));
    const unlimited = await s.owner.query(api.campaigns.estimate, {
      tenantId: s.w.tenantId,
      templateId: s.templateId,
      variables: [{ source: "name" }],
      audience: { kind: "filter", filter: { tag: "VIP" } },
    });
    expect(unlimited.messagingLimit).toMatchObject({ limit: null, remaining: null, waiting: 0 });
    await s.t.run((ctx) => ctx.db.patch("channels", s.w.cloudChannelId, { messagingTier: "TIER_250" }));
    await s.t.run(async (ctx) => {
      const row = (await ctx.db.query("messagingReachHours").first())!;
      await ctx.db.patch("messagingReachHours", row._id, { count: 248 });
    });
    const tight = await s.owner.query(api.campaigns.estimate, {
      tenantId: s.w.tenantId,
      templateId: s.templateId,
      variables: [{ source: "name" }],
      audience: { kind: "filter", filter: { tag: "VIP" } },
    });
    expect(tight.messagingLimit).toMatchObject({ used: 248, remaining: 2, needed: 4, waiting: 2 });
  });
});

describe("per-recipient limits", () => {
  it("retries a recipient WhatsApp's pair limit refused after 4, 16, 64 seconds while the others go on", async () => {
    const s = await shop(3, { tier: "TIER_UNLIMITED" });
    await dispatchRate(s, 1);
    const pairLimit = { status: 400, code: 131056, message: "(#131056) pair rate limit hit" };
    s.fake.failNextSends(pairLimit);
    const campaignId = await launch(s);
    const attemptsAt: number[] = [];
    let seen = 0;
    let owed = 0;
    for (let i = 0; i < 150 && attemptsAt.length < 4; i++) {
      await step(s.t);
      for (; seen < s.fake.sent.length; seen++)
        if (s.fake.sent[seen].body.to === "34610000000") {
          attemptsAt.push(Date.now());
          if (attemptsAt.length < 3) owed++;
        }
      // The next refusal is queued once the others went, so it meets the retry.
      if (owed && s.fake.sent.length >= 3) {
        s.fake.failNextSends(pairLimit);
        owed--;
      }
    }
    // The pair limit's own minimum (6 s) over 4^1; then 4^2 and 4^3 seconds.
    const gaps = attemptsAt.slice(1).map((at, i) => Math.round((at - attemptsAt[i]) / 1000));
    expect(gaps).toEqual([6, 16, 64]);
    // The two others went out long before, one a second.
    const others = s.fake.sent.filter((m) => m.body.to !== "34610000000");
    expect(others.map((m) => m.body.to).sort()).toEqual(["34610000001", "34610000002"]);
    expect(s.fake.sent.findIndex((m) => m.body.to === "34610000002")).toBeLessThan(4);
    const rows = await recipients(s.t, campaignId);
    expect(rows.every((r) => r.state === "queued")).toBe(true);
    const message = await s.t.run(async (ctx) => ctx.db.get("messages", rows[0].messageId!));
    expect(message?.providerMessageId).toBeTruthy();
  });

  it("skips marketing to US (+1) numbers with a reason, and fails a second marketing-cap refusal for good", async () => {
    const s = await shop(3, { tier: "TIER_UNLIMITED" });
    await s.t.run(async (ctx) => {
      await ctx.db.patch("contacts", s.contacts[0], { phone: "+14155550100" });
      await ctx.db.insert("contactAliases", {
        tenantId: s.w.tenantId,
        kind: "phone",
        value: "+14155550100",
        contactId: s.contacts[0],
      });
    });
    const campaignId = await launch(s);
    for (let i = 0; i < 3; i++) await step(s.t);
    let rows = await recipients(s.t, campaignId);
    expect(rows.find((r) => r.contactId === s.contacts[0])).toMatchObject({
      state: "skipped",
      reason: "WhatsApp does not deliver marketing templates to US (+1) numbers",
    });
    expect(s.fake.sent.map((m) => m.body.to)).not.toContain("14155550100");

    const [capped, fine] = await wamids(s.t, campaignId);
    await statuses(s.t, [
      { wamid: capped, status: "failed", code: 131049 },
      { wamid: fine, status: "delivered" },
    ]);
    await step(s.t, 24 * HOUR);
    await step(s.t);
    expect(s.fake.sent).toHaveLength(3);
    const retried = s.fake.sent.length;
    const retriedWamid = (await wamids(s.t, campaignId)).find((id) => id !== fine)!;
    await statuses(s.t, [{ wamid: retriedWamid, status: "failed", code: 131049 }]);
    for (let i = 0; i < 3; i++) await step(s.t, 24 * HOUR);
    expect(s.fake.sent).toHaveLength(retried);
    rows = await recipients(s.t, campaignId);
    expect(rows.filter((r) => r.state === "failed")).toEqual([
      expect.objectContaining({
        reason: "WhatsApp's marketing limit for this person refused it again a day later: not sent",
        errorCode: 131049,
      }),
    ]);
    expect((await view(s, campaignId)).state).toBe("completed");
  });
});

describe("quality", () => {
  it("pauses the number's running campaigns on the spam limit (131048); the refused recipient is sent on resume", async () => {
    const s = await shop(4, { tier: "TIER_UNLIMITED" });
    await dispatchRate(s, 1);
    const campaignId = await launch(s);
    // Sent synchronously refused: the answer itself carries 131048.
    s.fake.failNextSends({ status: 400, code: 131048, message: "(#131048) Spam rate limit hit" });
    for (let i = 0; i < 3; i++) await step(s.t);
    const v = await view(s, campaignId);
    expect(v.state).toBe("paused");
    expect(v.stateReason).toBe(SPAM_LIMIT_REASON);
    const sentWhilePaused = s.fake.sent.length;
    for (let i = 0; i < 5; i++) await step(s.t, 60_000);
    expect(s.fake.sent.length).toBe(sentWhilePaused);
    // The refused one waits as pending (not failed, not retried behind the person's back).
    const rows = await recipients(s.t, campaignId);
    expect(rows.filter((r) => r.state === "failed")).toHaveLength(0);
    expect(rows.find((r) => r.contactId === s.contacts[0])).toMatchObject({
      state: "pending",
      errorCode: 131048,
    });

    await s.owner.mutation(api.campaigns.resume, { tenantId: s.w.tenantId, campaignId });
    for (let i = 0; i < 8; i++) await step(s.t);
    const to = s.fake.sent.map((m) => m.body.to);
    expect(to.filter((n) => n === "34610000000")).toHaveLength(2);
    expect(new Set(to).size).toBe(4);
    expect((await view(s, campaignId)).counts).toMatchObject({ pending: 0, queued: 4 });

    // A failed status with 131048 does the same, by webhook.
    const [wamid] = await wamids(s.t, campaignId);
    await statuses(s.t, [{ wamid, status: "failed", code: 131048 }]);
    await step(s.t);
    expect(await view(s, campaignId)).toMatchObject({ state: "paused", stateReason: SPAM_LIMIT_REASON });
  });

  it("shows WhatsApp's low-quality flag on the running campaign, and removes it when unflagged", async () => {
    const s = await shop(2, { tier: "TIER_UNLIMITED" });
    const campaignId = await launch(s);
    for (let i = 0; i < 3; i++) await step(s.t);
    expect((await view(s, campaignId)).state).toBe("running");
    // Meta's phone_number_quality_update fixture (FLAGGED), routed by the WABA and display number.
    expect((await postCloud(s.t, cloud("quality-flagged"))).status).toBe(200);
    for (let i = 0; i < 3; i++) await step(s.t);
    const channel = await s.t.run((ctx) => ctx.db.get("channels", s.w.cloudChannelId));
    expect(channel?.qualityRating).toBe("FLAGGED");
    expect((await view(s, campaignId)).stateReason).toMatch(/quality low/);
    await s.t.run((ctx) => ctx.db.patch("channels", s.w.cloudChannelId, { qualityRating: "UNFLAGGED" }));
    await step(s.t, 5_000);
    expect((await view(s, campaignId)).stateReason).toBeNull();
  });
});
