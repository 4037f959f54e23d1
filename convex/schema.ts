import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";

/** The outcome of a scheduled job's latest run, one row per job name. */
export const vJobStatus = v.object({
  job: v.string(),
  runs: v.number(),
  lastRunAt: v.number(),
  lastOk: v.boolean(),
  lastDetail: v.optional(v.string()),
});

export default defineSchema({
  jobStatus: defineTable(vJobStatus.fields).index("by_job", ["job"]),
});
