/**
 * Campaigns against the real send pipeline and status webhooks (only Meta's end is faked): the
 * audience is frozen, the channel's dispatcher claims each recipient once, skips those it must
 * with a reason, follows statuses into counters that equal the recipients' states, pauses and
 * resumes between ticks, retries WhatsApp's marketing cap after a day, halts on credits, and
 * completes.
 */
import type { FunctionArgs } from "convex/server";
import { describe, expect, it } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { recordConsent } from "../../convex/model/contactConsent";
import { ISSUER, type T } from "./factories";
import {
  NOW,
  countsOf,
  createCampaign,
  dispatchRate,
  euroWallet,
  postCloudChange,
  recipients,
  shop as campaignShop,
  spanishMarketingRate,
  statuses,
  step,
  useCampaignClock,
  view,
  wamids,
  type Shop,
} from "./campaign-helpers";

useCampaignClock();

/** A workspace with an approved two-parameter template and `n` contacts tagged "vip", their numbers +3461000000i. */
const shop = (n: number, category = "MARKETING") =>
  campaignShop(n, {
    category,
    template: { name: "spring_sale", text: "Hola {{1}}, esta semana tienes un {{2}} de descuento." },
  });

/** A draft with the contact's name and 20% as the template's parameters. */
const create = (s: Shop, extra: Partial<FunctionArgs<typeof api.campaigns.create>> = {}) =>
  createCampaign(s, { variables: [{ source: "name" }, { source: "constant", value: "20%" }], ...extra });

/** A text message from a customer's number, as Cloud API delivers it. */
async function inbound(t: T, from: string, id: string, text = "Do you have it in 1 litre?") {
  await postCloudChange(t, {
    contacts: [{ profile: { name: "Customer" }, wa_id: from }],
    messages: [
      { from, id, timestamp: String(Math.floor(Date.now() / 1000)), type: "text", text: { body: text } },
    ],
  });
}

