// The home page's "System status" card: backend version and the scheduler heartbeat.
import { useId } from "react";
import { formatTimeAgo, useNow } from "../lib/relative-time";

export type SystemStatus = {
  version: string;
  heartbeat: null | { runs: number; lastRunAt: number; ok: boolean };
};

// The heartbeat cron runs every minute; after three missed runs it is worth a look.
const LATE_AFTER_MS = 3 * 60_000;

export function SystemStatusCard({ status, live }: { status: SystemStatus | undefined; live: boolean }) {
  const headingId = useId();
  return (
    <section
      aria-labelledby={headingId}
      aria-busy={status === undefined}
      className="rounded-2xl border border-slate-200 bg-white p-6 shadow-sm"
    >
      <div className="flex items-center justify-between gap-4">
        <h2 id={headingId} className="text-lg font-semibold text-slate-900">
          System status
        </h2>
        <LiveBadge live={live} />
      </div>
      {status === undefined ? <StatusSkeleton /> : <StatusDetails status={status} />}
    </section>
  );
}

function LiveBadge({ live }: { live: boolean }) {
  return live ? (
    <span className="inline-flex items-center gap-1.5 rounded-full bg-brand-50 px-2.5 py-0.5 text-xs font-medium text-brand-700">
      <span aria-hidden="true" className="size-1.5 rounded-full bg-brand-500" />
      Live
    </span>
  ) : (
    <span className="inline-flex items-center rounded-full bg-slate-100 px-2.5 py-0.5 text-xs font-medium text-slate-600">
      Connecting…
    </span>
  );
}

function StatusSkeleton() {
  return (
    <div className="mt-5 space-y-4" data-testid="system-status-loading">
      <span className="sr-only">Loading system status…</span>
      {[0, 1].map((row) => (
        <div key={row} aria-hidden="true" className="animate-pulse space-y-2">
          <div className="h-3 w-28 rounded bg-slate-200" />
          <div className="h-5 w-44 rounded bg-slate-200" />
        </div>
      ))}
    </div>
  );
}

function StatusDetails({ status }: { status: SystemStatus }) {
  return (
    <dl className="mt-5 grid gap-5 sm:grid-cols-2">
      <div>
        <dt className="text-sm font-medium text-slate-500">Backend version</dt>
        <dd data-testid="backend-version" className="mt-1 font-mono text-base text-slate-900">
          {status.version}
        </dd>
      </div>
      <div>
        <dt className="text-sm font-medium text-slate-500">Scheduler heartbeat</dt>
        <dd className="mt-1">
          {status.heartbeat ? <Heartbeat heartbeat={status.heartbeat} /> : <NoHeartbeat />}
        </dd>
      </div>
    </dl>
  );
}

function Heartbeat({ heartbeat }: { heartbeat: NonNullable<SystemStatus["heartbeat"]> }) {
  const now = useNow();
  const late = now !== null && now - heartbeat.lastRunAt > LATE_AFTER_MS;
  const state = !heartbeat.ok ? "failing" : late ? "late" : "healthy";
  const stateStyle = {
    healthy: "bg-brand-50 text-brand-700",
    late: "bg-amber-50 text-amber-800",
    failing: "bg-red-50 text-red-700",
  }[state];
  return (
    <div className="space-y-1">
      <p className="flex flex-wrap items-center gap-2 text-base text-slate-900">
        <span>
          <span data-testid="heartbeat-runs" className="font-semibold tabular-nums">
            {heartbeat.runs.toLocaleString("en-US")}
          </span>{" "}
          {heartbeat.runs === 1 ? "run" : "runs"}
        </span>
        <span className={`rounded-full px-2 py-0.5 text-xs font-medium ${stateStyle}`}>
          {state === "healthy" ? "Healthy" : state === "late" ? "Late" : "Last run failed"}
        </span>
      </p>
      <p className="text-sm text-slate-600">
        last run{" "}
        <time
          data-testid="heartbeat-last-run"
          dateTime={new Date(heartbeat.lastRunAt).toISOString()}
          className="tabular-nums"
        >
          {now === null ? "…" : formatTimeAgo(heartbeat.lastRunAt, now)}
        </time>
      </p>
    </div>
  );
}

function NoHeartbeat() {
  return (
    <div data-testid="heartbeat-empty">
      <p className="text-base font-medium text-slate-900">The scheduler has not run yet</p>
      <p className="mt-1 text-sm text-slate-600">
        The heartbeat job runs once a minute; its first run will appear here without a reload.
      </p>
    </div>
  );
}
