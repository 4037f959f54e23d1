/** The normalisers: every payload shape in whatsapp.md → the internal event shape and its dedupe key. */
import { describe, expect, it } from "vitest";
import { normaliseCloudWebhook } from "../../convex/model/whatsapp/cloudWebhook";
import type { KeyedEvent, WhatsAppEvent } from "../../convex/model/whatsapp/events";
import { MalformedPayloadError } from "../../convex/model/whatsapp/payload";
import { normaliseWahaWebhook, wahaParty } from "../../convex/model/whatsapp/wahaWebhook";
import {
  cloudFixtures,
  OUT_WAMID,
  PHONE_NUMBER_ID,
  USER_WA_ID,
  WABA_ID,
  WAHA_OUT_ID,
  wahaFixtures,
} from "./whatsapp-helpers";

const NOW = 1_800_000_000_000;
const W = "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUI";
const kerry = { waId: USER_WA_ID, phone: `+${USER_WA_ID}`, name: "Kerry Fisher" };

function cloudEvents(name: string): KeyedEvent[] {
  return normaliseCloudWebhook(JSON.parse(cloudFixtures[name]), NOW);
}

function only(name: string): KeyedEvent {
  const events = cloudEvents(name);
  expect(events).toHaveLength(1);
  return events[0];
}

function inbound(id: string, rest: Partial<Extract<WhatsAppEvent, { kind: "message" }>>) {
  return {
    dedupeKey: `cloud:msg:${W}${id}`,
    event: {
      kind: "message",
      provider: "cloud",
      phoneNumberId: PHONE_NUMBER_ID,
      messageId: `${W}${id}`,
      from: kerry,
      timestamp: 1717430400000,
      ...rest,
    },
  };
}

