// A member's role as a small coloured label.
import { ROLE_LABELS, type Role } from "../lib/roles";

const STYLES: Record<Role, string> = {
  owner: "bg-violet-50 text-violet-800 ring-violet-200",
  admin: "bg-sky-50 text-sky-800 ring-sky-200",
  agent: "bg-brand-50 text-brand-700 ring-brand-100",
  viewer: "bg-slate-100 text-slate-700 ring-slate-200",
};

export function RoleBadge({ role }: { role: Role }) {
  return (
    <span
      className={`inline-flex items-center rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${STYLES[role]}`}
    >
      {ROLE_LABELS[role]}
    </span>
  );
}
