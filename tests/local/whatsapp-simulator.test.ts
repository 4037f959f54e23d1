/**
 * The WhatsApp simulator behaves like the APIs it stands in for: Meta's Cloud API and WAHA
 * validate, limit and answer in their shapes, statuses come back as signed webhooks, and the
 * fault knobs do what they say.
 */
import { createHmac } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { ConvexHttpClient } from "convex/browser";
import { chromium } from "playwright-core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { api } from "../../convex/_generated/api";
import { normaliseCloudWebhook } from "../../convex/model/whatsapp/cloudWebhook";
import { localWhatsAppSettings } from "../../local/stack";
import { DEMO, demoIdentity, seedDemo } from "../../local/whatsapp-simulator/demo";
import {
  startWebhookReceiver,
  type ReceivedWebhook,
  type WebhookReceiver,
} from "../../local/whatsapp-simulator/receiver";
import { startWhatsAppSimulator, type WhatsAppSimulator } from "../../local/whatsapp-simulator/server";
import { removeDir, startServer, tempDir, until } from "./harness";

const CLOUD = {
  phoneNumberId: "109000000000001",
  wabaId: "209000000000001",
  displayNumber: "15550001111",
  accessToken: "EAAG-test-token",
  appSecret: "app-secret-1",
};
const WAHA = { session: "default", apiKey: "waha-key", hmacKey: "waha-hmac-key", number: "34911222333" };
const USER = "34600111222";
const FAST = { sent: 5, delivered: 15, read: 25 };

let sim: WhatsAppSimulator;
let hooks: WebhookReceiver;

async function start(knobs: Record<string, unknown> = {}) {
  hooks = await startWebhookReceiver();
  sim = await startWhatsAppSimulator({
    seed: 1,
    config: {
      cloud: [{ ...CLOUD, webhookUrl: `${hooks.url}/whatsapp/cloud` }],
      waha: [{ ...WAHA, webhookUrl: `${hooks.url}/whatsapp/waha/channel-1` }],
      templates: [
        {
          wabaId: CLOUD.wabaId,
          name: "order_update",
          language: "en_US",
          category: "UTILITY",
          components: [{ type: "BODY", text: "Hi {{1}}, order {{2}} has shipped." }],
        },
        {
          wabaId: CLOUD.wabaId,
          name: "spring_sale",
          language: "es_ES",
          category: "MARKETING",
          parameter_format: "NAMED",
          components: [
            { type: "HEADER", format: "IMAGE" },
            { type: "BODY", text: "Hola {{first_name}}, {{discount}} de descuento." },
            { type: "BUTTONS", buttons: [{ type: "URL", text: "Ver", url: "https://shop.test/{{1}}" }] },
          ],
        },
      ],
    },
    knobs: { statusDelaysMs: FAST, ...knobs },
  });
}

beforeEach(async () => {
  await start();
});

afterEach(async () => {
  await sim?.close();
  await hooks?.close();
});

/** A Graph API error body. */
type GraphError = {
  message: string;
  type: string;
  code: number;
  error_subcode?: number;
  error_data: { details: string };
  fbtrace_id: string;
  is_transient?: boolean;
};

/**
 * The fields of the simulator's Cloud API and control answers that these tests read. Each answer
 * carries only some of them; the tests check which.
 */
type CloudJson = {
  error: GraphError;
  messages: { id: string; message_status: string }[];
  id: string;
  data: { id: string; name: string; status: string }[];
  paging: { cursors: { after: string }; next?: string };
  url: string;
  cloud: { phoneNumberId: string }[];
};

/** The fields of the simulator's WAHA answers that these tests read. */
type WahaJson = {
  id: { _serialized: string };
  hasMedia: boolean;
  message: string | string[];
  statusCode: number;
};

type Answer<T = CloudJson> = { status: number; json: T };

async function call<T = CloudJson>(
  path: string,
  options: { method?: string; body?: unknown; headers?: Record<string, string>; raw?: string } = {},
): Promise<Answer<T>> {
  const res = await fetch(sim.url + path, {
    method: options.method ?? (options.body !== undefined || options.raw !== undefined ? "POST" : "GET"),
    headers: { "content-type": "application/json", ...options.headers },
    body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
  });
  return { status: res.status, json: (await res.json()) as T };
}

const bearer = (token = CLOUD.accessToken) => ({ authorization: `Bearer ${token}` });

function sendCloud(body: Record<string, unknown>, token?: string) {
  return call(`/v23.0/${CLOUD.phoneNumberId}/messages`, { body, headers: bearer(token) });
}

const text = (to: string, body = "Hello", extra: Record<string, unknown> = {}) => ({
  messaging_product: "whatsapp",
  recipient_type: "individual",
  to,
  type: "text",
  text: { body },
  ...extra,
});

const template = (name: string, language: string, components?: unknown[], to = USER) => ({
  messaging_product: "whatsapp",
  to,
  type: "template",
  template: { name, language: { code: language }, ...(components ? { components } : {}) },
});

const bodyParams = (...values: string[]) => [
  { type: "body", parameters: values.map((t) => ({ type: "text", text: t })) },
];

/** The user writes first, so the 24 h window is open. */
async function userWrites(number = USER, to = CLOUD.phoneNumberId, extra: Record<string, unknown> = {}) {
  const res = await call(`/_sim/users/${number}/messages`, { body: { to, text: "Hi there", ...extra } });
  expect(res.status).toBe(200);
  return res.json as { id: string };
}

function expectGraphError(answer: Answer, status: number, code: number) {
  expect(answer.status).toBe(status);
  expect(answer.json.error).toMatchObject({ code, type: "OAuthException" });
  expect(typeof answer.json.error.message).toBe("string");
  expect(answer.json.error.fbtrace_id).toMatch(/^A/);
}

/** A message status in a Cloud API webhook, with the fields these tests read. */
type CloudStatus = {
  id: string;
  status: string;
  timestamp: string;
  conversation: { expiration_timestamp: string };
  pricing?: unknown;
  errors: { code: number; title: string }[];
};

/** The parts of a Cloud API webhook body that carry message statuses. */
type StatusWebhook = { entry?: { changes: { value: { statuses?: CloudStatus[] } }[] }[] };

const cloudStatuses = (w: ReceivedWebhook) =>
  ((w.json as StatusWebhook | undefined)?.entry ?? []).flatMap((e) =>
    e.changes.flatMap((c) => c.value.statuses ?? []),
  );
const isStatus = (id: string, status?: string) => (w: ReceivedWebhook) =>
  cloudStatuses(w).some((s) => s.id === id && (!status || s.status === status));

