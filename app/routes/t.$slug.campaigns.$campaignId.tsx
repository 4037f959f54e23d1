// /t/<slug>/campaigns/<id>: one campaign's live progress — counters by recipient state and
// replies, a progress bar, its state and why (a pause's reason up front), cost so far and an
// estimate of the rest, pause / resume / cancel, duplicate, retry failed (after a confirmation
// that says how many), a throughput chart drawn from the counters while the page is open with the
// number's current sending limit, the recipients by state (or all, or those who replied), and the
// results as CSV.
import type { MetaFunction } from "@remix-run/node";
import { Link, useLocation, useNavigate, useParams } from "@remix-run/react";
import { useMutation, usePaginatedQuery, useQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { Component, useEffect, useRef, useState, type ReactNode } from "react";
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
import { formatMoney } from "../lib/billing";
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
/** States in which failed recipients can be sent again. */
const RETRY_STATES = ["running", "paused", "completed"];

function CampaignDetail({ campaign }: { campaign: CampaignView }) {
  const tenant = useTenant();
  const location = useLocation();
  const details = useQuery(api.tenants.get, { tenantId: tenant.tenantId });
  const timeZone = details?.timeZone ?? "UTC";
  const base = `/t/${encodeURIComponent(tenant.slug)}/campaigns`;
  const launchError = (location.state as { launchError?: string } | null)?.launchError ?? null;
  const [error, setError] = useState<string | null>(launchError);
  const [busy, setBusy] = useState<Action | null>(null);
  const [confirm, setConfirm] = useState<"launch" | "cancel" | "retry" | null>(null);
  const navigate = useNavigate();
  const [duplicating, setDuplicating] = useState(false);
  const duplicateMutation = useMutation(api.campaigns.duplicate);
  const retryMutation = useMutation(api.campaigns.retryFailed);
  const retryable = useQuery(
    api.campaigns.retryable,
    confirm === "retry" ? { tenantId: tenant.tenantId, campaignId: campaign.campaignId } : "skip",
  );
  const [notice, setNotice] = useState<string | null>(null);
  const duplicate = async () => {
    setDuplicating(true);
    try {
      const copyId = await duplicateMutation({ tenantId: tenant.tenantId, campaignId: campaign.campaignId });
      navigate(`${base}/${copyId}`);
    } catch (e) {
      setError(toAppError(e).message);
    } finally {
      setDuplicating(false);
    }
  };
  const retry = async () => {
    const result = await retryMutation({ tenantId: tenant.tenantId, campaignId: campaign.campaignId });
    setError(null);
    setNotice(
      `${result.retried.toLocaleString("en-US")}${result.more ? " and more" : ""} failed recipient${
        result.retried === 1 && !result.more ? "" : "s"
      } will be sent again${campaign.state === "paused" ? " when you resume the campaign" : ""}.`,
    );
  };
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
              {RETRY_STATES.includes(state) && counts.failed > 0 ? (
                <Button onClick={() => setConfirm("retry")}>Retry failed…</Button>
              ) : null}
              <Button onClick={duplicate} busy={duplicating} busyLabel="Duplicating…">
                Duplicate
              </Button>
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
      {notice ? (
        <p role="status" className="rounded-xl bg-emerald-50 px-4 py-2 text-sm text-emerald-900">
          {notice}
        </p>
      ) : null}

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
          <div className="rounded-xl border border-slate-200 bg-white p-3 shadow-sm">
            <dt
              className="text-xs font-medium text-slate-600"
              title="Wrote back after their message was sent (within 7 days)"
            >
              Replied
            </dt>
            <dd className="mt-1 text-2xl font-semibold text-slate-900" data-testid="count-replied">
              {campaign.replied.toLocaleString("en-US")}
            </dd>
          </div>
        </dl>
      </section>

      {state !== "draft" && state !== "scheduled" ? (
        <SectionBoundary what="The cost and the sending limit">
          <Outlook campaign={campaign} active={active} />
        </SectionBoundary>
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
      <ConfirmDialog
        open={confirm === "retry"}
        destructive={false}
        title="Send again to failed recipients?"
        confirmDisabled={!retryable || retryable.retryable === 0}
        description={
          retryable === undefined ? (
            <p>Counting the failed recipients…</p>
          ) : (
            <div className="space-y-2" data-testid="retry-summary">
              <p>
                <strong>
                  {retryable.retryable.toLocaleString("en-US")}
                  {retryable.capped ? "+" : ""}
                </strong>{" "}
                of the {counts.failed.toLocaleString("en-US")} failed recipient
                {counts.failed === 1 ? "" : "s"} will get a new message, each once, at the number's usual pace
                {state === "paused" ? " once you resume the campaign" : ""}.
              </p>
              {retryable.final > 0 ? (
                <p>
                  {retryable.final.toLocaleString("en-US")} cannot be sent again: they opted out, stopped
                  marketing messages, or their number is not on WhatsApp.
                </p>
              ) : null}
            </div>
          )
        }
        confirmLabel={
          retryable && retryable.retryable > 0
            ? `Send again to ${retryable.retryable.toLocaleString("en-US")}${retryable.capped ? "+" : ""}`
            : "Send again"
        }
        busyLabel="Sending again…"
        onConfirm={retry}
        onClose={() => setConfirm(null)}
      />
    </div>
  );
}

/**
 * Keeps a failing section (a query the server could not answer in time) from taking the whole
 * page down: it says so and offers to try again.
 */
class SectionBoundary extends Component<{ what: string; children: ReactNode }, { failed: boolean }> {
  state = { failed: false };
  static getDerivedStateFromError() {
    return { failed: true };
  }
  render() {
    if (!this.state.failed) return this.props.children;
    return (
      <div
        role="alert"
        className="rounded-xl border border-slate-200 bg-white px-4 py-3 text-sm text-slate-700"
      >
        {this.props.what} could not be loaded just now.{" "}
        <button
          type="button"
          className="text-brand-700 underline"
          onClick={() => this.setState({ failed: false })}
        >
          Try again
        </button>
      </div>
    );
  }
}

/** Cost so far and estimated remaining, and the throughput chart with the number's limit. */
function Outlook({ campaign, active }: { campaign: CampaignView; active: boolean }) {
  const tenant = useTenant();
  const outlook = useQuery(api.campaigns.outlook, {
    tenantId: tenant.tenantId,
    campaignId: campaign.campaignId,
  });
  const pending = campaign.counts.pending;
  const remaining =
    outlook && outlook.pricePerRecipient !== null ? outlook.pricePerRecipient * pending : null;
  return (
    <>
      <section aria-labelledby="cost-heading" className="space-y-2">
        <h2 id="cost-heading" className="text-lg font-semibold text-slate-900">
          Cost
        </h2>
        {outlook === undefined ? (
          <LoadingState label="Loading cost…" />
        ) : (
          <dl className="grid grid-cols-1 gap-3 sm:grid-cols-2">
            <div className="rounded-xl border border-slate-200 bg-white p-3 shadow-sm">
              <dt className="text-xs font-medium text-slate-600">Cost so far</dt>
              <dd className="mt-1 text-2xl font-semibold text-slate-900" data-testid="cost-settled">
                {formatMoney(outlook.settled, outlook.currency)}
              </dd>
              <dd className="mt-1 text-xs text-slate-600">
                Charged as WhatsApp reports each message's price, less refunds; a message with no price a day
                after it went out counts at the rate card's estimate until its price arrives.
              </dd>
            </div>
            <div className="rounded-xl border border-slate-200 bg-white p-3 shadow-sm">
              <dt className="text-xs font-medium text-slate-600">Estimated remaining</dt>
              <dd className="mt-1 text-2xl font-semibold text-slate-900" data-testid="cost-remaining">
                {pending === 0
                  ? formatMoney(0, outlook.currency)
                  : remaining === null
                    ? "—"
                    : `about ${formatMoney(remaining, outlook.currency)}`}
              </dd>
              <dd className="mt-1 text-xs text-slate-600">
                {pending === 0
                  ? "Nobody is waiting to be sent."
                  : remaining === null
                    ? "No rate on the rate card for the waiting recipients' countries."
                    : `${pending.toLocaleString("en-US")} waiting × ${formatMoney(
                        outlook.pricePerRecipient ?? 0,
                        outlook.currency,
                      )}, from the rate card.`}
              </dd>
            </div>
          </dl>
        )}
      </section>
      <ThroughputChart counts={campaign.counts} active={active} limit={outlook?.rate ?? null} />
    </>
  );
}

const SAMPLE_MS = 5000;
const MAX_SAMPLES = 36;

type Sample = { claimed: number; limit: number | null };

/**
 * Messages claimed per ~5 s while this page is open, from the changes in the counters, with the
 * number's sending limit at each moment (its current rate × 5 s) as a dashed line.
 */
function ThroughputChart({
  counts,
  active,
  limit,
}: {
  counts: Counts;
  active: boolean;
  /** The number's current rate, messages per second (null before its first dispatch). */
  limit: number | null;
}) {
  const claimed = totalOf(counts) - counts.pending;
  const latest = useRef({ claimed, limit });
  latest.current = { claimed, limit };
  const [samples, setSamples] = useState<Sample[]>([]);
  const last = useRef<number | null>(null);
  useEffect(() => {
    if (!active) return;
    last.current = latest.current.claimed;
    const timer = setInterval(() => {
      const now = latest.current.claimed;
      const delta = Math.max(0, now - (last.current ?? now));
      last.current = now;
      setSamples((s) => [...s, { claimed: delta, limit: latest.current.limit }].slice(-MAX_SAMPLES));
    }, SAMPLE_MS);
    return () => clearInterval(timer);
  }, [active]);
  const perWindow = (rate: number | null) => (rate === null ? 0 : rate * (SAMPLE_MS / 1000));
  const max = Math.max(1, ...samples.map((s) => Math.max(s.claimed, perWindow(s.limit))));
  const y = (n: number) => 58 - (n / max) * 56;
  const latestSample = samples[samples.length - 1];
  const perSecond = latestSample ? latestSample.claimed / (SAMPLE_MS / 1000) : 0;
  const limitPoints = samples
    .flatMap((s, i) =>
      s.limit === null
        ? []
        : [`${i * 10},${y(perWindow(s.limit))}`, `${i * 10 + 10},${y(perWindow(s.limit))}`],
    )
    .join(" ");
  return (
    <section aria-labelledby="throughput-heading" className="space-y-2">
      <h2 id="throughput-heading" className="text-lg font-semibold text-slate-900">
        Throughput
      </h2>
      {limit !== null ? (
        <p className="text-sm text-slate-700" data-testid="send-limit">
          The number's sending limit now: <strong>{limit}</strong> messages per second (it slows down when
          WhatsApp throttles and speeds up again when clear).
        </p>
      ) : null}
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
            aria-label={`Messages claimed per 5 seconds; latest ${perSecond.toFixed(1)} per second${
              limit !== null ? `; limit ${limit} per second` : ""
            }`}
            preserveAspectRatio="none"
          >
            {samples.map((s, i) => {
              const h = (s.claimed / max) * 56;
              return (
                <rect key={i} x={i * 10 + 1} y={58 - h} width={8} height={h} className="fill-brand-600" />
              );
            })}
            {limitPoints ? (
              <polyline
                points={limitPoints}
                fill="none"
                className="stroke-amber-600"
                strokeWidth={1.5}
                strokeDasharray="4 3"
                vectorEffect="non-scaling-stroke"
              />
            ) : null}
          </svg>
          <figcaption className="mt-1 text-xs text-slate-600">
            Bars: messages claimed per 5 seconds since you opened this page (from the live counters, in your
            browser); latest {perSecond.toFixed(1)}/s. Dashed line: the number's limit at the time.
          </figcaption>
        </figure>
      )}
    </section>
  );
}

