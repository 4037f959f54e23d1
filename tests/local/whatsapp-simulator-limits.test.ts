/**
 * The WhatsApp simulator models the limits a campaign must respect, over HTTP as Meta's Cloud
 * API answers: the business portfolio's messaging limit (unique users reached outside the 24 h
 * window per rolling 24 h, by tier), the per-user marketing cap and marketing to US numbers
 * (131049), and the spam rate limit (131048) that flags the number's quality.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  startWebhookReceiver,
  type ReceivedWebhook,
  type WebhookReceiver,
} from "../../local/whatsapp-simulator/receiver";
import { startWhatsAppSimulator, type WhatsAppSimulator } from "../../local/whatsapp-simulator/server";

const CLOUD = {
  phoneNumberId: "109000000000001",
  wabaId: "209000000000001",
  displayNumber: "15550001111",
  accessToken: "EAAG-test-token",
  appSecret: "app-secret-1",
};
/** A second number of the same WABA (so the same business portfolio). */
const SECOND = { ...CLOUD, phoneNumberId: "109000000000002", displayNumber: "15550002222" };

let sim: WhatsAppSimulator;
let hooks: WebhookReceiver;

beforeEach(async () => {
  hooks = await startWebhookReceiver();
  sim = await startWhatsAppSimulator({
    seed: 1,
    config: {
      cloud: [
        { ...CLOUD, webhookUrl: `${hooks.url}/whatsapp/cloud`, messagingLimitTier: "3" },
        { ...SECOND, webhookUrl: `${hooks.url}/whatsapp/cloud`, messagingLimitTier: "3" },
      ],
      waha: [],
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
          name: "weekly_offer",
          language: "en_US",
          category: "MARKETING",
          components: [{ type: "BODY", text: "Hi {{1}}, this week 20% off." }],
        },
      ],
    },
    knobs: { statusDelaysMs: { sent: 5, delivered: 15, read: 25 } },
  });
});

afterEach(async () => {
  await sim?.close();
  await hooks?.close();
});

type Json = {
  error?: { code: number; message: string };
  messages?: { id: string }[];
  [key: string]: unknown;
};

