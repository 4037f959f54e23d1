// The workspace switcher: a disclosure listing the user's workspaces with their role, and
// "Create workspace". `TenantSwitcher` reads the user live from Convex and works anywhere under
// the Convex provider (the header included); it renders nothing until the user is known.
import { Link, useLocation } from "@remix-run/react";
import { useConvexAuth, useQuery } from "convex/react";
import { api } from "../../convex/_generated/api";
import type { MyTenant } from "../lib/current-user";
import { DropdownMenu } from "./dropdown-menu";
import { RoleBadge } from "./role-badge";

/** The workspace slug in the current URL (`/t/<slug>/…`), if any. */
export function slugFromPath(pathname: string): string | null {
  const match = /^\/t\/([^/]+)/.exec(pathname);
  if (!match) return null;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return match[1];
  }
}

/** For the header: the panel opens under the button, aligned to its right edge. */
export function TenantSwitcher({ panelPosition }: { panelPosition?: string }) {
  const { isAuthenticated } = useConvexAuth();
  const me = useQuery(api.users.me, isAuthenticated ? {} : "skip");
  const { pathname } = useLocation();
  // Inside a workspace its sidebar has the switcher; elsewhere the header shows this one.
  if (!me || pathname.startsWith("/t/")) return null;
  return (
    <TenantSwitcherMenu
      tenants={me.tenants}
      isPlatformAdmin={me.isPlatformAdmin}
      currentSlug={slugFromPath(pathname)}
      panelPosition={panelPosition}
    />
  );
}

export type TenantSwitcherMenuProps = {
  tenants: readonly MyTenant[];
  currentSlug: string | null;
  /** Adds a link to the platform admin area. */
  isPlatformAdmin?: boolean;
  /** Where the panel sits relative to the button (Tailwind classes); right-aligned by default. */
  panelPosition?: string;
};

export function TenantSwitcherMenu({
  tenants,
  currentSlug,
  isPlatformAdmin = false,
  panelPosition = "right-0",
}: TenantSwitcherMenuProps) {
  const current = tenants.find((t) => t.slug === currentSlug);
  return (
    <DropdownMenu
      closeOn="click"
      buttonClassName="flex max-w-56 items-center gap-2 rounded-lg border border-slate-200 bg-white px-3 py-1.5 text-sm font-medium text-slate-700 shadow-sm hover:bg-slate-50"
      panelClassName={`absolute z-30 mt-2 w-72 max-w-[calc(100vw-2rem)] rounded-xl border border-slate-200 bg-white p-2 shadow-lg ${panelPosition}`}
      button={
        <>
          <span className="sr-only">Switch workspace. Current: </span>
          <span className="truncate">{current?.name ?? "Workspaces"}</span>
        </>
      }
    >
      <nav aria-label="Your workspaces">
        {tenants.length === 0 ? (
          <p className="px-3 py-2 text-sm text-slate-600">You are not in any workspace yet.</p>
        ) : (
          <ul className="max-h-72 overflow-y-auto">
            {tenants.map((t) => (
              <li key={t.tenantId}>
                <Link
                  to={`/t/${encodeURIComponent(t.slug)}`}
                  aria-current={t.slug === currentSlug ? "page" : undefined}
                  className="flex items-center justify-between gap-3 rounded-md px-3 py-2 text-sm text-slate-700 hover:bg-slate-100 focus-visible:bg-slate-100 aria-[current=page]:bg-brand-50 aria-[current=page]:font-semibold"
                >
                  <span className="truncate">{t.name}</span>
                  <RoleBadge role={t.role} />
                </Link>
              </li>
            ))}
          </ul>
        )}
      </nav>
      <div className="mt-2 border-t border-slate-100 pt-2">
        <Link
          to="/onboarding"
          className="block rounded-md px-3 py-2 text-sm font-medium text-brand-700 hover:bg-slate-100 focus-visible:bg-slate-100"
        >
          + Create workspace
        </Link>
        {isPlatformAdmin ? (
          <Link
            to="/admin"
            className="block rounded-md px-3 py-2 text-sm font-medium text-slate-700 hover:bg-slate-100 focus-visible:bg-slate-100"
          >
            Platform admin
          </Link>
        ) : null}
      </div>
    </DropdownMenu>
  );
}
