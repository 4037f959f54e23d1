/**
 * Reconciliation jobs and their reports (logic in convex/model/reconciliation/): crons start
 * runs, each run continues a batch at a time, platform admins read the reports and start a run
 * by hand, and workspaces set their data retention.
 */
import { v } from "convex/values";
import { internal } from "./_generated/api";
import { appUrl, platformAdminEmails } from "./env";
import {
  internalAction,
  internalMutation,
  internalQuery,
  platformAdminMutation,
  platformAdminQuery,
  tenantMutation,
  tenantQuery,
} from "./functions";
import * as Audit from "./model/audit";
import * as Emails from "./model/emails";
import { vEmailRecord } from "./model/emails";
import { JOB_NAMES, JOBS } from "./model/reconciliation/jobs";
import { defaultRetention, retentionOf, setRetention } from "./model/reconciliation/retention";
import {
  alertEmail,
  continueRun as continueRunModel,
  latestRun,
  startRun,
} from "./model/reconciliation/runs";
import { vReconciliationJob, vReconciliationRun, vRetentionSettings } from "./model/reconciliation/tables";
import { sendEmail } from "./providers/email";

const vRunView = v.object({
  _id: v.id("reconciliationRuns"),
  _creationTime: v.number(),
  ...vReconciliationRun.fields,
});

/** Starts a run of `job` (crons call this); a run already under way is left to finish. */
export const start = internalMutation({
  args: { job: vReconciliationJob, now: v.optional(v.number()), scope: v.optional(v.string()) },
  returns: v.object({ runId: v.id("reconciliationRuns"), started: v.boolean() }),
  handler: (ctx, { job, now, scope }) =>
    startRun(ctx, job, JOBS[job], {
      trigger: "cron",
      ...(now !== undefined ? { now } : {}),
      ...(scope !== undefined ? { scope } : {}),
    }),
});

/** The next batch of a run. */
export const continueRun = internalMutation({
  args: { runId: v.id("reconciliationRuns") },
  returns: v.null(),
  handler: async (ctx, { runId }) => {
    const run = await ctx.db.get("reconciliationRuns", runId);
    if (run) await continueRunModel(ctx, runId, JOBS[run.job]);
    return null;
  },
});

/** A platform admin starts a run of `job` now (audited); a run under way is not doubled. */
export const startNow = platformAdminMutation({
  args: { job: vReconciliationJob, scope: v.optional(v.string()) },
  returns: v.object({ runId: v.id("reconciliationRuns"), started: v.boolean() }),
  handler: async (ctx, { job, scope }) => {
    if (scope !== undefined && job === "pricing_drift" && !/^\d{4}-\d{2}-\d{2}$/.test(scope)) {
      throw new Error("The day to check must be written YYYY-MM-DD");
    }
    const result = await startRun(ctx, job, JOBS[job], {
      trigger: "manual",
      requestedBy: ctx.user.email,
      ...(scope ? { scope } : {}),
    });
    await Audit.record(ctx, {
      actor: ctx.user,
      action: "reconciliation.run_requested",
      targetType: "reconciliationRun",
      targetId: result.runId,
      summary: result.started
        ? `Started the reconciliation job "${JOBS[job].label}"`
        : `Asked for the reconciliation job "${JOBS[job].label}" while a run was under way`,
    });
    return result;
  },
});

/** Every job with its schedule and its latest run, for the reconciliation page. */
export const jobs = platformAdminQuery({
  args: {},
  returns: v.array(
    v.object({
      job: vReconciliationJob,
      label: v.string(),
      schedule: v.string(),
      latest: v.union(vRunView, v.null()),
    }),
  ),
  handler: async (ctx) => {
    const out = [];
    for (const job of JOB_NAMES) {
      out.push({
        job,
        label: JOBS[job].label,
        schedule: JOBS[job].schedule,
        latest: await latestRun(ctx, job),
      });
    }
    return out;
  },
});

/** The latest runs, newest first (of one job, or of all), bounded. */
export const runs = platformAdminQuery({
  args: { job: v.optional(vReconciliationJob), limit: v.optional(v.number()) },
  returns: v.array(vRunView),
  handler: async (ctx, { job, limit }) => {
    const n = Math.min(Math.max(1, Math.floor(limit ?? 50)), 200);
    return job
      ? await ctx.db
          .query("reconciliationRuns")
          .withIndex("by_job_started", (q) => q.eq("job", job))
          .order("desc")
          .take(n)
      : await ctx.db.query("reconciliationRuns").withIndex("by_started").order("desc").take(n);
  },
});

export const alertContent = internalQuery({
  args: { runId: v.id("reconciliationRuns") },
  returns: v.union(v.null(), v.object({ run: vRunView, label: v.string() })),
  handler: async (ctx, { runId }) => {
    const run = await ctx.db.get("reconciliationRuns", runId);
    return run ? { run, label: JOBS[run.job].label } : null;
  },
});

export const recordEmail = internalMutation({
  args: { email: vEmailRecord },
  returns: v.null(),
  handler: async (ctx, { email }) => {
    await Emails.store(ctx, email);
    return null;
  },
});

/** Emails every platform admin (PLATFORM_ADMIN_EMAILS) about a run that needs a person. */
export const sendAlert = internalAction({
  args: { runId: v.id("reconciliationRuns") },
  returns: v.null(),
  handler: async (ctx, { runId }) => {
    const content = await ctx.runQuery(internal.reconciliation.alertContent, { runId });
    if (!content) return null;
    let link: string | null = null;
    try {
      link = `${appUrl()}/admin/reconciliation?run=${runId}`;
    } catch {
      // Without APP_URL the email still says what was found, just without a link.
    }
    for (const to of platformAdminEmails()) {
      const message = alertEmail(content.run, content.label, to, link);
      const result = await sendEmail(message);
      await ctx.runMutation(internal.reconciliation.recordEmail, {
        email: Emails.recordFor(undefined, "reconciliation_alert", message, result),
      });
    }
    return null;
  },
});

const vRetentionView = v.object({ ...vRetentionSettings.fields, defaults: vRetentionSettings });

/** The workspace's data retention (days), with the defaults. */
export const retention = tenantQuery({
  role: "admin",
  args: {},
  returns: vRetentionView,
  handler: async (ctx) => ({ ...(await retentionOf(ctx, ctx.tenant._id)), defaults: defaultRetention() }),
});

/** Sets the workspace's data retention (owners and admins; audited). */
export const setWorkspaceRetention = tenantMutation({
  role: "admin",
  args: vRetentionSettings.fields,
  returns: vRetentionSettings,
  handler: (ctx, args) => setRetention(ctx, ctx.user, ctx.tenant._id, args),
});
