// /admin/audit: every audit event on the platform (workspaces and platform actions), live.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { usePaginatedQuery, useQuery } from "convex/react";
import { useMemo } from "react";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { AuditEventList, AuditFilters, useActorOptions, useAuditFilters } from "../components/audit-log";
import { DataRouteErrorView } from "../components/data-error-view";
import { PageHeader } from "../components/page-header";
import { PLATFORM_AUDIT_ACTIONS } from "../lib/audit-actions";
import { requireUser } from "../lib/auth.server";

export const meta: MetaFunction = () => [{ title: "Audit log — Platform admin — Switchboard" }];

export async function loader({ request }: LoaderFunctionArgs) {
  await requireUser(request);
  return null;
}

const PAGE_SIZE = 25;
const NO_ACTORS: never[] = [];

export default function AdminAudit() {
  const filters = useAuditFilters();
  const tenants = useQuery(api.admin.listTenants, {});
  const { results, status, loadMore } = usePaginatedQuery(
    api.audit.listAll,
    { action: filters.action, actorId: filters.actor as Id<"users"> | undefined },
    { initialNumItems: PAGE_SIZE },
  );
  const actors = useActorOptions(NO_ACTORS, results);
  const tenantNames = useMemo(
    () => new Map((tenants ?? []).map((t) => [t.tenantId as string, t.name])),
    [tenants],
  );

  return (
    <div className="space-y-6">
      <PageHeader
        title="Audit log"
        description="Every sensitive action on the platform, newest first. Times are in your time zone. The actor filter offers everyone who appears in the events loaded so far."
      />
      <AuditFilters
        actions={PLATFORM_AUDIT_ACTIONS}
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
        filtered={Boolean(filters.action || filters.actor)}
        tenantName={(e) => (e.tenantId ? (tenantNames.get(e.tenantId) ?? "Workspace") : "Platform")}
      />
    </div>
  );
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
