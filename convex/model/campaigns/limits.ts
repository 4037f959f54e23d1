/**
 * WhatsApp's messaging limit (decision 023): a business reaches at most its tier's number of
 * unique people outside an open customer-service window in any rolling 24 hours (250, 2,000,
 * 10,000, 100,000 or unlimited), shared by every number of the business portfolio.
 *
 * Kept without scanning messages:
 * - `messagingReach`: one row per person and limit scope, with when a business-initiated
 *   template last went to them (`lastAt`).
 * - `messagingReachHours`: per scope and hour, how many people's `lastAt` falls in that hour.
 *   A person reached again moves from their old hour to the current one, so the sum over the
 *   last 25 hours (the oldest hour counted whole) is never less than the people reached in the
 *   last 24 hours: at most 25 reads, and it errs on the safe side by at most an hour.
 *
 * The scope is the workspace's WhatsApp Business Account (every number of a WABA belongs to one
 * portfolio), or the channel when it has none. Reach is recorded when the send intent is written
 * (model/outbound.ts), for every template outside the window, whoever sends it; the dispatcher
 * checks the remaining budget before it claims (model/campaigns/dispatch.ts).
 */
import { defineTable } from "convex/server";
import { v } from "convex/values";
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../../_generated/server";

export const HOUR_MS = 60 * 60 * 1000;
export const LIMIT_WINDOW_MS = 24 * HOUR_MS;
/** Meta's limit for a new business portfolio: assumed while the tier is not known. */
export const DEFAULT_LIMIT = 250;

export const limitTables = {
  /** A person reached by a business-initiated template, per limit scope (see above). */
  messagingReach: defineTable({
    tenantId: v.id("tenants"),
    scope: v.string(),
    contactId: v.id("contacts"),
    /** When a template last went to them outside a customer-service window. */
    lastAt: v.number(),
  }).index("by_scope_contact", ["scope", "contactId"]),

  /** People whose latest business-initiated template falls in this hour, per limit scope. */
  messagingReachHours: defineTable({
    tenantId: v.id("tenants"),
    scope: v.string(),
    /** The hour's start (ms since epoch, a multiple of HOUR_MS). */
    hour: v.number(),
    count: v.number(),
  }).index("by_scope_hour", ["scope", "hour"]),
};

const TIERS: Record<string, number | null> = {
  TIER_50: 50,
  TIER_250: 250,
  TIER_1K: 1_000,
  TIER_2K: 2_000,
  TIER_10K: 10_000,
  TIER_100K: 100_000,
  TIER_UNLIMITED: null,
  UNLIMITED: null,
};

/**
 * People per rolling 24 h for a tier as Meta reports it (`TIER_2K`, `2000`, `UNLIMITED`); null
 * is unlimited. An unknown or missing tier counts as Meta's starting limit, 250: sending less
 * than allowed is better than having WhatsApp refuse the rest.
 */
export function tierLimit(tier: string | undefined | null): number | null {
  if (!tier) return DEFAULT_LIMIT;
  const upper = tier.trim().toUpperCase();
  if (upper in TIERS) return TIERS[upper];
  if (/^\d+$/.test(upper)) return Number(upper);
  const short = /^(?:TIER_)?(\d+)(K)?$/.exec(upper);
  if (short) return Number(short[1]) * (short[2] ? 1_000 : 1);
  return DEFAULT_LIMIT;
}

/** "2,000 people per 24 hours", "no limit", for reasons and the estimate. */
export function describeLimit(limit: number | null): string {
  return limit === null ? "no limit" : `${limit.toLocaleString("en-US")} people per 24 hours`;
}

/** Which budget a channel's business-initiated templates count against. */
export function limitScope(channel: Pick<Doc<"channels">, "_id" | "tenantId" | "wabaId">): string {
  return channel.wabaId
    ? `${channel.tenantId}:waba:${channel.wabaId}`
    : `${channel.tenantId}:channel:${channel._id}`;
}

const hourOf = (at: number) => Math.floor(at / HOUR_MS) * HOUR_MS;
/** The oldest hour still counted at `now`: the one that holds now − 24 h, counted whole. */
const firstCountedHour = (now: number) => hourOf(now - LIMIT_WINDOW_MS);

