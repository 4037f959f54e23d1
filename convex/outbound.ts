/** Delivery of queued outbound messages (the pipeline is described in convex/model/outbound.ts). */
import { type Infer, v } from "convex/values";
import { internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { type ActionCtx, internalAction, internalMutation, type MutationCtx } from "./_generated/server";
import { allowPrivateProviderUrls, outboundUnknownAfterMs, sendArrivalMs, whatsappGraphUrl } from "./env";
import type { ProviderCheck } from "./model/whatsapp/channels";
import { countsFrom, SendWindows, settled } from "./model/campaigns/pacing";
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
  claimedAt: v.number(),
  to: v.string(),
  body: vBody,
  replyTo: v.optional(v.string()),
});

/** Messages per `deliverMany` call at most. */
const MAX_SLICE = 20;

/**
 * Claims a queued message; null when there is nothing to send now. A campaign send that finds its
 * channel's second full (model/campaigns/pacing.ts) is delivered again when the second has room.
 */
export const claim = internalMutation({
  args: { messageId: v.id("messages") },
  returns: v.union(v.null(), vDelivery),
  handler: async (ctx, { messageId }) => {
    const windows = new SendWindows(ctx, Date.now());
    const delivery = await Outbound.claim(ctx, messageId, windows);
    await windows.save();
    if (delivery === null || !("later" in delivery)) return delivery;
    await ctx.scheduler.runAt(await windows.nextAt(delivery.later), internal.outbound.deliver, { messageId });
    return null;
  },
});

/**
 * Claims several queued messages at once (a campaign slice); the ones not claimable are left out.
 * Those the channel's pacing holds go out in a slice of their own when its second has room.
 */
export const claimMany = internalMutation({
  args: { messageIds: v.array(v.id("messages")) },
  returns: v.array(vDelivery),
  handler: async (ctx, { messageIds }) => {
    const deliveries: Outbound.Delivery[] = [];
    const later: Id<"messages">[] = [];
    let heldOn: Id<"channels"> | undefined;
    if (messageIds.length > MAX_SLICE) throw new Error(`claimMany: at most ${MAX_SLICE} messages a slice`);
    const windows = new SendWindows(ctx, Date.now());
    for (const messageId of messageIds) {
      const delivery = await Outbound.claim(ctx, messageId, windows);
      if (delivery === null) continue;
      if ("later" in delivery) {
        later.push(messageId);
        heldOn = delivery.later;
      } else deliveries.push(delivery);
    }
    await windows.save();
    if (heldOn)
      await ctx.scheduler.runAt(await windows.nextAt(heldOn), internal.outbound.deliverMany, {
        messageIds: later,
        channelId: heldOn,
      });
    return deliveries;
  },
});

/** A send's answer as the delivery action saw it: what it was, and when it came. */
const vAnswered = v.object({
  messageId: v.id("messages"),
  channelId: v.id("channels"),
  claimedAt: v.number(),
  answeredAt: v.number(),
  /** When the send counts from for the channel's pacing (absent: the answer). */
  countsFrom: v.optional(v.number()),
  result: vSendResult,
});
type Answered = Infer<typeof vAnswered>;

/**
 * Records the answers of one claim's sends, in one transaction: each message's outcome (a refusal
 * teaches the channel's dispatcher what WhatsApp took in the second before), then the channel's
 * count of sends (model/campaigns/pacing.ts).
 */
async function recordAnswers(ctx: MutationCtx, answers: Answered[]) {
  const alongside = answers.filter(({ result }) => result.ok).length;
  const outcomes: Awaited<ReturnType<typeof Outbound.recordResult>>[] = [];
  for (const { messageId, result, answeredAt, countsFrom } of answers)
    outcomes.push(
      await Outbound.recordResult(ctx, messageId, result as SendResult, {
        answeredAt,
        countsFrom,
        alongside,
      }),
    );
  for (const channelId of new Set(answers.map((a) => a.channelId)))
    await settled(
      ctx,
      channelId,
      answers
        .filter((a) => a.channelId === channelId)
        .map((a) => ({
          claimedAt: a.claimedAt,
          answeredAt: a.answeredAt,
          countsFrom: a.countsFrom,
          accepted: a.result.ok,
        })),
    );
  return outcomes;
}

export const recordResult = internalMutation({
  args: { answer: vAnswered },
  returns: v.union(v.literal("sent"), v.literal("retrying"), v.literal("failed"), v.literal("ignored")),
  handler: async (ctx, { answer }) => (await recordAnswers(ctx, [answer]))[0],
});

