// /t/<slug>/audit: the workspace's audit log (admins), live, in the workspace's time zone.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { usePaginatedQuery, useQuery } from "convex/react";
import { useMemo } from "react";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { AuditEventList, AuditFilters, useActorOptions, useAuditFilters } from "../components/audit-log";
import { DataRouteErrorView } from "../components/data-error-view";
import { NotAllowed } from "../components/not-allowed";
import { PageHeader } from "../components/page-header";
import { TENANT_AUDIT_ACTIONS } from "../lib/audit-actions";
import { requireUser } from "../lib/auth.server";
import { useTenant, type TenantContext } from "../lib/tenant-context";

export const meta: MetaFunction = () => [{ title: "Audit log — Switchboard" }];

export async function loader({ request }: LoaderFunctionArgs) {
  await requireUser(request);
  return null;
}

const PAGE_SIZE = 25;

export default function AuditPage() {
  const tenant = useTenant();
  if (!tenant.canAdminRead) {
    return (
      <NotAllowed
        message="You need the admin role to read the audit log."
        backTo={{ to: `/t/${encodeURIComponent(tenant.slug)}`, label: "Back to the overview" }}
      />
    );
  }
  return <TenantAuditLog tenant={tenant} />;
}

function TenantAuditLog({ tenant }: { tenant: TenantContext }) {
  const filters = useAuditFilters();
  const details = useQuery(api.tenants.get, { tenantId: tenant.tenantId });
  const members = useQuery(api.members.list, { tenantId: tenant.tenantId });
  const { results, status, loadMore } = usePaginatedQuery(
    api.audit.listForTenant,
    { tenantId: tenant.tenantId, action: filters.action, actorId: filters.actor as Id<"users"> | undefined },
    { initialNumItems: PAGE_SIZE },
  );
  const memberOptions = useMemo(
    () => (members ?? []).map((m) => ({ value: m.userId, label: m.email || m.name })),
    [members],
  );
  const actors = useActorOptions(memberOptions, results);

  return (
    <div className="space-y-6">
      <PageHeader
        title="Audit log"
        description={
          <>
            Who changed what in {tenant.name}, newest first.
            {details
              ? ` Times are in the workspace's time zone (${details.timeZone.replace(/_/g, " ")}).`
              : null}
          </>
        }
      />
      <AuditFilters
        actions={TENANT_AUDIT_ACTIONS}
        actors={actors}
        action={filters.action}
        actor={filters.actor}
        onAction={filters.setAction}
        onActor={filters.setActor}
      />
      <AuditEventList
        events={results}
        status={status}
        loadMore={() => loadMore(PAGE_SIZE)}
        timeZone={details?.timeZone}
        filtered={Boolean(filters.action || filters.actor)}
      />
    </div>
  );
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
