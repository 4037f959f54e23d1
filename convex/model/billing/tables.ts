/** Billing tables (spread into convex/schema.ts): rate card, AI prices, wallets and the ledger. */
import { defineTable } from "convex/server";
import { v, type Infer } from "convex/values";

/** What Meta charges a message as (pricing.category, with "-" spelled "_"). */
export const vRateCategory = v.union(
  v.literal("marketing"),
  v.literal("marketing_lite"),
  v.literal("utility"),
  v.literal("authentication"),
  v.literal("authentication_international"),
  v.literal("service"),
  v.literal("general_purpose_ai"),
);
export type RateCategory = Infer<typeof vRateCategory>;

export const billingTables = {
  /**
   * Meta's per-message rates, one row per currency × market × category × effective date, in
   * micro-units. A rate is in force from its date until the next row of the same key.
   */
  rates: defineTable({
    currency: v.string(),
    /** ISO country of a standalone market, or a region id (model/billing/markets.ts). */
    market: v.string(),
    category: vRateCategory,
    /** 00:00 UTC of the first day the rate applies (Meta changes rates only at quarter starts). */
    effectiveFrom: v.number(),
    amount: v.number(),
    /** Source letters from rates.md ("B,C,R"), or who entered it. */
    source: v.string(),
    /** Not verified for this date. */
    estimate: v.boolean(),
    note: v.optional(v.string()),
    createdAt: v.number(),
  })
    .index("by_currency_market_category_from", ["currency", "market", "category", "effectiveFrom"])
    .index("by_currency_from", ["currency", "effectiveFrom"]),

  /** AI model prices per million input and output tokens, in micro-units of the currency. */
  modelPrices: defineTable({
    currency: v.string(),
    model: v.string(),
    effectiveFrom: v.number(),
    inputPerMillion: v.number(),
    outputPerMillion: v.number(),
    source: v.string(),
    estimate: v.boolean(),
    createdAt: v.number(),
  }).index("by_currency_model_from", ["currency", "model", "effectiveFrom"]),
};
