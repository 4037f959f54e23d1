/** AI model prices per million input and output tokens, and what a turn's tokens cost. */
import { ConvexError } from "convex/values";
import type { Doc } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../../_generated/server";
import { assertMicros, mulDiv, parseDecimal, type Micros } from "./money";
import { dayStart, isoDay } from "./rates";

type ModelPriceSeed = {
  currency: string;
  model: string;
  effectiveFrom: string;
  input: string;
  output: string;
  source: string;
  estimate: boolean;
};

const OPENAI = "openai.com/api/pricing (list prices per 1M tokens)";
const EUR_NOTE = "USD list price × 0.828, the ratio of Meta's EUR to USD cards (rates.md): an estimate";

/** A few models; others are added by a platform admin. The offline answerer costs nothing. */
export const MODEL_PRICE_SEED: readonly ModelPriceSeed[] = [
  {
    currency: "USD",
    model: "gpt-4o-mini",
    effectiveFrom: "2026-01-01",
    input: "0.15",
    output: "0.60",
    source: OPENAI,
    estimate: false,
  },
  {
    currency: "USD",
    model: "gpt-4.1-mini",
    effectiveFrom: "2026-01-01",
    input: "0.40",
    output: "1.60",
    source: OPENAI,
    estimate: false,
  },
  {
    currency: "EUR",
    model: "gpt-4o-mini",
    effectiveFrom: "2026-01-01",
    input: "0.1242",
    output: "0.4968",
    source: EUR_NOTE,
    estimate: true,
  },
  {
    currency: "EUR",
    model: "gpt-4.1-mini",
    effectiveFrom: "2026-01-01",
    input: "0.3312",
    output: "1.3248",
    source: EUR_NOTE,
    estimate: true,
  },
  ...["USD", "EUR", "INR", "CLP"].map((currency) => ({
    currency,
    model: "offline",
    effectiveFrom: "2026-01-01",
    input: "0",
    output: "0",
    source: "the built-in offline answerer",
    estimate: false,
  })),
];

export async function modelPriceInForce(
  ctx: QueryCtx,
  currency: string,
  model: string,
  at: number,
): Promise<Doc<"modelPrices">> {
  const price = await ctx.db
    .query("modelPrices")
    .withIndex("by_currency_model_from", (q) =>
      q.eq("currency", currency).eq("model", model).lte("effectiveFrom", at),
    )
    .order("desc")
    .first();
  if (!price) {
    throw new ConvexError({
      code: "NO_RATE" as const,
      message: `No ${currency} price for the AI model "${model}" on ${isoDay(at)}`,
    });
  }
  return price;
}

/** Tokens × price per million, rounded half up once for the whole turn. */
export function tokenCost(
  price: Pick<Doc<"modelPrices">, "inputPerMillion" | "outputPerMillion">,
  inputTokens: number,
  outputTokens: number,
): Micros {
  for (const [name, n] of [
    ["inputTokens", inputTokens],
    ["outputTokens", outputTokens],
  ] as const) {
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a whole number ≥ 0`);
  }
  const scaled = assertMicros(
    assertMicros(inputTokens * price.inputPerMillion, "input cost") +
      assertMicros(outputTokens * price.outputPerMillion, "output cost"),
    "token cost",
  );
  return mulDiv(scaled, 1, 1_000_000);
}

/** Loads MODEL_PRICE_SEED, leaving prices already there alone. */
export async function seedModelPrices(ctx: MutationCtx, now: number) {
  let inserted = 0;
  for (const seed of MODEL_PRICE_SEED) {
    const effectiveFrom = dayStart(seed.effectiveFrom);
    const existing = await ctx.db
      .query("modelPrices")
      .withIndex("by_currency_model_from", (q) =>
        q.eq("currency", seed.currency).eq("model", seed.model).eq("effectiveFrom", effectiveFrom),
      )
      .first();
    if (existing) continue;
    await ctx.db.insert("modelPrices", {
      currency: seed.currency,
      model: seed.model,
      effectiveFrom,
      inputPerMillion: parseDecimal(seed.input),
      outputPerMillion: parseDecimal(seed.output),
      source: seed.source,
      estimate: seed.estimate,
      createdAt: now,
    });
    inserted++;
  }
  return { inserted };
}
