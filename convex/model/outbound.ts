/**
 * The send pipeline every outbound message goes through (agents, the assistant, campaigns).
 *
 * 1. `queueMessage` (in the caller's mutation) checks the conversation, the 24-hour window and
 *    consent, writes the message row as `queued` (the send intent) and schedules delivery.
 * 2. `claim` (a mutation) moves it to `sending` and counts the attempt; only a `queued` message
 *    can be claimed, so two deliveries of one message never both call the provider. Every send
 *    is counted in its channel's send window, and a campaign send waits (stays `queued`) while
 *    the channel's last second is full (campaigns/pacing.ts).
 * 3. The delivery action calls the provider with our message id as callback data, so a status
 *    webhook finds the row even if we crash before recording the provider's id.
 * 4. `recordResult` ties the provider id to the row, or classifies the failure: retryable and
 *    throttled ones go back to `queued` with exponential backoff, the rest fail for good with
 *    their code and a reason a person understands.
 *
 * Kill switches (model/sending.ts, decision 021) act at 1 and 2: `queueMessage` refuses new
 * messages while sending is paused (consent confirmations are queued and held instead), and
 * `claim` holds a message queued before the switch flipped: it stays `queued` and goes out once
 * sending resumes. A message already `sending` (its provider call under way) cannot be stopped.
 *
 * A crash between 2 and 4 leaves the message `sending` without a provider id: it may or may not
 * have gone out, so it is never retried. A status webhook settles it (found by our id, sent as
 * callback data); if none arrives within OUTBOUND_UNKNOWN_AFTER_MS, `resolveStuckSending` marks
 * it `unknown` (a later status still settles it, once). The same applies to a message the
 * provider accepted but whose statuses never came.
 */
import { internal } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import type { ProviderError, SendResult } from "../providers/whatsappErrors";
import type { MessageOrigin } from "../schema";
import { settlementPatch } from "./billing/settlement";
import { recordConsent } from "./contactConsent";
import { recordReach } from "./campaigns/limits";
import type { SendWindows } from "./campaigns/pacing";
import { type Answer, messageChanged, sendThrottled, withdrawIfStopped } from "./campaigns/progress";
import { fail } from "./errors";
import { checkSend } from "./templates";
import { describeBlock, holdMessage, sendingBlock } from "./sending";
import { addressesOf } from "./whatsapp/contacts";

export const WINDOW_MS = 24 * 60 * 60 * 1000;
export const MAX_ATTEMPTS = 5;
const BACKOFF_BASE_MS = 2_000;
const BACKOFF_MAX_MS = 5 * 60 * 1000;
const ERROR_PAIR_LIMIT = 131056;
/**
 * Errors a campaign send does not retry in the pipeline: the campaign decides (the marketing cap
 * waits a day, once; the spam limit pauses the channel's campaigns), see campaigns/progress.ts.
 */
const CAMPAIGN_DECIDES = new Set([131048, 131049]);

/** Whether free-form messages may be sent: the customer wrote within the last 24 hours. */
export function windowOpen(conversation: Pick<Doc<"conversations">, "lastInboundAt">, now: number): boolean {
  return conversation.lastInboundAt !== undefined && now - conversation.lastInboundAt < WINDOW_MS;
}

/** When the window closes (or closed), or null when the customer never wrote. */
export function windowClosesAt(conversation: Pick<Doc<"conversations">, "lastInboundAt">): number | null {
  return conversation.lastInboundAt === undefined ? null : conversation.lastInboundAt + WINDOW_MS;
}

export type OutboundBody =
  | { type: "text"; text: string }
  | {
      type: "template";
      template: {
        name: string;
        language: string;
        category?: string;
        parameters?: string[];
        /** Named templates: the body variable each parameter fills (set by queueMessage). */
        parameterNames?: string[];
      };
    };

export const MAX_TEXT_LENGTH = 4096;

/**
 * Whether the contact may be sent this message now. An opted-out contact gets nothing, except
 * replies to a message they wrote after opting out (they started that conversation) and never
 * marketing templates. One who stopped marketing messages in WhatsApp gets no marketing
 * templates, and everything else.
 */
