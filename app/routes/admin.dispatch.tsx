// /admin/dispatch: every channel's campaign dispatcher, live: the rate it sends at now against
// the most it may reach (it adapts to throttling), when it ticks next, when Meta last throttled
// it, how many messages it has sent and which campaigns it is running.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link } from "@remix-run/react";
import { usePaginatedQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useEffect, useState } from "react";
import { api } from "../../convex/_generated/api";
import { DataRouteErrorView } from "../components/data-error-view";
import { type Column } from "../components/data-table";
import { EmptyState } from "../components/empty-state";
import { PagedDataTable } from "../components/paged-data-table";
import { PageHeader } from "../components/page-header";
import { requireUser } from "../lib/auth.server";
import { durationInWords, formatDateTime } from "../lib/format";

export const meta: MetaFunction = () => [{ title: "Dispatchers — Platform admin — Switchboard" }];

export async function loader({ request }: LoaderFunctionArgs) {
  await requireUser(request);
  return null;
}

type Dispatcher = FunctionReturnType<typeof api.admin.dispatchers>["page"][number];

const PAGE_SIZE = 50;

/** The clock the relative times are read against, moving every few seconds. */
function useNow(everyMs = 5_000) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = window.setInterval(() => setNow(Date.now()), everyMs);
    return () => window.clearInterval(id);
  }, [everyMs]);
  return now;
}

function relative(at: number, now: number): string {
  const d = at - now;
  if (Math.abs(d) < 1_000) return "now";
  if (Math.abs(d) < 60_000) return d > 0 ? `in ${Math.round(d / 1000)} s` : `${Math.round(-d / 1000)} s ago`;
  return d > 0 ? `in ${durationInWords(d)}` : `${durationInWords(-d)} ago`;
}

function columns(now: number): Column<Dispatcher>[] {
  return [
    {
      header: "Channel",
      rowHeader: true,
      cell: (d) => (
        <div>
          <div className="font-medium text-slate-900">{d.channelName ?? "Deleted channel"}</div>
          {d.tenantId ? (
            <Link
              to={`/admin/tenants/${encodeURIComponent(d.tenantId)}`}
              className="text-xs text-brand-700 underline-offset-2 hover:underline"
            >
              {d.tenantName ?? "Deleted workspace"}
            </Link>
          ) : null}
        </div>
      ),
    },
    {
      header: "Rate",
      className: "whitespace-nowrap tabular-nums",
      cell: (d) => (
        <div className="min-w-32 space-y-1">
          <div>
            {d.rate.toLocaleString("en-US", { maximumFractionDigits: 1 })} / s{" "}
            <span className="text-slate-500">of {d.maxRate.toLocaleString("en-US")}</span>
          </div>
          {d.ceiling !== null ? (
            <div
              className="text-xs text-slate-500"
              title={`WhatsApp took this many sends in the second before it first refused one${d.ceilingAt !== null ? ` (learned or last raised ${formatDateTime(d.ceilingAt)})` : ""}; the dispatcher sends no more than that in any second and tries one more every two minutes.`}
            >
              WhatsApp allows {d.ceiling.toLocaleString("en-US")} / s
            </div>
          ) : null}
          <div
            role="progressbar"
            aria-label={`Rate of ${d.channelName ?? "the channel"}`}
            aria-valuemin={0}
            aria-valuemax={d.maxRate}
            aria-valuenow={d.rate}
            className="h-1.5 w-full overflow-hidden rounded-full bg-slate-100"
          >
            <div
              className="h-full rounded-full bg-brand-600"
              style={{ width: `${Math.min(100, (d.rate / Math.max(d.maxRate, 1)) * 100)}%` }}
            />
          </div>
        </div>
      ),
    },
    {
      header: "Next tick",
      className: "whitespace-nowrap",
      cell: (d) =>
        d.nextTickAt === null ? (
          <span className="text-slate-500">Idle</span>
        ) : (
          <span title={formatDateTime(d.nextTickAt)}>{relative(d.nextTickAt, now)}</span>
        ),
    },
    {
      header: "Last tick",
      className: "whitespace-nowrap",
      cell: (d) => <span title={formatDateTime(d.lastTickAt)}>{relative(d.lastTickAt, now)}</span>,
    },
    {
      header: "Throttled",
      className: "whitespace-nowrap",
      cell: (d) =>
        d.throttledAt === null ? (
          <span className="text-slate-500">Never</span>
        ) : (
          <span className="text-amber-800" title={formatDateTime(d.throttledAt)}>
            {relative(d.throttledAt, now)}
          </span>
        ),
    },
    {
      header: "Sent",
      className: "text-right tabular-nums",
      cell: (d) => d.sentTotal.toLocaleString("en-US"),
    },
    {
      header: "Running campaigns",
      cell: (d) =>
        d.running.length === 0 ? (
          <span className="text-slate-500">None</span>
        ) : (
          <ul className="space-y-0.5">
            {d.running.map((c) => (
              <li key={c.campaignId}>{c.name}</li>
            ))}
          </ul>
        ),
    },
  ];
}

export default function AdminDispatch() {
  const now = useNow();
  const { results, status, loadMore } = usePaginatedQuery(
    api.admin.dispatchers,
    {},
    { initialNumItems: PAGE_SIZE },
  );
  return (
    <div className="space-y-6">
      <PageHeader
        title="Dispatchers"
        description="Each channel's campaign dispatcher: the rate it sends at now (never more in any second than what WhatsApp's throttling errors showed the number allows), when it ticks next, and the campaigns it is running. Live."
      />
      <PagedDataTable
        caption="Dispatchers"
        columns={columns(now)}
        rows={results}
        rowKey={(d) => d.dispatchId}
        status={status}
        loadMore={loadMore}
        pageSize={PAGE_SIZE}
        loadingLabel="Loading dispatchers…"
        empty={
          <EmptyState
            title="No campaign has been sent yet"
            description="A channel's dispatcher appears here when its first campaign starts sending."
          />
        }
      />
    </div>
  );
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
