/**
 * The campaign dispatcher: one chain of ticks per channel (decision 022).
 *
 * - **One chain**: `ensureTick` schedules a tick only when the channel has none due; each tick
 *   carries the time it was scheduled for, and a tick whose time is not the channel's
 *   `nextTickAt` is a duplicate and does nothing.
 * - **Claim = send intent**: a tick takes due `pending` recipients of the channel's running
 *   campaigns and, in the same transaction, writes each one's message (the send intent, through
 *   the outbound pipeline) and marks it `queued`. Overlapping ticks cannot claim one recipient
 *   twice (the second transaction sees it queued, or conflicts and retries), and a crash either
 *   keeps both writes or neither.
 * - **Checked at claim time**: the campaign still runs, the channel is on, the tenant can pay
 *   (one reservation per batch), the contact has a number, has not opted out (marketing stops
 *   too for marketing templates), and every template variable has a value. A recipient that
 *   fails a check is skipped with a reason; it never blocks the others.
 * - **Rate** (model/campaigns/rate.ts): a tick every TICK_MS (half a second) claims its part of
 *   `rate` per second, less throttled retries due in its time, and spreads their sends evenly
 *   over that time in slices (one claim and one record each, `outbound.deliverMany`); throttling
 *   errors (130429) teach the channel's ceiling, and the rate stays just under it.
 * - **Messaging limit** (decision 023): a recipient outside a customer-service window who was
 *   not reached in the last 24 hours takes one of the tier's people (model/campaigns/limits.ts);
 *   when none is left, the rest wait (still pending) and the chain sleeps until the oldest hour
 *   frees up, the campaign saying why. Marketing templates to US (+1) numbers are skipped:
 *   WhatsApp does not deliver them.
 */
import { internal } from "../../_generated/api";
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx } from "../../_generated/server";
import { priceFor } from "../billing/rates";
import { release, reserve } from "../billing/charging";
import { getWallet } from "../billing/wallet";
import { consentRefusal, queueMessage, windowOpen } from "../outbound";
import { describeBlock, sendingBlock } from "../sending";
import { addressesOf, upsertConversation } from "../whatsapp/contacts";
import { moved, outstanding, totals } from "./counters";
import { alreadyReached, budgetOf, describeLimit, reachOf } from "./limits";
import { roomOf } from "./pacing";
import {
  afterTick,
  behindAfter,
  MAX_RATE,
  nextTickTime,
  onThrottle,
  START_RATE,
  TICK_MS,
  tickBudget,
} from "./rate";
import type { Variable } from "./tables";

export { TICK_MS } from "./rate";

/** How often a campaign waiting only for statuses is checked for completion. */
export const COMPLETION_CHECK_MS = 5_000;
/** A chain whose next tick is this late is dead (its tick failed): a new one may start. */
const STALE_TICK_MS = 30_000;

async function dispatchRow(ctx: MutationCtx, channelId: Id<"channels">): Promise<Doc<"channelDispatch">> {
  const row = await ctx.db
    .query("channelDispatch")
    .withIndex("by_channel", (q) => q.eq("channelId", channelId))
    .first();
  if (row) return row;
  const id = await ctx.db.insert("channelDispatch", {
    channelId,
    rate: START_RATE,
    maxRate: MAX_RATE,
    lastTickAt: 0,
    sentTotal: 0,
  });
  return (await ctx.db.get("channelDispatch", id))!;
}

/** Starts the channel's tick chain now unless a tick is already due by then. */
export async function ensureTick(ctx: MutationCtx, channelId: Id<"channels">): Promise<void> {
  await ensureTickAt(ctx, channelId, Date.now());
}

/**
 * Makes sure the channel ticks by `at`: a chain due earlier (and alive) is left alone; a later
 * or dead one is replaced (its tick finds `nextTickAt` changed and does nothing).
 */
export async function ensureTickAt(ctx: MutationCtx, channelId: Id<"channels">, at: number): Promise<void> {
  const row = await dispatchRow(ctx, channelId);
  const now = Date.now();
  const due = row.nextTickAt;
  if (due !== undefined && due <= at && due > now - STALE_TICK_MS) return;
  const tickJobId = await ctx.scheduler.runAt(at, internal.campaigns.tick, { channelId, at });
  await ctx.db.patch("channelDispatch", row._id, { nextTickAt: at, tickJobId });
}

