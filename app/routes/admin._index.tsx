// /admin: every workspace on the platform, newest first, with its member count.
import type { LoaderFunctionArgs } from "@remix-run/node";
import { Link } from "@remix-run/react";
import { useQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { api } from "../../convex/_generated/api";
import { DataRouteErrorView } from "../components/data-error-view";
import { DataTable, type Column } from "../components/data-table";
import { EmptyState } from "../components/empty-state";
import { PageHeader } from "../components/page-header";
import { LoadingState } from "../components/spinner";
import { requireUser } from "../lib/auth.server";
import { formatDateTime } from "../lib/format";

export async function loader({ request }: LoaderFunctionArgs) {
  await requireUser(request);
  return null;
}

type Tenant = FunctionReturnType<typeof api.admin.listTenants>[number];

const COLUMNS: Column<Tenant>[] = [
  {
    header: "Workspace",
    rowHeader: true,
    cell: (t) => (
      <Link
        to={`/t/${encodeURIComponent(t.slug)}`}
        className="text-brand-700 underline-offset-2 hover:underline"
      >
        {t.name}
      </Link>
    ),
  },
  {
    header: "Address",
    className: "hidden sm:table-cell",
    cell: (t) => <code className="text-xs">/t/{t.slug}</code>,
  },
  { header: "Members", className: "text-right tabular-nums", cell: (t) => t.members },
  { header: "Created", className: "whitespace-nowrap", cell: (t) => formatDateTime(t.createdAt) },
];

export default function AdminTenants() {
  const tenants = useQuery(api.admin.listTenants, {});
  return (
    <div>
      <PageHeader
        title="Workspaces"
        description="Every workspace on the platform, newest first (the latest 500)."
      />
      {tenants === undefined ? (
        <LoadingState label="Loading workspaces…" />
      ) : (
        <DataTable
          caption="Workspaces"
          columns={COLUMNS}
          rows={tenants}
          rowKey={(t) => t.tenantId}
          empty={
            <EmptyState
              title="No workspaces yet"
              description="Workspaces appear here as people create them."
            />
          }
        />
      )}
    </div>
  );
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
