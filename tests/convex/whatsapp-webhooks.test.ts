/** The webhook routes (answers, what is stored) and what processing makes of each event. */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { normaliseCloudWebhook } from "../../convex/model/whatsapp/cloudWebhook";
import { encryptSecrets } from "../../convex/model/whatsapp/secrets";
import { setup, type T } from "./factories";
import {
  APP_SECRET,
  bytes,
  cloud,
  cloudFixtures,
  hmac,
  OUT_WAMID,
  outbound,
  PHONE_NUMBER_ID,
  postCloud,
  postWaha,
  rows,
  settle,
  stubWhatsAppEnv,
  USER_WA_ID,
  VERIFY_TOKEN,
  waha,
  WAHA_OUT_ID,
  wahaFixtures,
  world,
  type World,
} from "./whatsapp-helpers";

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2024-06-03T16:00:00Z"));
  stubWhatsAppEnv();
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

async function fresh(): Promise<{ t: T; w: World }> {
  const { t } = setup();
  return { t, w: await world(t) };
}

const MiB = 1024 * 1024;

describe("GET /whatsapp/cloud (verification handshake)", () => {
  it("echoes the challenge when the verify token matches", async () => {
    const { t } = await fresh();
    const response = await t.fetch(
      `/whatsapp/cloud?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1158201444`,
    );
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("1158201444");
  });

  it("answers 403 otherwise", async () => {
    const { t } = await fresh();
    for (const query of [
      `hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1`,
      `hub.mode=unsubscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1`,
      `hub.mode=subscribe&hub.challenge=1`,
      `hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}x&hub.challenge=1`,
      ``,
    ]) {
      const response = await t.fetch(`/whatsapp/cloud?${query}`);
      expect(response.status, query).toBe(403);
      expect(await response.text()).not.toContain("1");
    }
    vi.stubEnv("WHATSAPP_VERIFY_TOKEN", "");
    const unset = await t.fetch(`/whatsapp/cloud?hub.mode=subscribe&hub.verify_token=&hub.challenge=1`);
    expect(unset.status).toBe(403);
  });
});

