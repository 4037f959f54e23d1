import { paginationOptsValidator, paginationResultValidator } from "convex/server";
import { v } from "convex/values";
import { internal } from "./_generated/api";
import { internalMutation, platformAdminQuery } from "./functions";
import * as Sending from "./model/sending";
import * as TenantDirectory from "./model/tenantDirectory";

const vTenantRow = v.object({
  tenantId: v.id("tenants"),
  name: v.string(),
  slug: v.string(),
  createdAt: v.number(),
  /** Null until the tenant's counts are backfilled (`admin:backfillTenantCounts`). */
  members: v.union(v.number(), v.null()),
  channels: v.union(v.number(), v.null()),
  /** The workspace's own sending switch when it is off (the global one is not included). */
  sendingPaused: v.union(
    v.null(),
    v.object({ reason: v.string(), since: v.number(), by: v.string(), byPlatform: v.boolean() }),
  ),
});

/**
 * Every workspace, newest first, a page at a time, with its member and channel counts. The
 * counts are kept on the tenant row, so a page reads one document per workspace.
 */
export const listTenants = platformAdminQuery({
  args: { paginationOpts: paginationOptsValidator },
  returns: paginationResultValidator(vTenantRow),
  handler: async (ctx, { paginationOpts }) => {
    const result = await ctx.db.query("tenants").order("desc").paginate(paginationOpts);
    return {
      ...result,
      page: result.page.map((t) => ({
        tenantId: t._id,
        name: t.name,
        slug: t.slug,
        createdAt: t.createdAt,
        members: t.memberCount ?? null,
        channels: t.channelCount ?? null,
        sendingPaused: Sending.pauseView(t.sendingPause, true),
      })),
    };
  },
});

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
      currency: v.string(),
      timeZone: v.string(),
      defaultCountry: v.string(),
    }),
  ),
  handler: async (ctx, { tenantId }) => {
    const id = ctx.db.normalizeId("tenants", tenantId);
    const t = id ? await ctx.db.get("tenants", id) : null;
    if (!t) return null;
    return {
      tenantId: t._id,
      name: t.name,
      slug: t.slug,
      createdAt: t.createdAt,
      members: t.memberCount ?? null,
      channels: t.channelCount ?? null,
      sendingPaused: Sending.pauseView(t.sendingPause, true),
      currency: t.currency,
      timeZone: t.timeZone,
      defaultCountry: t.defaultCountry,
    };
  },
});

/** How many tenants one backfill run counts before scheduling the next. */
const BACKFILL_BATCH = 50;

/**
 * Counts every tenant's members and channels from scratch and stores them on the tenant, a batch
 * per run, then schedules the next batch: `npx convex run admin:backfillTenantCounts`
 * (docs/operations.md). Safe to run again at any time: each tenant is counted in one transaction.
 */
export const backfillTenantCounts = internalMutation({
  args: { cursor: v.optional(v.union(v.string(), v.null())) },
  returns: v.object({ counted: v.number(), isDone: v.boolean() }),
  handler: async (ctx, { cursor }) => {
    const result = await ctx.db
      .query("tenants")
      .paginate({ cursor: cursor ?? null, numItems: BACKFILL_BATCH });
    for (const tenant of result.page) {
      const counts = await TenantDirectory.countFor(ctx, tenant._id);
      if (counts.memberCount !== tenant.memberCount || counts.channelCount !== tenant.channelCount)
        await ctx.db.patch("tenants", tenant._id, counts);
    }
    if (!result.isDone)
      await ctx.scheduler.runAfter(0, internal.admin.backfillTenantCounts, { cursor: result.continueCursor });
    return { counted: result.page.length, isDone: result.isDone };
  },
});
