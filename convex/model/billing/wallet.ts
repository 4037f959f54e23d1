/** A tenant's wallet: balance, reserved, debt limit and billing terms. `available = balance − reserved`. */
import { ConvexError } from "convex/values";
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../../_generated/server";
import { DEFAULT_LOW_BALANCE_THRESHOLDS } from "./alerts";
import { sub, type Micros } from "./money";

/** 5.00 in the tenant's currency (product.md F10). */
export const DEFAULT_DEBT_LIMIT: Micros = 5_000_000;

export async function getWallet(ctx: QueryCtx, tenantId: Id<"tenants">): Promise<Doc<"wallets"> | null> {
  return await ctx.db
    .query("wallets")
    .withIndex("by_tenant", (q) => q.eq("tenantId", tenantId))
    .unique();
}

/**
 * The tenant's wallet, opened on first use in the tenant's currency. While the ledger is empty
 * the wallet follows a change of the tenant's currency; afterwards its currency is fixed.
 */
export async function ensureWallet(ctx: MutationCtx, tenantId: Id<"tenants">): Promise<Doc<"wallets">> {
  const tenant = await ctx.db.get("tenants", tenantId);
  if (!tenant) throw new ConvexError({ code: "NOT_FOUND" as const, message: "No such workspace" });
  const wallet = await getWallet(ctx, tenantId);
  const now = Date.now();
  if (!wallet) {
    const id = await ctx.db.insert("wallets", {
      tenantId,
      currency: tenant.currency,
      balance: 0,
      reserved: 0,
      debtLimit: DEFAULT_DEBT_LIMIT,
      markupBps: 0,
      lowBalanceThresholds: [...DEFAULT_LOW_BALANCE_THRESHOLDS],
      entryCount: 0,
      createdAt: now,
      updatedAt: now,
    });
    return (await ctx.db.get("wallets", id))!;
  }
  if (wallet.entryCount === 0 && wallet.currency !== tenant.currency) {
    await ctx.db.patch("wallets", wallet._id, { currency: tenant.currency, updatedAt: now });
    return { ...wallet, currency: tenant.currency, updatedAt: now };
  }
  return wallet;
}

export function available(wallet: Pick<Doc<"wallets">, "balance" | "reserved">): Micros {
  return sub(wallet.balance, wallet.reserved);
}

export type WalletView = {
  currency: string;
  balance: Micros;
  reserved: Micros;
  available: Micros;
  debtLimit: Micros;
  markupBps: number;
  lowBalanceThresholds: Micros[];
  /** Whether the currency can no longer change (the ledger has entries). */
  currencyLocked: boolean;
};

/** What people see of a wallet; a tenant that never used credits sees an empty one. */
export function walletView(tenant: Doc<"tenants">, wallet: Doc<"wallets"> | null): WalletView {
  if (!wallet) {
    return {
      currency: tenant.currency,
      balance: 0,
      reserved: 0,
      available: 0,
      debtLimit: DEFAULT_DEBT_LIMIT,
      markupBps: 0,
      lowBalanceThresholds: [...DEFAULT_LOW_BALANCE_THRESHOLDS],
      currencyLocked: false,
    };
  }
  return {
    currency: wallet.currency,
    balance: wallet.balance,
    reserved: wallet.reserved,
    available: available(wallet),
    debtLimit: wallet.debtLimit,
    markupBps: wallet.markupBps,
    lowBalanceThresholds: wallet.lowBalanceThresholds,
    currencyLocked: wallet.entryCount > 0,
  };
}
