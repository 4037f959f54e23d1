/**
 * WhatsApp webhooks against our real local Convex server: raw bytes over HTTP to the site
 * port, signed as Meta and WAHA sign them; a 200 means the event is already stored.
 */
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { ConvexHttpClient } from "convex/browser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api } from "../../convex/_generated/api";
import type { Doc, Id, TableNames } from "../../convex/_generated/dataModel";
import { startWhatsAppSimulator, type WhatsAppSimulator } from "../../local/whatsapp-simulator/server";
import { removeDir, ROOT, startServer, until, type TestServer } from "./harness";

const APP_SECRET = "local-app-secret-3e1f";
const VERIFY_TOKEN = "local-verify-token";
const HMAC_KEY = "local-waha-hmac-key";
const SECRETS_KEY = Buffer.alloc(32, 9).toString("base64");
const FIXTURES = path.join(ROOT, "tests/fixtures/whatsapp");

function fixture(name: string): Buffer {
  return readFileSync(path.join(FIXTURES, `${name}.json`));
}

function actingAs(server: TestServer, email: string): ConvexHttpClient {
  const client = new ConvexHttpClient(server.url);
  (client as unknown as { setAdminAuth(key: string, identity: object): void }).setAdminAuth(server.adminKey, {
    subject: email,
    issuer: "https://idp.test",
    tokenIdentifier: `https://idp.test|${email}`,
    email,
    name: email.split("@")[0],
    emailVerified: true,
  });
  return client;
}

async function tableRows<T extends TableNames>(server: TestServer, table: T): Promise<Doc<T>[]> {
  const res = await fetch(`${server.url}/_local/tables/${table}?limit=10000`, {
    headers: { authorization: `Convex ${server.adminKey}` },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { documents: Doc<T>[] }).documents;
}

function postCloud(server: TestServer, body: Buffer, signature?: string | null) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  const sig =
    signature === undefined
      ? `sha256=${createHmac("sha256", APP_SECRET).update(body).digest("hex")}`
      : signature;
  if (sig !== null) headers["x-hub-signature-256"] = sig;
  return fetch(`${server.siteUrl}/whatsapp/cloud`, { method: "POST", headers, body: new Uint8Array(body) });
}