describe("a campaign from launch to completion", () => {
  it("freezes the audience, sends once per recipient with its parameters, follows statuses and completes", async () => {
    const s = await shop(45);
    const campaignId = await create(s);
    expect((await view(s, campaignId)).state).toBe("draft");
    await s.owner.mutation(api.campaigns.launch, { tenantId: s.w.tenantId, campaignId });
    for (let i = 0; i < 6; i++) await step(s.t);
    // Each recipient got exactly one provider send, with its own first name.
    expect(s.fake.sent).toHaveLength(45);
    const to = s.fake.sent.map((m) => m.body.to);
    expect(new Set(to).size).toBe(45);
    const first = s.fake.sent.find((m) => m.body.to === "34610000007")!.body as {
      template: { name: string; components: { parameters: { text: string }[] }[] };
    };
    expect(first.template.name).toBe("spring_sale");
    expect(first.template.components[0].parameters.map((p) => p.text)).toEqual(["Customer", "20%"]);
    expect((await view(s, campaignId)).counts).toMatchObject({ pending: 0, queued: 45 });

    const ids = await wamids(s.t, campaignId);
    expect(ids).toHaveLength(45);
    await statuses(
      s.t,
      ids.map((wamid) => ({ wamid, status: "sent" })),
    );
    await statuses(
      s.t,
      ids.slice(0, 30).map((wamid) => ({ wamid, status: "delivered" })),
    );
    await statuses(
      s.t,
      ids.slice(0, 10).map((wamid) => ({ wamid, status: "read" })),
    );
    // A late "delivered" after "read" does not move a recipient back.
    await statuses(
      s.t,
      ids.slice(0, 5).map((wamid) => ({ wamid, status: "delivered" })),
    );
    for (let i = 0; i < 6; i++) await step(s.t);
    const rows = await recipients(s.t, campaignId);
    const v = await view(s, campaignId);
    expect(countsOf(rows)).toEqual({ read: 10, delivered: 20, sent: 15 });
    expect(v.counts).toMatchObject({ read: 10, delivered: 20, sent: 15, queued: 0, pending: 0 });
    expect(v.state).toBe("completed");
  });

  it("skips opted-out, marketing-stopped and incomplete recipients with reasons, and sends to the rest", async () => {
    const s = await shop(5);
    await s.t.run(async (ctx) => {
      const base = { tenantId: s.w.tenantId, source: "keyword" as const };
      await recordConsent(ctx, { ...base, contactId: s.contacts[0], kind: "opt_out" });
      await recordConsent(ctx, {
        ...base,
        contactId: s.contacts[1],
        kind: "opt_out",
        source: "user_preferences",
        scope: "marketing",
      });
      await ctx.db.patch("contacts", s.contacts[2], { name: undefined });
    });
    const campaignId = await create(s);
    await s.owner.mutation(api.campaigns.launch, { tenantId: s.w.tenantId, campaignId });
    for (let i = 0; i < 4; i++) await step(s.t);
    const rows = await recipients(s.t, campaignId);
    const reasonOf = (id: Id<"contacts">) => rows.find((r) => r.contactId === id)?.reason;
    expect(reasonOf(s.contacts[0])).toBe("Opted out");
    expect(reasonOf(s.contacts[1])).toBe("Stopped marketing messages");
    expect(reasonOf(s.contacts[2])).toBe("No value for {{1}}");
    expect(s.fake.sent.map((m) => m.body.to).sort()).toEqual(["34610000003", "34610000004"]);
    expect((await view(s, campaignId)).counts).toMatchObject({ skipped: 3, queued: 2 });
  });

  it("sends nothing more once paused between two ticks, and continues from where it was on resume", async () => {
    const s = await shop(50);
    const campaignId = await create(s);
    await dispatchRate(s, 10);
    await s.owner.mutation(api.campaigns.launch, { tenantId: s.w.tenantId, campaignId });
    for (let i = 0; i < 10 && s.fake.sent.length === 0; i++) await step(s.t, 100);
    const before = s.fake.sent.length;
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(50);
    await s.owner.mutation(api.campaigns.pause, { tenantId: s.w.tenantId, campaignId });
    for (let i = 0; i < 5; i++) await step(s.t);
    expect(s.fake.sent.length).toBe(before);
    expect(await view(s, campaignId)).toMatchObject({ state: "paused", stateReason: "Paused by Owner" });
    await s.owner.mutation(api.campaigns.resume, { tenantId: s.w.tenantId, campaignId });
    for (let i = 0; i < 20 && s.fake.sent.length < 50; i++) await step(s.t);
    expect(s.fake.sent).toHaveLength(50);
    expect(new Set(s.fake.sent.map((m) => m.body.to)).size).toBe(50);
  });

  it("spreads a tick's sends over its second, and a pause within that second stops the rest", async () => {
    const s = await shop(30);
    const campaignId = await create(s);
    await s.t.run((ctx) =>
      ctx.db.insert("channelDispatch", {
        channelId: s.w.cloudChannelId,
        rate: 10,
        maxRate: 10,
        lastTickAt: 0,
        sentTotal: 0,
      }),
    );
    await s.owner.mutation(api.campaigns.launch, { tenantId: s.w.tenantId, campaignId });
    // Ten a second: the first tick (half a second) claims five; one goes at once, the others
    // 100 ms apart.
    for (let i = 0; i < 10 && s.fake.sent.length === 0; i++) await step(s.t, 50);
    expect(s.fake.sent).toHaveLength(1);
    await step(s.t, 100);
    await step(s.t, 100);
    const before = s.fake.sent.length;
    expect(before).toBeGreaterThanOrEqual(2);
    expect(before).toBeLessThanOrEqual(4);
    expect((await view(s, campaignId)).counts.queued).toBe(5);
    await s.owner.mutation(api.campaigns.pause, { tenantId: s.w.tenantId, campaignId });
    for (let i = 0; i < 5; i++) await step(s.t);
    // The slices still due found the campaign paused: nothing more left, and their recipients
    // wait as pending with no message.
    expect(s.fake.sent).toHaveLength(before);
    const rows = await recipients(s.t, campaignId);
    expect(countsOf(rows)).toEqual({ pending: 30 - before, queued: before });
    expect(rows.filter((r) => r.state === "pending" && r.messageId)).toEqual([]);
    const messages = await s.t.run((ctx) => ctx.db.query("messages").collect());
    expect(messages).toHaveLength(before);
    expect((await view(s, campaignId)).counts).toMatchObject({ pending: 30 - before, queued: before });
    await s.owner.mutation(api.campaigns.resume, { tenantId: s.w.tenantId, campaignId });
    for (let i = 0; i < 6; i++) await step(s.t);
    expect(s.fake.sent).toHaveLength(30);
    expect(new Set(s.fake.sent.map((m) => m.body.to)).size).toBe(30);
  });

  it("never claims a recipient twice, even when a second tick chain is started beside the first", async () => {
    const s = await shop(30);
    const campaignId = await create(s);
    await s.owner.mutation(api.campaigns.launch, { tenantId: s.w.tenantId, campaignId });
    await step(s.t, 0);
    // A stray tick for a time that is not the channel's next tick does nothing.
    const stray = await s.t.mutation(internal.campaigns.tick, { channelId: s.w.cloudChannelId, at: 1 });
    expect(stray.claimed).toBe(0);
    // Two ticks for the same due time: the second finds nothing to claim.
    const row = await s.t.run((ctx) => ctx.db.query("channelDispatch").first());
    const due = row!.nextTickAt!;
    const [a, b] = await Promise.all([
      s.t.mutation(internal.campaigns.tick, { channelId: s.w.cloudChannelId, at: due }),
      s.t.mutation(internal.campaigns.tick, { channelId: s.w.cloudChannelId, at: due }),
    ]);
    expect(a.claimed + b.claimed).toBeLessThanOrEqual(30);
    for (let i = 0; i < 5; i++) await step(s.t);
    const messages = await s.t.run((ctx) => ctx.db.query("messages").collect());
    expect(messages).toHaveLength(30);
    expect(new Set(messages.map((m) => m.contactId)).size).toBe(30);
    expect(s.fake.sent).toHaveLength(30);
  });

  it("retries a recipient WhatsApp's marketing cap refused (131049) a day later, not as a failure", async () => {
    const s = await shop(2);
    const campaignId = await create(s);
    await s.owner.mutation(api.campaigns.launch, { tenantId: s.w.tenantId, campaignId });
    for (let i = 0; i < 3; i++) await step(s.t);
    const [capped, fine] = await wamids(s.t, campaignId);
    await statuses(s.t, [
      { wamid: capped, status: "failed", code: 131049 },
      { wamid: fine, status: "delivered" },
    ]);
    await step(s.t);
    const rows = await recipients(s.t, campaignId);
    expect(countsOf(rows)).toEqual({ pending: 1, delivered: 1 });
    expect(rows.find((r) => r.state === "pending")?.reason).toMatch(/marketing limit .* 24 hours/);
    expect((await view(s, campaignId)).state).toBe("running");
    await step(s.t, 24 * 60 * 60 * 1000);
    await step(s.t);
    expect(s.fake.sent).toHaveLength(3);
  });

  it("pauses with a reason when the workspace cannot pay for the next batch", async () => {
    const s = await shop(3);
    await s.t.run(async (ctx) => {
      await spanishMarketingRate(ctx);
      await euroWallet(ctx, s.w.tenantId, { balance: 0, markupBps: 0 });
    });
    const campaignId = await create(s);
    await s.owner.mutation(api.campaigns.launch, { tenantId: s.w.tenantId, campaignId });
    for (let i = 0; i < 3; i++) await step(s.t);
    const v = await view(s, campaignId);
    expect(v.state).toBe("paused");
    expect(v.stateReason).toMatch(/^Not enough credits to send the next 3 messages/);
    expect(s.fake.sent).toHaveLength(0);
  });

  it("refuses variables that do not fit the template, so error 132000 never reaches WhatsApp", async () => {
    const s = await shop(1);
    await expect(create(s, { variables: [{ source: "name" }] })).rejects.toThrow(
      /needs 2|2 values|parameter/i,
    );
  });

  it("pauses with the reason when Meta pauses the template or moves it to another category", async () => {
    const s = await shop(20);
    const campaignId = await create(s);
    await s.owner.mutation(api.campaigns.launch, { tenantId: s.w.tenantId, campaignId });
    // Meta pauses the template after the launch, before anything was sent.
    await s.t.run((ctx) =>
      ctx.db.patch("templates", s.templateId, { status: "PAUSED", reason: "LOW_QUALITY" }),
    );
    for (let i = 0; i < 3; i++) await step(s.t);
    expect(await view(s, campaignId)).toMatchObject({
      state: "paused",
      stateReason:
        "Template spring_sale is paused at WhatsApp (LOW_QUALITY): resume the campaign once it is approved again",
    });
    expect(s.fake.sent).toHaveLength(0);
    await s.t.run((ctx) =>
      ctx.db.patch("templates", s.templateId, {
        status: "APPROVED",
        categoryChange: { from: "UTILITY", to: "MARKETING", state: "changed", at: Date.now() },
      }),
    );
    await s.owner.mutation(api.campaigns.resume, { tenantId: s.w.tenantId, campaignId });
    for (let i = 0; i < 3; i++) await step(s.t);
    expect((await view(s, campaignId)).stateReason).toMatch(
      /moved template spring_sale from utility to marketing/,
    );
    expect(s.fake.sent).toHaveLength(0);
    await s.t.run(async (ctx) => {
      const template = (await ctx.db.get("templates", s.templateId))!;
      await ctx.db.patch("templates", s.templateId, {
        categoryChange: { ...template.categoryChange!, acknowledgedAt: Date.now() },
      });
    });
    await s.owner.mutation(api.campaigns.resume, { tenantId: s.w.tenantId, campaignId });
    for (let i = 0; i < 3; i++) await step(s.t);
    expect(s.fake.sent).toHaveLength(20);
  });

  it("stops before the next message when an owner pauses the workspace's sending", async () => {
    const s = await shop(40);
    const campaignId = await create(s);
    await dispatchRate(s, 10);
    await s.owner.mutation(api.campaigns.launch, { tenantId: s.w.tenantId, campaignId });
    for (let i = 0; i < 10 && s.fake.sent.length === 0; i++) await step(s.t, 100);
    await s.owner.mutation(api.sending.setPaused, {
      tenantId: s.w.tenantId,
      paused: true,
      reason: "Wrong price in the offer",
    });
    const claimed = (await view(s, campaignId)).counts.queued;
    for (let i = 0; i < 5; i++) await step(s.t);
    const v = await view(s, campaignId);
    expect(v.state).toBe("paused");
    expect(v.stateReason).toMatch(/^Sending is paused for this workspace by .*Wrong price in the offer/);
    // Nothing more was claimed, and what was claimed before and had not left waits instead of
    // leaving: held (still queued), or withdrawn back to pending by a slice that found the
    // campaign paused.
    const sent = s.fake.sent.length;
    expect(sent).toBeLessThanOrEqual(claimed);
    expect(v.counts.queued).toBeLessThanOrEqual(claimed);
    expect(v.counts.queued + v.counts.pending).toBe(40);
    for (let i = 0; i < 5; i++) await step(s.t);
    expect(s.fake.sent).toHaveLength(sent);
  });
});

