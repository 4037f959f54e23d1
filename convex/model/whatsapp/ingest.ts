/**
 * Webhook ingress, storage side: events stored durably, once each per channel, and routed.
 * (Request handling — size limit, signature, parsing, answers — is in convex/whatsappHttp.ts.)
 *
 * `storeEvents` runs in one internal mutation per request: each event is routed to its channel,
 * inserted under its dedupe key unless that channel already has it (keys are scoped by channel:
 * WAHA event ids are only unique per server, and a tenant signs its own channel's webhooks,
 * never another's), and scheduled for processing. An event for a number no channel has is kept,
 * as a dead letter saying so, for a platform admin to replay once the channel exists.
 */
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../../_generated/server";
import type { ChannelKind } from "../../schema";
import type { KeyedEvent, WhatsAppEvent } from "./events";
import { digits } from "./payload";

/** `lastWebhookAt` is written at most this often per channel, so busy channels do not contend on it. */
export const LAST_WEBHOOK_INTERVAL_MS = 5_000;

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
 * The channel a Cloud API event belongs to: messages, statuses, user preferences and their
 * unhandled neighbours by phone_number_id; template updates by WABA; quality updates by WABA and display number.
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
    case "user_preference":
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