/** What each Cloud fixture must normalise to. Every fixture file must have an entry here. */
const cloudExpectations: Record<string, () => void> = {
  "message-text": () =>
    expect(only("message-text")).toEqual(
      inbound("TEXT001=", { type: "text", text: "Hi, do you have these shoes in size 42?" }),
    ),
  "message-image": () =>
    expect(only("message-image")).toEqual(
      inbound("IMAGE01=", {
        type: "image",
        text: "This pair",
        content: {
          id: "1003383421387256",
          mimeType: "image/jpeg",
          sha256: "WJfL0+d0pLJxY5dBuYmRDHuqyhlBlKzIKLujJ2JwlEs=",
          caption: "This pair",
        },
      }),
    ),
  "message-video": () =>
    expect(only("message-video").event).toMatchObject({
      type: "video",
      content: { id: "1284372359211201", mimeType: "video/mp4" },
    }),
  "message-audio-voice": () =>
    expect(only("message-audio-voice").event).toMatchObject({
      type: "audio",
      content: { id: "920347613028744", mimeType: "audio/ogg; codecs=opus", voice: true },
    }),
  "message-document": () =>
    expect(only("message-document").event).toMatchObject({
      type: "document",
      text: "Invoice",
      content: { filename: "invoice-0042.pdf", mimeType: "application/pdf", caption: "Invoice" },
    }),
  "message-sticker": () =>
    expect(only("message-sticker").event).toMatchObject({
      type: "sticker",
      content: { id: "1203587880748413", mimeType: "image/webp", animated: false },
    }),
  "message-location-numbers": () =>
    expect(only("message-location-numbers").event).toMatchObject({
      type: "location",
      content: {
        latitude: 40.4168,
        longitude: -3.7038,
        name: "Puerta del Sol",
        address: "Plaza de la Puerta del Sol, Madrid",
      },
    }),
  "message-location-strings": () => {
    const event = only("message-location-strings").event;
    expect(event).toMatchObject({ type: "location", content: { latitude: 41.3874, longitude: 2.1686 } });
    expect(typeof (event as unknown as { content: { latitude: unknown } }).content.latitude).toBe("number");
  },
  "message-contacts": () => {
    const event = only("message-contacts").event as Extract<WhatsAppEvent, { kind: "message" }>;
    expect(event).toMatchObject({ type: "contacts", text: "Kerry Fisher" });
    expect(event.content).toEqual([
      expect.objectContaining({
        name: expect.objectContaining({ formatted_name: "Kerry Fisher" }),
        phones: [{ phone: "+1 (650) 555-1234", type: "WORK", wa_id: "16505551234" }],
      }),
    ]);
  },
  "message-interactive-button-reply": () =>
    expect(only("message-interactive-button-reply")).toEqual(
      inbound("INTBT01=", {
        type: "interactive",
        text: "Size 42",
        content: { kind: "button_reply", id: "size-42", title: "Size 42" },
        context: { messageId: "wamid.OUTBOUND_INTERACTIVE_1", from: "15550783881" },
      }),
    ),
  "message-interactive-list-reply": () =>
    expect(only("message-interactive-list-reply").event).toMatchObject({
      type: "interactive",
      text: "Madrid",
      content: { kind: "list_reply", id: "store-madrid", title: "Madrid", description: "Calle Mayor 1" },
    }),
  "message-button": () =>
    expect(only("message-button").event).toMatchObject({
      type: "button",
      text: "Stop promotions",
      content: { payload: "STOP_PROMOTIONS", text: "Stop promotions" },
      context: { messageId: "wamid.OUTBOUND_TEMPLATE_1" },
    }),
  "message-reaction": () =>
    expect(only("message-reaction").event).toMatchObject({
      type: "reaction",
      text: "👍",
      content: { messageId: "wamid.OUTBOUND_TEMPLATE_1", emoji: "👍", removed: false },
    }),
  "message-reaction-removed": () => {
    const event = only("message-reaction-removed").event as Extract<WhatsAppEvent, { kind: "message" }>;
    expect(event).toMatchObject({ type: "reaction", timestamp: 1717430460000 });
    expect(event.content).toEqual({ messageId: "wamid.OUTBOUND_TEMPLATE_1", removed: true });
  },
  "message-unsupported": () =>
    expect(only("message-unsupported").event).toMatchObject({
      type: "unsupported",
      content: {
        providerType: "edit",
        errors: [
          {
            code: 131051,
            title: "Message type unknown",
            details: "Message type is currently not supported.",
          },
        ],
      },
    }),
  "message-reply": () =>
    expect(only("message-reply").event).toMatchObject({
      type: "text",
      text: "Yes, that one",
      context: { messageId: "wamid.OUTBOUND_TEXT_1", from: "15550783881" },
    }),
  "message-forwarded": () => {
    const [a, b] = cloudEvents("message-forwarded");
    expect(a.event).toMatchObject({ type: "text", context: { forwarded: true } });
    expect(b.event).toMatchObject({ type: "image", context: { frequentlyForwarded: true } });
    expect(a.dedupeKey).not.toBe(b.dedupeKey);
  },
  "unicode-escapes": () =>
    expect(only("unicode-escapes").event).toMatchObject({
      text: "Café crème — 👍",
      from: { name: "José María" },
    }),
  "status-sent": () =>
    expect(only("status-sent")).toEqual({
      dedupeKey: `cloud:status:${OUT_WAMID}:sent`,
      event: {
        kind: "status",
        provider: "cloud",
        phoneNumberId: PHONE_NUMBER_ID,
        messageId: OUT_WAMID,
        status: "sent",
        timestamp: 1717430500000,
        recipient: { waId: USER_WA_ID, phone: `+${USER_WA_ID}` },
        callbackData: "our-message-id-unknown",
        pricing: { billable: true, model: "PMP", type: "regular", category: "marketing" },
      },
    }),
  "status-sent-cbp": () =>
    expect(only("status-sent-cbp").event).toMatchObject({
      status: "sent",
      pricing: { billable: true, model: "CBP", category: "marketing" },
      conversation: {
        id: "f2c4f1a8b0e94a7e2bd3a5c1d9e8f7a6",
        expiresAt: 1717516800000,
        originType: "marketing",
      },
    }),
  "status-delivered": () =>
    expect(only("status-delivered")).toMatchObject({
      dedupeKey: `cloud:status:${OUT_WAMID}:delivered`,
      event: { status: "delivered", timestamp: 1717430503000 },
    }),
  "status-read": () =>
    expect(only("status-read")).toMatchObject({
      dedupeKey: `cloud:status:${OUT_WAMID}:read`,
      event: { status: "read", timestamp: 1717430560000 },
    }),
  "status-played": () =>
    // "played" counts as read, under the same key: a played after a read is a duplicate.
    expect(only("status-played")).toMatchObject({
      dedupeKey: `cloud:status:${OUT_WAMID}:read`,
      event: { status: "read", timestamp: 1717430570000 },
    }),
  "status-failed": () =>
    expect(only("status-failed").event).toMatchObject({
      status: "failed",
      errors: [
        {
          code: 131026,
          title: "Message undeliverable",
          message: "Message undeliverable",
          details: "Message Undeliverable.",
        },
      ],
    }),
  "status-failed-window": () =>
    expect(only("status-failed-window").event).toMatchObject({
      status: "failed",
      errors: [{ code: 131047 }],
    }),
  "status-failed-marketing-stopped": () =>
    expect(only("status-failed-marketing-stopped")).toMatchObject({
      dedupeKey: "cloud:status:wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI4QjJGRDZDNEU1RDdGODlBMEIA:failed",
      event: {
        status: "failed",
        timestamp: 1717431300000,
        recipient: { waId: USER_WA_ID },
        errors: [{ code: 131050, title: "User has stopped marketing messages" }],
      },
    }),
  "user-preferences-stop": () =>
    expect(only("user-preferences-stop")).toEqual({
      dedupeKey: `cloud:pref:${USER_WA_ID}:marketing_messages:stop:1717431000000`,
      event: {
        kind: "user_preference",
        provider: "cloud",
        phoneNumberId: PHONE_NUMBER_ID,
        from: kerry,
        category: "marketing_messages",
        value: "stop",
        detail: "User requested to stop marketing messages",
        timestamp: 1717431000000,
      },
    }),
  "user-preferences-resume": () =>
    expect(only("user-preferences-resume")).toMatchObject({
      dedupeKey: `cloud:pref:${USER_WA_ID}:marketing_messages:resume:1717434600000`,
      event: { kind: "user_preference", value: "resume", from: kerry, timestamp: 1717434600000 },
    }),
  "template-approved": () =>
    expect(only("template-approved")).toEqual({
      dedupeKey: "cloud:tpl:594425479261596:APPROVED:1717430600",
      event: {
        kind: "template_status",
        provider: "cloud",
        wabaId: WABA_ID,
        templateId: "594425479261596",
        name: "order_update",
        language: "en_US",
        event: "APPROVED",
        reason: "NONE",
        category: "UTILITY",
        timestamp: 1717430600000,
      },
    }),
  "template-rejected": () =>
    expect(only("template-rejected").event).toMatchObject({
      event: "REJECTED",
      reason: "INCORRECT_CATEGORY",
      name: "spring_sale",
      language: "es_ES",
    }),
  "template-paused": () =>
    expect(only("template-paused")).toMatchObject({
      dedupeKey: "cloud:tpl:594425479261596:PAUSED:1717431600",
      event: { event: "PAUSED" },
    }),
  "template-category-update": () =>
    expect(only("template-category-update")).toMatchObject({
      dedupeKey: "cloud:tpl:594425479261596:CATEGORY_UPDATE:1717432600",
      event: { kind: "template_status", event: "CATEGORY_UPDATE", category: "MARKETING" },
    }),
  "quality-update": () =>
    expect(only("quality-update")).toEqual({
      dedupeKey: "cloud:quality:15550783881:UPGRADE:1717430700",
      event: {
        kind: "quality",
        provider: "cloud",
        wabaId: WABA_ID,
        displayNumber: "15550783881",
        event: "UPGRADE",
        tier: "TIER_10K",
        timestamp: 1717430700000,
      },
    }),
  "quality-flagged": () =>
    expect(only("quality-flagged").event).toMatchObject({
      kind: "quality",
      event: "FLAGGED",
      tier: "TIER_10K",
    }),
  "unknown-field": () => {
    const { dedupeKey, event } = only("unknown-field");
    expect(dedupeKey).toMatch(/^cloud:unhandled:102290129340398:account_update:[0-9a-f]{16}$/);
    expect(event).toMatchObject({ kind: "unhandled", field: "account_update", timestamp: 1717430900000 });
    expect(JSON.parse((event as { raw: string }).raw)).toEqual({
      phone_number: "15550783881",
      event: "VERIFIED_ACCOUNT",
    });
  },
  "webhook-errors": () =>
    expect(only("webhook-errors").event).toMatchObject({
      kind: "unhandled",
      field: "messages.errors",
      phoneNumberId: PHONE_NUMBER_ID,
    }),
  "unknown-number": () =>
    expect(only("unknown-number").event).toMatchObject({ kind: "message", phoneNumberId: "999999999999999" }),
  // Business-scoped user ids (2026): with the phone, alone, with a username only (whatsapp-bsuid.test.ts).
  "bsuid-message-with-phone": () =>
    expect(only("bsuid-message-with-phone")).toEqual(
      inbound("BSUIDPHONE01=", {
        from: { ...kerry, bsuid: "US.13491208655302741918" },
        timestamp: 1717430460000,
        type: "text",
        text: "Any news about my order?",
      }),
    ),
  "bsuid-message-only": () =>
    expect(only("bsuid-message-only")).toEqual(
      inbound("BSUIDONLY001=", {
        from: { bsuid: "US.13491208655302741918", name: "Kerry Fisher" },
        timestamp: 1717430520000,
        type: "text",
        text: "I changed my mind: size 43, please",
      }),
    ),
  "bsuid-message-username-only": () =>
    expect(only("bsuid-message-username-only").event).toMatchObject({
      kind: "message",
      from: { bsuid: "BR.1502576394655843", name: "@night.owl" },
      text: "Olá! Vocês entregam no Brasil?",
    }),
  "bsuid-status-delivered": () =>
    expect(only("bsuid-status-delivered")).toMatchObject({
      dedupeKey: `cloud:status:${OUT_WAMID}:delivered`,
      event: {
        kind: "status",
        status: "delivered",
        recipient: { bsuid: "US.13491208655302741918" },
        timestamp: 1717430700000,
      },
    }),
  "bsuid-user-preferences-stop": () =>
    expect(only("bsuid-user-preferences-stop")).toEqual({
      dedupeKey: "cloud:pref:US.13491208655302741918:marketing_messages:stop:1717430800000",
      event: {
        kind: "user_preference",
        provider: "cloud",
        phoneNumberId: PHONE_NUMBER_ID,
        from: { bsuid: "US.13491208655302741918", name: "Kerry Fisher" },
        category: "marketing_messages",
        value: "stop",
        detail: "User requested to stop marketing messages",
        timestamp: 1717430800000,
      },
    }),
  mixed: () => {
    const events = cloudEvents("mixed");
    expect(events.map((e) => [e.event.kind, e.dedupeKey])).toEqual([
      ["message", `cloud:msg:${W}MIXED01=`],
      ["message", `cloud:msg:${W}MIXED02=`],
      ["status", `cloud:status:${OUT_WAMID}:delivered`],
      ["status", `cloud:status:${OUT_WAMID}:read`],
      ["template_status", "cloud:tpl:594425479261596:APPROVED:1717430600"],
      ["unhandled", expect.stringMatching(/^cloud:unhandled:102290129340398:security:/)],
    ]);
    // Each sender gets its own profile name from `contacts`.
    expect(events[0].event).toMatchObject({ from: { waId: USER_WA_ID, name: "Kerry Fisher" } });
    expect(events[1].event).toMatchObject({
      from: { waId: "34600111222", phone: "+34600111222", name: "Ana Ruiz" },
    });
  },
};

