import { cronJobs } from "convex/server";
import { internal } from "./_generated/api";

const crons = cronJobs();

crons.interval("heartbeat", { minutes: 1 }, internal.system.heartbeat, {});
// Processed webhook events older than WEBHOOK_EVENT_RETENTION_DAYS (default 30), in batches.
crons.interval("prune webhook events", { hours: 1 }, internal.whatsappWebhooks.pruneEvents, {});

export default crons;
