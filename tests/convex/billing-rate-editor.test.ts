/**
 * Platform admins editing the rate card: loading the published card, adding a version from a
 * quarter start, and CSV uploads that write every row or, with any bad row, none, reporting each
 * problem by spreadsheet row. Every change is audited; a rate in force never changes.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import { priceFor } from "../../convex/model/billing/rates";
import { marketProblem } from "../../convex/model/billing/markets";
import { RATE_CARD_SEED } from "../../convex/model/billing/rateCardSeed";
import { quarterStarts } from "../../convex/shared/quarters";
import { CSV_BOM } from "../../convex/shared/csv";
import { expectCode, setup, signUp, snapshot } from "./factories";
import { NOV, inTx } from "./billing-helpers";

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(NOV); // 2026-11-02: the current quarter started on 2026-10-01.
  vi.stubEnv("APP_URL", "http://app.test");
  vi.stubEnv("PLATFORM_ADMIN_EMAILS", "root@platform.test");
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

async function world({ seeded = true } = {}) {
  const { t, as } = setup();
  const root = await signUp(as, "root@platform.test");
  if (seeded) await t.mutation(internal.billing.seedRates, {});
  return { t, as, root };
}

const platformEvents = (t: Awaited<ReturnType<typeof world>>["t"], action: string) =>
  t.run(async (ctx) =>
    (await ctx.db.query("auditEvents").collect()).filter(
      (e) => e.scope === "platform" && e.action === action,
    ),
  );

const GOOD = [
  "currency,market,category,rate,effective_from,source",
  "USD,IT,marketing,0.0810,2027-01-01,Meta card 2027-01",
  "USD,rest_of_western_europe,utility,0.0301,2027-01-01,Meta card 2027-01",
  "EUR,DE,authentication,0.0600,2027-01-01,",
].join("\n");

describe("loading the published rate card", () => {
  it("loads every seeded rate and AI price a batch per mutation, audited once; a second load adds nothing", async () => {
    const { t, root } = await world({ seeded: false });
    expect(await root.client.query(api.billing.rates, { currency: "USD" })).toEqual([]);
    const first = await root.client.mutation(api.billing.loadPublishedCard, {});
    expect(first).toEqual({ total: RATE_CARD_SEED.length, modelPricesInserted: 8, done: false });
    // The first batch is in; the rest follow in scheduled mutations.
    const stored = () => t.run(async (ctx) => (await ctx.db.query("rates").collect()).length);
    expect(await stored()).toBe(50);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const distinct = new Set(
      RATE_CARD_SEED.map((r) => `${r.currency} ${r.market} ${r.category} ${r.effectiveFrom}`),
    );
    expect(await stored()).toBe(distinct.size);
    const events = await platformEvents(t, "billing.rates_seeded");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      actorEmail: "root@platform.test",
      summary: `Loaded the published rate card: ${distinct.size} message rates and 8 AI model prices`,
    });

    expect(await root.client.mutation(api.billing.loadPublishedCard, {})).toMatchObject({
      modelPricesInserted: 0,
    });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await stored()).toBe(distinct.size);
    expect(await platformEvents(t, "billing.rates_seeded")).toHaveLength(1);
  });
});

describe("loading the published rate card from the command line", () => {
  it("with batched, loads a first batch and schedules the rest, audited as the system", async () => {
    const { t } = await world({ seeded: false });
    const first = await t.mutation(internal.billing.seedRates, { batched: true });
    expect(first).toMatchObject({ inserted: 50, modelPricesInserted: 8 });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const stored = await t.run(async (ctx) => (await ctx.db.query("rates").collect()).length);
    const distinct = new Set(
      RATE_CARD_SEED.map((r) => `${r.currency} ${r.market} ${r.category} ${r.effectiveFrom}`),
    );
    expect(stored).toBe(distinct.size);
    const [event] = await platformEvents(t, "billing.rates_seeded");
    expect(event).toMatchObject({ actorEmail: "system:rate-card-seed", after: { rates: distinct.size } });
  });
});

describe("the rate card viewer", () => {
  it("lists one currency's rates, by market, category and date, filtered by market and category", async () => {
    const { root } = await world();
    const usd = await root.client.query(api.billing.rates, { currency: "usd" });
    expect(usd.length).toBeGreaterThan(100);
    expect(new Set(usd.map((r) => r.currency))).toEqual(new Set(["USD"]));
    const italy = await root.client.query(api.billing.rates, { currency: "USD", market: "IT" });
    expect(new Set(italy.map((r) => r.market))).toEqual(new Set(["IT"]));
    const marketing = italy.filter((r) => r.category === "marketing");
    // Newest version first within a market and category.
    expect(marketing.map((r) => r.effectiveFrom)).toEqual(
      [...marketing.map((r) => r.effectiveFrom)].sort().reverse(),
    );
    expect(marketing[0]).toMatchObject({
      marketName: "Italy",
      effectiveFrom: "2026-10-01",
      amount: 79_500,
      source: "B,C,D",
      estimate: false,
    });
    const onlyUtility = await root.client.query(api.billing.rates, { currency: "USD", category: "utility" });
    expect(new Set(onlyUtility.map((r) => r.category))).toEqual(new Set(["utility"]));
    expect(
      await root.client.query(api.billing.rates, { currency: "USD", market: "IT", category: "utility" }),
    ).toEqual(italy.filter((r) => r.category === "utility"));
  });

  it("lists AI model prices per million tokens", async () => {
    const { root } = await world();
    const prices = await root.client.query(api.billing.modelPrices, {});
    expect(prices).toContainEqual(
      expect.objectContaining({
        currency: "USD",
        model: "gpt-4o-mini",
        effectiveFrom: "2026-01-01",
        inputPerMillion: 150_000,
        outputPerMillion: 600_000,
        estimate: false,
      }),
    );
  });
});

describe("a CSV upload", () => {
  it("checks a valid file without writing on a dry run, then writes every row, audited, and prices use it from its date", async () => {
    const { t, root } = await world();
    const before = await snapshot(t);
    const preview = await root.client.mutation(api.billing.importRates, { csv: GOOD, dryRun: true });
    expect(preview).toMatchObject({ ok: true, dryRun: true, rows: 3, inserted: 3, replaced: 0, errors: [] });
    expect(preview.changes[0]).toEqual({
      row: 2,
      action: "insert",
      currency: "USD",
      market: "IT",
      category: "marketing",
      effectiveFrom: "2027-01-01",
      amount: 81_000,
      previous: null,
    });
    expect(await snapshot(t)).toEqual(before);

    const applied = await root.client.mutation(api.billing.importRates, {
      csv: GOOD,
      dryRun: false,
      fileName: "q1-2027.csv",
    });
    expect(applied).toMatchObject({ ok: true, inserted: 3, errorCount: 0 });
    const italy = await root.client.query(api.billing.rates, {
      currency: "USD",
      market: "IT",
      category: "marketing",
    });
    expect(italy[0]).toMatchObject({
      effectiveFrom: "2027-01-01",
      amount: 81_000,
      source: "Meta card 2027-01",
    });
    const german = await root.client.query(api.billing.rates, {
      currency: "EUR",
      market: "DE",
      category: "authentication",
    });
    expect(german[0]).toMatchObject({ effectiveFrom: "2027-01-01", source: "upload by root@platform.test" });

    const quote = (at: string) =>
      inTx(t, (ctx) =>
        priceFor(ctx, { country: "IT", currency: "USD", category: "marketing", at: Date.parse(at) }),
      );
    expect((await quote("2026-12-31T23:59:59Z")).amount).toBe(79_500);
    expect((await quote("2027-01-01T00:00:00Z")).amount).toBe(81_000);

    const events = await platformEvents(t, "billing.rates_changed");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      actorEmail: "root@platform.test",
      summary: "Imported 3 rates from q1-2027.csv: 3 new, 0 corrected (EUR, USD; from 2027-01-01)",
      after: { inserted: 3, replaced: 0, file: "q1-2027.csv" },
    });
    // The same file again changes nothing and records nothing.
    expect(await root.client.mutation(api.billing.importRates, { csv: GOOD, dryRun: false })).toMatchObject({
      ok: true,
      inserted: 0,
      unchanged: 3,
    });
    expect(await platformEvents(t, "billing.rates_changed")).toHaveLength(1);
  });

  it("writes nothing when any row is bad, and reports every bad row by its spreadsheet row", async () => {
    const { t, root } = await world();
    const csv = [
      "Currency,Market,Category,Rate,Effective From", // 1
      "USD,IT,marketing,0.0810,2027-01-01", // 2: fine
      "GBP,IT,marketing,0.0810,2027-01-01", // 3: no GBP card
      "", // 4: blank, still a row
      "USD,IT,utility,0.0300,2027-02-01", // 5: not a quarter start
      "USD,IT,utility,0.0300,2026-07-01", // 6: a past quarter
      "USD,Atlantis,utility,0.0300,2027-01-01", // 7: no such market
      "USD,US,utility,0.0300,2027-01-01", // 8: inside North America
      "USD,IT,utility,0.03.00,2027-01-01", // 9: not a number
      "USD,IT,utility,0.00000001,2027-01-01", // 10: too precise
      "USD,IT,promotional,0.05,2027-01-01", // 11: no such category
      "USD,IT,marketing,0.0820,2027-01-01", // 12: repeats row 2
      "USD,IT,authentication,0.03", // 13: a cell short
      '"USD","HK","marketing","0.07","2026-04-01"', // 14: quoted cells, a past quarter
      "usd,it,Authentication-International,-1,2027-01-01", // 15: negative
    ].join("\r\n");
    const before = await snapshot(t);
    const report = await root.client.mutation(api.billing.importRates, { csv, dryRun: false });
    expect(report.ok).toBe(false);
    expect(report.rows).toBe(13);
    expect(report.errors.map((e) => [e.row, e.field ?? null])).toEqual([
      [3, "currency"],
      [5, "effectiveFrom"],
      [6, "effectiveFrom"],
      [7, "market"],
      [8, "market"],
      [9, "rate"],
      [10, "rate"],
      [11, "category"],
      [12, null],
      [13, null],
      [14, "effectiveFrom"],
      [15, "rate"],
    ]);
    const byRow = (row: number) => report.errors.filter((e) => e.row === row).map((e) => e.message);
    expect(byRow(3)).toEqual(["GBP has no rate card: use USD, EUR, INR, CLP"]);
    expect(byRow(5)[0]).toMatch(/not a quarter start/);
    expect(byRow(6)[0]).toMatch(/past quarter: rates take effect from 2026-10-01 on/);
    expect(byRow(8)).toEqual(["US is priced as North America: use the region id north_america"]);
    expect(byRow(10)[0]).toMatch(/more than 6 decimal places/);
    expect(byRow(12)).toEqual([
      "Repeats row 2: the USD marketing rate for Italy from 2027-01-01 appears twice",
    ]);
    expect(byRow(13)).toEqual(["Has 4 cells; the header has 5"]);
    expect(byRow(14)[0]).toMatch(/^2026-04-01 is in a past quarter/);
    expect(report.errorCount).toBe(12);
    expect(await snapshot(t)).toEqual(before);
  });

  it("refuses a header without the required columns or with unknown ones, at row 1", async () => {
    const { root } = await world();
    const missing = await root.client.mutation(api.billing.importRates, {
      csv: "currency,market,rate\nUSD,IT,0.08\n",
      dryRun: true,
    });
    expect(missing.errors).toEqual([
      {
        row: 1,
        message:
          "Missing columns category, effective_from: the header must name currency, market, category, rate and effective_from",
      },
    ]);
    const unknown = await root.client.mutation(api.billing.importRates, {
      csv: "currency,market,category,rate,effective_from,colour\n",
      dryRun: true,
    });
    expect(unknown.errors).toEqual([{ row: 1, message: 'Unknown column "colour"' }]);
    const broken = await root.client.mutation(api.billing.importRates, {
      csv: 'currency,market,category,rate,effective_from\nUSD,IT,"marketing,0.08,2027-01-01\n',
      dryRun: true,
    });
    expect(broken.errors).toEqual([{ row: 2, message: "Row 2: a quote is opened and never closed" }]);
    const tooMany = ["currency,market,category,rate,effective_from"];
    for (let i = 0; i < 1001; i++) tooMany.push("USD,IT,marketing,0.08,2027-01-01");
    expect(
      (await root.client.mutation(api.billing.importRates, { csv: tooMany.join("\n"), dryRun: true })).errors,
    ).toEqual([{ row: 1002, message: "Upload at most 1000 rates at a time" }]);
    expect((await root.client.mutation(api.billing.importRates, { csv: "", dryRun: true })).errors).toEqual([
      { row: 1, message: "The file is empty" },
    ]);
  });

  it("reads a semicolon file with a byte-order mark and an estimate column", async () => {
    const { root } = await world();
    const csv = `${CSV_BOM}currency;market;category;rate;effective_from;estimate\r\nEUR;FR;marketing;0.1200;2027-04-01;yes\r\n`;
    const report = await root.client.mutation(api.billing.importRates, { csv, dryRun: false });
    expect(report).toMatchObject({ ok: true, inserted: 1 });
    const france = await root.client.query(api.billing.rates, {
      currency: "EUR",
      market: "FR",
      category: "marketing",
    });
    expect(france[0]).toMatchObject({ effectiveFrom: "2027-04-01", amount: 120_000, estimate: true });
  });

  it("never changes a rate in force, but corrects a version that has not started yet", async () => {
    const { t, root } = await world();
    // USD Italy marketing from 2026-10-01 is in force (0.0795).
    const inForce = await root.client.mutation(api.billing.importRates, {
      csv: "currency,market,category,rate,effective_from\nUSD,IT,marketing,0.0799,2026-10-01\n",
      dryRun: false,
    });
    expect(inForce.errors).toEqual([
      {
        row: 2,
        field: "effectiveFrom",
        message:
          "The USD marketing rate for Italy from 2026-10-01 is already in force at 0.0795; a rate in force never changes: add the new one from a later quarter start",
      },
    ]);
    // The same value is fine (nothing to write).
    expect(
      await root.client.mutation(api.billing.importRates, {
        csv: 'currency,market,category,rate,effective_from,source\nUSD,IT,marketing,0.0795,2026-10-01,"B,C,D"\n',
        dryRun: false,
      }),
    ).toMatchObject({ ok: true, unchanged: 1, inserted: 0 });

    await root.client.mutation(api.billing.importRates, { csv: GOOD, dryRun: false });
    const corrected = await root.client.mutation(api.billing.importRates, {
      csv: "currency,market,category,rate,effective_from,source\nUSD,IT,marketing,0.0812,2027-01-01,Meta card 2027-01\n",
      dryRun: false,
    });
    expect(corrected).toMatchObject({ ok: true, replaced: 1 });
    expect(corrected.changes[0]).toMatchObject({ action: "replace", amount: 81_200, previous: 81_000 });
    const versions = await root.client.query(api.billing.rates, {
      currency: "USD",
      market: "IT",
      category: "marketing",
    });
    expect(versions.filter((r) => r.effectiveFrom === "2027-01-01")).toHaveLength(1);
    expect(versions[0].amount).toBe(81_200);
    expect((await platformEvents(t, "billing.rates_changed")).map((e) => e.summary)).toContain(
      "Imported 1 rate: 0 new, 1 corrected (USD; from 2027-01-01)",
    );
  });
});

describe("adding one rate from the form", () => {
  it("adds a version from a quarter start, audited, and names the field of a bad value", async () => {
    const { t, root } = await world();
    const [current, next] = quarterStarts(NOV, 2);
    expect([current, next]).toEqual(["2026-10-01", "2027-01-01"]);
    const row = { currency: "INR", market: "IN", category: "marketing", rate: "0.95", effectiveFrom: next };
    const before = await snapshot(t);
    await expectCode(
      root.client.mutation(api.billing.addRate, { ...row, effectiveFrom: "2027-03-01" }),
      "INVALID",
      "effectiveFrom",
    );
    await expectCode(
      root.client.mutation(api.billing.addRate, { ...row, market: "Narnia" }),
      "INVALID",
      "market",
    );
    await expectCode(root.client.mutation(api.billing.addRate, { ...row, rate: "cheap" }), "INVALID", "rate");
    await expectCode(
      root.client.mutation(api.billing.addRate, { ...row, currency: "JPY" }),
      "INVALID",
      "currency",
    );
    expect(await snapshot(t)).toEqual(before);

    const added = await root.client.mutation(api.billing.addRate, {
      ...row,
      estimate: true,
      note: "Announced",
    });
    expect(added.action).toBe("insert");
    const [rate] = await root.client.query(api.billing.rates, {
      currency: "INR",
      market: "IN",
      category: "marketing",
    });
    expect(rate).toMatchObject({
      rateId: added.rateId,
      effectiveFrom: "2027-01-01",
      amount: 950_000,
      source: "root@platform.test",
      estimate: true,
      note: "Announced",
    });
    const [event] = await platformEvents(t, "billing.rates_changed");
    expect(event).toMatchObject({
      targetId: added.rateId,
      summary: "Added the INR marketing rate for India from 2027-01-01: 0.95",
      after: { currency: "INR", market: "IN", amount: "0.95", effectiveFrom: "2027-01-01", estimate: true },
    });
    // The same again: nothing to change, nothing recorded.
    expect(
      (await root.client.mutation(api.billing.addRate, { ...row, estimate: true, note: "Announced" })).action,
    ).toBe("unchanged");
    expect(await platformEvents(t, "billing.rates_changed")).toHaveLength(1);
  });
});

describe("which markets a rate can be for", () => {
  it("takes regions and standalone countries, a country that left its region only from that date", () => {
    const at = (d: string) => Date.parse(`${d}T00:00:00Z`);
    expect(marketProblem("IT", at("2027-01-01"))).toBeNull();
    expect(marketProblem("rest_of_asia_pacific", at("2027-01-01"))).toBeNull();
    expect(marketProblem("other", at("2027-01-01"))).toBeNull();
    expect(marketProblem("HK", at("2026-07-01"))).toBeNull();
    expect(marketProblem("HK", at("2026-04-01"))).toBe(
      "HK is a market of its own only from 2026-07-01; before that it is priced as Rest of Asia Pacific (rest_of_asia_pacific)",
    );
    expect(marketProblem("AT", at("2027-01-01"))).toBe(
      "AT is priced as Rest of Western Europe: use the region id rest_of_western_europe",
    );
    expect(marketProblem("KR", at("2027-01-01"))).toMatch(/^KR has no market of its own/);
    expect(marketProblem("Atlantis", at("2027-01-01"))).toMatch(/is not a market/);
  });
});