describe("estimate", () => {
  it("checks the audience's first contacts as the dispatcher would and prices the sendable ones", async () => {
    const s = await shop(4);
    await s.t.run(async (ctx) => {
      await spanishMarketingRate(ctx);
      await ctx.db.patch("contacts", s.contacts[0]!, { optedOutAt: NOW - 1_000 });
      await ctx.db.patch("contacts", s.contacts[1]!, { name: undefined });
    });
    const args = {
      tenantId: s.w.tenantId,
      templateId: s.templateId,
      audience: { kind: "filter" as const, filter: { tag: "VIP" } },
    };
    const withoutFallback = await s.owner.query(api.campaigns.estimate, {
      ...args,
      variables: [{ source: "name" }, { source: "constant", value: "20%" }],
    });
    expect(withoutFallback).toEqual({
      sampled: 4,
      sendable: 2,
      excluded: expect.arrayContaining([
        { reason: "Opted out", count: 1 },
        { reason: "No value for {{1}}", count: 1 },
      ]),
      cost: 100_000,
      unpriced: 0,
      currency: "EUR",
      messagingLimit: { tier: null, limit: 250, used: 0, remaining: 250, needed: 2, waiting: 0 },
    });
    const withFallback = await s.owner.query(api.campaigns.estimate, {
      ...args,
      variables: [
        { source: "name", fallback: "amigo" },
        { source: "constant", value: "20%" },
      ],
    });
    expect(withFallback).toMatchObject({
      sendable: 3,
      cost: 150_000,
      excluded: [{ reason: "Opted out", count: 1 }],
    });
    // Nothing was frozen or sent by estimating.
    expect(s.fake.sent).toHaveLength(0);
  });
});

