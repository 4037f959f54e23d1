/** Credits and billing: wallets, the ledger and the rate card (logic in convex/model/billing/). */
import { paginationOptsValidator, paginationResultValidator } from "convex/server";
import { v } from "convex/values";
import {
  internalMutation,
  internalQuery,
  platformAdminMutation,
  platformAdminQuery,
  tenantMutation,
  tenantQuery,
} from "./functions";
import * as Alerts from "./model/billing/alerts";
import * as BillingAdmin from "./model/billing/admin";
import { listLedger } from "./model/billing/history";
import * as RateEditor from "./model/billing/rateEditor";
import * as Spend from "./model/billing/spend";
import { vLedgerEntry, vLedgerKind, vRateCategory, vReferenceKind } from "./model/billing/tables";
import { getWallet, walletView } from "./model/billing/wallet";
import { seedModelPrices } from "./model/billing/aiPrices";
import * as Invariant from "./model/billing/invariant";
import * as Settlement from "./model/billing/settlement";
import { internal } from "./_generated/api";
import { PUBLISHED_RATES_JOB, publishedRatesFingerprint } from "./model/billing/published";
import { seedRateCard } from "./model/billing/rates";
import { jobStatus, recordJobRun } from "./model/system";

/**
 * Loads the seeded rate card and AI prices; safe to run again (rows already there are kept).
 * With `batched`, it loads the AI prices and a first batch of rates and schedules the rest a batch
 * per mutation (as the Rates page does), so no mutation runs into its time limit:
 * `npx convex run billing:seedRates '{"batched": true}'`.
 */
export const seedRates = internalMutation({
  args: { batched: v.optional(v.boolean()) },
  returns: v.object({
    inserted: v.number(),
    unchanged: v.number(),
    differing: v.array(v.string()),
    modelPricesInserted: v.number(),
  }),
  handler: async (ctx, { batched }) => {
    const now = Date.now();
    const models = await seedModelPrices(ctx, now);
    if (batched) {
      const { progress } = await RateEditor.seedBatch(ctx, null, {
        from: 0,
        inserted: 0,
        unchanged: 0,
        differing: 0,
        modelPrices: models.inserted,
      });
      // The first batch's counts; the rest are added by the scheduled batches.
      return {
        inserted: progress.inserted,
        unchanged: progress.unchanged,
        differing: [],
        modelPricesInserted: models.inserted,
      };
    }
    const rates = await seedRateCard(ctx, now);
    return { ...rates, modelPricesInserted: models.inserted };
  },
});

/**
 * Settles priced outbound messages against their tenants' wallets, a batch at a time: run by a
 * cron every few seconds, and again at once while a full batch was found.
 */
export const settlePending = internalMutation({
  args: {},
  returns: v.object({ settled: v.number(), charged: v.number(), errors: v.number(), more: v.boolean() }),
  handler: async (ctx) => {
    const run = await Settlement.settlePending(ctx);
    if (run.more) await ctx.scheduler.runAfter(0, internal.billing.settlePending, {});
    return run;
  },
});

/**
 * Loads the rate card and AI prices shipped with this version of Switchboard, once per version:
 * a cron calls it every 10 minutes (one read when nothing changed) and the local stack on every
 * start, so a fresh deployment prices messages without anyone running anything. Rows an admin
 * added are never touched; a shipped rate that differs from a stored one is reported, not changed.
 */
export const loadPublishedRates = internalMutation({
  args: {},
  returns: v.object({ loaded: v.boolean(), inserted: v.number(), differing: v.array(v.string()) }),
  handler: async (ctx) => {
    const fingerprint = publishedRatesFingerprint();
    const last = await jobStatus(ctx, PUBLISHED_RATES_JOB);
    if (last?.lastOk && last.lastDetail === fingerprint) return { loaded: false, inserted: 0, differing: [] };
    const now = Date.now();
    const rates = await seedRateCard(ctx, now);
    const models = await seedModelPrices(ctx, now);
    await recordJobRun(ctx, PUBLISHED_RATES_JOB, now, true, fingerprint);
    return { loaded: true, inserted: rates.inserted + models.inserted, differing: rates.differing };
  },
});

const vCarry = v.object({ seq: v.number(), balance: v.number(), reserved: v.number() });

/**
 * The ledger-vs-wallet invariant for one tenant, a page at a time: the reconciliation job calls it
 * with the returned cursor and carry until `isDone`.
 */
export const checkWalletInvariant = internalQuery({
  args: {
    tenantId: v.id("tenants"),
    cursor: v.optional(v.union(v.string(), v.null())),
    carry: v.optional(vCarry),
    pageSize: v.optional(v.number()),
  },
  returns: v.object({
    ok: v.boolean(),
    problems: v.array(v.string()),
    isDone: v.boolean(),
    cursor: v.union(v.string(), v.null()),
    carry: vCarry,
  }),
  handler: (ctx, { tenantId, ...page }) => Invariant.checkWalletInvariant(ctx, tenantId, page),
});