describe("POST /whatsapp/cloud", () => {
  it("stores every event of every fixture before answering 200, once per dedupe key", async () => {
    const { t } = await fresh();
    const keys = new Set<string>();
    for (const [name, text] of Object.entries(cloudFixtures)) {
      const response = await postCloud(t, text);
      expect(response.status, name).toBe(200);
      const events = normaliseCloudWebhook(JSON.parse(text));
      const body = await response.json();
      expect(body.received, name).toBe(events.length);
      for (const e of events) keys.add(e.dedupeKey);
      // Stored when answered: no scheduled function has run yet.
      const stored = await rows(t, "webhookEvents");
      expect(new Set(stored.map((r) => r.dedupeKey))).toEqual(keys);
    }
    const stored = await rows(t, "webhookEvents");
    expect(stored).toHaveLength(keys.size);
  });

  it("answers a redelivery 200 and stores nothing new", async () => {
    const { t } = await fresh();
    const first = await postCloud(t, cloud("mixed"));
    expect(await first.json()).toMatchObject({ received: 6, stored: 6, duplicates: 0 });
    const again = await postCloud(t, cloud("mixed"));
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ received: 6, stored: 0, duplicates: 6 });
    expect(await rows(t, "webhookEvents")).toHaveLength(6);
  });

  it("refuses malformed bodies with 400 and stores nothing", async () => {
    const { t } = await fresh();
    const bodies: [string, Uint8Array<ArrayBuffer>][] = [
      ["invalid JSON", bytes('{"object":"whatsapp_business_account","entry":[')],
      ["empty", bytes("")],
      ["not UTF-8", new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])],
      ["another object", bytes('{"object":"page","entry":[]}')],
      ["entry not a list", bytes('{"object":"whatsapp_business_account","entry":{}}')],
      ["a message without id", bytes(cloud("message-text").replace(/"id": "wamid[^"]*",/, ""))],
    ];
    for (const [what, body] of bodies) {
      const response = await postCloud(t, body);
      expect(response.status, what).toBe(400);
      expect((await response.json()).error, what).toBe("malformed");
    }
    expect(await rows(t, "webhookEvents")).toHaveLength(0);
  });

  it("refuses a signed body nested thousands of levels deep with 400, Cloud and WAHA alike", async () => {
    const { t, w } = await fresh();
    const deep = (levels: number) => "[".repeat(levels) + "]".repeat(levels);
    const cloudBody = `{"object":"whatsapp_business_account","entry":[{"id":"${PHONE_NUMBER_ID}","changes":[{"field":"account_update","value":{"x":${deep(100_000)}}}]}]}`;
    const response = await postCloud(t, cloudBody);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: "malformed",
      message: "The body nests arrays and objects deeper than 64 levels",
    });
    const wahaBody = `{"id":"evt_deep","timestamp":1717430400123,"session":"default","event":"presence.update","payload":${deep(100_000)}}`;
    const wahaResponse = await postWaha(t, w.wahaChannelId, wahaBody);
    expect(wahaResponse.status).toBe(400);
    // Brackets inside strings are text, not nesting: this one is stored.
    const bracketsInText = `{"object":"whatsapp_business_account","entry":[{"id":"${PHONE_NUMBER_ID}","changes":[{"field":"account_update","value":{"x":"${"[".repeat(1000)}"}}]}]}`;
    expect((await postCloud(t, bracketsInText)).status).toBe(200);
    expect(await rows(t, "webhookEvents")).toHaveLength(1);
  });

  it("refuses bodies above 3 MB with 413, by Content-Length and by actual size", async () => {
    const { t } = await fresh();
    // A valid envelope padded past the limit (a big unknown field), correctly signed.
    const padded = (size: number) => {
      const head =
        '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"x","value":"';
      const tail = '"}]}]}';
      return head + "a".repeat(size - head.length - tail.length) + tail;
    };
    const over = padded(3 * MiB + 1);
    expect(bytes(over).length).toBe(3 * MiB + 1);
    expect((await postCloud(t, over)).status).toBe(413);
    // A small body that claims to be large.
    const claims = await postCloud(t, cloud("message-text"), {
      headers: { "content-length": String(4 * MiB) },
    });
    expect(claims.status).toBe(413);
    expect(await rows(t, "webhookEvents")).toHaveLength(0);
    // Exactly at the limit is accepted.
    const at = await postCloud(t, padded(3 * MiB));
    expect(at.status).toBe(200);
    expect(await rows(t, "webhookEvents")).toHaveLength(1);
  });

  it("keeps events for an unknown phone_number_id as dead letters, and answers 200", async () => {
    const { t } = await fresh();
    const response = await postCloud(t, cloud("unknown-number"));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ stored: 1, unrouted: 1 });
    const [row] = await rows(t, "webhookEvents");
    expect(row.channelId).toBeUndefined();
    expect(row).toMatchObject({
      state: "dead",
      lastError: "unrouted: no channel has phone_number_id 999999999999999",
    });
    await settle(t);
    expect(await rows(t, "messages")).toHaveLength(0);
  });

  it("writes the channel's lastWebhookAt at most every 5 seconds", async () => {
    const { t, w } = await fresh();
    const lastWebhookAt = async () =>
      (await t.run((ctx) => ctx.db.get("channels", w.cloudChannelId)))!.lastWebhookAt;
    expect(await lastWebhookAt()).toBeUndefined();
    const t0 = Date.now();
    await postCloud(t, cloud("message-text"));
    expect(await lastWebhookAt()).toBe(t0);
    vi.advanceTimersByTime(3_000);
    await postCloud(t, cloud("message-image"));
    expect(await lastWebhookAt()).toBe(t0);
    vi.advanceTimersByTime(2_000);
    await postCloud(t, cloud("message-video"));
    expect(await lastWebhookAt()).toBe(t0 + 5_000);
  });
});

