/**
 * Kill switches (decision 021): who may flip which, the audit trail in both logs, new messages
 * refused while paused, messages queued before the switch held (not failed, not sent) and sent
 * exactly once after resume, the global switch winning over the workspace's, and what happens to
 * consent confirmations and the assistant while sending is paused.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { OPT_OUT_CONFIRMATION } from "../../convex/model/assistant/turns";
import { RELEASE_BATCH, sendingBlock } from "../../convex/model/sending";
import { errorOf, expectCode, setup, signUp, snapshot, type Client, type T } from "./factories";
import { fakeProviders, type FakeProviders } from "./fake-providers";
import { cloud, postCloud, settle as drain, stubWhatsAppEnv, world, type World } from "./whatsapp-helpers";

const NOW = new Date("2024-06-03T16:05:00Z");

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(NOW);
  stubWhatsAppEnv();
  vi.stubEnv("PLATFORM_ADMIN_EMAILS", "root@platform.test");
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
  vi.unstubAllGlobals();
});

type Shop = {
  t: T;
  w: World;
  fake: FakeProviders;
  owner: Client;
  admin: Client;
  agent: Client;
  root: Client;
  conversationId: Id<"conversations">;
};

/** A workspace whose customer wrote at 16:00, its owner, an admin, an agent, and a platform admin. */
async function shop(options: { assistant?: boolean } = {}): Promise<Shop> {
  const { t, as } = setup();
  const fake = fakeProviders();
  const w = await world(t, options);
  await postCloud(t, cloud("message-text"));
  await drain(t);
  const owner = await signUp(as, "owner@acme.test");
  const admin = await signUp(as, "adam@acme.test");
  const agent = await signUp(as, "agnes@acme.test");
  const root = await signUp(as, "root@platform.test");
  const conversationId = await t.run(async (ctx) => {
    for (const [userId, role] of [
      [owner.userId, "owner"],
      [admin.userId, "admin"],
      [agent.userId, "agent"],
    ] as const)
      await ctx.db.insert("memberships", { tenantId: w.tenantId, userId, role, createdAt: 1 });
    return (await ctx.db.query("conversations").first())!._id;
  });
  return {
    t,
    w,
    fake,
    owner: owner.client,
    admin: admin.client,
    agent: agent.client,
    root: root.client,
    conversationId,
  };
}

const reply = (s: Shop, text = "Hello!") =>
  s.agent.mutation(api.conversations.reply, {
    tenantId: s.w.tenantId,
    conversationId: s.conversationId,
    text,
  });
const pause = (s: Shop, reason = "A campaign went out with the wrong price") =>
  s.owner.mutation(api.sending.setPaused, { tenantId: s.w.tenantId, paused: true, reason });
const resume = (s: Shop, reason = "Price fixed") =>
  s.owner.mutation(api.sending.setPaused, { tenantId: s.w.tenantId, paused: false, reason });
const message = (t: T, id: Id<"messages">) => t.run((ctx) => ctx.db.get("messages", id));
const held = (t: T) => t.run((ctx) => ctx.db.query("heldMessages").collect());
const audit = (t: T) =>
  t.run(async (ctx) =>
    (await ctx.db.query("auditEvents").collect())
      .filter((e) => e.action.startsWith("sending."))
      .map((e) => ({
        scope: e.scope,
        tenantId: e.tenantId,
        actor: e.actorEmail,
        action: e.action,
        summary: e.summary,
      })),
  );

