/** Test data for the WhatsApp webhook tests: fixtures as raw text, channels, signing, posting. */
import { vi } from "vitest";
import type { Doc, Id } from "../../convex/_generated/dataModel";
import { DEFAULTS } from "../../convex/model/assistant/settings";
import { encryptSecrets } from "../../convex/model/whatsapp/secrets";
import type { T } from "./factories";

/** Every fixture, byte for byte as stored (signatures are over these exact bytes). */
export const cloudFixtures = fixtures(
  import.meta.glob<string>("../fixtures/whatsapp/cloud/*.json", {
    query: "?raw",
    import: "default",
    eager: true,
  }),
);
export const wahaFixtures = fixtures(
  import.meta.glob<string>("../fixtures/whatsapp/waha/*.json", {
    query: "?raw",
    import: "default",
    eager: true,
  }),
);

function fixtures(files: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(files).map(([file, text]) => [file.replace(/^.*\//, "").replace(/\.json$/, ""), text]),
  );
}

export function cloud(name: string): string {
  const text = cloudFixtures[name];
  if (text === undefined) throw new Error(`No Cloud API fixture ${name}`);
  return text;
}

export function waha(name: string): string {
  const text = wahaFixtures[name];
  if (text === undefined) throw new Error(`No WAHA fixture ${name}`);
  return text;
}

// The ids the fixtures use.
export const WABA_ID = "102290129340398";
export const PHONE_NUMBER_ID = "106540352242922";
export const DISPLAY_NUMBER = "+1 555-078-3881";
export const USER_WA_ID = "16505551234";
export const OUT_WAMID = "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA";
export const WAHA_OUT_ID = "true_34600111222@c.us_3EB0C767D82B0A2E1F5A";

export const APP_SECRET = "test-app-secret-5a1d";
export const VERIFY_TOKEN = "verify-me-please";
export const WAHA_HMAC_KEY = "waha-hmac-key-9f2c";
/** 32 bytes, base64. */
export const SECRETS_KEY = btoa(
  String.fromCharCode(...Array.from({ length: 32 }, (_, i) => (i * 7 + 3) % 256)),
);

export function stubWhatsAppEnv() {
  vi.stubEnv("CHANNEL_SECRETS_KEY", SECRETS_KEY);
  vi.stubEnv("WHATSAPP_APP_SECRET", APP_SECRET);
  vi.stubEnv("WHATSAPP_VERIFY_TOKEN", VERIFY_TOKEN);
}

const encoder = new TextEncoder();

export function bytes(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text);
}

/** Hex HMAC computed here with WebCrypto directly, not with the code under test. */
export async function hmac(hash: "SHA-256" | "SHA-512", secret: string, body: Uint8Array<ArrayBuffer>) {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash }, false, [
    "sign",
  ]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, body));
  return [...mac].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export type World = {
  tenantId: Id<"tenants">;
  userId: Id<"users">;
  cloudChannelId: Id<"channels">;
  wahaChannelId: Id<"channels">;
};

/** One tenant with a Cloud API channel (the fixtures' number) and a WAHA channel. */
export async function world(
  t: T,
  options: { wahaEnabled?: boolean; assistant?: boolean } = {},
): Promise<World> {
  const secrets = {
    cloud: await encryptSecrets({ accessToken: "EAAG-test-token-1234" }),
    waha: await encryptSecrets({ apiKey: "waha-api-key-5678", webhookHmacKey: WAHA_HMAC_KEY }),
  };
  return await t.run(async (ctx) => {
    const now = Date.now();
    const userId = await ctx.db.insert("users", {
      tokenIdentifier: "https://idp.test|owner@acme.test",
      email: "owner@acme.test",
      name: "Owner",
      isPlatformAdmin: false,
      createdAt: now,
      lastSeenAt: now,
    });
    const tenantId = await ctx.db.insert("tenants", {
      name: "Acme Shoes",
      currency: "EUR",
      timeZone: "Europe/Madrid",
      defaultCountry: "ES",
      slug: "acme-shoes",
      createdBy: userId,
      createdAt: now,
    });
    const cloudChannelId = await ctx.db.insert("channels", {
      tenantId,
      kind: "cloud",
      name: "Acme main number",
      enabled: true,
      phoneNumberId: PHONE_NUMBER_ID,
      wabaId: WABA_ID,
      displayNumber: DISPLAY_NUMBER,
      secrets: secrets.cloud,
      secretHints: { accessToken: "1234" },
      createdBy: userId,
      createdAt: now,
    });
    const wahaChannelId = await ctx.db.insert("channels", {
      tenantId,
      kind: "waha",
      name: "Acme WAHA",
      enabled: options.wahaEnabled ?? true,
      baseUrl: "http://waha.local:3000",
      session: "default",
      secrets: secrets.waha,
      secretHints: { apiKey: "5678", webhookHmacKey: "9f2c" },
      createdBy: userId,
      createdAt: now,
    });
    // The assistant would answer the inbound fixtures; tests about it turn it on (assistant.test.ts).
    if (!options.assistant) {
      await ctx.db.insert("assistants", { tenantId, ...DEFAULTS, enabled: false, updatedAt: now });
    }
    return { tenantId, userId, cloudChannelId, wahaChannelId };
  });
}

