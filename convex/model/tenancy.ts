import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import type { Role, TenantSettings } from "../schema";
import * as Audit from "./audit";
import * as TenantSummaries from "./tenantSummaries";
import { currencyLocked, currencyLockedMessage, requireRateCardCurrency } from "./billing/currencies";
import { fail } from "./errors";
import * as TenantDirectory from "./tenantDirectory";
import { LIMITS } from "../shared/limits";
import { compareRoles, hasRole, withArticle } from "../shared/roles";

export { ROLES, hasRole } from "../shared/roles";

export async function membershipOf(
  ctx: QueryCtx,
  tenantId: Id<"tenants">,
  userId: Id<"users">,
): Promise<Doc<"memberships"> | null> {
  return await ctx.db
    .query("memberships")
    .withIndex("by_tenant_user", (q) => q.eq("tenantId", tenantId).eq("userId", userId))
    .unique();
}

const NO_ACCESS = "This workspace does not exist or you are not a member of it";

/**
 * What the caller may do in a tenant. Unknown tenants and tenants the caller is not in get the
 * same answer, so an error never tells whether another tenant exists. Platform admins may read
 * every tenant; writing needs a membership like anyone else.
 */
export async function resolveTenantAccess(
  ctx: QueryCtx,
  user: Doc<"users">,
  tenantId: Id<"tenants">,
  minimum: Role,
  { write }: { write: boolean },
): Promise<{ tenant: Doc<"tenants">; role: Role; membership: Doc<"memberships"> | null }> {
  const tenant = await ctx.db.get("tenants", tenantId);
  const membership = tenant ? await membershipOf(ctx, tenant._id, user._id) : null;
  if (!tenant || (!membership && (write || !user.isPlatformAdmin))) fail("NOT_FOUND", NO_ACCESS);
  const role: Role = membership?.role ?? "viewer";
  // A platform admin's own low role in a tenant must not hide what they may read in any other.
  if (membership && !hasRole(role, minimum) && (write || !user.isPlatformAdmin)) {
    fail("FORBIDDEN", `This needs the ${minimum} role or higher; you are ${withArticle(role)}`);
  }
  return { tenant, role, membership };
}

// ---------------------------------------------------------------- tenants

const CURRENCIES = new Set(
  typeof Intl.supportedValuesOf === "function"
    ? Intl.supportedValuesOf("currency")
    : ["EUR", "USD", "GBP", "BRL", "MXN", "INR", "IDR", "ZAR", "NGN", "COP", "ARS"],
);

/** Checks settings people type in; returns them trimmed and normalised. */
export function validateSettings(input: TenantSettings): TenantSettings {
  const name = input.name.trim();
  const { min, max } = LIMITS.tenantName;
  if (name.length < min || name.length > max)
    fail("INVALID", `Name must be ${min} to ${max} characters`, "name");
  const currency = input.currency.trim().toUpperCase();
  if (!/^[A-Z]{3}$/.test(currency) || !CURRENCIES.has(currency)) {
    fail("INVALID", "Use a 3-letter ISO 4217 currency code, like EUR or USD", "currency");
  }
  const timeZone = input.timeZone.trim();
  try {
    new Intl.DateTimeFormat("en-US", { timeZone }).format(0);
  } catch {
    fail("INVALID", "Use an IANA time zone, like Europe/Madrid", "timeZone");
  }
  const defaultCountry = input.defaultCountry.trim().toUpperCase();
  if (!/^[A-Z]{2}$/.test(defaultCountry)) {
    fail("INVALID", "Use a 2-letter ISO country code, like ES or US", "defaultCountry");
  }
  return { name, currency, timeZone, defaultCountry };
}

export function slugify(name: string): string {
  const slug = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40);
  return slug || "workspace";
}

