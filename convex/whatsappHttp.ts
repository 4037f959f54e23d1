/**
 * WhatsApp webhook requests, in HTTP actions (routes in http.ts): from an HTTP request to an
 * answer, once the events it carries are stored (model/whatsapp/ingest.ts stores and routes).
 *
 * Size limit, signature over the raw bytes, parse (nesting depth capped), normalise, then one
 * internal mutation stores every event of the request; only then 200. Answers: 413 too large,
 * 401 missing or wrong signature, 400 not the provider's envelope, 404 unknown (or disabled)
 * WAHA channel; bad input never gets a 5xx.
 */
import { internal } from "./_generated/api";
import type { ActionCtx } from "./_generated/server";
import { whatsappWebhookConfig } from "./env";
import { readBodyUpTo } from "./shared/body";
import { normaliseCloudWebhook } from "./model/whatsapp/cloudWebhook";
import type { KeyedEvent } from "./model/whatsapp/events";
import { MalformedPayloadError } from "./model/whatsapp/payload";
import { decryptSecrets } from "./model/whatsapp/secrets";
import {
  timingSafeEqualStrings,
  verifyCloudSignature,
  verifyWahaSignature,
} from "./model/whatsapp/signatures";
import { normaliseWahaWebhook } from "./model/whatsapp/wahaWebhook";

const MiB = 1024 * 1024;
/** Meta's own maximum for one webhook POST. */
export const CLOUD_MAX_BYTES = 3 * MiB;
/** WAHA has no stated maximum; media arrive as URLs, so 5 MB is generous. */
export const WAHA_MAX_BYTES = 5 * MiB;
/** The secret key name, in a WAHA channel's encrypted secrets, of its webhook HMAC key. */
export const WAHA_HMAC_SECRET = "webhookHmacKey";
export const WAHA_PATH_PREFIX = "/whatsapp/waha/";

function answer(status: number, body: Record<string, unknown>): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
}

const tooLarge = (limit: number) =>
  answer(413, { error: "payload_too_large", message: `The body exceeds ${limit} bytes` });

/** The body's bytes, or null once it exceeds `limit` (shared/body.ts). */
export const readBodyLimited = readBodyUpTo;

/**
 * How deeply a webhook body may nest arrays and objects. Meta's and WAHA's payloads nest about
 * ten levels; thousands of levels would overflow the stack of whatever walks the value later
 * (serialising it, storing it) and turn bad input into a 500.
 */
export const MAX_JSON_DEPTH = 64;

/** The deepest nesting of arrays and objects in JSON text (brackets inside strings do not count). */
export function jsonDepth(text: string, limit = Infinity): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/** UTF-8 JSON → value; MalformedPayloadError for anything else (also for nesting too deep). */
export function parseJson(bytes: Uint8Array<ArrayBuffer>): unknown {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new MalformedPayloadError("The body is not UTF-8 text");
  }
  if (jsonDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw new MalformedPayloadError(`The body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new MalformedPayloadError("The body is not valid JSON");
  }
}

/** `GET /whatsapp/cloud`: Meta's subscription handshake. */
export function handleCloudVerify(request: Request): Response {
  const params = new URL(request.url).searchParams;
  const { verifyToken } = whatsappWebhookConfig();
  const token = params.get("hub.verify_token");
  const challenge = params.get("hub.challenge");
  if (
    !verifyToken ||
    params.get("hub.mode") !== "subscribe" ||
    token === null ||
    challenge === null ||
    !timingSafeEqualStrings(token, verifyToken)
  ) {
    return new Response("Forbidden", { status: 403, headers: { "content-type": "text/plain" } });
  }
  return new Response(challenge, { status: 200, headers: { "content-type": "text/plain" } });
}

/** `POST /whatsapp/cloud`. */
export async function handleCloudPost(ctx: ActionCtx, request: Request): Promise<Response> {
  const body = await readBodyLimited(request, CLOUD_MAX_BYTES);
  if (!body) return tooLarge(CLOUD_MAX_BYTES);
  const { appSecret } = whatsappWebhookConfig();
  if (!appSecret) {
    // Our configuration, not the sender's fault: a 5xx makes Meta retry until it is fixed.
    console.error("POST /whatsapp/cloud: WHATSAPP_APP_SECRET is not set; refusing unverifiable webhooks");
    return answer(500, { error: "not_configured", message: "Webhook signature checking is not configured" });
  }
  if (!(await verifyCloudSignature(appSecret, body, request.headers.get("x-hub-signature-256")))) {
    return answer(401, { error: "bad_signature", message: "Missing or wrong X-Hub-Signature-256" });
  }
  let events: KeyedEvent[];
  try {
    events = normaliseCloudWebhook(parseJson(body));
  } catch (error) {
    if (error instanceof MalformedPayloadError)
      return answer(400, { error: "malformed", message: error.message });
    throw error;
  }
  const result = await ctx.runMutation(internal.whatsappWebhooks.ingest, { provider: "cloud", events });
  return answer(200, { received: events.length, ...result });
}

/** `POST /whatsapp/waha/<channel id>`. */
export async function handleWahaPost(ctx: ActionCtx, request: Request): Promise<Response> {
  const rawId = new URL(request.url).pathname.slice(WAHA_PATH_PREFIX.length).replace(/\/+$/, "");
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (Number.isFinite(declared) && declared > WAHA_MAX_BYTES) return tooLarge(WAHA_MAX_BYTES);
  let channelKey = "";
  try {
    channelKey = decodeURIComponent(rawId);
  } catch {
    channelKey = "";
  }
  const channel =
    channelKey && !channelKey.includes("/")
      ? await ctx.runQuery(internal.whatsappWebhooks.wahaChannel, { channelId: channelKey })
      : null;
  if (!channel)
    return answer(404, { error: "unknown_channel", message: "No enabled WAHA channel at this address" });
  const body = await readBodyLimited(request, WAHA_MAX_BYTES);
  if (!body) return tooLarge(WAHA_MAX_BYTES);
  const key = (await decryptSecrets(channel.secrets))[WAHA_HMAC_SECRET];
  const signed =
    !!key &&
    (await verifyWahaSignature(
      key,
      body,
      request.headers.get("x-webhook-hmac"),
      request.headers.get("x-webhook-hmac-algorithm"),
    ));
  if (!signed) return answer(401, { error: "bad_signature", message: "Missing or wrong X-Webhook-Hmac" });
  let event: KeyedEvent;
  try {
    event = normaliseWahaWebhook(parseJson(body));
  } catch (error) {
    if (error instanceof MalformedPayloadError)
      return answer(400, { error: "malformed", message: error.message });
    throw error;
  }
  const result = await ctx.runMutation(internal.whatsappWebhooks.ingest, {
    provider: "waha",
    channelId: channel.channelId,
    events: [event],
  });
  return answer(200, { received: 1, ...result });
}
