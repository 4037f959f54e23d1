/**
 * Webhook ingress: from an HTTP request to events stored durably, once each.
 *
 * HTTP side (runs in HTTP actions): size limit, signature over the raw bytes, parse, normalise,
 * then one internal mutation stores every event of the request; only then 200. Answers:
 * 413 too large, 401 missing or wrong signature, 400 not the provider's envelope, 404 unknown
 * (or disabled) WAHA channel; bad input never gets a 5xx.
 *
 * Mutation side (`storeEvents`): each event is routed to its channel, inserted under its dedupe
 * key unless that channel already has it (keys are scoped by channel: WAHA event ids are only
 * unique per server, and a tenant signs its own channel's webhooks, never another's), and scheduled for processing. An event for a number no channel
 * has is kept, as a dead letter saying so, for a platform admin to replay once the channel exists.
 */
import { internal } from "../../_generated/api";
import type { Doc, Id } from "../../_generated/dataModel";
import type { ActionCtx, MutationCtx, QueryCtx } from "../../_generated/server";
import { whatsappWebhookConfig } from "../../env";
import type { ChannelKind } from "../../schema";
import { normaliseCloudWebhook } from "./cloudWebhook";
import type { KeyedEvent, WhatsAppEvent } from "./events";
import { digits, MalformedPayloadError } from "./payload";
import { decryptSecrets } from "./secrets";
import { timingSafeEqualStrings, verifyCloudSignature, verifyWahaSignature } from "./signatures";
import { normaliseWahaWebhook } from "./wahaWebhook";

const MiB = 1024 * 1024;
/** Meta's own maximum for one webhook POST. */
export const CLOUD_MAX_BYTES = 3 * MiB;
/** WAHA has no stated maximum; media arrive as URLs, so 5 MB is generous. */
export const WAHA_MAX_BYTES = 5 * MiB;
/** `lastWebhookAt` is written at most this often per channel, so busy channels do not contend on it. */
export const LAST_WEBHOOK_INTERVAL_MS = 5_000;
/** The secret key name, in a WAHA channel's encrypted secrets, of its webhook HMAC key. */
export const WAHA_HMAC_SECRET = "webhookHmacKey";
export const WAHA_PATH_PREFIX = "/whatsapp/waha/";

// ---------------------------------------------------------------- HTTP side

function answer(status: number, body: Record<string, unknown>): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
}

const tooLarge = (limit: number) =>
  answer(413, { error: "payload_too_large", message: `The body exceeds ${limit} bytes` });

/**
 * The body's bytes, or null once it exceeds `limit`: checks the declared Content-Length first,
 * then counts what actually arrives (a missing or false Content-Length changes nothing).
 */
export async function readBodyLimited(
  request: Request,
  limit: number,
): Promise<Uint8Array<ArrayBuffer> | null> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (Number.isFinite(declared) && declared > limit) return null;
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

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

/** The enabled WAHA channel with this id (as written in the URL), or null. */
export async function wahaChannel(
  ctx: QueryCtx,
  channelId: string,
): Promise<{ channelId: Id<"channels">; secrets: string } | null> {
  const id = ctx.db.normalizeId("channels", channelId);
  const channel = id ? await ctx.db.get("channels", id) : null;
  if (!channel || channel.kind !== "waha" || !channel.enabled) return null;
  return { channelId: channel._id, secrets: channel.secrets };
}

// ---------------------------------------------------------------- mutation side

type ChannelCache = Map<string, Doc<"channels"> | null>;

/**
 * The channel a Cloud API event belongs to: messages, statuses and their unhandled neighbours
 * by phone_number_id; template updates by WABA; quality updates by WABA and display number.
 * An enabled channel is preferred when (unusually) several share the identifier.
 */
export async function routeEvent(
  ctx: QueryCtx,
  event: WhatsAppEvent,
  cache: ChannelCache = new Map(),
): Promise<Doc<"channels"> | null> {
  const cached = async (key: string, load: () => Promise<Doc<"channels"> | null>) => {
    if (!cache.has(key)) cache.set(key, await load());
    return cache.get(key) ?? null;
  };
  const pick = (channels: Doc<"channels">[]) => channels.find((c) => c.enabled) ?? channels[0] ?? null;
  const byWaba = (wabaId: string) =>
    ctx.db
      .query("channels")
      .withIndex("by_waba_id", (q) => q.eq("wabaId", wabaId))
      .take(100)
      .then((rows) => rows.filter((c) => c.kind === "cloud"));
  switch (event.kind) {
    case "message":
    case "status":
    case "unhandled": {
      const phoneNumberId = event.phoneNumberId;
      if (!phoneNumberId) return null;
      return await cached(`pn:${phoneNumberId}`, async () =>
        pick(
          (
            await ctx.db
              .query("channels")
              .withIndex("by_phone_number_id", (q) => q.eq("phoneNumberId", phoneNumberId))
              .take(10)
          ).filter((c) => c.kind === "cloud"),
        ),
      );
    }
    case "template_status":
      return await cached(`waba:${event.wabaId}`, async () => pick(await byWaba(event.wabaId)));
    case "quality":
      return await cached(`quality:${event.wabaId}:${event.displayNumber}`, async () => {
        const channels = await byWaba(event.wabaId);
        const number = digits(event.displayNumber);
        const matching = channels.filter((c) => c.displayNumber && digits(c.displayNumber) === number);
        return pick(matching.length ? matching : channels.length === 1 ? channels : []);
      });
    case "session_status":
      return null;
  }
}

