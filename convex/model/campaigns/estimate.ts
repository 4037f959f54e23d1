/**
 * A campaign's estimate before launch: the first contacts of the audience checked the way the
 * dispatcher checks them at claim time (number, consent, a value for every variable) and priced
 * from the rate card for the template's category. The page scales the sample to the audience's
 * count; the real cost is what settlement charges. It also tells how many would take one of the
 * channel's messaging-limit people (decision 023) and how many of those would wait.
 */
import { v, type Infer } from "convex/values";
import type { Doc, Id } from "../../_generated/dataModel";
import type { QueryCtx } from "../../_generated/server";
import { priceFor } from "../billing/rates";
import { getWallet } from "../billing/wallet";
import { listContacts } from "../contacts";
import { fail } from "../errors";
import { consentRefusal } from "../outbound";
import { addressesOf, resolveContact } from "../whatsapp/contacts";
import { parametersFor, US_MARKETING_REASON, usMarketing } from "./dispatch";
import { alreadyReached, budgetOf } from "./limits";
import { windowOpen } from "../outbound";
import type { Audience, Variable } from "./tables";

/** Contacts the estimate checks (each costs a few reads: the contact, its aliases, a rate). */
export const ESTIMATE_SAMPLE = 100;

/** The channel's messaging limit as the estimate sees it. */
export const vLimitEstimate = v.object({
  /** The tier Meta reported (TIER_2K…), or null when not reported yet (250 is assumed). */
  tier: v.union(v.string(), v.null()),
  /** People per rolling 24 hours; null: unlimited. */
  limit: v.union(v.number(), v.null()),
  /** People reached outside a conversation in the last 24 hours. */
  used: v.number(),
  remaining: v.union(v.number(), v.null()),
  /** Sampled sendable contacts who would take one of the limit's people. */
  needed: v.number(),
  /** Of those, how many would wait for the limit to free up (for the sample as it is). */
  waiting: v.number(),
});
export type LimitEstimate = Infer<typeof vLimitEstimate>;

export type Estimate = {
  /** Contacts checked (the first of the audience). */
  sampled: number;
  /** Of those, how many would be sent. */
  sendable: number;
  /** Of those, how many would be skipped, by reason. */
  excluded: { reason: string; count: number }[];
  /** The sendable ones' price in the workspace's currency (micros), markup included. */
  cost: number;
  /** Sendable contacts with no rate for their market (sent anyway, priced at settlement). */
  unpriced: number;
  currency: string;
  messagingLimit: LimitEstimate;
};

