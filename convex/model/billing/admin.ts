/**
 * What platform admins do to a tenant's billing: grant credits, adjust balances, set the debt
 * limit and markup. Each change carries a reason and is audited with the tenant's id, so it shows
 * in the tenant's audit log and in the platform's (which lists every event).
 */
import { ConvexError } from "convex/values";
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx } from "../../_generated/server";
import * as Audit from "../audit";
import { adjust, topUp } from "./charging";
import { checkReason } from "./ledger";
import { parseDecimal, toDecimalString } from "./money";
import type { Actor } from "./tables";
import { ensureWallet, type WalletView, walletView } from "./wallet";

/** Largest debt limit a platform admin may set: 1,000,000 units of the currency. */
const MAX_DEBT_LIMIT = 1_000_000 * 1_000_000;
/** Largest markup: +1000 %. */
const MAX_MARKUP_BPS = 100_000;

async function tenantOf(ctx: MutationCtx, tenantId: Id<"tenants">): Promise<Doc<"tenants">> {
  const tenant = await ctx.db.get("tenants", tenantId);
  if (!tenant) throw new ConvexError({ code: "NOT_FOUND" as const, message: "No such workspace" });
  return tenant;
}

const actorOf = (user: Doc<"users">): Actor => ({ kind: "user", userId: user._id, email: user.email });

export type CreditResult = { entryId: Id<"ledgerEntries">; duplicate: boolean; wallet: WalletView };

/** Adds credits to a tenant (`amount` a positive decimal in the tenant's currency). */
export async function grantCredits(
  ctx: MutationCtx,
  user: Doc<"users">,
  args: { tenantId: Id<"tenants">; amount: string; reason: string; key?: string },
): Promise<CreditResult> {
  const tenant = await tenantOf(ctx, args.tenantId);
  const amount = parseDecimal(args.amount);
  if (amount <= 0) {
    throw new ConvexError({ code: "INVALID" as const, message: "Add more than zero", field: "amount" });
  }
  const actor = actorOf(user);
  const reason = checkReason(actor, args.reason)!;
  const key = args.key ?? `admin:${user._id}:${Date.now()}`;
  const { entry, duplicate } = await topUp(ctx, { tenantId: tenant._id, amount, key, actor, reason });
  const wallet = await ensureWallet(ctx, tenant._id);
  if (!duplicate) {
    await Audit.record(ctx, {
      tenantId: tenant._id,
      actor: user,
      action: "billing.credits_added",
      targetType: "wallet",
      targetId: wallet._id,
      summary: `Added ${toDecimalString(amount, 2)} ${wallet.currency} of credits: ${reason}`,
      before: { balance: toDecimalString(entry.balanceAfter - entry.amount, 2) },
      after: { balance: toDecimalString(entry.balanceAfter, 2), reason },
    });
  }
  return { entryId: entry._id, duplicate, wallet: walletView(tenant, wallet) };
}

/** Corrects a tenant's balance up or down (`amount` a signed decimal). */
export async function adjustCredits(
  ctx: MutationCtx,
  user: Doc<"users">,
  args: { tenantId: Id<"tenants">; amount: string; reason: string; key?: string },
): Promise<CreditResult> {
  const tenant = await tenantOf(ctx, args.tenantId);
  const amount = parseDecimal(args.amount);
  if (amount === 0) {
    throw new ConvexError({
      code: "INVALID" as const,
      message: "An adjustment cannot be zero",
      field: "amount",
    });
  }
  const actor = actorOf(user);
  const key = args.key ?? `admin:${user._id}:${Date.now()}`;
  const { entry, duplicate } = await adjust(ctx, {
    tenantId: tenant._id,
    amount,
    key,
    actor,
    reason: args.reason,
  });
  const wallet = await ensureWallet(ctx, tenant._id);
  if (!duplicate) {
    await Audit.record(ctx, {
      tenantId: tenant._id,
      actor: user,
      action: "billing.balance_adjusted",
      targetType: "wallet",
      targetId: wallet._id,
      summary: `Adjusted the balance by ${toDecimalString(amount, 2)} ${wallet.currency}: ${entry.reason}`,
      before: { balance: toDecimalString(entry.balanceAfter - entry.amount, 2) },
      after: { balance: toDecimalString(entry.balanceAfter, 2), reason: entry.reason ?? null },
    });
  }
  return { entryId: entry._id, duplicate, wallet: walletView(tenant, wallet) };
}

/**
 * Changes one wallet setting a platform admin controls, with a reason, audited only when the
 * value really changes.
 */
async function changeSetting(
  ctx: MutationCtx,
  user: Doc<"users">,
  tenant: Doc<"tenants">,
  change: {
    field: "debtLimit" | "markupBps";
    value: number;
    reason: string;
    action: string;
    /** The value as people read it, in the audit log. */
    show: (value: number) => string | number;
    summary: (reason: string, wallet: Doc<"wallets">) => string;
  },
): Promise<WalletView> {
  const reason = checkReason(actorOf(user), change.reason)!;
  const wallet = await ensureWallet(ctx, tenant._id);
  if (wallet[change.field] !== change.value) {
    await ctx.db.patch("wallets", wallet._id, { [change.field]: change.value, updatedAt: Date.now() });
    await Audit.record(ctx, {
      tenantId: tenant._id,
      actor: user,
      action: change.action,
      targetType: "wallet",
      targetId: wallet._id,
      summary: change.summary(reason, wallet),
      before: { [change.field]: change.show(wallet[change.field]) },
      after: { [change.field]: change.show(change.value), reason },
    });
  }
  return walletView(tenant, { ...wallet, [change.field]: change.value });
}

/** Sets how far below zero a tenant's available credit may go (a decimal ≥ 0). */
export async function setDebtLimit(
  ctx: MutationCtx,
  user: Doc<"users">,
  args: { tenantId: Id<"tenants">; debtLimit: string; reason: string },
): Promise<WalletView> {
  const tenant = await tenantOf(ctx, args.tenantId);
  const debtLimit = parseDecimal(args.debtLimit, "debtLimit");
  if (debtLimit < 0 || debtLimit > MAX_DEBT_LIMIT) {
    throw new ConvexError({
      code: "INVALID" as const,
      message: "The debt limit must be between 0 and 1,000,000",
      field: "debtLimit",
    });
  }
  const show = (value: number) => toDecimalString(value, 2);
  return await changeSetting(ctx, user, tenant, {
    field: "debtLimit",
    value: debtLimit,
    reason: args.reason,
    action: "billing.debt_limit_changed",
    show,
    summary: (reason, wallet) => `Set the debt limit to ${show(debtLimit)} ${wallet.currency}: ${reason}`,
  });
}

/** Sets the markup on Meta's message rates, in basis points (1000 = +10 %). */
export async function setMarkup(
  ctx: MutationCtx,
  user: Doc<"users">,
  args: { tenantId: Id<"tenants">; markupBps: number; reason: string },
): Promise<WalletView> {
  const tenant = await tenantOf(ctx, args.tenantId);
  if (!Number.isSafeInteger(args.markupBps) || args.markupBps < 0 || args.markupBps > MAX_MARKUP_BPS) {
    throw new ConvexError({
      code: "INVALID" as const,
      message: "The markup must be whole basis points from 0 to 100000 (+1000 %)",
      field: "markupBps",
    });
  }
  return await changeSetting(ctx, user, tenant, {
    field: "markupBps",
    value: args.markupBps,
    reason: args.reason,
    action: "billing.markup_changed",
    show: (value) => value,
    summary: (reason) => `Set the markup on message rates to ${args.markupBps / 100} %: ${reason}`,
  });
}
