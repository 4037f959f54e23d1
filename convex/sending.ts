/** Kill switches: the global one and each workspace's (model/sending.ts, decision 021). */
import { v } from "convex/values";
import {
  internalMutation,
  platformAdminMutation,
  platformAdminQuery,
  tenantMutation,
  tenantQuery,
} from "./functions";
import * as Sending from "./model/sending";

const vPauseView = v.union(
  v.null(),
  v.object({
    reason: v.string(),
    since: v.number(),
    /** An email, or "the platform team" for workspace members when a platform admin paused. */
    by: v.string(),
    byPlatform: v.boolean(),
  }),
);

const vReason = { reason: v.string() };

/**
 * Whether this workspace may send, for the banner on every page: the global switch and the
 * workspace's, each with who, since when and why.
 */
export const status = tenantQuery({
  role: "viewer",
  args: {},
  returns: v.object({ global: vPauseView, tenant: vPauseView }),
  handler: async (ctx) => ({
    global: Sending.pauseView(await Sending.globalPause(ctx), false),
    tenant: Sending.pauseView(ctx.tenant.sendingPause, false),
  }),
});

/** An owner pauses (`paused: true`) or resumes sending for the workspace, with a reason. */
export const setPaused = tenantMutation({
  role: "owner",
  args: { paused: v.boolean(), ...vReason },
  returns: v.object({ tenant: vPauseView }),
  handler: async (ctx, args) => ({
    tenant: Sending.pauseView(
      await Sending.setTenant(ctx, ctx.user, ctx.tenant, { ...args, asPlatform: false }),
      false,
    ),
  }),
});

/** The global switch, for platform admins. */
export const globalStatus = platformAdminQuery({
  args: {},
  returns: v.object({ global: vPauseView }),
  handler: async (ctx) => ({ global: Sending.pauseView(await Sending.globalPause(ctx), true) }),
});

/** A platform admin stops (or resumes) every message on the platform, with a reason. */
export const setGlobalPaused = platformAdminMutation({
  args: { paused: v.boolean(), ...vReason },
  returns: v.object({ global: vPauseView }),
  handler: async (ctx, args) => ({
    global: Sending.pauseView(await Sending.setGlobal(ctx, ctx.user, args), true),
  }),
});

/** A platform admin pauses (or resumes) one workspace's sending, with a reason. */
export const setTenantPaused = platformAdminMutation({
  args: { tenantId: v.id("tenants"), paused: v.boolean(), ...vReason },
  returns: v.object({ tenant: vPauseView }),
  handler: async (ctx, { tenantId, ...args }) => {
    const tenant = await ctx.db.get("tenants", tenantId);
    if (!tenant) Sending.noSuchWorkspace();
    return {
      tenant: Sending.pauseView(
        await Sending.setTenant(ctx, ctx.user, tenant, { ...args, asPlatform: true }),
        true,
      ),
    };
  },
});

/** Sends held messages on once sending resumes, a batch per run (scheduled by the switches). */
export const releaseHeld = internalMutation({
  args: { tenantId: v.optional(v.id("tenants")), cursor: v.optional(v.union(v.string(), v.null())) },
  returns: v.object({ released: v.number(), isDone: v.boolean() }),
  handler: (ctx, args) => Sending.releaseHeld(ctx, args),
});
