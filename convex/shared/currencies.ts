/**
 * The currencies a workspace may bill in: those with a Meta rate card in the seed
 * (../shared/design/rates.md). A workspace in any other currency could not price a message.
 * Pure: the settings form offers exactly these, and Convex refuses any other.
 */

/** Currencies with a seeded rate card. INR and CLP cover only India and Chile (rates.md). */
export const RATE_CARD_CURRENCIES = ["USD", "EUR", "INR", "CLP"] as const;

export function hasRateCard(currency: string): boolean {
  return (RATE_CARD_CURRENCIES as readonly string[]).includes(currency.trim().toUpperCase());
}

/** Why the currency field is fixed once the ledger has entries (shown by the form, sent by Convex). */
export function currencyLockedMessage(currency: string): string {
  return `The currency stays ${currency}: credits have been used, and every amount in the ledger is in ${currency}.`;
}
