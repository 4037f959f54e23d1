/**
 * Money as integer micro-units (1e-6) of one currency, held in plain JS numbers. Every operation
 * checks that its inputs and result are safe integers, so an amount is exact or the operation
 * throws; nothing is ever rounded silently (docs/decisions/010-billing-money.md).
 */
import { ConvexError } from "convex/values";

/** Micro-units in one unit of a currency (one dollar, one euro, one peso). */
export const MICROS_PER_UNIT = 1_000_000;

/** An amount in micro-units: a safe integer. */
export type Micros = number;

/** Throws unless `value` is a safe integer (a plain Error: a bad amount here is a bug). */
export function assertMicros(value: number, what = "amount"): Micros {
  if (!Number.isSafeInteger(value)) {
    throw new Error(`${what} must be a whole number of micro-units within ±2^53, got ${value}`);
  }
  return value;
}

export function add(a: Micros, b: Micros): Micros {
  return assertMicros(assertMicros(a) + assertMicros(b), "sum");
}

export function sub(a: Micros, b: Micros): Micros {
  return assertMicros(assertMicros(a) - assertMicros(b), "difference");
}

/** `a × numerator / denominator`, rounded half away from zero, exactly (through BigInt). */
export function mulDiv(a: Micros, numerator: number, denominator: number): Micros {
  assertMicros(a);
  assertMicros(numerator, "numerator");
  assertMicros(denominator, "denominator");
  if (denominator <= 0) throw new Error("denominator must be positive");
  const product = BigInt(a) * BigInt(numerator);
  const d = BigInt(denominator);
  const negative = product < 0n;
  const abs = negative ? -product : product;
  const rounded = (abs + d / 2n) / d;
  return assertMicros(Number(negative ? -rounded : rounded), "product");
}

/** The sum of many amounts, exact or throwing. */
export function sum(values: Iterable<Micros>): Micros {
  let total = 0;
  for (const v of values) total = add(total, v);
  return total;
}

const DECIMAL = /^([+-])?(\d+)(?:\.(\d+))?$/;

/**
 * "0.0618" → 61800, without floating-point arithmetic. More than six decimals is an error unless
 * the extra digits are zeros. Throws `ConvexError({ code: "INVALID" })`, since amounts are typed
 * by people (admin forms, CSV uploads).
 */
export function parseDecimal(text: string, field = "amount"): Micros {
  const match = DECIMAL.exec(text.trim().replace(/_/g, ""));
  if (!match) invalid(`"${text}" is not a decimal amount like 12.50`, field);
  const [, sign, whole, fraction = ""] = match;
  const significant = fraction.replace(/0+$/, "");
  if (significant.length > 6) invalid(`"${text}" has more than 6 decimal places`, field);
  const micros = BigInt(whole) * 1_000_000n + BigInt(significant.padEnd(6, "0") || "0");
  const signed = sign === "-" ? -micros : micros;
  if (signed > BigInt(Number.MAX_SAFE_INTEGER) || signed < BigInt(Number.MIN_SAFE_INTEGER)) {
    invalid(`"${text}" is too large`, field);
  }
  return Number(signed);
}

/** 61800 → "0.0618"; at least `minDecimals` decimals, at most 6, no float arithmetic. */
export function toDecimalString(micros: Micros, minDecimals = 0): string {
  assertMicros(micros);
  const negative = micros < 0;
  const abs = Math.abs(micros);
  const whole = Math.floor(abs / MICROS_PER_UNIT);
  let fraction = String(abs % MICROS_PER_UNIT)
    .padStart(6, "0")
    .replace(/0+$/, "");
  if (fraction.length < minDecimals) fraction = fraction.padEnd(minDecimals, "0");
  return `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}`;
}

/**
 * An amount for people, with `Intl.NumberFormat` in the currency: the currency's usual decimals
 * (2 for EUR, 0 for CLP), or up to 6 with `precise` so fractions of a cent (rates, AI tokens)
 * show. The exact decimal string is passed to Intl, so no float ever rounds it.
 */
export function formatMoney(
  micros: Micros,
  currency: string,
  { locale = "en-US", precise = false }: { locale?: string; precise?: boolean } = {},
): string {
  const base = new Intl.NumberFormat(locale, { style: "currency", currency });
  const digits = base.resolvedOptions().minimumFractionDigits ?? 2;
  const format = new Intl.NumberFormat(locale, {
    style: "currency",
    currency,
    minimumFractionDigits: digits,
    maximumFractionDigits: precise ? 6 : digits,
  });
  // Intl formats decimal strings exactly (ECMA-402 "Intl.NumberFormat v3").
  return format.format(toDecimalString(micros) as unknown as number);
}

function invalid(message: string, field: string): never {
  throw new ConvexError({ code: "INVALID" as const, message, field });
}