async function uniqueSlug(ctx: QueryCtx, name: string): Promise<string> {
  const base = slugify(name);
  for (let n = 1; n < 1000; n++) {
    const candidate = n === 1 ? base : `${base}-${n}`;
    const taken = await ctx.db
      .query("tenants")
      .withIndex("by_slug", (q) => q.eq("slug", candidate))
      .first();
    if (!taken) return candidate;
  }
  fail("CONFLICT", "Could not find a free address for this name; try another name", "name");
}

export async function createTenant(
  ctx: MutationCtx,
  user: Doc<"users">,
  input: TenantSettings,
): Promise<Doc<"tenants">> {
  const settings = validateSettings(input);
  requireRateCardCurrency(settings.currency);
  const now = Date.now();
  const slug = await uniqueSlug(ctx, settings.name);
  const tenantId = await ctx.db.insert("tenants", {
    ...settings,
    slug,
    createdBy: user._id,
    createdAt: now,
    memberCount: 1,
    channelCount: 0,
  });
  await ctx.db.insert("memberships", { tenantId, userId: user._id, role: "owner", createdAt: now });
  await TenantSummaries.syncName(ctx, { _id: tenantId, name: settings.name, slug });
  await ctx.db.patch("users", user._id, { lastTenantId: tenantId });
  await Audit.record(ctx, {
    tenantId,
    actor: user,
    action: "tenant.created",
    targetType: "tenant",
    targetId: tenantId,
    summary: `Created workspace ${settings.name}`,
    after: { ...settings, slug },
  });
  return (await ctx.db.get("tenants", tenantId))!;
}

export async function updateSettings(
  ctx: MutationCtx,
  user: Doc<"users">,
  tenant: Doc<"tenants">,
  input: TenantSettings,
): Promise<Doc<"tenants">> {
  const settings = validateSettings(input);
  const current: TenantSettings = {
    name: tenant.name,
    currency: tenant.currency,
    timeZone: tenant.timeZone,
    defaultCountry: tenant.defaultCountry,
  };
  const changes = Audit.diff(current, settings);
  if (!changes) return tenant;
  // A workspace keeps a currency without a rate card only until it changes it; and once credits
  // were used the ledger's amounts are all in the current one.
  if (settings.currency !== tenant.currency) {
    requireRateCardCurrency(settings.currency);
    if (await currencyLocked(ctx, tenant._id))
      fail("INVALID", currencyLockedMessage(tenant.currency), "currency");
  }
  await ctx.db.patch("tenants", tenant._id, settings);
  if (settings.name !== tenant.name) await TenantSummaries.syncName(ctx, { ...tenant, name: settings.name });
  await Audit.record(ctx, {
    tenantId: tenant._id,
    actor: user,
    action: "tenant.settings_updated",
    targetType: "tenant",
    targetId: tenant._id,
    summary: `Changed ${Object.keys(changes.after).join(", ")}`,
    ...changes,
  });
  return { ...tenant, ...settings };
}

/** The tenants a user belongs to, with their role, in name order. */
export async function tenantsOf(ctx: QueryCtx, userId: Id<"users">) {
  const memberships = await ctx.db
    .query("memberships")
    .withIndex("by_user", (q) => q.eq("userId", userId))
    .take(200);
  const rows = await Promise.all(
    memberships.map(async (m) => {
      const tenant = await ctx.db.get("tenants", m.tenantId);
      return tenant ? { tenantId: tenant._id, name: tenant.name, slug: tenant.slug, role: m.role } : null;
    }),
  );
  return rows.filter((r) => r !== null).sort((a, b) => a.name.localeCompare(b.name));
}

// ---------------------------------------------------------------- members

export async function listMembers(ctx: QueryCtx, tenantId: Id<"tenants">) {
  const memberships = await ctx.db
    .query("memberships")
    .withIndex("by_tenant_user", (q) => q.eq("tenantId", tenantId))
    .take(500);
  const rows = await Promise.all(
    memberships.map(async (m) => {
      const user = await ctx.db.get("users", m.userId);
      return {
        membershipId: m._id,
        userId: m.userId,
        name: user?.name ?? "Unknown user",
        email: user?.email ?? "",
        role: m.role,
        joinedAt: m.createdAt,
      };
    }),
  );
  return rows.sort((a, b) => compareRoles(a.role, b.role) || a.name.localeCompare(b.name));
}

