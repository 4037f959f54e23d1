/**
 * The one place that builds Convex functions. Every public function is made by a builder here,
 * which resolves who is calling from `ctx.auth` (never from arguments) and what they may do;
 * each builder tags what it made so a test can prove no public function escapes these rules.
 */
import { customAction, customMutation, customQuery } from "convex-helpers/server/customFunctions";
import { v } from "convex/values";
import {
  action as rawAction,
  internalAction as rawInternalAction,
  internalMutation as rawInternalMutation,
  internalQuery as rawInternalQuery,
  mutation as rawMutation,
  query as rawQuery,
  type QueryCtx,
} from "./_generated/server";
import type { Doc, Id } from "./_generated/dataModel";
import { internal } from "./_generated/api";
import type { Role } from "./schema";
import { fail } from "./model/errors";
import { requireIdentity, requireUser, findUser, withCurrentAdminStatus } from "./model/users";
import { resolveTenantAccess } from "./model/tenancy";

/** Property every public function carries: how it is guarded. */
export const ACCESS = "switchboardAccess";
export type Access =
  | { kind: "public"; reason: string }
  | { kind: "identity" }
  | { kind: "authed" }
  | { kind: "tenant"; role: Role }
  | { kind: "platformAdmin" };

function tag<T extends object>(fn: T, access: Access): T {
  Object.defineProperty(fn, ACCESS, { value: access, enumerable: false });
  return fn;
}

