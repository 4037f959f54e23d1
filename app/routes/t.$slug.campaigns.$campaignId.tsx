// /t/<slug>/campaigns/<id>: one campaign's live progress — counters by recipient state, a
// progress bar, its state and why (a pause's reason up front), pause / resume / cancel, a
// throughput chart drawn from the counters while the page is open, the recipients in each state,
// and the results as CSV.
import type { MetaFunction } from "@remix-run/node";
import { Link, useLocation, useParams } from "@remix-run/react";
import { useMutation, usePaginatedQuery, useQuery } from "convex/react";
import { useEffect, useRef, useState } from "react";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { Button, buttonClass } from "../components/button";
import { Badge } from "../components/channel-health";
import { ConfirmDialog } from "../components/confirm-dialog";
import { DataRouteErrorView } from "../components/data-error-view";
import { DataTable, type Column } from "../components/data-table";
import { EmptyState } from "../components/empty-state";
import { FormError } from "../components/form-field";
import { PageHeader } from "../components/page-header";
import { LoadingState } from "../components/spinner";
import {
  RECIPIENT_STATES,
  STATE_INFO,
  doneOf,
  formatInZone,
  percentDone,
  totalOf,
  type CampaignView,
  type Counts,
  type RecipientState,
} from "../lib/campaigns";
import { toAppError } from "../lib/convex-errors";
import { useTenant } from "../lib/tenant-context";

export const meta: MetaFunction = () => [{ title: "Campaign — Switchboard" }];

export default function CampaignPage() {
  const tenant = useTenant();
  const { campaignId } = useParams();
  const campaign = useQuery(api.campaigns.get, {
    tenantId: tenant.tenantId,
    campaignId: campaignId as Id<"campaigns">,
  });
  if (campaign === undefined) return <LoadingState label="Loading campaign…" />;
  return <CampaignDetail campaign={campaign} />;
}

type Action = "launch" | "pause" | "resume" | "cancel";