async function ownerCount(ctx: QueryCtx, tenantId: Id<"tenants">): Promise<number> {
  const owners = await ctx.db
    .query("memberships")
    .withIndex("by_tenant_role", (q) => q.eq("tenantId", tenantId).eq("role", "owner"))
    .take(2);
  return owners.length;
}

async function targetMembership(ctx: QueryCtx, tenantId: Id<"tenants">, membershipId: Id<"memberships">) {
  const target = await ctx.db.get("memberships", membershipId);
  if (!target || target.tenantId !== tenantId) fail("NOT_FOUND", "That member is not in this workspace");
  return target;
}

/**
 * Changes a member's role. Admins manage agents and viewers (and other admins); only owners
 * grant or take away the owner role; the last owner cannot be demoted.
 */
export async function changeRole(
  ctx: MutationCtx,
  actor: { user: Doc<"users">; role: Role; tenant: Doc<"tenants"> },
  membershipId: Id<"memberships">,
  role: Role,
): Promise<void> {
  const target = await targetMembership(ctx, actor.tenant._id, membershipId);
  if (target.role === role) return;
  if ((target.role === "owner" || role === "owner") && actor.role !== "owner") {
    fail("FORBIDDEN", "Only owners can grant or remove the owner role");
  }
  if (target.role === "owner" && (await ownerCount(ctx, actor.tenant._id)) < 2) {
    fail("LAST_OWNER", "A workspace needs at least one owner: make someone else an owner first");
  }
  await ctx.db.patch("memberships", target._id, { role });
  const member = await ctx.db.get("users", target.userId);
  await Audit.record(ctx, {
    tenantId: actor.tenant._id,
    actor: actor.user,
    action: "member.role_changed",
    targetType: "member",
    targetId: target.userId,
    summary: `Changed ${member?.email ?? "a member"} from ${target.role} to ${role}`,
    before: { role: target.role },
    after: { role },
  });
}

/** Removes a member (or, when the member is the actor, leaves). The last owner cannot go. */
export async function removeMember(
  ctx: MutationCtx,
  actor: { user: Doc<"users">; role: Role; tenant: Doc<"tenants"> },
  membershipId: Id<"memberships">,
): Promise<void> {
  const target = await targetMembership(ctx, actor.tenant._id, membershipId);
  const leaving = target.userId === actor.user._id;
  if (!leaving && !hasRole(actor.role, "admin"))
    fail("FORBIDDEN", "Only admins and owners can remove members");
  if (!leaving && target.role === "owner" && actor.role !== "owner") {
    fail("FORBIDDEN", "Only owners can remove an owner");
  }
  if (target.role === "owner" && (await ownerCount(ctx, actor.tenant._id)) < 2) {
    fail(
      "LAST_OWNER",
      leaving
        ? "You are the last owner: make someone else an owner before you leave"
        : "A workspace needs at least one owner",
    );
  }
  await ctx.db.delete("memberships", target._id);
  await TenantDirectory.adjustCounts(ctx, actor.tenant._id, { members: -1 });
  const member = await ctx.db.get("users", target.userId);
  if (member?.lastTenantId === actor.tenant._id)
    await ctx.db.patch("users", member._id, { lastTenantId: undefined });
  await Audit.record(ctx, {
    tenantId: actor.tenant._id,
    actor: actor.user,
    action: leaving ? "member.left" : "member.removed",
    targetType: "member",
    targetId: target.userId,
    summary: leaving ? `${member?.email ?? "A member"} left` : `Removed ${member?.email ?? "a member"}`,
    before: { role: target.role },
  });
}
