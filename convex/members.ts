import { v } from "convex/values";
import { tenantMutation, tenantQuery } from "./functions";
import { fail } from "./model/errors";
import * as Tenancy from "./model/tenancy";
import { vRole } from "./schema";

export const list = tenantQuery({
  role: "viewer",
  args: {},
  returns: v.array(
    v.object({
      membershipId: v.id("memberships"),
      userId: v.id("users"),
      name: v.string(),
      email: v.string(),
      role: vRole,
      joinedAt: v.number(),
    }),
  ),
  handler: (ctx) => Tenancy.listMembers(ctx, ctx.tenant._id),
});

export const changeRole = tenantMutation({
  role: "admin",
  args: { membershipId: v.id("memberships"), role: vRole },
  returns: v.null(),
  handler: async (ctx, { membershipId, role }) => {
    await Tenancy.changeRole(ctx, ctx, membershipId, role);
    return null;
  },
});

export const remove = tenantMutation({
  role: "admin",
  args: { membershipId: v.id("memberships") },
  returns: v.null(),
  handler: async (ctx, { membershipId }) => {
    await Tenancy.removeMember(ctx, ctx, membershipId);
    return null;
  },
});

/** Leaves the workspace; the last owner cannot. */
export const leave = tenantMutation({
  role: "viewer",
  args: {},
  returns: v.null(),
  handler: async (ctx) => {
    if (!ctx.membership) fail("NOT_FOUND", "You are not a member of this workspace");
    await Tenancy.removeMember(ctx, ctx, ctx.membership._id);
    return null;
  },
});
