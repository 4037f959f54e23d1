/**
 * Campaign tables (spread into convex/schema.ts): campaigns, their frozen recipients, sharded
 * progress counters and each channel's dispatch state. See docs/decisions/022-campaign-dispatch.md.
 */
import { defineTable } from "convex/server";
import { v, type Infer } from "convex/values";
import { vContactFilter } from "../contactFilter";

export const vCampaignState = v.union(
  v.literal("draft"),
  v.literal("scheduled"),
  /** Launched: the audience is being frozen into recipient rows. */
  v.literal("preparing"),
  v.literal("running"),
  v.literal("paused"),
  v.literal("completed"),
  v.literal("cancelled"),
  v.literal("failed"),
);
export type CampaignState = Infer<typeof vCampaignState>;

/** Who a campaign goes to; frozen into recipient rows at launch. */
export const vAudience = v.union(
  /** Contacts matching a filter (all contacts, a tag, or a saved segment's filter). */
  v.object({
    kind: v.literal("filter"),
    filter: vContactFilter,
    segmentId: v.optional(v.id("contactSegments")),
  }),
  v.object({ kind: v.literal("contacts"), contactIds: v.array(v.id("contacts")) }),
);
export type Audience = Infer<typeof vAudience>;

/** Where a template variable's value comes from for each recipient. */
export const vVariable = v.union(
  v.object({ source: v.literal("name"), fallback: v.optional(v.string()) }),
  v.object({ source: v.literal("phone") }),
  v.object({ source: v.literal("constant"), value: v.string() }),
);
export type Variable = Infer<typeof vVariable>;

/**
 * A recipient's state. `pending` waits for the dispatcher; `queued` has its send intent (a
 * message row) and is in the send pipeline; `unknown` was in flight when the outcome was lost
 * (see the decision record); `skipped` never had a message (opted out, no number…).
 */
export const vRecipientState = v.union(
  v.literal("pending"),
  v.literal("queued"),
  v.literal("sent"),
  v.literal("delivered"),
  v.literal("read"),
  v.literal("failed"),
  v.literal("skipped"),
  v.literal("unknown"),
);
export type RecipientState = Infer<typeof vRecipientState>;
export const RECIPIENT_STATES = [
  "pending",
  "queued",
  "sent",
  "delivered",
  "read",
  "failed",
  "skipped",
  "unknown",
] as const satisfies readonly RecipientState[];

export const vCounts = v.object({
  pending: v.number(),
  queued: v.number(),
  sent: v.number(),
  delivered: v.number(),
  read: v.number(),
  failed: v.number(),
  skipped: v.number(),
  unknown: v.number(),
});
export type Counts = Infer<typeof vCounts>;

