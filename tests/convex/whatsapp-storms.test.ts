/**
 * Replay storms: every payload delivered many times, shuffled, with processing running at
 * arbitrary points in between, must end in one final state — the same for every shuffle.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { normaliseCloudWebhook } from "../../convex/model/whatsapp/cloudWebhook";
import { normaliseWahaWebhook } from "../../convex/model/whatsapp/wahaWebhook";
import { setup, type T } from "./factories";
import {
  cloud,
  OUT_WAMID,
  outbound,
  postCloud,
  postWaha,
  rows,
  settle,
  shuffled,
  stubWhatsAppEnv,
  USER_WA_ID,
  waha,
  WAHA_OUT_ID,
  world,
} from "./whatsapp-helpers";

beforeEach(() => {
  vi.useFakeTimers();
  stubWhatsAppEnv();
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

const COPIES = 5;
const SEEDS = [1, 7, 42, 2024];

/** Everything a person would see, without ids or clock-dependent fields. */
async function finalState(t: T) {
  return await t.run(async (ctx) => {
    const contacts = await ctx.db.query("contacts").collect();
    const nameOf = new Map(contacts.map((c) => [c._id, c.phone ?? c.name ?? "?"]));
    const messages = await ctx.db.query("messages").collect();
    const conversations = await ctx.db.query("conversations").collect();
    const channels = await ctx.db.query("channels").collect();
    const aliases = await ctx.db.query("contactAliases").collect();
    const events = await ctx.db.query("webhookEvents").collect();
    return {
      contacts: contacts
        .map((c) => ({
          name: c.name,
          phone: c.phone,
          lastInboundAt: c.lastInboundAt,
          aliases: aliases
            .filter((a) => a.contactId === c._id)
            .map((a) => `${a.kind}:${a.value}`)
            .sort(),
        }))
        .sort((a, b) => String(a.phone).localeCompare(String(b.phone))),
      conversations: conversations
        .map((c) => ({
          contact: nameOf.get(c.contactId),
          lastMessageAt: c.lastMessageAt,
          lastInboundAt: c.lastInboundAt,
        }))
        .sort((a, b) => String(a.contact).localeCompare(String(b.contact))),
      messages: messages
        .map((m) => ({
          id: m.providerMessageId,
          direction: m.direction,
          type: m.type,
          text: m.text,
          status: m.status,
          statusAt: m.statusAt,
          pricing: m.pricing,
          errorCode: m.errorCode,
          contact: nameOf.get(m.contactId),
        }))
        .sort((a, b) => String(a.id).localeCompare(String(b.id))),
      channels: channels.map((c) => ({ name: c.name, wahaStatus: c.wahaStatus, tier: c.messagingTier })),
      events: events.map((e) => `${e.dedupeKey}:${e.state}`).sort(),
    };
  });
}

/** Posts every delivery (in groups of 3 at once) and runs processing at seeded points. */
async function storm(t: T, deliveries: (() => Promise<Response>)[], seed: number) {
  const order = shuffled(deliveries, seed);
  for (let i = 0; i < order.length; i += 3) {
    const responses = await Promise.all(order.slice(i, i + 3).map((post) => post()));
    for (const r of responses) expect(r.status).toBe(200);
    if ((i * 31 + seed) % 5 === 0) await settle(t);
  }
  await settle(t);
}

describe("Cloud API replay storm", () => {
  const payloads = [
    "message-text",
    "message-reply",
    "message-reaction",
    "message-reaction-removed",
    "status-sent",
    "status-delivered",
    "status-read",
    "mixed",
    "template-approved",
    "template-paused",
    "quality-update",
    "quality-flagged",
  ];

  it("ends in the same single final state for every shuffle", async () => {
    const outcomes: unknown[] = [];
    for (const seed of SEEDS) {
      const { t } = setup();
      const w = await world(t);
      await outbound(t, w, { providerMessageId: OUT_WAMID, status: "sending" });
      const deliveries = payloads.flatMap((name) =>
        Array.from({ length: COPIES }, () => () => postCloud(t, cloud(name))),
      );
      await storm(t, deliveries, seed);
      const state = await finalState(t);

      const keys = new Set(
        payloads.flatMap((n) => normaliseCloudWebhook(JSON.parse(cloud(n))).map((e) => e.dedupeKey)),
      );
      expect(state.events).toHaveLength(keys.size);
      expect(state.events.every((e) => e.endsWith(":done"))).toBe(true);
      const out = state.messages.filter((m) => m.direction === "out");
      expect(out).toEqual([
        expect.objectContaining({
          id: OUT_WAMID,
          status: "read",
          statusAt: 1717430560000,
          pricing: { billable: true, model: "PMP", type: "regular", category: "marketing" },
        }),
      ]);
      // 6 inbound wamids, each stored once.
      expect(state.messages.filter((m) => m.direction === "in")).toHaveLength(6);
      // Kerry (who we wrote to, then who wrote to us) and Ana: two people, one conversation each.
      expect(state.contacts.map((c) => c.phone)).toEqual(["+16505551234", "+34600111222"]);
      expect(state.contacts[0]).toMatchObject({
        name: "Kerry Fisher",
        aliases: [`phone:+${USER_WA_ID}`, `wa_id:${USER_WA_ID}`],
      });
      expect(state.conversations).toHaveLength(2);
      const templates = await rows(t, "templates");
      expect(templates.map((x) => x.status)).toEqual(["PAUSED"]);
      outcomes.push({ ...state, templates: templates.map((x) => [x.name, x.status, x.reason, x.category]) });
    }
    for (const outcome of outcomes.slice(1)) expect(outcome).toEqual(outcomes[0]);
  });
});