/** Each recipient's contact, number (as WhatsApp writes it) and message wamid, in contact order. */
async function sends(s: Shop, campaignId: Id<"campaigns">) {
  return await s.t.run(async (ctx) => {
    const out: { contactId: Id<"contacts">; waId: string; wamid: string | null }[] = [];
    for (const contactId of s.contacts) {
      const r = await ctx.db
        .query("campaignRecipients")
        .withIndex("by_campaign_contact", (q) => q.eq("campaignId", campaignId).eq("contactId", contactId))
        .first();
      const m = r?.messageId ? await ctx.db.get("messages", r.messageId) : null;
      const contact = (await ctx.db.get("contacts", contactId))!;
      out.push({ contactId, waId: contact.phone!.slice(1), wamid: m?.providerMessageId ?? null });
    }
    return out;
  });
}

async function auditActions(s: Shop, targetId: string) {
  return await s.t.run(async (ctx) =>
    (await ctx.db.query("auditEvents").collect()).filter((e) => e.targetId === targetId).map((e) => e.action),
  );
}

describe("duplicate", () => {
  it("makes a new draft with the same number, template, variables and audience, and records it", async () => {
    const s = await shop(3);
    const campaignId = await create(s, {
      audience: { kind: "contacts", contactIds: [s.contacts[0]!, s.contacts[2]!] },
    });
    await s.owner.mutation(api.campaigns.launch, { tenantId: s.w.tenantId, campaignId });
    for (let i = 0; i < 4; i++) await step(s.t);
    expect(s.fake.sent).toHaveLength(2);

    const copyId = await s.owner.mutation(api.campaigns.duplicate, { tenantId: s.w.tenantId, campaignId });
    expect(copyId).not.toBe(campaignId);
    const [original, copy] = await s.t.run(async (ctx) => [
      (await ctx.db.get("campaigns", campaignId))!,
      (await ctx.db.get("campaigns", copyId))!,
    ]);
    expect(copy).toMatchObject({
      name: "Copy of Spring sale",
      state: "draft",
      channelId: original.channelId,
      templateId: original.templateId,
      template: original.template,
      variables: original.variables,
      audience: original.audience,
      frozen: 0,
      batches: 0,
    });
    expect((await view(s, copyId)).counts.pending).toBe(0);
    expect(await auditActions(s, copyId)).toEqual(["campaign.duplicated"]);

    // The copy is a campaign of its own: launched, it sends to the same two contacts again.
    await s.owner.mutation(api.campaigns.launch, { tenantId: s.w.tenantId, campaignId: copyId });
    for (let i = 0; i < 4; i++) await step(s.t);
    expect(s.fake.sent.map((m) => m.body.to).sort()).toEqual([
      "34610000000",
      "34610000000",
      "34610000002",
      "34610000002",
    ]);
  });

  it("refuses a campaign of another workspace", async () => {
    const s = await shop(1);
    const campaignId = await create(s);
    const mallory = s.t.withIdentity({
      subject: "mallory@evil.test",
      issuer: ISSUER,
      email: "mallory@evil.test",
      name: "Mallory",
      emailVerified: true,
    });
    await mallory.mutation(api.users.ensure, {});
    const { tenantId: other } = await mallory.mutation(api.tenants.create, {
      name: "Evil",
      currency: "EUR",
      timeZone: "Europe/Madrid",
      defaultCountry: "ES",
    });
    await expect(mallory.mutation(api.campaigns.duplicate, { tenantId: other, campaignId })).rejects.toThrow(
      /No such campaign/,
    );
    await expect(
      mallory.mutation(api.campaigns.retryFailed, { tenantId: other, campaignId }),
    ).rejects.toThrow(/No such campaign/);
  });
});