function postWaha(server: TestServer, channelId: string, body: Buffer, key = HMAC_KEY) {
  return fetch(`${server.siteUrl}/whatsapp/waha/${channelId}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-webhook-hmac": createHmac("sha512", key).update(body).digest("hex"),
      "x-webhook-hmac-algorithm": "sha512",
    },
    body: new Uint8Array(body),
  });
}

describe("WhatsApp webhooks on the local Convex server", () => {
  let server: TestServer;
  let sim: WhatsAppSimulator;
  let cloudChannel: Id<"channels">;
  let wahaChannel: Id<"channels">;

  beforeAll(async () => {
    // The provider confirms each channel's secrets before it is saved: the simulator holds them.
    sim = await startWhatsAppSimulator({
      config: {
        cloud: [
          {
            phoneNumberId: "106540352242922",
            wabaId: "102290129340398",
            displayNumber: "15550783881",
            accessToken: "EAAG-local-token-0001",
            appSecret: APP_SECRET,
          },
        ],
        waha: [{ session: "default", apiKey: "waha-local-api-key" }],
      },
    });
    server = await startServer({
      env: {
        WHATSAPP_GRAPH_URL: sim.graphUrl,
        ALLOW_PRIVATE_PROVIDER_URLS: "true",
        WHATSAPP_APP_SECRET: APP_SECRET,
        WHATSAPP_VERIFY_TOKEN: VERIFY_TOKEN,
        CHANNEL_SECRETS_KEY: SECRETS_KEY,
        APP_URL: "http://app.test",
      },
    });
    const owner = actingAs(server, "owner@acme.test");
    await owner.mutation(api.users.ensure, {});
    const { tenantId } = await owner.mutation(api.tenants.create, {
      name: "Acme Shoes",
      currency: "EUR",
      timeZone: "Europe/Madrid",
      defaultCountry: "ES",
    });
    cloudChannel = await owner.action(api.channels.create, {
      tenantId,
      channel: {
        kind: "cloud",
        name: "Acme main line",
        phoneNumberId: "106540352242922",
        wabaId: "102290129340398",
        displayNumber: "+1 555-078-3881",
        accessToken: "EAAG-local-token-0001",
      },
    });
    wahaChannel = await owner.action(api.channels.create, {
      tenantId,
      channel: {
        kind: "waha",
        name: "Acme WAHA",
        baseUrl: sim.url,
        session: "default",
        apiKey: "waha-local-api-key",
        webhookHmacKey: HMAC_KEY,
      },
    });
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    await sim?.close();
    if (server) removeDir(server.dataDir);
  });

  it("answers Meta's verification handshake", async () => {
    const ok = await fetch(
      `${server.siteUrl}/whatsapp/cloud?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=8675309`,
    );
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe("8675309");
    const wrong = await fetch(
      `${server.siteUrl}/whatsapp/cloud?hub.mode=subscribe&hub.verify_token=no&hub.challenge=1`,
    );
    expect(wrong.status).toBe(403);
  });

  it("stores a signed body with \\u escapes before answering 200, then processes it", async () => {
    const body = fixture("cloud/unicode-escapes");
    expect(body.toString("latin1")).toContain("\\u00e9");
    const response = await postCloud(server, body);
    expect(response.status).toBe(200);
    // No waiting: the 200 means the event is already in the table.
    const stored = await tableRows(server, "webhookEvents");
    expect(stored.map((r) => r.dedupeKey)).toContain(
      "cloud:msg:wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUIUNICO01=",
    );
    const message = await until(
      async () => (await tableRows(server, "messages")).find((m) => m.channelId === cloudChannel),
      (m) => m !== undefined,
    );
    expect(message).toMatchObject({ direction: "in", text: "Café crème — 👍", status: "received" });
    const contact = (await tableRows(server, "contacts")).find((c) => c._id === message!.contactId);
    expect(contact).toMatchObject({ name: "José María", phone: "+16505551234" });
    const channel = (await tableRows(server, "channels")).find((c) => c._id === cloudChannel);
    expect(channel?.lastWebhookAt).toEqual(expect.any(Number));
  });

  it("refuses the same body re-serialised (401), malformed (400) and oversized (413), storing nothing", async () => {
    const before = (await tableRows(server, "webhookEvents")).length;
    const raw = fixture("cloud/message-text");
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(raw.toString("utf8"))));
    const signedOverOther = `sha256=${createHmac("sha256", APP_SECRET).update(reserialised).digest("hex")}`;
    expect((await postCloud(server, raw, signedOverOther)).status).toBe(401);
    expect((await postCloud(server, raw, null)).status).toBe(401);
    expect((await postCloud(server, Buffer.from('{"object":"whatsapp_business_account"'))).status).toBe(400);
    expect((await postCloud(server, Buffer.from('{"object":"page","entry":[]}'))).status).toBe(400);
    const big = Buffer.alloc(3 * 1024 * 1024 + 1, 0x20);
    expect((await postCloud(server, big)).status).toBe(413);
    expect((await tableRows(server, "webhookEvents")).length).toBe(before);
  });

  it("dedupes a storm of concurrent redeliveries to one event per key and one final status", async () => {
    const payloads = [
      "cloud/status-sent",
      "cloud/status-delivered",
      "cloud/status-read",
      "cloud/message-text",
    ];
    const deliveries = payloads.flatMap((p) => Array.from({ length: 5 }, () => fixture(p)));
    const responses = await Promise.all(deliveries.map((body) => postCloud(server, body)));
    expect(responses.map((r) => r.status)).toEqual(deliveries.map(() => 200));
    const events = await tableRows(server, "webhookEvents");
    const keys = events.map((e) => e.dedupeKey);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.filter((k) => k.includes(":status:"))).toHaveLength(3);
    const texts = (await tableRows(server, "messages")).filter((m) => m.text?.startsWith("Hi, do you have"));
    expect(texts).toHaveLength(1);
  });

  it("WAHA: signed with the channel's key → 200 and stored; unknown channel → 404", async () => {
    const body = fixture("waha/session-status");
    const response = await postWaha(server, wahaChannel, body);
    expect(response.status).toBe(200);
    expect((await tableRows(server, "webhookEvents")).map((e) => e.dedupeKey)).toContain(
      "waha:evt_01HZX3Q2M8K9ZB4T6W1R5N7C50",
    );
    await until(
      async () => (await tableRows(server, "channels")).find((c) => c._id === wahaChannel)?.wahaStatus,
      (s) => s === "WORKING",
    );
    expect((await postWaha(server, wahaChannel, body, "wrong-key")).status).toBe(401);
    expect((await postWaha(server, "not-a-channel", body)).status).toBe(404);
    expect((await postWaha(server, cloudChannel, body)).status).toBe(404);
  });
});
