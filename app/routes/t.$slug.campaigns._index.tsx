// /t/<slug>/campaigns: the workspace's campaigns, newest first, with their state and progress,
// live. Admins start new ones.
import type { MetaFunction } from "@remix-run/node";
import { Link } from "@remix-run/react";
import { usePaginatedQuery, useQuery } from "convex/react";
import { api } from "../../convex/_generated/api";
import { Button, buttonClass } from "../components/button";
import { Badge } from "../components/channel-health";
import { DataRouteErrorView } from "../components/data-error-view";
import { DataTable, type Column } from "../components/data-table";
import { EmptyState } from "../components/empty-state";
import { PageHeader } from "../components/page-header";
import { LoadingState } from "../components/spinner";
import { STATE_INFO, doneOf, formatInZone, percentDone, totalOf, type CampaignView } from "../lib/campaigns";
import { useTenant } from "../lib/tenant-context";

export const meta: MetaFunction = () => [{ title: "Campaigns — Switchboard" }];

export default function CampaignsPage() {
  const tenant = useTenant();
  const details = useQuery(api.tenants.get, { tenantId: tenant.tenantId });
  const timeZone = details?.timeZone ?? "UTC";
  const { results, status, loadMore } = usePaginatedQuery(
    api.campaigns.list,
    { tenantId: tenant.tenantId },
    { initialNumItems: 25 },
  );
  const base = `/t/${encodeURIComponent(tenant.slug)}/campaigns`;
  const newLink = tenant.canAdminWrite ? (
    <Link to={`${base}/new`} className={buttonClass("primary")}>
      New campaign
    </Link>
  ) : null;

  const columns: Column<CampaignView>[] = [
    {
      header: "Campaign",
      rowHeader: true,
      cell: (c) => (
        <>
          <Link
            to={`${base}/${c.campaignId}`}
            className="font-medium text-brand-700 underline-offset-2 hover:underline"
          >
            {c.name}
          </Link>
          <span className="mt-0.5 block font-mono text-xs font-normal text-slate-500">
            {c.template.name} · {c.template.language}
          </span>
        </>
      ),
    },
    {
      header: "State",
      cell: (c) => (
        <div>
          <Badge tone={STATE_INFO[c.state].tone}>{STATE_INFO[c.state].label}</Badge>
          {c.state === "paused" || c.state === "failed" ? (
            c.stateReason ? (
              <p className="mt-1 max-w-xs text-xs text-amber-900">{c.stateReason}</p>
            ) : null
          ) : null}
        </div>
      ),
    },
    {
      header: "Progress",
      cell: (c) => <ProgressCell campaign={c} />,
    },
    {
      header: "When",
      cell: (c) => (
        <span className="text-sm text-slate-600">
          Created {formatInZone(c.createdAt, timeZone)}
          {c.launchedAt ? (
            <span className="block">Launched {formatInZone(c.launchedAt, timeZone)}</span>
          ) : c.scheduledAt ? (
            <span className="block">Scheduled for {formatInZone(c.scheduledAt, timeZone)}</span>
          ) : null}
        </span>
      ),
    },
  ];

  return (
    <div className="space-y-6">
      <PageHeader
        title="Campaigns"
        description="Send an approved template to a tag, a segment or all your contacts, and watch it go out live."
        actions={newLink}
      />
      {status === "LoadingFirstPage" ? (
        <LoadingState label="Loading campaigns…" />
      ) : (
        <>
          <DataTable
            caption="Campaigns"
            columns={columns}
            rows={results}
            rowKey={(c) => c.campaignId}
            empty={
              <EmptyState
                headingLevel="h2"
                title="No campaigns yet"
                description={
                  tenant.canAdminWrite
                    ? "A campaign sends one approved template to many contacts at once, within WhatsApp's limits."
                    : "An admin of this workspace creates campaigns."
                }
                action={newLink}
              />
            }
          />
          {status === "CanLoadMore" || status === "LoadingMore" ? (
            <Button onClick={() => loadMore(25)} busy={status === "LoadingMore"} busyLabel="Loading…">
              Load more
            </Button>
          ) : null}
        </>
      )}
    </div>
  );
}

function ProgressCell({ campaign }: { campaign: CampaignView }) {
  const total = totalOf(campaign.counts);
  const done = doneOf(campaign.counts);
  const percent = percentDone(campaign.counts);
  if (campaign.state === "draft" || campaign.state === "scheduled")
    return <span className="text-sm text-slate-500">Not started</span>;
  return (
    <div className="min-w-32">
      <div
        role="progressbar"
        aria-label={`${campaign.name} progress`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
        className="h-2 w-full overflow-hidden rounded-full bg-slate-200"
      >
        <div className="h-full rounded-full bg-brand-600 transition-all" style={{ width: `${percent}%` }} />
      </div>
      <p className="mt-1 text-xs text-slate-600">
        {done.toLocaleString("en-US")} of {total.toLocaleString("en-US")}
        {campaign.audienceFrozen ? "" : " so far"}
      </p>
    </div>
  );
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