describe("retry failed", () => {
  it("sends again, through the dispatcher, to those a second try can help, and moves the counters", async () => {
    const s = await shop(4);
    const campaignId = await create(s);
    await s.owner.mutation(api.campaigns.launch, { tenantId: s.w.tenantId, campaignId });
    for (let i = 0; i < 4; i++) await step(s.t);
    const before = await sends(s, campaignId);
    await statuses(s.t, [
      { wamid: before[0]!.wamid!, status: "failed", code: 131026 }, // not on WhatsApp: final
      { wamid: before[1]!.wamid!, status: "failed", code: 131000 }, // WhatsApp's error: worth a retry
      { wamid: before[2]!.wamid!, status: "failed", code: 131050 }, // stopped marketing: final
      { wamid: before[3]!.wamid!, status: "delivered" },
    ]);
    for (let i = 0; i < 8; i++) await step(s.t);
    expect(await view(s, campaignId)).toMatchObject({
      state: "completed",
      counts: { failed: 3, delivered: 1, pending: 0, queued: 0 },
    });
    expect(await s.owner.query(api.campaigns.retryable, { tenantId: s.w.tenantId, campaignId })).toEqual({
      retryable: 1,
      final: 2,
      capped: false,
    });

    const result = await s.owner.mutation(api.campaigns.retryFailed, { tenantId: s.w.tenantId, campaignId });
    expect(result).toEqual({ retried: 1, more: false });
    // Back to pending, not marked sent: the counters say so before anything leaves.
    expect(await view(s, campaignId)).toMatchObject({
      state: "running",
      finishedAt: null,
      counts: { failed: 2, pending: 1, delivered: 1 },
    });
    for (let i = 0; i < 4; i++) await step(s.t);
    // One new provider send, to the one that can be helped, with a new message.
    expect(s.fake.sent).toHaveLength(5);
    expect(s.fake.sent[4]!.body.to).toBe(before[1]!.waId);
    const after = await sends(s, campaignId);
    expect(after[1]!.wamid).not.toBe(before[1]!.wamid);
    expect(after[0]!.wamid).toBe(before[0]!.wamid);
    const old = await s.t.run(async (ctx) =>
      (await ctx.db.query("messages").collect()).find((m) => m.providerMessageId === before[1]!.wamid),
    );
    expect(old?.status).toBe("failed");
    expect((await view(s, campaignId)).counts).toMatchObject({ failed: 2, queued: 1, pending: 0 });

    await statuses(s.t, [{ wamid: after[1]!.wamid!, status: "delivered" }]);
    for (let i = 0; i < 8; i++) await step(s.t);
    const v = await view(s, campaignId);
    expect(v).toMatchObject({ state: "completed", counts: { failed: 2, delivered: 2, queued: 0 } });
    expect(countsOf(await recipients(s.t, campaignId))).toEqual({ failed: 2, delivered: 2 });
    expect(await auditActions(s, campaignId)).toContain("campaign.retried");
    // Nothing left a second try can help.
    await expect(
      s.owner.mutation(api.campaigns.retryFailed, { tenantId: s.w.tenantId, campaignId }),
    ).rejects.toThrow(/No failed recipient can be sent again/);
  });

  it("leaves a paused campaign paused: the retried recipients go out when it is resumed", async () => {
    const s = await shop(2);
    const campaignId = await create(s);
    await s.owner.mutation(api.campaigns.launch, { tenantId: s.w.tenantId, campaignId });
    for (let i = 0; i < 4; i++) await step(s.t);
    const before = await sends(s, campaignId);
    await statuses(s.t, [
      { wamid: before[0]!.wamid!, status: "failed", code: 131000 },
      { wamid: before[1]!.wamid!, status: "failed", code: 131000 },
    ]);
    await step(s.t);
    await s.owner.mutation(api.campaigns.pause, { tenantId: s.w.tenantId, campaignId });
    await s.owner.mutation(api.campaigns.retryFailed, { tenantId: s.w.tenantId, campaignId });
    for (let i = 0; i < 4; i++) await step(s.t);
    expect(s.fake.sent).toHaveLength(2);
    expect(await view(s, campaignId)).toMatchObject({ state: "paused", counts: { pending: 2 } });
    await s.owner.mutation(api.campaigns.resume, { tenantId: s.w.tenantId, campaignId });
    for (let i = 0; i < 4; i++) await step(s.t);
    expect(s.fake.sent).toHaveLength(4);
  });

  it("refuses a draft or cancelled campaign", async () => {
    const s = await shop(1);
    const campaignId = await create(s);
    await expect(
      s.owner.mutation(api.campaigns.retryFailed, { tenantId: s.w.tenantId, campaignId }),
    ).rejects.toThrow(/The campaign is draft/);
  });
});