export const campaignTables = {
  campaigns: defineTable({
    tenantId: v.id("tenants"),
    channelId: v.id("channels"),
    name: v.string(),
    templateId: v.id("templates"),
    /** The template as it was approved when the campaign was made (name, language, category). */
    template: v.object({ name: v.string(), language: v.string(), category: v.string() }),
    variables: v.array(vVariable),
    audience: vAudience,
    state: vCampaignState,
    /** Why it is paused or failed, in words a person understands. */
    stateReason: v.optional(v.string()),
    scheduledAt: v.optional(v.number()),
    createdBy: v.id("users"),
    createdAt: v.number(),
    launchedAt: v.optional(v.number()),
    finishedAt: v.optional(v.number()),
    /** Recipients frozen so far, and where the freeze continues (an audience cursor). */
    frozen: v.number(),
    freezeCursor: v.optional(v.union(v.string(), v.null())),
    /** The last freeze step: a freeze that stopped moving (its step failed) is restarted. */
    freezeStepAt: v.optional(v.number()),
    /** Set once every recipient is frozen. */
    audienceFrozen: v.optional(v.boolean()),
    /** Dispatch batches reserved so far (reservation keys `batch:<campaign>:<n>`). */
    batches: v.number(),
    /** Batches whose unused reservation was released after the campaign ended. */
    releasedBatches: v.optional(v.number()),
  })
    .index("by_tenant_created", ["tenantId", "createdAt"])
    .index("by_channel_state", ["channelId", "state"])
    .index("by_state_scheduled", ["state", "scheduledAt"]),

  campaignRecipients: defineTable({
    tenantId: v.id("tenants"),
    campaignId: v.id("campaigns"),
    contactId: v.id("contacts"),
    state: vRecipientState,
    /** When a pending recipient may be claimed (later after a pair-limit or marketing-cap error). */
    dueAt: v.number(),
    messageId: v.optional(v.id("messages")),
    /** Why it was skipped or failed (or is unknown). */
    reason: v.optional(v.string()),
    errorCode: v.optional(v.number()),
    /** Template parameters resolved at claim time. */
    parameters: v.optional(v.array(v.string())),
    /** The counter shard this recipient's changes are counted in. */
    shard: v.number(),
    /** When the contact first wrote back after the campaign's message was sent. */
    repliedAt: v.optional(v.number()),
    updatedAt: v.number(),
  })
    .index("by_campaign_state_due", ["campaignId", "state", "dueAt"])
    .index("by_campaign_contact", ["campaignId", "contactId"])
    .index("by_message", ["messageId"])
    // A contact's latest campaign recipient row (a reply is counted on it).
    .index("by_contact", ["contactId"])
    .index("by_campaign_replied", ["campaignId", "repliedAt"]),

  /**
   * A campaign's progress counts, split over a few shards so status webhooks for different
   * recipients rarely write the same document; a reader sums the shards.
   */
  campaignCounters: defineTable({
    campaignId: v.id("campaigns"),
    shard: v.number(),
    counts: vCounts,
    /** Recipients who wrote back after their message was sent (counted once each). */
    replied: v.optional(v.number()),
    /** Settled charges of the campaign's messages (micro-units), on the cost row only. */
    cost: v.optional(v.number()),
  }).index("by_campaign_shard", ["campaignId", "shard"]),

  /** A channel's dispatcher: its current rate and learned ceiling (model/campaigns/rate.ts) and the one tick chain that runs it. */
  channelDispatch: defineTable({
    channelId: v.id("channels"),
    /** Messages per second it sends at now, between 1 and `maxRate`. */
    rate: v.number(),
    maxRate: v.number(),
    lastTickAt: v.number(),
    /** The scheduled next tick; a new chain starts only when none is due. */
    nextTickAt: v.optional(v.number()),
    /** The scheduled job of that tick: the watchdog tells a tick that failed from one not run yet. */
    tickJobId: v.optional(v.id("_scheduled_functions")),
    /** When the latest burst of throttling errors (130429) began, shown to platform admins. */
    throttledAt: v.optional(v.number()),
    /** The throughput WhatsApp's errors say the number has, and when they said it (model/campaigns/rate.ts). */
    ceiling: v.optional(v.number()),
    ceilingAt: v.optional(v.number()),
    /** No longer written (the ceiling is counted now); cleared at the next throttling error. */
    burstRate: v.optional(v.number()),
    /** When throttled campaign sends are retried: the tick of that second claims fewer. */
    retriesDue: v.optional(v.array(v.number())),
    /** Sends earlier ticks' parts of the rate had no room for, claimed later (rate.ts `behindAfter`). */
    behind: v.optional(v.number()),
    sentTotal: v.number(),
  }).index("by_channel", ["channelId"]),

  /**
   * A channel's latest sends: a campaign send waits while the channel's second is full
   * (model/campaigns/pacing.ts).
   */
  sendWindows: defineTable({
    channelId: v.id("channels"),
    /** When the answers to the last few seconds' accepted sends came, ascending. */
    answered: v.array(v.number()),
    /** When the sends still waiting for an answer were claimed. */
    inFlight: v.array(v.number()),
  }).index("by_channel", ["channelId"]),
};
