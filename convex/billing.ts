/** Credits and billing: wallets, the ledger and the rate card (logic in convex/model/billing/). */
import { paginationOptsValidator, paginationResultValidator } from "convex/server";
import { v } from "convex/values";
import {
  internalMutation,
  internalQuery,
  platformAdminMutation,
  tenantMutation,
  tenantQuery,
} from "./functions";
import * as Alerts from "./model/billing/alerts";
import * as BillingAdmin from "./model/billing/admin";
import { listEntries } from "./model/billing/ledger";
import { vLedgerEntry, vLedgerKind } from "./model/billing/tables";
import { getWallet, walletView } from "./model/billing/wallet";
import { seedModelPrices } from "./model/billing/aiPrices";
import * as Invariant from "./model/billing/invariant";
import * as Settlement from "./model/billing/settlement";
import { internal } from "./_generated/api";
import { PUBLISHED_RATES_JOB, publishedRatesFingerprint } from "./model/billing/published";
import { seedRateCard } from "./model/billing/rates";
import { jobStatus, recordJobRun } from "./model/system";

/** Loads the seeded rate card and AI prices; safe to run again (rows already there are kept). */
export const seedRates = internalMutation({
  args: {},
  returns: v.object({
    inserted: v.number(),
    unchanged: v.number(),
    differing: v.array(v.string()),
    modelPricesInserted: v.number(),
  }),
  handler: async (ctx) => {
    const now = Date.now();
    const rates = await seedRateCard(ctx, now);
    const models = await seedModelPrices(ctx, now);
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

/** The workspace's ledger, newest first, optionally of one kind. */
export const ledger = tenantQuery({
  role: "admin",
  args: { kind: v.optional(vLedgerKind), paginationOpts: paginationOptsValidator },
  returns: paginationResultValidator(
    v.object({ _id: v.id("ledgerEntries"), _creationTime: v.number(), ...vLedgerEntry.fields }),
  ),
  handler: (ctx, { kind, paginationOpts }) => listEntries(ctx, ctx.tenant._id, { kind }, paginationOpts),
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
