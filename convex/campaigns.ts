/** Campaigns: create, launch, pause, resume, cancel, live progress (logic in convex/model/campaigns/). */
import { paginationOptsValidator, paginationResultValidator } from "convex/server";
import { v, type Infer } from "convex/values";
import { internal } from "./_generated/api";
import type { Doc } from "./_generated/dataModel";
import type { MutationCtx, QueryCtx } from "./_generated/server";
import { internalMutation, tenantMutation, tenantQuery } from "./functions";
import { COST_SHARD, summary } from "./model/campaigns/counters";
import { getWallet } from "./model/billing/wallet";
import * as Dispatch from "./model/campaigns/dispatch";
import * as Estimate from "./model/campaigns/estimate";
import * as Lifecycle from "./model/campaigns/lifecycle";
import { vAudience, vCampaignState, vCounts, vRecipientState, vVariable } from "./model/campaigns/tables";

const vCampaignView = v.object({
  campaignId: v.id("campaigns"),
  name: v.string(),
  state: vCampaignState,
  stateReason: v.union(v.string(), v.null()),
  channelId: v.id("channels"),
  template: v.object({ name: v.string(), language: v.string(), category: v.string() }),
  createdAt: v.number(),
  scheduledAt: v.union(v.number(), v.null()),
  launchedAt: v.union(v.number(), v.null()),
  finishedAt: v.union(v.number(), v.null()),
  frozen: v.number(),
  audienceFrozen: v.boolean(),
  counts: vCounts,
  /** Recipients who wrote back after their message was sent. */
  replied: v.number(),
});

async function viewOf(ctx: QueryCtx, c: Doc<"campaigns">): Promise<Infer<typeof vCampaignView>> {
  const { counts, replied } = await summary(ctx, c._id);
  return {
    campaignId: c._id,
    name: c.name,
    state: c.state,
    stateReason: c.stateReason ?? null,
    channelId: c.channelId,
    template: c.template,
    createdAt: c.createdAt,
    scheduledAt: c.scheduledAt ?? null,
    launchedAt: c.launchedAt ?? null,
    finishedAt: c.finishedAt ?? null,
    frozen: c.frozen,
    audienceFrozen: c.audienceFrozen ?? false,
    counts,
    replied,
  };
}

/** The workspace's campaigns, newest first, with their counts. */
export const list = tenantQuery({
  role: "viewer",
  args: { paginationOpts: paginationOptsValidator },
  returns: paginationResultValidator(vCampaignView),
  handler: async (ctx, { paginationOpts }) => {
    const page = await ctx.db
      .query("campaigns")
      .withIndex("by_tenant_created", (q) => q.eq("tenantId", ctx.tenant._id))
      .order("desc")
      .paginate({ ...paginationOpts, numItems: Math.min(paginationOpts.numItems, 50) });
    return {
      ...page,
      page: await Promise.all(page.page.map((c) => viewOf(ctx, c))),
    };
  },
});

/** One campaign with its live counts. */
export const get = tenantQuery({
  role: "viewer",
  args: { campaignId: v.id("campaigns") },
  returns: vCampaignView,
  handler: async (ctx, { campaignId }) =>
    await viewOf(ctx, await Lifecycle.campaignOf(ctx, ctx.tenant._id, campaignId)),
});

const vRecipientFilter = v.union(vRecipientState, v.literal("all"), v.literal("replied"));

/**
 * A campaign's recipients, paginated (the drill-down): those in one state, everyone, or those who
 * replied (most recent reply first).
 */
export const recipients = tenantQuery({
  role: "viewer",
  args: { campaignId: v.id("campaigns"), state: vRecipientFilter, paginationOpts: paginationOptsValidator },
  returns: paginationResultValidator(
    v.object({
      recipientId: v.id("campaignRecipients"),
      contactId: v.id("contacts"),
      contactName: v.union(v.string(), v.null()),
      contactPhone: v.union(v.string(), v.null()),
      state: vRecipientState,
      reason: v.union(v.string(), v.null()),
      errorCode: v.union(v.number(), v.null()),
      repliedAt: v.union(v.number(), v.null()),
      updatedAt: v.number(),
    }),
  ),
  handler: async (ctx, { campaignId, state, paginationOpts }) => {
    const campaign = await Lifecycle.campaignOf(ctx, ctx.tenant._id, campaignId);
    const opts = { ...paginationOpts, numItems: Math.min(paginationOpts.numItems, 100) };
    const page =
      state === "all"
        ? await ctx.db
            .query("campaignRecipients")
            .withIndex("by_campaign_contact", (q) => q.eq("campaignId", campaign._id))
            .paginate(opts)
        : state === "replied"
          ? await ctx.db
              .query("campaignRecipients")
              .withIndex("by_campaign_replied", (q) => q.eq("campaignId", campaign._id).gt("repliedAt", 0))
              .order("desc")
              .paginate(opts)
          : await ctx.db
              .query("campaignRecipients")
              .withIndex("by_campaign_state_due", (q) => q.eq("campaignId", campaign._id).eq("state", state))
              .paginate(opts);
    const rows = await Promise.all(
      page.page.map(async (r) => {
        const contact = await ctx.db.get("contacts", r.contactId);
        return {
          recipientId: r._id,
          contactId: r.contactId,
          contactName: contact?.name ?? null,
          contactPhone: contact?.phone ?? null,
          state: r.state,
          reason: r.reason ?? null,
          errorCode: r.errorCode ?? null,
          repliedAt: r.repliedAt ?? null,
          updatedAt: r.updatedAt,
        };
      }),
    );
    return { ...page, page: rows };
  },
});

