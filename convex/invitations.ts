import type { Auth } from "convex/server";
import { v } from "convex/values";
import { internal } from "./_generated/api";
import {
  authedMutation,
  authedQuery,
  internalAction,
  internalMutation,
  internalQuery,
  tenantMutation,
  tenantQuery,
} from "./functions";
import { appUrl } from "./env";
import * as Emails from "./model/emails";
import * as Invitations from "./model/invitations";
import { requireIdentity } from "./model/users";
import { sendEmail } from "./providers/email";
import type { Doc } from "./_generated/dataModel";
import { vInvitationStatus, vRole } from "./schema";

/** The signed-in user, with whether their token says the email is verified. */
async function responder(ctx: { auth: Auth }, user: Doc<"users">): Promise<Invitations.Responder> {
  const identity = await requireIdentity(ctx);
  return { user, emailVerified: identity.emailVerified === true };
}

export const listPending = tenantQuery({
  role: "admin",
  args: {},
  returns: v.array(
    v.object({
      invitationId: v.id("invitations"),
      email: v.string(),
      role: vRole,
      expiresAt: v.number(),
      createdAt: v.number(),
      invitedBy: v.string(),
      delivered: v.boolean(),
      deliveryError: v.union(v.string(), v.null()),
    }),
  ),
  handler: (ctx) => Invitations.listPending(ctx, ctx.tenant._id),
});

/** Invites someone by email; the link is emailed by a background job. */
export const create = tenantMutation({
  role: "admin",
  args: { email: v.string(), role: vRole },
  returns: v.id("invitations"),
  handler: async (ctx, args) => {
    const id = await Invitations.create(ctx, ctx, args);
    await ctx.scheduler.runAfter(0, internal.invitations.deliver, { invitationId: id });
    return id;
  },
});

/** Sends the invitation again with a fresh link and a fresh week (the old link stops working). */
export const resend = tenantMutation({
  role: "admin",
  args: { invitationId: v.id("invitations") },
  returns: v.null(),
  handler: async (ctx, { invitationId }) => {
    await Invitations.resend(ctx, ctx, invitationId);
    await ctx.scheduler.runAfter(0, internal.invitations.deliver, { invitationId });
    return null;
  },
});

export const revoke = tenantMutation({
  role: "admin",
  args: { invitationId: v.id("invitations") },
  returns: v.null(),
  handler: async (ctx, { invitationId }) => {
    await Invitations.revoke(ctx, ctx, invitationId);
    return null;
  },
});

/** What the invitation link leads to; null when the link is not valid. */
export const preview = authedQuery({
  args: { token: v.string() },
  returns: v.union(
    v.null(),
    v.object({
      tenantName: v.string(),
      tenantSlug: v.union(v.string(), v.null()),
      role: vRole,
      email: v.string(),
      invitedBy: v.string(),
      status: vInvitationStatus,
      expiresAt: v.number(),
      forYou: v.boolean(),
      /** Whether the caller's token says their email is verified; answering needs it. */
      emailVerified: v.boolean(),
      alreadyMember: v.boolean(),
    }),
  ),
  handler: async (ctx, { token }) => Invitations.preview(ctx, await responder(ctx, ctx.user), token),
});

export const accept = authedMutation({
  args: { token: v.string() },
  returns: v.union(
    v.object({ ok: v.literal(true), tenantId: v.id("tenants"), slug: v.string(), role: vRole }),
    Invitations.vAnswerFailure,
  ),
  handler: async (ctx, { token }) => Invitations.accept(ctx, await responder(ctx, ctx.user), token),
});

export const decline = authedMutation({
  args: { token: v.string() },
  returns: v.union(v.object({ ok: v.literal(true) }), Invitations.vAnswerFailure),
  handler: async (ctx, { token }) => Invitations.decline(ctx, await responder(ctx, ctx.user), token),
});

// ---------------------------------------------------------------- delivery (background)

export const forDelivery = internalQuery({
  args: { invitationId: v.id("invitations") },
  returns: v.union(
    v.null(),
    v.object({
      tenantId: v.id("tenants"),
      tenantName: v.string(),
      email: v.string(),
      role: vRole,
      expiresAt: v.number(),
      inviterName: v.string(),
    }),
  ),
  handler: (ctx, { invitationId }) => Invitations.forDelivery(ctx, invitationId),
});

/** Stores the new link's hash; false when the invitation is no longer pending. */
export const attachToken = internalMutation({
  args: { invitationId: v.id("invitations"), tokenHash: v.string() },
  returns: v.boolean(),
  handler: async (ctx, { invitationId, tokenHash }) => {
    const invitation = await ctx.db.get("invitations", invitationId);
    if (!invitation || invitation.status !== "pending") return false;
    await ctx.db.patch("invitations", invitationId, { tokenHash, deliveryError: undefined });
    return true;
  },
});

/** Shows why an invitation could not be sent (the page would otherwise say "Sending…"). */
export const markUndeliverable = internalMutation({
  args: { invitationId: v.id("invitations"), error: v.string() },
  returns: v.null(),
  handler: async (ctx, { invitationId, error }) => {
    const invitation = await ctx.db.get("invitations", invitationId);
    if (invitation?.status === "pending")
      await ctx.db.patch("invitations", invitationId, { deliveryError: error });
    return null;
  },
});

export const recordDelivery = internalMutation({
  args: {
    invitationId: v.id("invitations"),
    email: Emails.vEmailRecord,
  },
  returns: v.null(),
  handler: async (ctx, { invitationId, email }) => {
    await Emails.store(ctx, email);
    if (email.status === "failed") {
      await ctx.db.patch("invitations", invitationId, { deliveryError: email.error ?? "Sending failed" });
    }
    return null;
  },
});

/**
 * Makes the invitation's secret link and emails it. The token exists only here and in the
 * email; the database keeps its hash.
 */
export const deliver = internalAction({
  args: { invitationId: v.id("invitations") },
  returns: v.null(),
  handler: async (ctx, { invitationId }) => {
    const invitation = await ctx.runQuery(internal.invitations.forDelivery, { invitationId });
    if (!invitation) return null;
    // Read before the link is attached: without APP_URL nothing is sent, so nothing may look sent.
    let baseUrl: string;
    try {
      baseUrl = appUrl();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await ctx.runMutation(internal.invitations.markUndeliverable, { invitationId, error: message });
      throw error;
    }
    const token = Invitations.newToken();
    const attached = await ctx.runMutation(internal.invitations.attachToken, {
      invitationId,
      tokenHash: await Invitations.hashToken(token),
    });
    if (!attached) return null;
    const message = Emails.invitationEmail({ ...invitation, link: `${baseUrl}/invitations/${token}` });
    const result = await sendEmail(message);
    await ctx.runMutation(internal.invitations.recordDelivery, {
      invitationId,
      email: Emails.recordFor(invitation.tenantId, "invitation", message, result),
    });
    return null;
  },
});
