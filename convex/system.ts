import { v } from "convex/values";
import { internalMutation, internalQuery, publicQuery } from "./functions";
import * as Health from "./model/health";
import * as System from "./model/system";

const vStatus = v.object({
  version: v.string(),
  heartbeat: v.union(v.null(), v.object({ runs: v.number(), lastRunAt: v.number(), ok: v.boolean() })),
});

export const status = publicQuery({
  reason: "The version and the scheduler's heartbeat reveal nothing about tenants or users",
  args: {},
  returns: vStatus,
  handler: (ctx) => System.status(ctx),
});

/** Run by the heartbeat cron; proves the scheduler is alive. */
export const heartbeat = internalMutation({
  args: {},
  returns: v.object({ runs: v.number(), lastRunAt: v.number() }),
  handler: async (ctx) => {
    const row = await System.recordJobRun(ctx, System.HEARTBEAT_JOB, Date.now(), true);
    return { runs: row.runs, lastRunAt: row.lastRunAt };
  },
});

/** Used by the health endpoint: a cheap read that proves the database answers. */
export const health = internalQuery({
  args: {},
  returns: vStatus,
  handler: (ctx) => System.status(ctx),
});

/**
 * Every dependency's state for GET /health and GET /metrics (model/health.ts): bounded reads only.
 * Internal, and shaped by model/health.ts's HealthSnapshot type; the HTTP actions are its only callers.
 */
export const snapshot = internalQuery({
  args: {},
  returns: v.any(),
  handler: async (ctx): Promise<Health.HealthSnapshot> => ({
    ...(await Health.snapshot(ctx)),
    version: (await System.status(ctx)).version,
  }),
});