/**
 * What a launched campaign has cost and may still cost: the net of the ledger's charges and
 * refunds of its messages (settlement's charges, reconciliation's estimates), the rate-card price of its next pending recipients (the page
 * multiplies it by the pending count), and its number's current sending rate.
 */
export const outlook = tenantQuery({
  role: "viewer",
  args: { campaignId: v.id("campaigns") },
  returns: v.object({
    currency: v.string(),
    settled: v.number(),
    pricePerRecipient: v.union(v.number(), v.null()),
    sampled: v.number(),
    unpriced: v.number(),
    rate: v.union(v.number(), v.null()),
    maxRate: v.union(v.number(), v.null()),
  }),
  handler: async (ctx, { campaignId }) => {
    const campaign = await Lifecycle.campaignOf(ctx, ctx.tenant._id, campaignId);
    const wallet = await getWallet(ctx, ctx.tenant._id);
    const costRow = await ctx.db
      .query("campaignCounters")
      .withIndex("by_campaign_shard", (q) => q.eq("campaignId", campaign._id).eq("shard", COST_SHARD))
      .first();
    const remaining = await Estimate.pendingPrice(ctx, ctx.tenant, campaign, wallet);
    const dispatch = await ctx.db
      .query("channelDispatch")
      .withIndex("by_channel", (q) => q.eq("channelId", campaign.channelId))
      .first();
    return {
      currency: wallet?.currency ?? ctx.tenant.currency,
      settled: costRow?.cost ?? 0,
      ...remaining,
      rate: dispatch?.rate ?? null,
      maxRate: dispatch?.maxRate ?? null,
    };
  },
});

/** How many failed recipients "Retry failed" would send again, for its confirmation. */
export const retryable = tenantQuery({
  role: "viewer",
  args: { campaignId: v.id("campaigns") },
  returns: v.object({ retryable: v.number(), final: v.number(), capped: v.boolean() }),
  handler: async (ctx, { campaignId }) =>
    await Lifecycle.retryableCount(ctx, await Lifecycle.campaignOf(ctx, ctx.tenant._id, campaignId)),
});

/**
 * Before launch: the first contacts of an audience checked as the dispatcher would (sendable, or
 * skipped and why) and priced from the rate card; the page scales it to the audience's count.
 */
export const estimate = tenantQuery({
  role: "admin",
  args: { templateId: v.id("templates"), variables: v.array(vVariable), audience: vAudience },
  returns: v.object({
    sampled: v.number(),
    sendable: v.number(),
    excluded: v.array(v.object({ reason: v.string(), count: v.number() })),
    cost: v.number(),
    unpriced: v.number(),
    currency: v.string(),
    messagingLimit: Estimate.vLimitEstimate,
  }),
  handler: (ctx, args) => Estimate.estimate(ctx, ctx.tenant, args),
});

export const create = tenantMutation({
  role: "admin",
  args: {
    name: v.string(),
    channelId: v.id("channels"),
    templateId: v.id("templates"),
    variables: v.array(vVariable),
    audience: vAudience,
    scheduledAt: v.optional(v.number()),
  },
  returns: v.id("campaigns"),
  handler: (ctx, args) => Lifecycle.createCampaign(ctx, ctx, args),
});

/** A new draft with the same number, template, variables and audience. */
export const duplicate = tenantMutation({
  role: "admin",
  args: { campaignId: v.id("campaigns") },
  returns: v.id("campaigns"),
  handler: (ctx, { campaignId }) => Lifecycle.duplicate(ctx, ctx, campaignId),
});

/** Sends again to the failed recipients a second try can help (see Lifecycle.retryFailed). */
export const retryFailed = tenantMutation({
  role: "admin",
  args: { campaignId: v.id("campaigns") },
  returns: v.object({ retried: v.number(), more: v.boolean() }),
  handler: (ctx, { campaignId }) => Lifecycle.retryFailed(ctx, ctx, campaignId),
});

export const launch = tenantMutation({
  role: "admin",
  args: { campaignId: v.id("campaigns") },
  returns: v.null(),
  handler: async (ctx, { campaignId }) => {
    await Lifecycle.launch(ctx, ctx, campaignId);
    return null;
  },
});

export const pause = tenantMutation({
  role: "admin",
  args: { campaignId: v.id("campaigns") },
  returns: v.null(),
  handler: async (ctx, { campaignId }) => {
    await Lifecycle.transition(ctx, ctx, campaignId, "pause");
    return null;
  },
});

