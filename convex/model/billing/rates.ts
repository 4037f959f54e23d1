/**
 * The WhatsApp rate card: what one delivered message costs, by currency, recipient market,
 * category and date, seeded from rates.md (rateCardSeed.ts) and looked up by `priceFor`.
 */
import { ConvexError } from "convex/values";
import type { Doc } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../../_generated/server";
import { countryOfPhone } from "./callingCodes";
import { marketName, marketOf, type MarketId } from "./markets";
import { mulDiv, parseDecimal, type Micros } from "./money";
import { RATE_CARD_SEED } from "./rateCardSeed";
import type { RateCategory } from "./tables";

export const RATE_CATEGORIES: readonly RateCategory[] = [
  "marketing",
  "marketing_lite",
  "utility",
  "authentication",
  "authentication_international",
  "service",
  "general_purpose_ai",
];

/** A category as Meta's webhooks spell it ("authentication-international") → ours, or null. */
export function normaliseCategory(category: string | undefined): RateCategory | null {
  if (!category) return null;
  const name = category.trim().toLowerCase().replace(/-/g, "_");
  return (RATE_CATEGORIES as readonly string[]).includes(name) ? (name as RateCategory) : null;
}

/** "2026-10-01" → ms at 00:00 UTC. */
export function dayStart(date: string): number {
  const ms = Date.parse(`${date}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(ms)) throw new Error(`Not a date: ${date}`);
  return ms;
}

export function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Basis points of markup: 1000 = +10 %. */
export function applyMarkup(amount: Micros, markupBps: number): Micros {
  if (!Number.isSafeInteger(markupBps) || markupBps < 0)
    throw new Error("Markup must be whole basis points ≥ 0");
  return mulDiv(amount, 10_000 + markupBps, 10_000);
}

export type Recipient =
  { phoneE164: string; country?: undefined } | { country: string; phoneE164?: undefined };

export type PriceQuote = {
  /** What to charge: the rate, plus markup when one was given. */
  amount: Micros;
  /** The rate before markup. */
  base: Micros;
  markupBps: number;
  country: string;
  /** The market the country is in at that time. */
  market: MarketId;
  /** The rate row used; its market differs from `market` when the lookup fell back. */
  rate: Doc<"rates">;
  fallback: boolean;
  /** The rate is unverified for that date, or was taken from a fallback market. */
  estimate: boolean;
};

function noRate(message: string): never {
  throw new ConvexError({ code: "NO_RATE" as const, message });
}

/** The rate in force at `at` for exactly this currency, market and category, or null. */
export async function rateInForce(
  ctx: QueryCtx,
  currency: string,
  market: MarketId,
  category: RateCategory,
  at: number,
): Promise<Doc<"rates"> | null> {
  return await ctx.db
    .query("rates")
    .withIndex("by_currency_market_category_from", (q) =>
      q.eq("currency", currency).eq("market", market).eq("category", category).lte("effectiveFrom", at),
    )
    .order("desc")
    .first();
}

/**
 * The price of one message to a recipient (E.164 number or ISO country) in a category at a
 * time, in micro-units of `currency`. Looks in the recipient's market, then the region it
 * belonged to before it became a market of its own, then "Other" (rest of world); throws
 * `NO_RATE` when none has a rate (e.g. marketing_lite, which has no seeded rates yet).
 */
export async function priceFor(
  ctx: QueryCtx,
  args: Recipient & { currency: string; category: string; at: number; markupBps?: number },
): Promise<PriceQuote> {
  const category = normaliseCategory(args.category);
  if (!category) noRate(`"${args.category}" is not a message category we can price`);
  let country: string | null;
  if (args.phoneE164 !== undefined) {
    country = countryOfPhone(args.phoneE164);
    if (!country)
      noRate(`Cannot tell the country of "${args.phoneE164}": use an E.164 number like +34600111222`);
  } else {
    country = args.country.trim().toUpperCase();
    if (!/^[A-Z]{2}$/.test(country)) noRate(`"${args.country}" is not an ISO country code`);
  }
  const { market, fallbacks } = marketOf(country, args.at);
  for (const candidate of [market, ...fallbacks]) {
    const rate = await rateInForce(ctx, args.currency, candidate, category, args.at);
    if (!rate) continue;
    const markupBps = args.markupBps ?? 0;
    const fallback = candidate !== market;
    return {
      amount: applyMarkup(rate.amount, markupBps),
      base: rate.amount,
      markupBps,
      country,
      market,
      rate,
      fallback,
      estimate: rate.estimate || fallback,
    };
  }
  noRate(
    `No ${args.currency} rate for ${category.replace(/_/g, " ")} messages to ${marketName(market)} ` +
      `(${country}) on ${isoDay(args.at)}`,
  );
}

/**
 * Loads the seed into the `rates` table, all of it or `count` rows from `from` (so a caller can
 * spread it over several mutations). Idempotent: a rate already there (same currency, market,
 * category and date) is left as it is, and counted as differing if its values do.
 */
export async function seedRateCard(
  ctx: MutationCtx,
  now: number,
  { from = 0, count = RATE_CARD_SEED.length }: { from?: number; count?: number } = {},
) {
  let inserted = 0;
  let unchanged = 0;
  const differing: string[] = [];
  // One range read per currency instead of a lookup per rate: the whole load stays well inside
  // a mutation's time limit.
  const stored = new Map<string, Doc<"rates">>();
  for (const currency of new Set(RATE_CARD_SEED.map((r) => r.currency))) {
    const rows = await ctx.db
      .query("rates")
      .withIndex("by_currency_from", (q) => q.eq("currency", currency))
      .take(20_000);
    for (const row of rows)
      stored.set(`${row.currency}|${row.market}|${row.category}|${row.effectiveFrom}`, row);
  }
  for (const seed of RATE_CARD_SEED.slice(from, from + count)) {
    const effectiveFrom = dayStart(seed.effectiveFrom);
    const amount = parseDecimal(seed.rate);
    const existing = stored.get(`${seed.currency}|${seed.market}|${seed.category}|${effectiveFrom}`);
    if (!existing) {
      await ctx.db.insert("rates", {
        currency: seed.currency,
        market: seed.market,
        category: seed.category,
        effectiveFrom,
        amount,
        source: seed.source,
        estimate: seed.estimate,
        ...(seed.note ? { note: seed.note } : {}),
        createdAt: now,
      });
      inserted++;
    } else if (existing.amount === amount && existing.estimate === seed.estimate) {
      unchanged++;
    } else {
      differing.push(`${seed.currency} ${seed.market} ${seed.category} ${seed.effectiveFrom}`);
    }
  }
  return { inserted, unchanged, differing };
}
