// /admin: the global sending switch (stopping every message needs a reason and a typed phrase),
// then every workspace on the platform, newest first or found by name or address, with its
// members, channels (quality and tier), credits, this month's spend, sending state and last
// activity, a page at a time. Each name leads to the workspace's admin page.
import type { LoaderFunctionArgs } from "@remix-run/node";
import { Link, useSearchParams } from "@remix-run/react";
import { useMutation, usePaginatedQuery, useQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useEffect, useState } from "react";
import { api } from "../../convex/_generated/api";
import { ChannelHealthBadges } from "../components/channel-quality";
import { DataRouteErrorView } from "../components/data-error-view";
import { type Column } from "../components/data-table";
import { EmptyState } from "../components/empty-state";
import { PagedDataTable } from "../components/paged-data-table";
import { PageHeader } from "../components/page-header";
import { SendingSwitchCard, STOP_ALL_PHRASE } from "../components/sending-switch";
import { LoadingState } from "../components/spinner";
import { requireUser } from "../lib/auth.server";
import { formatMoney } from "../lib/billing";
import { durationInWords, formatDateTime } from "../lib/format";

export async function loader({ request }: LoaderFunctionArgs) {
  await requireUser(request);
  return null;
}

type Tenant = FunctionReturnType<typeof api.admin.listTenants>["page"][number];

/** How many workspaces a page loads (the first and each "Load more"). */
const TENANT_PAGE_SIZE = 50;

/** A kept count, or a dash while it has not been counted yet. */
const count = (n: number | null) => n ?? "—";

/** "5 minutes ago", or a dash when nothing happened yet. */
function LastActivity({ at }: { at: number | null }) {
  const [now] = useState(() => Date.now());
  if (at === null) return <span className="text-slate-500">None yet</span>;
  return (
    <time dateTime={new Date(at).toISOString()} title={formatDateTime(at)} className="whitespace-nowrap">
      {now - at < 60_000 ? "just now" : `${durationInWords(now - at)} ago`}
    </time>
  );
}

const COLUMNS: Column<Tenant>[] = [
  {
    header: "Workspace",
    rowHeader: true,
    cell: (t) => (
      <div className="min-w-0">
        <Link
          to={`/admin/tenants/${encodeURIComponent(t.tenantId)}`}
          className="font-medium text-brand-700 underline-offset-2 hover:underline"
        >
          {t.name}
        </Link>
        <div className="text-xs whitespace-nowrap text-slate-500">
          <code>/t/{t.slug}</code>
        </div>
      </div>
    ),
  },
  { header: "Members", className: "text-right tabular-nums", cell: (t) => count(t.members) },
  {
    header: "Channels",
    cell: (t) =>
      t.channels === 0 ? (
        <span className="text-slate-500">None</span>
      ) : (
        <ul className="space-y-1">
          {t.channelList.map((c) => (
            <li key={c.channelId} className="space-y-0.5">
              <div className="text-slate-800">{c.name}</div>
              <ChannelHealthBadges channel={c} />
            </li>
          ))}
          {t.channels !== null && t.channels > t.channelList.length ? (
            <li className="text-xs text-slate-500">and {t.channels - t.channelList.length} more</li>
          ) : null}
        </ul>
      ),
  },
  {
    header: "Credits",
    className: "text-right tabular-nums whitespace-nowrap",
    cell: (t) => (
      <Link
        to={`/admin/tenants/${encodeURIComponent(t.tenantId)}#credits`}
        aria-label={`Credits of ${t.name}`}
        title={`Available: ${formatMoney(t.available, t.currency)}`}
        className={`underline-offset-2 hover:underline ${t.available < 0 ? "text-red-700" : "text-slate-900"}`}
      >
        {formatMoney(t.balance, t.currency)}
      </Link>
    ),
  },
  {
    header: "Spent this month",
    className: "text-right tabular-nums whitespace-nowrap",
    cell: (t) => (t.monthSpend === null ? "—" : formatMoney(t.monthSpend, t.currency)),
  },
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
  { header: "Last activity", cell: (t) => <LastActivity at={t.lastActivityAt} /> },
];

/** The search as typed shows at once; the query (and the address's `?q=`) follows a moment later. */
function useTenantSearch() {
  const [params, setParams] = useSearchParams();
  const search = params.get("q") ?? "";
  const [text, setText] = useState(search);
  useEffect(() => {
    const id = window.setTimeout(() => {
      if (text.trim() === search) return;
      setParams(
        (prev) => {
          const next = new URLSearchParams(prev);
          if (text.trim()) next.set("q", text.trim());
          else next.delete("q");
          return next;
        },
        { replace: true, preventScrollReset: true },
      );
    }, 250);
    return () => window.clearTimeout(id);
  }, [text, search, setParams]);
  return { text, setText, search };
}

export default function AdminTenants() {
  const { text, setText, search } = useTenantSearch();
  const { results, status, loadMore } = usePaginatedQuery(
    api.admin.listTenants,
    { search: search || undefined },
    { initialNumItems: TENANT_PAGE_SIZE },
  );
  return (
    <div className="space-y-6">
      <GlobalSending />
      <PageHeader
        title="Workspaces"
        description="Every workspace on the platform, newest first; a search lists the best matches first. Credits and spend are in each workspace's currency; spend counts this calendar month (UTC)."
      />
      <form role="search" className="flex flex-wrap gap-2" onSubmit={(e) => e.preventDefault()}>
        <label className="min-w-0 flex-1 basis-56">
          <span className="sr-only">Search workspaces</span>
          <input
            type="search"
            value={text}
            onChange={(e) => setText(e.target.value)}
            placeholder="Search by name or address"
            className="w-full rounded-lg border border-slate-300 px-3 py-2 text-sm"
          />
        </label>
      </form>
      <PagedDataTable
        caption="Workspaces"
        columns={COLUMNS}
        rows={results}
        rowKey={(t) => t.tenantId}
        status={status}
        loadMore={loadMore}
        pageSize={TENANT_PAGE_SIZE}
        loadingLabel="Loading workspaces…"
        empty={
          search ? (
            <EmptyState
              title="No workspace matches"
              description={`Nothing is called or lives at “${search}”. Try part of the name or address.`}
            />
          ) : (
            <EmptyState
              title="No workspaces yet"
              description="Workspaces appear here as people create them."
            />
          )
        }
      />
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
