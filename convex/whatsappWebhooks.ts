/**
 * Internal functions behind the WhatsApp webhook routes in http.ts: store every event of a
 * request in one mutation and, for a request of a few events, apply them in the same
 * transaction; anything that fails there, and larger requests, is processed by scheduled
 * mutations with retries (model/whatsapp/ingest.ts and process.ts hold the logic).
 */
import { v } from "convex/values";
import { internal } from "./_generated/api";
import { webhookEventRetentionDays } from "./env";
import type { Id } from "./_generated/dataModel";
import type { MutationCtx } from "./_generated/server";
import { internalMutation, internalQuery } from "./functions";
import { vKeyedEvent } from "./model/whatsapp/events";
import * as Contacts from "./model/whatsapp/contacts";
import * as Ingest from "./model/whatsapp/ingest";
import * as Process from "./model/whatsapp/process";
import { vChannelKind } from "./schema";

/** A mutation may schedule at most 1000 functions; larger batches fan out through `schedule`. */
const SCHEDULE_DIRECTLY = 500;
/**
 * Requests with at most this many new events (almost all: Meta sends one status or message per
 * request) have them applied in the storing transaction: the first attempt, saving a scheduled
 * job and a commit per event. Each is applied as a sub-transaction, so one that throws rolls
 * back alone and is counted like any failed attempt (retried with backoff, or dead at once);
 * the request is still stored and acknowledged.
 */
export const APPLY_INLINE_MAX = 10;

/** One attempt at an event: applied, or its failure counted (see `process`). */
async function attempt(ctx: MutationCtx, eventId: Id<"webhookEvents">): Promise<void> {
  try {
    await ctx.runMutation(internal.whatsappWebhooks.apply, { eventId });
  } catch (error) {
    await Process.recordFailure(ctx, eventId, error);
  }
}

/**
 * Stores the events of one webhook request (duplicates are no-ops), applies a few at once, and
 * schedules processing for the rest.
 */
export const ingest = internalMutation({
  args: {
    provider: vChannelKind,
    /** Set for WAHA, whose URL names the channel; Cloud events are routed by phone_number_id. */
    channelId: v.optional(v.id("channels")),
    events: v.array(vKeyedEvent),
  },
  returns: v.object({ stored: v.number(), duplicates: v.number(), unrouted: v.number() }),
  handler: async (ctx, args) => {
    const { toProcess, ...result } = await Ingest.storeEvents(ctx, args, Date.now());
    if (toProcess.length <= APPLY_INLINE_MAX) {
      for (const eventId of toProcess) await attempt(ctx, eventId);
    } else if (toProcess.length <= SCHEDULE_DIRECTLY) {
      for (const eventId of toProcess)
        await ctx.scheduler.runAfter(0, internal.whatsappWebhooks.process, { eventId });
    } else {
      for (let i = 0; i < toProcess.length; i += SCHEDULE_DIRECTLY) {
        await ctx.scheduler.runAfter(0, internal.whatsappWebhooks.schedule, {
          eventIds: toProcess.slice(i, i + SCHEDULE_DIRECTLY),
        });
      }
    }
    return result;
  },
});

/** Schedules processing for a slice of a large batch. */
export const schedule = internalMutation({
  args: { eventIds: v.array(v.id("webhookEvents")) },
  returns: v.null(),
  handler: async (ctx, { eventIds }) => {
    for (const eventId of eventIds)
      await ctx.scheduler.runAfter(0, internal.whatsappWebhooks.process, { eventId });
    return null;
  },
});

/**
 * Processes one stored event. `apply` runs as a sub-transaction: if it throws, its writes roll
 * back and the failure is counted here (retry with backoff, or dead after the last attempt).
 */
export const process = internalMutation({
  args: { eventId: v.id("webhookEvents") },
  returns: v.null(),
  handler: async (ctx, { eventId }) => {
    const row = await ctx.db.get("webhookEvents", eventId);
    if (!row || row.state === "done" || row.state === "dead") return null;
    await attempt(ctx, eventId);
    return null;
  },
});

/** Applies one event and marks it done; throws to roll back (see `process`). */
export const apply = internalMutation({
  args: { eventId: v.id("webhookEvents") },
  returns: v.null(),
  handler: async (ctx, { eventId }) => {
    try {
      await Process.apply(ctx, eventId);
    } catch (error) {
      throw Process.markPermanent(error);
    }
    return null;
  },
});

/**
 * Moves a merged contact's conversations and messages to the contact it was merged into, one
 * bounded batch per run, scheduling the next until done (model/whatsapp/contacts.ts).
 */
export const moveContactHistory = internalMutation({
  args: {
    from: v.id("contacts"),
    to: v.id("contacts"),
    conversationId: v.optional(v.id("conversations")),
    cursor: v.optional(v.union(v.string(), v.null())),
  },
  returns: v.null(),
  handler: async (ctx, args) => {
    const next = await Contacts.moveHistory(ctx, args);
    if (next) await ctx.scheduler.runAfter(0, internal.whatsappWebhooks.moveContactHistory, next);
    return null;
  },
});

/**
 * Retention (hourly cron): deletes processed webhook events older than
 * WEBHOOK_EVENT_RETENTION_DAYS (default 30), a bounded batch per run, scheduling the next batch
 * while more are due. Dead letters stay until handled. `now` is for tests and operators.
 */
export const pruneEvents = internalMutation({
  args: { now: v.optional(v.number()) },
  returns: v.object({ deleted: v.number(), more: v.boolean() }),
  handler: async (ctx, { now }) => {
    const at = now ?? Date.now();
    const result = await Ingest.pruneProcessed(ctx, at - webhookEventRetentionDays() * DAY_MS);
    if (result.more) await ctx.scheduler.runAfter(0, internal.whatsappWebhooks.pruneEvents, { now: at });
    return result;
  },
});

const DAY_MS = 24 * 60 * 60 * 1000;

/** The enabled WAHA channel a webhook URL names, with its encrypted secrets (for the HMAC key). */
export const wahaChannel = internalQuery({
  args: { channelId: v.string() },
  returns: v.union(v.null(), v.object({ channelId: v.id("channels"), secrets: v.string() })),
  handler: (ctx, { channelId }) => Ingest.wahaChannel(ctx, channelId),
});
