/**
 * The reconciliation framework: a run of a job goes through its items a bounded batch per
 * mutation, continuing from a cursor by scheduling itself, and keeps a report (found, fixed,
 * needs a person, the first findings). A run that finds something for a person emails the
 * platform admins once, when it finishes. See docs/decisions/026-reconciliation.md.
 */
import { internal } from "../../_generated/api";
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../../_generated/server";
import type { Finding, FindingOutcome, ReconciliationJob } from "./tables";

/** Findings kept on a run; more are counted in `detailsDropped`. */
export const MAX_DETAILS = 200;

/** A run still `running` this long after it started stopped without finishing (a failed batch). */
export const STALE_RUN_MS = 60 * 60 * 1000;

/** Run reports are kept this long (by when they started)… */
export const RUN_RETENTION_DAYS = 90;
/** …but the latest of each job are kept whatever their age, so every job still shows its last runs. */
export const RUNS_KEPT_PER_JOB = 20;
/** Reports deleted at most each time a job starts. */
export const RUN_PRUNE_BATCH = 100;

export type StepInput = { cursor: string | null; now: number; scope?: string };

/** One batch of a job: what it found, and where the next batch starts (null: the run is done). */
export type StepResult = { findings: Finding[]; cursor: string | null };

export type JobStep = (ctx: MutationCtx, input: StepInput) => Promise<StepResult>;

export type JobDefinition = {
  label: string;
  /** When the cron runs it, in words (docs/operations.md has the same table). */
  schedule: string;
  step: JobStep;
  /** The scope a run without one gets (e.g. yesterday for the daily pricing check). */
  defaultScope?: (now: number) => string;
};

/** Collects a batch's findings (an item found in order is not a finding). */
export class Findings {
  readonly list: Finding[] = [];
  add(id: string, outcome: FindingOutcome, reason: string, tenantId?: Id<"tenants">): void {
    this.list.push({ id, outcome, reason, ...(tenantId ? { tenantId } : {}) });
  }
}

export async function latestRun(
  ctx: QueryCtx,
  job: ReconciliationJob,
): Promise<Doc<"reconciliationRuns"> | null> {
  return await ctx.db
    .query("reconciliationRuns")
    .withIndex("by_job_started", (q) => q.eq("job", job))
    .order("desc")
    .first();
}

/**
 * Deletes reports of `job` older than RUN_RETENTION_DAYS, oldest first and at most RUN_PRUNE_BATCH
 * of them, keeping the latest RUNS_KEPT_PER_JOB whatever their age. Runs when the job starts, so
 * each job prunes its own reports (a job started every 10 minutes adds 144 a day, far below the
 * batch) and no cron of its own is needed. Returns how many it deleted.
 */
export async function pruneRuns(ctx: MutationCtx, job: ReconciliationJob, now: number): Promise<number> {
  const latest = await ctx.db
    .query("reconciliationRuns")
    .withIndex("by_job_started", (q) => q.eq("job", job))
    .order("desc")
    .take(RUNS_KEPT_PER_JOB);
  if (latest.length < RUNS_KEPT_PER_JOB) return 0;
  const before = Math.min(
    now - RUN_RETENTION_DAYS * 24 * 60 * 60 * 1000,
    latest[latest.length - 1]!.startedAt,
  );
  const old = await ctx.db
    .query("reconciliationRuns")
    .withIndex("by_job_started", (q) => q.eq("job", job).lt("startedAt", before))
    .take(RUN_PRUNE_BATCH);
  for (const run of old) await ctx.db.delete("reconciliationRuns", run._id);
  return old.length;
}

/**
 * Starts a run of `job`, unless one is under way (then that run is returned: runs of a job never
 * overlap). A run left `running` past STALE_RUN_MS is closed as failed first. The first batch is
 * scheduled at once; each batch schedules the next. Old reports of the job are pruned first.
 */