describe("the internal event shape is validated at the boundary", () => {
  it("refuses an event that is not a WhatsAppEvent, in the storing mutation and in the table", async () => {
    const { t } = await fresh();
    await expect(
      t.mutation(internal.whatsappWebhooks.ingest, {
        provider: "cloud",
        // @ts-expect-error -- a message without id, sender or time
        events: [{ dedupeKey: "cloud:msg:x", event: { kind: "message", provider: "cloud" } }],
      }),
    ).rejects.toThrow(/Validator error|does not match/);
    await expect(
      t.run((ctx) =>
        ctx.db.insert("webhookEvents", {
          provider: "cloud",
          dedupeKey: "cloud:bogus",
          kind: "bogus",
          // @ts-expect-error -- no such kind
          event: { kind: "bogus" },
          state: "pending",
          attempts: 0,
          receivedAt: 1,
        }),
      ),
    ).rejects.toThrow();
    expect(await rows(t, "webhookEvents")).toHaveLength(0);
  });
});

describe("POST /whatsapp/waha/<channel id>", () => {
  it("stores the event, applies it in the same transaction and answers 200", async () => {
    const { t, w } = await fresh();
    const response = await postWaha(t, w.wahaChannelId, waha("message-text"));
    expect(response.status).toBe(200);
    const [row] = await rows(t, "webhookEvents");
    expect(row).toMatchObject({
      provider: "waha",
      dedupeKey: "waha:evt_01HZX3Q2M8K9ZB4T6W1R5N7C2D",
      channelId: w.wahaChannelId,
      tenantId: w.tenantId,
      state: "done",
      attempts: 0,
    });
    // Nothing was left for a scheduled job: the message is there before any job ran.
    expect(await rows(t, "messages")).toHaveLength(1);
    const jobs = await t.run((ctx) => ctx.db.system.query("_scheduled_functions").collect());
    expect(jobs.filter((j) => j.name.includes("whatsappWebhooks"))).toEqual([]);
  });

  it("scopes dedupe keys by channel: another tenant's event with the same id is not a duplicate", async () => {
    const { t, w } = await fresh();
    const otherKey = "waha-hmac-key-of-another-tenant";
    const other = await t.run(async (ctx) => {
      const tenantId = await ctx.db.insert("tenants", {
        name: "Beta",
        currency: "USD",
        timeZone: "UTC",
        defaultCountry: "US",
        slug: "beta",
        createdBy: w.userId,
        createdAt: 1,
      });
      const { _id, _creationTime, ...fields } = (await ctx.db.get("channels", w.wahaChannelId))!;
      return await ctx.db.insert("channels", {
        ...fields,
        tenantId,
        secrets: await encryptSecrets({ apiKey: "waha-api-key-beta", webhookHmacKey: otherKey }),
      });
    });
    // The other tenant posts first, to its own channel, signing with its own key, the same event id.
    expect((await postWaha(t, other, waha("message-text"), { key: otherKey })).status).toBe(200);
    const response = await postWaha(t, w.wahaChannelId, waha("message-text"));
    expect(await response.json()).toMatchObject({ stored: 1, duplicates: 0 });
    // A redelivery on the same channel is still a duplicate.
    expect(await (await postWaha(t, w.wahaChannelId, waha("message-text"))).json()).toMatchObject({
      stored: 0,
      duplicates: 1,
    });
    await settle(t);
    const events = await rows(t, "webhookEvents");
    expect(events.map((e) => [e.channelId, e.state]).sort()).toEqual(
      [
        [other, "done"],
        [w.wahaChannelId, "done"],
      ].sort(),
    );
    const messages = (await rows(t, "messages")).filter((m) => m.direction === "in");
    expect(messages.map((m) => m.channelId).sort()).toEqual([other, w.wahaChannelId].sort());
  });

  it("answers 404 for anything but an enabled WAHA channel, and stores nothing", async () => {
    const { t, w } = await fresh();
    const deleted = await t.run(async (ctx) => {
      const { _id, _creationTime, ...fields } = (await ctx.db.get("channels", w.wahaChannelId))!;
      const id = await ctx.db.insert("channels", fields);
      await ctx.db.delete("channels", id);
      return id;
    });
    const disabled = await t.run(async (ctx) => {
      const { _id, _creationTime, ...fields } = (await ctx.db.get("channels", w.wahaChannelId))!;
      return await ctx.db.insert("channels", { ...fields, enabled: false });
    });
    for (const [what, id] of [
      ["not an id", "nope"],
      ["a tenant's id", w.tenantId],
      ["a Cloud API channel", w.cloudChannelId],
      ["a deleted channel", deleted],
      ["a disabled channel", disabled],
      ["an id with more path", `${w.wahaChannelId}/extra`],
      ["nothing", ""],
    ] as const) {
      const response = await postWaha(t, id, waha("message-text"));
      expect(response.status, what).toBe(404);
    }
    expect(await rows(t, "webhookEvents")).toHaveLength(0);
  });

  it("answers 400 for malformed bodies and 413 above 5 MB", async () => {
    const { t, w } = await fresh();
    expect((await postWaha(t, w.wahaChannelId, "{not json")).status).toBe(400);
    expect((await postWaha(t, w.wahaChannelId, '{"event":"message"}')).status).toBe(400);
    expect(
      (await postWaha(t, w.wahaChannelId, '{"id":"evt_1","event":"message","session":"default"}')).status,
    ).toBe(400);
    const big = JSON.stringify({ ...JSON.parse(waha("unknown-event")), pad: "a".repeat(5 * MiB) });
    expect((await postWaha(t, w.wahaChannelId, big)).status).toBe(413);
    expect(await rows(t, "webhookEvents")).toHaveLength(0);
  });
});

