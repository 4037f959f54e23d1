/**
 * The send pipeline and the inbox actions: intent before the provider call, one provider call per
 * attempt, retries with backoff for transient failures, permanent failures with their reason,
 * the 24-hour window, consent, and who answers a conversation.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { recordConsent } from "../../convex/model/contactConsent";
import { retryDelay } from "../../convex/model/outbound";
import { errorOf, setup, snapshot, type T } from "./factories";
import { fakeProviders, type FakeProviders } from "./fake-providers";
import {
  cloud,
  postCloud,
  settle as drain,
  signedInAs,
  stubWhatsAppEnv,
  world,
  type World,
} from "./whatsapp-helpers";

const NOW = new Date("2024-06-03T16:05:00Z");

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(NOW);
  stubWhatsAppEnv();
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
  vi.unstubAllGlobals();
});

type Inbox = {
  t: T;
  w: World;
  fake: FakeProviders;
  agent: ReturnType<T["withIdentity"]>;
  conversationId: Id<"conversations">;
  contactId: Id<"contacts">;
};

/** A tenant whose customer wrote at 16:00 (the fixture), and an agent signed in. */
async function inbox(): Promise<Inbox> {
  const { t } = setup();
  const fake = fakeProviders();
  const w = await world(t);
  await postCloud(t, cloud("message-text"));
  await drain(t);
  const agent = await signedInAs(t, w, "agent");
  const { conversationId, contactId } = await t.run(async (ctx) => {
    const c = (await ctx.db.query("conversations").first())!;
    return { conversationId: c._id, contactId: c.contactId };
  });
  return { t, w, fake, agent, conversationId, contactId };
}

const message = (t: T, id: Id<"messages">) => t.run((ctx) => ctx.db.get("messages", id));
const conversation = (t: T, id: Id<"conversations">) => t.run((ctx) => ctx.db.get("conversations", id));

