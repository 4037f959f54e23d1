import { v, type Infer } from "convex/values";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import type { Role } from "../schema";
import * as Audit from "./audit";
import { fail, type ErrorCode } from "./errors";
import * as RateLimits from "./rateLimits";
import * as TenantDirectory from "./tenantDirectory";
import { canAssignRole } from "../shared/roles";
import { hasRole, membershipOf } from "./tenancy";
import { normalizeEmail } from "./users";

import { INVITATION_TTL_MS } from "./invitationExpiry";

export { INVITATION_TTL_MS };
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Hex SHA-256 of an invitation token; only this is stored. */
export async function hashToken(token: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A new random token (256 bits, URL-safe). */
export function newToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

type Actor = { user: Doc<"users">; role: Role; tenant: Doc<"tenants"> };

export async function create(
  ctx: MutationCtx,
  actor: Actor,
  input: { email: string; role: Role },
): Promise<Id<"invitations">> {
  const email = normalizeEmail(input.email);
  if (!EMAIL.test(email) || email.length > 254) fail("INVALID", "Enter a valid email address", "email");
  if (!canAssignRole(actor.role, input.role)) {
    fail("FORBIDDEN", "Only owners can invite owners", "role");
  }
  const existingUser = await ctx.db
    .query("users")
    .withIndex("by_email", (q) => q.eq("email", email))
    .first();
  if (existingUser && (await membershipOf(ctx, actor.tenant._id, existingUser._id))) {
    fail("CONFLICT", `${email} is already a member of this workspace`, "email");
  }
  const now = Date.now();
  // A newer invitation replaces a pending one for the same address (a resend, audited as one).
  const pending = await ctx.db
    .query("invitations")
    .withIndex("by_tenant_email_status", (q) =>
      q.eq("tenantId", actor.tenant._id).eq("email", email).eq("status", "pending"),
    )
    .take(10);
  for (const old of pending) {
    await ctx.db.patch("invitations", old._id, {
      status: "revoked",
      respondedAt: now,
      respondedBy: actor.user._id,
    });
  }
  const id = await ctx.db.insert("invitations", {
    tenantId: actor.tenant._id,
    email,
    role: input.role,
    status: "pending",
    expiresAt: now + INVITATION_TTL_MS,
    invitedBy: actor.user._id,
    createdAt: now,
  });
  const replaced = pending[0];
  if (replaced) {
    // Inviting an address that already has a pending invitation is a resend: a new link (the
    // earlier one stops working), recorded as such.
    await Audit.record(ctx, {
      tenantId: actor.tenant._id,
      actor: actor.user,
      action: "invitation.resent",
      targetType: "invitation",
      targetId: id,
      summary: `Invited ${email} again as ${input.role}; the earlier link no longer works`,
      before: { role: replaced.role, expiresAt: replaced.expiresAt },
      after: { role: input.role, expiresAt: now + INVITATION_TTL_MS },
    });
    return id;
  }
  await Audit.record(ctx, {
    tenantId: actor.tenant._id,
    actor: actor.user,
    action: "invitation.created",
    targetType: "invitation",
    targetId: id,
    summary: `Invited ${email} as ${input.role}`,
    after: { email, role: input.role },
  });
  return id;
}

export async function listPending(ctx: QueryCtx, tenantId: Id<"tenants">) {
  const rows = await ctx.db
    .query("invitations")
    .withIndex("by_tenant_status", (q) => q.eq("tenantId", tenantId).eq("status", "pending"))
    .order("desc")
    .take(200);
  return await Promise.all(
    rows.map(async (i) => ({
      invitationId: i._id,
      email: i.email,
      role: i.role,
      expiresAt: i.expiresAt,
      createdAt: i.createdAt,
      invitedBy: (await ctx.db.get("users", i.invitedBy))?.email ?? "",
      delivered: i.tokenHash !== undefined,
      deliveryError: i.deliveryError ?? null,
    })),
  );
}

export async function revoke(ctx: MutationCtx, actor: Actor, invitationId: Id<"invitations">): Promise<void> {
  const invitation = await ctx.db.get("invitations", invitationId);
  if (!invitation || invitation.tenantId !== actor.tenant._id)
    fail("NOT_FOUND", "That invitation does not exist");
  if (invitation.status !== "pending") fail("CONFLICT", `That invitation was already ${invitation.status}`);
  if (invitation.role === "owner" && !hasRole(actor.role, "owner")) {
    fail("FORBIDDEN", "Only owners can revoke an owner invitation");
  }
  await ctx.db.patch("invitations", invitationId, {
    status: "revoked",
    respondedAt: Date.now(),
    respondedBy: actor.user._id,
  });
  await Audit.record(ctx, {
    tenantId: actor.tenant._id,
    actor: actor.user,
    action: "invitation.revoked",
    targetType: "invitation",
    targetId: invitationId,
    summary: `Revoked the invitation for ${invitation.email}`,
    before: { status: "pending" },
    after: { status: "revoked" },
  });
}

/**
 * Prepares a pending invitation to be sent again: it gets a fresh week, and its current link
 * stops working now (the delivery job attaches a new one).
 */
export async function resend(ctx: MutationCtx, actor: Actor, invitationId: Id<"invitations">): Promise<void> {
  const invitation = await ctx.db.get("invitations", invitationId);
  if (!invitation || invitation.tenantId !== actor.tenant._id)
    fail("NOT_FOUND", "That invitation does not exist");
  if (invitation.status !== "pending") fail("CONFLICT", `That invitation was already ${invitation.status}`);
  if (invitation.role === "owner" && !hasRole(actor.role, "owner")) {
    fail("FORBIDDEN", "Only owners can resend an owner invitation");
  }
  const expiresAt = Date.now() + INVITATION_TTL_MS;
  await ctx.db.patch("invitations", invitationId, {
    expiresAt,
    tokenHash: undefined,
    deliveryError: undefined,
  });
  await Audit.record(ctx, {
    tenantId: actor.tenant._id,
    actor: actor.user,
    action: "invitation.resent",
    targetType: "invitation",
    targetId: invitationId,
    summary: `Sent the invitation for ${invitation.email} again`,
    before: { expiresAt: invitation.expiresAt },
    after: { expiresAt },
  });
}

async function byToken(ctx: QueryCtx, token: string): Promise<Doc<"invitations"> | null> {
  if (!token || token.length > 200) return null;
  const tokenHash = await hashToken(token);
  return await ctx.db
    .query("invitations")
    .withIndex("by_token_hash", (q) => q.eq("tokenHash", tokenHash))
    .unique();
}

/**
 * Whether the signed-in identity may answer an invitation: its provider must say it verified the
 * email, or anyone who can type an address (local sign-in, a lax provider) could take its seat.
 */
export type Responder = { user: Doc<"users">; emailVerified: boolean };

/** What the invitation page shows. Expiry is judged by the caller's clock (queries have none). */
export async function preview(ctx: QueryCtx, { user, emailVerified }: Responder, token: string) {
  const invitation = await byToken(ctx, token);
  if (!invitation) return null;
  const tenant = await ctx.db.get("tenants", invitation.tenantId);
  const inviter = await ctx.db.get("users", invitation.invitedBy);
  const alreadyMember = tenant ? (await membershipOf(ctx, tenant._id, user._id)) !== null : false;
  return {
    tenantName: tenant?.name ?? "a deleted workspace",
    tenantSlug: tenant?.slug ?? null,
    role: invitation.role,
    email: invitation.email,
    invitedBy: inviter?.name ?? inviter?.email ?? "someone",
    status: invitation.status,
    expiresAt: invitation.expiresAt,
    forYou: invitation.email === user.email,
    emailVerified,
    alreadyMember,
  };
}

/**
 * Why an invitation cannot be answered, returned rather than thrown: a mutation that throws
 * rolls back its writes, and the count of links that did not work must survive the failure.
 * `retryAfterMs` is set when the caller is refused for too many of those.
 */
export const vAnswerFailure = v.object({
  ok: v.literal(false),
  code: v.union(
    v.literal("NOT_FOUND"),
    v.literal("CONFLICT"),
    v.literal("EXPIRED"),
    v.literal("FORBIDDEN"),
    v.literal("EMAIL_NOT_VERIFIED"),
    v.literal("RATE_LIMITED"),
  ),
  message: v.string(),
  retryAfterMs: v.optional(v.number()),
});
export type AnswerFailure = Infer<typeof vAnswerFailure>;

const refused = (code: AnswerFailure["code"] & ErrorCode, message: string): AnswerFailure => ({
  ok: false,
  code,
  message,
});

/**
 * The invitation `token` opens for the responder, or why not. Links that do not work for them —
 * no such invitation, or one addressed to someone else — count against the signed-in user
 * (`invitationMisses`): past the limit every answer is refused until the time it names, before
 * the token is even looked up, so trying links at scale learns nothing. The count is the
 * caller's own: someone trying another person's link never blocks that person. An answer to
 * one's own invitation that fails (expired, already used, email not verified) does not count.
 */
async function respondable(
  ctx: MutationCtx,
  { user, emailVerified }: Responder,
  token: string,
): Promise<{ ok: true; invitation: Doc<"invitations"> } | AnswerFailure> {
  const wait = await RateLimits.waitFor(ctx, "invitationMisses", user._id);
  if (wait > 0) {
    return {
      ...refused(
        "RATE_LIMITED",
        `Too many invitation links that did not work. Try again ${RateLimits.waitText(wait)}.`,
      ),
      retryAfterMs: wait,
    };
  }
  const invitation = await byToken(ctx, token);
  if (!invitation || invitation.email !== user.email) {
    await RateLimits.count(ctx, "invitationMisses", user._id);
  }
  if (!invitation) return refused("NOT_FOUND", "This invitation link is not valid");
  if (invitation.status !== "pending")
    return refused("CONFLICT", `This invitation was already ${invitation.status}`);
  if (invitation.expiresAt <= Date.now())
    return refused("EXPIRED", "This invitation has expired; ask for a new one");
  if (invitation.email !== user.email) {
    return refused(
      "FORBIDDEN",
      `This invitation is for ${invitation.email}; you are signed in as ${user.email}`,
    );
  }
  if (!emailVerified) {
    return refused(
      "EMAIL_NOT_VERIFIED",
      `Verify ${user.email} first: an invitation can only be answered from an account whose email address is verified`,
    );
  }
  return { ok: true, invitation };
}

export async function accept(
  ctx: MutationCtx,
  responder: Responder,
  token: string,
): Promise<{ ok: true; tenantId: Id<"tenants">; slug: string; role: Role } | AnswerFailure> {
  const { user } = responder;
  const answer = await respondable(ctx, responder, token);
  if (!answer.ok) return answer;
  const { invitation } = answer;
  const tenant = await ctx.db.get("tenants", invitation.tenantId);
  if (!tenant) return refused("NOT_FOUND", "This workspace no longer exists");
  const now = Date.now();
  const existing = await membershipOf(ctx, tenant._id, user._id);
  if (!existing) {
    await ctx.db.insert("memberships", {
      tenantId: tenant._id,
      userId: user._id,
      role: invitation.role,
      createdAt: now,
    });
    await TenantDirectory.adjustCounts(ctx, tenant._id, { members: 1 });
  }
  await ctx.db.patch("invitations", invitation._id, {
    status: "accepted",
    respondedAt: now,
    respondedBy: user._id,
  });
  await ctx.db.patch("users", user._id, { lastTenantId: tenant._id });
  await Audit.record(ctx, {
    tenantId: tenant._id,
    actor: user,
    action: "invitation.accepted",
    targetType: "member",
    targetId: user._id,
    summary: `${user.email} joined as ${existing?.role ?? invitation.role}`,
    after: { role: existing?.role ?? invitation.role },
  });
  return { ok: true, tenantId: tenant._id, slug: tenant.slug, role: existing?.role ?? invitation.role };
}

export async function decline(
  ctx: MutationCtx,
  responder: Responder,
  token: string,
): Promise<{ ok: true } | AnswerFailure> {
  const { user } = responder;
  const answer = await respondable(ctx, responder, token);
  if (!answer.ok) return answer;
  const { invitation } = answer;
  await ctx.db.patch("invitations", invitation._id, {
    status: "declined",
    respondedAt: Date.now(),
    respondedBy: user._id,
  });
  await Audit.record(ctx, {
    tenantId: invitation.tenantId,
    actor: user,
    action: "invitation.declined",
    targetType: "invitation",
    targetId: invitation._id,
    summary: `${user.email} declined the invitation`,
    before: { status: "pending" },
    after: { status: "declined" },
  });
  return { ok: true };
}

/** Data the delivery action needs, or null when the invitation is no longer pending. */
export async function forDelivery(ctx: QueryCtx, invitationId: Id<"invitations">) {
  const invitation = await ctx.db.get("invitations", invitationId);
  if (!invitation || invitation.status !== "pending") return null;
  const tenant = await ctx.db.get("tenants", invitation.tenantId);
  const inviter = await ctx.db.get("users", invitation.invitedBy);
  if (!tenant) return null;
  return {
    tenantId: tenant._id,
    tenantName: tenant.name,
    email: invitation.email,
    role: invitation.role,
    expiresAt: invitation.expiresAt,
    inviterName: inviter?.name ?? inviter?.email ?? "A teammate",
  };
}
