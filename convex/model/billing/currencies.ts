/**
 * Which currencies a workspace may bill in (the rule itself is in convex/shared/currencies.ts),
 * and whether its currency may still change.
 */
import { ConvexError } from "convex/values";
import type { Id } from "../../_generated/dataModel";
import type { QueryCtx } from "../../_generated/server";
import { hasRateCard, RATE_CARD_CURRENCIES } from "../../shared/currencies";

export { currencyLockedMessage, hasRateCard, RATE_CARD_CURRENCIES } from "../../shared/currencies";

/** For forms and settings: throws `INVALID` on `field` unless the currency has a rate card. */
export function requireRateCardCurrency(currency: string, field = "currency"): string {
  const code = currency.trim().toUpperCase();
  if (!hasRateCard(code)) {
    throw new ConvexError({
      code: "INVALID" as const,
      message: `Billing needs a currency with a WhatsApp rate card: ${RATE_CARD_CURRENCIES.join(", ")}`,
      field,
    });
  }
  return code;
}

/**
 * Whether a workspace's currency may no longer change: once its ledger has an entry, since every
 * amount in the ledger and wallet is in the currency it was written in.
 */
export async function currencyLocked(ctx: QueryCtx, tenantId: Id<"tenants">): Promise<boolean> {
  const entry = await ctx.db
    .query("ledgerEntries")
    .withIndex("by_tenant_seq", (q) => q.eq("tenantId", tenantId))
    .first();
  return entry !== null;
}