describe("Cloud API: requests are validated like Meta's", () => {
  it("answers 401 with code 190 without a token, with an unknown token and with an expired one", async () => {
    const none = await call(`/v23.0/${CLOUD.phoneNumberId}/messages`, { body: text(USER) });
    expectGraphError(none, 401, 190);
    expectGraphError(await sendCloud(text(USER), "not-a-token"), 401, 190);

    expect((await call(`/_sim/cloud/${CLOUD.phoneNumberId}/expire-token`, { body: {} })).status).toBe(200);
    const expired = await sendCloud(text(USER));
    expectGraphError(expired, 401, 190);
    expect(expired.json.error.error_subcode).toBe(463);
    expect(expired.json.error.message).toMatch(/Session has expired/);
    expect(sim.state.messages).toHaveLength(0);
  });

  it("rejects a phone number id the token does not cover (100, subcode 33)", async () => {
    const res = await call(`/v23.0/999999/messages`, { body: text(USER), headers: bearer() });
    expectGraphError(res, 400, 100);
    expect(res.json.error.error_subcode).toBe(33);
  });

  it("rejects malformed bodies with code 100 and names the parameter", async () => {
    await userWrites();
    const cases: [unknown, RegExp][] = [
      [{ to: USER, type: "text", text: { body: "x" } }, /messaging_product is required/],
      [{ messaging_product: "sms", to: USER, text: { body: "x" } }, /messaging_product must be one of/],
      [{ messaging_product: "whatsapp", type: "text", text: { body: "x" } }, /parameter to is required/],
      [{ messaging_product: "whatsapp", to: USER, type: "fax", fax: {} }, /type must be one of/],
      [{ messaging_product: "whatsapp", to: USER, type: "text", text: {} }, /text\['body'\] is required/],
      [{ messaging_product: "whatsapp", to: USER, type: "image", image: { link: "ftp://x" } }, /valid http/],
      [{ messaging_product: "whatsapp", to: USER, type: "template", template: { name: "x" } }, /language/],
      [text(USER, "x", { biz_opaque_callback_data: "y".repeat(513) }), /biz_opaque_callback_data/],
    ];
    for (const [body, message] of cases) {
      const res = await sendCloud(body as Record<string, unknown>);
      expectGraphError(res, 400, 100);
      expect(res.json.error.message).toMatch(message);
    }
    const unreadable = await call(`/v23.0/${CLOUD.phoneNumberId}/messages`, {
      raw: "{nope",
      headers: bearer(),
    });
    expectGraphError(unreadable, 400, 100);
    expect(sim.state.messages.filter((m) => m.direction === "out")).toHaveLength(0);
  });

  it("accepts a valid message with Meta's success shape", async () => {
    await userWrites();
    const res = await sendCloud(text(`+${USER}`));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      messaging_product: "whatsapp",
      contacts: [{ input: `+${USER}`, wa_id: USER }],
    });
    expect(res.json.messages[0].id).toMatch(/^wamid\.HBg/);
  });

  it("limits throughput per number: sends beyond the configured rate get 130429", async () => {
    sim.state.setKnobs({ throughputPerSecond: 5 });
    const users = Array.from({ length: 8 }, (_, i) => `3460000000${i}`);
    const results = await Promise.all(users.map((u) => sendCloud(text(u))));
    const ok = results.filter((r) => r.status === 200);
    const limited = results.filter((r) => r.json.error?.code === 130429);
    expect(ok).toHaveLength(5);
    expect(limited).toHaveLength(3);
    expectGraphError(limited[0], 400, 130429);
    // The window of one second slides: after it, the number can send again.
    await new Promise((r) => setTimeout(r, 1_050));
    expect((await sendCloud(text(users[0]))).status).toBe(200);
  });

  it("counts a send against the throughput before it answers (sendAnswerDelayMs)", async () => {
    sim.state.setKnobs({ throughputPerSecond: 1, sendAnswerDelayMs: 300 });
    const started = performance.now();
    const first = sendCloud(text("34600000001"));
    // Sent while the first still waits for its answer: the first was already counted.
    await new Promise((r) => setTimeout(r, 50));
    const second = await sendCloud(text("34600000002"));
    expectGraphError(second, 400, 130429);
    expect((await first).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(300);
  });

  it("enforces the pair limit per recipient (131056) but not across recipients", async () => {
    sim.state.setKnobs({ pairBurst: 2, pairIntervalMs: 60_000 });
    await userWrites();
    expect((await sendCloud(text(USER, "1"))).status).toBe(200);
    expect((await sendCloud(text(USER, "2"))).status).toBe(200);
    const third = await sendCloud(text(USER, "3"));
    expectGraphError(third, 400, 131056);
    expect(third.json.error.error_data.details).toMatch(/same phone number/);
    expect((await sendCloud(text("34600999000", "other"))).status).toBe(200);
  });

  it("closes the 24 h window: free-form messages fail with 131047 unless the user wrote within 24 h", async () => {
    await userWrites(USER, CLOUD.phoneNumberId, { timestamp: Date.now() - 25 * 3_600_000 });
    const stale = await sendCloud(text(USER));
    expect(stale.status).toBe(200); // as Meta: accepted, then a failed status
    const failed = await hooks.waitFor(1, isStatus(stale.json.messages[0].id, "failed"));
    const status = cloudStatuses(failed[0])[0];
    expect(status.errors[0]).toMatchObject({ code: 131047, title: "Re-engagement message" });
    expect(hooks.received.filter(isStatus(stale.json.messages[0].id, "sent"))).toHaveLength(0);

    // Templates may go out of the window.
    const tpl = await sendCloud(template("order_update", "en_US", bodyParams("Ana", "A-1")));
    expect(tpl.status).toBe(200);
    await hooks.waitFor(1, isStatus(tpl.json.messages[0].id, "delivered"));

    // Synchronous mode answers the send itself with 131047.
    sim.state.setKnobs({ windowClosedAs: "error" });
    expectGraphError(await sendCloud(text(USER)), 400, 131047);

    // Once the user writes, free-form messages are delivered.
    await userWrites();
    const fresh = await sendCloud(text(USER));
    expect(fresh.status).toBe(200);
    await hooks.waitFor(1, isStatus(fresh.json.messages[0].id, "delivered"));
  });
});

