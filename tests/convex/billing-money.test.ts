import { describe, expect, it } from "vitest";
import { hasRateCard, requireRateCardCurrency } from "../../convex/model/billing/currencies";
import {
  add,
  formatMoney,
  mulDiv,
  parseDecimal,
  sub,
  sum,
  toDecimalString,
} from "../../convex/model/billing/money";

describe("money in micro-units", () => {
  it("parses decimal strings exactly, without float arithmetic", () => {
    expect(parseDecimal("0.0618")).toBe(61_800);
    expect(parseDecimal("5")).toBe(5_000_000);
    expect(parseDecimal("-5.00")).toBe(-5_000_000);
    expect(parseDecimal("78.4917")).toBe(78_491_700);
    expect(parseDecimal("0.000001")).toBe(1);
    expect(parseDecimal("0.1000000")).toBe(100_000); // trailing zeros beyond 6 are fine
    // 0.1 + 0.2 in floats is 0.30000000000000004; in micro-units it is exact.
    expect(add(parseDecimal("0.1"), parseDecimal("0.2"))).toBe(parseDecimal("0.3"));
    expect(parseDecimal("9007199254.740991")).toBe(Number.MAX_SAFE_INTEGER);
  });

  it("refuses what is not an exact amount", () => {
    for (const bad of ["", "abc", "1.2.3", "0.0000001", "1e3", "9007199254.740992", "12,50"]) {
      expect(() => parseDecimal(bad), bad).toThrow();
    }
  });

  it("prints amounts back exactly", () => {
    expect(toDecimalString(61_800)).toBe("0.0618");
    expect(toDecimalString(-5_000_000, 2)).toBe("-5.00");
    expect(toDecimalString(1)).toBe("0.000001");
    expect(toDecimalString(Number.MAX_SAFE_INTEGER)).toBe("9007199254.740991");
  });

  it("guards every operation against leaving the safe-integer range", () => {
    expect(() => add(Number.MAX_SAFE_INTEGER, 1)).toThrow(/micro-units/);
    expect(() => sub(Number.MIN_SAFE_INTEGER, 1)).toThrow(/micro-units/);
    expect(() => add(0.5, 1)).toThrow(/micro-units/);
    expect(() => mulDiv(Number.MAX_SAFE_INTEGER, 2, 1)).toThrow(/micro-units/);
    expect(sum([1, 2, 3])).toBe(6);
  });

  it("multiplies by ratios rounding half away from zero", () => {
    expect(mulDiv(61_800, 11_000, 10_000)).toBe(67_980); // +10 %
    expect(mulDiv(5, 1, 2)).toBe(3);
    expect(mulDiv(-5, 1, 2)).toBe(-3);
    expect(mulDiv(4, 1, 3)).toBe(1);
  });

  it("formats with Intl.NumberFormat in the currency, precisely when asked", () => {
    expect(formatMoney(5_000_000, "EUR", { locale: "en-US" })).toBe("€5.00");
    expect(formatMoney(61_800, "USD")).toBe("$0.06");
    expect(formatMoney(61_800, "USD", { precise: true })).toBe("$0.0618");
    expect(formatMoney(78_491_700, "CLP", { locale: "en-US" })).toBe("CLP\u00a078");
    expect(formatMoney(-1_234_560_000, "EUR", { locale: "de-DE" })).toBe("-1.234,56\u00a0€");
    expect(formatMoney(Number.MAX_SAFE_INTEGER, "USD", { precise: true })).toBe("$9,007,199,254.740991");
  });
});

describe("billing currencies", () => {
  it("accepts only currencies with a rate card", () => {
    expect(hasRateCard("usd")).toBe(true);
    expect(hasRateCard("GBP")).toBe(false);
    expect(requireRateCardCurrency(" eur ")).toBe("EUR");
    expect(() => requireRateCardCurrency("GBP")).toThrow(/rate card/);
  });
});
