import { v } from "convex/values";
import { identityMutation, identityQuery, authedMutation } from "./functions";
import * as Audit from "./model/audit";
import { fail } from "./model/errors";
import { membershipOf, tenantsOf } from "./model/tenancy";
import { ensureUser } from "./model/users";
import { vRole } from "./schema";

const vMe = v.union(
  v.null(),
  v.object({
    userId: v.id("users"),
    email: v.string(),
    name: v.string(),
    isPlatformAdmin: v.boolean(),
    lastTenantId: v.union(v.id("tenants"), v.null()),
    tenants: v.array(
      v.object({ tenantId: v.id("tenants"), name: v.string(), slug: v.string(), role: vRole }),
    ),
  }),
);

/** The signed-in user and their workspaces; null until `ensure` has registered them. */
export const me = identityQuery({
  args: {},
  returns: vMe,
  handler: async (ctx) => {
    if (!ctx.user) return null;
    return {
      userId: ctx.user._id,
      email: ctx.user.email,
      name: ctx.user.name,
      isPlatformAdmin: ctx.user.isPlatformAdmin,
      lastTenantId: ctx.user.lastTenantId ?? null,
      tenants: await tenantsOf(ctx, ctx.user._id),
    };
  },
});

/** Registers or refreshes the signed-in user from the verified token (called after sign-in). */
export const ensure = identityMutation({
  args: {},
  returns: v.id("users"),
  handler: async (ctx) => {
    const before = await ctx.db
      .query("users")
      .withIndex("by_token", (q) => q.eq("tokenIdentifier", ctx.identity.tokenIdentifier))
      .unique();
    const user = await ensureUser(ctx, ctx.identity);
    if ((before?.isPlatformAdmin ?? false) !== user.isPlatformAdmin) {
      await Audit.record(ctx, {
        actor: { system: "PLATFORM_ADMIN_EMAILS" },
        action: user.isPlatformAdmin ? "platform_admin.granted" : "platform_admin.revoked",
        targetType: "user",
        targetId: user._id,
        summary: `${user.email} ${user.isPlatformAdmin ? "became" : "is no longer"} a platform admin`,
        before: { isPlatformAdmin: before?.isPlatformAdmin ?? false },
        after: { isPlatformAdmin: user.isPlatformAdmin },
      });
    }
    return user._id;
  },
});

/** Remembers the workspace the user last opened (for the next sign-in). */
export const setLastTenant = authedMutation({
  args: { tenantId: v.id("tenants") },
  returns: v.null(),
  handler: async (ctx, { tenantId }) => {
    if (!(await membershipOf(ctx, tenantId, ctx.user._id))) {
      fail("NOT_FOUND", "This workspace does not exist or you are not a member of it");
    }
    if (ctx.user.lastTenantId !== tenantId)
      await ctx.db.patch("users", ctx.user._id, { lastTenantId: tenantId });
    return null;
  },
});