describe("Cloud API normaliser", () => {
  it("has an expectation for every fixture, and every fixture for an expectation", () => {
    expect(Object.keys(cloudFixtures).sort()).toEqual(Object.keys(cloudExpectations).sort());
  });

  for (const [name, check] of Object.entries(cloudExpectations)) {
    it(`normalises ${name}`, check);
  }

  it("keys every event of every fixture uniquely within its payload and never emits undefined fields", () => {
    for (const [name, text] of Object.entries(cloudFixtures)) {
      const events = normaliseCloudWebhook(JSON.parse(text), NOW);
      expect(events.length, name).toBeGreaterThan(0);
      expect(new Set(events.map((e) => e.dedupeKey)).size, name).toBe(events.length);
      const walk = (value: unknown, path: string) => {
        if (value === undefined) throw new Error(`${name}: undefined at ${path}`);
        if (value && typeof value === "object") {
          for (const [k, v] of Object.entries(value)) walk(v, `${path}.${k}`);
        }
      };
      walk(events, "events");
    }
  });

  it("normalises the same body to the same keys every time (redeliveries dedupe)", () => {
    for (const text of Object.values(cloudFixtures)) {
      const a = normaliseCloudWebhook(JSON.parse(text), NOW).map((e) => e.dedupeKey);
      const b = normaliseCloudWebhook(JSON.parse(text), NOW + 60_000).map((e) => e.dedupeKey);
      expect(b).toEqual(a);
    }
  });

  it("keeps a message of a type it does not know as unsupported, with its body", () => {
    const body = JSON.parse(cloudFixtures["message-text"]);
    const message = body.entry[0].changes[0].value.messages[0];
    delete message.text;
    message.type = "order";
    message.order = { catalog_id: "123", product_items: [{ product_retailer_id: "sku-1", quantity: "2" }] };
    const [event] = normaliseCloudWebhook(body, NOW);
    expect(event.event).toMatchObject({
      kind: "message",
      type: "unsupported",
      content: { providerType: "order", body: { catalog_id: "123" } },
    });
  });

  it("reads every user preference of a change, numbers or strings, and keeps an unknown value as unhandled", () => {
    const body = JSON.parse(cloudFixtures["user-preferences-stop"]);
    const value = body.entry[0].changes[0].value;
    value.user_preferences.push(
      { wa_id: "34600111222", category: "marketing_messages", value: "RESUME", timestamp: "1717431060" },
      { wa_id: "34600111222", category: "marketing_messages", value: "snooze", timestamp: 1717431120 },
    );
    const events = normaliseCloudWebhook(body, NOW);
    expect(events.map((e) => e.dedupeKey)).toEqual([
      `cloud:pref:${USER_WA_ID}:marketing_messages:stop:1717431000000`,
      "cloud:pref:34600111222:marketing_messages:resume:1717431060000",
      "cloud:pref:34600111222:marketing_messages:snooze:1717431120000",
    ]);
    expect(events[1].event).toEqual({
      kind: "user_preference",
      provider: "cloud",
      phoneNumberId: PHONE_NUMBER_ID,
      from: { waId: "34600111222", phone: "+34600111222" },
      category: "marketing_messages",
      value: "resume",
      timestamp: 1717431060000,
    });
    expect(events[2].event).toMatchObject({
      kind: "unhandled",
      field: "user_preferences",
      phoneNumberId: PHONE_NUMBER_ID,
    });
  });

  it("keeps an unknown status and unknown keys of a messages change as unhandled", () => {
    const body = JSON.parse(cloudFixtures["status-read"]);
    body.entry[0].changes[0].value.statuses[0].status = "deleted";
    body.entry[0].changes[0].value.message_echoes = [{ id: "x" }];
    const events = normaliseCloudWebhook(body, NOW);
    expect(events.map((e) => [e.event.kind, (e.event as { field?: string }).field])).toEqual([
      ["unhandled", "messages.statuses"],
      ["unhandled", "messages.message_echoes"],
    ]);
    expect(events[0].dedupeKey).toBe(`cloud:status:${OUT_WAMID}:deleted`);
  });

  const malformed: [string, unknown, RegExp][] = [
    ["a string", "hello", /body must be an object/],
    ["an array", [], /body must be an object/],
    ["another object", { object: "page", entry: [] }, /"object" must be "whatsapp_business_account"/],
    ["no entry", { object: "whatsapp_business_account" }, /entry must be an array/],
    [
      "an entry without id",
      { object: "whatsapp_business_account", entry: [{ changes: [] }] },
      /entry\[0\]\.id/,
    ],
    [
      "changes not an array",
      { object: "whatsapp_business_account", entry: [{ id: "1", changes: {} }] },
      /entry\[0\]\.changes must be an array/,
    ],
    [
      "a change without field",
      { object: "whatsapp_business_account", entry: [{ id: "1", changes: [{ value: {} }] }] },
      /changes\[0\]\.field/,
    ],
    [
      "messages without metadata",
      {
        object: "whatsapp_business_account",
        entry: [{ id: "1", changes: [{ field: "messages", value: { messages: [] } }] }],
      },
      /value\.metadata must be an object/,
    ],
    [
      "a message without id",
      mutate("message-text", (b) => delete b.entry[0].changes[0].value.messages[0].id),
      /messages\[0\]\.id/,
    ],
    [
      "a message with a non-numeric timestamp",
      mutate("message-text", (b) => (b.entry[0].changes[0].value.messages[0].timestamp = "yesterday")),
      /messages\[0\]\.timestamp must be a number/,
    ],
    [
      "a location without numbers",
      mutate(
        "message-location-strings",
        (b) => (b.entry[0].changes[0].value.messages[0].location.latitude = "north"),
      ),
      /location\.latitude must be a number/,
    ],
    [
      "a status without recipient",
      mutate("status-sent", (b) => delete b.entry[0].changes[0].value.statuses[0].recipient_id),
      /statuses\[0\]\.recipient_id/,
    ],
    [
      "statuses not an array",
      mutate(
        "status-sent",
        (b) => ((b.entry[0].changes[0].value as { statuses: unknown }).statuses = { id: "x" }),
      ),
      /statuses must be an array/,
    ],
    [
      "a user preference without wa_id",
      mutate("user-preferences-stop", (b) => delete b.entry[0].changes[0].value.user_preferences[0].wa_id),
      /user_preferences\[0\]\.wa_id \(or user_id\) is missing/,
    ],
    [
      "a user preference without timestamp",
      mutate(
        "user-preferences-stop",
        (b) => delete b.entry[0].changes[0].value.user_preferences[0].timestamp,
      ),
      /user_preferences\[0\]\.timestamp must be a number/,
    ],
    [
      "user preferences without metadata",
      mutate("user-preferences-stop", (b) => delete b.entry[0].changes[0].value.metadata),
      /value\.metadata must be an object/,
    ],
    [
      "a template update without id",
      mutate("template-approved", (b) => delete b.entry[0].changes[0].value.message_template_id),
      /message_template_id/,
    ],
  ];
  for (const [what, body, message] of malformed) {
    it(`refuses ${what} with a clear error`, () => {
      expect(() => normaliseCloudWebhook(body, NOW)).toThrow(MalformedPayloadError);
      expect(() => normaliseCloudWebhook(body, NOW)).toThrow(message);
    });
  }
});

