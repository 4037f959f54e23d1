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

export default crons;