export async function startRun(
  ctx: MutationCtx,
  job: ReconciliationJob,
  definition: JobDefinition,
  options: { trigger: "cron" | "manual"; requestedBy?: string; now?: number; scope?: string },
): Promise<{ runId: Id<"reconciliationRuns">; started: boolean }> {
  const clock = Date.now();
  const latest = await latestRun(ctx, job);
  if (latest?.status === "running") {
    if (clock - latest._creationTime < STALE_RUN_MS) return { runId: latest._id, started: false };
    await ctx.db.patch("reconciliationRuns", latest._id, {
      status: "failed",
      finishedAt: clock,
      error: "The run stopped without finishing (a batch failed); the next run starts over",
      cursor: undefined,
    });
  }
  const now = options.now ?? clock;
  await pruneRuns(ctx, job, clock);
  const scope = options.scope ?? definition.defaultScope?.(now);
  const runId = await ctx.db.insert("reconciliationRuns", {
    job,
    trigger: options.trigger,
    ...(options.requestedBy ? { requestedBy: options.requestedBy } : {}),
    startedAt: now,
    status: "running",
    found: 0,
    fixed: 0,
    needsPerson: 0,
    details: [],
    detailsDropped: 0,
    batches: 0,
    ...(scope ? { scope } : {}),
  });
  await ctx.scheduler.runAfter(0, internal.reconciliation.continueRun, { runId });
  return { runId, started: true };
}

/**
 * Runs the next batch of a run and records it; schedules the batch after, or finishes the run.
 * A run that is not running (finished, or closed as stale) is left alone, so a duplicated
 * schedule does nothing. If the batch throws, nothing of it is written and the run stays
 * `running` until the next start closes it as failed.
 */
export async function continueRun(
  ctx: MutationCtx,
  runId: Id<"reconciliationRuns">,
  definition: JobDefinition,
): Promise<void> {
  const run = await ctx.db.get("reconciliationRuns", runId);
  if (!run || run.status !== "running") return;
  const result = await definition.step(ctx, {
    cursor: run.cursor ?? null,
    now: run.startedAt,
    ...(run.scope ? { scope: run.scope } : {}),
  });
  const room = Math.max(0, MAX_DETAILS - run.details.length);
  const count = (o: FindingOutcome) => result.findings.filter((f) => f.outcome === o).length;
  const next = {
    found: run.found + result.findings.length,
    fixed: run.fixed + count("fixed"),
    needsPerson: run.needsPerson + count("needs_person"),
    details: [...run.details, ...result.findings.slice(0, room)],
    detailsDropped: run.detailsDropped + Math.max(0, result.findings.length - room),
    batches: run.batches + 1,
  };
  if (result.cursor !== null) {
    await ctx.db.patch("reconciliationRuns", runId, { ...next, cursor: result.cursor });
    await ctx.scheduler.runAfter(0, internal.reconciliation.continueRun, { runId });
    return;
  }
  const alert = next.needsPerson > 0 && run.alertedAt === undefined;
  await ctx.db.patch("reconciliationRuns", runId, {
    ...next,
    cursor: undefined,
    status: "done",
    finishedAt: Date.now(),
    ...(alert ? { alertedAt: Date.now() } : {}),
  });
  if (alert) await ctx.scheduler.runAfter(0, internal.reconciliation.sendAlert, { runId });
}

/** The alert email for a finished run that needs a person (one per run, to each platform admin). */
export function alertEmail(
  run: Doc<"reconciliationRuns">,
  label: string,
  to: string,
  link: string | null,
): { to: string; subject: string; text: string } {
  const needing = run.details.filter((d) => d.outcome === "needs_person");
  const lines = [
    `The reconciliation job "${label}" (run of ${new Date(run.startedAt).toISOString().replace("T", " ").slice(0, 16)} UTC) found ${run.needsPerson} ${run.needsPerson === 1 ? "thing" : "things"} it must not put right by itself.`,
    `Found ${run.found}, fixed ${run.fixed}, needs a person ${run.needsPerson}.`,
    "",
    ...needing.slice(0, 20).map((d) => `- ${d.id}: ${d.reason}`),
  ];
  if (needing.length > 20 || run.detailsDropped > 0) lines.push("- … and more in the report");
  if (link) lines.push("", `Report: ${link}`);
  return {
    to,
    subject: `Reconciliation: ${run.needsPerson} ${run.needsPerson === 1 ? "finding needs" : "findings need"} a person (${label})`,
    text: lines.join("\n"),
  };
}