describe("who may flip which switch", () => {
  it("lets owners pause and resume their workspace; admins, agents and platform admins (through it) may not", async () => {
    const s = await shop();
    const args = { tenantId: s.w.tenantId, paused: true, reason: "Checking a complaint" };
    for (const client of [s.admin, s.agent]) {
      const error = await expectCode(client.mutation(api.sending.setPaused, args), "FORBIDDEN");
      expect(error.message).toContain("owner");
    }
    // Platform admins act on a workspace from the admin pages, not as members.
    await expectCode(s.root.mutation(api.sending.setPaused, args), "NOT_FOUND");
    await expectCode(
      s.owner.mutation(api.sending.setPaused, { ...args, reason: " x " }),
      "INVALID",
      "reason",
    );
    expect(await s.owner.mutation(api.sending.setPaused, args)).toEqual({
      tenant: {
        reason: "Checking a complaint",
        since: NOW.getTime(),
        by: "owner@acme.test",
        byPlatform: false,
      },
    });
    // Every member sees it, for the banner.
    expect(await s.agent.query(api.sending.status, { tenantId: s.w.tenantId })).toEqual({
      global: null,
      tenant: {
        reason: "Checking a complaint",
        since: NOW.getTime(),
        by: "owner@acme.test",
        byPlatform: false,
      },
    });
    await s.owner.mutation(api.sending.setPaused, { ...args, paused: false, reason: "All clear" });
    expect(await s.agent.query(api.sending.status, { tenantId: s.w.tenantId })).toEqual({
      global: null,
      tenant: null,
    });
  });

  it("keeps the global switch and the per-workspace admin switch to platform admins", async () => {
    const s = await shop();
    for (const client of [s.owner, s.admin, s.agent]) {
      await expectCode(
        client.mutation(api.sending.setGlobalPaused, { paused: true, reason: "Incident" }),
        "FORBIDDEN",
      );
      await expectCode(
        client.mutation(api.sending.setTenantPaused, {
          tenantId: s.w.tenantId,
          paused: true,
          reason: "Abuse",
        }),
        "FORBIDDEN",
      );
      await expectCode(client.query(api.sending.globalStatus, {}), "FORBIDDEN");
    }
    await expectCode(
      s.root.mutation(api.sending.setGlobalPaused, { paused: true, reason: "" }),
      "INVALID",
      "reason",
    );
    const paused = await s.root.mutation(api.sending.setGlobalPaused, {
      paused: true,
      reason: "Provider incident",
    });
    expect(paused.global).toMatchObject({ by: "root@platform.test", byPlatform: true });
    expect(await s.root.query(api.sending.globalStatus, {})).toEqual(paused);
    // Workspace members see who in general terms, never the admin's address.
    expect(await s.agent.query(api.sending.status, { tenantId: s.w.tenantId })).toEqual({
      global: {
        reason: "Provider incident",
        since: NOW.getTime(),
        by: "the platform team",
        byPlatform: true,
      },
      tenant: null,
    });
  });

  it("a platform admin's pause of a workspace is lifted only by a platform admin; theirs lifts an owner's", async () => {
    const s = await shop();
    await s.root.mutation(api.sending.setTenantPaused, {
      tenantId: s.w.tenantId,
      paused: true,
      reason: "Spam complaints under review",
    });
    const refused = await expectCode(resume(s), "FORBIDDEN");
    expect(refused.message).toMatch(
      /paused by the platform team \(Spam complaints under review\): only they/,
    );
    const page = await s.root.query(api.admin.listTenants, {
      paginationOpts: { numItems: 10, cursor: null },
    });
    expect(page.page[0].sendingPaused).toMatchObject({ by: "root@platform.test", byPlatform: true });
    await s.root.mutation(api.sending.setTenantPaused, {
      tenantId: s.w.tenantId,
      paused: false,
      reason: "Reviewed",
    });
    expect((await s.root.query(api.admin.tenant, { tenantId: s.w.tenantId }))?.sendingPaused).toBeNull();

    await pause(s);
    await s.root.mutation(api.sending.setTenantPaused, {
      tenantId: s.w.tenantId,
      paused: false,
      reason: "Owner asked",
    });
    expect(await s.owner.query(api.sending.status, { tenantId: s.w.tenantId })).toMatchObject({
      tenant: null,
    });
  });
});

