// What the /t/<slug> layout tells its pages about the workspace and the viewer's place in it.
import { useOutletContext } from "@remix-run/react";
import type { Id } from "../../convex/_generated/dataModel";
import type { Me } from "./current-user";
import { hasRole, type Role } from "./roles";

export type TenantContext = {
  tenantId: Id<"tenants">;
  slug: string;
  name: string;
  /** The viewer's role ("viewer" for a platform admin who is not a member). */
  role: Role;
  isMember: boolean;
  /** May read admin pages (settings values, audit log, outbox, invitations). */
  canAdminRead: boolean;
  /** May change things admins change (settings, members, invitations). */
  canAdminWrite: boolean;
  me: Me;
};

export function tenantAccess(role: Role, isMember: boolean, isPlatformAdmin: boolean) {
  const canAdminWrite = isMember && hasRole(role, "admin");
  // Platform admins may read every workspace, whatever their own role in it; writing takes a role.
  const canAdminRead = canAdminWrite || isPlatformAdmin;
  return { canAdminRead, canAdminWrite };
}

export function useTenant(): TenantContext {
  return useOutletContext<TenantContext>();
}