async function call(path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(sim.url + path, {
    method: body === undefined ? "GET" : "POST",
    headers: { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Json };
}

const bearer = { authorization: `Bearer ${CLOUD.accessToken}` };

function send(to: string, name = "order_update", from = CLOUD.phoneNumberId) {
  const parameters = (name === "order_update" ? ["Ana", "A-1"] : ["Ana"]).map((text) => ({
    type: "text",
    text,
  }));
  return call(
    `/v23.0/${from}/messages`,
    {
      messaging_product: "whatsapp",
      to,
      type: "template",
      template: { name, language: { code: "en_US" }, components: [{ type: "body", parameters }] },
    },
    bearer,
  );
}

type Status = { id: string; status: string; errors?: { code: number; title: string }[] };
const statusesOf = (w: ReceivedWebhook) =>
  (
    (w.json as { entry?: { changes: { value: { statuses?: Status[] } }[] }[] } | undefined)?.entry ?? []
  ).flatMap((e) => e.changes.flatMap((c) => c.value.statuses ?? []));

/** The final status webhook of a message: delivered or failed (with its code). */
async function outcome(id: string): Promise<{ status: string; code?: number }> {
  const [hook] = await hooks.waitFor(1, (w) =>
    statusesOf(w).some((s) => s.id === id && (s.status === "delivered" || s.status === "failed")),
  );
  const status = statusesOf(hook).find((s) => s.id === id)!;
  return { status: status.status, code: status.errors?.[0]?.code };
}

async function sentOutcome(to: string, name?: string, from?: string) {
  const answer = await send(to, name, from);
  expect(answer.status).toBe(200);
  return await outcome(answer.json.messages![0].id);
}

describe("the messaging limit", () => {
  it("reaches at most the tier's unique users outside the window per 24 h, across the portfolio's numbers", async () => {
    expect(await sentOutcome("34600000001")).toEqual({ status: "delivered", code: undefined });
    expect(await sentOutcome("34600000002")).toEqual({ status: "delivered", code: undefined });
    // The second number of the same portfolio takes the third place.
    expect(await sentOutcome("34600000003", "order_update", SECOND.phoneNumberId)).toMatchObject({
      status: "delivered",
    });
    expect((await call(`/_sim/cloud/${CLOUD.phoneNumberId}/limits`)).json).toEqual({
      tier: "3",
      limit: 3,
      reached: 3,
    });
    // A fourth user: accepted, then failed by webhook (Meta documents no code: 131026).
    expect(await sentOutcome("34600000004")).toEqual({ status: "failed", code: 131026 });
    // Users already reached today, and users whose window is open, can still be sent to.
    expect(await sentOutcome("34600000001")).toMatchObject({ status: "delivered" });
    const wrote = await call("/_sim/users/34600000005/messages", { to: CLOUD.phoneNumberId, text: "Hi" });
    expect(wrote.status).toBe(200);
    expect(await sentOutcome("34600000005")).toMatchObject({ status: "delivered" });
    expect((await call(`/_sim/cloud/${CLOUD.phoneNumberId}/limits`)).json).toMatchObject({ reached: 3 });

    // As the send's own answer, with the knob; the code is a knob too.
    await call("/_sim/knobs", { limitsAs: "error", messagingLimitCode: 131048 });
    const refused = await send("34600000006");
    expect(refused.status).toBe(400);
    expect(refused.json.error?.code).toBe(131048);

    // A higher tier lets new users through; the phone number shows it as the app reads it.
    await call(`/_sim/cloud/${CLOUD.phoneNumberId}/quality`, { event: "UPGRADE", tier: "TIER_2K" });
    expect((await send("34600000006")).status).toBe(200);
    const info = await call(
      `/v23.0/${CLOUD.phoneNumberId}?fields=messaging_limit_tier,whatsapp_business_manager_messaging_limit`,
      undefined,
      bearer,
    );
    expect(info.json).toMatchObject({
      messaging_limit_tier: "TIER_2K",
      whatsapp_business_manager_messaging_limit: "TIER_2K",
    });
  });

  it("is lifted entirely by TIER_UNLIMITED", async () => {
    await call("/_sim/config", { cloud: [{ ...CLOUD, messagingLimitTier: "TIER_UNLIMITED" }] });
    await call("/_sim/knobs", { limitsAs: "error" });
    for (let i = 0; i < 6; i++) expect((await send(`3460000010${i}`)).status).toBe(200);
    expect((await call(`/_sim/cloud/${CLOUD.phoneNumberId}/limits`)).json).toEqual({
      tier: "TIER_UNLIMITED",
      limit: null,
      reached: 6,
    });
  });
});

describe("marketing limits", () => {
  it("caps marketing templates per user per 24 h with 131049, and never other categories", async () => {
    await call("/_sim/config", { cloud: [{ ...CLOUD, messagingLimitTier: "TIER_UNLIMITED" }] });
    await call("/_sim/knobs", { marketingPerUserPer24h: 2 });
    expect(await sentOutcome("34600000001", "weekly_offer")).toMatchObject({ status: "delivered" });
    expect(await sentOutcome("34600000001", "weekly_offer")).toMatchObject({ status: "delivered" });
    expect(await sentOutcome("34600000001", "weekly_offer")).toEqual({ status: "failed", code: 131049 });
    expect(await sentOutcome("34600000001", "order_update")).toMatchObject({ status: "delivered" });
    expect(await sentOutcome("34600000002", "weekly_offer")).toMatchObject({ status: "delivered" });

    // Chosen users hit the cap at once.
    await call("/_sim/knobs", { marketingPerUserPer24h: null, marketingCapUsers: ["34600000003"] });
    expect(await sentOutcome("34600000003", "weekly_offer")).toEqual({ status: "failed", code: 131049 });
    await call("/_sim/knobs", { limitsAs: "error" });
    expect((await send("34600000003", "weekly_offer")).json.error?.code).toBe(131049);
  });

  it("fails marketing templates to US (+1) numbers with 131049; utility ones are delivered", async () => {
    expect(await sentOutcome("14155550100", "weekly_offer")).toEqual({ status: "failed", code: 131049 });
    expect(await sentOutcome("14155550100", "order_update")).toMatchObject({ status: "delivered" });
    await call("/_sim/knobs", { usMarketingBlocked: false });
    expect(await sentOutcome("14155550101", "weekly_offer")).toMatchObject({ status: "delivered" });
  });
});

describe("quality", () => {
  it("refuses sends with 131048 under the spam knob and flags the number's quality by webhook", async () => {
    await call("/_sim/knobs", { spamShare: 1 });
    expect(await sentOutcome("34600000001")).toEqual({ status: "failed", code: 131048 });
    const [flag] = await hooks.waitFor(1, (w) => w.raw.includes("phone_number_quality_update"));
    const change = (
      flag.json as { entry: { changes: { field: string; value: Record<string, unknown> }[] }[] }
    ).entry[0].changes[0];
    expect(change).toMatchObject({
      field: "phone_number_quality_update",
      value: { display_phone_number: CLOUD.displayNumber, event: "FLAGGED" },
    });
    const info = await call(`/v23.0/${CLOUD.phoneNumberId}?fields=quality_rating`, undefined, bearer);
    expect(info.json.quality_rating).toBe("RED");
    // Quality is flagged once, not on every refusal.
    expect(await sentOutcome("34600000002")).toEqual({ status: "failed", code: 131048 });
    expect(hooks.received.filter((w) => w.raw.includes("phone_number_quality_update"))).toHaveLength(1);
    // Synchronously with the knob; and gone when the knob is back to 0.
    await call("/_sim/knobs", { limitsAs: "error" });
    expect((await send("34600000003")).json.error?.code).toBe(131048);
    await call("/_sim/knobs", { spamShare: 0 });
    expect(await sentOutcome("34600000003")).toMatchObject({ status: "delivered" });
  });
});
