/**
 * A campaign's progress counts without a hot document: recipients are spread over SHARDS counter
 * rows (each recipient keeps its shard), so status webhooks for different recipients rarely write
 * the same row; readers sum the shards (SHARDS reads, never a scan of the recipients).
 */
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../../_generated/server";
import { RECIPIENT_STATES, type Counts, type RecipientState } from "./tables";

export const SHARDS = 8;
/**
 * The row holding a campaign's cost so far: every ledger charge and refund of one of its messages
 * (settlement, reconciliation's estimate, the refund of an estimate or of a charge) moves it, in
 * the mutation that writes the entry (`campaignCostEntry`). Kept apart from the state shards, so
 * money never conflicts with status webhooks moving recipients.
 */
export const COST_SHARD = SHARDS;

export function zeroCounts(): Counts {
  return Object.fromEntries(RECIPIENT_STATES.map((s) => [s, 0])) as Counts;
}

/** Adds `deltas` to the campaign's counter shard `shard` (created on first use). */
export async function bump(
  ctx: MutationCtx,
  campaignId: Id<"campaigns">,
  shard: number,
  deltas: Partial<Record<RecipientState, number>>,
): Promise<void> {
  const entries = Object.entries(deltas).filter(([, d]) => d) as [RecipientState, number][];
  if (!entries.length) return;
  const row = await ctx.db
    .query("campaignCounters")
    .withIndex("by_campaign_shard", (q) => q.eq("campaignId", campaignId).eq("shard", shard))
    .first();
  const counts = row ? { ...row.counts } : zeroCounts();
  for (const [state, delta] of entries) counts[state] += delta;
  if (row) await ctx.db.patch("campaignCounters", row._id, { counts });
  else await ctx.db.insert("campaignCounters", { campaignId, shard, counts });
}

/** One recipient moving from one state to another, counted in its shard. */
export async function moved(
  ctx: MutationCtx,
  campaignId: Id<"campaigns">,
  shard: number,
  from: RecipientState,
  to: RecipientState,
): Promise<void> {
  if (from === to) return;
  await bump(ctx, campaignId, shard, { [from]: -1, [to]: 1 } as Partial<Record<RecipientState, number>>);
}

/** Adds to a shard's replied count or the cost row's cost so far (created on first use). */
export async function bumpExtra(
  ctx: MutationCtx,
  campaignId: Id<"campaigns">,
  shard: number,
  extra: { replied?: number; cost?: number },
): Promise<void> {
  const row = await ctx.db
    .query("campaignCounters")
    .withIndex("by_campaign_shard", (q) => q.eq("campaignId", campaignId).eq("shard", shard))
    .first();
  const next = {
    replied: (row?.replied ?? 0) + (extra.replied ?? 0),
    cost: (row?.cost ?? 0) + (extra.cost ?? 0),
  };
  if (row) await ctx.db.patch("campaignCounters", row._id, next);
  else await ctx.db.insert("campaignCounters", { campaignId, shard, counts: zeroCounts(), ...next });
}

export type Summary = { counts: Counts; replied: number; cost: number };

/** The campaign's counts, replies and cost so far: one read of its shards. */
export async function summary(ctx: QueryCtx, campaignId: Id<"campaigns">): Promise<Summary> {
  const rows = await ctx.db
    .query("campaignCounters")
    .withIndex("by_campaign_shard", (q) => q.eq("campaignId", campaignId))
    .take(SHARDS * 2);
  const counts = zeroCounts();
  let replied = 0;
  let cost = 0;
  for (const row of rows) {
    for (const s of RECIPIENT_STATES) counts[s] += row.counts[s];
    replied += row.replied ?? 0;
    cost += row.cost ?? 0;
  }
  return { counts, replied, cost };
}

/** The campaign's counts: the sum of its shards. */
export async function totals(ctx: QueryCtx, campaignId: Id<"campaigns">): Promise<Counts> {
  const rows = await ctx.db
    .query("campaignCounters")
    .withIndex("by_campaign_shard", (q) => q.eq("campaignId", campaignId))
    .take(SHARDS * 2);
  const sum = zeroCounts();
  for (const row of rows) for (const s of RECIPIENT_STATES) sum[s] += row.counts[s];
  return sum;
}

/** Recipients that still need the dispatcher or a status: the campaign is not finished. */
export function outstanding(counts: Counts): number {
  return counts.pending + counts.queued;
}

/** The campaign a campaign message was sent for: from its batch reservation, else its recipient. */
export async function campaignOfMessage(
  ctx: QueryCtx,
  message: Doc<"messages">,
): Promise<Id<"campaigns"> | null> {
  const fromKey = /^batch:([^:]+):\d+$/.exec(message.reservationKey ?? "")?.[1];
  const id = fromKey ? ctx.db.normalizeId("campaigns", fromKey) : null;
  if (id) return id;
  const recipient = await ctx.db
    .query("campaignRecipients")
    .withIndex("by_message", (q) => q.eq("messageId", message._id))
    .first();
  return recipient?.campaignId ?? null;
}

/**
 * A new ledger entry was written: a charge or refund of a campaign message moves the campaign's
 * cost so far by its amount (charges are negative, so the cost grows by −amount). Called from
 * the ledger's one write path for new entries only, so each entry counts exactly once, and the
 * cost row always equals the net of the ledger for the campaign's messages.
 */
export async function campaignCostEntry(ctx: MutationCtx, entry: Doc<"ledgerEntries">): Promise<void> {
  if (entry.referenceKind !== "message" || (entry.kind !== "charge" && entry.kind !== "refund")) return;
  if (entry.amount === 0) return;
  const messageId = ctx.db.normalizeId("messages", entry.referenceId);
  const message = messageId ? await ctx.db.get("messages", messageId) : null;
  if (!message || message.origin !== "campaign" || message.tenantId !== entry.tenantId) return;
  const campaignId = await campaignOfMessage(ctx, message);
  if (campaignId) await bumpExtra(ctx, campaignId, COST_SHARD, { cost: -entry.amount });
}