export async function estimate(
  ctx: QueryCtx,
  tenant: Doc<"tenants">,
  args: { templateId: Id<"templates">; variables: Variable[]; audience: Audience },
): Promise<Estimate> {
  const template = await ctx.db.get("templates", args.templateId);
  if (!template || template.tenantId !== tenant._id) fail("NOT_FOUND", "No such template", "templateId");
  const category = (template.category ?? "marketing").toLowerCase();
  let ids: Id<"contacts">[];
  if (args.audience.kind === "contacts") {
    ids = args.audience.contactIds.slice(0, ESTIMATE_SAMPLE);
  } else {
    let filter = args.audience.filter;
    if (args.audience.segmentId) {
      const segment = await ctx.db.get("contactSegments", args.audience.segmentId);
      if (!segment || segment.tenantId !== tenant._id) fail("NOT_FOUND", "No such segment", "audience");
      filter = segment.filter;
    }
    const page = await listContacts(
      ctx,
      tenant._id,
      filter,
      { numItems: ESTIMATE_SAMPLE, cursor: null },
      ESTIMATE_SAMPLE,
    );
    ids = page.page.map((c) => c._id);
  }
  const markupBps = (await getWallet(ctx, tenant._id))?.markupBps ?? 0;
  const now = Date.now();
  const channel = await ctx.db.get("channels", template.channelId);
  const budget = channel ? await budgetOf(ctx, channel, now) : null;
  let needed = 0;
  const excluded = new Map<string, number>();
  const exclude = (reason: string) => excluded.set(reason, (excluded.get(reason) ?? 0) + 1);
  const seen = new Set<Id<"contacts">>();
  let sampled = 0;
  let sendable = 0;
  let cost = 0;
  let unpriced = 0;
  for (const id of ids) {
    sampled++;
    const contact = await resolveContact(ctx, id);
    if (!contact || contact.tenantId !== tenant._id) {
      exclude("The contact was deleted");
      continue;
    }
    if (seen.has(contact._id)) {
      exclude("Listed twice");
      continue;
    }
    seen.add(contact._id);
    const address = await addressesOf(ctx, contact._id);
    if (!address.phone && !address.waId && !address.bsuid) {
      exclude("No WhatsApp number");
      continue;
    }
    if (
      consentRefusal(
        contact,
        { lastInboundAt: undefined },
        { type: "template", template: { name: template.name, language: template.language, category } },
      )
    ) {
      exclude(contact.optedOutAt !== undefined ? "Opted out" : "Stopped marketing messages");
      continue;
    }
    const params = parametersFor(args.variables, contact);
    if (!params.ok) {
      exclude(`No value for {{${params.missing}}}`);
      continue;
    }
    // Known only by a business-scoped id: sent, and priced when settled.
    const phone = address.phone ?? (address.waId ? `+${address.waId}` : null);
    if (usMarketing(category, phone)) {
      exclude(US_MARKETING_REASON);
      continue;
    }
    sendable++;
    if (channel && budget && budget.limit !== null) {
      const conversation = await ctx.db
        .query("conversations")
        .withIndex("by_channel_contact", (q) => q.eq("channelId", channel._id).eq("contactId", contact._id))
        .first();
      const free =
        (conversation !== null && windowOpen(conversation, now)) ||
        (await alreadyReached(ctx, budget.scope, contact._id, now));
      if (!free) needed++;
    }
    if (!phone) {
      unpriced++;
      continue;
    }
    try {
      cost += (
        await priceFor(ctx, {
          phoneE164: phone,
          currency: tenant.currency,
          category,
          at: now,
          markupBps,
        })
      ).amount;
    } catch {
      unpriced++;
    }
  }
  return {
    sampled,
    sendable,
    excluded: [...excluded].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count),
    cost,
    unpriced,
    currency: tenant.currency,
    messagingLimit: {
      tier: budget?.tier ?? null,
      limit: budget?.limit ?? null,
      used: budget?.used ?? 0,
      remaining: budget?.remaining ?? null,
      needed,
      waiting: budget?.remaining === null || !budget ? 0 : Math.max(0, needed - budget.remaining),
    },
  };
}

/** Pending recipients priced for the estimate of what a running campaign still costs. */
export const REMAINING_SAMPLE = 10;

/**
 * The rate-card price (markup included) of the campaign's next pending recipients, averaged over
 * those with a rate: multiplied by the pending count, it estimates what the rest will cost.
 * Null when nobody is pending or none of them has a rate.
 */
export async function pendingPrice(
  ctx: QueryCtx,
  tenant: Doc<"tenants">,
  campaign: Doc<"campaigns">,
  wallet: Doc<"wallets"> | null,
): Promise<{ pricePerRecipient: number | null; sampled: number; unpriced: number }> {
  const pending = await ctx.db
    .query("campaignRecipients")
    .withIndex("by_campaign_state_due", (q) => q.eq("campaignId", campaign._id).eq("state", "pending"))
    .take(REMAINING_SAMPLE);
  const now = Date.now();
  let total = 0;
  let priced = 0;
  let unpriced = 0;
  for (const recipient of pending) {
    const address = await addressesOf(ctx, recipient.contactId);
    const phone = address.phone ?? (address.waId ? `+${address.waId}` : null);
    try {
      if (!phone) throw new Error("no number to price by");
      total += (
        await priceFor(ctx, {
          phoneE164: phone,
          currency: wallet?.currency ?? tenant.currency,
          category: campaign.template.category,
          at: now,
          markupBps: wallet?.markupBps ?? 0,
        })
      ).amount;
      priced++;
    } catch {
      unpriced++;
    }
  }
  return {
    pricePerRecipient: priced ? Math.round(total / priced) : null,
    sampled: pending.length,
    unpriced,
  };
}
