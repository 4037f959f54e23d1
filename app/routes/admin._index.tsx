// /admin: the global sending switch (stopping every message needs a reason and a typed phrase),
// then every workspace on the platform, newest first, with its member and channel counts and
// whether its sending is paused, a page at a time.
import type { LoaderFunctionArgs } from "@remix-run/node";
import { Link } from "@remix-run/react";
import { useMutation, usePaginatedQuery, useQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { api } from "../../convex/_generated/api";
import { Button } from "../components/button";
import { DataRouteErrorView } from "../components/data-error-view";
import { DataTable, type Column } from "../components/data-table";
import { EmptyState } from "../components/empty-state";
import { PageHeader } from "../components/page-header";
import { SendingSwitchCard, STOP_ALL_PHRASE } from "../components/sending-switch";
import { LoadingState } from "../components/spinner";
import { requireUser } from "../lib/auth.server";
import { formatDateTime } from "../lib/format";

export async function loader({ request }: LoaderFunctionArgs) {
  await requireUser(request);
  return null;
}

type Tenant = FunctionReturnType<typeof api.admin.listTenants>["page"][number];

/** How many workspaces a page loads (the first and each "Load more"). */
const TENANT_PAGE_SIZE = 50;

/** A kept count, or a dash while it has not been counted yet. */
const count = (n: number | null) => n ?? "—";

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
  { header: "Members", className: "text-right tabular-nums", cell: (t) => count(t.members) },
  { header: "Channels", className: "text-right tabular-nums", cell: (t) => count(t.channels) },
  {
    header: "Sending",
    cell: (t) =>
      t.sendingPaused ? (
        <span
          className="font-medium text-red-700"
          title={`Paused by ${t.sendingPaused.by} since ${formatDateTime(t.sendingPaused.since)}: ${t.sendingPaused.reason}`}
        >
          Paused
        </span>
      ) : (
        <span className="text-slate-600">On</span>
      ),
  },
  { header: "Created", className: "whitespace-nowrap", cell: (t) => formatDateTime(t.createdAt) },
  {
    header: <span className="sr-only">Credits</span>,
    label: "Credits",
    className: "text-right",
    cell: (t) => (
      <Link
        to={`/admin/tenants/${encodeURIComponent(t.tenantId)}`}
        className="font-medium whitespace-nowrap text-brand-700 underline-offset-2 hover:underline"
        aria-label={`Credits of ${t.name}`}
      >
        Credits
      </Link>
    ),
  },
];

export default function AdminTenants() {
  const { results, status, loadMore } = usePaginatedQuery(
    api.admin.listTenants,
    {},
    { initialNumItems: TENANT_PAGE_SIZE },
  );
  return (
    <div className="space-y-6">
      <GlobalSending />
      <PageHeader title="Workspaces" description="Every workspace on the platform, newest first." />
      {status === "LoadingFirstPage" ? (
        <LoadingState label="Loading workspaces…" />
      ) : (
        <>
          <DataTable
            caption="Workspaces"
            columns={COLUMNS}
            rows={results}
            rowKey={(t) => t.tenantId}
            empty={
              <EmptyState
                title="No workspaces yet"
                description="Workspaces appear here as people create them."
              />
            }
          />
          {status === "Exhausted" ? null : (
            <div className="flex items-center justify-center">
              <Button
                onClick={() => loadMore(TENANT_PAGE_SIZE)}
                busy={status === "LoadingMore"}
                busyLabel="Loading…"
              >
                Load more
              </Button>
            </div>
          )}
        </>
      )}
    </div>
  );
}

/** The global kill switch: stops every message on the platform. */
function GlobalSending() {
  const status = useQuery(api.sending.globalStatus, {});
  const setPaused = useMutation(api.sending.setGlobalPaused);
  if (status === undefined) return <LoadingState label="Loading the sending switch…" />;
  return (
    <SendingSwitchCard
      id="global-sending"
      title="Sending on the whole platform"
      scope="global"
      description="The emergency stop: no WhatsApp message leaves any workspace while it is paused. Every workspace shows a banner; queued messages wait and go out when sending resumes."
      pause={status.global}
      canChange
      phrase={STOP_ALL_PHRASE}
      onSet={(paused, reason) => setPaused({ paused, reason })}
    />
  );
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
