// /t/<slug>/audit: the workspace's audit log (admins), live, in the workspace's time zone.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { usePaginatedQuery, useQuery } from "convex/react";
import { useMemo } from "react";
import { api } from "../../convex/_generated/api";
import { AUDIT_PAGE_SIZE, AuditLog, auditQueryFilters, useAuditFilters } from "../components/audit-log";
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
  const page = usePaginatedQuery(
    api.audit.listForTenant,
    { tenantId: tenant.tenantId, ...auditQueryFilters(filters) },
    { initialNumItems: AUDIT_PAGE_SIZE },
  );
  const memberOptions = useMemo(
    () => (members ?? []).map((m) => ({ value: m.userId, label: m.email || m.name })),
    [members],
  );

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
      <AuditLog
        filters={filters}
        actions={TENANT_AUDIT_ACTIONS}
        knownActors={memberOptions}
        page={page}
        exportPath={`/t/${encodeURIComponent(tenant.slug)}/audit/export`}
        timeZone={details?.timeZone}
      />
    </div>
  );
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