/**
 * The channel's quality or messaging tier changed: its running campaigns are looked at now (a
 * chain asleep until the messaging limit frees up included).
 */
export async function wakeCampaigns(ctx: MutationCtx, channelId: Id<"channels">): Promise<void> {
  const running = await ctx.db
    .query("campaigns")
    .withIndex("by_channel_state", (q) => q.eq("channelId", channelId).eq("state", "running"))
    .first();
  if (running) await ensureTick(ctx, channelId);
}

/**
 * A throttling error (130429) on a campaign send claimed at `sentAt`, retried at `retryAt`, when
 * WhatsApp had taken `accepted` sends in the second before: the channel's ceiling may come down
 * (model/campaigns/rate.ts).
 */
export async function throttled(
  ctx: MutationCtx,
  channelId: Id<"channels">,
  retryAt: number,
  sentAt: number,
  accepted: number,
): Promise<void> {
  const row = await dispatchRow(ctx, channelId);
  await ctx.db.patch("channelDispatch", row._id, onThrottle(row, Date.now(), retryAt, sentAt, accepted));
}

export type TickResult = { claimed: number; skipped: number; campaigns: number };

/** The reason shown on a campaign whose channel's running campaigns WhatsApp's spam limit stopped. */
export const SPAM_LIMIT_REASON =
  "WhatsApp stopped this number's messages for now (spam rate limit, error 131048): too many people blocked or reported its recent messages. Check the number's quality on its channel page and resume once it has recovered; nobody is skipped.";
export const US_MARKETING_REASON = "WhatsApp does not deliver marketing templates to US (+1) numbers";

/** Whether WhatsApp refuses this template to this number: marketing to US (+1) numbers. */
export function usMarketing(category: string | undefined, phone: string | null | undefined): boolean {
  return category?.toLowerCase() === "marketing" && !!phone && /^\+1\d/.test(phone);
}

/** WhatsApp's spam rate limit (131048) on a campaign send: the channel's running campaigns pause. */
export async function spamLimited(ctx: MutationCtx, channelId: Id<"channels">): Promise<void> {
  const running = await ctx.db
    .query("campaigns")
    .withIndex("by_channel_state", (q) => q.eq("channelId", channelId).eq("state", "running"))
    .take(50);
  for (const campaign of running) await pauseFor(ctx, campaign, SPAM_LIMIT_REASON);
}

/** What the messaging limit allows this tick; shared by the channel's campaigns. */
type LimitBudget = { scope: string; remaining: number | null; limited: boolean };

const WAITING_PREFIX = "Waiting for WhatsApp's messaging limit";
const QUALITY_LOW = new Set(["FLAGGED", "RED", "LOW"]);

/** A running campaign's note: waiting for the messaging limit, and the number's low quality. */
function noticeOf(
  channel: Doc<"channels">,
  waiting: { used: number; limit: number | null; freesAt: number } | null,
): string | undefined {
  const parts: string[] = [];
  if (waiting)
    parts.push(
      `${WAITING_PREFIX}: ${waiting.used.toLocaleString("en-US")} people reached outside a conversation in the last 24 hours, of ${describeLimit(waiting.limit)}${channel.messagingTier ? ` (${channel.messagingTier})` : " (tier not reported yet, so WhatsApp's starting limit is assumed)"}. The rest go out as the limit frees up, the next from ${new Date(waiting.freesAt).toISOString().slice(0, 16).replace("T", " ")} UTC.`,
    );
  if (channel.qualityRating && QUALITY_LOW.has(channel.qualityRating.toUpperCase()))
    parts.push(
      `WhatsApp rates this number's quality low: people are blocking or reporting its messages. If it gets worse WhatsApp stops its messages (error 131048) and the campaign pauses.`,
    );
  return parts.length ? parts.join(" ") : undefined;
}