describe("replies", () => {
  it("counts a recipient who writes back after their message was sent, once", async () => {
    const s = await shop(4);
    const campaignId = await create(s, {
      audience: { kind: "contacts", contactIds: s.contacts.slice(0, 3) },
    });
    // Before any campaign message, a message from a contact is no reply.
    await inbound(s.t, "34610000000", "wamid.before");
    await s.owner.mutation(api.campaigns.launch, { tenantId: s.w.tenantId, campaignId });
    for (let i = 0; i < 4; i++) await step(s.t);
    const sent = await sends(s, campaignId);
    await statuses(s.t, [
      { wamid: sent[0]!.wamid!, status: "delivered" },
      { wamid: sent[1]!.wamid!, status: "read" },
      { wamid: sent[2]!.wamid!, status: "failed", code: 131000 },
    ]);
    await step(s.t);
    await inbound(s.t, sent[0]!.waId, "wamid.r1");
    await inbound(s.t, sent[0]!.waId, "wamid.r2", "And in 5 litres?");
    await inbound(s.t, sent[1]!.waId, "wamid.r3");
    await inbound(s.t, sent[2]!.waId, "wamid.r4"); // their message failed: no reply to it
    await inbound(s.t, "34610000003", "wamid.r5"); // not in this campaign
    await step(s.t);
    expect((await view(s, campaignId)).replied).toBe(2);
    const replied = await s.owner.query(api.campaigns.recipients, {
      tenantId: s.w.tenantId,
      campaignId,
      state: "replied",
      paginationOpts: { numItems: 10, cursor: null },
    });
    expect(replied.page.map((r) => r.contactId).sort()).toEqual(
      [sent[0]!.contactId, sent[1]!.contactId].sort(),
    );
    expect(replied.page.every((r) => r.repliedAt !== null)).toBe(true);
  });
});