describe("Cloud API: templates", () => {
  it("refuses unknown, unapproved and wrongly parameterised templates (132001, 132000, 132012)", async () => {
    const missing = await sendCloud(template("no_such", "en_US"));
    expectGraphError(missing, 404, 132001);
    expect(missing.json.error.error_data.details).toBe("template name (no_such) does not exist in en_US");
    expectGraphError(await sendCloud(template("order_update", "es_ES", bodyParams("a", "b"))), 404, 132001);

    const few = await sendCloud(template("order_update", "en_US", bodyParams("Ana")));
    expectGraphError(few, 400, 132000);
    expect(few.json.error.error_data.details).toMatch(
      /localizable_params \(1\).*expected number of params \(2\)/,
    );
    expectGraphError(await sendCloud(template("order_update", "en_US")), 400, 132000);

    const header = {
      type: "header",
      parameters: [{ type: "image", image: { link: "https://x.test/a.jpg" } }],
    };
    const button = {
      type: "button",
      sub_type: "url",
      index: "0",
      parameters: [{ type: "text", text: "A1" }],
    };
    const named = (names: string[]) => ({
      type: "body",
      parameters: names.map((n) => ({ type: "text", parameter_name: n, text: "v" })),
    });
    expectGraphError(
      await sendCloud(template("spring_sale", "es_ES", [header, named(["first_name", "wrong"]), button])),
      400,
      132012,
    );
    expectGraphError(
      await sendCloud(template("spring_sale", "es_ES", [header, named(["first_name"]), button])),
      400,
      132000,
    );
    expectGraphError(
      await sendCloud(template("spring_sale", "es_ES", [header, named(["first_name", "discount"])])),
      400,
      132000,
    );
    const ok = await sendCloud(
      template("spring_sale", "es_ES", [header, named(["first_name", "discount"]), button]),
    );
    expect(ok.status).toBe(200);
    expect(ok.json.messages[0].message_status).toBe("accepted");
  });

  it("creates templates PENDING, lists and gets them, and approval sends the status webhook", async () => {
    const path = `/v23.0/${CLOUD.wabaId}/message_templates`;
    const components = [{ type: "BODY", text: "Your code is {{1}}", example: { body_text: [["123"]] } }];
    const bad = await call(path, {
      body: { name: "Bad Name", category: "UTILITY", language: "en_US", components },
      headers: bearer(),
    });
    expectGraphError(bad, 400, 100);
    const noAuth = await call(path, {
      body: { name: "x", category: "UTILITY", language: "en_US", components },
    });
    expectGraphError(noAuth, 401, 190);

    const created = await call(path, {
      body: { name: "login_code", category: "AUTHENTICATION", language: "en_US", components },
      headers: bearer(),
    });
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({ status: "PENDING", category: "AUTHENTICATION" });
    expect(created.json.id).toMatch(/^\d{15}$/);
    const duplicate = await call(path, {
      body: { name: "login_code", category: "AUTHENTICATION", language: "en_US", components },
      headers: bearer(),
    });
    expectGraphError(duplicate, 400, 100);
    expect(duplicate.json.error.error_subcode).toBe(2388024);

    // Not approved yet: sending it is 132001.
    expectGraphError(await sendCloud(template("login_code", "en_US", bodyParams("1"))), 404, 132001);

    const page1 = await call(`${path}?limit=2&fields=name,status`, { headers: bearer() });
    expect(page1.status).toBe(200);
    expect(page1.json.data).toHaveLength(2);
    expect(Object.keys(page1.json.data[0]).sort()).toEqual(["id", "name", "status"]);
    expect(page1.json.paging.next).toBeTruthy();
    const page2 = await call(`${path}?limit=2&after=${page1.json.paging.cursors.after}`, {
      headers: bearer(),
    });
    expect(page2.json.data.map((t) => t.name)).toEqual(["login_code"]);
    expect(page2.json.paging.next).toBeUndefined();
    const pending = await call(`${path}?status=PENDING`, { headers: bearer() });
    expect(pending.json.data.map((t) => t.name)).toEqual(["login_code"]);

    const one = await call(`/v23.0/${created.json.id}?fields=status,category`, { headers: bearer() });
    expect(one.json).toEqual({ id: created.json.id, status: "PENDING", category: "AUTHENTICATION" });
    expectGraphError(await call(`/v23.0/424242424242`, { headers: bearer() }), 400, 100);

    const approved = await call(`/_sim/templates/${created.json.id}/status`, { body: { event: "APPROVED" } });
    expect(approved.status).toBe(200);
    const [hook] = await hooks.waitFor(
      1,
      (w) => w.json?.entry?.[0]?.changes?.[0]?.field === "message_template_status_update",
    );
    expect(hook.path).toBe("/whatsapp/cloud");
    expect(hook.json.entry[0]).toMatchObject({ id: CLOUD.wabaId });
    expect(typeof hook.json.entry[0].time).toBe("number");
    expect(hook.json.entry[0].changes[0].value).toMatchObject({
      event: "APPROVED",
      message_template_id: Number(created.json.id),
      message_template_name: "login_code",
      message_template_language: "en_US",
    });
    expect((await sendCloud(template("login_code", "en_US", bodyParams("123456")))).status).toBe(200);

    await call(`/_sim/templates/${created.json.id}/status`, {
      body: { event: "REJECTED", reason: "INCORRECT_CATEGORY" },
    });
    const [rejected] = await hooks.waitFor(
      1,
      (w) => w.json?.entry?.[0]?.changes?.[0]?.value?.event === "REJECTED",
    );
    expect(rejected.json.entry[0].changes[0].value.reason).toBe("INCORRECT_CATEGORY");
  });
});

