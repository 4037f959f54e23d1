import { paginationOptsValidator, paginationResultValidator } from "convex/server";
import { v } from "convex/values";
import { internal } from "./_generated/api";
import type { Doc } from "./_generated/dataModel";
import type { QueryCtx } from "./_generated/server";
import { internalMutation, platformAdminQuery } from "./functions";
import { getWallet, walletView } from "./model/billing/wallet";
import * as Sending from "./model/sending";
import * as TenantDirectory from "./model/tenantDirectory";
import * as TenantSummaries from "./model/tenantSummaries";

const vChannelSummary = v.object({
  channelId: v.id("channels"),
  name: v.string(),
  kind: v.union(v.literal("cloud"), v.literal("waha")),
  enabled: v.boolean(),
  /** Cloud API: Meta's latest quality event (FLAGGED / UNFLAGGED) and messaging tier. */
  qualityRating: v.union(v.string(), v.null()),
  messagingTier: v.union(v.string(), v.null()),
  /** WAHA: the session's status. */
  wahaStatus: v.union(v.string(), v.null()),
  lastWebhookAt: v.union(v.number(), v.null()),
});

const vTenantRow = v.object({
  tenantId: v.id("tenants"),
  name: v.string(),
  slug: v.string(),
  createdAt: v.number(),
  /** Null until the tenant's counts are backfilled (`admin:backfillTenantCounts`). */
  members: v.union(v.number(), v.null()),
  channels: v.union(v.number(), v.null()),
  /** The first channels (at most `CHANNELS_PER_ROW`), with their quality and tier. */
  channelList: v.array(vChannelSummary),
  /** The workspace's own sending switch when it is off (the global one is not included). */
  sendingPaused: v.union(
    v.null(),
    v.object({ reason: v.string(), since: v.number(), by: v.string(), byPlatform: v.boolean() }),
  ),
  /** The wallet's currency, balance and available credit (micro-units). */
  currency: v.string(),
  balance: v.number(),
  available: v.number(),
  /** Charges minus refunds this calendar month (UTC); null until the summary is backfilled. */
  monthSpend: v.union(v.number(), v.null()),
  /** The latest webhook from any of its channels or charge to its wallet; null when none yet. */
  lastActivityAt: v.union(v.number(), v.null()),
});

/** How many channels a row of the list carries (the count says how many there are). */
const CHANNELS_PER_ROW = 5;
/** The most workspaces a page of the list may ask for. */
const MAX_PAGE = 100;

function channelSummary(c: Doc<"channels">) {
  return {
    channelId: c._id,
    name: c.name,
    kind: c.kind,
    enabled: c.enabled,
    qualityRating: c.qualityRating ?? null,
    messagingTier: c.messagingTier ?? null,
    wahaStatus: c.wahaStatus ?? null,
    lastWebhookAt: c.lastWebhookAt ?? null,
  };
}

/**
 * One workspace as the list shows it, from a fixed handful of documents: the tenant row (counts
 * and switch), its summary (search text, month's spend), its wallet and its first channels.
 */
async function tenantRow(ctx: QueryCtx, t: Doc<"tenants">, channelLimit: number, now: number) {
  const [summary, wallet, channels] = await Promise.all([
    TenantSummaries.summaryOf(ctx, t._id),
    getWallet(ctx, t._id),
    ctx.db
      .query("channels")
      .withIndex("by_tenant", (q) => q.eq("tenantId", t._id))
      .take(channelLimit),
  ]);
  const credits = walletView(t, wallet);
  const activity = Math.max(0, summary?.lastSpendAt ?? 0, ...channels.map((c) => c.lastWebhookAt ?? 0));
  return {
    tenantId: t._id,
    name: t.name,
    slug: t.slug,
    createdAt: t.createdAt,
    members: t.memberCount ?? null,
    channels: t.channelCount ?? null,
    channelList: channels.map(channelSummary),
    sendingPaused: Sending.pauseView(t.sendingPause, true),
    currency: credits.currency,
    balance: credits.balance,
    available: credits.available,
    monthSpend: summary ? TenantSummaries.monthSpend(summary, now) : null,
    lastActivityAt: activity > 0 ? activity : null,
  };
}

/**
 * Every workspace, newest first, a page at a time, or those whose name or address contains every
 * word of `search` (the last may be a word's start; best matches first), with members, channels (quality and tier), credits, this
 * month's spend, sending state and last activity. Each row reads a fixed handful of documents:
 * the counts and the month's spend are kept up to date where they change.
 */
export const listTenants = platformAdminQuery({
  args: { paginationOpts: paginationOptsValidator, search: v.optional(v.string()) },
  returns: paginationResultValidator(vTenantRow),
  handler: async (ctx, { paginationOpts, search }) => {
    const opts = { ...paginationOpts, numItems: Math.min(Math.max(paginationOpts.numItems, 1), MAX_PAGE) };
    const now = Date.now();
    const query = TenantSummaries.searchQueryFor(search ?? "");
    if (query) {
      const found = await ctx.db
        .query("tenantSummaries")
        .withSearchIndex("search_tenants", (q) => q.search("searchText", query))
        .paginate(opts);
      const matching = found.page.filter((s) => TenantSummaries.matchesAll(s.searchText, query));
      const tenants = await Promise.all(matching.map((s) => ctx.db.get("tenants", s.tenantId)));
      const page = await Promise.all(
        tenants
          .filter((t): t is Doc<"tenants"> => t !== null)
          .map((t) => tenantRow(ctx, t, CHANNELS_PER_ROW, now)),
      );
      return { ...found, page };
    }
    const result = await ctx.db.query("tenants").order("desc").paginate(opts);
    return {
      ...result,
      page: await Promise.all(result.page.map((t) => tenantRow(ctx, t, CHANNELS_PER_ROW, now))),
    };
  },
});

