// /admin: the platform admin area (workspaces, their channels, credits and sending, the campaign
// dispatchers, the rate card, audit log, outbox, webhook dead letters, reconciliation reports).
// Everyone else is refused.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Outlet } from "@remix-run/react";
import { DataRouteErrorView } from "../components/data-error-view";
import { NotAllowed } from "../components/not-allowed";
import { SectionNav } from "../components/section-nav";
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
  { to: "/admin/dispatch", label: "Dispatchers", end: false },
  { to: "/admin/rates", label: "Rates", end: false },
  { to: "/admin/audit", label: "Audit log", end: false },
  { to: "/admin/outbox", label: "Outbox", end: false },
  { to: "/admin/dead-letters", label: "Dead letters", end: false },
  { to: "/admin/reconciliation", label: "Reconciliation", end: false },
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
        <SectionNav aria-label="Platform admin" items={NAV} />
      </div>
      <Outlet />
    </div>
  );
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
