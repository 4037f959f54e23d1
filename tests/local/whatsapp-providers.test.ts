/**
 * The outbound adapters (convex/providers/whatsappCloud.ts, waha.ts) against the WhatsApp
 * simulator: every call returns the provider's ids, every error class is produced by a real
 * HTTP answer and classified, and timeouts and network failures come back retryable.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import * as Cloud from "../../convex/providers/whatsappCloud";
import * as Waha from "../../convex/providers/waha";
import * as Verify from "../../convex/model/whatsapp/verify";
import {
  CLOUD_ERROR_TABLE,
  backoffMs,
  classify,
  classifyGraphAnswer,
  classifyWahaAnswer,
  isRetryable,
  parseRetryAfter,
  type ProviderError,
} from "../../convex/providers/whatsappErrors";
import { startWebhookReceiver, type WebhookReceiver } from "../../local/whatsapp-simulator/receiver";
import { startWhatsAppSimulator, type WhatsAppSimulator } from "../../local/whatsapp-simulator/server";

const NUMBER = {
  phoneNumberId: "109000000000001",
  wabaId: "209000000000001",
  displayNumber: "15550001111",
  accessToken: "EAAG-provider-token",
  appSecret: "app-secret",
};
const SESSION = { session: "default", apiKey: "waha-key", hmacKey: "hmac", number: "34911222333" };
const USER = "+34 600 111 222";
const USER_DIGITS = "34600111222";

let sim: WhatsAppSimulator;
let hooks: WebhookReceiver;
let cloud: Cloud.CloudConfig;
let waha: Waha.WahaConfig;

beforeEach(async () => {
  hooks = await startWebhookReceiver();
  sim = await startWhatsAppSimulator({
    seed: 7,
    config: {
      cloud: [{ ...NUMBER, webhookUrl: `${hooks.url}/whatsapp/cloud` }],
      waha: [{ ...SESSION, webhookUrl: `${hooks.url}/whatsapp/waha/c1` }],
      templates: [
        {
          wabaId: NUMBER.wabaId,
          name: "order_update",
          language: "en_US",
          category: "UTILITY",
          components: [
            { type: "HEADER", format: "TEXT", text: "Order {{1}}" },
            { type: "BODY", text: "Hi {{1}}, your order ships {{2}}." },
            { type: "BUTTONS", buttons: [{ type: "URL", text: "Track", url: "https://t.test/{{1}}" }] },
          ],
        },
        {
          wabaId: NUMBER.wabaId,
          name: "welcome_named",
          language: "es_ES",
          category: "MARKETING",
          parameter_format: "NAMED",
          components: [{ type: "BODY", text: "Hola {{first_name}}, bienvenido a {{shop}}." }],
        },
      ],
    },
    knobs: { statusDelaysMs: { sent: 5, delivered: 10, read: 15 } },
  });
  cloud = { graphUrl: sim.graphUrl, ...NUMBER };
  waha = { baseUrl: sim.url, apiKey: SESSION.apiKey, session: SESSION.session, allowPrivateTargets: true };
});

afterEach(async () => {
  await sim?.close();
  await hooks?.close();
});

async function userWrites(to = NUMBER.phoneNumberId, timestamp?: number) {
  const res = await fetch(`${sim.url}/_sim/users/${USER_DIGITS}/messages`, {
    method: "POST",
    body: JSON.stringify({ to, text: "hello", timestamp }),
  });
  expect(res.status).toBe(200);
}

function expectError(
  result: { ok: boolean; error?: ProviderError },
  cls: ProviderError["class"],
  code?: number,
) {
  expect(result.ok).toBe(false);
  expect(result.error?.class).toBe(cls);
  if (code !== undefined) expect(result.error?.code).toBe(code);
  expect(result.error?.message).toBeTruthy();
  return result.error!;
}

const outbound = () => sim.state.messages.filter((m) => m.direction === "out");

describe("Cloud API adapter", () => {
  it("sendText returns the wamid, normalises the recipient and sends our id as callback data", async () => {
    await userWrites();
    const result = await Cloud.sendText(cloud, { to: USER, text: "Hi!", callbackData: "our-msg-1" });
    expect(result).toMatchObject({ ok: true, waId: USER_DIGITS });
    if (!result.ok) throw new Error("unreachable");
    expect(result.providerMessageId).toMatch(/^wamid\./);
    expect(outbound()[0]).toMatchObject({ id: result.providerMessageId, user: USER_DIGITS, text: "Hi!" });
    const [sent] = await hooks.waitFor(
      1,
      (w) => w.json.entry[0].changes[0].value.statuses?.[0]?.status === "sent",
    );
    expect(sent.json.entry[0].changes[0].value.statuses[0]).toMatchObject({
      id: result.providerMessageId,
      biz_opaque_callback_data: "our-msg-1",
    });
  });

  it("accepts graph URLs with or without a version", async () => {
    await userWrites();
    expect(Cloud.graphBase({ graphUrl: sim.url })).toBe(`${sim.url}/v23.0`);
    expect(Cloud.graphBase({ graphUrl: sim.url + "/", version: "v22.0" })).toBe(`${sim.url}/v22.0`);
    expect(Cloud.graphBase({ graphUrl: sim.graphUrl })).toBe(sim.graphUrl);
    expect((await Cloud.sendText({ ...cloud, graphUrl: sim.url }, { to: USER, text: "x" })).ok).toBe(true);
  });

  it("sendTemplate sends positional and named parameters, header and button included", async () => {
    const positional = await Cloud.sendTemplate(cloud, {
      to: USER,
      name: "order_update",
      language: "en_US",
      callbackData: "c-2",
      components: [
        { type: "header", parameters: ["A-17"] },
        { type: "body", parameters: ["Ana", "tomorrow"] },
        { type: "button", sub_type: "url", index: 0, parameters: ["A-17"] },
      ],
    });
    expect(positional).toMatchObject({ ok: true, messageStatus: "accepted" });
    const named = await Cloud.sendTemplate(cloud, {
      to: USER,
      name: "welcome_named",
      language: "es_ES",
      components: [{ type: "body", parameters: { first_name: "Ana", shop: "Tienda" } }],
    });
    expect(named.ok).toBe(true);
    const [first, second] = outbound();
    expect(first.text).toBe("Order A-17\nHi Ana, your order ships tomorrow.");
    expect(first.content).toMatchObject({
      name: "order_update",
      language: { code: "en_US" },
      components: [
        { type: "header", parameters: [{ type: "text", text: "A-17" }] },
        {
          type: "body",
          parameters: [
            { type: "text", text: "Ana" },
            { type: "text", text: "tomorrow" },
          ],
        },
        { type: "button", sub_type: "url", index: "0", parameters: [{ type: "text", text: "A-17" }] },
      ],
    });
    expect(second.text).toBe("Hola Ana, bienvenido a Tienda.");
    expect(second.pricing).toMatchObject({ billable: true, category: "marketing", country: "ES" });
  });

  it("sendMedia sends image, video, document and audio by URL", async () => {
    await userWrites();
    const link = "https://cdn.test/file";
    for (const kind of ["image", "video", "document", "audio"] as const) {
      const result = await Cloud.sendMedia(cloud, {
        to: USER,
        kind,
        link,
        caption: "cap",
        filename: "f.pdf",
      });
      expect(result.ok, kind).toBe(true);
    }
    const sent = outbound().map((m) => [m.type, m.content]);
    expect(sent).toEqual([
      ["image", { link, caption: "cap" }],
      ["video", { link, caption: "cap" }],
      ["document", { link, caption: "cap", filename: "f.pdf" }],
      ["audio", { link }],
    ]);
  });

  it("creates, lists (page by page) and gets templates", async () => {
    const created = await Cloud.createTemplate(cloud, {
      name: "payment_due",
      category: "UTILITY",
      language: "en_US",
      components: [{ type: "BODY", text: "Pay {{1}} by {{2}}", example: { body_text: [["$5", "Friday"]] } }],
    });
    expect(created).toMatchObject({ ok: true, status: "PENDING", category: "UTILITY" });
    if (!created.ok) throw new Error("unreachable");

    const names: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await Cloud.listTemplates(cloud, { limit: 2, after });
      if (!page.ok) throw new Error(page.error.message);
      names.push(...page.templates.map((t) => t.name));
      after = page.after;
      pages += 1;
    } while (after);
    expect(pages).toBe(2);
    expect(names).toEqual(["order_update", "welcome_named", "payment_due"]);

    const got = await Cloud.getTemplate(cloud, created.id);
    expect(got).toMatchObject({
      ok: true,
      template: { id: created.id, name: "payment_due", status: "PENDING" },
    });
    await fetch(`${sim.url}/_sim/templates/${created.id}/status`, {
      method: "POST",
      body: JSON.stringify({ event: "REJECTED", reason: "INVALID_FORMAT" }),
    });
    const rejected = await Cloud.getTemplate(cloud, created.id, "status,rejected_reason");
    expect(rejected).toMatchObject({
      ok: true,
      template: { status: "REJECTED", rejected_reason: "INVALID_FORMAT" },
    });

    const duplicate = await Cloud.createTemplate(cloud, {
      name: "payment_due",
      category: "UTILITY",
      language: "en_US",
      components: [{ type: "BODY", text: "x" }],
    });
    expectError(duplicate, "permanent", 100);
    expectError(await Cloud.getTemplate(cloud, "123"), "permanent", 100);
  });

  it("edits a rejected template back into review, re-categorises, scores and deletes templates", async () => {
    const sim_ = (path: string, body: unknown) =>
      fetch(`${sim.url}${path}`, { method: "POST", body: JSON.stringify(body) });
    const created = await Cloud.createTemplate(cloud, {
      name: "payment_due",
      category: "UTILITY",
      language: "en_US",
      components: [
        { type: "BODY", text: "Pay {{1}} by {{2}} please", example: { body_text: [["$5", "Friday"]] } },
      ],
    });
    if (!created.ok) throw new Error(created.error.message);
    // Only approved, rejected and paused templates can be edited.
    expectError(await Cloud.editTemplate(cloud, created.id, { components: [] }), "permanent", 100);
    await sim_(`/_sim/templates/${created.id}/status`, { event: "REJECTED", reason: "INVALID_FORMAT" });
    const components = [
      {
        type: "BODY",
        text: "Please pay {{1}} by {{2}}, thank you",
        example: { body_text: [["$5", "Friday"]] },
      },
    ];
    expect(await Cloud.editTemplate(cloud, created.id, { components })).toMatchObject({ ok: true });
    expect(await Cloud.getTemplate(cloud, created.id)).toMatchObject({
      ok: true,
      template: { status: "PENDING", components },
    });

    // The category notice, the change, and a quality score: each a webhook and visible by GET.
    await sim_(`/_sim/templates/${created.id}/category`, { category: "MARKETING", announce: true });
    expect(await Cloud.getTemplate(cloud, created.id)).toMatchObject({
      template: { category: "UTILITY", correct_category: "MARKETING" },
    });
    await sim_(`/_sim/templates/${created.id}/category`, { category: "MARKETING" });
    await sim_(`/_sim/templates/${created.id}/quality`, { score: "YELLOW" });
    const got = await Cloud.getTemplate(cloud, created.id);
    expect(got).toMatchObject({ template: { category: "MARKETING", quality_score: { score: "YELLOW" } } });
    if (got.ok) expect(got.template.correct_category).toBeUndefined();
    const isTemplateHook = (w: { json: { entry?: { changes?: { field?: string }[] }[] } }) =>
      /template_category_update|message_template_quality_update/.test(
        w.json?.entry?.[0]?.changes?.[0]?.field ?? "",
      );
    await hooks.waitFor(3, isTemplateHook);
    const fields = hooks.received.map((w) => w.json?.entry?.[0]?.changes?.[0]?.field);
    expect(fields.filter((f) => f === "template_category_update")).toHaveLength(2);
    expect(fields).toContain("message_template_quality_update");

    // Template webhooks can be dropped on purpose (polling must find the change instead).
    await sim_("/_sim/knobs", { dropTemplateWebhooks: true });
    const before = hooks.received.length;
    await sim_(`/_sim/templates/${created.id}/status`, { event: "APPROVED" });
    await new Promise((r) => setTimeout(r, 100));
    expect(hooks.received.length).toBe(before);
    expect(sim.state.webhooks.log.at(-1)).toMatchObject({ kind: "template_status", state: "dropped" });
    expect(await Cloud.getTemplate(cloud, created.id, "status")).toMatchObject({
      template: { status: "APPROVED" },
    });

    expect(await Cloud.deleteTemplate(cloud, "payment_due", created.id)).toEqual({ ok: true });
    expectError(await Cloud.getTemplate(cloud, created.id), "permanent", 100);
    expectError(await Cloud.deleteTemplate(cloud, "payment_due"), "permanent", 100);
  });

  it("reads the number's quality rating and messaging tier", async () => {
    await fetch(`${sim.url}/_sim/cloud/${NUMBER.phoneNumberId}/quality`, {
      method: "POST",
      body: JSON.stringify({ event: "FLAGGED", tier: "TIER_250" }),
    });
    const result = await Cloud.getPhoneNumber(cloud);
    expect(result).toEqual({
      ok: true,
      phoneNumber: {
        id: NUMBER.phoneNumberId,
        displayPhoneNumber: NUMBER.displayNumber,
        verifiedName: "Simulated Business",
        qualityRating: "RED",
        messagingLimitTier: "TIER_250",
      },
    });
  });
});

describe("checking a channel's secrets before it is saved (model/whatsapp/verify.ts)", () => {
  it("the simulator answers GET /{version}/{phone-number-id} as Graph does", async () => {
    const get = (token: string | null, id = NUMBER.phoneNumberId) =>
      fetch(`${sim.graphUrl}/${id}?fields=id,display_phone_number,verified_name,quality_rating`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
    const good = await get(NUMBER.accessToken);
    expect(good.status).toBe(200);
    expect(await good.json()).toEqual({
      id: NUMBER.phoneNumberId,
      display_phone_number: NUMBER.displayNumber,
      verified_name: "Simulated Business",
      quality_rating: "GREEN",
    });
    const badToken = await get("EAAG-made-up");
    expect(badToken.status).toBe(401);
    expect((await badToken.json()).error).toMatchObject({ code: 190, type: "OAuthException" });
    const unknown = await get(NUMBER.accessToken, "109999999999999");
    expect(unknown.status).toBe(400);
    const error = (await unknown.json()).error;
    expect(error).toMatchObject({ code: 100, error_subcode: 33 });
    expect(error.message).toMatch(/^Unsupported get request\. Object with ID '109999999999999'/);
  });

  it("accepts the number only for a token that reads it, naming the field to fix otherwise", async () => {
    const check = {
      graphUrl: sim.graphUrl,
      phoneNumberId: NUMBER.phoneNumberId,
      accessToken: NUMBER.accessToken,
    };
    expect(await Verify.verifyCloudNumber(check)).toMatchObject({ id: NUMBER.phoneNumberId });
    await expect(Verify.verifyCloudNumber({ ...check, accessToken: "EAAG-made-up" })).rejects.toMatchObject({
      data: { code: "INVALID", field: "accessToken" },
    });
    await expect(
      Verify.verifyCloudNumber({ ...check, phoneNumberId: "109999999999999" }),
    ).rejects.toMatchObject({
      data: {
        code: "INVALID",
        field: "phoneNumberId",
        message: expect.stringContaining("The token cannot read this phone number"),
      },
    });
  });

  it("accepts a WAHA session only when the server has it and takes the key", async () => {
    const check = {
      baseUrl: sim.url,
      session: SESSION.session,
      apiKey: SESSION.apiKey,
      allowPrivateTargets: true,
    };
    expect(await Verify.verifyWahaSession(check)).toMatchObject({ status: "WORKING" });
    await expect(Verify.verifyWahaSession({ ...check, apiKey: "wrong-key" })).rejects.toMatchObject({
      data: { code: "INVALID", field: "apiKey" },
    });
    await expect(Verify.verifyWahaSession({ ...check, session: "missing" })).rejects.toMatchObject({
      data: { code: "INVALID", field: "session" },
    });
  });
});

describe("Cloud API adapter: every error class from real answers", () => {
  it("throttled: 130429 when the number exceeds its throughput", async () => {
    sim.state.setKnobs({ throughputPerSecond: 2 });
    await userWrites();
    const results = await Promise.all(
      ["1", "2", "3"].map((n) =>
        Cloud.sendTemplate(cloud, {
          to: `3460000000${n}`,
          name: "welcome_named",
          language: "es_ES",
          components: [{ type: "body", parameters: { first_name: "a", shop: "b" } }],
        }),
      ),
    );
    const failed = results.filter((r) => !r.ok);
    expect(failed).toHaveLength(1);
    const error = expectError(failed[0], "throttled", 130429);
    expect(error.retryAfterMs).toBeGreaterThan(0);
    expect(error.action).toBe("slow_down");
  });

  it("pair_limited: 131056 for too many messages to one user", async () => {
    sim.state.setKnobs({ pairBurst: 1, pairIntervalMs: 60_000 });
    await userWrites();
    expect((await Cloud.sendText(cloud, { to: USER, text: "1" })).ok).toBe(true);
    const error = expectError(await Cloud.sendText(cloud, { to: USER, text: "2" }), "pair_limited", 131056);
    expect(error.retryAfterMs).toBe(6_000);
    expect(backoffMs(error, 2)).toBe(16_000);
  });

  it("window_closed: 131047 for free-form messages outside the window", async () => {
    sim.state.setKnobs({ windowClosedAs: "error" });
    const error = expectError(
      await Cloud.sendText(cloud, { to: USER, text: "late" }),
      "window_closed",
      131047,
    );
    expect(isRetryable(error)).toBe(false);
  });

  it("template_invalid: 132001 for a missing template, 132000 for a parameter mismatch", async () => {
    expectError(
      await Cloud.sendTemplate(cloud, { to: USER, name: "nope", language: "en_US" }),
      "template_invalid",
      132001,
    );
    const mismatch = await Cloud.sendTemplate(cloud, {
      to: USER,
      name: "welcome_named",
      language: "es_ES",
      components: [{ type: "body", parameters: { first_name: "Ana" } }],
    });
    const error = expectError(mismatch, "template_invalid", 132000);
    expect(error.details).toMatch(/localizable_params \(1\)/);
  });

  it("auth: 190 for a wrong or expired token", async () => {
    await userWrites();
    const wrong = expectError(
      await Cloud.sendText({ ...cloud, accessToken: "nope" }, { to: USER, text: "x" }),
      "auth",
      190,
    );
    expect(wrong.httpStatus).toBe(401);
    expect(wrong.action).toBe("stop_channel");
    await fetch(`${sim.url}/_sim/cloud/${NUMBER.phoneNumberId}/expire-token`, { method: "POST", body: "{}" });
    expectError(await Cloud.sendText(cloud, { to: USER, text: "x" }), "auth", 190);
    expectError(await Cloud.listTemplates(cloud), "auth", 190);
  });

  it("permanent: invalid parameters (100)", async () => {
    expectError(await Cloud.sendText(cloud, { to: "12", text: "x" }), "permanent", 100);
    expectError(
      await Cloud.sendMedia(cloud, { to: USER, kind: "image", link: "not a url" }),
      "permanent",
      100,
    );
  });

  it("retryable: 5xx answers", async () => {
    await userWrites();
    sim.state.setKnobs({ serverErrors: 1, serverErrorStatus: 500 });
    const error = expectError(await Cloud.sendText(cloud, { to: USER, text: "x" }), "retryable", 2);
    expect(error.httpStatus).toBe(500);
    expectError(await Cloud.listTemplates(cloud), "retryable");
  });

  it("classifies the rest of the table from the codes the API answers with", async () => {
    await userWrites();
    const expectations: [number, ProviderError["class"], string | undefined][] = [
      [368, "auth", "stop_channel"],
      [131048, "throttled", "pause_campaigns"],
      [131049, "pair_limited", undefined],
      [131026, "permanent", undefined],
      [131051, "permanent", undefined],
      [1, "retryable", undefined],
      [131000, "retryable", undefined],
      [131016, "retryable", undefined],
      [131057, "retryable", undefined],
      [4, "retryable", "slow_down"],
      [80007, "retryable", "slow_down"],
    ];
    for (const [code, cls, action] of expectations) {
      // The simulator answers 4xx for these so that the code, not the status, decides.
      await fetch(`${sim.url}/_sim/inject`, {
        method: "POST",
        body: JSON.stringify({ code, httpStatus: 400 }),
      });
      const error = expectError(await Cloud.sendText(cloud, { to: USER, text: "x" }), cls, code);
      expect(error.action, String(code)).toBe(action);
    }
    // 131049 waits a day.
    await fetch(`${sim.url}/_sim/inject`, { method: "POST", body: JSON.stringify({ code: 131049 }) });
    const marketing = expectError(
      await Cloud.sendText(cloud, { to: USER, text: "x" }),
      "pair_limited",
      131049,
    );
    expect(marketing.retryAfterMs).toBe(24 * 3_600_000);
    expect(backoffMs(marketing, 1)).toBe(24 * 3_600_000);
  });
});

describe("WAHA adapter", () => {
  it("sendText and sendImage return WAHA's serialized message ids", async () => {
    const text = await Waha.sendText(waha, { to: USER, text: "Hola" });
    expect(text.ok).toBe(true);
    if (!text.ok) throw new Error("unreachable");
    expect(text.providerMessageId).toMatch(new RegExp(`^true_${USER_DIGITS}@c\\.us_`));
    const image = await Waha.sendImage(waha, {
      to: `${USER_DIGITS}@c.us`,
      url: "https://cdn.test/a.jpg",
      caption: "look",
    });
    expect(image.ok).toBe(true);
    expect(outbound().map((m) => m.content)).toEqual([
      { session: "default", chatId: `${USER_DIGITS}@c.us`, text: "Hola" },
      {
        session: "default",
        chatId: `${USER_DIGITS}@c.us`,
        file: { mimetype: "image/jpeg", url: "https://cdn.test/a.jpg" },
        caption: "look",
      },
    ]);
    // The id is what the acks carry.
    await hooks.waitFor(
      1,
      (w) => w.json.event === "message.ack" && w.json.payload.id === text.providerMessageId,
    );
  });

  it("sessionStatus reports the status and the linked number", async () => {
    expect(await Waha.sessionStatus(waha)).toEqual({
      ok: true,
      session: {
        name: "default",
        status: "WORKING",
        me: { id: `${SESSION.number}@c.us`, pushName: "Simulated WAHA" },
        engine: "WEBJS",
      },
    });
    await fetch(`${sim.url}/_sim/waha/default/status`, {
      method: "POST",
      body: JSON.stringify({ status: "SCAN_QR_CODE" }),
    });
    expect(await Waha.sessionStatus(waha)).toEqual({
      ok: true,
      session: { name: "default", status: "SCAN_QR_CODE", engine: "WEBJS" },
    });
  });

  it("refuses to call a private address unless allowed, without making the call", async () => {
    const before = sim.state.apiCalls.length;
    const result = await Waha.sessionStatus({ ...waha, allowPrivateTargets: false });
    expect(result).toEqual({
      ok: false,
      error: {
        class: "auth",
        action: "stop_channel",
        message: `Refused to call ${sim.url}: a loopback address`,
      },
    });
    expect(sim.state.apiCalls.length).toBe(before);
  });

  it("classifies WAHA's errors", async () => {
    expectError(await Waha.sendText({ ...waha, apiKey: "wrong" }, { to: USER, text: "x" }), "auth", 401);
    expectError(await Waha.sendText({ ...waha, session: "missing" }, { to: USER, text: "x" }), "auth", 404);
    expectError(await Waha.sessionStatus({ ...waha, session: "missing" }), "auth", 404);
    expectError(await Waha.sendText(waha, { to: "", text: "x" }), "permanent", 400);

    await fetch(`${sim.url}/_sim/waha/default/status`, {
      method: "POST",
      body: JSON.stringify({ status: "STARTING" }),
    });
    const starting = expectError(await Waha.sendText(waha, { to: USER, text: "x" }), "retryable", 422);
    expect(starting.message).toMatch(/STARTING/);
    await fetch(`${sim.url}/_sim/waha/default/status`, {
      method: "POST",
      body: JSON.stringify({ status: "SCAN_QR_CODE" }),
    });
    const qr = expectError(await Waha.sendText(waha, { to: USER, text: "x" }), "auth", 422);
    expect(qr.action).toBe("stop_channel");

    await fetch(`${sim.url}/_sim/waha/default/status`, {
      method: "POST",
      body: JSON.stringify({ status: "WORKING" }),
    });
    sim.state.setKnobs({ serverErrors: 1 });
    expectError(await Waha.sendImage(waha, { to: USER, url: "https://cdn.test/a.jpg" }), "retryable", 500);
  });

  it("reads the message id whichever engine answered", () => {
    expect(Waha.messageIdOf({ id: { _serialized: "true_1@c.us_AB" } })).toBe("true_1@c.us_AB");
    expect(Waha.messageIdOf({ key: { id: "3EB0X", remoteJid: "1@s.whatsapp.net" } })).toBe("3EB0X");
    expect(Waha.messageIdOf({ id: "gows-id" })).toBe("gows-id");
    expect(Waha.messageIdOf({})).toBeUndefined();
    expect(Waha.chatId("+34 600 111 222")).toBe("34600111222@c.us");
    expect(Waha.chatId("123@lid")).toBe("123@lid");
  });
});

describe("timeouts and network failures are retryable", () => {
  let hanging: http.Server;
  let hangingUrl: string;
  const sockets = new Set<import("node:net").Socket>();

  beforeAll(async () => {
    // Accepts requests and never answers.
    hanging = http.createServer(() => {});
    hanging.on("connection", (s) => sockets.add(s));
    await new Promise<void>((r) => hanging.listen(0, "127.0.0.1", () => r()));
    hangingUrl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => hanging.close(() => r()));
  });

  it("a Cloud API call that never answers times out as retryable", async () => {
    const started = Date.now();
    const result = await Cloud.sendText(
      { ...cloud, graphUrl: hangingUrl, timeoutMs: 200 },
      { to: USER, text: "x" },
    );
    const elapsed = Date.now() - started;
    const error = expectError(result, "retryable");
    expect(error.message).toMatch(/200 ms/);
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(2_000);
  });

  it("a WAHA call that never answers times out as retryable", async () => {
    const result = await Waha.sessionStatus({ ...waha, baseUrl: hangingUrl, timeoutMs: 150 });
    expectError(result, "retryable");
  });

  it("a slow simulator (apiLatencyMs) past the timeout is retryable too", async () => {
    sim.state.setKnobs({ apiLatencyMs: 500 });
    expectError(await Cloud.getTemplate({ ...cloud, timeoutMs: 100 }, "1"), "retryable");
  });

  it("a refused connection is retryable", async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const error = expectError(
      await Waha.sendText({ ...waha, baseUrl: `http://127.0.0.1:${port}` }, { to: USER, text: "x" }),
      "retryable",
    );
    expect(error.message).toMatch(/ECONNREFUSED/);
  });
});

describe("redirects are never followed", () => {
  it("a provider that redirects elsewhere is answered with its redirect, and the target is never called", async () => {
    let targetHits = 0;
    const target = http.createServer((_req, res) => {
      targetHits++;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ status: "WORKING" }));
    });
    await new Promise<void>((r) => target.listen(0, "127.0.0.1", () => r()));
    const targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
    const bouncer = http.createServer((req, res) => {
      res.writeHead(302, { location: `${targetUrl}${req.url}` }).end();
    });
    await new Promise<void>((r) => bouncer.listen(0, "127.0.0.1", () => r()));
    const bouncerUrl = `http://127.0.0.1:${(bouncer.address() as AddressInfo).port}`;
    try {
      const result = await Waha.sessionStatus({ ...waha, baseUrl: bouncerUrl });
      expect(result.ok).toBe(false);
      expect(targetHits).toBe(0);
    } finally {
      await new Promise<void>((r) => target.close(() => r()));
      await new Promise<void>((r) => bouncer.close(() => r()));
    }
  });
});

describe("classify() and the error table", () => {
  it("maps every code in whatsapp.md's table to its class", () => {
    const expected: Record<number, ProviderError["class"]> = {
      130429: "throttled",
      131056: "pair_limited",
      131047: "window_closed",
      131026: "permanent",
      131048: "throttled",
      131049: "pair_limited",
      132000: "template_invalid",
      132001: "template_invalid",
      131051: "permanent",
      368: "auth",
      4: "retryable",
      80007: "retryable",
      190: "auth",
      1: "retryable",
      2: "retryable",
      131000: "retryable",
      131016: "retryable",
      131057: "retryable",
    };
    for (const [code, cls] of Object.entries(expected)) {
      expect(CLOUD_ERROR_TABLE[Number(code)]?.class, code).toBe(cls);
      expect(classify({ kind: "http", status: 400, code: Number(code) }).class, code).toBe(cls);
    }
  });

  it("falls back on the HTTP status, and a 5xx is retryable whatever the code", () => {
    expect(classify({ kind: "http", status: 503, code: 132001 }).class).toBe("retryable");
    expect(classify({ kind: "http", status: 429 }).class).toBe("throttled");
    expect(classify({ kind: "http", status: 401 }).class).toBe("auth");
    expect(classify({ kind: "http", status: 400, code: 999_999 }).class).toBe("permanent");
    expect(classify({ kind: "http", status: 408 }).class).toBe("retryable");
    expect(classify({ kind: "timeout", timeoutMs: 10 })).toEqual({
      class: "retryable",
      message: "No answer within 10 ms",
    });
    expect(classify({ kind: "network", message: "ECONNRESET" }).class).toBe("retryable");
  });

  it("reads Graph and WAHA error bodies and Retry-After", () => {
    const headers = new Headers({ "retry-after": "30" });
    const graph = classifyGraphAnswer(
      400,
      { error: { message: "(#130429) Rate limit hit", code: 130429, error_data: { details: "slow down" } } },
      headers,
    );
    expect(graph).toMatchObject({
      class: "throttled",
      code: 130429,
      details: "slow down",
      retryAfterMs: 30_000,
    });
    expect(classifyGraphAnswer(502, "<html>").class).toBe("retryable");
    expect(classifyWahaAnswer(422, { error: "x", status: "STARTING" }).class).toBe("retryable");
    expect(classifyWahaAnswer(422, { error: "x", status: "FAILED" }).class).toBe("auth");
    expect(classifyWahaAnswer(429, {}).class).toBe("throttled");
    expect(parseRetryAfter("2")).toBe(2_000);
    expect(parseRetryAfter(new Date(Date.now() + 5_000).toUTCString())).toBeGreaterThan(3_000);
    expect(parseRetryAfter("soon")).toBeUndefined();
  });

  it("backs off exponentially, keeping the provider's minimum", () => {
    const retryable: ProviderError = { class: "retryable", message: "x" };
    expect([0, 1, 2, 3].map((n) => backoffMs(retryable, n))).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(backoffMs(retryable, 30)).toBe(600_000);
    expect(backoffMs({ ...retryable, retryAfterMs: 60_000 }, 0)).toBe(60_000);
  });
});
