// Roles as the interface explains and offers them. The rules themselves live in
// convex/shared/roles.ts, which Convex enforces; here they only decide which controls to show.
import type { Role } from "../../convex/shared/roles";

export {
  ROLES,
  assignableRoles,
  canAssignRole,
  canManageMember,
  hasRole,
  withArticle,
  type Role,
} from "../../convex/shared/roles";

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
