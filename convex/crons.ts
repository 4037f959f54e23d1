import { cronJobs } from "convex/server";
import { internal } from "./_generated/api";

const crons = cronJobs();

crons.interval("heartbeat", { minutes: 1 }, internal.system.heartbeat, {});
// Processed webhook events older than WEBHOOK_EVENT_RETENTION_DAYS (default 30), in batches.
crons.interval("prune webhook events", { hours: 1 }, internal.whatsappWebhooks.pruneEvents, {});

// Priced outbound messages → ledger, in batches: the wallet never takes one write per webhook.
crons.interval("settle messages", { seconds: 5 }, internal.billing.settlePending, {});

// The rate card shipped with this version, loaded once per version (one read when unchanged).
crons.interval("load published rates", { minutes: 10 }, internal.billing.loadPublishedRates, {});

// Templates still pending past their deadline: ask Meta (their status webhook may have been lost).
crons.interval("poll pending templates", { minutes: 1 }, internal.templates.pollDue, {});

// Sends whose outcome was lost (process died mid-call, statuses never came) → `unknown`, never resent.
crons.interval("resolve stuck sends", { minutes: 1 }, internal.outbound.resolveStuckSending, {});
// Campaign dispatcher chains whose tick failed (none scheduled after it) are started again.
crons.interval("restart stalled dispatchers", { seconds: 30 }, internal.campaigns.restartStalledDispatch, {});

// Data exports expire a day after they are made: their rows and files are deleted.
crons.interval("prune expired exports", { hours: 1 }, internal.privacy.pruneExports, {});

// Reconciliation (docs/operations.md, "Reconciliation"): each run reports what it found and fixed.
crons.interval("reconcile sends with no status", { hours: 1 }, internal.reconciliation.start, {
  job: "no_status",
});
crons.interval("reconcile stuck sends", { minutes: 10 }, internal.reconciliation.start, {
  job: "stuck_sending",
});
crons.daily("reconcile ledger vs balance", { hourUTC: 3, minuteUTC: 17 }, internal.reconciliation.start, {
  job: "wallet_invariant",
});
crons.interval("reconcile campaign counters", { hours: 1 }, internal.reconciliation.start, {
  job: "campaign_counters",
});
crons.interval("release old reservations", { hours: 1 }, internal.reconciliation.start, {
  job: "old_reservations",
});
crons.daily("reconcile billed vs rate card", { hourUTC: 1, minuteUTC: 30 }, internal.reconciliation.start, {
  job: "pricing_drift",
});
crons.daily("data retention", { hourUTC: 2, minuteUTC: 17 }, internal.reconciliation.start, {
  job: "retention",
});

export default crons;