export function consentRefusal(
  contact: Pick<Doc<"contacts">, "optedOutAt" | "marketingOptedOutAt">,
  conversation: Pick<Doc<"conversations">, "lastInboundAt">,
  body: OutboundBody,
): string | null {
  const marketing = body.type === "template" && body.template.category?.toLowerCase() === "marketing";
  if (contact.optedOutAt === undefined) {
    if (marketing && contact.marketingOptedOutAt !== undefined)
      return `This contact stopped marketing messages on ${new Date(contact.marketingOptedOutAt).toISOString().slice(0, 10)} (in WhatsApp): marketing templates are not sent to them, replies and utility templates still are`;
    return null;
  }
  const wroteSince =
    conversation.lastInboundAt !== undefined && conversation.lastInboundAt > contact.optedOutAt;
  if (wroteSince && !marketing) return null;
  return `This contact opted out on ${new Date(contact.optedOutAt).toISOString().slice(0, 10)}: they get no messages until they opt in again (for example by sending START)`;
}

/**
 * Writes the send intent and schedules its delivery, in the caller's mutation. Refuses free-form
 * text outside the 24-hour window (a template is needed then), contacts who opted out, and
 * everything while a kill switch is off (SENDING_PAUSED), except consent confirmations (origin
 * "system"), which are written held and go out when sending resumes.
 */
export async function queueMessage(
  ctx: MutationCtx,
  args: {
    conversationId: Id<"conversations">;
    tenantId: Id<"tenants">;
    origin: MessageOrigin;
    authorId?: Id<"users">;
    body: OutboundBody;
    reservationKey?: string;
    /** Consent confirmations go out even to a contact who just opted out. */
    skipConsentCheck?: boolean;
    /**
     * The caller schedules delivery itself (a campaign tick sends its claims in paced slices,
     * `deliverMany`); otherwise it is scheduled here, at once.
     */
    deliveredByCaller?: boolean;
  },
): Promise<Id<"messages">> {
  const conversation = await ctx.db.get("conversations", args.conversationId);
  if (!conversation || conversation.tenantId !== args.tenantId) fail("NOT_FOUND", "No such conversation");
  const channel = await ctx.db.get("channels", conversation.channelId);
  if (!channel) fail("NOT_FOUND", "The conversation's channel no longer exists");
  if (!channel.enabled) fail("INVALID", `Channel ${channel.name} is turned off: turn it on to send`);
  const block = await sendingBlock(ctx, conversation.tenantId);
  if (block && args.origin !== "system") fail("SENDING_PAUSED", describeBlock(block));
  const contact = await ctx.db.get("contacts", conversation.contactId);
  if (!contact) fail("NOT_FOUND", "The conversation's contact no longer exists");
  const now = Date.now();
  if (args.body.type === "text") {
    const text = args.body.text.trim();
    if (!text) fail("INVALID", "Write a message first", "text");
    if (text.length > MAX_TEXT_LENGTH)
      fail(
        "INVALID",
        `A message can be at most ${MAX_TEXT_LENGTH} characters (this one has ${text.length})`,
        "text",
      );
    if (!windowOpen(conversation, now)) {
      fail(
        "OUTSIDE_WINDOW",
        conversation.lastInboundAt === undefined
          ? "This customer has not written yet: WhatsApp allows only an approved template until they do"
          : `The 24-hour customer-service window closed ${new Date(windowClosesAt(conversation)!).toISOString().replace("T", " ").slice(0, 16)} UTC: send an approved template instead`,
      );
    }
  }
  if (!args.skipConsentCheck) {
    const refusal = consentRefusal(contact, conversation, args.body);
    if (refusal) fail("OPTED_OUT", refusal);
  }
  let body = args.body;
  if (body.type === "template") {
    // The parameters must fit the approved template: WhatsApp would fail the send with 132000.
    const { parameterNames } = await checkSend(ctx, channel._id, body.template, {
      body: body.template.parameters ?? [],
    });
    body = {
      type: "template",
      template: { ...body.template, ...(parameterNames ? { parameterNames } : {}) },
    };
  }
  const messageId = await ctx.db.insert("messages", {
    tenantId: conversation.tenantId,
    channelId: conversation.channelId,
    conversationId: conversation._id,
    contactId: conversation.contactId,
    direction: "out",
    type: body.type,
    ...(body.type === "text" ? { text: body.text.trim() } : { template: body.template }),
    status: "queued",
    statusAt: now,
    origin: args.origin,
    ...(args.authorId ? { authorId: args.authorId } : {}),
    ...(args.reservationKey ? { reservationKey: args.reservationKey } : {}),
    attempts: 0,
    createdAt: now,
  });
  if (now > conversation.lastMessageAt)
    await ctx.db.patch("conversations", conversation._id, { lastMessageAt: now });
  // A template outside the window reaches a person against WhatsApp's messaging limit.
  if (body.type === "template" && channel.kind === "cloud" && !windowOpen(conversation, now))
    await recordReach(ctx, channel, conversation.contactId, now);
  if (block) await holdMessage(ctx, (await ctx.db.get("messages", messageId))!, block);
  else if (!args.deliveredByCaller) await ctx.scheduler.runAfter(0, internal.outbound.deliver, { messageId });
  return messageId;
}