type RecipientRow = FunctionReturnType<typeof api.campaigns.recipients>["page"][number];
type RecipientFilter = RecipientState | "all" | "replied";

function Recipients({ campaign }: { campaign: CampaignView }) {
  const tenant = useTenant();
  const [chosen, setChosen] = useState<RecipientFilter>("all");
  const { results, status, loadMore } = usePaginatedQuery(
    api.campaigns.recipients,
    { tenantId: tenant.tenantId, campaignId: campaign.campaignId, state: chosen },
    { initialNumItems: 25 },
  );
  const contacts = `/t/${encodeURIComponent(tenant.slug)}/contacts`;
  const label = (state: RecipientState) => RECIPIENT_STATES.find((s) => s.state === state)?.label ?? state;
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
    { header: "State", cell: (r) => <span className="text-sm text-slate-800">{label(r.state)}</span> },
    {
      header: "Reason",
      cell: (r) => (
        <span className="text-sm text-slate-700">
          {r.reason ?? "—"}
          {r.errorCode !== null ? <span className="ml-1 font-mono text-xs">({r.errorCode})</span> : null}
        </span>
      ),
    },
    {
      header: "Replied",
      cell: (r) => (
        <span className="text-sm text-slate-600">
          {r.repliedAt !== null ? new Date(r.repliedAt).toLocaleString() : "—"}
        </span>
      ),
    },
    {
      header: "Updated",
      cell: (r) => (
        <span className="text-sm text-slate-600">{new Date(r.updatedAt).toLocaleTimeString()}</span>
      ),
    },
  ];
  if (campaign.state === "draft" || campaign.state === "scheduled") return null;
  const filters: { value: RecipientFilter; label: string; count: number }[] = [
    { value: "all", label: "All", count: totalOf(campaign.counts) },
    ...RECIPIENT_STATES.filter((s) => s.state !== "unknown" || campaign.counts.unknown > 0).map((s) => ({
      value: s.state,
      label: s.label,
      count: campaign.counts[s.state],
    })),
    { value: "replied", label: "Replied", count: campaign.replied },
  ];
  const chosenLabel = filters.find((f) => f.value === chosen)?.label ?? chosen;
  return (
    <section aria-labelledby="recipients-heading" className="space-y-3">
      <h2 id="recipients-heading" className="text-lg font-semibold text-slate-900">
        Recipients
      </h2>
      <div role="group" aria-label="Show recipients who are" className="flex flex-wrap gap-2">
        {filters.map((f) => (
          <button
            key={f.value}
            type="button"
            aria-pressed={chosen === f.value}
            onClick={() => setChosen(f.value)}
            className={`rounded-full border px-3 py-1 text-sm ${
              chosen === f.value
                ? "border-brand-600 bg-brand-50 text-brand-800"
                : "border-slate-300 bg-white text-slate-700 hover:bg-slate-50"
            }`}
          >
            {f.label} ({f.count.toLocaleString("en-US")})
          </button>
        ))}
      </div>
      {status === "LoadingFirstPage" ? (
        <LoadingState label="Loading recipients…" />
      ) : (
        <>
          <DataTable
            caption={`Recipients: ${chosenLabel.toLowerCase()}`}
            columns={columns}
            rows={results}
            rowKey={(r) => r.recipientId}
            empty={<EmptyState title="Nobody here" description="Choose another filter above." />}
          />
          {status === "CanLoadMore" || status === "LoadingMore" ? (
            <Button onClick={() => loadMore(50)} busy={status === "LoadingMore"} busyLabel="Loading…">
              Load more
            </Button>
          ) : null}
          {results.length > 0 ? (
            <p className="text-xs text-slate-600">
              Showing {results.length.toLocaleString("en-US")} of{" "}
              {(filters.find((f) => f.value === chosen)?.count ?? results.length).toLocaleString("en-US")}.
            </p>
          ) : null}
        </>
      )}
    </section>
  );
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