/** The parts of a Cloud API webhook fixture that the malformed cases break. */
type CloudFixture = {
  entry: {
    changes: {
      value: {
        messages: { id?: string; timestamp: unknown; location: { latitude: unknown } }[];
        statuses: { recipient_id?: string }[];
        user_preferences: { wa_id?: string; timestamp?: unknown }[];
        metadata?: unknown;
        message_template_id?: string;
      };
    }[];
  }[];
};

function mutate(name: string, change: (body: CloudFixture) => void): unknown {
  const body = JSON.parse(cloudFixtures[name]) as CloudFixture;
  change(body);
  return body;
}

// ---------------------------------------------------------------- WAHA

function wahaEvent(name: string): KeyedEvent {
  return normaliseWahaWebhook(JSON.parse(wahaFixtures[name]), NOW);
}

const ana = { chatId: "34600111222@c.us", waId: "34600111222", phone: "+34600111222", name: "Ana Ruiz" };
const IN_ID = "false_34600111222@c.us_AAAAAAAAAAAAAAAAAAAA";

const wahaExpectations: Record<string, () => void> = {
  "message-text": () =>
    expect(wahaEvent("message-text")).toEqual({
      dedupeKey: "waha:evt_01HZX3Q2M8K9ZB4T6W1R5N7C2D",
      event: {
        kind: "message",
        provider: "waha",
        session: "default",
        messageId: IN_ID,
        from: ana,
        timestamp: 1717430400000,
        type: "text",
        text: "Hola, ¿tenéis la talla 42?",
      },
    }),
  "message-any-inbound": () => {
    // The same message as `message`, under its own event id: processing stores it once.
    const { dedupeKey, event } = wahaEvent("message-any-inbound");
    expect(dedupeKey).toBe("waha:evt_01HZX3Q2M8K9ZB4T6W1R5N7C2E");
    expect(event).toEqual(wahaEvent("message-text").event);
  },
  "message-any-own": () =>
    expect(wahaEvent("message-any-own").event).toMatchObject({
      kind: "unhandled",
      field: "message.any:fromMe",
    }),
  "message-lid": () =>
    expect(wahaEvent("message-lid").event).toMatchObject({
      kind: "message",
      from: { lid: "123456789012345@lid", chatId: "123456789012345@lid", name: "Ana R." },
      timestamp: 1717430500000,
    }),
  "message-lid-with-phone": () =>
    expect(wahaEvent("message-lid-with-phone").event).toMatchObject({
      from: { lid: "123456789012345@lid", phone: "+34600111222", waId: "34600111222", name: "Ana Ruiz" },
    }),
  "message-image": () =>
    expect(wahaEvent("message-image").event).toMatchObject({
      type: "image",
      text: "Esta",
      content: {
        url: "http://waha.local:3000/api/files/default/DDDDDDDDDDDDDDDDDDDD.jpeg",
        mimeType: "image/jpeg",
        caption: "Esta",
      },
    }),
  "message-voice": () =>
    expect(wahaEvent("message-voice").event).toMatchObject({
      type: "audio",
      content: { mimeType: "audio/ogg; codecs=opus", voice: true },
    }),
  "message-location": () =>
    expect(wahaEvent("message-location").event).toMatchObject({
      type: "location",
      content: { latitude: 40.4168, longitude: -3.7038, name: "Puerta del Sol" },
    }),
  "message-reply": () =>
    expect(wahaEvent("message-reply").event).toMatchObject({
      type: "text",
      text: "Esa misma",
      context: { messageId: WAHA_OUT_ID, from: "34911222333@c.us" },
    }),
  "message-reaction": () =>
    expect(wahaEvent("message-reaction").event).toMatchObject({
      type: "reaction",
      text: "❤️",
      content: { messageId: WAHA_OUT_ID, emoji: "❤️", removed: false },
    }),
  "message-group": () =>
    expect(wahaEvent("message-group").event).toMatchObject({ kind: "unhandled", field: "message:g.us" }),
  "ack-error": () =>
    expect(wahaEvent("ack-error").event).toMatchObject({
      kind: "status",
      status: "failed",
      messageId: "true_34600111222@c.us_3EB0FAILEDFAILEDFAIL",
      timestamp: 1717430800000,
      recipient: { chatId: "34600111222@c.us", phone: "+34600111222" },
    }),
  "ack-pending": () =>
    expect(wahaEvent("ack-pending")).toMatchObject({
      dedupeKey: "waha:evt_01HZX3Q2M8K9ZB4T6W1R5N7C41",
      event: { kind: "unhandled", field: "message.ack" },
    }),
  "ack-server": () => expect(wahaEvent("ack-server").event).toMatchObject({ kind: "status", status: "sent" }),
  "ack-device": () =>
    expect(wahaEvent("ack-device").event).toMatchObject({ kind: "status", status: "delivered" }),
  "ack-read": () => expect(wahaEvent("ack-read").event).toMatchObject({ kind: "status", status: "read" }),
  "ack-played": () =>
    expect(wahaEvent("ack-played").event).toMatchObject({
      kind: "status",
      status: "read",
      messageId: WAHA_OUT_ID,
    }),
  "session-status": () =>
    expect(wahaEvent("session-status")).toEqual({
      dedupeKey: "waha:evt_01HZX3Q2M8K9ZB4T6W1R5N7C50",
      event: {
        kind: "session_status",
        provider: "waha",
        session: "default",
        status: "WORKING",
        timestamp: 1717430900000,
      },
    }),
  "session-status-scan": () =>
    expect(wahaEvent("session-status-scan").event).toMatchObject({
      status: "SCAN_QR_CODE",
      timestamp: 1717430890000,
    }),
  "unknown-event": () =>
    expect(wahaEvent("unknown-event").event).toMatchObject({
      kind: "unhandled",
      field: "presence.update",
      session: "default",
    }),
};