describe("sending a reply", () => {
  it("writes the intent, calls the provider once with our id as callback data, and ties the wamid back", async () => {
    const { t, w, fake, agent, conversationId } = await inbox();
    const id = await agent.mutation(api.conversations.reply, {
      tenantId: w.tenantId,
      conversationId,
      text: " Hello! ",
    });
    // Before delivery: the intent exists, nothing has been sent.
    expect(await message(t, id)).toMatchObject({
      status: "queued",
      origin: "agent",
      authorId: w.userId,
      text: "Hello!",
    });
    expect(fake.sent).toEqual([]);
    await drain(t);
    expect(fake.sent).toHaveLength(1);
    expect(fake.sent[0].body).toMatchObject({
      messaging_product: "whatsapp",
      to: "16505551234",
      type: "text",
      text: { body: "Hello!" },
      biz_opaque_callback_data: id,
    });
    expect(await message(t, id)).toMatchObject({
      status: "sending",
      providerMessageId: "wamid.FAKE1",
      attempts: 1,
    });
    // The agent's reply puts a person in charge.
    expect(await conversation(t, conversationId)).toMatchObject({
      state: "human",
      assigneeId: w.userId,
      unread: 0,
    });
    // A second delivery of the same message (a duplicated job) does not call the provider again.
    await t.action(internal.outbound.deliver, { messageId: id });
    expect(fake.sent).toHaveLength(1);
  });

  it("refuses free-form text once the 24-hour window has closed, writing nothing", async () => {
    const { t, w, agent, conversationId } = await inbox();
    vi.setSystemTime(new Date("2024-06-04T16:00:00Z"));
    const before = await snapshot(t);
    const error = await errorOf(
      agent.mutation(api.conversations.reply, { tenantId: w.tenantId, conversationId, text: "Hi" }),
    );
    expect(error.code).toBe("OUTSIDE_WINDOW");
    expect(error.message).toMatch(/window closed 2024-06-04 16:00 UTC: send an approved template instead/);
    expect(await snapshot(t)).toEqual(before);
  });

  it("retries transient failures with backoff and gets the message out", async () => {
    const { t, w, fake, agent, conversationId } = await inbox();
    fake.failNextSends(
      { status: 503, message: "Service Unavailable" },
      { status: 429, code: 130429, message: "Rate limit hit" },
    );
    const id = await agent.mutation(api.conversations.reply, {
      tenantId: w.tenantId,
      conversationId,
      text: "Hello",
    });
    await t.action(internal.outbound.deliver, { messageId: id });
    expect(await message(t, id)).toMatchObject({
      status: "queued",
      attempts: 1,
      errorClass: "retryable",
      errorMessage: expect.stringMatching(/attempt 1 of 5; trying again/),
    });
    await drain(t);
    expect(fake.sent).toHaveLength(3);
    const sent = await message(t, id);
    expect(sent).toMatchObject({ status: "sending", attempts: 3, providerMessageId: "wamid.FAKE1" });
    expect(sent?.errorMessage).toBeUndefined();
  });

  it("gives up after five transient failures, saying so", async () => {
    const { t, w, fake, agent, conversationId } = await inbox();
    fake.failNextSends(...Array.from({ length: 5 }, () => ({ status: 500, message: "Internal error" })));
    const id = await agent.mutation(api.conversations.reply, {
      tenantId: w.tenantId,
      conversationId,
      text: "Hello",
    });
    await drain(t);
    expect(fake.sent).toHaveLength(5);
    expect(await message(t, id)).toMatchObject({
      status: "failed",
      attempts: 5,
      errorMessage: expect.stringMatching(/gave up after 5 attempts/),
    });
  });

  it("fails a permanent error at once with its code and reason", async () => {
    const { t, w, fake, agent, conversationId } = await inbox();
    fake.failNextSends({ status: 400, code: 131026, message: "Message Undeliverable." });
    const id = await agent.mutation(api.conversations.reply, {
      tenantId: w.tenantId,
      conversationId,
      text: "Hello",
    });
    await drain(t);
    expect(fake.sent).toHaveLength(1);
    expect(await message(t, id)).toMatchObject({
      status: "failed",
      errorCode: 131026,
      errorClass: "permanent",
      errorMessage: "Message Undeliverable.",
    });
  });

  it("records error 131050 as the contact's marketing stop: marketing templates are refused, replies and utility templates go", async () => {
    const { t, w, fake, agent, conversationId, contactId } = await inbox();
    fake.failNextSends({ status: 400, code: 131050, message: "User has stopped marketing messages" });
    await agent.mutation(api.conversations.reply, { tenantId: w.tenantId, conversationId, text: "Offer" });
    await drain(t);
    const history = await t.run((ctx) => ctx.db.query("consentEvents").collect());
    expect(history).toMatchObject([
      { contactId, kind: "opt_out", source: "error_131050", scope: "marketing" },
    ]);
    const contact = await t.run((ctx) => ctx.db.get("contacts", contactId));
    expect(contact?.marketingOptedOutAt).toEqual(expect.any(Number));
    expect(contact?.optedOutAt).toBeUndefined();
    const template = async (name: string, category: string) =>
      await t.run((ctx) =>
        ctx.db.insert("templates", {
          tenantId: w.tenantId,
          channelId: w.cloudChannelId,
          name,
          language: "en_US",
          category,
          status: "APPROVED",
          updatedAt: 1,
        }),
      );
    const promo = await template("spring_sale", "MARKETING");
    const receipt = await template("order_update", "UTILITY");
    const refused = await errorOf(
      agent.mutation(api.conversations.sendTemplate, {
        tenantId: w.tenantId,
        conversationId,
        templateId: promo,
      }),
    );
    expect(refused.code).toBe("OPTED_OUT");
    expect(refused.message).toMatch(/stopped marketing messages .*replies and utility templates still are/);
    await agent.mutation(api.conversations.sendTemplate, {
      tenantId: w.tenantId,
      conversationId,
      templateId: receipt,
    });
    await agent.mutation(api.conversations.reply, {
      tenantId: w.tenantId,
      conversationId,
      text: "Your order shipped",
    });
    const view = await agent.query(api.conversations.get, { tenantId: w.tenantId, conversationId });
    expect(view).toMatchObject({ optedOut: false, marketingOptedOut: true });
  });

  it("a STOP blocks everything but replies to what the customer writes afterwards; START lifts it and a marketing stop too", async () => {
    const { t, w, agent, conversationId, contactId } = await inbox();
    await t.run(async (ctx) => {
      const base = { tenantId: w.tenantId, contactId, at: Date.now() - 60_000 };
      await recordConsent(ctx, { ...base, kind: "opt_out", source: "error_131050", scope: "marketing" });
      await recordConsent(ctx, { ...base, kind: "opt_out", source: "keyword" });
    });
    const refused = await errorOf(
      agent.mutation(api.conversations.reply, { tenantId: w.tenantId, conversationId, text: "Again" }),
    );
    expect(refused.code).toBe("OPTED_OUT");
    // A customer who writes again after opting out can be answered.
    vi.setSystemTime(new Date("2024-06-03T16:30:00Z"));
    await postCloud(
      t,
      cloud("message-text")
        .replace(/"timestamp": "\d+"/, `"timestamp": "${Date.parse("2024-06-03T16:29:00Z") / 1000}"`)
        .replace(/wamid\.[A-Za-z0-9]+/, "wamid.AFTEROPTOUT"),
    );
    await drain(t);
    await agent.mutation(api.conversations.reply, {
      tenantId: w.tenantId,
      conversationId,
      text: "How can I help?",
    });
    // An opt-in of everything clears both; a marketing resume alone never lifts a STOP.
    await t.run(async (ctx) => {
      const base = { tenantId: w.tenantId, contactId };
      expect(
        await recordConsent(ctx, { ...base, kind: "opt_in", source: "user_preferences", scope: "marketing" }),
      ).toBe(true);
      const after = (await ctx.db.get("contacts", contactId))!;
      expect(after.optedOutAt).toEqual(expect.any(Number));
      expect(after.marketingOptedOutAt).toBeUndefined();
      await recordConsent(ctx, { ...base, kind: "opt_out", source: "user_preferences", scope: "marketing" });
      expect(await recordConsent(ctx, { ...base, kind: "opt_in", source: "keyword" })).toBe(true);
      const cleared = (await ctx.db.get("contacts", contactId))!;
      expect([cleared.optedOutAt, cleared.marketingOptedOutAt]).toEqual([undefined, undefined]);
      expect(await recordConsent(ctx, { ...base, kind: "opt_in", source: "keyword" })).toBe(false);
    });
  });

  it("backs off exponentially with jitter, never less than the provider asked", () => {
    expect(retryDelay(1, undefined, () => 0)).toBe(1_000);
    expect(retryDelay(1, undefined, () => 1)).toBe(2_000);
    expect(retryDelay(3, undefined, () => 1)).toBe(8_000);
    expect(retryDelay(20, undefined, () => 1)).toBe(300_000);
    expect(retryDelay(1, 60_000, () => 0)).toBe(60_000);
  });
});