/** Records the answers of a slice's sends, in one transaction. */
export const recordResults = internalMutation({
  args: { results: v.array(vAnswered) },
  returns: v.null(),
  handler: async (ctx, { results }) => {
    await recordAnswers(ctx, results);
    return null;
  },
});

/**
 * Messages stuck in `sending` past OUTBOUND_UNKNOWN_AFTER_MS become `unknown` (never sent again;
 * a late status still settles them), a batch per run; run by a cron, and again at once while
 * more are left. Queued messages whose delivery was lost in a crash get a new one
 * (`redeliverLost`). Returns counts for reconciliation reports.
 */
export const resolveStuckSending = internalMutation({
  args: { batch: v.optional(v.number()) },
  returns: v.object({
    found: v.number(),
    resolved: v.number(),
    remaining: v.number(),
    redelivered: v.number(),
  }),
  handler: async (ctx, { batch }) => {
    const options = { now: Date.now(), afterMs: outboundUnknownAfterMs(), batch };
    const result = await Outbound.resolveStuckSending(ctx, options);
    const redelivered = await Outbound.redeliverLost(ctx, options);
    if (result.remaining > 0)
      await ctx.scheduler.runAfter(0, internal.outbound.resolveStuckSending, { batch });
    return { ...result, redelivered };
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

/**
 * Calls the provider for each claimed message at once (with the channels' provider checks when the
 * claim brought them); what the pipeline records of each answer.
 */
async function sendAll(
  ctx: ActionCtx,
  deliveries: Outbound.Delivery[],
  arrivalMs: number,
  known: { channelId: Id<"channels">; check: ProviderCheck | null }[] = [],
): Promise<Answered[]> {
  const checks = new Map<Id<"channels">, Promise<ProviderCheck | null>>(
    known.map(({ channelId, check }) => [channelId, Promise.resolve(check)]),
  );
  const checkOf = (channelId: Id<"channels">) => {
    if (!checks.has(channelId))
      checks.set(channelId, ctx.runQuery(internal.channels.healthCheck, { channelId }));
    return checks.get(channelId)!;
  };
  return await Promise.all(
    deliveries.map(async (delivery) => {
      const check = await checkOf(delivery.channelId);
      const calledAt = Date.now();
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
      const { messageId, channelId, claimedAt } = delivery;
      const answeredAt = Date.now();
      const counted = countsFrom(calledAt, answeredAt, arrivalMs);
      return { messageId, channelId, claimedAt, answeredAt, countsFrom: counted, result };
    }),
  );
}

/** Delivers one queued message: claim, call the provider, record what it answered. */
export const deliver = internalAction({
  args: { messageId: v.id("messages") },
  returns: v.null(),
  handler: async (ctx, { messageId }) => {
    // Configuration is read before the claim: a bad value fails here, with nothing claimed.
    const arrivalMs = sendArrivalMs();
    const delivery = await ctx.runMutation(internal.outbound.claim, { messageId });
    if (!delivery) return null;
    const [answer] = await sendAll(ctx, [delivery], arrivalMs);
    await ctx.runMutation(internal.outbound.recordResult, { answer });
    return null;
  },
});

/**
 * Delivers a slice of queued messages (a campaign tick's, at most MAX_SLICE): one claim for all,
 * the provider calls at once, one record for all. The calls are made together right after the
 * claim, so a crash in between leaves only calls that were all under way at that instant
 * `sending` (and later `unknown`), as with single deliveries. The slice's channel (when the caller
 * knows it) is checked before the claim, not between the claim and the calls: pacing counts a
 * send when it is claimed, and a query in between would hold some sends back more than others.
 */
export const deliverMany = internalAction({
  args: { messageIds: v.array(v.id("messages")), channelId: v.optional(v.id("channels")) },
  returns: v.null(),
  handler: async (ctx, { messageIds, channelId }) => {
    const arrivalMs = sendArrivalMs();
    const known = channelId
      ? [{ channelId, check: await ctx.runQuery(internal.channels.healthCheck, { channelId }) }]
      : [];
    const deliveries = await ctx.runMutation(internal.outbound.claimMany, { messageIds });
    if (!deliveries.length) return null;
    const results = await sendAll(ctx, deliveries, arrivalMs, known);
    await ctx.runMutation(internal.outbound.recordResults, { results });
    return null;
  },
});