// ---------------------------------------------------------------- processing

async function contactsWithAliases(t: T) {
  return await t.run(async (ctx) => {
    const contacts = await ctx.db.query("contacts").collect();
    return await Promise.all(
      contacts.map(async (c) => ({
        ...c,
        aliases: (
          await ctx.db
            .query("contactAliases")
            .withIndex("by_contact", (q) => q.eq("contactId", c._id))
            .collect()
        )
          .map((a) => `${a.kind}:${a.value}`)
          .sort(),
      })),
    );
  });
}

describe("processing inbound messages", () => {
  it("upserts the contact and conversation and stores the message", async () => {
    const { t, w } = await fresh();
    await postCloud(t, cloud("message-text"));
    await settle(t);
    const [event] = await rows(t, "webhookEvents");
    expect(event).toMatchObject({ state: "done", attempts: 0, processedAt: expect.any(Number) });
    const [contact] = await contactsWithAliases(t);
    expect(contact).toMatchObject({
      tenantId: w.tenantId,
      name: "Kerry Fisher",
      phone: `+${USER_WA_ID}`,
      lastInboundAt: 1717430400000,
      aliases: [`phone:+${USER_WA_ID}`, `wa_id:${USER_WA_ID}`],
    });
    const [conversation] = await rows(t, "conversations");
    expect(conversation).toMatchObject({
      channelId: w.cloudChannelId,
      contactId: contact._id,
      lastMessageAt: 1717430400000,
      lastInboundAt: 1717430400000,
    });
    const [message] = await rows(t, "messages");
    expect(message).toMatchObject({
      tenantId: w.tenantId,
      channelId: w.cloudChannelId,
      conversationId: conversation._id,
      contactId: contact._id,
      direction: "in",
      providerMessageId: "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUITEXT001=",
      type: "text",
      text: "Hi, do you have these shoes in size 42?",
      status: "received",
      createdAt: 1717430400000,
    });
  });

  it("stores every Cloud message type as one message per wamid, in one conversation", async () => {
    const { t } = await fresh();
    const names = Object.keys(cloudFixtures).filter((n) => n.startsWith("message-"));
    for (const name of names) await postCloud(t, cloud(name));
    await settle(t);
    const all = await rows(t, "messages");
    // The "Stop promotions" button is an opt-out: recorded, and confirmed to the customer.
    expect(all.filter((m) => m.direction === "out").map((m) => m.origin)).toEqual(["system"]);
    expect(await t.run((ctx) => ctx.db.query("consentEvents").collect())).toMatchObject([
      { kind: "opt_out", source: "button", text: "STOP_PROMOTIONS Stop promotions" },
    ]);
    const messages = all.filter((m) => m.direction === "in");
    const types = Object.fromEntries(messages.map((m) => [m.providerMessageId!.slice(-8), m.type]));
    expect(types).toEqual({
      "TEXT001=": "text",
      "IMAGE01=": "image",
      "VIDEO01=": "video",
      "AUDIO01=": "audio",
      "DOCUM01=": "document",
      "STICK01=": "sticker",
      "LOCAT01=": "location",
      "LOCAT02=": "location",
      "CONTA01=": "contacts",
      "INTBT01=": "interactive",
      "INTLS01=": "interactive",
      "BUTTN01=": "button",
      "REACT01=": "reaction",
      "REACT02=": "reaction",
      "UNSUP01=": "unsupported",
      "REPLY01=": "text",
      "FORWD01=": "text",
      "FORWD02=": "image",
    });
    expect(new Set(messages.map((m) => m.conversationId)).size).toBe(1);
    expect(await rows(t, "contacts")).toHaveLength(1);
    const reply = messages.find((m) => m.providerMessageId!.endsWith("REPLY01="))!;
    expect(reply.content).toEqual({ context: { messageId: "wamid.OUTBOUND_TEXT_1", from: "15550783881" } });
    const contacts = messages.find((m) => m.type === "contacts")!;
    expect(contacts.content).toMatchObject({
      contacts: [expect.objectContaining({ org: expect.any(Object) })],
    });
    const [event] = (await rows(t, "webhookEvents")).filter((e) => e.state !== "done");
    expect(event).toBeUndefined();
  });

  it("a later, older message does not bring back an old profile name", async () => {
    const { t } = await fresh();
    const renamed = JSON.parse(cloud("message-image"));
    renamed.entry[0].changes[0].value.contacts[0].profile.name = "Kerry F.";
    renamed.entry[0].changes[0].value.messages[0].timestamp = "1717430999";
    await postCloud(t, JSON.stringify(renamed));
    await postCloud(t, cloud("message-text")); // older, still "Kerry Fisher"
    await settle(t);
    const [contact] = await rows(t, "contacts");
    expect(contact).toMatchObject({ name: "Kerry F.", lastInboundAt: 1717430999000 });
    const [conversation] = await rows(t, "conversations");
    expect(conversation).toMatchObject({ lastMessageAt: 1717430999000, lastInboundAt: 1717430999000 });
  });

  it("WAHA: message and message.any of the same message make one row; own messages none", async () => {
    const { t, w } = await fresh();
    await postWaha(t, w.wahaChannelId, waha("message-text"));
    await postWaha(t, w.wahaChannelId, waha("message-any-inbound"));
    await postWaha(t, w.wahaChannelId, waha("message-any-own"));
    await settle(t);
    const events = await rows(t, "webhookEvents");
    expect(events.map((e) => [e.kind, e.state])).toEqual([
      ["message", "done"],
      ["message", "done"],
      ["unhandled", "done"],
    ]);
    const messages = await rows(t, "messages");
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({
      channelId: w.wahaChannelId,
      providerMessageId: "false_34600111222@c.us_AAAAAAAAAAAAAAAAAAAA",
      text: "Hola, ¿tenéis la talla 42?",
      direction: "in",
    });
    const [contact] = await contactsWithAliases(t);
    expect(contact).toMatchObject({
      name: "Ana Ruiz",
      phone: "+34600111222",
      aliases: ["phone:+34600111222", "wa_id:34600111222", "waha_chat:34600111222@c.us"],
    });
  });

  it("WAHA: every message fixture processes (groups are kept but not turned into contacts)", async () => {
    const { t, w } = await fresh();
    for (const name of Object.keys(wahaFixtures).filter((n) => n.startsWith("message"))) {
      expect((await postWaha(t, w.wahaChannelId, waha(name))).status, name).toBe(200);
    }
    await settle(t);
    const events = await rows(t, "webhookEvents");
    expect(events.filter((e) => e.state !== "done")).toEqual([]);
    const messages = await rows(t, "messages");
    expect(messages.map((m) => m.type).sort()).toEqual(
      ["audio", "image", "location", "reaction", "text", "text", "text", "text"].sort(),
    );
    // @lid and phone identities met in one event: one person.
    expect(await rows(t, "contacts")).toHaveLength(1);
  });

  it("merges a @lid contact into the phone contact when an event links them", async () => {
    const { t, w } = await fresh();
    await postWaha(t, w.wahaChannelId, waha("message-text")); // phone contact
    await postWaha(t, w.wahaChannelId, waha("message-lid")); // lid-only contact
    await settle(t);
    expect(await rows(t, "contacts")).toHaveLength(2);
    expect(await rows(t, "conversations")).toHaveLength(2);

    await postWaha(t, w.wahaChannelId, waha("message-lid-with-phone")); // links the two
    await settle(t);
    const contacts = await contactsWithAliases(t);
    expect(contacts).toHaveLength(1);
    expect(contacts[0]).toMatchObject({
      phone: "+34600111222",
      name: "Ana Ruiz",
      lastInboundAt: 1717430600000,
      aliases: [
        "lid:123456789012345@lid",
        "phone:+34600111222",
        "wa_id:34600111222",
        "waha_chat:123456789012345@lid",
        "waha_chat:34600111222@c.us",
      ],
    });
    const conversations = await rows(t, "conversations");
    expect(conversations).toHaveLength(1);
    expect(conversations[0]).toMatchObject({ contactId: contacts[0]._id, lastInboundAt: 1717430600000 });
    const messages = await rows(t, "messages");
    expect(messages).toHaveLength(3);
    for (const m of messages)
      expect(m).toMatchObject({ contactId: contacts[0]._id, conversationId: conversations[0]._id });
  });

  it("keeps one contact per tenant: the same number on another tenant's channel is another contact", async () => {
    const { t, w } = await fresh();
    const other = await t.run(async (ctx) => {
      const tenantId = await ctx.db.insert("tenants", {
        name: "Beta",
        currency: "USD",
        timeZone: "UTC",
        defaultCountry: "US",
        slug: "beta",
        createdBy: w.userId,
        createdAt: 1,
      });
      const { _id, _creationTime, ...fields } = (await ctx.db.get("channels", w.wahaChannelId))!;
      return await ctx.db.insert("channels", { ...fields, tenantId });
    });
    await postWaha(t, w.wahaChannelId, waha("message-text"));
    await postWaha(t, other, waha("message-image"));
    await settle(t);
    const contacts = await rows(t, "contacts");
    expect(contacts.map((c) => c.phone)).toEqual(["+34600111222", "+34600111222"]);
    expect(new Set(contacts.map((c) => c.tenantId)).size).toBe(2);
  });
});