describe("replies to more than one campaign", () => {
  it("counts a reply for each of the person's recent campaigns, not only the latest", async () => {
    const s = await shop(2);
    const first = await create(s, { name: "First", audience: { kind: "contacts", contactIds: s.contacts } });
    await s.owner.mutation(api.campaigns.launch, { tenantId: s.w.tenantId, campaignId: first });
    for (let i = 0; i < 4; i++) await step(s.t);
    await step(s.t, 60 * 60 * 1000);
    const second = await create(s, {
      name: "Second",
      audience: { kind: "contacts", contactIds: [s.contacts[0]] },
    });
    await s.owner.mutation(api.campaigns.launch, { tenantId: s.w.tenantId, campaignId: second });
    for (let i = 0; i < 4; i++) await step(s.t);
    const [a, b] = await sends(s, first);
    const [c] = await sends(s, second);
    await statuses(
      s.t,
      [a, b, c].map((m) => ({ wamid: m!.wamid!, status: "delivered" })),
    );
    await step(s.t);
    // The first person got both campaigns: their message counts for both, once each.
    await inbound(s.t, a!.waId, "wamid.both");
    await inbound(s.t, a!.waId, "wamid.both-again");
    await inbound(s.t, b!.waId, "wamid.first-only");
    await step(s.t);
    expect((await view(s, first)).replied).toBe(2);
    expect((await view(s, second)).replied).toBe(1);
  });
});