describe("Cloud API: statuses come back as signed webhooks", () => {
  it("sends sent, delivered and read, signed over the raw bytes, with callback data and pricing", async () => {
    await userWrites();
    hooks.clear();
    const res = await sendCloud(text(USER, "Hi", { biz_opaque_callback_data: "msg_42" }));
    const id = res.json.messages[0].id;
    const got = await hooks.waitFor(3, isStatus(id));
    const statuses = got.map((w) => cloudStatuses(w)[0]);
    // Webhooks may overtake each other on the wire; they are made in lifecycle order.
    expect(statuses.map((s) => s.status).sort()).toEqual(["delivered", "read", "sent"]);
    const made = sim.state.webhooks.log
      .filter((w) => w.body.includes(id))
      .map((w) => JSON.parse(w.body).entry[0].changes[0].value.statuses[0].status);
    expect(made).toEqual(["sent", "delivered", "read"]);
    for (const [i, w] of got.entries()) {
      const expected = "sha256=" + createHmac("sha256", CLOUD.appSecret).update(w.raw).digest("hex");
      expect(w.headers["x-hub-signature-256"]).toBe(expected);
      const wrong = "sha256=" + createHmac("sha256", "another-secret").update(w.raw).digest("hex");
      expect(w.headers["x-hub-signature-256"]).not.toBe(wrong);
      expect(w.json.object).toBe("whatsapp_business_account");
      expect(w.json.entry[0].changes[0].value.metadata).toEqual({
        display_phone_number: CLOUD.displayNumber,
        phone_number_id: CLOUD.phoneNumberId,
      });
      expect(statuses[i]).toMatchObject({ id, recipient_id: USER, biz_opaque_callback_data: "msg_42" });
      expect(statuses[i].timestamp).toMatch(/^\d{10}$/);
    }
    const byStatus = Object.fromEntries(statuses.map((st) => [st.status, st]));
    expect(byStatus.sent.pricing).toEqual({
      billable: false,
      pricing_model: "PMP",
      type: "free_customer_service",
      category: "service",
    });
    expect(byStatus.sent.conversation.expiration_timestamp).toMatch(/^\d+$/);
    expect(byStatus.read.pricing).toBeUndefined();
  });

  it("prices templates by category and country and charges on delivery", async () => {
    const header = {
      type: "header",
      parameters: [{ type: "image", image: { link: "https://x.test/a.jpg" } }],
    };
    const body = {
      type: "body",
      parameters: [
        { type: "text", parameter_name: "first_name", text: "Ana" },
        { type: "text", parameter_name: "discount", text: "20%" },
      ],
    };
    const button = { type: "button", sub_type: "url", index: 0, parameters: [{ type: "text", text: "A1" }] };
    const es = await sendCloud(template("spring_sale", "es_ES", [header, body, button], "34600111222"));
    const inn = await sendCloud(template("spring_sale", "es_ES", [header, body, button], "919800011122"));
    await hooks.waitFor(1, isStatus(es.json.messages[0].id, "delivered"));
    await hooks.waitFor(1, isStatus(inn.json.messages[0].id, "delivered"));
    const sent = (await hooks.waitFor(1, isStatus(es.json.messages[0].id, "sent"))).map(
      (w) => cloudStatuses(w)[0],
    );
    expect(sent[0].pricing).toEqual({
      billable: true,
      pricing_model: "PMP",
      type: "regular",
      category: "marketing",
    });
    const charges = sim.state.charges;
    expect(charges.map((c) => [c.country, c.category])).toEqual([
      ["ES", "marketing"],
      ["IN", "marketing"],
    ]);
    expect(charges[0].priceUsd).toBeGreaterThan(charges[1].priceUsd);
    expect(sim.state.messages.find((m) => m.id === es.json.messages[0].id)?.text).toContain(
      "Hola Ana, 20% de descuento.",
    );
  });

  it("sends a user's inbound message signed, with non-ASCII escaped as Meta does", async () => {
    const res = await userWrites(USER, CLOUD.displayNumber, {
      text: "¿Hola? ñandú 👋 https://x.test/a",
      name: "Ana",
    });
    const [hook] = await hooks.waitFor(1, (w) => w.json?.entry?.[0]?.changes?.[0]?.value?.messages);
    const raw = hook.raw.toString("utf8");
    expect(raw).toContain("\\u00bfHola? \\u00f1and\\u00fa \\ud83d\\udc4b https:\\/\\/x.test\\/a");
    const sign = (bytes: Buffer | string) =>
      "sha256=" + createHmac("sha256", CLOUD.appSecret).update(bytes).digest("hex");
    expect(hook.headers["x-hub-signature-256"]).toBe(sign(hook.raw));
    // A re-serialised body is different bytes: verifying it would fail.
    expect(sign(JSON.stringify(hook.json))).not.toBe(hook.headers["x-hub-signature-256"]);
    const value = hook.json.entry[0].changes[0].value;
    expect(value.contacts).toEqual([{ profile: { name: "Ana" }, wa_id: USER }]);
    expect(value.messages[0]).toMatchObject({
      from: USER,
      id: res.id,
      type: "text",
      text: { body: "¿Hola? ñandú 👋 https://x.test/a" },
    });
    expect(value.messages[0].timestamp).toMatch(/^\d{10}$/);
  });

  it("sends the other inbound shapes: media, location, interactive, button, reaction, reply", async () => {
    const kinds: Record<string, unknown>[] = [
      { type: "image", caption: "look" },
      { type: "location", latitude: 41.38, longitude: 2.17, locationName: "Home" },
      { type: "interactive", interactive: "list_reply", id: "opt_2", title: "Two", description: "Second" },
      { type: "button", payload: "STOP", title: "Stop promotions" },
      { type: "reaction", messageId: "wamid.X", emoji: "👍" },
      { type: "text", text: "a reply", replyTo: "wamid.Y" },
    ];
    for (const k of kinds) await userWrites(USER, CLOUD.phoneNumberId, k);
    const got = await hooks.waitFor(kinds.length, (w) => w.json?.entry?.[0]?.changes?.[0]?.value?.messages);
    // Each message is its own webhook, and deliveries may overtake each other: find them by type.
    const messages = got.map((w) => w.json.entry[0].changes[0].value.messages[0]);
    expect(messages.map((m) => m.type).sort()).toEqual([
      "button",
      "image",
      "interactive",
      "location",
      "reaction",
      "text",
    ]);
    const byType = Object.fromEntries(messages.map((m) => [m.type, m]));
    expect(byType.image.image).toMatchObject({ mime_type: "image/jpeg", caption: "look" });
    expect(byType.image.image.id).toMatch(/^\d+$/);
    const media = await call(`/v23.0/${byType.image.image.id}`, { headers: bearer() });
    expect(media.json).toMatchObject({ id: byType.image.image.id, mime_type: "image/jpeg" });
    expect((await fetch(media.json.url)).status).toBe(200);
    expect(byType.location.location).toEqual({ latitude: 41.38, longitude: 2.17, name: "Home" });
    expect(byType.interactive.interactive).toEqual({
      type: "list_reply",
      list_reply: { id: "opt_2", title: "Two", description: "Second" },
    });
    expect(byType.button.button).toEqual({ payload: "STOP", text: "Stop promotions" });
    expect(byType.reaction.reaction).toEqual({ message_id: "wamid.X", emoji: "👍" });
    expect(byType.text.context).toEqual({ from: CLOUD.displayNumber, id: "wamid.Y" });
  });

  it("retries a webhook the receiver refused", async () => {
    hooks.answerNext(500);
    await userWrites();
    await hooks.waitFor(1);
    await sim.state.idle();
    const log = sim.state.webhooks.log.filter((w) => w.kind === "message");
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ state: "delivered", attempts: 2, responseStatus: 200 });
  });
});