/** What the delivery action needs to call the provider. */
export type Delivery = {
  messageId: Id<"messages">;
  channelId: Id<"channels">;
  /** When it was claimed (counted in flight by the channel's pacing until its answer). */
  claimedAt: number;
  to: string;
  body: OutboundBody;
  replyTo?: string;
};

/**
 * The number or chat id to send to: the contact's E.164 phone, else its WhatsApp ids; on the
 * Cloud API last its business-scoped user id (sent as `recipient`, providers/whatsappCloud.ts).
 */
async function addressOf(
  ctx: QueryCtx,
  channel: Doc<"channels">,
  contactId: Id<"contacts">,
): Promise<string | null> {
  const a = await addressesOf(ctx, contactId);
  return channel.kind === "waha" ? (a.wahaChat ?? a.phone ?? a.lid) : (a.phone ?? a.waId ?? a.bsuid);
}

/**
 * Moves a queued message to `sending`; null when it is not queued (already claimed, or gone), a
 * kill switch holds it (it stays queued until sending resumes), or its campaign stopped running
 * (the intent is withdrawn, see campaigns/progress.ts `withdrawIfStopped`). `{ later: channel }`
 * when it is a campaign's and its channel sent all it may in the last second (campaigns/pacing.ts):
 * it stays queued, and the caller delivers it at `windows.nextAt(channel)`.
 */
export async function claim(
  ctx: MutationCtx,
  messageId: Id<"messages">,
  windows: SendWindows,
): Promise<Delivery | null | { later: Id<"channels"> }> {
  const message = await ctx.db.get("messages", messageId);
  if (!message || message.direction !== "out" || message.status !== "queued") return null;
  if (await withdrawIfStopped(ctx, message)) return null;
  const block = await sendingBlock(ctx, message.tenantId);
  if (block) {
    await holdMessage(ctx, message, block);
    return null;
  }
  const channel = await ctx.db.get("channels", message.channelId);
  const to = channel ? await addressOf(ctx, channel, message.contactId) : null;
  if (!channel || !channel.enabled || !to) {
    await failMessage(ctx, message, {
      class: "permanent",
      message: !channel
        ? "The channel no longer exists"
        : !channel.enabled
          ? `Channel ${channel.name} was turned off before the message left`
          : "The contact has no number or WhatsApp id to send to",
    });
    return null;
  }
  if (!(await windows.take(channel._id, message.origin === "campaign"))) return { later: channel._id };
  await ctx.db.patch("messages", message._id, {
    status: "sending",
    statusAt: windows.now,
    attempts: (message.attempts ?? 0) + 1,
    ...(message.heldAt !== undefined ? { heldAt: undefined } : {}),
  });
  const body: OutboundBody =
    message.type === "template" && message.template
      ? { type: "template", template: message.template }
      : { type: "text", text: message.text ?? "" };
  return { messageId: message._id, channelId: channel._id, claimedAt: windows.now, to, body };
}