describe("WAHA normaliser", () => {
  it("has an expectation for every fixture, and every fixture for an expectation", () => {
    expect(Object.keys(wahaFixtures).sort()).toEqual(Object.keys(wahaExpectations).sort());
  });

  for (const [name, check] of Object.entries(wahaExpectations)) {
    it(`normalises ${name}`, check);
  }

  it("reads chat ids: @c.us and @s.whatsapp.net are phones, @lid is a privacy id", () => {
    expect(wahaParty("34600111222@c.us")).toEqual({
      chatId: "34600111222@c.us",
      waId: "34600111222",
      phone: "+34600111222",
    });
    expect(wahaParty("34600111222:12@s.whatsapp.net")).toEqual({
      chatId: "34600111222@c.us",
      waId: "34600111222",
      phone: "+34600111222",
    });
    expect(wahaParty("99887766@lid", "Ana")).toEqual({
      lid: "99887766@lid",
      chatId: "99887766@lid",
      name: "Ana",
    });
  });

  const malformed: [string, unknown, RegExp][] = [
    ["a string", "x", /body must be an object/],
    ["no id", { event: "message", session: "default", payload: {} }, /id must be a non-empty string/],
    ["no event", { id: "evt_1", session: "default", payload: {} }, /event must be a non-empty string/],
    ["no session", { id: "evt_1", event: "message", payload: {} }, /session must be a non-empty string/],
    [
      "a message without payload",
      { id: "evt_1", event: "message", session: "s" },
      /payload must be an object/,
    ],
    [
      "a message without from",
      { id: "evt_1", event: "message", session: "s", payload: { id: "m1", body: "x" } },
      /payload\.from/,
    ],
    [
      "an ack without a number",
      { id: "evt_1", event: "message.ack", session: "s", payload: { id: "m1", ack: "READ" } },
      /payload\.ack must be a number/,
    ],
    [
      "a bad timestamp",
      {
        id: "evt_1",
        event: "session.status",
        session: "s",
        timestamp: "soon",
        payload: { status: "WORKING" },
      },
      /timestamp must be a number/,
    ],
  ];
  for (const [what, body, message] of malformed) {
    it(`refuses ${what} with a clear error`, () => {
      expect(() => normaliseWahaWebhook(body, NOW)).toThrow(MalformedPayloadError);
      expect(() => normaliseWahaWebhook(body, NOW)).toThrow(message);
    });
  }
});