describe("the audit trail", () => {
  it("records each change with its reason: workspace changes in both logs, global ones in the platform's", async () => {
    const s = await shop();
    await pause(s);
    await pause(s); // already paused: no change, no event
    await vi.advanceTimersByTimeAsync(60_000);
    await resume(s);
    await s.root.mutation(api.sending.setTenantPaused, {
      tenantId: s.w.tenantId,
      paused: true,
      reason: "Abuse report",
    });
    await s.root.mutation(api.sending.setGlobalPaused, { paused: true, reason: "Provider incident" });
    await s.root.mutation(api.sending.setGlobalPaused, { paused: false, reason: "Provider recovered" });
    const tenantId = s.w.tenantId;
    expect(await audit(s.t)).toEqual([
      {
        scope: "tenant",
        tenantId,
        actor: "owner@acme.test",
        action: "sending.paused",
        summary: "Paused sending for the workspace: A campaign went out with the wrong price",
      },
      {
        scope: "tenant",
        tenantId,
        actor: "owner@acme.test",
        action: "sending.resumed",
        summary:
          "Resumed sending for the workspace (paused since 2024-06-03 16:05 UTC by owner@acme.test): Price fixed",
      },
      {
        scope: "tenant",
        tenantId,
        actor: "root@platform.test",
        action: "sending.paused",
        summary: "Paused sending for the workspace (platform admin): Abuse report",
      },
      {
        scope: "platform",
        tenantId: undefined,
        actor: "root@platform.test",
        action: "sending.global_paused",
        summary: "Paused sending on the whole platform: Provider incident",
      },
      {
        scope: "platform",
        tenantId: undefined,
        actor: "root@platform.test",
        action: "sending.global_resumed",
        summary:
          "Resumed sending on the whole platform (paused since 2024-06-03 16:06 UTC by root@platform.test): Provider recovered",
      },
    ]);
    const page = { numItems: 20, cursor: null };
    const tenantLog = await s.owner.query(api.audit.listForTenant, { tenantId, paginationOpts: page });
    expect(tenantLog.page.map((e) => [e.action, e.actorEmail])).toEqual([
      ["sending.paused", "root@platform.test"],
      ["sending.resumed", "owner@acme.test"],
      ["sending.paused", "owner@acme.test"],
    ]);
    const platformLog = await s.root.query(api.audit.listAll, { paginationOpts: page });
    expect(
      platformLog.page
        .filter((e) => e.action.startsWith("sending."))
        .map((e) => [e.action, e.tenantName ?? null]),
    ).toEqual([
      ["sending.global_resumed", null],
      ["sending.global_paused", null],
      ["sending.paused", "Acme Shoes"],
      ["sending.resumed", "Acme Shoes"],
      ["sending.paused", "Acme Shoes"],
    ]);
  });
});

describe("new messages while sending is paused", () => {
  it("refuses agent replies and templates with who paused, since when and why, writing nothing", async () => {
    const s = await shop();
    await pause(s);
    const templateId = await s.t.run((ctx) =>
      ctx.db.insert("templates", {
        tenantId: s.w.tenantId,
        channelId: s.w.cloudChannelId,
        name: "order_update",
        language: "en_US",
        category: "UTILITY",
        status: "APPROVED",
        updatedAt: 1,
      }),
    );
    const before = await snapshot(s.t);
    const refused = await errorOf(reply(s));
    expect(refused).toEqual({
      code: "SENDING_PAUSED",
      message:
        "Sending is paused for this workspace by owner@acme.test since 2024-06-03 16:05 UTC: A campaign went out with the wrong price (an owner can resume it in Settings)",
    });
    await expectCode(
      s.agent.mutation(api.conversations.sendTemplate, {
        tenantId: s.w.tenantId,
        conversationId: s.conversationId,
        templateId,
      }),
      "SENDING_PAUSED",
    );
    expect(await snapshot(s.t)).toEqual(before);
    await resume(s);
    await reply(s);
    await drain(s.t);
    expect(s.fake.sent).toHaveLength(1);
  });

  it("names the platform team when the global switch is off", async () => {
    const s = await shop();
    await s.root.mutation(api.sending.setGlobalPaused, { paused: true, reason: "Provider incident" });
    const refused = await errorOf(reply(s));
    expect(refused.code).toBe("SENDING_PAUSED");
    expect(refused.message).toBe(
      "Sending is paused on the whole platform by the platform team since 2024-06-03 16:05 UTC: Provider incident",
    );
  });
});