describe("who answers a conversation", () => {
  it("counts unread inbound messages, and take-over, hand-back, assign and close change it for everyone", async () => {
    const { t, w, agent, conversationId } = await inbox();
    const row = async () =>
      (await agent.query(api.conversations.get, { tenantId: w.tenantId, conversationId }))!;
    expect(await row()).toMatchObject({
      state: "bot",
      unread: 1,
      windowOpen: true,
      contactPhone: "+16505551234",
    });
    await agent.mutation(api.conversations.markRead, { tenantId: w.tenantId, conversationId });
    await agent.mutation(api.conversations.takeOver, { tenantId: w.tenantId, conversationId });
    expect(await row()).toMatchObject({ state: "human", unread: 0, assigneeName: "Owner" });
    await agent.mutation(api.conversations.handBack, { tenantId: w.tenantId, conversationId });
    expect(await row()).toMatchObject({ state: "bot" });
    await agent.mutation(api.conversations.assign, { tenantId: w.tenantId, conversationId, userId: null });
    expect(await row()).toMatchObject({ assigneeId: null });
    await agent.mutation(api.conversations.close, { tenantId: w.tenantId, conversationId });
    expect(await row()).toMatchObject({ state: "closed" });
    const waiting = await agent.query(api.conversations.list, {
      tenantId: w.tenantId,
      state: "closed",
      paginationOpts: { numItems: 10, cursor: null },
    });
    expect(waiting.page.map((c) => c.conversationId)).toEqual([conversationId]);
    const actions = (await t.run((ctx) => ctx.db.query("auditEvents").collect())).map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        "conversation.taken_over",
        "conversation.handed_back",
        "conversation.assigned",
        "conversation.closed",
      ]),
    );
  });

  it("lists the thread with who wrote what", async () => {
    const { t, w, agent, conversationId } = await inbox();
    await agent.mutation(api.conversations.reply, {
      tenantId: w.tenantId,
      conversationId,
      text: "Hi, Owner here",
    });
    await drain(t);
    const thread = await agent.query(api.conversations.messages, {
      tenantId: w.tenantId,
      conversationId,
      paginationOpts: { numItems: 10, cursor: null },
    });
    expect(thread.page.map((m) => [m.direction, m.origin, m.authorName])).toEqual([
      ["out", "agent", "Owner"],
      ["in", null, null],
    ]);
  });
});
