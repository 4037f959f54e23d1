/**
 * A campaign recipient follows its message: the send pipeline and the status webhooks move the
 * message (queued → sending → sent → delivered → read, or failed), and each change moves the
 * recipient and its counter shard. WhatsApp's per-person marketing limit (131049) is not a
 * failure of the campaign: the recipient waits a day and is tried again, once.
 */
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx } from "../../_generated/server";
import { bumpExtra, moved } from "./counters";
import { ensureTickAt, spamLimited, throttled, usMarketing } from "./dispatch";
import type { RecipientState } from "./tables";
import { answeredBefore } from "./pacing";

export const MARKETING_CAP_RETRY_MS = 24 * 60 * 60 * 1000;
const ERROR_MARKETING_CAP = 131049;
const ERROR_SPAM_LIMIT = 131048;

function recipientStateOf(message: Pick<Doc<"messages">, "status">): RecipientState {
  switch (message.status) {
    case "sent":
    case "delivered":
    case "read":
    case "failed":
    case "unknown":
      return message.status;
    default:
      return "queued";
  }
}

/** Called after a campaign message's status changed (its fresh document). */
export async function messageChanged(ctx: MutationCtx, message: Doc<"messages">): Promise<void> {
  if (message.origin !== "campaign") return;
  const recipient = await ctx.db
    .query("campaignRecipients")
    .withIndex("by_message", (q) => q.eq("messageId", message._id))
    .first();
  if (!recipient) return;
  const now = Date.now();
  if (
    message.status === "failed" &&
    message.errorCode === ERROR_SPAM_LIMIT &&
    recipient.state !== "pending"
  ) {
    // Not this person's fault: they wait for the campaign to be resumed, which sends them again.
    await ctx.db.patch("campaignRecipients", recipient._id, {
      state: "pending",
      dueAt: now,
      messageId: undefined,
      reason: "WhatsApp's spam limit stopped this message: sent again when the campaign is resumed",
      errorCode: ERROR_SPAM_LIMIT,
      updatedAt: now,
    });
    await moved(ctx, recipient.campaignId, recipient.shard, recipient.state, "pending");
    await spamLimited(ctx, message.channelId);
    return;
  }
  if (message.status === "failed" && message.errorCode === ERROR_MARKETING_CAP) {
    const contact = await ctx.db.get("contacts", message.contactId);
    const final = usMarketing(message.template?.category, contact?.phone)
      ? "WhatsApp does not deliver marketing templates to US (+1) numbers"
      : recipient.errorCode === ERROR_MARKETING_CAP
        ? "WhatsApp's marketing limit for this person refused it again a day later: not sent"
        : null;
    if (final) {
      await ctx.db.patch("campaignRecipients", recipient._id, {
        state: "failed",
        reason: final,
        errorCode: ERROR_MARKETING_CAP,
        updatedAt: now,
      });
      await moved(ctx, recipient.campaignId, recipient.shard, recipient.state, "failed");
      return;
    }
  }
  if (
    message.status === "failed" &&
    message.errorCode === ERROR_MARKETING_CAP &&
    recipient.state !== "pending"
  ) {
    await ctx.db.patch("campaignRecipients", recipient._id, {
      state: "pending",
      dueAt: now + MARKETING_CAP_RETRY_MS,
      messageId: undefined,
      reason: "WhatsApp's marketing limit for this person: trying again in 24 hours",
      errorCode: ERROR_MARKETING_CAP,
      updatedAt: now,
    });
    await moved(ctx, recipient.campaignId, recipient.shard, recipient.state, "pending");
    await ensureTickAt(ctx, message.channelId, now + MARKETING_CAP_RETRY_MS);
    return;
  }
  const state = recipientStateOf(message);
  // Statuses arrive out of order: a recipient never moves back (read stays read).
  const rank: Record<RecipientState, number> = {
    pending: 0,
    queued: 1,
    unknown: 2,
    sent: 3,
    delivered: 4,
    read: 5,
    failed: 6,
    skipped: 6,
  };
  if (rank[state] <= rank[recipient.state] && !(recipient.state === "failed" && state !== "failed")) return;
  await ctx.db.patch("campaignRecipients", recipient._id, {
    state,
    ...(state === "failed"
      ? {
          reason: message.errorMessage ?? "The message failed",
          ...(message.errorCode !== undefined ? { errorCode: message.errorCode } : {}),
        }
      : state === "unknown"
        ? { reason: message.errorMessage ?? "Whether the message went out is unknown; it is not sent again" }
        : recipient.state === "unknown"
          ? { reason: undefined }
          : {}),
    updatedAt: now,
  });
  await moved(ctx, recipient.campaignId, recipient.shard, recipient.state, state);
}