/** The world's user (owner@acme.test) as a member of its tenant with `role`, signed in. */
export async function signedInAs(t: T, w: World, role: "owner" | "admin" | "agent") {
  await t.run((ctx) =>
    ctx.db.insert("memberships", { tenantId: w.tenantId, userId: w.userId, role, createdAt: 1 }),
  );
  return t.withIdentity({
    subject: "owner@acme.test",
    issuer: "https://idp.test",
    tokenIdentifier: "https://idp.test|owner@acme.test",
    email: "owner@acme.test",
    emailVerified: true,
  });
}

/** Posts a Cloud API webhook, signed over exactly `body` unless told otherwise. */
export async function postCloud(
  t: T,
  body: string | Uint8Array<ArrayBuffer>,
  options: { signature?: string | null; secret?: string; headers?: Record<string, string> } = {},
) {
  const raw = typeof body === "string" ? bytes(body) : body;
  const signature =
    options.signature !== undefined
      ? options.signature
      : `sha256=${await hmac("SHA-256", options.secret ?? APP_SECRET, raw)}`;
  const headers: Record<string, string> = { "content-type": "application/json", ...options.headers };
  if (signature !== null) headers["x-hub-signature-256"] = signature;
  return await t.fetch("/whatsapp/cloud", { method: "POST", headers, body: raw });
}

/** Posts a WAHA webhook to the channel's URL, signed with its key unless told otherwise. */
export async function postWaha(
  t: T,
  channelId: string,
  body: string | Uint8Array<ArrayBuffer>,
  options: { signature?: string | null; key?: string; headers?: Record<string, string> } = {},
) {
  const raw = typeof body === "string" ? bytes(body) : body;
  const signature =
    options.signature !== undefined
      ? options.signature
      : await hmac("SHA-512", options.key ?? WAHA_HMAC_KEY, raw);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-webhook-hmac-algorithm": "sha512",
    "x-webhook-request-id": "req-1",
    "x-webhook-timestamp": "1717430400123",
    ...options.headers,
  };
  if (signature !== null) headers["x-webhook-hmac"] = signature;
  return await t.fetch(`/whatsapp/waha/${channelId}`, { method: "POST", headers, body: raw });
}

/** Runs every scheduled function (processing, retries) to the end. */
export async function settle(t: T) {
  await t.finishAllScheduledFunctions(vi.runAllTimers);
}

/** An outbound message we "sent" on the channel (as the send path records it). */
export async function outbound(
  t: T,
  w: World,
  options: {
    channelId?: Id<"channels">;
    providerMessageId?: string;
    status?: Doc<"messages">["status"];
    phone?: string;
  } = {},
): Promise<Id<"messages">> {
  return await t.run(async (ctx) => {
    const channelId = options.channelId ?? w.cloudChannelId;
    const phone = options.phone ?? `+${USER_WA_ID}`;
    const contactId = await ctx.db.insert("contacts", { tenantId: w.tenantId, phone, createdAt: 1 });
    await ctx.db.insert("contactAliases", { tenantId: w.tenantId, kind: "phone", value: phone, contactId });
    const conversationId = await ctx.db.insert("conversations", {
      tenantId: w.tenantId,
      channelId,
      contactId,
      lastMessageAt: 1,
    });
    return await ctx.db.insert("messages", {
      tenantId: w.tenantId,
      channelId,
      conversationId,
      contactId,
      direction: "out",
      providerMessageId: options.providerMessageId,
      type: "text",
      text: "Your order has shipped",
      status: options.status ?? "sent",
      statusAt: 1,
      createdAt: 1,
    });
  });
}

export async function rows<
  Table extends
    "webhookEvents" | "messages" | "contacts" | "contactAliases" | "conversations" | "templates" | "channels",
>(t: T, table: Table) {
  return await t.run(async (ctx) => await ctx.db.query(table).collect());
}

/** A deterministic shuffle (tests must fail the same way twice). */
export function shuffled<X>(items: X[], seed: number): X[] {
  const out = [...items];
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