export function unroutedReason(event: WhatsAppEvent): string {
  switch (event.kind) {
    case "template_status":
      return `unrouted: no channel has WABA id ${event.wabaId}`;
    case "quality":
      return `unrouted: no channel in WABA ${event.wabaId} has number ${event.displayNumber}`;
    case "session_status":
      return `unrouted: no channel for WAHA session ${event.session}`;
    default:
      return `unrouted: no channel has phone_number_id ${event.phoneNumberId ?? "(none)"}`;
  }
}

export type StoreResult = { stored: number; duplicates: number; unrouted: number };

/**
 * Stores each event once per channel (by dedupe key; repeats, within this request or from
 * earlier ones, are no-ops), and returns the new events that need processing. Events nothing needs to be done for
 * ("unhandled") are stored as done.
 */
export async function storeEvents(
  ctx: MutationCtx,
  args: { provider: ChannelKind; channelId?: Id<"channels">; events: KeyedEvent[] },
  now: number,
): Promise<StoreResult & { toProcess: Id<"webhookEvents">[] }> {
  const cache: ChannelCache = new Map();
  const fixed = args.channelId ? await ctx.db.get("channels", args.channelId) : undefined;
  const touched = new Map<Id<"channels">, Doc<"channels">>();
  const toProcess: Id<"webhookEvents">[] = [];
  const result: StoreResult = { stored: 0, duplicates: 0, unrouted: 0 };
  for (const { dedupeKey, event } of args.events) {
    if (typeof dedupeKey !== "string" || !dedupeKey || !event || typeof event.kind !== "string") {
      throw new Error("storeEvents: every event needs a dedupe key and a kind");
    }
    const channel = fixed !== undefined ? fixed : await routeEvent(ctx, event, cache);
    if (channel) touched.set(channel._id, channel);
    const existing = await ctx.db
      .query("webhookEvents")
      .withIndex("by_channel_dedupe", (q) => q.eq("channelId", channel?._id).eq("dedupeKey", dedupeKey))
      .first();
    if (existing) {
      result.duplicates += 1;
      continue;
    }
    const base = {
      provider: args.provider,
      dedupeKey,
      channelId: channel?._id,
      tenantId: channel?.tenantId,
      kind: event.kind,
      event,
      attempts: 0,
      receivedAt: now,
    };
    if (event.kind === "unhandled") {
      await ctx.db.insert("webhookEvents", { ...base, state: "done", processedAt: now });
    } else if (!channel) {
      await ctx.db.insert("webhookEvents", { ...base, state: "dead", lastError: unroutedReason(event) });
      result.unrouted += 1;
    } else {
      toProcess.push(await ctx.db.insert("webhookEvents", { ...base, state: "pending" }));
    }
    result.stored += 1;
  }
  for (const channel of touched.values()) {
    if (channel.lastWebhookAt === undefined || now - channel.lastWebhookAt >= LAST_WEBHOOK_INTERVAL_MS) {
      await ctx.db.patch("channels", channel._id, { lastWebhookAt: now });
    }
  }
  return { ...result, toProcess };
}

// ---------------------------------------------------------------- retention

export const PRUNE_BATCH = 500;

/**
 * Deletes up to `batch` processed events received before `cutoff`, oldest first; says whether
 * more are left. Dead letters, and events still pending or retrying, are never deleted here.
 * (Latest-wins checks for template, quality and session events compare against processed events;
 * an event older than the retention period arriving after its successor was deleted is too
 * late for any provider's redelivery window.)
 */
export async function pruneProcessed(
  ctx: MutationCtx,
  cutoff: number,
  batch = PRUNE_BATCH,
): Promise<{ deleted: number; more: boolean }> {
  const old = await ctx.db
    .query("webhookEvents")
    .withIndex("by_state_received", (q) => q.eq("state", "done").lt("receivedAt", cutoff))
    .take(batch);
  for (const row of old) await ctx.db.delete("webhookEvents", row._id);
  return { deleted: old.length, more: old.length === batch };
}
