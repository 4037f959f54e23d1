// /admin/reconciliation: the reconciliation jobs (what each checks, when it runs, its latest
// report), a "Run now" per job (audited), and the latest runs with their findings, all live.
// `?run=<id>` (the link in alert emails) opens that run's findings.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useSearchParams } from "@remix-run/react";
import { useMutation, useQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useState } from "react";
import { api } from "../../convex/_generated/api";
import { Button } from "../components/button";
import { ConfirmButton } from "../components/confirm-dialog";
import { DataRouteErrorView } from "../components/data-error-view";
import { DataTable, type Column } from "../components/data-table";
import { EmptyState } from "../components/empty-state";
import { PageHeader, Section } from "../components/page-header";
import { LoadingState, Spinner } from "../components/spinner";
import { requireUser } from "../lib/auth.server";
import { formatDateTime } from "../lib/format";
import { useExpandedRows } from "../lib/use-expanded-rows";

export const meta: MetaFunction = () => [{ title: "Reconciliation — Platform admin — Switchboard" }];

export async function loader({ request }: LoaderFunctionArgs) {
  await requireUser(request);
  return null;
}

type Job = FunctionReturnType<typeof api.reconciliation.jobs>[number];
type Run = FunctionReturnType<typeof api.reconciliation.runs>[number];

/** What each job checks and does, in a sentence (docs/operations.md has the full rules). */
const RULES: Record<Job["job"], string> = {
  no_status:
    "Sends WhatsApp accepted with no status after the deadline: templates are charged at the rate card's estimate, free-form and WAHA sends release their reservation; a late status settles the difference once.",
  stuck_sending:
    "Sends whose provider call never answered: the outcome is unknown, so they are reported and never sent again.",
  wallet_invariant:
    "Every wallet against its ledger. A mismatch is never corrected automatically: it needs a person.",
  campaign_counters:
    "Campaign progress counters recounted from their recipients; drift is corrected and reported.",
  old_reservations: "Credit reservations open past the deadline are released, with their ledger entries.",
  pricing_drift:
    "What Meta billed yesterday against what the rate card expected (category, pricing model, missing rates).",
  retention:
    "Deletes messages, webhook events and email records older than each workspace's retention settings.",
};

const RUN_PAGE = 25;

export default function AdminReconciliation() {
  const jobs = useQuery(api.reconciliation.jobs, {});
  const runs = useQuery(api.reconciliation.runs, { limit: RUN_PAGE });
  const runNow = useMutation(api.reconciliation.startNow);
  const [announcement, setAnnouncement] = useState("");
  const [params] = useSearchParams();
  const { isOpen, toggle, panelId } = useExpandedRows();
  const linked = params.get("run");

  const jobColumns: Column<Job>[] = [
    {
      header: "Job",
      rowHeader: true,
      className: "min-w-56",
      cell: (j) => (
        <div>
          <p className="font-medium text-slate-900">{j.label}</p>
          <p className="text-xs font-normal text-slate-600">{RULES[j.job]}</p>
        </div>
      ),
    },
    { header: "Schedule", className: "whitespace-nowrap", cell: (j) => j.schedule },
    {
      header: "Latest run",
      className: "min-w-40",
      cell: (j) => (j.latest ? <RunSummary run={j.latest} /> : "Never run"),
    },
    {
      header: <span className="sr-only">Actions</span>,
      className: "relative",
      cell: (j) => (
        <ConfirmButton
          title={`Run "${j.label}" now?`}
          confirmLabel="Run now"
          busyLabel="Starting…"
          destructive={j.job === "retention"}
          description={
            <p>
              {RULES[j.job]} It runs in batches until done; a run already under way is not started twice. The
              request is recorded in the platform audit log.
            </p>
          }
          onConfirm={async () => {
            const { started } = await runNow({ job: j.job });
            setAnnouncement(
              started
                ? `Started "${j.label}".`
                : `"${j.label}" is already running; its report updates below.`,
            );
          }}
        >
          Run now<span className="sr-only"> {j.label}</span>
        </ConfirmButton>
      ),
    },
  ];

  const runColumns: Column<Run>[] = [
    {
      header: "Started",
      rowHeader: true,
      className: "min-w-32",
      cell: (r) => (
        <time dateTime={new Date(r.startedAt).toISOString()} className="font-normal text-slate-700">
          {formatDateTime(r.startedAt)}
        </time>
      ),
    },
    {
      header: "Job",
      cell: (r) => (
        <span>
          {jobs?.find((j) => j.job === r.job)?.label ?? r.job}
          {r.scope ? <span className="block text-xs text-slate-500">{r.scope}</span> : null}
        </span>
      ),
    },
    {
      header: "By",
      className: "text-xs",
      cell: (r) => (r.trigger === "manual" ? (r.requestedBy ?? "a platform admin") : "schedule"),
    },
    { header: "Report", className: "min-w-40", cell: (r) => <RunSummary run={r} /> },
    {
      header: <span className="sr-only">Findings</span>,
      cell: (r) =>
        r.details.length ? (
          <Button
            size="sm"
            variant="ghost"
            aria-expanded={isOpen(r._id) || linked === r._id}
            aria-controls={panelId(r._id)}
            onClick={() => toggle(r._id)}
          >
            {isOpen(r._id) || linked === r._id ? "Hide findings" : "Show findings"}
            <span className="sr-only"> of the run started {formatDateTime(r.startedAt)}</span>
          </Button>
        ) : null,
    },
  ];

  if (jobs === undefined || runs === undefined) return <LoadingState label="Loading reconciliation…" />;

  return (
    <div className="space-y-8">
      <PageHeader
        title="Reconciliation"
        description="Scheduled checks that compare what happened with what was recorded, fix what is safe to fix, and email platform admins about what needs a person. Times are in your time zone."
      />
      <p role="status" className="text-sm text-slate-700 empty:hidden">
        {announcement}
      </p>
      <Section id="jobs" title="Jobs">
        <DataTable caption="Reconciliation jobs" columns={jobColumns} rows={jobs} rowKey={(j) => j.job} />
      </Section>
      <Section
        id="runs"
        title="Latest runs"
        description={`The latest ${RUN_PAGE} runs of every job, newest first. Reports are kept 90 days, and always the latest 20 of each job.`}
      >
        <DataTable
          caption="Reconciliation runs, newest first"
          columns={runColumns}
          rows={runs}
          rowKey={(r) => r._id}
          empty={
            <EmptyState
              title="No runs yet."
              description="Jobs run on their schedule; use Run now to start one."
            />
          }
          renderAfterRow={(r) =>
            isOpen(r._id) || linked === r._id ? <Findings run={r} id={panelId(r._id)} /> : null
          }
        />
      </Section>
    </div>
  );
}