export const resume = tenantMutation({
  role: "admin",
  args: { campaignId: v.id("campaigns") },
  returns: v.null(),
  handler: async (ctx, { campaignId }) => {
    await Lifecycle.transition(ctx, ctx, campaignId, "resume");
    return null;
  },
});

export const cancel = tenantMutation({
  role: "admin",
  args: { campaignId: v.id("campaigns") },
  returns: v.null(),
  handler: async (ctx, { campaignId }) => {
    await Lifecycle.transition(ctx, ctx, campaignId, "cancel");
    return null;
  },
});

// ---------------------------------------------------------------- internal

export const startScheduled = internalMutation({
  args: { campaignId: v.id("campaigns") },
  returns: v.null(),
  handler: async (ctx, { campaignId }) => {
    await Lifecycle.startScheduled(ctx, campaignId);
    return null;
  },
});

export const freezeStep = internalMutation({
  args: { campaignId: v.id("campaigns") },
  returns: v.null(),
  handler: async (ctx, { campaignId }) => {
    await Lifecycle.freezeStep(ctx, campaignId);
    return null;
  },
});

export const retryFailedStep = internalMutation({
  args: { campaignId: v.id("campaigns"), cursor: v.string() },
  returns: v.null(),
  handler: async (ctx, { campaignId, cursor }) => {
    await Lifecycle.retryFailedStep(ctx, campaignId, cursor);
    return null;
  },
});

export const tick = internalMutation({
  args: { channelId: v.id("channels"), at: v.number() },
  returns: v.object({ claimed: v.number(), skipped: v.number(), campaigns: v.number() }),
  handler: (ctx, { channelId, at }) => Dispatch.tick(ctx, channelId, at),
});

/** A freeze or a tick chain this long overdue is dead (its step failed). */
const STALLED_MS = 30_000;

/**
 * Restarts work that died: a freeze step or a dispatcher tick that failed (e.g. ran past the
 * one-second limit on an overloaded server) schedules no successor, and its campaigns would wait
 * forever. A freeze that has not moved for half a minute gets its next step again (steps continue
 * from the stored cursor and skip contacts already frozen); a chain whose next tick is more than
 * half a minute overdue is replaced (dispatch.ts ensureTickAt), and its rate halved when that tick
 * failed (a tick that ran past the time limit claimed too many at once; one that has not run yet,
 * as after a restart, says nothing about the rate); live and sleeping chains are left alone.
 * Run by a cron.
 */
/**
 * Whether the chain's overdue tick failed. One that has not run yet (the backend was down or
 * behind, as after a restart) or was cancelled says nothing about the rate. A row from before
 * ticks' jobs were kept counts as failed, as the watchdog assumed then.
 */
async function tickFailed(ctx: MutationCtx, row: Doc<"channelDispatch">): Promise<boolean> {
  if (row.tickJobId === undefined) return true;
  const job = await ctx.db.system.get("_scheduled_functions", row.tickJobId);
  return job?.state.kind === "failed";
}

export const restartStalledDispatch = internalMutation({
  args: {},
  returns: v.object({ channels: v.number(), freezes: v.number() }),
  handler: async (ctx) => {
    const preparing = await ctx.db
      .query("campaigns")
      .withIndex("by_state_scheduled", (q) => q.eq("state", "preparing"))
      .take(100);
    let freezes = 0;
    for (const campaign of preparing) {
      const last = campaign.freezeStepAt ?? campaign.launchedAt ?? campaign.createdAt;
      if (last > Date.now() - STALLED_MS) continue;
      await ctx.db.patch("campaigns", campaign._id, { freezeStepAt: Date.now() });
      await ctx.scheduler.runAfter(0, internal.campaigns.freezeStep, { campaignId: campaign._id });
      freezes++;
    }
    const running = await ctx.db
      .query("campaigns")
      .withIndex("by_state_scheduled", (q) => q.eq("state", "running"))
      .take(200);
    const channels = [...new Set(running.map((c) => c.channelId))];
    const now = Date.now();
    for (const channelId of channels) {
      const row = await ctx.db
        .query("channelDispatch")
        .withIndex("by_channel", (q) => q.eq("channelId", channelId))
        .first();
      const at = row?.nextTickAt !== undefined && row.nextTickAt > now ? row.nextTickAt : now;
      if (
        row?.nextTickAt !== undefined &&
        row.nextTickAt < now - STALLED_MS &&
        (await tickFailed(ctx, row))
      ) {
        // The tick most likely died of its own size (past the time limit): a failed tick rolls
        // back, so without this the same rate would fail again. Halve it.
        await ctx.db.patch("channelDispatch", row._id, { rate: Math.max(1, Math.floor(row.rate / 2)) });
      }
      await Dispatch.ensureTickAt(ctx, channelId, at);
    }
    return { channels: channels.length, freezes };
  },
});

export const releaseReservations = internalMutation({
  args: { campaignId: v.id("campaigns") },
  returns: v.null(),
  handler: async (ctx, { campaignId }) => {
    await Dispatch.releaseReservations(ctx, campaignId);
    return null;
  },
});