/** One tick of a channel's dispatcher. */
export async function tick(ctx: MutationCtx, channelId: Id<"channels">, at: number): Promise<TickResult> {
  const row = await dispatchRow(ctx, channelId);
  const result: TickResult = { claimed: 0, skipped: 0, campaigns: 0 };
  if (row.nextTickAt !== at) return result;
  const now = Date.now();
  const channel = await ctx.db.get("channels", channelId);
  const running = channel
    ? await ctx.db
        .query("campaigns")
        .withIndex("by_channel_state", (q) => q.eq("channelId", channelId).eq("state", "running"))
        .take(20)
    : [];
  result.campaigns = running.length;
  // Its part of the rate and what earlier ticks had no room for, and one more at most than the
  // channel's second will let through meanwhile: a send that finds no room is claimed again
  // shortly, a send not offered is carried to the next tick.
  const room = running.length ? await roomOf(ctx, row, now) : null;
  const share = tickBudget(row, at, now);
  const wanted = share + Math.min(row.behind ?? 0, share);
  const fullBudget = room ? Math.min(wanted, room.within(TICK_MS) + 1) : 0;
  let budget = fullBudget;
  const pacing: Pacing = { channelId, at, now, budget: fullBudget, messageIds: [] };
  const reach = running.length ? await budgetOf(ctx, channel!, now) : null;
  const limits: LimitBudget = {
    scope: reach?.scope ?? "",
    remaining: reach?.remaining ?? null,
    limited: false,
  };
  const limitedCampaigns = new Set<Id<"campaigns">>();
  const claimedCampaigns = new Set<Id<"campaigns">>();
  for (const [i, campaign] of running.entries()) {
    if (!channel!.enabled) {
      await pauseFor(ctx, campaign, `Channel ${channel!.name} is turned off: turn it on and resume`);
      continue;
    }
    const share = Math.ceil(budget / (running.length - i));
    limits.limited = false;
    const done = await dispatchCampaign(ctx, campaign, channel!, share, now, limits, pacing);
    result.claimed += done.claimed;
    result.skipped += done.skipped;
    budget -= done.claimed;
    if (limits.limited) limitedCampaigns.add(campaign._id);
    if (done.claimed) claimedCampaigns.add(campaign._id);
  }
  if (room && pacing.messageIds.length) await deliverPaced(ctx, pacing, room.times(pacing.messageIds.length));
  // When the limit ran out: how many it counts now, and when its oldest hour frees up.
  const after = limitedCampaigns.size ? await reachOf(ctx, limits.scope, now) : null;
  const freesAt = after ? (after.freesAt ?? now + 60 * 60 * 1000) : null;
  // Limited by the tier assumed while none is known: ask Meta for the number's real one.
  if (after && !channel!.messagingTier && channel!.kind === "cloud")
    await ctx.scheduler.runAfter(0, internal.channels.refreshHealth, { channelId });
  // The next tick: TICK_MS on while recipients are due, at the next one's due time when they
  // all wait (e.g. a day after WhatsApp's marketing cap), none when nothing is pending.
  let next: number | undefined;
  for (const campaign of running) {
    const fresh = (await ctx.db.get("campaigns", campaign._id))!;
    if (fresh.state !== "running") continue;
    if (await completeIfDone(ctx, fresh)) continue;
    const limited = limitedCampaigns.has(campaign._id);
    // A waiting note stays until the campaign claims again (another campaign may have had the tick).
    const stillWaiting =
      !limited && !claimedCampaigns.has(campaign._id) && !!fresh.stateReason?.startsWith(WAITING_PREFIX);
    if (!stillWaiting) {
      const notice = noticeOf(
        channel!,
        limited ? { used: after!.used, limit: reach!.limit, freesAt: freesAt! } : null,
      );
      if (notice !== fresh.stateReason)
        await ctx.db.patch("campaigns", campaign._id, { stateReason: notice });
    }
    const first = await ctx.db
      .query("campaignRecipients")
      .withIndex("by_campaign_state_due", (q) => q.eq("campaignId", campaign._id).eq("state", "pending"))
      .first();
    if (!first) {
      // Only statuses are awaited: look again now and then (not on every status webhook, which
      // would make each one read every counter shard and undo the sharding).
      next = Math.min(next ?? Infinity, now + COMPLETION_CHECK_MS);
      continue;
    }
    // Out of messaging limit: nothing can go before the oldest counted hour frees up.
    const due = Math.max(first.dueAt, nextTickTime(at, now), limited ? freesAt! : 0);
    next = next === undefined ? due : Math.min(next, due);
  }
  const tickJobId =
    next !== undefined
      ? await ctx.scheduler.runAt(next, internal.campaigns.tick, { channelId, at: next })
      : undefined;
  await ctx.db.patch("channelDispatch", row._id, {
    lastTickAt: now,
    nextTickAt: next,
    tickJobId,
    sentTotal: row.sentTotal + result.claimed,
    ...afterTick(row, now, result.claimed, fullBudget, now - at),
    ...carried(row, room ? behindAfter(wanted, fullBudget, result.claimed) : 0),
  });
  return result;
}