describe("cost", () => {
  it("shows the settled charges of its messages, and prices the pending ones from the rate card", async () => {
    const s = await shop(3);
    await s.t.run(async (ctx) => {
      await spanishMarketingRate(ctx);
      await euroWallet(ctx, s.w.tenantId, { balance: 10_000_000, markupBps: 1000 });
    });
    // One message a second, so some wait.
    await dispatchRate(s, 1);
    const campaignId = await create(s);
    const outlook = () => s.owner.query(api.campaigns.outlook, { tenantId: s.w.tenantId, campaignId });
    await s.owner.mutation(api.campaigns.launch, { tenantId: s.w.tenantId, campaignId });
    await step(s.t, 0);
    await step(s.t, 0);
    const early = await outlook();
    expect(early).toMatchObject({ currency: "EUR", settled: 0, rate: 1, maxRate: 1, unpriced: 0 });
    // 0.05 plus the 10% markup, for each pending recipient.
    expect(early.pricePerRecipient).toBe(55_000);
    expect(early.sampled).toBe((await view(s, campaignId)).counts.pending);
    expect(early.sampled).toBeGreaterThan(0);

    for (let i = 0; i < 6; i++) await step(s.t);
    expect(s.fake.sent).toHaveLength(3);
    const sent = await sends(s, campaignId);
    const pricing = { billable: true, pricing_model: "PMP", type: "regular", category: "marketing" };
    await statuses(s.t, [
      { wamid: sent[0]!.wamid!, status: "delivered", pricing },
      { wamid: sent[1]!.wamid!, status: "delivered", pricing },
      { wamid: sent[2]!.wamid!, status: "failed", code: 131000 },
    ]);
    await step(s.t);
    await s.t.mutation(internal.billing.settlePending, {});
    expect(await outlook()).toMatchObject({ settled: 110_000, pricePerRecipient: null, sampled: 0 });
    // Settling again charges nothing more.
    await s.t.mutation(internal.billing.settlePending, {});
    expect((await outlook()).settled).toBe(110_000);
  });
});

describe("recipients drill-down", () => {
  it("pages through everyone or one state, with reasons and error codes", async () => {
    const s = await shop(5);
    await s.t.run((ctx) => ctx.db.patch("contacts", s.contacts[4]!, { name: undefined }));
    const campaignId = await create(s);
    await s.owner.mutation(api.campaigns.launch, { tenantId: s.w.tenantId, campaignId });
    for (let i = 0; i < 4; i++) await step(s.t);
    const sent = await sends(s, campaignId);
    await statuses(s.t, [{ wamid: sent[0]!.wamid!, status: "failed", code: 131026 }]);
    await step(s.t);
    const page = (state: FunctionArgs<typeof api.campaigns.recipients>["state"], cursor: string | null) =>
      s.owner.query(api.campaigns.recipients, {
        tenantId: s.w.tenantId,
        campaignId,
        state,
        paginationOpts: { numItems: 3, cursor },
      });
    const first = await page("all", null);
    expect(first.page).toHaveLength(3);
    expect(first.isDone).toBe(false);
    const second = await page("all", first.continueCursor);
    const everyone = [...first.page, ...second.page];
    expect(new Set(everyone.map((r) => r.contactId)).size).toBe(5);
    const failed = await page("failed", null);
    expect(failed.page).toEqual([
      expect.objectContaining({ contactId: s.contacts[0], state: "failed", errorCode: 131026 }),
    ]);
    const skipped = await page("skipped", null);
    expect(skipped.page).toEqual([
      expect.objectContaining({ contactId: s.contacts[4], reason: "No value for {{1}}", errorCode: null }),
    ]);
    expect((await page("queued", null)).page).toHaveLength(3);
  });
});
