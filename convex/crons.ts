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

export default crons;