/** The dispatch row's carry, written only when it changes. */
function carried(row: Doc<"channelDispatch">, behind: number): { behind?: number } {
  return (row.behind ?? 0) === behind ? {} : { behind: behind || undefined };
}

/** Completes a running campaign with nothing left to send or to hear about; true when it did. */
export async function completeIfDone(ctx: MutationCtx, campaign: Doc<"campaigns">): Promise<boolean> {
  if (campaign.state !== "running" || !campaign.audienceFrozen) return false;
  if (outstanding(await totals(ctx, campaign._id)) > 0) return false;
  await ctx.db.patch("campaigns", campaign._id, { state: "completed", finishedAt: Date.now() });
  await ctx.scheduler.runAfter(0, internal.campaigns.releaseReservations, { campaignId: campaign._id });
  return true;
}

async function pauseFor(ctx: MutationCtx, campaign: Doc<"campaigns">, reason: string) {
  await ctx.db.patch("campaigns", campaign._id, { state: "paused", stateReason: reason });
}

/** Template parameters for a contact, or the first variable without a value. */
export function parametersFor(
  variables: Variable[],
  contact: Pick<Doc<"contacts">, "name" | "phone">,
): { ok: true; parameters: string[] } | { ok: false; missing: number } {
  const parameters: string[] = [];
  for (const [i, variable] of variables.entries()) {
    const value =
      variable.source === "constant"
        ? variable.value
        : variable.source === "phone"
          ? (contact.phone ?? "")
          : (contact.name?.trim() || variable.fallback || "").split(/\s+/)[0];
    if (!value.trim()) return { ok: false, missing: i + 1 };
    parameters.push(value.trim());
  }
  return { ok: true, parameters };
}

/** The messages a tick claimed, in order; sent in slices spread over its time (`deliverPaced`). */
type Pacing = {
  channelId: Id<"channels">;
  at: number;
  now: number;
  budget: number;
  messageIds: Id<"messages">[];
};

/** Slices per tick at most: each is one action with one claim and one record. */
const SLICES_PER_TICK = 10;

/**
 * Schedules the tick's messages in slices spread evenly over its TICK_MS, in step with the
 * chain's schedule (`at`): the n-th message goes at `at + n × (TICK_MS ÷ budget)`, in slices of a
 * few at the higher rates so a tick makes at most SLICES_PER_TICK deliveries.
 */
async function deliverPaced(ctx: MutationCtx, pacing: Pacing, roomAt: number[]): Promise<void> {
  const { messageIds } = pacing;
  if (!messageIds.length) return;
  const spacingMs = TICK_MS / Math.max(pacing.budget, messageIds.length);
  const size = Math.max(1, Math.ceil(Math.max(pacing.budget, messageIds.length) / SLICES_PER_TICK));
  for (let i = 0; i < messageIds.length; i += size) {
    // Not before the channel's second has room for the slice's last message (when known).
    const last = Math.min(i + size, messageIds.length) - 1;
    // A time, not a delay: the tick's own work would push a delay back by as long as it took.
    const due = Math.round(Math.max(pacing.at + i * spacingMs, roomAt[last] ?? 0, pacing.now));
    await ctx.scheduler.runAt(due, internal.outbound.deliverMany, {
      messageIds: messageIds.slice(i, i + size),
      channelId: pacing.channelId,
    });
  }
}

