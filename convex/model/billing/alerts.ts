/**
 * Low-balance alerts. A wallet has thresholds (micro-units); when an entry takes the balance
 * below one, the workspace's owners and admins get one email. The threshold stays "alerted"
 * while the balance is below it and is re-armed once the balance is back at or above it, so a
 * balance hovering around a threshold never sends a stream of emails, and a top-up followed by
 * spending sends the next one.
 */
import { internal } from "../../_generated/api";
import type { Doc } from "../../_generated/dataModel";
import type { MutationCtx } from "../../_generated/server";
import * as Audit from "../audit";
import { fail } from "../errors";
import { assertMicros, formatMoney, parseDecimal, toDecimalString, type Micros } from "./money";
import { ensureWallet } from "./wallet";

/** New wallets warn at 10.00 in their currency; admins change the list on the billing page. */
export const DEFAULT_LOW_BALANCE_THRESHOLDS: readonly Micros[] = [10_000_000];
export const MAX_THRESHOLDS = 5;

export type Crossing = {
  /** The lowest threshold newly crossed, to name in the email; null when none was. */
  alert: Micros | null;
  /** The thresholds alerted after this balance change. */
  alerted: Micros[];
};

/** Which alert a balance of `balance` calls for, given what was already alerted. */
export function lowBalanceCrossing(
  thresholds: readonly Micros[],
  alreadyAlerted: readonly Micros[],
  balance: Micros,
): Crossing {
  const below = thresholds.filter((t) => balance < t);
  const fresh = below.filter((t) => !alreadyAlerted.includes(t));
  return {
    alert: fresh.length ? Math.min(...fresh) : null,
    alerted: [...below].sort((a, b) => b - a),
  };
}

/**
 * Called by the ledger after every entry: records the crossing on the wallet (returned as a
 * patch for the caller's wallet write) and schedules the email when a threshold was crossed.
 */
export async function lowBalanceAfterEntry(
  ctx: MutationCtx,
  wallet: Doc<"wallets">,
  balance: Micros,
): Promise<Partial<Pick<Doc<"wallets">, "alertedThresholds">>> {
  const before = wallet.alertedThresholds ?? [];
  const crossing = lowBalanceCrossing(wallet.lowBalanceThresholds, before, balance);
  if (crossing.alert !== null) {
    await ctx.scheduler.runAfter(0, internal.billingAlerts.sendLowBalance, {
      tenantId: wallet.tenantId,
      threshold: crossing.alert,
      balance,
      currency: wallet.currency,
    });
  }
  const same = crossing.alerted.length === before.length && crossing.alerted.every((t) => before.includes(t));
  return same ? {} : { alertedThresholds: crossing.alerted };
}

/** Thresholds as an admin enters them: distinct, whole micro-units, at most five, highest first. */
export function checkThresholds(thresholds: readonly Micros[]): Micros[] {
  if (thresholds.length > MAX_THRESHOLDS)
    fail("INVALID", `At most ${MAX_THRESHOLDS} low-balance thresholds`, "thresholds");
  for (const t of thresholds) assertMicros(t, "threshold");
  return [...new Set(thresholds)].sort((a, b) => b - a);
}

export function lowBalanceEmail(input: {
  to: string;
  tenantName: string;
  currency: string;
  threshold: Micros;
  balance: Micros;
  link: string | null;
}) {
  const threshold = formatMoney(input.threshold, input.currency);
  const balance = formatMoney(input.balance, input.currency);
  const subject = `${input.tenantName}: credit balance below ${threshold}`;
  const lines = [
    `The credit balance of ${input.tenantName} on Switchboard is ${balance}, below your alert threshold of ${threshold}.`,
    "",
    "When the balance and the debt limit are used up, campaigns pause and the assistant hands conversations to your team.",
    "Credits are added by a Switchboard platform admin: ask yours to add more.",
  ];
  if (input.link) lines.push("", `Billing: ${input.link}`);
  return { to: input.to, subject, text: lines.join("\n") };
}

/**
 * Sets a wallet's low-balance thresholds (decimals in the workspace's currency; tenant admins do
 * this on the billing page). Thresholds the balance is already below count as alerted, so saving
 * one never sends an email by itself: the next crossing does.
 */
export async function setLowBalanceThresholds(
  ctx: MutationCtx,
  user: Doc<"users">,
  tenant: Doc<"tenants">,
  decimals: string[],
): Promise<Micros[]> {
  const thresholds = checkThresholds(decimals.map((d) => parseDecimal(d, "thresholds")));
  if (thresholds.some((t) => t <= 0)) fail("INVALID", "Thresholds must be above zero", "thresholds");
  const wallet = await ensureWallet(ctx, tenant._id);
  const before = wallet.lowBalanceThresholds;
  if (before.length === thresholds.length && before.every((t, i) => t === thresholds[i])) return thresholds;
  await ctx.db.patch("wallets", wallet._id, {
    lowBalanceThresholds: thresholds,
    alertedThresholds: thresholds.filter((t) => wallet.balance < t),
    updatedAt: Date.now(),
  });
  const show = (list: Micros[]) => list.map((t) => toDecimalString(t, 2)).join(", ") || "none";
  await Audit.record(ctx, {
    tenantId: tenant._id,
    actor: user,
    action: "billing.low_balance_thresholds_changed",
    targetType: "wallet",
    targetId: wallet._id,
    summary: `Set the low-balance alerts to ${show(thresholds)} ${wallet.currency}`,
    before: { thresholds: show(before) },
    after: { thresholds: show(thresholds) },
  });
  return thresholds;
}