describe("messages queued before the switch flipped", () => {
  it("are held, not sent and not failed, and go out exactly once when sending resumes", async () => {
    const s = await shop();
    const id = await reply(s);
    expect(await message(s.t, id)).toMatchObject({ status: "queued" });
    await pause(s);
    await drain(s.t);
    expect(s.fake.sent).toEqual([]);
    const stopped = await message(s.t, id);
    expect(stopped).toMatchObject({ status: "queued", heldAt: NOW.getTime(), attempts: 0 });
    expect(stopped?.errorMessage).toMatch(/^Held: Sending is paused for this workspace by owner@acme\.test/);
    expect(await held(s.t)).toMatchObject([{ messageId: id, tenantId: s.w.tenantId }]);
    // A duplicated delivery job while paused changes nothing and lists it once.
    await s.t.action(internal.outbound.deliver, { messageId: id });
    expect(await held(s.t)).toHaveLength(1);
    expect(s.fake.sent).toEqual([]);

    await resume(s);
    await drain(s.t);
    expect(s.fake.sent).toHaveLength(1);
    expect(s.fake.sent[0].body).toMatchObject({ text: { body: "Hello!" }, biz_opaque_callback_data: id });
    const sent = await message(s.t, id);
    expect(sent).toMatchObject({ status: "sending", providerMessageId: "wamid.FAKE1", attempts: 1 });
    expect(sent?.heldAt).toBeUndefined();
    expect(sent?.errorMessage).toBeUndefined();
    expect(await held(s.t)).toEqual([]);
    // Nothing sends it again.
    await s.t.action(internal.outbound.deliver, { messageId: id });
    await s.t.mutation(internal.sending.releaseHeld, { tenantId: s.w.tenantId });
    await drain(s.t);
    expect(s.fake.sent).toHaveLength(1);
  });

  it("holds a retry waiting on its backoff too", async () => {
    const s = await shop();
    s.fake.failNextSends({ status: 500, message: "Internal error" });
    const id = await reply(s);
    await s.t.action(internal.outbound.deliver, { messageId: id });
    expect(await message(s.t, id)).toMatchObject({ status: "queued", attempts: 1 });
    await pause(s);
    await drain(s.t);
    expect(s.fake.sent).toHaveLength(1);
    expect(await message(s.t, id)).toMatchObject({ status: "queued", heldAt: expect.any(Number) });
    await resume(s);
    await drain(s.t);
    expect(s.fake.sent).toHaveLength(2);
    expect(await message(s.t, id)).toMatchObject({ status: "sending", attempts: 2 });
  });

  it(`releases more than one batch (${RELEASE_BATCH}) of held messages`, async () => {
    const s = await shop();
    const count = RELEASE_BATCH + 20;
    const ids = await s.t.run(async (ctx) => {
      const c = (await ctx.db.get("conversations", s.conversationId))!;
      const out: Id<"messages">[] = [];
      for (let i = 0; i < count; i++)
        out.push(
          await ctx.db.insert("messages", {
            tenantId: c.tenantId,
            channelId: c.channelId,
            conversationId: c._id,
            contactId: c.contactId,
            direction: "out",
            type: "text",
            text: `Message ${i}`,
            status: "queued",
            statusAt: 1,
            origin: "campaign",
            attempts: 0,
            createdAt: 1,
          }),
        );
      return out;
    });
    await pause(s);
    for (const messageId of ids)
      expect(await s.t.mutation(internal.outbound.claim, { messageId })).toBeNull();
    expect(await held(s.t)).toHaveLength(count);
    await resume(s);
    await drain(s.t);
    expect(s.fake.sent).toHaveLength(count);
    expect(new Set(s.fake.sent.map((x) => x.body.biz_opaque_callback_data))).toEqual(new Set(ids));
    expect(await held(s.t)).toEqual([]);
  });
});