function RunSummary({ run }: { run: Run }) {
  if (run.status === "running") {
    return (
      <span className="inline-flex items-center gap-2 text-slate-700">
        <Spinner className="size-4" />
        Running: batch {run.batches + 1}, found {run.found} so far
      </span>
    );
  }
  if (run.status === "failed") {
    return <span className="text-red-700">Failed: {run.error ?? "stopped without finishing"}</span>;
  }
  return (
    <span className="text-slate-700">
      Found {run.found}, fixed {run.fixed},{" "}
      <span className={run.needsPerson ? "font-semibold text-red-700" : undefined}>
        needs a person {run.needsPerson}
      </span>
      <span className="block text-xs text-slate-500">
        {run.batches} {run.batches === 1 ? "batch" : "batches"}
        {run.finishedAt ? ` · ${Math.max(0, Math.round((run.finishedAt - run.startedAt) / 1000))} s` : ""}
      </span>
    </span>
  );
}

const OUTCOME: Record<Run["details"][number]["outcome"], { label: string; className: string }> = {
  fixed: { label: "Fixed", className: "bg-emerald-50 text-emerald-800 ring-emerald-200" },
  needs_person: { label: "Needs a person", className: "bg-red-50 text-red-800 ring-red-200" },
  reported: { label: "Reported", className: "bg-slate-50 text-slate-700 ring-slate-200" },
};

function Findings({ run, id }: { run: Run; id: string }) {
  return (
    <div id={id} role="region" aria-label={`Findings of the run started ${formatDateTime(run.startedAt)}`}>
      <ul className="space-y-2 text-sm">
        {run.details.map((d, i) => (
          <li key={`${d.id}-${i}`} className="flex flex-col gap-1 sm:flex-row sm:items-start sm:gap-3">
            <span
              className={`inline-block shrink-0 rounded-md px-1.5 py-0.5 text-xs font-medium ring-1 ring-inset ${OUTCOME[d.outcome].className}`}
            >
              {OUTCOME[d.outcome].label}
            </span>
            <span className="text-slate-800">
              <code className="font-mono text-xs break-all text-slate-600">{d.id}</code> {d.reason}
            </span>
          </li>
        ))}
      </ul>
      {run.detailsDropped > 0 ? (
        <p className="mt-2 text-xs text-slate-500">
          … and {run.detailsDropped} more findings not kept in the report.
        </p>
      ) : null}
    </div>
  );
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