const vWalletView = v.object({
  currency: v.string(),
  balance: v.number(),
  reserved: v.number(),
  available: v.number(),
  debtLimit: v.number(),
  markupBps: v.number(),
  lowBalanceThresholds: v.array(v.number()),
  currencyLocked: v.boolean(),
});

/** The workspace's credits: balance, reserved, available and debt limit, in micro-units. */
export const wallet = tenantQuery({
  role: "admin",
  args: {},
  returns: vWalletView,
  handler: async (ctx) => walletView(ctx.tenant, await getWallet(ctx, ctx.tenant._id)),
});

/**
 * The workspace's ledger, newest first, optionally of one kind and within a time range
 * (`from` inclusive, `to` exclusive, in ms).
 */
export const ledger = tenantQuery({
  role: "admin",
  args: {
    kind: v.optional(vLedgerKind),
    from: v.optional(v.number()),
    to: v.optional(v.number()),
    paginationOpts: paginationOptsValidator,
  },
  returns: paginationResultValidator(
    v.object({ _id: v.id("ledgerEntries"), _creationTime: v.number(), ...vLedgerEntry.fields }),
  ),
  handler: (ctx, { paginationOpts, ...filter }) => listLedger(ctx, ctx.tenant._id, filter, paginationOpts),
});

const vCategorySpend = v.object({
  category: v.string(),
  amount: v.number(),
  count: v.number(),
  refunded: v.number(),
});

/**
 * What the workspace spent per UTC day and category over the `days` days ending with `to`
 * ("YYYY-MM-DD"), from the daily rollups (never the ledger), in micro-units of `currency`.
 */
export const spend = tenantQuery({
  role: "admin",
  args: { to: v.string(), days: v.number() },
  returns: v.object({
    currency: v.string(),
    from: v.string(),
    to: v.string(),
    total: v.number(),
    days: v.array(v.object({ day: v.string(), total: v.number(), categories: v.array(vCategorySpend) })),
    categories: v.array(vCategorySpend),
  }),
  handler: async (ctx, args) => {
    const wallet = walletView(ctx.tenant, await getWallet(ctx, ctx.tenant._id));
    return { currency: wallet.currency, ...(await Spend.spendReport(ctx, ctx.tenant._id, args)) };
  },
});

/** What one reference (a campaign, a message, an assistant turn) cost the workspace, net of refunds. */
export const referenceCost = tenantQuery({
  role: "admin",
  args: { referenceKind: vReferenceKind, referenceId: v.string() },
  returns: v.object({
    currency: v.string(),
    charged: v.number(),
    refunded: v.number(),
    net: v.number(),
    entries: v.number(),
    complete: v.boolean(),
  }),
  handler: async (ctx, { referenceKind, referenceId }) => {
    const wallet = walletView(ctx.tenant, await getWallet(ctx, ctx.tenant._id));
    const cost = await Spend.referenceCost(ctx, ctx.tenant._id, { kind: referenceKind, id: referenceId });
    return { currency: wallet.currency, ...cost };
  },
});

const vCreditResult = v.object({
  entryId: v.id("ledgerEntries"),
  duplicate: v.boolean(),
  wallet: vWalletView,
});

/**
 * Adds credits to a workspace (payment gateways are out of scope: credits come from platform
 * admins). `amount` is a decimal in the workspace's currency; `key` makes a retried form
 * submission add them once.
 */
export const topUp = platformAdminMutation({
  args: { tenantId: v.id("tenants"), amount: v.string(), reason: v.string(), key: v.optional(v.string()) },
  returns: vCreditResult,
  handler: (ctx, args) => BillingAdmin.grantCredits(ctx, ctx.user, args),
});

/** Corrects a workspace's balance by a signed decimal amount, with a reason. */
export const adjust = platformAdminMutation({
  args: { tenantId: v.id("tenants"), amount: v.string(), reason: v.string(), key: v.optional(v.string()) },
  returns: vCreditResult,
  handler: (ctx, args) => BillingAdmin.adjustCredits(ctx, ctx.user, args),
});

/** Sets how far below zero a workspace's available credit may go. */
export const setDebtLimit = platformAdminMutation({
  args: { tenantId: v.id("tenants"), debtLimit: v.string(), reason: v.string() },
  returns: vWalletView,
  handler: (ctx, args) => BillingAdmin.setDebtLimit(ctx, ctx.user, args),
});

/** Sets a workspace's markup on message rates, in basis points (1000 = +10 %). */
export const setMarkup = platformAdminMutation({
  args: { tenantId: v.id("tenants"), markupBps: v.number(), reason: v.string() },
  returns: vWalletView,
  handler: (ctx, args) => BillingAdmin.setMarkup(ctx, ctx.user, args),
});

