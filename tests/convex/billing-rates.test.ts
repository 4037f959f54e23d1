import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { internal } from "../../convex/_generated/api";
import { MODEL_PRICE_SEED, modelPriceInForce, tokenCost } from "../../convex/model/billing/aiPrices";
import { callingCodes, countryOfPhone } from "../../convex/model/billing/callingCodes";
import { RATE_CARD_CURRENCIES } from "../../convex/model/billing/currencies";
import { mappedCountries, marketOf } from "../../convex/model/billing/markets";
import { RATE_CARD_SEED } from "../../convex/model/billing/rateCardSeed";
import { priceFor, type Recipient } from "../../convex/model/billing/rates";
import { errorOf, setup, type T } from "./factories";

const at = (iso: string) => Date.parse(iso);

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

async function seeded() {
  const { t } = setup();
  await t.mutation(internal.billing.seedRates, {});
  return t;
}

function price(
  t: T,
  args: Recipient & { currency?: string; category: string; at: number; markupBps?: number },
) {
  return t.run((ctx) => priceFor(ctx, { currency: "USD", ...args } as Parameters<typeof priceFor>[1]));
}

describe("the rate card seed", () => {
  it("loads once: a second run inserts nothing and finds every rate unchanged", async () => {
    const { t } = setup();
    const first = await t.mutation(internal.billing.seedRates, {});
    expect(first.inserted).toBe(RATE_CARD_SEED.length);
    expect(first.modelPricesInserted).toBe(MODEL_PRICE_SEED.length);
    const second = await t.mutation(internal.billing.seedRates, {});
    expect(second).toEqual({
      inserted: 0,
      unchanged: RATE_CARD_SEED.length,
      differing: [],
      modelPricesInserted: 0,
    });
    expect(await t.run((ctx) => ctx.db.query("rates").collect())).toHaveLength(RATE_CARD_SEED.length);
  });

  it("is loaded by itself on a fresh deployment, once per shipped version", async () => {
    const { t } = setup();
    const first = await t.mutation(internal.billing.loadPublishedRates, {});
    expect(first).toEqual({
      loaded: true,
      inserted: RATE_CARD_SEED.length + MODEL_PRICE_SEED.length,
      differing: [],
    });
    // The cron's next runs read one row and write nothing.
    expect(await t.mutation(internal.billing.loadPublishedRates, {})).toEqual({
      loaded: false,
      inserted: 0,
      differing: [],
    });
    // A version that ships a changed rate loads again and reports the stored rate it differs from.
    await t.run(async (ctx) => {
      const job = await ctx.db
        .query("jobStatus")
        .withIndex("by_job", (q) => q.eq("job", "published rates"))
        .unique();
      await ctx.db.patch("jobStatus", job!._id, { lastDetail: "seed-of-an-older-version" });
      const rate = await ctx.db.query("rates").first();
      await ctx.db.patch("rates", rate!._id, { amount: rate!.amount + 1 });
    });
    const again = await t.mutation(internal.billing.loadPublishedRates, {});
    expect(again).toMatchObject({ loaded: true, inserted: 0 });
    expect(again.differing).toHaveLength(1);
  });

  it("covers exactly the currencies billing accepts", () => {
    expect([...new Set(RATE_CARD_SEED.map((r) => r.currency))].sort()).toEqual(
      [...RATE_CARD_CURRENCIES].sort(),
    );
  });

  it("seeds only markets the country mapping knows", () => {
    const markets = new Set(RATE_CARD_SEED.map((r) => r.market));
    const known = new Set([...mappedCountries().map((c) => marketOf(c, at("2027-01-01")).market), "other"]);
    expect([...markets].filter((m) => !known.has(m))).toEqual([]);
  });
});

