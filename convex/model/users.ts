import type { UserIdentity } from "convex/server";
import type { Doc } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { platformAdminEmails } from "../env";
import { fail } from "./errors";

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export async function requireIdentity(ctx: { auth: QueryCtx["auth"] }): Promise<UserIdentity> {
  const identity = await ctx.auth.getUserIdentity();
  if (!identity) fail("UNAUTHENTICATED", "Sign in to continue");
  return identity;
}

export async function findUser(ctx: QueryCtx, tokenIdentifier: string): Promise<Doc<"users"> | null> {
  return await ctx.db
    .query("users")
    .withIndex("by_token", (q) => q.eq("tokenIdentifier", tokenIdentifier))
    .unique();
}

/**
 * Whether this identity is a platform admin right now: its email is in PLATFORM_ADMIN_EMAILS and
 * the identity provider says it verified that email. Decided on every call from the token and
 * the deployment's settings, so removing an address takes effect on the caller's next request;
 * the stored `users.isPlatformAdmin` is only a record of it (for display and the audit log).
 */
export function isPlatformAdmin(identity: UserIdentity): boolean {
  const email = normalizeEmail(identity.email ?? "");
  // Only an email the identity provider says it verified counts; a token that is silent about
  // it (or a provider that lets anyone type an address) must not make a platform admin.
  return email !== "" && identity.emailVerified === true && platformAdminEmails().has(email);
}

/** The user row with `isPlatformAdmin` decided from the identity now, never from the stored flag. */
export function withCurrentAdminStatus(user: Doc<"users">, identity: UserIdentity): Doc<"users"> {
  return { ...user, isPlatformAdmin: isPlatformAdmin(identity) };
}

/** The signed-in user's row; signed-in callers without one yet are told to finish signing in. */
export async function requireUser(ctx: QueryCtx): Promise<Doc<"users">> {
  const identity = await requireIdentity(ctx);
  const user = await findUser(ctx, identity.tokenIdentifier);
  if (!user) fail("UNAUTHENTICATED", "Finish signing in to continue");
  return withCurrentAdminStatus(user, identity);
}

/**
 * Creates or refreshes the user row from the verified identity. Email and name come from the
 * token, never from arguments; the stored platform-admin flag records `isPlatformAdmin(identity)`.
 */
export async function ensureUser(ctx: MutationCtx, identity: UserIdentity): Promise<Doc<"users">> {
  const email = normalizeEmail(identity.email ?? "");
  if (!email) fail("INVALID", "Your sign-in provider did not share an email address");
  const name = (identity.name ?? identity.nickname ?? email.split("@")[0]).trim();
  const admin = isPlatformAdmin(identity);
  const now = Date.now();
  const existing = await findUser(ctx, identity.tokenIdentifier);
  if (!existing) {
    const id = await ctx.db.insert("users", {
      tokenIdentifier: identity.tokenIdentifier,
      email,
      name,
      isPlatformAdmin: admin,
      createdAt: now,
      lastSeenAt: now,
    });
    return (await ctx.db.get("users", id))!;
  }
  const changes: Partial<Doc<"users">> = {};
  if (existing.email !== email) changes.email = email;
  if (existing.name !== name) changes.name = name;
  if (existing.isPlatformAdmin !== admin) changes.isPlatformAdmin = admin;
  // Refresh the "last seen" mark at most once a minute to keep writes (and re-renders) rare.
  if (now - existing.lastSeenAt > 60_000) changes.lastSeenAt = now;
  if (Object.keys(changes).length > 0) await ctx.db.patch("users", existing._id, changes);
  return { ...existing, ...changes };
}