describe("Cloud API: a user stops and resumes marketing messages", () => {
  /** spring_sale (MARKETING) with the parameters it needs. */
  const springSale = (to: string) =>
    template(
      "spring_sale",
      "es_ES",
      [
        { type: "header", parameters: [{ type: "image", image: { link: "https://x.test/a.jpg" } }] },
        {
          type: "body",
          parameters: [
            { type: "text", parameter_name: "first_name", text: "Ana" },
            { type: "text", parameter_name: "discount", text: "20%" },
          ],
        },
        { type: "button", sub_type: "url", index: 0, parameters: [{ type: "text", text: "A1" }] },
      ],
      to,
    );
  const marketing = (body: Record<string, unknown>, number = USER) =>
    call<{ error: string; user: string; business: string; value: string; stopped: boolean }>(
      `/_sim/users/${number}/marketing`,
      { body: { to: CLOUD.phoneNumberId, ...body } },
    );
  const preferences = (w: ReceivedWebhook) =>
    w.json?.entry?.[0]?.changes?.[0]?.field === "user_preferences"
      ? (w.json.entry[0].changes[0].value.user_preferences as { value: string; timestamp: number }[])
      : [];
  const isPreference = (value?: string) => (w: ReceivedWebhook) =>
    preferences(w).some((p) => !value || p.value === value);

  it("sends the signed user_preferences webhook, and fails marketing templates with 131050 until resumed", async () => {
    const before = Math.floor(Date.now() / 1000);
    const stop = await marketing({ value: "stop", name: "Ana" });
    expect(stop.status).toBe(200);
    expect(stop.json).toMatchObject({
      user: USER,
      business: CLOUD.phoneNumberId,
      value: "stop",
      stopped: true,
    });
    const [hook] = await hooks.waitFor(1, isPreference("stop"));
    expect(hook.path).toBe("/whatsapp/cloud");
    const expected = "sha256=" + createHmac("sha256", CLOUD.appSecret).update(hook.raw).digest("hex");
    expect(hook.headers["x-hub-signature-256"]).toBe(expected);
    expect(hook.json).toMatchObject({
      object: "whatsapp_business_account",
      entry: [
        {
          id: CLOUD.wabaId,
          changes: [
            {
              field: "user_preferences",
              value: {
                messaging_product: "whatsapp",
                metadata: { display_phone_number: CLOUD.displayNumber, phone_number_id: CLOUD.phoneNumberId },
                contacts: [{ profile: { name: "Ana" }, wa_id: USER }],
                user_preferences: [
                  {
                    wa_id: USER,
                    detail: "User requested to stop marketing messages",
                    category: "marketing_messages",
                    value: "stop",
                  },
                ],
              },
            },
          ],
        },
      ],
    });
    const [{ timestamp }] = preferences(hook);
    expect(timestamp).toBeGreaterThanOrEqual(before);
    expect(timestamp).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    // Switchboard reads it as a marketing stop by that user on that number.
    expect(normaliseCloudWebhook(hook.json).map((e) => e.event)).toMatchObject([
      {
        kind: "user_preference",
        phoneNumberId: CLOUD.phoneNumberId,
        from: { waId: USER, name: "Ana" },
        category: "marketing_messages",
        value: "stop",
        timestamp: timestamp * 1000,
      },
    ]);

    // Marketing templates to the user are accepted, then fail with 131050; nothing is charged.
    const sale = await sendCloud(springSale(USER));
    expect(sale.status).toBe(200);
    const saleId = sale.json.messages[0].id;
    const [failed] = await hooks.waitFor(1, isStatus(saleId, "failed"));
    expect(cloudStatuses(failed)[0].errors[0]).toMatchObject({
      code: 131050,
      title: "User has stopped marketing messages",
    });
    // Utility templates, and marketing to other users, go through.
    const update = await sendCloud(template("order_update", "en_US", bodyParams("Ana", "A-1")));
    const other = await sendCloud(springSale("34600999888"));
    await hooks.waitFor(1, isStatus(update.json.messages[0].id, "delivered"));
    await hooks.waitFor(1, isStatus(other.json.messages[0].id, "delivered"));
    await sim.state.idle();
    expect(hooks.received.filter(isStatus(saleId)).map((w) => cloudStatuses(w)[0].status)).toEqual([
      "failed",
    ]);
    expect(sim.state.charges.map((c) => c.messageId)).not.toContain(saleId);
    expect(sim.state.messages.find((m) => m.id === saleId)).toMatchObject({
      status: "failed",
      error: { code: 131050 },
    });

    const resume = await marketing({ value: "resume" });
    expect(resume.json).toMatchObject({ value: "resume", stopped: false });
    const [resumed] = await hooks.waitFor(1, isPreference("resume"));
    expect(preferences(resumed)[0]).toMatchObject({ detail: "User requested to resume marketing messages" });
    const again = await sendCloud(springSale(USER));
    await hooks.waitFor(1, isStatus(again.json.messages[0].id, "delivered"));
    expect(sim.state.users.get(USER)?.marketingStopped).toEqual({});
  });

  it("takes a display number and a time of change, and refuses what it cannot do", async () => {
    const at = Date.parse("2024-06-03T16:00:00Z");
    expect((await marketing({ to: CLOUD.displayNumber, value: "STOP", timestamp: at })).status).toBe(200);
    const [hook] = await hooks.waitFor(1, isPreference("stop"));
    expect(preferences(hook)[0].timestamp).toBe(at / 1000);
    expect(sim.state.users.get(USER)?.marketingStopped).toEqual({ [CLOUD.phoneNumberId]: at });

    const refused: [Record<string, unknown>, string, number, RegExp][] = [
      [{ value: "maybe" }, USER, 400, /value must be "stop" or "resume"/],
      [{ value: "stop" }, "123", 400, /7–15 digits/],
      [{ value: "stop", to: "nobody" }, USER, 404, /No Cloud number or WAHA session matches "nobody"/],
      [{ value: "stop", to: WAHA.session }, USER, 400, /WAHA session: .*Cloud API feature/],
      [{ value: "stop", timestamp: "yesterday" }, USER, 400, /timestamp/],
    ];
    for (const [body, number, status, error] of refused) {
      const answer = await marketing(body, number);
      expect(answer.status, JSON.stringify(body)).toBe(status);
      expect(answer.json.error).toMatch(error);
    }
    await sim.state.idle();
    expect(hooks.received.filter(isPreference())).toHaveLength(1);
  });

  it("keeps a stop in the state file: after a restart marketing still fails with 131050", async () => {
    const dir = tempDir("whatsapp-sim-");
    const stateFile = path.join(dir, "state.json");
    const config = {
      cloud: [{ ...CLOUD, webhookUrl: `${hooks.url}/whatsapp/cloud` }],
      templates: [...sim.state.templates.values()],
    };
    let saved: WhatsAppSimulator | null = null;
    try {
      saved = await startWhatsAppSimulator({ stateFile, config, knobs: { statusDelaysMs: FAST } });
      const res = await fetch(`${saved.url}/_sim/users/${USER}/marketing`, {
        method: "POST",
        body: JSON.stringify({ to: CLOUD.phoneNumberId, value: "stop" }),
      });
      expect(res.status).toBe(200);
      await saved.state.idle();
      const first = saved;
      saved = null;
      await first.close();
      saved = await startWhatsAppSimulator({ stateFile });
      expect(saved.state.users.get(USER)?.marketingStopped?.[CLOUD.phoneNumberId]).toBeGreaterThan(0);
      const send = await fetch(`${saved.url}/v23.0/${CLOUD.phoneNumberId}/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", ...bearer() },
        body: JSON.stringify(springSale(USER)),
      });
      const id = ((await send.json()) as CloudJson).messages[0].id;
      const [failed] = await hooks.waitFor(1, isStatus(id, "failed"));
      expect(cloudStatuses(failed)[0].errors[0].code).toBe(131050);
    } finally {
      await saved?.close();
      removeDir(dir);
    }
  });
});

describe("WAHA", () => {
  const wahaHeaders = (key = WAHA.apiKey) => ({ "x-api-key": key });
  const sendText = (body: Record<string, unknown>, key?: string) =>
    call<WahaJson>("/api/sendText", { body: { session: WAHA.session, ...body }, headers: wahaHeaders(key) });

  it("checks the API key, the session, its status and the body", async () => {
    const unauthorized = await call("/api/sendText", {
      body: { session: "default", chatId: `${USER}@c.us`, text: "x" },
    });
    expect(unauthorized).toEqual({
      status: 401,
      json: { statusCode: 401, message: "Unauthorized", error: "Unauthorized" },
    });
    expect((await sendText({ chatId: `${USER}@c.us`, text: "x" }, "wrong")).status).toBe(401);
    const unknown = await sendText({ session: "other", chatId: `${USER}@c.us`, text: "x" });
    expect(unknown.status).toBe(404);
    const invalid = await sendText({ text: "" });
    expect(invalid.status).toBe(400);
    expect(invalid.json.message).toEqual(
      expect.arrayContaining(["chatId should not be empty", "text should not be empty"]),
    );

    await call(`/_sim/waha/${WAHA.session}/status`, { body: { status: "SCAN_QR_CODE" } });
    const notWorking = await sendText({ chatId: `${USER}@c.us`, text: "x" });
    expect(notWorking).toEqual({
      status: 422,
      json: {
        error: "Session status is not as expected. Try again later or restart the session",
        session: "default",
        status: "SCAN_QR_CODE",
        expected: ["WORKING"],
      },
    });
    const info = await call(`/api/sessions/${WAHA.session}`, { headers: wahaHeaders() });
    expect(info.json).toMatchObject({ name: "default", status: "SCAN_QR_CODE", me: null });
    const [statusHook] = await hooks.waitFor(1, (w) => w.json?.event === "session.status");
    expect(statusHook.json.payload).toEqual({ name: "default", status: "SCAN_QR_CODE" });
    expect(sim.state.messages).toHaveLength(0);
  });

  it("sends text and images, and acks come back signed with the session's HMAC key", async () => {
    const sent = await sendText({ chatId: `${USER}@c.us`, text: "Hola" });
    expect(sent.status).toBe(201);
    const id = sent.json.id._serialized;
    expect(id).toMatch(new RegExp(`^true_${USER}@c\\.us_3EB0[0-9A-F]+$`));
    const image = await call<WahaJson>("/api/sendImage", {
      body: {
        session: "default",
        chatId: `${USER}@c.us`,
        file: { mimetype: "image/jpeg", url: "https://x.test/a.jpg" },
        caption: "c",
      },
      headers: wahaHeaders(),
    });
    expect(image.status).toBe(201);
    expect(image.json.hasMedia).toBe(true);

    const acks = await hooks.waitFor(3, (w) => w.json?.event === "message.ack" && w.json.payload.id === id);
    const byAck = [...acks].sort((a, b) => a.json.payload.ack - b.json.payload.ack);
    expect(byAck.map((a) => [a.json.payload.ack, a.json.payload.ackName])).toEqual([
      [1, "SERVER"],
      [2, "DEVICE"],
      [3, "READ"],
    ]);
    for (const a of acks) {
      expect(a.path).toBe("/whatsapp/waha/channel-1");
      expect(a.headers["x-webhook-hmac-algorithm"]).toBe("sha512");
      expect(a.headers["x-webhook-hmac"]).toBe(
        createHmac("sha512", WAHA.hmacKey).update(a.raw).digest("hex"),
      );
      expect(a.headers["x-webhook-hmac"]).not.toBe(createHmac("sha512", "wrong").update(a.raw).digest("hex"));
      expect(a.headers["x-webhook-request-id"]).toBeTruthy();
      expect(Number(a.headers["x-webhook-timestamp"])).toBeGreaterThan(1_600_000_000_000);
      expect(a.json).toMatchObject({
        session: "default",
        engine: "WEBJS",
        me: { id: `${WAHA.number}@c.us` },
      });
      expect(a.json.id).toMatch(/^evt_[0-9A-HJKMNP-TV-Z]{26}$/);
      expect(a.json.payload).toMatchObject({ fromMe: true, to: `${USER}@c.us` });
    }
  });

  it("delivers a user's message as a signed `message` event, by phone or by @lid", async () => {
    await userWrites(USER, WAHA.session, { text: "hola", name: "Ana" });
    await userWrites(USER, WAHA.number, { text: "again", asLid: true });
    const got = await hooks.waitFor(2, (w) => w.json?.event === "message");
    // Deliveries may overtake each other: tell the two apart by their text.
    const [byPhone, byLid] = ["hola", "again"].map((body) => got.find((w) => w.json.payload.body === body)!);
    expect(byPhone.json.payload).toMatchObject({
      from: `${USER}@c.us`,
      fromMe: false,
      to: `${WAHA.number}@c.us`,
      body: "hola",
      hasMedia: false,
      _data: { notifyName: "Ana" },
    });
    expect(byPhone.json.payload.id).toMatch(new RegExp(`^false_${USER}@c\\.us_`));
    expect(byLid.json.payload.from).toMatch(/^\d+@lid$/);
    // The business answers the @lid chat; the simulator knows who that is.
    const lid = byLid.json.payload.from;
    expect((await sendText({ chatId: lid, text: "hi" })).status).toBe(201);
    expect(sim.state.messages.at(-1)).toMatchObject({ direction: "out", user: USER });
  });
});

describe("Cloud API: business-scoped user ids", () => {
  /** The `messages` change value of a Cloud webhook. */
  const valueOf = (w: ReceivedWebhook) => w.json.entry[0].changes[0].value;
  const isInbound = (w: ReceivedWebhook) => Boolean(w.json?.entry?.[0]?.changes?.[0]?.value?.messages);

  it("names a user who hides their number by BSUID alone; the business answers the BSUID as `recipient`", async () => {
    const res = await userWrites(USER, CLOUD.phoneNumberId, { text: "hola", name: "Ana", bsuidOnly: true });
    const [hook] = await hooks.waitFor(1, isInbound);
    const value = valueOf(hook);
    const bsuid = value.contacts[0].user_id as string;
    expect(bsuid).toMatch(/^ES\.\d{17,}$/);
    expect(value.contacts).toEqual([{ profile: { name: "Ana" }, user_id: bsuid }]);
    expect(value.messages[0]).toMatchObject({ id: res.id, from_user_id: bsuid, text: { body: "hola" } });
    expect(value.messages[0]).not.toHaveProperty("from");
    // The product's parser reads it as a person with a BSUID and no number.
    expect(normaliseCloudWebhook(hook.json)[0].event).toMatchObject({
      kind: "message",
      from: { bsuid, name: "Ana" },
    });
    expect(normaliseCloudWebhook(hook.json)[0].event).not.toHaveProperty("from.phone");

    hooks.clear();
    const sent = await sendCloud({
      messaging_product: "whatsapp",
      recipient_type: "individual",
      recipient: bsuid,
      type: "text",
      text: { body: "¡Hola!" },
    });
    expect(sent.status).toBe(200);
    expect(sent.json).toMatchObject({ contacts: [{ input: bsuid, user_id: bsuid }] });
    const id = sent.json.messages[0].id;
    expect(sim.state.messages.at(-1)).toMatchObject({ id, direction: "out", user: USER, text: "¡Hola!" });
    const statuses = (await hooks.waitFor(3, isStatus(id))).map((w) => cloudStatuses(w)[0]);
    for (const status of statuses) {
      expect(status).toMatchObject({ id, recipient_user_id: bsuid });
      expect(status).not.toHaveProperty("recipient_id");
    }

    // A BSUID nobody has answers Meta's invalid-parameter error; `to` still needs a number.
    const unknown = await sendCloud({
      messaging_product: "whatsapp",
      recipient: "ES.99999999999999999",
      type: "text",
      text: { body: "x" },
    });
    expectGraphError(unknown, 400, 100);
    expect(unknown.json.error.error_data.details).toBe("Invalid 'recipient' parameter.");
  });

  it("with the cloudUserIds knob on both, webhooks carry the phone and the same BSUID", async () => {
    await userWrites(USER, CLOUD.phoneNumberId, { text: "first", bsuidOnly: true });
    const [only] = await hooks.waitFor(1, isInbound);
    const bsuid = valueOf(only).contacts[0].user_id;
    hooks.clear();
    expect((await call("/_sim/knobs", { body: { cloudUserIds: "both" } })).status).toBe(200);
    await userWrites(USER, CLOUD.phoneNumberId, { text: "second", name: "Ana" });
    const [both] = await hooks.waitFor(1, isInbound);
    expect(valueOf(both).contacts).toEqual([{ profile: { name: "Ana" }, wa_id: USER, user_id: bsuid }]);
    expect(valueOf(both).messages[0]).toMatchObject({ from: USER, from_user_id: bsuid });
    hooks.clear();
    const id = (await sendCloud(text(USER, "Hi"))).json.messages[0].id;
    const [status] = await hooks.waitFor(1, isStatus(id, "sent"));
    expect(cloudStatuses(status)[0]).toMatchObject({ recipient_id: USER, recipient_user_id: bsuid });
  });
});

describe("fault knobs", () => {
  it("drop: webhooks are never sent (and the log says so)", async () => {
    sim.state.setKnobs({ drop: 1 });
    await userWrites();
    await sendCloud(text(USER));
    await sim.state.idle();
    expect(hooks.received).toHaveLength(0);
    expect(sim.state.webhooks.log.length).toBeGreaterThanOrEqual(4);
    expect(sim.state.webhooks.log.every((w) => w.state === "dropped")).toBe(true);
  });

  it("duplicate: every webhook arrives twice with identical bytes and signature", async () => {
    await userWrites();
    await hooks.waitFor(1);
    hooks.clear();
    sim.state.setKnobs({ duplicate: 1 });
    const id = (await sendCloud(text(USER, "dup"))).json.messages[0].id;
    await hooks.waitFor(6, isStatus(id));
    await sim.state.idle();
    const byStatus = new Map<string, ReceivedWebhook[]>();
    for (const w of hooks.received.filter(isStatus(id))) {
      const s = cloudStatuses(w)[0].status;
      byStatus.set(s, [...(byStatus.get(s) ?? []), w]);
    }
    expect([...byStatus.keys()].sort()).toEqual(["delivered", "read", "sent"]);
    for (const copies of byStatus.values()) {
      expect(copies).toHaveLength(2);
      expect(copies[0].raw.equals(copies[1].raw)).toBe(true);
      expect(copies[0].headers["x-hub-signature-256"]).toBe(copies[1].headers["x-hub-signature-256"]);
    }
    expect(hooks.received.filter(isStatus(id))).toHaveLength(6);
  });

  it("reorder: statuses held in a window arrive in reverse order", async () => {
    await userWrites();
    await hooks.waitFor(1);
    hooks.clear();
    sim.state.setKnobs({
      reorder: 1,
      reorderWindowMs: 400,
      statusDelaysMs: { sent: 0, delivered: 5, read: 10 },
    });
    const id = (await sendCloud(text(USER))).json.messages[0].id;
    const got = await hooks.waitFor(3, isStatus(id));
    expect(got.map((w) => cloudStatuses(w)[0].status)).toEqual(["read", "delivered", "sent"]);
  });

  it("delayMs: webhooks wait before they are sent", async () => {
    sim.state.setKnobs({ delayMs: 400 });
    const before = Date.now();
    await userWrites();
    const [hook] = await hooks.waitFor(1);
    expect(hook.at - before).toBeGreaterThanOrEqual(380);
  });

  it("serverErrors: API calls answer 5xx in each provider's error shape", async () => {
    await userWrites();
    sim.state.setKnobs({ serverErrors: 1, serverErrorStatus: 503 });
    const cloud = await sendCloud(text(USER));
    expect(cloud.status).toBe(503);
    expect(cloud.json.error).toMatchObject({ code: 2, is_transient: true, type: "OAuthException" });
    const waha = await call<WahaJson>("/api/sendText", {
      body: { session: "default", chatId: `${USER}@c.us`, text: "x" },
      headers: { "x-api-key": WAHA.apiKey },
    });
    expect(waha.status).toBe(503);
    expect(waha.json.statusCode).toBe(503);
    expect(sim.state.messages.filter((m) => m.direction === "out")).toHaveLength(0);
    sim.state.setKnobs({ serverErrors: 0 });
    expect((await sendCloud(text(USER))).status).toBe(200);
  });

  it("failShare: messages are sent, then fail with the configured code", async () => {
    await userWrites();
    sim.state.setKnobs({ failShare: 1 });
    const id = (await sendCloud(text(USER))).json.messages[0].id;
    const [failed] = await hooks.waitFor(1, isStatus(id, "failed"));
    expect(cloudStatuses(failed)[0].errors[0]).toMatchObject({
      code: 131026,
      title: "Message undeliverable",
    });
    expect(hooks.received.filter(isStatus(id, "sent"))).toHaveLength(1);
    expect(hooks.received.filter(isStatus(id, "delivered"))).toHaveLength(0);
  });

  it("knobs and config can be changed over HTTP", async () => {
    const knobs = await call("/_sim/knobs", { body: { drop: 0.5, statusDelaysMs: { read: 99 } } });
    expect(knobs.json).toMatchObject({
      drop: 0.5,
      statusDelaysMs: { sent: FAST.sent, delivered: FAST.delivered, read: 99 },
    });
    const config = await call("/_sim/config", {
      body: { cloud: [{ ...CLOUD, phoneNumberId: "555", accessToken: "t2" }] },
    });
    expect(config.json.cloud.map((n) => n.phoneNumberId).sort()).toEqual([CLOUD.phoneNumberId, "555"]);
    expect((await call("/_sim/config", { body: { cloud: [{ phoneNumberId: "x" }] } })).status).toBe(400);
  });
});

describe("the phone page", () => {
  it("is one self-contained HTML page that reads the simulator's own state", async () => {
    const res = await fetch(sim.url + "/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toContain("<title>WhatsApp simulator</title>");
    expect(html).not.toMatch(/(src|href)=["']https?:/);
    const events = await fetch(sim.url + "/_sim/events");
    expect(events.headers.get("content-type")).toBe("text/event-stream");
    await events.body?.cancel();
  });

  it("lets a person chat as a user, see the business's replies live, and approve a template", async () => {
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu"],
    });
    try {
      await userWrites(USER, CLOUD.phoneNumberId, { name: "Ana", text: "Do you ship to Madrid?" });
      const created = await call(`/v23.0/${CLOUD.wabaId}/message_templates`, {
        body: {
          name: "welcome_back",
          category: "MARKETING",
          language: "en_US",
          components: [{ type: "BODY", text: "Hi {{1}}" }],
        },
        headers: bearer(),
      });
      const page = await browser.newPage();
      await page.goto(sim.url + "/");
      await page.getByLabel("You are (simulated user)").selectOption(USER);
      await page.getByLabel("Chatting with (business number)").selectOption(CLOUD.phoneNumberId);
      await page.getByText("Do you ship to Madrid?").waitFor();

      await page.getByLabel("Message", { exact: true }).fill("Thanks!");
      await page.getByRole("button", { name: "Send" }).click();
      const [inbound] = await hooks.waitFor(
        1,
        (w) => w.json?.entry?.[0]?.changes?.[0]?.value?.messages?.[0]?.text?.body === "Thanks!",
      );
      expect(inbound.json.entry[0].changes[0].value.contacts[0].wa_id).toBe(USER);

      // The business answers through the API; the reply shows up without reloading.
      await sendCloud(text(USER, "Yes, in 24 hours."));
      await page.getByText("Yes, in 24 hours.").waitFor();

      await page.getByRole("button", { name: "Approve" }).click();
      await hooks.waitFor(1, (w) => w.json?.entry?.[0]?.changes?.[0]?.value?.event === "APPROVED");
      expect(sim.state.templates.get(created.json.id)?.status).toBe("APPROVED");
    } finally {
      await browser.close();
    }
  });
});

describe("the phone page: marketing messages", () => {
  it("has a button to stop and resume marketing messages from the chosen Cloud number", async () => {
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu"],
    });
    const field = (w: ReceivedWebhook, value: string) =>
      w.json?.entry?.[0]?.changes?.[0]?.field === "user_preferences" &&
      w.json.entry[0].changes[0].value.user_preferences[0].value === value;
    try {
      await userWrites(USER, CLOUD.phoneNumberId, { name: "Ana" });
      const page = await browser.newPage();
      await page.goto(sim.url + "/");
      await page.getByLabel("You are (simulated user)").selectOption(USER);
      await page.getByLabel("Chatting with (business number)").selectOption(CLOUD.phoneNumberId);
      await page.getByRole("button", { name: "Stop marketing messages" }).click();
      await hooks.waitFor(1, (w) => field(w, "stop"));
      await page.getByText(/Marketing messages stopped since .*131050/).waitFor();
      expect(sim.state.users.get(USER)?.marketingStopped?.[CLOUD.phoneNumberId]).toBeGreaterThan(0);

      await page.getByRole("button", { name: "Resume marketing messages" }).click();
      await hooks.waitFor(1, (w) => field(w, "resume"));
      await page.getByRole("button", { name: "Stop marketing messages" }).waitFor();
      expect(sim.state.users.get(USER)?.marketingStopped).toEqual({});

      // WAHA sessions have no such control.
      await page.getByLabel("Chatting with (business number)").selectOption(WAHA.session);
      await page.getByRole("button", { name: "Stop marketing messages" }).waitFor({ state: "hidden" });
    } finally {
      await browser.close();
    }
  });
});

describe("the demo workspace and the stack's settings", () => {
  it("makes the dev WhatsApp secrets once per data directory, private, and reuses them", () => {
    const dir = tempDir("whatsapp-dev-");
    const other = tempDir("whatsapp-dev-");
    try {
      const first = localWhatsAppSettings(dir);
      expect(first.WHATSAPP_APP_SECRET).toMatch(/^[0-9a-f]{48}$/);
      expect(first.WHATSAPP_VERIFY_TOKEN).toMatch(/^[0-9a-f]{32}$/);
      expect(localWhatsAppSettings(dir)).toEqual(first);
      expect(statSync(path.join(dir, "whatsapp-dev.json")).mode & 0o777).toBe(0o600);
      expect(localWhatsAppSettings(other).WHATSAPP_APP_SECRET).not.toBe(first.WHATSAPP_APP_SECRET);
    } finally {
      removeDir(dir);
      removeDir(other);
    }
  });

  it("seeds a workspace whose Cloud and WAHA channels point at the simulator, end to end", async () => {
    const dir = tempDir("whatsapp-demo-");
    const appSecret = "demo-app-secret-123";
    const server = await startServer({
      env: {
        LOCAL_AUTH_ISSUER: "http://app.test",
        CHANNEL_SECRETS_KEY: Buffer.alloc(32, 7).toString("base64"),
        WHATSAPP_APP_SECRET: appSecret,
        WHATSAPP_VERIFY_TOKEN: "verify-me",
        WHATSAPP_GRAPH_URL: sim.graphUrl,
        ALLOW_PRIVATE_PROVIDER_URLS: "true",
      },
    });
    try {
      const identity = await demoIdentity({ authDataDir: path.join(dir, "auth"), issuer: "http://app.test" });
      expect(
        JSON.parse(readFileSync(path.join(dir, "auth", "accounts.json"), "utf8")).accounts[0].email,
      ).toBe(DEMO.email);
      const options = {
        convexUrl: server.url,
        adminKey: server.adminKey,
        siteUrl: server.siteUrl,
        simulatorUrl: sim.url,
        appSecret,
        identity,
      };
      const seed = await seedDemo(options);
      expect(await seedDemo(options)).toEqual(seed); // idempotent
      const cloud = sim.state.cloud.get(DEMO.cloud.phoneNumberId)!;
      expect(cloud).toMatchObject({ appSecret, webhookUrl: `${server.siteUrl}/whatsapp/cloud` });
      expect(sim.state.waha.get(DEMO.waha.session)?.webhookUrl).toBe(
        `${server.siteUrl}/whatsapp/waha/${seed.wahaChannelId}`,
      );

      // A customer writes to both numbers; the signed webhooks land in the channels' activity.
      for (const to of [DEMO.cloud.phoneNumberId, DEMO.waha.session]) {
        const res = await call(`/_sim/users/${USER}/messages`, {
          body: { to, text: `hello ${to}`, name: "Ana" },
        });
        expect(res.status).toBe(200);
      }
      const owner = new ConvexHttpClient(server.url);
      (owner as unknown as { setAdminAuth(k: string, i: object): void }).setAdminAuth(server.adminKey, {
        ...identity,
        tokenIdentifier: `${identity.issuer}|${identity.subject}`,
      });
      for (const [channelId, text] of [
        [seed.cloudChannelId, `hello ${DEMO.cloud.phoneNumberId}`],
        [seed.wahaChannelId, `hello ${DEMO.waha.session}`],
      ] as const) {
        const activity = await until(
          () => owner.query(api.channels.activity, { tenantId: seed.tenantId, channelId }),
          (items) => items.length > 0,
        );
        expect(activity[0]).toMatchObject({ direction: "in", text, contact: { phone: `+${USER}` } });
      }
      expect(sim.state.webhooks.log.filter((w) => w.kind === "message").map((w) => w.responseStatus)).toEqual(
        [200, 200],
      );

      // The customer stops marketing messages from the Cloud number in WhatsApp: the workspace
      // sees the contact's marketing stop (replies still go), by WhatsApp's own preference.
      const stop = await call(`/_sim/users/${USER}/marketing`, {
        body: { to: DEMO.cloud.phoneNumberId, value: "stop" },
      });
      expect(stop.status).toBe(200);
      const inbox = await until(
        () =>
          owner.query(api.conversations.list, {
            tenantId: seed.tenantId,
            paginationOpts: { numItems: 10, cursor: null },
          }),
        (page) =>
          page.page.some(
            (row) => row.channelId === seed.cloudChannelId && row.marketingOptedOut && !row.optedOut,
          ),
      );
      const row = inbox.page.find((r) => r.channelId === seed.cloudChannelId)!;
      const conversation = await owner.query(api.conversations.get, {
        tenantId: seed.tenantId,
        conversationId: row.conversationId,
      });
      expect(conversation.consent).toMatchObject([
        { kind: "opt_out", source: "user_preferences", scope: "marketing" },
      ]);
      expect(sim.state.webhooks.log.find((w) => w.kind === "user_preferences")?.responseStatus).toBe(200);
    } finally {
      await server.stop();
      removeDir(dir);
    }
  });
});