describe("the global switch and the workspace's", () => {
  it("global wins: a workspace resuming under a global pause sends nothing until the global one lifts", async () => {
    const s = await shop();
    const id = await reply(s);
    await pause(s);
    await s.root.mutation(api.sending.setGlobalPaused, { paused: true, reason: "Provider incident" });
    const block = await s.t.run((ctx) => sendingBlock(ctx, s.w.tenantId));
    expect(block).toMatchObject({ scope: "global", reason: "Provider incident", by: "root@platform.test" });
    expect(await s.owner.query(api.sending.status, { tenantId: s.w.tenantId })).toMatchObject({
      global: { reason: "Provider incident" },
      tenant: { reason: "A campaign went out with the wrong price" },
    });
    await drain(s.t);
    await resume(s);
    await drain(s.t);
    expect(s.fake.sent).toEqual([]);
    expect(await message(s.t, id)).toMatchObject({ status: "queued", heldAt: expect.any(Number) });
    await s.root.mutation(api.sending.setGlobalPaused, { paused: false, reason: "Provider recovered" });
    await drain(s.t);
    expect(s.fake.sent).toHaveLength(1);
    expect(await s.t.run((ctx) => sendingBlock(ctx, s.w.tenantId))).toBeNull();
  });

  it("lifting the global switch leaves a paused workspace's messages held until its owner resumes", async () => {
    const s = await shop();
    const id = await reply(s);
    await s.root.mutation(api.sending.setGlobalPaused, { paused: true, reason: "Provider incident" });
    await drain(s.t);
    await pause(s);
    await s.root.mutation(api.sending.setGlobalPaused, { paused: false, reason: "Provider recovered" });
    await drain(s.t);
    expect(s.fake.sent).toEqual([]);
    expect(await s.t.run((ctx) => sendingBlock(ctx, s.w.tenantId))).toMatchObject({ scope: "tenant" });
    expect(await held(s.t)).toHaveLength(1);
    await resume(s);
    await drain(s.t);
    expect(s.fake.sent).toHaveLength(1);
    expect(await message(s.t, id)).toMatchObject({ status: "sending" });
  });

  it("one workspace's switch does not touch another's", async () => {
    const s = await shop();
    await pause(s);
    const other = await s.t.run((ctx) =>
      ctx.db.insert("tenants", {
        name: "Beta Bikes",
        currency: "USD",
        timeZone: "America/New_York",
        defaultCountry: "US",
        slug: "beta-bikes",
        createdBy: s.w.userId,
        createdAt: 1,
      }),
    );
    expect(await s.t.run((ctx) => sendingBlock(ctx, other))).toBeNull();
  });
});

/** The customer writes `text` now (the fixture's message with another id and body). */
async function customerSays(s: Shop, id: string, text: string) {
  const body = JSON.parse(cloud("message-text")) as {
    entry: {
      changes: { value: { messages: { id: string; text: { body: string }; timestamp: string }[] } }[];
    }[];
  };
  const m = body.entry[0].changes[0].value.messages[0];
  m.id = id;
  m.text.body = text;
  m.timestamp = String(Math.floor(Date.now() / 1000));
  expect((await postCloud(s.t, JSON.stringify(body))).status).toBe(200);
  await drain(s.t);
}

const outbound = (t: T) =>
  t.run(async (ctx) => (await ctx.db.query("messages").collect()).filter((x) => x.direction === "out"));

describe("consent confirmations and the assistant while paused", () => {
  it("records a STOP at once and holds its confirmation until sending resumes", async () => {
    const s = await shop();
    await pause(s);
    await customerSays(s, "wamid.STOP1", "STOP");
    const contact = await s.t.run(async (ctx) => (await ctx.db.query("contacts").first())!);
    expect(contact.optedOutAt).toEqual(expect.any(Number));
    expect(await outbound(s.t)).toMatchObject([
      { origin: "system", text: OPT_OUT_CONFIRMATION, status: "queued", heldAt: expect.any(Number) },
    ]);
    expect(s.fake.sent).toEqual([]);
    await resume(s);
    await drain(s.t);
    expect(s.fake.sent.map((x) => x.body.text)).toEqual([{ body: OPT_OUT_CONFIRMATION }]);
  });

  it("the assistant does not answer while paused, and does again once sending resumes", async () => {
    const s = await shop();
    await s.t.run(async (ctx) => {
      const settings = (await ctx.db.query("assistants").first())!;
      await ctx.db.patch("assistants", settings._id, { enabled: true });
    });
    await pause(s);
    await customerSays(s, "wamid.QUESTION1", "Do you ship to Portugal?");
    await vi.advanceTimersByTimeAsync(60_000);
    await drain(s.t);
    expect(await outbound(s.t)).toEqual([]);
    expect(await s.t.run((ctx) => ctx.db.query("assistantTurns").collect())).toEqual([]);
    await resume(s);
    await customerSays(s, "wamid.QUESTION2", "Do you ship to Portugal?");
    await vi.advanceTimersByTimeAsync(60_000);
    await drain(s.t);
    expect((await outbound(s.t)).map((m) => m.origin)).toEqual(["assistant"]);
    expect(s.fake.sent).toHaveLength(1);
  });
});