export type Reach = {
  /** People reached in the rolling 24 h (at most an hour's worth more, never fewer). */
  used: number;
  /** When the oldest counted hour stops counting (null when nobody is counted). */
  freesAt: number | null;
};

/** People the scope reached in the last 24 hours, from at most 25 hourly rows. */
export async function reachOf(ctx: QueryCtx, scope: string, now: number): Promise<Reach> {
  const rows = await ctx.db
    .query("messagingReachHours")
    .withIndex("by_scope_hour", (q) => q.eq("scope", scope).gte("hour", firstCountedHour(now)))
    .take(26);
  let used = 0;
  let freesAt: number | null = null;
  for (const row of rows) {
    if (row.count <= 0) continue;
    used += row.count;
    // An hour stops counting once now − 24 h has left it.
    if (freesAt === null) freesAt = row.hour + LIMIT_WINDOW_MS + HOUR_MS;
  }
  return { used, freesAt };
}

/** Whether a business-initiated template to this person now would count as a new person. */
export async function alreadyReached(
  ctx: QueryCtx,
  scope: string,
  contactId: Id<"contacts">,
  now: number,
): Promise<boolean> {
  const row = await ctx.db
    .query("messagingReach")
    .withIndex("by_scope_contact", (q) => q.eq("scope", scope).eq("contactId", contactId))
    .first();
  return !!row && hourOf(row.lastAt) >= firstCountedHour(now);
}

async function bumpHour(
  ctx: MutationCtx,
  tenantId: Id<"tenants">,
  scope: string,
  hour: number,
  delta: number,
) {
  const row = await ctx.db
    .query("messagingReachHours")
    .withIndex("by_scope_hour", (q) => q.eq("scope", scope).eq("hour", hour))
    .first();
  if (row) {
    await ctx.db.patch("messagingReachHours", row._id, { count: Math.max(0, row.count + delta) });
    return;
  }
  if (delta <= 0) return;
  await ctx.db.insert("messagingReachHours", { tenantId, scope, hour, count: delta });
  // A new hour: drop a couple of hours that no longer count (one is added per hour at most).
  const stale = await ctx.db
    .query("messagingReachHours")
    .withIndex("by_scope_hour", (q) => q.eq("scope", scope).lt("hour", hour - LIMIT_WINDOW_MS - HOUR_MS))
    .take(2);
  for (const s of stale) await ctx.db.delete("messagingReachHours", s._id);
}

/** Records a business-initiated template to `contactId` at `now` (its send intent was written). */
export async function recordReach(
  ctx: MutationCtx,
  channel: Pick<Doc<"channels">, "_id" | "tenantId" | "wabaId">,
  contactId: Id<"contacts">,
  now: number,
): Promise<void> {
  const scope = limitScope(channel);
  const hour = hourOf(now);
  const row = await ctx.db
    .query("messagingReach")
    .withIndex("by_scope_contact", (q) => q.eq("scope", scope).eq("contactId", contactId))
    .first();
  if (!row) {
    await ctx.db.insert("messagingReach", { tenantId: channel.tenantId, scope, contactId, lastAt: now });
    await bumpHour(ctx, channel.tenantId, scope, hour, 1);
    return;
  }
  if (now <= row.lastAt) return;
  const previous = hourOf(row.lastAt);
  await ctx.db.patch("messagingReach", row._id, { lastAt: now });
  if (previous === hour) return;
  // The person counts once, in the hour of their latest template.
  if (previous >= firstCountedHour(now)) await bumpHour(ctx, channel.tenantId, scope, previous, -1);
  await bumpHour(ctx, channel.tenantId, scope, hour, 1);
}

/** The channel's limit and what is left of it now. */
export async function budgetOf(
  ctx: QueryCtx,
  channel: Doc<"channels">,
  now: number,
): Promise<
  { scope: string; limit: number | null; tier: string | null } & Reach & { remaining: number | null }
> {
  const scope = limitScope(channel);
  const limit = tierLimit(channel.messagingTier);
  const reach = await reachOf(ctx, scope, now);
  return {
    scope,
    limit,
    tier: channel.messagingTier ?? null,
    ...reach,
    remaining: limit === null ? null : Math.max(0, limit - reach.used),
  };
}
