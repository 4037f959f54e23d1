// /admin/audit: every audit event on the platform (workspaces and platform actions), live.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { usePaginatedQuery } from "convex/react";
import { api } from "../../convex/_generated/api";
import { AUDIT_PAGE_SIZE, AuditLog, auditQueryFilters, useAuditFilters } from "../components/audit-log";
import { DataRouteErrorView } from "../components/data-error-view";
import { PageHeader } from "../components/page-header";
import { PLATFORM_AUDIT_ACTIONS } from "../lib/audit-actions";
import { requireUser } from "../lib/auth.server";

export const meta: MetaFunction = () => [{ title: "Audit log — Platform admin — Switchboard" }];

export async function loader({ request }: LoaderFunctionArgs) {
  await requireUser(request);
  return null;
}

export default function AdminAudit() {
  const filters = useAuditFilters();
  const page = usePaginatedQuery(api.audit.listAll, auditQueryFilters(filters), {
    initialNumItems: AUDIT_PAGE_SIZE,
  });

  return (
    <div className="space-y-6">
      <PageHeader
        title="Audit log"
        description="Every sensitive action on the platform, newest first. Times are in your time zone. The actor filter offers everyone who appears in the events loaded so far."
      />
      <AuditLog
        filters={filters}
        actions={PLATFORM_AUDIT_ACTIONS}
        page={page}
        exportPath={"/admin/audit/export"}
        tenantName={(e) => (e.tenantId ? (e.tenantName ?? "Deleted workspace") : "Platform")}
      />
    </div>
  );
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