async function dispatchCampaign(
  ctx: MutationCtx,
  campaign: Doc<"campaigns">,
  channel: Doc<"channels">,
  limit: number,
  now: number,
  limits: LimitBudget,
  pacing: Pacing,
): Promise<{ claimed: number; skipped: number }> {
  if (limit <= 0) return { claimed: 0, skipped: 0 };
  const stopped = await sendingBlock(ctx, campaign.tenantId);
  if (stopped) {
    await pauseFor(ctx, campaign, `${describeBlock(stopped)} Resume the campaign once sending is back on.`);
    return { claimed: 0, skipped: 0 };
  }
  const blocked = await templateBlock(ctx, campaign);
  if (blocked) {
    await pauseFor(ctx, campaign, blocked);
    return { claimed: 0, skipped: 0 };
  }
  const due = await ctx.db
    .query("campaignRecipients")
    .withIndex("by_campaign_state_due", (q) =>
      q.eq("campaignId", campaign._id).eq("state", "pending").lte("dueAt", now),
    )
    .take(limit);
  if (!due.length) return { claimed: 0, skipped: 0 };
  const tenant = (await ctx.db.get("tenants", campaign.tenantId))!;
  const markupBps = (await getWallet(ctx, campaign.tenantId))?.markupBps ?? 0;
  // Check each recipient first; then reserve credits for the ones that will be sent, at once.
  const sendable: {
    recipient: Doc<"campaignRecipients">;
    contact: Doc<"contacts">;
    parameters: string[];
    price: number;
  }[] = [];
  let skipped = 0;
  const skip = async (recipient: Doc<"campaignRecipients">, reason: string) => {
    await ctx.db.patch("campaignRecipients", recipient._id, { state: "skipped", reason, updatedAt: now });
    await moved(ctx, campaign._id, recipient.shard, "pending", "skipped");
    skipped++;
  };
  for (const recipient of due) {
    const contact = await ctx.db.get("contacts", recipient.contactId);
    if (!contact) {
      await skip(recipient, "The contact was deleted");
      continue;
    }
    const address = await addressesOf(ctx, contact._id);
    if (!address.phone && !address.waId && !address.bsuid) {
      await skip(recipient, "No WhatsApp number");
      continue;
    }
    const refusal = consentRefusal(
      contact,
      { lastInboundAt: undefined },
      {
        type: "template",
        template: { ...campaign.template },
      },
    );
    if (refusal) {
      await skip(recipient, contact.optedOutAt !== undefined ? "Opted out" : "Stopped marketing messages");
      continue;
    }
    const params = parametersFor(campaign.variables, contact);
    if (!params.ok) {
      await skip(recipient, `No value for {{${params.missing}}}`);
      continue;
    }
    const phone = address.phone ?? (address.waId ? `+${address.waId}` : null);
    if (usMarketing(campaign.template.category, phone)) {
      await skip(recipient, US_MARKETING_REASON);
      continue;
    }
    if (limits.remaining !== null) {
      // Outside a customer-service window, a person not reached in 24 hours takes one of the
      // tier's people; with none left they stay pending (the tick chain sleeps, see tick).
      const conversation = await ctx.db
        .query("conversations")
        .withIndex("by_channel_contact", (q) => q.eq("channelId", channel._id).eq("contactId", contact._id))
        .first();
      const free =
        (conversation !== null && windowOpen(conversation, now)) ||
        (await alreadyReached(ctx, limits.scope, contact._id, now));
      if (!free) {
        if (limits.remaining <= 0) {
          limits.limited = true;
          continue;
        }
        limits.remaining--;
      }
    }
    let price = 0;
    try {
      if (!phone) throw new Error("no number to price by");
      price = (
        await priceFor(ctx, {
          phoneE164: phone,
          currency: tenant.currency,
          category: campaign.template.category,
          at: now,
          markupBps,
        })
      ).amount;
    } catch {
      // No rate for this market: the send is still made and settlement flags it for a person.
    }
    sendable.push({ recipient, contact, parameters: params.parameters, price });
  }
  if (!sendable.length) return { claimed: 0, skipped };
  const batch = campaign.batches + 1;
  const reservationKey = `batch:${campaign._id}:${batch}`;
  const perItem = Math.max(...sendable.map((s) => s.price));
  if (perItem > 0) {
    try {
      await reserve(ctx, {
        tenantId: campaign.tenantId,
        key: reservationKey,
        amount: perItem * sendable.length,
        perItem,
        reference: { kind: "campaign", id: campaign._id },
      });
    } catch (error) {
      const data = (error as { data?: { code?: string; message?: string } }).data;
      if (data?.code !== "INSUFFICIENT_CREDITS") throw error;
      await pauseFor(
        ctx,
        campaign,
        `Not enough credits to send the next ${sendable.length} messages: ${data.message ?? ""}`.trim(),
      );
      return { claimed: 0, skipped };
    }
  }
  await ctx.db.patch("campaigns", campaign._id, { batches: batch });
  let claimed = 0;
  for (const { recipient, contact, parameters } of sendable) {
    const conversationId = await upsertConversation(ctx, channel, contact._id, now, { inbound: false });
    let messageId: Id<"messages">;
    try {
      messageId = await queueMessage(ctx, {
        tenantId: campaign.tenantId,
        conversationId,
        origin: "campaign",
        body: {
          type: "template",
          template: { ...campaign.template, ...(parameters.length ? { parameters } : {}) },
        },
        ...(perItem > 0 ? { reservationKey } : {}),
        skipConsentCheck: true,
        deliveredByCaller: true,
      });
    } catch (error) {
      // queueMessage checks before it writes: a refusal here (the template changed under the
      // campaign) leaves nothing behind, and holds the campaign for a person.
      const data = (error as { data?: { code?: string; message?: string } }).data;
      if (data?.code !== "INVALID") throw error;
      await pauseFor(ctx, campaign, data.message ?? "The template can no longer be sent");
      break;
    }
    await ctx.db.patch("campaignRecipients", recipient._id, {
      state: "queued",
      messageId,
      parameters,
      updatedAt: now,
    });
    await moved(ctx, campaign._id, recipient.shard, "pending", "queued");
    pacing.messageIds.push(messageId);
    claimed++;
  }
  return { claimed, skipped };
}