/**
 * Sets the balances below which the workspace's owners and admins get an email (decimals in the
 * workspace's currency, at most five; an empty list turns the alerts off).
 */
export const setLowBalanceThresholds = tenantMutation({
  role: "admin",
  args: { thresholds: v.array(v.string()) },
  returns: v.array(v.number()),
  handler: (ctx, { thresholds }) => Alerts.setLowBalanceThresholds(ctx, ctx.user, ctx.tenant, thresholds),
});

// ---------------------------------------------------------------- the rate card (platform admins)

const vSeedProgress = v.object({
  from: v.number(),
  inserted: v.number(),
  unchanged: v.number(),
  differing: v.number(),
  modelPrices: v.number(),
});

/**
 * Loads the published rate card and AI prices from the seed, a batch per mutation (the rates
 * appear as they are added); safe to run again. Audited once, when done, if it added anything.
 */
export const loadPublishedCard = platformAdminMutation({
  args: {},
  returns: v.object({ total: v.number(), modelPricesInserted: v.number(), done: v.boolean() }),
  handler: (ctx) => RateEditor.startSeed(ctx, ctx.user),
});

/** The next batch of `loadPublishedCard` (or of `seedRates` run with `batched`, then without a user). */
export const continuePublishedRates = internalMutation({
  args: { userId: v.union(v.id("users"), v.null()), progress: vSeedProgress },
  returns: v.null(),
  handler: async (ctx, { userId, progress }) => {
    await RateEditor.seedBatch(ctx, userId, progress);
    return null;
  },
});

/** One currency's message rates, optionally of one market and category. */
export const rates = platformAdminQuery({
  args: { currency: v.string(), market: v.optional(v.string()), category: v.optional(vRateCategory) },
  returns: v.array(
    v.object({
      rateId: v.id("rates"),
      currency: v.string(),
      market: v.string(),
      marketName: v.string(),
      category: vRateCategory,
      effectiveFrom: v.string(),
      amount: v.number(),
      source: v.string(),
      estimate: v.boolean(),
      note: v.union(v.string(), v.null()),
    }),
  ),
  handler: (ctx, args) => RateEditor.listRates(ctx, args),
});

/** Every AI model price per million tokens. */
export const modelPrices = platformAdminQuery({
  args: {},
  returns: v.array(
    v.object({
      priceId: v.id("modelPrices"),
      currency: v.string(),
      model: v.string(),
      effectiveFrom: v.string(),
      inputPerMillion: v.number(),
      outputPerMillion: v.number(),
      source: v.string(),
      estimate: v.boolean(),
    }),
  ),
  handler: (ctx) => RateEditor.listModelPrices(ctx),
});

/**
 * Adds a rate version from a quarter start (the current one or later), or corrects a version that
 * has not started yet. Values are typed text, checked like a CSV row; a bad one throws on its field.
 */
export const addRate = platformAdminMutation({
  args: {
    currency: v.string(),
    market: v.string(),
    category: v.string(),
    rate: v.string(),
    effectiveFrom: v.string(),
    source: v.optional(v.string()),
    estimate: v.optional(v.boolean()),
    note: v.optional(v.string()),
  },
  returns: v.object({
    rateId: v.id("rates"),
    action: v.union(v.literal("insert"), v.literal("replace"), v.literal("unchanged")),
  }),
  handler: (ctx, { estimate, ...input }) =>
    RateEditor.addRate(ctx, ctx.user, { ...input, estimate: estimate ? "true" : "false" }),
});

/**
 * Checks a rate card CSV (currency, market, category, rate, effective_from[, source, estimate,
 * note]) and, unless `dryRun`, writes it: every row or, if any row is invalid, none. The report
 * lists each problem by spreadsheet row (the header is row 1).
 */
export const importRates = platformAdminMutation({
  args: { csv: v.string(), dryRun: v.boolean(), fileName: v.optional(v.string()) },
  returns: v.object({
    ok: v.boolean(),
    dryRun: v.boolean(),
    rows: v.number(),
    inserted: v.number(),
    replaced: v.number(),
    unchanged: v.number(),
    errors: v.array(v.object({ row: v.number(), field: v.optional(v.string()), message: v.string() })),
    errorCount: v.number(),
    changes: v.array(
      v.object({
        row: v.number(),
        action: v.union(v.literal("insert"), v.literal("replace"), v.literal("unchanged")),
        currency: v.string(),
        market: v.string(),
        category: v.string(),
        effectiveFrom: v.string(),
        amount: v.number(),
        previous: v.union(v.number(), v.null()),
      }),
    ),
  }),
  handler: (ctx, args) => RateEditor.importRates(ctx, ctx.user, args),
});