/** Wraps a builder so that what it builds is tagged with its access rule. */
/* eslint-disable @typescript-eslint/no-explicit-any -- builders are generic over their definition; `B` keeps that signature */
function tagged<B extends (def: any) => any>(builder: B, access: (def: any) => Access): B {
  return ((def: any) => tag(builder(def), access(def))) as B;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

// ---------------------------------------------------------------- public (no sign-in)

const publicQueryBuilder = customQuery(rawQuery, {
  args: {},
  input: async (_ctx, _args, extra: { reason: string }) => {
    if (!extra.reason) throw new Error("publicQuery needs a reason: why may anyone call this?");
    return { ctx: {}, args: {} };
  },
});
/** A query anyone may call without signing in; `reason` says why that is safe. */
export const publicQuery = tagged(publicQueryBuilder, (def) => ({ kind: "public", reason: def.reason }));

// ---------------------------------------------------------------- signed in

const identityQueryBuilder = customQuery(rawQuery, {
  args: {},
  input: async (ctx) => {
    const identity = await requireIdentity(ctx);
    const user = await findUser(ctx, identity.tokenIdentifier);
    return { ctx: { identity, user: user && withCurrentAdminStatus(user, identity) }, args: {} };
  },
});
/** Signed in, possibly before the user row exists (the first call after sign-in). */
export const identityQuery = tagged(identityQueryBuilder, () => ({ kind: "identity" }));

const identityMutationBuilder = customMutation(rawMutation, {
  args: {},
  input: async (ctx) => {
    const identity = await requireIdentity(ctx);
    return { ctx: { identity }, args: {} };
  },
});
/** Signed in; for registering the user row from the verified identity. */
export const identityMutation = tagged(identityMutationBuilder, () => ({ kind: "identity" }));

const authedQueryBuilder = customQuery(rawQuery, {
  args: {},
  input: async (ctx) => ({ ctx: { user: await requireUser(ctx) }, args: {} }),
});
export const authedQuery = tagged(authedQueryBuilder, () => ({ kind: "authed" }));

const authedMutationBuilder = customMutation(rawMutation, {
  args: {},
  input: async (ctx) => ({ ctx: { user: await requireUser(ctx) }, args: {} }),
});
export const authedMutation = tagged(authedMutationBuilder, () => ({ kind: "authed" }));

const authedActionBuilder = customAction(rawAction, {
  args: {},
  input: async (ctx) => ({ ctx: { identity: await requireIdentity(ctx) }, args: {} }),
});
export const authedAction = tagged(authedActionBuilder, () => ({ kind: "authed" }));

// ---------------------------------------------------------------- tenant-scoped

type TenantExtra = { role: Role };

/**
 * The caller (from `ctx.auth`) and their access to the tenant, or the same errors as a tenant
 * function. For internal functions an action runs on a caller's behalf (they share its identity).
 */
export async function tenantInput(
  ctx: QueryCtx,
  tenantId: Doc<"tenants">["_id"],
  role: Role,
  write: boolean,
) {
  if (!role) throw new Error("Tenant functions need a minimum role");
  const user = await requireUser(ctx);
  const access = await resolveTenantAccess(ctx, user, tenantId, role, { write });
  return { user, ...access };
}

const tenantQueryBuilder = customQuery(rawQuery, {
  args: { tenantId: v.id("tenants") },
  input: async (ctx, { tenantId }, extra: TenantExtra) => ({
    ctx: await tenantInput(ctx, tenantId, extra.role, false),
    args: {},
  }),
});
/**
 * A query on one tenant's data. Takes `tenantId`; the caller must be a member with at least
 * `role` (platform admins may read every tenant). Exposes `ctx.user`, `ctx.tenant`, `ctx.role`.
 */
export const tenantQuery = tagged(tenantQueryBuilder, (def) => ({ kind: "tenant", role: def.role }));

const tenantMutationBuilder = customMutation(rawMutation, {
  args: { tenantId: v.id("tenants") },
  input: async (ctx, { tenantId }, extra: TenantExtra) => ({
    ctx: await tenantInput(ctx, tenantId, extra.role, true),
    args: {},
  }),
});
/** A mutation on one tenant's data: the caller must be a member with at least `role`. */
export const tenantMutation = tagged(tenantMutationBuilder, (def) => ({ kind: "tenant", role: def.role }));

export type TenantActor = { userId: Id<"users">; tenantId: Id<"tenants">; role: Role };

const tenantActionBuilder = customAction(rawAction, {
  args: { tenantId: v.id("tenants") },
  input: async (ctx, { tenantId }, extra: TenantExtra) => {
    if (!extra.role) throw new Error("Tenant functions need a minimum role");
    // Actions have no database: the same checks as a tenant mutation run in a query.
    const actor: TenantActor = await ctx.runQuery(internal.access.tenantActor, {
      tenantId,
      role: extra.role,
    });
    return { ctx: { actor }, args: {} };
  },
});
/**
 * An action on one tenant's behalf (it calls a provider), with the rules of a tenant mutation:
 * a member with at least `role`; platform admins get no write access through it. Exposes
 * `ctx.actor`; what it writes goes through internal mutations that check access again.
 */
export const tenantAction = tagged(tenantActionBuilder, (def) => ({ kind: "tenant", role: def.role }));

// ---------------------------------------------------------------- platform admins

/** Admin status comes from PLATFORM_ADMIN_EMAILS and the token on every call (model/users.ts). */
async function requirePlatformAdmin(ctx: QueryCtx) {
  const user = await requireUser(ctx);
  if (!user.isPlatformAdmin) fail("FORBIDDEN", "Only platform admins can do this");
  return { user };
}

const platformAdminQueryBuilder = customQuery(rawQuery, {
  args: {},
  input: async (ctx) => ({ ctx: await requirePlatformAdmin(ctx), args: {} }),
});
export const platformAdminQuery = tagged(platformAdminQueryBuilder, () => ({ kind: "platformAdmin" }));

const platformAdminMutationBuilder = customMutation(rawMutation, {
  args: {},
  input: async (ctx) => ({ ctx: await requirePlatformAdmin(ctx), args: {} }),
});
export const platformAdminMutation = tagged(platformAdminMutationBuilder, () => ({ kind: "platformAdmin" }));

// ---------------------------------------------------------------- background work

export const internalQuery = rawInternalQuery;
export const internalMutation = rawInternalMutation;
export const internalAction = rawInternalAction;