/**
 * Exponential backoff with full jitter, at least what the provider asked for. WhatsApp's pair
 * limit (131056, one recipient messaged too fast) asks for 4^n seconds after the n-th attempt.
 */
export function retryDelay(
  attempt: number,
  retryAfterMs: number | undefined,
  random = Math.random,
  errorCode?: number,
): number {
  if (errorCode === ERROR_PAIR_LIMIT) return Math.max(retryAfterMs ?? 0, 4 ** Math.max(1, attempt) * 1_000);
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt - 1));
  return Math.max(retryAfterMs ?? 0, Math.round(ceiling / 2 + (random() * ceiling) / 2));
}

async function failMessage(ctx: MutationCtx, message: Doc<"messages">, error: ProviderError) {
  const patch = {
    status: "failed" as const,
    statusAt: Date.now(),
    errorClass: error.class,
    errorMessage: error.message,
    ...(error.code !== undefined ? { errorCode: error.code } : {}),
  };
  await ctx.db.patch("messages", message._id, {
    ...patch,
    ...settlementPatch(message, patch, patch.statusAt),
  });
  await messageChanged(ctx, (await ctx.db.get("messages", message._id))!);
}

/** Ties the provider's answer to the message: its id, a retry later, or a failure for good. */
export async function recordResult(
  ctx: MutationCtx,
  messageId: Id<"messages">,
  result: SendResult,
  /** When the answer came, and how many sends claimed with this one the provider accepted. */
  answer: Answer = { answeredAt: Date.now(), alongside: 0 },
): Promise<"sent" | "retrying" | "failed" | "ignored"> {
  const message = await ctx.db.get("messages", messageId);
  if (!message) return "ignored";
  if (result.ok) {
    // A status webhook may have been faster than this answer and moved the message on already.
    await ctx.db.patch("messages", message._id, {
      ...(message.providerMessageId ? {} : { providerMessageId: result.providerMessageId }),
      // What earlier attempts reported no longer applies once one got through.
      ...(message.status === "sending"
        ? { errorClass: undefined, errorCode: undefined, errorMessage: undefined }
        : {}),
    });
    return "sent";
  }
  if (message.status === "unknown") {
    // The provider answered after the outcome was declared unknown: it was not sent. It is not
    // tried again (the recipient may have been told about it); it fails with the answer.
    await failMessage(ctx, message, result.error);
    return "failed";
  }
  if (message.status !== "sending") return "ignored";
  const error = result.error;
  const attempts = message.attempts ?? 1;
  const campaignDecides =
    message.origin === "campaign" && error.code !== undefined && CAMPAIGN_DECIDES.has(error.code);
  const transient =
    !campaignDecides &&
    (error.class === "retryable" || error.class === "throttled" || error.class === "pair_limited");
  const delay = retryDelay(attempts, error.retryAfterMs, Math.random, error.code);
  if (error.class === "throttled") await sendThrottled(ctx, message, Date.now() + delay, answer);
  if (transient && attempts < MAX_ATTEMPTS) {
    await ctx.db.patch("messages", message._id, {
      status: "queued",
      statusAt: Date.now(),
      errorClass: error.class,
      errorMessage: `${error.message} (attempt ${attempts} of ${MAX_ATTEMPTS}; trying again)`,
      ...(error.code !== undefined ? { errorCode: error.code } : {}),
    });
    await deliverAgain(ctx, message, delay);
    return "retrying";
  }
  await failMessage(ctx, message, {
    ...error,
    message: transient ? `${error.message} (gave up after ${attempts} attempts)` : error.message,
  });
  if (error.code === 131050) {
    // WhatsApp says the person stopped marketing messages: remember it as their opt-out.
    await recordConsent(ctx, {
      tenantId: message.tenantId,
      contactId: message.contactId,
      kind: "opt_out",
      source: "error_131050",
      scope: "marketing",
      messageId: message._id,
    });
  }
  return "failed";
}

