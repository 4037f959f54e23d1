/**
 * A campaign recipient follows its message: the send pipeline and the status webhooks move the
 * message (queued → sending → sent → delivered → read, or failed), and each change moves the
 * recipient and its counter shard. WhatsApp's per-person marketing limit (131049) is not a
 * failure of the campaign: the recipient waits a day and is tried again, once.
 */
import type { Doc } from "../../_generated/dataModel";
import type { MutationCtx } from "../../_generated/server";
import { moved } from "./counters";
import { ensureTickAt, throttled } from "./dispatch";
import type { RecipientState } from "./tables";

export const MARKETING_CAP_RETRY_MS = 24 * 60 * 60 * 1000;
const ERROR_MARKETING_CAP = 131049;

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
  if (message.status === "failed" && message.errorCode === ERROR_MARKETING_CAP && !recipient.reason) {
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

/** A campaign send was throttled (130429): the channel's dispatcher slows down. */
export async function sendThrottled(ctx: MutationCtx, message: Doc<"messages">): Promise<void> {
  if (message.origin === "campaign") await throttled(ctx, message.channelId);
}