/**
 * Why the campaign's template cannot be sent now: not approved any more (paused, disabled by
 * Meta), or moved to another category (another price) that nobody confirmed yet.
 */
async function templateBlock(ctx: MutationCtx, campaign: Doc<"campaigns">): Promise<string | null> {
  const template = await ctx.db.get("templates", campaign.templateId);
  if (!template) return "The campaign's template was deleted";
  const status = template.status.toUpperCase();
  if (status !== "APPROVED")
    return `Template ${template.name} is ${status.toLowerCase()} at WhatsApp${template.reason && template.reason !== "NONE" ? ` (${template.reason})` : ""}: resume the campaign once it is approved again`;
  const change = template.categoryChange;
  if (change && change.acknowledgedAt === undefined)
    return `WhatsApp ${change.state === "announced" ? "is moving" : "moved"} template ${template.name} from ${change.from.toLowerCase()} to ${change.to.toLowerCase()}, which changes its price: confirm it on the Templates page, then resume`;
  return null;
}

/** Releases what is left of each of the campaign's batch reservations, a few per run. */
export async function releaseReservations(ctx: MutationCtx, campaignId: Id<"campaigns">): Promise<void> {
  const campaign = await ctx.db.get("campaigns", campaignId);
  if (!campaign) return;
  const from = (campaign.releasedBatches ?? 0) + 1;
  const to = Math.min(campaign.batches, from + 49);
  for (let n = from; n <= to; n++) {
    const key = `batch:${campaign._id}:${n}`;
    const reservation = await ctx.db
      .query("reservations")
      .withIndex("by_tenant_key", (q) => q.eq("tenantId", campaign.tenantId).eq("key", key))
      .first();
    if (reservation) await release(ctx, { tenantId: campaign.tenantId, reservationKey: key });
  }
  await ctx.db.patch("campaigns", campaign._id, { releasedBatches: Math.max(to, from - 1) });
  if (to < campaign.batches)
    await ctx.scheduler.runAfter(0, internal.campaigns.releaseReservations, { campaignId });
}
