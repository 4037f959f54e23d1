// /t/<slug>: the workspace frame. Resolves the address live (a workspace the viewer cannot see
// reads as "not found"), shows the navigation their role reaches, remembers the workspace as
// the last one opened, and gives its pages the workspace through the outlet context.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, Outlet, useLoaderData } from "@remix-run/react";
import { useConvexAuth, useMutation, type Preloaded } from "convex/react";
import { useEffect, useMemo } from "react";
import { api } from "../../convex/_generated/api";
import { buttonClass } from "../components/button";
import { DataRouteErrorView } from "../components/data-error-view";
import { MessagePanel } from "../components/not-allowed";
import { RoleBadge } from "../components/role-badge";
import { SectionNav } from "../components/section-nav";
import { SendingBanner } from "../components/sending-switch";
import { SignedInGate, useMe } from "../components/signed-in-gate";
import { LoadingState } from "../components/spinner";
import { TenantSwitcherMenu } from "../components/tenant-switcher";
import { canViewAssistant } from "../lib/assistant";
import { requireUser } from "../lib/auth.server";
import { preload, preloadTenant } from "../lib/preload.server";
import { tenantAccess, type TenantContext } from "../lib/tenant-context";
import { inboxAccess } from "../lib/inbox";
import { usePreloaded } from "../lib/use-preloaded";

export const meta: MetaFunction = () => [{ title: "Workspace — Switchboard" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireUser(request);
  const slug = params.slug ?? "";
  const [me, tenant] = await Promise.all([preload(request, api.users.me, {}), preloadTenant(request, slug)]);
  // The inbox badge: refused (and so null) for viewers, who have no inbox.
  const [inboxCounts, sending] = tenant.tenantId
    ? await Promise.all([
        preload(request, api.conversations.counts, { tenantId: tenant.tenantId }),
        preload(request, api.sending.status, { tenantId: tenant.tenantId }),
      ])
    : [null, null];
  return { slug, me, tenant: tenant.preloaded, inboxCounts, sending };
}

export default function TenantLayout() {
  const { slug, me, tenant, inboxCounts, sending } = useLoaderData<typeof loader>();
  return (
    <SignedInGate preloadedMe={me}>
      <TenantShell
        key={slug}
        slug={slug}
        preloadedTenant={tenant}
        preloadedCounts={inboxCounts}
        preloadedSending={sending}
      />
    </SignedInGate>
  );
}

function TenantShell({
  slug,
  preloadedTenant,
  preloadedCounts,
  preloadedSending,
}: {
  slug: string;
  preloadedTenant: Preloaded<typeof api.tenants.bySlug> | null;
  preloadedCounts: Preloaded<typeof api.conversations.counts> | null;
  preloadedSending: Preloaded<typeof api.sending.status> | null;
}) {
  const me = useMe();
  const { isAuthenticated } = useConvexAuth();
  const tenant = usePreloaded(api.tenants.bySlug, { slug }, preloadedTenant);
  const setLastTenant = useMutation(api.users.setLastTenant);
  const tenantId = tenant?.tenantId;
  const isMember = tenantId !== undefined && me.tenants.some((t) => t.tenantId === tenantId);
  const inbox = tenant ? inboxAccess(tenant.role, isMember, me.isPlatformAdmin) : null;
  const counts = usePreloaded(
    api.conversations.counts,
    tenantId && inbox?.canRead ? { tenantId } : "skip",
    preloadedCounts,
  );

  useEffect(() => {
    if (!isAuthenticated || !tenantId || !isMember || me.lastTenantId === tenantId) return;
    // Only a convenience for the next visit; a failure (just removed, say) changes nothing here.
    setLastTenant({ tenantId }).catch(() => undefined);
  }, [isAuthenticated, tenantId, isMember, me.lastTenantId, setLastTenant]);

  const context = useMemo<TenantContext | null>(
    () =>
      tenant
        ? {
            tenantId: tenant.tenantId,
            slug,
            name: tenant.name,
            role: tenant.role,
            isMember,
            ...tenantAccess(tenant.role, isMember, me.isPlatformAdmin),
            me,
          }
        : null,
    [tenant, slug, isMember, me],
  );

  if (tenant === undefined) return <LoadingState label="Opening workspace…" />;
  if (tenant === null || !context) return <WorkspaceNotFound />;

  const base = `/t/${encodeURIComponent(slug)}`;
  const nav = [
    {
      to: `${base}/inbox`,
      label: "Inbox",
      end: false,
      show: inbox?.canRead === true,
      badge: { count: counts?.waiting ?? 0, label: "waiting for a person" },
    },
    { to: base, label: "Overview", end: true, show: true },
    { to: `${base}/channels`, label: "Channels", end: false, show: true },
    { to: `${base}/templates`, label: "Templates", end: false, show: true },
    { to: `${base}/contacts`, label: "Contacts", end: false, show: true },
    { to: `${base}/campaigns`, label: "Campaigns", end: false, show: true },
    { to: `${base}/members`, label: "Members", end: false, show: true },
    { to: `${base}/billing`, label: "Billing", end: false, show: context.canAdminRead },
    { to: `${base}/assistant`, label: "Assistant", end: false, show: canViewAssistant(context) },
    { to: `${base}/settings`, label: "Settings", end: false, show: context.canAdminWrite },
    { to: `${base}/audit`, label: "Audit log", end: false, show: context.canAdminRead },
    { to: `${base}/outbox`, label: "Outbox", end: false, show: context.canAdminRead },
  ].filter((item) => item.show);

  return (
    <div className="flex flex-col gap-8 lg:flex-row">
      <aside className="shrink-0 lg:w-56">
        <div className="flex flex-wrap items-center justify-between gap-3 lg:block">
          <div className="min-w-0">
            <p className="truncate text-base font-semibold text-slate-900">{tenant.name}</p>
            <p className="mt-1 flex items-center gap-2 text-sm text-slate-600">
              Your role <RoleBadge role={tenant.role} />
            </p>
          </div>
          <div className="lg:mt-4">
            <TenantSwitcherMenu
              isPlatformAdmin={me.isPlatformAdmin}
              tenants={me.tenants}
              currentSlug={slug}
              panelPosition="right-0 lg:right-auto lg:left-0"
            />
          </div>
        </div>
        <SectionNav aria-label="Workspace" items={nav} className="mt-6" listClassName="lg:flex-col" />
      </aside>
      <div className="min-w-0 flex-1">
        <SendingBanner tenant={context} preloaded={preloadedSending} />
        {!isMember ? (
          <p className="mb-6 rounded-lg border border-sky-200 bg-sky-50 px-4 py-2 text-sm text-sky-900">
            You are viewing this workspace as a platform admin; you are not a member, so it is read-only.
          </p>
        ) : null}
        <Outlet context={context} />
      </div>
    </div>
  );
}

function WorkspaceNotFound() {
  return (
    <MessagePanel
      eyebrow="Workspace"
      title="Workspace not found"
      message="There is no workspace at this address, or you are not a member of it. If someone invited you, open the link in their invitation email."
    >
      <Link to="/app" className={buttonClass("primary")}>
        Go to your workspaces
      </Link>
      <Link to="/onboarding" className={buttonClass("secondary")}>
        Create a workspace
      </Link>
    </MessagePanel>
  );
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