/**
 * Schedules another delivery of a queued message. A campaign's goes as a slice of one: paced like
 * the rest of its campaign, its channel checked before the claim.
 */
async function deliverAgain(ctx: MutationCtx, message: Doc<"messages">, delayMs: number): Promise<void> {
  if (message.origin === "campaign")
    await ctx.scheduler.runAfter(delayMs, internal.outbound.deliverMany, {
      messageIds: [message._id],
      channelId: message.channelId,
    });
  else await ctx.scheduler.runAfter(delayMs, internal.outbound.deliver, { messageId: message._id });
}

/**
 * Queued messages whose delivery was lost: the process died after the job that was to deliver
 * them started but before it claimed them (scheduled jobs that were running are not run again),
 * so nothing would ever send them. Those queued past `afterMs` (longer than any retry's backoff in
 * production) and not held by a kill switch get a new delivery, and their `statusAt` moves on so
 * the next run leaves them alone. Safe however often it happens: only a claim sends, and a
 * message is claimed once.
 */
export async function redeliverLost(
  ctx: MutationCtx,
  args: { now: number; afterMs: number; batch?: number },
): Promise<number> {
  const lost = await ctx.db
    .query("messages")
    .withIndex("by_status_at", (q) => q.eq("status", "queued").lt("statusAt", args.now - args.afterMs))
    .take(Math.max(1, Math.min(args.batch ?? STUCK_SENDING_BATCH, 500)));
  let redelivered = 0;
  for (const message of lost) {
    if (message.direction !== "out" || message.heldAt !== undefined) continue;
    await ctx.db.patch("messages", message._id, { statusAt: args.now });
    await deliverAgain(ctx, message, 0);
    redelivered++;
  }
  return redelivered;
}

/** Stuck messages marked `unknown` per run of `resolveStuckSending`. */
export const STUCK_SENDING_BATCH = 100;

export type StuckSendingResult = {
  /** Messages `sending` past the deadline seen by this run: resolved + remaining. */
  found: number;
  /** Marked `unknown` by this run. */
  resolved: number;
  /** Still stuck after this run (counted up to `batch`: `batch` means at least that many). */
  remaining: number;
};

/** Why a message's outcome is unknown, in words the inbox and the campaign drill-down show. */
export function unknownReason(message: Pick<Doc<"messages">, "providerMessageId">, afterMs: number): string {
  const minutes = Math.max(1, Math.round(afterMs / 60_000));
  return message.providerMessageId
    ? `WhatsApp accepted the message but reported nothing within ${minutes} min: whether it arrived is unknown. It is not sent again.`
    : `The send was under way when the connection to WhatsApp was lost, and no answer came within ${minutes} min: whether it went out is unknown. It is not sent again, so nobody gets it twice.`;
}

/**
 * Messages still `sending` `afterMs` after their claim become `unknown`, at most `batch` per run
 * (oldest first). They are never claimed again (only `queued` messages are); a status webhook
 * arriving later still moves them on (unknown ranks below sent), and campaign recipients and
 * counters follow. Idempotent: a second run finds nothing the first resolved.
 */
export async function resolveStuckSending(
  ctx: MutationCtx,
  args: { now: number; afterMs: number; batch?: number },
): Promise<StuckSendingResult> {
  const batch = Math.max(1, Math.min(args.batch ?? STUCK_SENDING_BATCH, 500));
  const stuck = await ctx.db
    .query("messages")
    .withIndex("by_status_at", (q) => q.eq("status", "sending").lt("statusAt", args.now - args.afterMs))
    .take(batch * 2);
  const now = args.now;
  let resolved = 0;
  for (const message of stuck.slice(0, batch)) {
    await ctx.db.patch("messages", message._id, {
      status: "unknown",
      statusAt: now,
      errorMessage: unknownReason(message, args.afterMs),
    });
    await messageChanged(ctx, (await ctx.db.get("messages", message._id))!);
    resolved++;
  }
  const remaining = Math.max(0, stuck.length - batch);
  return { found: resolved + remaining, resolved, remaining };
}