function CampaignDetail({ campaign }: { campaign: CampaignView }) {
  const tenant = useTenant();
  const location = useLocation();
  const details = useQuery(api.tenants.get, { tenantId: tenant.tenantId });
  const timeZone = details?.timeZone ?? "UTC";
  const base = `/t/${encodeURIComponent(tenant.slug)}/campaigns`;
  const launchError = (location.state as { launchError?: string } | null)?.launchError ?? null;
  const [error, setError] = useState<string | null>(launchError);
  const [busy, setBusy] = useState<Action | null>(null);
  const [confirm, setConfirm] = useState<"launch" | "cancel" | null>(null);
  const mutations = {
    launch: useMutation(api.campaigns.launch),
    pause: useMutation(api.campaigns.pause),
    resume: useMutation(api.campaigns.resume),
    cancel: useMutation(api.campaigns.cancel),
  };
  const run = async (action: Action) => {
    await mutations[action]({ tenantId: tenant.tenantId, campaignId: campaign.campaignId });
    setError(null);
  };
  const runNow = async (action: "pause" | "resume") => {
    setBusy(action);
    try {
      await run(action);
    } catch (e) {
      setError(toAppError(e).message);
    } finally {
      setBusy(null);
    }
  };

  const { state, counts } = campaign;
  const info = STATE_INFO[state];
  const total = totalOf(counts);
  const percent = percentDone(counts);
  const canWrite = tenant.canAdminWrite;
  const active = state === "running" || state === "preparing";

  return (
    <div className="space-y-6">
      <PageHeader
        eyebrow={
          <Link to={base} className="underline-offset-2 hover:underline">
            Campaigns
          </Link>
        }
        title={campaign.name}
        description={
          <>
            <span className="font-mono">{campaign.template.name}</span> ({campaign.template.language},{" "}
            {campaign.template.category}) · created {formatInZone(campaign.createdAt, timeZone)}
            {campaign.launchedAt ? ` · launched ${formatInZone(campaign.launchedAt, timeZone)}` : ""}
            {campaign.scheduledAt && !campaign.launchedAt
              ? ` · scheduled for ${formatInZone(campaign.scheduledAt, timeZone)} (${timeZone})`
              : ""}
            {campaign.finishedAt ? ` · ended ${formatInZone(campaign.finishedAt, timeZone)}` : ""}
          </>
        }
        actions={
          canWrite ? (
            <>
              {state === "draft" ? (
                <Button variant="primary" onClick={() => setConfirm("launch")}>
                  {campaign.scheduledAt ? "Schedule…" : "Launch…"}
                </Button>
              ) : null}
              {active ? (
                <Button onClick={() => runNow("pause")} busy={busy === "pause"} busyLabel="Pausing…">
                  Pause
                </Button>
              ) : null}
              {state === "paused" ? (
                <Button
                  variant="primary"
                  onClick={() => runNow("resume")}
                  busy={busy === "resume"}
                  busyLabel="Resuming…"
                >
                  Resume
                </Button>
              ) : null}
              {["draft", "scheduled", "preparing", "running", "paused"].includes(state) ? (
                <Button variant="danger" onClick={() => setConfirm("cancel")}>
                  Cancel campaign…
                </Button>
              ) : null}
            </>
          ) : null
        }
      />
      <FormError message={error} />

      <div className="flex flex-wrap items-center gap-3">
        <span className="text-sm text-slate-600">State</span>
        <span data-testid="campaign-state">
          <Badge tone={info.tone}>{info.label}</Badge>
        </span>
        {state !== "paused" && campaign.stateReason ? (
          <span className="text-sm text-slate-700">{campaign.stateReason}</span>
        ) : null}
      </div>
      {state === "paused" ? (
        <div
          role="status"
          className="rounded-2xl border border-amber-300 bg-amber-50 px-4 py-3 text-amber-950"
        >
          <p className="font-semibold">Paused: nothing more is sent until it is resumed.</p>
          {campaign.stateReason ? <p className="mt-1 text-sm">{campaign.stateReason}</p> : null}
        </div>
      ) : null}

      <section aria-labelledby="progress-heading" className="space-y-3">
        <h2 id="progress-heading" className="text-lg font-semibold text-slate-900">
          Progress
        </h2>
        <div
          role="progressbar"
          aria-label="Campaign progress"
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={percent}
          className="h-3 w-full overflow-hidden rounded-full bg-slate-200"
        >
          <div className="h-full rounded-full bg-brand-600 transition-all" style={{ width: `${percent}%` }} />
        </div>
        <p className="text-sm text-slate-700" data-testid="progress-text">
          {doneOf(counts).toLocaleString("en-US")} of {total.toLocaleString("en-US")} recipients done (
          {percent}%){campaign.audienceFrozen || state === "draft" ? "" : " — still adding recipients"}
        </p>
        <dl className="grid grid-cols-2 gap-3 sm:grid-cols-4">
          {RECIPIENT_STATES.filter((s) => s.state !== "unknown" || counts.unknown > 0).map((s) => (
            <div key={s.state} className="rounded-xl border border-slate-200 bg-white p-3 shadow-sm">
              <dt className="text-xs font-medium text-slate-600" title={s.hint}>
                {s.label}
              </dt>
              <dd className="mt-1 text-2xl font-semibold text-slate-900" data-testid={`count-${s.state}`}>
                {counts[s.state].toLocaleString("en-US")}
              </dd>
            </div>
          ))}
        </dl>
      </section>

      {state !== "draft" && state !== "scheduled" ? (
        <ThroughputChart counts={counts} active={active} />
      ) : null}

      <Recipients campaign={campaign} />

      {state !== "draft" && state !== "scheduled" ? (
        <p>
          <a
            href={`/t/${encodeURIComponent(tenant.slug)}/campaigns/${campaign.campaignId}/results.csv`}
            className={buttonClass("secondary")}
            download
          >
            Download results (CSV)
          </a>
        </p>
      ) : null}

      <ConfirmDialog
        open={confirm === "cancel"}
        title="Cancel this campaign?"
        description={
          <p>
            Nothing more is sent to the {counts.pending.toLocaleString("en-US")} recipients still waiting.
            Messages already sent stay sent. A cancelled campaign cannot be resumed.
          </p>
        }
        confirmLabel="Cancel campaign"
        busyLabel="Cancelling…"
        onConfirm={() => run("cancel")}
        onClose={() => setConfirm(null)}
      />
      <ConfirmDialog
        open={confirm === "launch"}
        destructive={false}
        title={campaign.scheduledAt ? "Schedule this campaign?" : "Launch this campaign?"}
        description={
          <p>
            It sends <span className="font-mono">{campaign.template.name}</span> to its audience
            {campaign.scheduledAt
              ? ` at ${formatInZone(campaign.scheduledAt, timeZone)} (${timeZone})`
              : ", starting now"}
            . Opted-out contacts are skipped.
          </p>
        }
        confirmLabel={campaign.scheduledAt ? "Schedule" : "Launch"}
        busyLabel="Launching…"
        onConfirm={() => run("launch")}
        onClose={() => setConfirm(null)}
      />
    </div>
  );
}

const SAMPLE_MS = 5000;
const MAX_SAMPLES = 36;

