// Roles as the interface explains and offers them. The rules mirror convex/model/tenancy.ts,
// which enforces them; here they only decide which controls to show.
import type { Role } from "../../convex/schema";

export type { Role };

/** From most to least powerful. */
export const ROLES: readonly Role[] = ["owner", "admin", "agent", "viewer"];

const RANK: Record<Role, number> = { viewer: 0, agent: 1, admin: 2, owner: 3 };

export const ROLE_LABELS: Record<Role, string> = {
  owner: "Owner",
  admin: "Admin",
  agent: "Agent",
  viewer: "Viewer",
};

export const ROLE_DESCRIPTIONS: Record<Role, string> = {
  owner: "Everything, including managing owners",
  admin: "Settings, members, invitations and the audit log",
  agent: "Works the inbox",
  viewer: "Read-only access",
};

export function hasRole(role: Role, minimum: Role): boolean {
  return RANK[role] >= RANK[minimum];
}

/** Roles `actor` may give someone (by invitation or a role change): only owners grant owner. */
export function assignableRoles(actor: Role): Role[] {
  if (actor === "owner") return [...ROLES];
  if (actor === "admin") return ROLES.filter((r) => r !== "owner");
  return [];
}

/**
 * Whether `actor` gets controls (role select, Remove) for another member with role `target`.
 * Admins manage everyone but owners; owners manage everyone. Your own row has "Leave" instead.
 */
export function canManageMember(actor: Role, target: Role, isSelf: boolean): boolean {
  if (isSelf || !hasRole(actor, "admin")) return false;
  return target !== "owner" || actor === "owner";
}

/** "an agent", "a viewer". */
export function withArticle(role: Role): string {
  return `${role === "viewer" ? "a" : "an"} ${role}`;
}
