/**
 * Reconciliation tables (spread into convex/schema.ts): one report per run of a reconciliation
 * job, and each workspace's data retention settings. See docs/decisions/026-reconciliation.md.
 */
import { defineTable } from "convex/server";
import { v, type Infer } from "convex/values";

export const vReconciliationJob = v.union(
  v.literal("no_status"),
  v.literal("stuck_sending"),
  v.literal("wallet_invariant"),
  v.literal("campaign_counters"),
  v.literal("old_reservations"),
  v.literal("pricing_drift"),
  v.literal("retention"),
);
export type ReconciliationJob = Infer<typeof vReconciliationJob>;

/** What became of one finding: put right by the job, left for a person, or only reported. */
export const vFindingOutcome = v.union(v.literal("fixed"), v.literal("needs_person"), v.literal("reported"));
export type FindingOutcome = Infer<typeof vFindingOutcome>;

export const vFinding = v.object({
  /** What the finding is about: a message, wallet, campaign, reservation id, or a day/category. */
  id: v.string(),
  tenantId: v.optional(v.id("tenants")),
  outcome: vFindingOutcome,
  reason: v.string(),
});
export type Finding = Infer<typeof vFinding>;

export const vRunStatus = v.union(v.literal("running"), v.literal("done"), v.literal("failed"));

export const vReconciliationRun = v.object({
  job: vReconciliationJob,
  /** A cron, or a platform admin's "Run now" (who). */
  trigger: v.union(v.literal("cron"), v.literal("manual")),
  requestedBy: v.optional(v.string()),
  /** The run's clock: every batch of the run uses the deadlines as of this time. */
  startedAt: v.number(),
  finishedAt: v.optional(v.number()),
  status: vRunStatus,
  found: v.number(),
  fixed: v.number(),
  needsPerson: v.number(),
  /** The first findings (bounded, see MAX_DETAILS); `detailsDropped` counts the rest. */
  details: v.array(vFinding),
  detailsDropped: v.number(),
  /** Where the next batch continues (the job's own JSON), absent when the run is done. */
  cursor: v.optional(v.string()),
  batches: v.number(),
  /** Job-specific input, e.g. the day a pricing check looks at ("YYYY-MM-DD"). */
  scope: v.optional(v.string()),
  /** Set when the alert email to platform admins was scheduled (once per run). */
  alertedAt: v.optional(v.number()),
  error: v.optional(v.string()),
});
export type ReconciliationRun = Infer<typeof vReconciliationRun>;

export const vRetentionSettings = v.object({
  /** Days messages are kept (from when they were written). */
  messagesDays: v.number(),
  /** Days processed webhook events are kept. */
  webhookEventsDays: v.number(),
  /** Days records of sent emails are kept. */
  emailsDays: v.number(),
});
export type RetentionSettings = Infer<typeof vRetentionSettings>;

export const reconciliationTables = {
  reconciliationRuns: defineTable(vReconciliationRun.fields)
    .index("by_job_started", ["job", "startedAt"])
    .index("by_started", ["startedAt"]),

  /** A workspace's retention settings; a workspace without a row keeps the defaults. */
  retentionSettings: defineTable({
    tenantId: v.id("tenants"),
    ...vRetentionSettings.fields,
    updatedAt: v.number(),
    updatedBy: v.id("users"),
  }).index("by_tenant", ["tenantId"]),
};