/** Messages claimed per ~5 s while this page is open, from the changes in the counters. */
function ThroughputChart({ counts, active }: { counts: Counts; active: boolean }) {
  const claimed = totalOf(counts) - counts.pending;
  const latest = useRef(claimed);
  latest.current = claimed;
  const [samples, setSamples] = useState<number[]>([]);
  const last = useRef<number | null>(null);
  useEffect(() => {
    if (!active) return;
    last.current = latest.current;
    const timer = setInterval(() => {
      const now = latest.current;
      const delta = Math.max(0, now - (last.current ?? now));
      last.current = now;
      setSamples((s) => [...s, delta].slice(-MAX_SAMPLES));
    }, SAMPLE_MS);
    return () => clearInterval(timer);
  }, [active]);
  const max = Math.max(1, ...samples);
  const perSecond = samples.length ? (samples[samples.length - 1] ?? 0) / (SAMPLE_MS / 1000) : 0;
  return (
    <section aria-labelledby="throughput-heading" className="space-y-2">
      <h2 id="throughput-heading" className="text-lg font-semibold text-slate-900">
        Throughput
      </h2>
      {samples.length === 0 ? (
        <p className="text-sm text-slate-600">
          {active ? "Measuring… (a bar every 5 seconds)" : "Shown while the campaign is sending."}
        </p>
      ) : (
        <figure>
          <svg
            viewBox={`0 0 ${MAX_SAMPLES * 10} 60`}
            className="h-20 w-full max-w-xl rounded-lg border border-slate-200 bg-white"
            role="img"
            aria-label={`Messages claimed per 5 seconds; latest ${perSecond.toFixed(1)} per second`}
            preserveAspectRatio="none"
          >
            {samples.map((n, i) => {
              const h = (n / max) * 56;
              return (
                <rect key={i} x={i * 10 + 1} y={58 - h} width={8} height={h} className="fill-brand-600" />
              );
            })}
          </svg>
          <figcaption className="mt-1 text-xs text-slate-600">
            Messages claimed per 5 seconds since you opened this page (from the live counters, in your
            browser); latest {perSecond.toFixed(1)}/s, peak {(max / (SAMPLE_MS / 1000)).toFixed(1)}/s.
          </figcaption>
        </figure>
      )}
    </section>
  );
}

type RecipientRow = {
  recipientId: string;
  contactId: string;
  contactName: string | null;
  contactPhone: string | null;
  state: RecipientState;
  reason: string | null;
  updatedAt: number;
};

function Recipients({ campaign }: { campaign: CampaignView }) {
  const tenant = useTenant();
  const firstWithAny = RECIPIENT_STATES.find((s) => campaign.counts[s.state] > 0)?.state ?? "pending";
  const [chosen, setChosen] = useState<RecipientState | null>(null);
  const state = chosen ?? firstWithAny;
  const { results, status, loadMore } = usePaginatedQuery(
    api.campaigns.recipients,
    { tenantId: tenant.tenantId, campaignId: campaign.campaignId, state },
    { initialNumItems: 25 },
  );
  const contacts = `/t/${encodeURIComponent(tenant.slug)}/contacts`;
  const columns: Column<RecipientRow>[] = [
    {
      header: "Contact",
      rowHeader: true,
      cell: (r) => (
        <Link to={`${contacts}/${r.contactId}`} className="text-brand-700 underline-offset-2 hover:underline">
          {r.contactName ?? r.contactPhone ?? "Contact"}
        </Link>
      ),
    },
    { header: "Phone", cell: (r) => <span className="font-mono text-sm">{r.contactPhone ?? "—"}</span> },
    { header: "Reason", cell: (r) => <span className="text-sm text-slate-700">{r.reason ?? "—"}</span> },
    {
      header: "Updated",
      cell: (r) => (
        <span className="text-sm text-slate-600">{new Date(r.updatedAt).toLocaleTimeString()}</span>
      ),
    },
  ];
  if (campaign.state === "draft" || campaign.state === "scheduled") return null;
  return (
    <section aria-labelledby="recipients-heading" className="space-y-3">
      <h2 id="recipients-heading" className="text-lg font-semibold text-slate-900">
        Recipients
      </h2>
      <div role="group" aria-label="Show recipients who are" className="flex flex-wrap gap-2">
        {RECIPIENT_STATES.map((s) => (
          <button
            key={s.state}
            type="button"
            aria-pressed={state === s.state}
            onClick={() => setChosen(s.state)}
            className={`rounded-full border px-3 py-1 text-sm ${
              state === s.state
                ? "border-brand-600 bg-brand-50 text-brand-800"
                : "border-slate-300 bg-white text-slate-700 hover:bg-slate-50"
            }`}
          >
            {s.label} ({campaign.counts[s.state].toLocaleString("en-US")})
          </button>
        ))}
      </div>
      {status === "LoadingFirstPage" ? (
        <LoadingState label="Loading recipients…" />
      ) : (
        <>
          <DataTable
            caption={`Recipients: ${state}`}
            columns={columns}
            rows={results}
            rowKey={(r) => r.recipientId}
            empty={<EmptyState title="Nobody in this state" description="Choose another state above." />}
          />
          {status === "CanLoadMore" || status === "LoadingMore" ? (
            <Button onClick={() => loadMore(50)} busy={status === "LoadingMore"} busyLabel="Loading…">
              Load more
            </Button>
          ) : null}
        </>
      )}
    </section>
  );
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
