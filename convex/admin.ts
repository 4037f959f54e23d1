import { v } from "convex/values";
import { platformAdminQuery } from "./functions";

/** Every workspace with its member count, for platform admins. */
export const listTenants = platformAdminQuery({
  args: {},
  returns: v.array(
    v.object({
      tenantId: v.id("tenants"),
      name: v.string(),
      slug: v.string(),
      createdAt: v.number(),
      members: v.number(),
    }),
  ),
  handler: async (ctx) => {
    const tenants = await ctx.db.query("tenants").order("desc").take(500);
    return await Promise.all(
      tenants.map(async (t) => ({
        tenantId: t._id,
        name: t.name,
        slug: t.slug,
        createdAt: t.createdAt,
        members: (
          await ctx.db
            .query("memberships")
            .withIndex("by_tenant_user", (q) => q.eq("tenantId", t._id))
            .take(1000)
        ).length,
      })),
    );
  },
});