describe("priceFor", () => {
  it("changes Italy's marketing rate at the 2026-07-01 boundary (April CSV → D)", async () => {
    const t = await seeded();
    const before = await price(t, { country: "IT", category: "marketing", at: at("2026-06-30T23:59:59Z") });
    expect(before.amount).toBe(69_100);
    expect(before.rate.source).toBe("A");
    expect(before.estimate).toBe(false);
    const after = await price(t, { country: "IT", category: "marketing", at: at("2026-07-01T00:00:00Z") });
    expect(after.amount).toBe(79_500);
    expect(after.rate.source).toBe("D");
    // The EUR card prices the same message in euros.
    const eur = await price(t, {
      currency: "EUR",
      country: "IT",
      category: "marketing",
      at: at("2026-08-01"),
    });
    expect(eur.amount).toBe(65_800);
  });

  it("prices an unknown or unlisted country as Other (rest of world)", async () => {
    const t = await seeded();
    for (const recipient of [{ country: "LU" }, { country: "AQ" }, { phoneE164: "+352 621 123 456" }]) {
      const quote = await price(t, { ...recipient, category: "marketing", at: at("2026-11-01") });
      expect(quote.market).toBe("other");
      expect(quote.amount).toBe(60_400);
    }
  });

  it("moves Kazakhstan from Other to its own market on 2026-10-01, and keeps +7 495 in Russia", async () => {
    const t = await seeded();
    const kz = { phoneE164: "+7 701 123 4567", category: "utility" };
    const before = await price(t, { ...kz, at: at("2026-09-30T12:00:00Z") });
    expect(before).toMatchObject({ country: "KZ", market: "other", amount: 7_700 });
    const after = await price(t, { ...kz, at: at("2026-10-01T00:00:00Z") });
    expect(after).toMatchObject({ country: "KZ", market: "KZ", amount: 18_000 });
    const ru = await price(t, { phoneE164: "+74951234567", category: "utility", at: at("2026-11-01") });
    expect(ru).toMatchObject({ country: "RU", market: "RU", amount: 40_000 });
  });

  it("prices +1 809 (Dominican Republic) as Rest of Latin America, not North America", async () => {
    const t = await seeded();
    const dr = await price(t, { phoneE164: "+1 809 555 0100", category: "marketing", at: at("2026-11-01") });
    expect(dr).toMatchObject({ country: "DO", market: "rest_of_latin_america", amount: 74_000 });
    const ny = await price(t, { phoneE164: "+12125550100", category: "marketing", at: at("2026-11-01") });
    expect(ny).toMatchObject({ country: "US", market: "north_america", amount: 25_000 });
    const toronto = await price(t, {
      phoneE164: "+14165550100",
      category: "marketing",
      at: at("2026-11-01"),
    });
    expect(toronto).toMatchObject({ country: "CA", market: "north_america" });
    const nassau = await price(t, { phoneE164: "+12425550100", category: "marketing", at: at("2026-11-01") });
    expect(nassau).toMatchObject({ country: "BS", market: "other" });
  });

  it("prices service at the utility rate from 2026-10-01, and not before", async () => {
    const t = await seeded();
    const service = await price(t, { country: "DE", category: "service", at: at("2026-10-01") });
    const utility = await price(t, { country: "DE", category: "utility", at: at("2026-10-01") });
    expect(service.amount).toBe(utility.amount);
    expect(service.amount).toBe(55_000);
    expect(service.rate.note).toMatch(/service = utility/);
    const early = await errorOf(price(t, { country: "DE", category: "service", at: at("2026-09-30") }));
    expect(early.code).toBe("NO_RATE");
    // Without a EUR card of that date, the EUR service rate is the July utility rate, an estimate.
    const eur = await price(t, { currency: "EUR", country: "DE", category: "service", at: at("2026-10-02") });
    expect(eur).toMatchObject({ amount: 45_600, estimate: true });
  });

  it("keeps each rate's source and marks unverified ones as estimates", async () => {
    const t = await seeded();
    const april = await price(t, {
      country: "EG",
      category: "authentication-international",
      at: at("2026-05-01"),
    });
    expect(april).toMatchObject({ amount: 65_000, estimate: false });
    expect(april.rate.source).toBe("A");
    const october = await price(t, {
      country: "EG",
      category: "authentication_international",
      at: at("2026-11-01"),
    });
    expect(october).toMatchObject({ amount: 65_000, estimate: true });
    expect(october.rate.source).toBe("B,C");
    const hongKongJuly = await price(t, { country: "HK", category: "utility", at: at("2026-08-01") });
    expect(hongKongJuly).toMatchObject({ market: "HK", amount: 26_000, estimate: true });
    const hongKongMay = await price(t, { country: "HK", category: "utility", at: at("2026-05-01") });
    expect(hongKongMay).toMatchObject({ market: "rest_of_asia_pacific", amount: 11_300, estimate: false });
  });

  it("falls back to the former region, then Other, and says so", async () => {
    const t = await seeded();
    // The EUR card predates Bangladesh's own market: its old region's rate is used, as an estimate.
    const bd = await price(t, {
      currency: "EUR",
      country: "BD",
      category: "marketing",
      at: at("2026-11-01"),
    });
    expect(bd).toMatchObject({ market: "BD", fallback: true, estimate: true, amount: 60_600 });
    expect(bd.rate.market).toBe("rest_of_asia_pacific");
    // Meta lists no auth-intl rate for BD, its region or Other: a clear error, not a guess.
    const none = await errorOf(
      price(t, { country: "BD", category: "authentication_international", at: at("2026-11-01") }),
    );
    expect(none).toMatchObject({ code: "NO_RATE" });
    expect(none.message).toMatch(/USD.*authentication international.*Bangladesh.*2026-11-01/);
  });

  it("fails clearly for categories and currencies without rates", async () => {
    const t = await seeded();
    const lite = await errorOf(price(t, { country: "IT", category: "marketing_lite", at: at("2026-11-01") }));
    expect(lite.code).toBe("NO_RATE");
    expect(lite.message).toMatch(/marketing lite/);
    expect(
      (await errorOf(price(t, { country: "IT", category: "referral_conversion", at: at("2026-11-01") })))
        .code,
    ).toBe("NO_RATE");
    // CLP covers only Chile.
    const clp = await price(t, {
      currency: "CLP",
      phoneE164: "+56912345678",
      category: "marketing",
      at: at("2026-08-01"),
    });
    expect(clp.amount).toBe(78_491_700);
    expect(
      (
        await errorOf(
          price(t, { currency: "CLP", country: "DE", category: "marketing", at: at("2026-08-01") }),
        )
      ).code,
    ).toBe("NO_RATE");
    // Before the first seeded card.
    expect(
      (await errorOf(price(t, { country: "IT", category: "marketing", at: at("2026-01-15") }))).code,
    ).toBe("NO_RATE");
    expect(
      (await errorOf(price(t, { phoneE164: "0034600111222", category: "marketing", at: at("2026-11-01") })))
        .code,
    ).toBe("NO_RATE");
  });

  it("applies a markup in basis points on top of the rate", async () => {
    const t = await seeded();
    const quote = await price(t, {
      country: "IT",
      category: "marketing",
      at: at("2026-11-01"),
      markupBps: 1_000,
    });
    expect(quote).toMatchObject({ base: 79_500, amount: 87_450, markupBps: 1_000 });
    const odd = await price(t, {
      country: "CO",
      category: "utility",
      at: at("2026-11-01"),
      markupBps: 1_250,
    });
    expect(odd).toMatchObject({ base: 800, amount: 900 });
  });
});

