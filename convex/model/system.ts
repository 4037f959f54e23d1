import type { Doc } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { APP_VERSION } from "../version";

export const HEARTBEAT_JOB = "heartbeat";

export async function jobStatus(ctx: QueryCtx, job: string): Promise<Doc<"jobStatus"> | null> {
  return await ctx.db
    .query("jobStatus")
    .withIndex("by_job", (q) => q.eq("job", job))
    .unique();
}

/** Records one run of a scheduled job: a single row per job, so the table never grows. */
export async function recordJobRun(
  ctx: MutationCtx,
  job: string,
  at: number,
  ok: boolean,
  detail?: string,
): Promise<Doc<"jobStatus">> {
  const existing = await jobStatus(ctx, job);
  if (existing) {
    await ctx.db.patch("jobStatus", existing._id, {
      runs: existing.runs + 1,
      lastRunAt: at,
      lastOk: ok,
      lastDetail: detail,
    });
  } else {
    await ctx.db.insert("jobStatus", { job, runs: 1, lastRunAt: at, lastOk: ok, lastDetail: detail });
  }
  return (await jobStatus(ctx, job))!;
}

export async function status(ctx: QueryCtx) {
  const heartbeat = await jobStatus(ctx, HEARTBEAT_JOB);
  return {
    version: APP_VERSION,
    heartbeat: heartbeat
      ? { runs: heartbeat.runs, lastRunAt: heartbeat.lastRunAt, ok: heartbeat.lastOk }
      : null,
  };
}