/** The most channels the workspace page lists. */
const CHANNELS_PER_TENANT = 50;

/**
 * One workspace for the platform admin's page about it, by the id in the page's address; null
 * when no workspace has that id (or it is not an id at all).
 */
export const tenant = platformAdminQuery({
  args: { tenantId: v.string() },
  returns: v.union(
    v.null(),
    v.object({
      ...vTenantRow.fields,
      timeZone: v.string(),
      defaultCountry: v.string(),
    }),
  ),
  handler: async (ctx, { tenantId }) => {
    const id = ctx.db.normalizeId("tenants", tenantId);
    const t = id ? await ctx.db.get("tenants", id) : null;
    if (!t) return null;
    return {
      ...(await tenantRow(ctx, t, CHANNELS_PER_TENANT, Date.now())),
      timeZone: t.timeZone,
      defaultCountry: t.defaultCountry,
    };
  },
});

const vDispatcherRow = v.object({
  dispatchId: v.id("channelDispatch"),
  channelId: v.id("channels"),
  channelName: v.union(v.string(), v.null()),
  tenantId: v.union(v.id("tenants"), v.null()),
  tenantName: v.union(v.string(), v.null()),
  /** Messages per second now, and the most it may reach. */
  rate: v.number(),
  maxRate: v.number(),
  lastTickAt: v.number(),
  /** The next scheduled tick; null when the dispatcher is idle. */
  nextTickAt: v.union(v.number(), v.null()),
  /** When the latest burst of throttling errors (130429) began. */
  throttledAt: v.union(v.number(), v.null()),
  /** The throughput WhatsApp's errors showed the number has (model/campaigns/rate.ts), and when. */
  ceiling: v.union(v.number(), v.null()),
  ceilingAt: v.union(v.number(), v.null()),
  sentTotal: v.number(),
  /** The channel's running campaigns (at most `CAMPAIGNS_PER_DISPATCHER`). */
  running: v.array(v.object({ campaignId: v.id("campaigns"), name: v.string() })),
});

/** How many running campaigns a dispatcher row names. */
const CAMPAIGNS_PER_DISPATCHER = 5;

/**
 * Every channel's campaign dispatcher, a page at a time: its current rate, the ceiling it learned
 * from throttling errors, the next tick, the last throttling error and the campaigns it is running.
 */
export const dispatchers = platformAdminQuery({
  args: { paginationOpts: paginationOptsValidator },
  returns: paginationResultValidator(vDispatcherRow),
  handler: async (ctx, { paginationOpts }) => {
    const opts = { ...paginationOpts, numItems: Math.min(Math.max(paginationOpts.numItems, 1), MAX_PAGE) };
    const result = await ctx.db.query("channelDispatch").order("desc").paginate(opts);
    const channels = await Promise.all(result.page.map((d) => ctx.db.get("channels", d.channelId)));
    const tenants = await TenantDirectory.labelsFor(
      ctx,
      channels.map((c) => c?.tenantId),
    );
    const page = await Promise.all(
      result.page.map(async (d, i) => {
        const channel = channels[i];
        const running = await ctx.db
          .query("campaigns")
          .withIndex("by_channel_state", (q) => q.eq("channelId", d.channelId).eq("state", "running"))
          .take(CAMPAIGNS_PER_DISPATCHER);
        return {
          dispatchId: d._id,
          channelId: d.channelId,
          channelName: channel?.name ?? null,
          tenantId: channel?.tenantId ?? null,
          tenantName: (channel && tenants.get(channel.tenantId)?.name) ?? null,
          rate: d.rate,
          maxRate: d.maxRate,
          lastTickAt: d.lastTickAt,
          nextTickAt: d.nextTickAt ?? null,
          throttledAt: d.throttledAt ?? null,
          ceiling: d.ceiling ?? null,
          ceilingAt: d.ceilingAt ?? null,
          sentTotal: d.sentTotal,
          running: running.map((c) => ({ campaignId: c._id, name: c.name })),
        };
      }),
    );
    return { ...result, page };
  },
});

/** How many tenants one backfill run counts before scheduling the next. */
const BACKFILL_BATCH = 20;

/**
 * Counts every tenant's members and channels from scratch and stores them on the tenant, and
 * writes its summary (search text, this month's spend) from scratch, a batch per run, then schedules the next batch: `npx convex run admin:backfillTenantCounts`
 * (docs/operations.md). Safe to run again at any time: each tenant is counted in one transaction.
 */
export const backfillTenantCounts = internalMutation({
  args: { cursor: v.optional(v.union(v.string(), v.null())) },
  returns: v.object({ counted: v.number(), isDone: v.boolean() }),
  handler: async (ctx, { cursor }) => {
    const result = await ctx.db
      .query("tenants")
      .paginate({ cursor: cursor ?? null, numItems: BACKFILL_BATCH });
    const now = Date.now();
    for (const tenant of result.page) {
      const counts = await TenantDirectory.countFor(ctx, tenant._id);
      if (counts.memberCount !== tenant.memberCount || counts.channelCount !== tenant.channelCount)
        await ctx.db.patch("tenants", tenant._id, counts);
      await TenantSummaries.rebuild(ctx, tenant, now);
    }
    if (!result.isDone)
      await ctx.scheduler.runAfter(0, internal.admin.backfillTenantCounts, { cursor: result.continueCursor });
    return { counted: result.page.length, isDone: result.isDone };
  },
});
