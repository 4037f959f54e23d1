/**
 * Roles in a workspace and what each may do to others: one set of rules that Convex enforces
 * (convex/model/tenancy.ts, invitations.ts) and the web app uses to decide which controls to
 * show. Pure: no Convex or React imports, so both sides bundle it.
 */
import type { Role } from "../schema";

export type { Role };

/** From most to least powerful. */
export const ROLES: readonly Role[] = ["owner", "admin", "agent", "viewer"];

const RANK: Record<Role, number> = { viewer: 0, agent: 1, admin: 2, owner: 3 };

/** Orders roles from most to least powerful (for sorting members). */
export function compareRoles(a: Role, b: Role): number {
  return RANK[b] - RANK[a];
}

export function hasRole(role: Role, minimum: Role): boolean {
  return RANK[role] >= RANK[minimum];
}

/** Whether `actor` may give someone `role` (by invitation or a role change): only owners grant owner. */
export function canAssignRole(actor: Role, role: Role): boolean {
  return hasRole(actor, "admin") && (role !== "owner" || actor === "owner");
}

/** Roles `actor` may give someone. */
export function assignableRoles(actor: Role): Role[] {
  return ROLES.filter((r) => canAssignRole(actor, r));
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
