/** Delivery of queued outbound messages (the pipeline is described in convex/model/outbound.ts). */
import { v } from "convex/values";
import { internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { type ActionCtx, internalAction, internalMutation } from "./_generated/server";
import { allowPrivateProviderUrls, outboundUnknownAfterMs, whatsappGraphUrl } from "./env";
import type { ProviderCheck } from "./model/whatsapp/channels";
import * as Outbound from "./model/outbound";
import * as Cloud from "./providers/whatsappCloud";
import * as Waha from "./providers/waha";
import type { SendResult } from "./providers/whatsappErrors";
import { vErrorClass } from "./schema";

const vSendResult = v.union(
  v.object({ ok: v.literal(true), providerMessageId: v.string() }),
  v.object({
    ok: v.literal(false),
    error: v.object({
      class: vErrorClass,
      code: v.optional(v.number()),
      message: v.string(),
      retryAfterMs: v.optional(v.number()),
      action: v.optional(v.string()),
      httpStatus: v.optional(v.number()),
      details: v.optional(v.string()),
    }),
  }),
);

const vBody = v.union(
  v.object({ type: v.literal("text"), text: v.string() }),
  v.object({
    type: v.literal("template"),
    template: v.object({
      name: v.string(),
      language: v.string(),
      category: v.optional(v.string()),
      parameters: v.optional(v.array(v.string())),
      parameterNames: v.optional(v.array(v.string())),
    }),
  }),
);

const vDelivery = v.object({
  messageId: v.id("messages"),
  channelId: v.id("channels"),
  to: v.string(),
  body: vBody,
  replyTo: v.optional(v.string()),
});

/** Messages per `deliverMany` call at most. */
const MAX_SLICE = 20;

export const claim = internalMutation({
  args: { messageId: v.id("messages") },
  returns: v.union(v.null(), vDelivery),
  handler: (ctx, { messageId }) => Outbound.claim(ctx, messageId),
});

/** Claims several queued messages at once (a campaign slice); the ones not claimable are left out. */
export const claimMany = internalMutation({
  args: { messageIds: v.array(v.id("messages")) },
  returns: v.array(vDelivery),
  handler: async (ctx, { messageIds }) => {
    const deliveries: Outbound.Delivery[] = [];
    if (messageIds.length > MAX_SLICE) throw new Error(`claimMany: at most ${MAX_SLICE} messages a slice`);
    for (const messageId of messageIds) {
      const delivery = await Outbound.claim(ctx, messageId);
      if (delivery) deliveries.push(delivery);
    }
    return deliveries;
  },
});

export const recordResult = internalMutation({
  args: { messageId: v.id("messages"), result: vSendResult },
  returns: v.union(v.literal("sent"), v.literal("retrying"), v.literal("failed"), v.literal("ignored")),
  handler: (ctx, { messageId, result }) => Outbound.recordResult(ctx, messageId, result as SendResult),
});

/** Records the answers of a slice's sends, in one transaction. */
export const recordResults = internalMutation({
  args: { results: v.array(v.object({ messageId: v.id("messages"), result: vSendResult })) },
  returns: v.null(),
  handler: async (ctx, { results }) => {
    for (const { messageId, result } of results)
      await Outbound.recordResult(ctx, messageId, result as SendResult);
    return null;
  },
});

/**
 * Messages stuck in `sending` past OUTBOUND_UNKNOWN_AFTER_MS become `unknown` (never sent again;
 * a late status still settles them), a batch per run; run by a cron, and again at once while
 * more are left. Returns counts for reconciliation reports.
 */
export const resolveStuckSending = internalMutation({
  args: { batch: v.optional(v.number()) },
  returns: v.object({ found: v.number(), resolved: v.number(), remaining: v.number() }),
  handler: async (ctx, { batch }) => {
    const result = await Outbound.resolveStuckSending(ctx, {
      now: Date.now(),
      afterMs: outboundUnknownAfterMs(),
      batch,
    });
    if (result.remaining > 0)
      await ctx.scheduler.runAfter(0, internal.outbound.resolveStuckSending, { batch });
    return result;
  },
});

/** Calls the provider for one claimed message, with our message id as callback data. */
async function send(check: ProviderCheck, delivery: Outbound.Delivery): Promise<SendResult> {
  const { body, to } = delivery;
  if (check.kind === "cloud") {
    const config = {
      graphUrl: whatsappGraphUrl(),
      phoneNumberId: check.phoneNumberId,
      accessToken: check.accessToken,
    };
    const common = { to, callbackData: delivery.messageId };
    if (body.type === "text") return await Cloud.sendText(config, { ...common, text: body.text });
    const values = body.template.parameters ?? [];
    const names = body.template.parameterNames;
    // Named templates take their values by name, in the order queueMessage recorded them.
    const parameters =
      names && names.length === values.length
        ? Object.fromEntries(names.map((name, i) => [name, values[i]]))
        : values;
    return await Cloud.sendTemplate(config, {
      ...common,
      name: body.template.name,
      language: body.template.language,
      ...(values.length ? { components: [{ type: "body", parameters }] } : {}),
    });
  }
  if (body.type === "template") {
    return {
      ok: false,
      error: {
        class: "permanent",
        message: "WAHA numbers cannot send WhatsApp templates; send a text inside the 24-hour window",
      },
    };
  }
  return await Waha.sendText(
    {
      baseUrl: check.baseUrl,
      apiKey: check.apiKey,
      session: check.session,
      allowPrivateTargets: allowPrivateProviderUrls(),
    },
    { to, text: body.text },
  );
}

/** Calls the provider for each claimed message at once; what the pipeline records of each answer. */
async function sendAll(
  ctx: ActionCtx,
  deliveries: Outbound.Delivery[],
): Promise<{ messageId: Id<"messages">; result: SendResult }[]> {
  const checks = new Map<Id<"channels">, Promise<ProviderCheck | null>>();
  const checkOf = (channelId: Id<"channels">) => {
    if (!checks.has(channelId))
      checks.set(channelId, ctx.runQuery(internal.channels.healthCheck, { channelId }));
    return checks.get(channelId)!;
  };
  return await Promise.all(
    deliveries.map(async (delivery) => {
      const check = await checkOf(delivery.channelId);
      const answer: SendResult = check
        ? await send(check, delivery)
        : {
            ok: false,
            error: { class: "auth", message: "The channel's secrets cannot be read; enter them again" },
          };
      // Only what the pipeline records (the Cloud API's answer carries more).
      const result: SendResult = answer.ok
        ? { ok: true, providerMessageId: answer.providerMessageId }
        : { ok: false, error: answer.error };
      return { messageId: delivery.messageId, result };
    }),
  );
}

/** Delivers one queued message: claim, call the provider, record what it answered. */
export const deliver = internalAction({
  args: { messageId: v.id("messages") },
  returns: v.null(),
  handler: async (ctx, { messageId }) => {
    const delivery = await ctx.runMutation(internal.outbound.claim, { messageId });
    if (!delivery) return null;
    const [{ result }] = await sendAll(ctx, [delivery]);
    await ctx.runMutation(internal.outbound.recordResult, { messageId, result });
    return null;
  },
});

/**
 * Delivers a slice of queued messages (a campaign tick's, at most MAX_SLICE): one claim for all,
 * the provider calls at once, one record for all. The calls are made together right after the
 * claim, so a crash in between leaves only calls that were all under way at that instant
 * `sending` (and later `unknown`), as with single deliveries; retries go one by one (`deliver`).
 */
export const deliverMany = internalAction({
  args: { messageIds: v.array(v.id("messages")) },
  returns: v.null(),
  handler: async (ctx, { messageIds }) => {
    const deliveries = await ctx.runMutation(internal.outbound.claimMany, { messageIds });
    if (!deliveries.length) return null;
    const results = await sendAll(ctx, deliveries);
    await ctx.runMutation(internal.outbound.recordResults, { results });
    return null;
  },
});
