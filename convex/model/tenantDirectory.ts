/**
 * What platform pages show about workspaces without reading their members or channels: the
 * counts kept on each tenant row (changed in the same mutation as the membership or channel),
 * and tenant names joined onto rows that only carry an id.
 */
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";

export type TenantCounts = { memberCount: number; channelCount: number };

/**
 * Moves a tenant's kept counts by `delta`. A tenant not yet counted (created before counts were
 * kept) is left for `admin:backfillTenantCounts`, which counts it from scratch.
 */
export async function adjustCounts(
  ctx: MutationCtx,
  tenantId: Id<"tenants">,
  delta: { members?: number; channels?: number },
): Promise<void> {
  const tenant = await ctx.db.get("tenants", tenantId);
  if (!tenant || tenant.memberCount === undefined || tenant.channelCount === undefined) return;
  await ctx.db.patch("tenants", tenantId, {
    memberCount: Math.max(0, tenant.memberCount + (delta.members ?? 0)),
    channelCount: Math.max(0, tenant.channelCount + (delta.channels ?? 0)),
  });
}

/** Counts a tenant's members and channels from scratch (for the backfill). */
export async function countFor(ctx: QueryCtx, tenantId: Id<"tenants">): Promise<TenantCounts> {
  let memberCount = 0;
  for await (const _ of ctx.db
    .query("memberships")
    .withIndex("by_tenant_user", (q) => q.eq("tenantId", tenantId)))
    memberCount++;
  let channelCount = 0;
  for await (const _ of ctx.db.query("channels").withIndex("by_tenant", (q) => q.eq("tenantId", tenantId)))
    channelCount++;
  return { memberCount, channelCount };
}

export type TenantLabel = { name: string; slug: string };

/** Name and address of each tenant in `ids` that still exists, read once per tenant. */
export async function labelsFor(
  ctx: QueryCtx,
  ids: Iterable<Id<"tenants"> | undefined | null>,
): Promise<Map<Id<"tenants">, TenantLabel>> {
  const unique = [...new Set([...ids].filter((id): id is Id<"tenants"> => Boolean(id)))];
  const tenants = await Promise.all(unique.map((id) => ctx.db.get("tenants", id)));
  return new Map(
    tenants
      .filter((t): t is Doc<"tenants"> => t !== null)
      .map((t) => [t._id, { name: t.name, slug: t.slug }]),
  );
}