describe("processing statuses", () => {
  it("moves an outbound message through sent, delivered, read and stores pricing", async () => {
    const { t, w } = await fresh();
    const messageId = await outbound(t, w, { providerMessageId: OUT_WAMID, status: "sending" });
    await postCloud(t, cloud("status-sent"));
    await settle(t);
    expect(await t.run((ctx) => ctx.db.get("messages", messageId))).toMatchObject({
      status: "sent",
      statusAt: 1717430500000,
      pricing: { billable: true, model: "PMP", type: "regular", category: "marketing" },
    });
    await postCloud(t, cloud("status-delivered"));
    await postCloud(t, cloud("status-read"));
    await postCloud(t, cloud("status-played"));
    await settle(t);
    expect(await t.run((ctx) => ctx.db.get("messages", messageId))).toMatchObject({
      status: "read",
      statusAt: 1717430560000,
    });
    // played after read was the same key: stored once, as a duplicate.
    expect((await rows(t, "webhookEvents")).map((e) => e.dedupeKey).sort()).toEqual(
      ["delivered", "read", "sent"].map((s) => `cloud:status:${OUT_WAMID}:${s}`),
    );
  });

  it("finds the message by its callback data before the send recorded the wamid", async () => {
    const { t, w } = await fresh();
    const messageId = await outbound(t, w, { status: "sending" });
    const body = cloud("status-sent").replace("our-message-id-unknown", messageId);
    await postCloud(t, body);
    await settle(t);
    expect(await t.run((ctx) => ctx.db.get("messages", messageId))).toMatchObject({
      status: "sent",
      providerMessageId: OUT_WAMID,
    });
  });

  it("does not let callback data reach a message of another channel", async () => {
    const { t, w } = await fresh();
    const messageId = await outbound(t, w, { status: "sending", channelId: w.wahaChannelId });
    await postCloud(t, cloud("status-sent").replace("our-message-id-unknown", messageId));
    await settle(t);
    expect(await t.run((ctx) => ctx.db.get("messages", messageId))).toMatchObject({ status: "sending" });
    expect((await rows(t, "webhookEvents"))[0]).toMatchObject({ state: "dead" });
  });

  it("a failed status keeps its error code, message and class", async () => {
    const { t, w } = await fresh();
    const failedWamid = OUT_WAMID.replace("ARG", "ARF");
    const windowWamid = OUT_WAMID.replace("ARG", "ARE");
    const a = await outbound(t, w, { providerMessageId: failedWamid });
    const b = await outbound(t, w, { providerMessageId: windowWamid, phone: "+34600999888" });
    await postCloud(t, cloud("status-failed"));
    await postCloud(t, cloud("status-failed-window"));
    // A late "delivered" for the failed message changes nothing.
    await postCloud(t, cloud("status-delivered").replaceAll(OUT_WAMID, failedWamid));
    await settle(t);
    expect(await t.run((ctx) => ctx.db.get("messages", a))).toMatchObject({
      status: "failed",
      errorCode: 131026,
      errorClass: "permanent",
      errorMessage: "Message undeliverable: Message Undeliverable.",
    });
    expect(await t.run((ctx) => ctx.db.get("messages", b))).toMatchObject({
      status: "failed",
      errorCode: 131047,
      errorClass: "window_closed",
    });
  });

  it("WAHA acks move our message; PENDING is stored but changes nothing; ERROR fails", async () => {
    const { t, w } = await fresh();
    const messageId = await outbound(t, w, {
      channelId: w.wahaChannelId,
      providerMessageId: WAHA_OUT_ID,
      status: "sending",
    });
    const failedId = await outbound(t, w, {
      channelId: w.wahaChannelId,
      providerMessageId: "true_34600111222@c.us_3EB0FAILEDFAILEDFAIL",
      status: "sending",
      phone: "+34600999777",
    });
    await postWaha(t, w.wahaChannelId, waha("ack-pending"));
    await settle(t);
    expect(await t.run((ctx) => ctx.db.get("messages", messageId))).toMatchObject({ status: "sending" });
    await postWaha(t, w.wahaChannelId, waha("ack-server"));
    await settle(t);
    expect(await t.run((ctx) => ctx.db.get("messages", messageId))).toMatchObject({ status: "sent" });
    await postWaha(t, w.wahaChannelId, waha("ack-played"));
    await postWaha(t, w.wahaChannelId, waha("ack-device"));
    await postWaha(t, w.wahaChannelId, waha("ack-read"));
    await postWaha(t, w.wahaChannelId, waha("ack-error"));
    await settle(t);
    expect(await t.run((ctx) => ctx.db.get("messages", messageId))).toMatchObject({
      status: "read",
      statusAt: 1717430860000,
    });
    expect(await t.run((ctx) => ctx.db.get("messages", failedId))).toMatchObject({
      status: "failed",
      errorClass: "permanent",
    });
    const events = await rows(t, "webhookEvents");
    expect(events).toHaveLength(6);
    expect(events.every((e) => e.state === "done")).toBe(true);
  });

  it("WAHA acks find a message recorded under the short id", async () => {
    const { t, w } = await fresh();
    const messageId = await outbound(t, w, {
      channelId: w.wahaChannelId,
      providerMessageId: "3EB0C767D82B0A2E1F5A",
      status: "sending",
    });
    await postWaha(t, w.wahaChannelId, waha("ack-device"));
    await settle(t);
    expect(await t.run((ctx) => ctx.db.get("messages", messageId))).toMatchObject({ status: "delivered" });
  });
});