describe("calling codes", () => {
  it("is prefix-free, so a number matches at most one code", () => {
    const codes = Object.keys(callingCodes());
    for (const a of codes)
      for (const b of codes) if (a !== b) expect(b.startsWith(a), `${a} / ${b}`).toBe(false);
  });

  it("knows a calling code for every country in Meta's market mapping", () => {
    const countries = new Set(Object.values(callingCodes()));
    for (const extra of ["CA", "DO", "JM", "PR", "KZ"]) countries.add(extra);
    expect(mappedCountries().filter((c) => !countries.has(c))).toEqual([]);
  });

  it("splits +1 by area code and +7 between Russia and Kazakhstan", () => {
    expect(countryOfPhone("+18295550100")).toBe("DO");
    expect(countryOfPhone("+18495550100")).toBe("DO");
    expect(countryOfPhone("+18765550100")).toBe("JM");
    expect(countryOfPhone("+16585550100")).toBe("JM");
    expect(countryOfPhone("+17875550100")).toBe("PR");
    expect(countryOfPhone("+19395550100")).toBe("PR");
    expect(countryOfPhone("+16505550100")).toBe("US");
    expect(countryOfPhone("+77011234567")).toBe("KZ");
    expect(countryOfPhone("+76001234567")).toBe("KZ");
    expect(countryOfPhone("+79161234567")).toBe("RU");
    expect(countryOfPhone("+34 600 11 12 22")).toBe("ES");
    expect(countryOfPhone("+880 1712 345678")).toBe("BD");
    expect(countryOfPhone("+2348031234567")).toBe("NG");
    expect(countryOfPhone("34600111222")).toBeNull();
    expect(countryOfPhone("+800 1234 5678")).toBeNull();
  });
});

describe("AI model prices", () => {
  it("charges tokens per million, rounding once per turn", async () => {
    const t = await seeded();
    const price4o = await t.run((ctx) => modelPriceInForce(ctx, "USD", "gpt-4o-mini", at("2026-11-01")));
    // 1,200 input tokens at 0.15/M and 300 output at 0.60/M: 180 + 180 micro-dollars.
    expect(tokenCost(price4o, 1_200, 300)).toBe(360);
    expect(tokenCost(price4o, 1, 0)).toBe(0); // 0.15 micro-units rounds to 0
    expect(tokenCost(price4o, 4, 0)).toBe(1); // 0.6 rounds to 1
    const missing = await errorOf(
      t.run((ctx) => modelPriceInForce(ctx, "INR", "gpt-4o-mini", at("2026-11-01"))),
    );
    expect(missing.code).toBe("NO_RATE");
  });
});