/**
 * A campaign message about to be claimed whose campaign stopped running since the tick queued
 * it (a tick's second is sent in slices, so a pause can fall in between): it has not left, so
 * the send intent is withdrawn and the recipient waits as pending, sent if the campaign is
 * resumed. True when it was withdrawn (the message row is gone).
 */
export async function withdrawIfStopped(ctx: MutationCtx, message: Doc<"messages">): Promise<boolean> {
  if (message.origin !== "campaign") return false;
  const recipient = await ctx.db
    .query("campaignRecipients")
    .withIndex("by_message", (q) => q.eq("messageId", message._id))
    .first();
  if (!recipient || recipient.state !== "queued") return false;
  const campaign = await ctx.db.get("campaigns", recipient.campaignId);
  if (!campaign || campaign.state === "running") return false;
  await ctx.db.patch("campaignRecipients", recipient._id, {
    state: "pending",
    dueAt: Date.now(),
    messageId: undefined,
    updatedAt: Date.now(),
  });
  await moved(ctx, recipient.campaignId, recipient.shard, "queued", "pending");
  await ctx.db.delete("messages", message._id);
  return true;
}

/**
 * A send's answer: when it came, when the send counts from for the channel's pacing (default: the
 * answer; model/campaigns/pacing.ts), and how many sends claimed with it WhatsApp accepted.
 */
export type Answer = { answeredAt: number; countsFrom?: number; alongside: number };

/**
 * A campaign send claimed at `message.statusAt` was throttled (130429): the channel's dispatcher
 * learns from it what WhatsApp took in the second before (the sends answered then and the
 * accepted ones claimed with it; model/campaigns/pacing.ts).
 */
export async function sendThrottled(
  ctx: MutationCtx,
  message: Doc<"messages">,
  retryAt: number,
  answer: Answer,
): Promise<void> {
  if (message.origin !== "campaign") return;
  const at = answer.countsFrom ?? answer.answeredAt;
  const accepted = (await answeredBefore(ctx, message.channelId, at)) + answer.alongside;
  await throttled(ctx, message.channelId, retryAt, message.statusAt, accepted);
}

/** How long after a campaign message a person's message still counts as a reply to it. */
export const REPLY_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;

/** A contact's campaign rows looked at per inbound message (their latest campaigns). */
export const REPLY_CAMPAIGNS_CHECKED = 5;

/**
 * A person wrote to the business: each of their latest campaigns (up to
 * REPLY_CAMPAIGNS_CHECKED, newest first, one indexed read) whose message reached them on this
 * channel within REPLY_WINDOW_MS before counts one reply, once per recipient.
 */
export async function inboundFrom(
  ctx: MutationCtx,
  channel: Pick<Doc<"channels">, "_id" | "tenantId">,
  contactId: Id<"contacts">,
  at: number,
): Promise<void> {
  const latest = await ctx.db
    .query("campaignRecipients")
    .withIndex("by_contact", (q) => q.eq("contactId", contactId))
    .order("desc")
    .take(REPLY_CAMPAIGNS_CHECKED);
  for (const recipient of latest) {
    if (recipient.tenantId !== channel.tenantId || recipient.repliedAt !== undefined) continue;
    if (recipient.state !== "sent" && recipient.state !== "delivered" && recipient.state !== "read") continue;
    const message = recipient.messageId ? await ctx.db.get("messages", recipient.messageId) : null;
    if (!message || message.channelId !== channel._id) continue;
    if (at < message.createdAt || at - message.createdAt > REPLY_WINDOW_MS) continue;
    await ctx.db.patch("campaignRecipients", recipient._id, { repliedAt: at });
    await bumpExtra(ctx, recipient.campaignId, recipient.shard, { replied: 1 });
  }
}