describe("WAHA replay storm", () => {
  const payloads = [
    "message-text",
    "message-any-inbound",
    "message-any-own",
    "message-lid",
    "message-lid-with-phone",
    "ack-pending",
    "ack-server",
    "ack-device",
    "ack-read",
    "ack-played",
    "session-status",
    "session-status-scan",
  ];

  it("ends in the same single final state for every shuffle", async () => {
    const outcomes: unknown[] = [];
    for (const seed of SEEDS) {
      const { t } = setup();
      const w = await world(t);
      await outbound(t, w, {
        channelId: w.wahaChannelId,
        providerMessageId: WAHA_OUT_ID,
        status: "sending",
        phone: "+34600111222",
      });
      const deliveries = payloads.flatMap((name) =>
        Array.from({ length: COPIES }, () => () => postWaha(t, w.wahaChannelId, waha(name))),
      );
      await storm(t, deliveries, seed);
      const state = await finalState(t);

      const keys = new Set(payloads.map((n) => normaliseWahaWebhook(JSON.parse(waha(n))).dedupeKey));
      expect(state.events).toHaveLength(keys.size);
      expect(state.events.every((e) => e.endsWith(":done"))).toBe(true);
      expect(state.messages.filter((m) => m.direction === "out")).toEqual([
        expect.objectContaining({ id: WAHA_OUT_ID, status: "read", statusAt: 1717430860000 }),
      ]);
      expect(state.messages.filter((m) => m.direction === "in").map((m) => m.id)).toEqual([
        "false_123456789012345@lid_BBBBBBBBBBBBBBBBBBBB",
        "false_123456789012345@lid_CCCCCCCCCCCCCCCCCCCC",
        "false_34600111222@c.us_AAAAAAAAAAAAAAAAAAAA",
      ]);
      // Phone and @lid are one person, whatever order the events came in.
      expect(state.contacts).toEqual([
        {
          name: "Ana Ruiz",
          phone: "+34600111222",
          lastInboundAt: 1717430600000,
          aliases: [
            "lid:123456789012345@lid",
            "phone:+34600111222",
            "wa_id:34600111222",
            "waha_chat:123456789012345@lid",
            "waha_chat:34600111222@c.us",
          ],
        },
      ]);
      expect(state.conversations).toEqual([
        { contact: "+34600111222", lastMessageAt: 1717430600000, lastInboundAt: 1717430600000 },
      ]);
      expect(state.channels.find((c) => c.name === "Acme WAHA")).toMatchObject({ wahaStatus: "WORKING" });
      outcomes.push(state);
    }
    for (const outcome of outcomes.slice(1)) expect(outcome).toEqual(outcomes[0]);
  });
});

describe("out-of-order statuses", () => {
  it("processed one at a time in reverse order, the statuses still end read", async () => {
    const { t } = setup();
    const w = await world(t);
    const messageId = await outbound(t, w, { providerMessageId: OUT_WAMID, status: "sending" });
    for (const name of ["status-played", "status-read", "status-delivered", "status-sent"]) {
      await postCloud(t, cloud(name));
      await settle(t);
      expect(await t.run((ctx) => ctx.db.get("messages", messageId))).toMatchObject({
        status: "read",
        statusAt: 1717430570000,
      });
    }
    expect(await t.run((ctx) => ctx.db.get("messages", messageId))).toMatchObject({
      pricing: { model: "PMP", category: "marketing" },
    });
  });

  it("a status that arrives before the message row exists is applied once the row appears", async () => {
    const { t } = setup();
    const w = await world(t);
    await postCloud(t, cloud("status-delivered"));
    // First attempt: no message yet.
    await t.finishInProgressScheduledFunctions();
    vi.advanceTimersByTime(0);
    await t.finishInProgressScheduledFunctions();
    const [event] = await rows(t, "webhookEvents");
    expect(event).toMatchObject({ state: "retrying", attempts: 1 });
    expect(event.lastError).toMatch(/^orphan status: no message wamid\./);
    // The send path records the message; the retry finds it.
    const messageId = await outbound(t, w, { providerMessageId: OUT_WAMID, status: "sent" });
    await settle(t);
    expect(await t.run((ctx) => ctx.db.get("messages", messageId))).toMatchObject({ status: "delivered" });
    const [done] = await rows(t, "webhookEvents");
    expect(done.state).toBe("done");
    expect(done.lastError).toBeUndefined();
  });
});