describe("processing templates, quality and sessions", () => {
  it("creates and updates the template by its provider id", async () => {
    const { t, w } = await fresh();
    await postCloud(t, cloud("template-approved"));
    await postCloud(t, cloud("template-rejected"));
    await settle(t);
    const templates = await rows(t, "templates");
    expect(templates.map((x) => [x.name, x.language, x.status, x.reason, x.category, x.channelId])).toEqual([
      ["order_update", "en_US", "APPROVED", "NONE", "UTILITY", w.cloudChannelId],
      ["spring_sale", "es_ES", "REJECTED", "INCORRECT_CATEGORY", undefined, w.cloudChannelId],
    ]);
    await postCloud(t, cloud("template-paused"));
    await postCloud(t, cloud("template-category-update"));
    await settle(t);
    const updated = (await rows(t, "templates")).find((x) => x.name === "order_update");
    expect(updated).toMatchObject({
      status: "PAUSED",
      category: "MARKETING",
      providerTemplateId: "594425479261596",
    });
    expect(await rows(t, "templates")).toHaveLength(2);
  });

  it("adopts a template row the send side created before Meta knew its id", async () => {
    const { t, w } = await fresh();
    const templateId = await t.run((ctx) =>
      ctx.db.insert("templates", {
        tenantId: w.tenantId,
        channelId: w.cloudChannelId,
        name: "order_update",
        language: "en_US",
        category: "UTILITY",
        status: "PENDING",
        updatedAt: 1,
      }),
    );
    await postCloud(t, cloud("template-approved"));
    await settle(t);
    expect(await rows(t, "templates")).toHaveLength(1);
    expect(await t.run((ctx) => ctx.db.get("templates", templateId))).toMatchObject({
      status: "APPROVED",
      providerTemplateId: "594425479261596",
    });
  });

  it("an older template status arriving late does not overwrite a newer one", async () => {
    const { t } = await fresh();
    await postCloud(t, cloud("template-paused")); // time 1717431600
    await settle(t);
    await postCloud(t, cloud("template-approved")); // time 1717430600, older
    await settle(t);
    const [template] = await rows(t, "templates");
    expect(template).toMatchObject({ status: "PAUSED" });
  });

  it("quality updates set the tier and rating; older ones arriving late change nothing", async () => {
    const { t, w } = await fresh();
    await postCloud(t, cloud("quality-flagged")); // newer: FLAGGED, TIER_10K
    await settle(t);
    const older = JSON.parse(cloud("quality-update"));
    older.entry[0].changes[0].value.max_daily_conversations_per_business = "TIER_2K";
    await postCloud(t, JSON.stringify(older)); // older: UPGRADE to TIER_2K
    await settle(t);
    expect(await t.run((ctx) => ctx.db.get("channels", w.cloudChannelId))).toMatchObject({
      qualityRating: "FLAGGED",
      messagingTier: "TIER_10K",
    });
    const newer = JSON.parse(cloud("quality-update"));
    newer.entry[0].time = 1717440000;
    newer.entry[0].changes[0].value.max_daily_conversations_per_business = "TIER_100K";
    await postCloud(t, JSON.stringify(newer));
    await settle(t);
    expect(await t.run((ctx) => ctx.db.get("channels", w.cloudChannelId))).toMatchObject({
      qualityRating: "FLAGGED",
      messagingTier: "TIER_100K",
    });
  });

  it("WAHA session status: the latest by time wins whatever the arrival order", async () => {
    const { t, w } = await fresh();
    await postWaha(t, w.wahaChannelId, waha("session-status")); // WORKING, later
    await settle(t);
    await postWaha(t, w.wahaChannelId, waha("session-status-scan")); // SCAN_QR_CODE, earlier
    await settle(t);
    expect(await t.run((ctx) => ctx.db.get("channels", w.wahaChannelId))).toMatchObject({
      wahaStatus: "WORKING",
    });
  });

  it("unknown fields and events are kept, done, and change nothing", async () => {
    const { t, w } = await fresh();
    await postCloud(t, cloud("unknown-field"));
    await postCloud(t, cloud("webhook-errors"));
    await postWaha(t, w.wahaChannelId, waha("unknown-event"));
    await settle(t);
    const events = await rows(t, "webhookEvents");
    expect(events.map((e) => [e.kind, e.state, e.channelId ?? null])).toEqual([
      ["unhandled", "done", null],
      ["unhandled", "done", w.cloudChannelId],
      ["unhandled", "done", w.wahaChannelId],
    ]);
    expect(JSON.parse((events[2].event as { raw: string }).raw)).toMatchObject({ event: "presence.update" });
  });
});

// Used by the storm tests too: the signature helper must sign what is posted.
it("signs what it posts (helper sanity)", async () => {
  const raw = bytes(cloud("message-text"));
  expect(await hmac("SHA-256", APP_SECRET, raw)).toMatch(/^[0-9a-f]{64}$/);
  expect(PHONE_NUMBER_ID).toBe(
    JSON.parse(cloud("message-text")).entry[0].changes[0].value.metadata.phone_number_id,
  );
});

export type { Id };
