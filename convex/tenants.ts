import { v } from "convex/values";
import { authedMutation, authedQuery, tenantMutation, tenantQuery } from "./functions";
import * as Tenancy from "./model/tenancy";
import { vRole, vTenantSettings } from "./schema";

const vTenant = v.object({
  tenantId: v.id("tenants"),
  slug: v.string(),
  name: v.string(),
  currency: v.string(),
  timeZone: v.string(),
  defaultCountry: v.string(),
  createdAt: v.number(),
  role: vRole,
});

/** Creates a workspace with the caller as its owner. */
export const create = authedMutation({
  args: vTenantSettings.fields,
  returns: v.object({ tenantId: v.id("tenants"), slug: v.string() }),
  handler: async (ctx, args) => {
    const tenant = await Tenancy.createTenant(ctx, ctx.user, args);
    return { tenantId: tenant._id, slug: tenant.slug };
  },
});

/** Resolves a workspace address to its id, for members (and platform admins); null otherwise. */
export const bySlug = authedQuery({
  args: { slug: v.string() },
  returns: v.union(v.null(), v.object({ tenantId: v.id("tenants"), name: v.string(), role: vRole })),
  handler: async (ctx, { slug }) => {
    const tenant = await ctx.db
      .query("tenants")
      .withIndex("by_slug", (q) => q.eq("slug", slug))
      .unique();
    if (!tenant) return null;
    const membership = await Tenancy.membershipOf(ctx, tenant._id, ctx.user._id);
    if (!membership && !ctx.user.isPlatformAdmin) return null;
    return { tenantId: tenant._id, name: tenant.name, role: membership?.role ?? "viewer" };
  },
});

export const get = tenantQuery({
  role: "viewer",
  args: {},
  returns: vTenant,
  handler: async (ctx) => ({
    tenantId: ctx.tenant._id,
    slug: ctx.tenant.slug,
    name: ctx.tenant.name,
    currency: ctx.tenant.currency,
    timeZone: ctx.tenant.timeZone,
    defaultCountry: ctx.tenant.defaultCountry,
    createdAt: ctx.tenant.createdAt,
    role: ctx.role,
  }),
});

export const updateSettings = tenantMutation({
  role: "admin",
  args: vTenantSettings.fields,
  returns: v.null(),
  handler: async (ctx, args) => {
    await Tenancy.updateSettings(ctx, ctx.user, ctx.tenant, args);
    return null;
  },
});
