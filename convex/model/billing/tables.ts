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

export const vLedgerKind = v.union(
  v.literal("top_up"),
  v.literal("reservation"),
  v.literal("release"),
  v.literal("charge"),
  v.literal("refund"),
  v.literal("adjustment"),
);
export type LedgerKind = Infer<typeof vLedgerKind>;

/** What an entry is for: the message, campaign or assistant turn charged, or an admin's action. */
export const vReferenceKind = v.union(
  v.literal("message"),
  v.literal("campaign"),
  v.literal("assistant_turn"),
  v.literal("admin"),
);
export const vReference = v.object({ kind: vReferenceKind, id: v.string() });
export type Reference = Infer<typeof vReference>;

/** Who made an entry: a person (then a reason is required) or a part of the system. */
export const vActor = v.union(
  v.object({ kind: v.literal("user"), userId: v.id("users"), email: v.string() }),
  v.object({ kind: v.literal("system"), name: v.string() }),
);
export type Actor = Infer<typeof vActor>;

/** How a charge was priced, kept on the entry so the ledger explains itself. */
export const vChargeDetail = v.object({
  category: v.optional(v.string()),
  country: v.optional(v.string()),
  market: v.optional(v.string()),
  rateId: v.optional(v.id("rates")),
  rateMarket: v.optional(v.string()),
  base: v.optional(v.number()),
  markupBps: v.optional(v.number()),
  source: v.optional(v.string()),
  estimate: v.optional(v.boolean()),
  model: v.optional(v.string()),
  inputTokens: v.optional(v.number()),
  outputTokens: v.optional(v.number()),
  /** For refunds: the key of the charge refunded. */
  refundOf: v.optional(v.string()),
});
export type ChargeDetail = Infer<typeof vChargeDetail>;

/** A ledger entry (without the system fields). */
export const vLedgerEntry = v.object({
  tenantId: v.id("tenants"),
  /** 0, 1, 2… per tenant, without gaps. */
  seq: v.number(),
  kind: vLedgerKind,
  amount: v.number(),
  reservedChange: v.number(),
  balanceAfter: v.number(),
  reservedAfter: v.number(),
  /** Unique per tenant: the same key again returns this entry and writes nothing. */
  key: v.string(),
  reservationKey: v.optional(v.string()),
  referenceKind: vReferenceKind,
  referenceId: v.string(),
  actor: vActor,
  reason: v.optional(v.string()),
  detail: v.optional(vChargeDetail),
  at: v.number(),
});

export const billingTables = {
  /** One per tenant: the running totals the ledger adds up to, and the tenant's billing terms. */
  wallets: defineTable({
    tenantId: v.id("tenants"),
    /** The tenant's currency when the wallet was opened; fixed once the ledger has entries. */
    currency: v.string(),
    /** Sum of every ledger entry's amount, in micro-units. */
    balance: v.number(),
    /** Sum of the open reservations' remaining amounts. */
    reserved: v.number(),
    /** How far below zero `available` may go (positive, micro-units). */
    debtLimit: v.number(),
    /** Markup on Meta's message rates, in basis points (1000 = 10 %). */
    markupBps: v.number(),
    /** Balances that trigger a low-balance alert when crossed downwards (micro-units). */
    lowBalanceThresholds: v.array(v.number()),
    /**
     * Thresholds the balance is below and whose alert was sent: one email per crossing, re-armed
     * when the balance rises above the threshold again (model/billing/alerts.ts).
     */
    alertedThresholds: v.optional(v.array(v.number())),
    /** Entries written so far; the next entry's `seq`. */
    entryCount: v.number(),
    createdAt: v.number(),
    updatedAt: v.number(),
  }).index("by_tenant", ["tenantId"]),

  /**
   * Money held for sends that have not been priced yet: one per message, or one per campaign
   * dispatch batch that its messages' charges draw down (docs/decisions/013-billing-batch-reservations.md).
   */
  reservations: defineTable({
    tenantId: v.id("tenants"),
    key: v.string(),
    amount: v.number(),
    remaining: v.number(),
    /** For a batch: the share of one message, released when that message turns out free. */
    perItem: v.optional(v.number()),
    referenceKind: vReferenceKind,
    referenceId: v.string(),
    state: v.union(v.literal("open"), v.literal("closed")),
    createdAt: v.number(),
    closedAt: v.optional(v.number()),
  })
    .index("by_tenant_key", ["tenantId", "key"])
    .index("by_tenant_state", ["tenantId", "state"])
    // Reconciliation: open reservations past their deadline, across tenants.
    .index("by_state_created", ["state", "createdAt"]),

  /**
   * The append-only ledger. `amount` changes the balance, `reservedChange` the reserved total;
   * both totals after the entry are kept, so each entry can be checked against the one before.
   */
  ledgerEntries: defineTable(vLedgerEntry.fields)
    .index("by_tenant_seq", ["tenantId", "seq"])
    .index("by_tenant_key", ["tenantId", "key"])
    .index("by_tenant_kind_seq", ["tenantId", "kind", "seq"])
    .index("by_tenant_reference_seq", ["tenantId", "referenceKind", "referenceId", "seq"])
    // The ledger page's date filter (with and without a kind).
    .index("by_tenant_at", ["tenantId", "at"])
    .index("by_tenant_kind_at", ["tenantId", "kind", "at"]),

  /**
   * What a tenant spent per UTC day and spend category, kept up to date by every charge and
   * refund entry in the same mutation (model/billing/spend.ts), so charges read a few rows per
   * day instead of the ledger.
   */
  spendDaily: defineTable({
    tenantId: v.id("tenants"),
    /** "YYYY-MM-DD" in UTC, of the entry's time. */
    day: v.string(),
    /** A message category (vRateCategory), "ai" for model tokens, or "other". */
    category: v.string(),
    /** Charges minus refunds, in micro-units (a day with only refunds is negative). */
    amount: v.number(),
    /** Charge entries counted. */
    count: v.number(),
    /** Refunds included in `amount` (a positive total, micro-units). */
    refunded: v.number(),
  }).index("by_tenant_day_category", ["tenantId", "day", "category"]),

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
