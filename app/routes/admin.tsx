// /admin: the platform admin area (workspaces, audit log, outbox). Everyone else is refused.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { NavLink, Outlet } from "@remix-run/react";
import { DataRouteErrorView } from "../components/data-error-view";
import { NotAllowed } from "../components/not-allowed";
import { SignedInGate, useMe } from "../components/signed-in-gate";
import { requireUser } from "../lib/auth.server";

export const meta: MetaFunction = () => [{ title: "Platform admin — Switchboard" }];

export async function loader({ request }: LoaderFunctionArgs) {
  await requireUser(request);
  return null;
}

export default function AdminLayout() {
  return (
    <SignedInGate>
      <AdminShell />
    </SignedInGate>
  );
}

const NAV = [
  { to: "/admin", label: "Workspaces", end: true },
  { to: "/admin/audit", label: "Audit log", end: false },
  { to: "/admin/outbox", label: "Outbox", end: false },
];

function AdminShell() {
  const me = useMe();
  if (!me.isPlatformAdmin) {
    return (
      <NotAllowed
        message="This area is for platform admins only."
        backTo={{ to: "/app", label: "Go to your workspaces" }}
      />
    );
  }
  return (
    <div className="space-y-8">
      <div className="flex flex-col gap-4 sm:flex-row sm:items-center sm:justify-between">
        <p className="text-sm font-semibold tracking-wide text-brand-700 uppercase">Platform admin</p>
        <nav aria-label="Platform admin" className="-mx-1 overflow-x-auto">
          <ul className="flex gap-1 px-1">
            {NAV.map((item) => (
              <li key={item.to}>
                <NavLink
                  to={item.to}
                  end={item.end}
                  prefetch="intent"
                  className={({ isActive }) =>
                    `block rounded-lg px-3 py-2 text-sm font-medium whitespace-nowrap ${
                      isActive ? "bg-brand-50 text-brand-700" : "text-slate-700 hover:bg-slate-100"
                    }`
                  }
                >
                  {item.label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
      </div>
      <Outlet />
    </div>
  );
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
