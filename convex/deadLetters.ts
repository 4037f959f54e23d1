/**
 * Webhook events that could not be processed (after every retry, or never routed to a channel),
 * for platform admins: a live, paginated list, and replay (audited).
 */
import { paginationOptsValidator, paginationResultValidator } from "convex/server";
import { v } from "convex/values";
import { internal } from "./_generated/api";
import { platformAdminMutation, platformAdminQuery } from "./functions";
import * as Audit from "./model/audit";
import { fail } from "./model/errors";
import * as TenantDirectory from "./model/tenantDirectory";
import { vChannelKind } from "./schema";

const vDeadLetter = v.object({
  eventId: v.id("webhookEvents"),
  provider: vChannelKind,
  dedupeKey: v.string(),
  kind: v.string(),
  channelId: v.union(v.id("channels"), v.null()),
  tenantId: v.union(v.id("tenants"), v.null()),
  /** The workspace's name and address, joined on the server; null when unrouted or deleted. */
  tenant: v.union(v.object({ name: v.string(), slug: v.string() }), v.null()),
  attempts: v.number(),
  lastError: v.union(v.string(), v.null()),
  receivedAt: v.number(),
  event: v.any(),
});

/** Dead letters, newest first. */
export const list = platformAdminQuery({
  args: { paginationOpts: paginationOptsValidator },
  returns: paginationResultValidator(vDeadLetter),
  handler: async (ctx, { paginationOpts }) => {
    const result = await ctx.db
      .query("webhookEvents")
      .withIndex("by_state_received", (q) => q.eq("state", "dead"))
      .order("desc")
      .paginate(paginationOpts);
    const tenants = await TenantDirectory.labelsFor(
      ctx,
      result.page.map((e) => e.tenantId),
    );
    return {
      ...result,
      page: result.page.map((e) => ({
        eventId: e._id,
        provider: e.provider,
        dedupeKey: e.dedupeKey,
        kind: e.kind,
        channelId: e.channelId ?? null,
        tenantId: e.tenantId ?? null,
        tenant: (e.tenantId && tenants.get(e.tenantId)) || null,
        attempts: e.attempts,
        lastError: e.lastError ?? null,
        receivedAt: e.receivedAt,
        event: e.event,
      })),
    };
  },
});

/** Puts a dead letter back to pending with a fresh set of attempts, and processes it now. */
export const replay = platformAdminMutation({
  args: { eventId: v.id("webhookEvents") },
  returns: v.object({ eventId: v.id("webhookEvents"), state: v.literal("pending") }),
  handler: async (ctx, { eventId }) => {
    const row = await ctx.db.get("webhookEvents", eventId);
    if (!row) fail("NOT_FOUND", "No such webhook event");
    if (row.state !== "dead")
      fail("CONFLICT", `Only dead letters can be replayed; this event is ${row.state}`);
    await ctx.db.patch("webhookEvents", row._id, { state: "pending", attempts: 0 });
    await ctx.scheduler.runAfter(0, internal.whatsappWebhooks.process, { eventId });
    // An event of a workspace's channel is that workspace's business too: recorded with its id, it
    // shows in the workspace's audit log as well as the platform's.
    await Audit.record(ctx, {
      tenantId: row.tenantId,
      actor: ctx.user,
      action: "webhook.replay",
      targetType: "webhookEvent",
      targetId: row._id,
      summary: `Replayed ${row.provider} webhook event ${row.dedupeKey} (${row.kind}) after ${row.attempts} attempt(s): ${row.lastError ?? "no error recorded"}`,
      before: { state: row.state, attempts: row.attempts, lastError: row.lastError ?? null },
      after: { state: "pending", attempts: 0 },
    });
    return { eventId: row._id, state: "pending" as const };
  },
});
