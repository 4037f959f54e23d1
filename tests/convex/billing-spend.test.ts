/**
 * Spend rollups: every charge and refund lands in its UTC day and category in the same mutation,
 * the rollups always add up to what the ledger says, and the billing queries built on them
 * (spend by day and category, cost of a reference, the filtered ledger).
 */
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { Doc, Id } from "../../convex/_generated/dataModel";
import { meter, refund, reserve, settle, settleMany, topUp } from "../../convex/model/billing/charging";
import { isoDay } from "../../convex/model/billing/rates";
import { errorOf, setup, signUp, SETTINGS, type T } from "./factories";
import { NOV, billingTenant, inTx, invariant } from "./billing-helpers";

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(NOV);
});
afterEach(() => vi.useRealTimers());

const HOUR = 3_600_000;
const message = (id: string) => ({ kind: "message" as const, id });
const campaign = (id: string) => ({ kind: "campaign" as const, id });
const regular = (category: string) => ({ type: "regular", category });

async function rollups(t: T, tenantId: Id<"tenants">) {
  const rows = await t.run((ctx) =>
    ctx.db
      .query("spendDaily")
      .withIndex("by_tenant_day_category", (q) => q.eq("tenantId", tenantId))
      .collect(),
  );
  return rows.map(({ day, category, amount, count, refunded }) => ({
    day,
    category,
    amount,
    count,
    refunded,
  }));
}

/** The rollups recomputed from the ledger itself, to compare with the stored ones. */
async function fromLedger(t: T, tenantId: Id<"tenants">) {
  const entries = await t.run((ctx) =>
    ctx.db
      .query("ledgerEntries")
      .withIndex("by_tenant_seq", (q) => q.eq("tenantId", tenantId))
      .collect(),
  );
  const byKey = new Map(entries.map((e) => [e.key, e]));
  const categoryOf = (e: Doc<"ledgerEntries">) =>
    e.detail?.model !== undefined ? "ai" : (e.detail?.category ?? "other");
  const rows = new Map<
    string,
    { day: string; category: string; amount: number; count: number; refunded: number }
  >();
  for (const e of entries) {
    if (e.kind !== "charge" && e.kind !== "refund") continue;
    const category = e.kind === "charge" ? categoryOf(e) : categoryOf(byKey.get(e.detail!.refundOf!)!);
    const day = isoDay(e.at);
    const row = rows.get(`${day} ${category}`) ?? { day, category, amount: 0, count: 0, refunded: 0 };
    row.amount -= e.amount;
    if (e.kind === "charge") row.count++;
    else row.refunded += e.amount;
    rows.set(`${day} ${category}`, row);
  }
  return [...rows.values()];
}

const sorted = <R extends { day: string; category: string }>(rows: R[]) =>
  [...rows].sort((a, b) => a.day.localeCompare(b.day) || a.category.localeCompare(b.category));

describe("the daily spend rollup", () => {
  it("adds charges to their UTC day and category, AI tokens under ai, refunds to the charge's category on the refund's day", async () => {
    const { t, tenantId } = await billingTenant();
    await inTx(t, (ctx) => topUp(ctx, { tenantId, amount: 10_000_000, key: "grant" }));
    // 2026-11-02 10:00 UTC: two marketing messages to Italy (0.0795 USD each) and a utility one.
    await inTx(t, (ctx) =>
      settleMany(ctx, [
        {
          tenantId,
          key: "msg:a",
          reference: message("a"),
          country: "IT",
          pricing: regular("marketing"),
          at: NOV,
        },
        {
          tenantId,
          key: "msg:b",
          reference: message("b"),
          country: "IT",
          pricing: regular("marketing"),
          at: NOV,
        },
        {
          tenantId,
          key: "msg:c",
          reference: message("c"),
          country: "IT",
          pricing: regular("utility"),
          at: NOV,
        },
        // Free: no charge, no spend.
        {
          tenantId,
          key: "msg:d",
          reference: message("d"),
          country: "IT",
          pricing: { type: "free_customer_service", category: "service" },
          at: NOV,
        },
      ]),
    );
    await inTx(t, (ctx) =>
      meter(ctx, {
        tenantId,
        key: "turn:1",
        reference: { kind: "assistant_turn", id: "1" },
        model: "gpt-4o-mini",
        inputTokens: 1_000_000,
        outputTokens: 0,
        at: NOV,
      }),
    );
    // 14 hours later it is 2026-11-03 in UTC: one marketing message is refunded then.
    vi.setSystemTime(NOV + 14 * HOUR);
    await inTx(t, (ctx) => refund(ctx, { tenantId, chargeKey: "msg:a", reason: "Not delivered" }));
    // Reservations, releases and top-ups are not spend.
    await inTx(t, (ctx) => reserve(ctx, { tenantId, amount: 500_000, key: "r", reference: campaign("c1") }));

    expect(sorted(await rollups(t, tenantId))).toEqual([
      { day: "2026-11-02", category: "ai", amount: 150_000, count: 1, refunded: 0 },
      { day: "2026-11-02", category: "marketing", amount: 159_000, count: 2, refunded: 0 },
      { day: "2026-11-02", category: "utility", amount: 30_000, count: 1, refunded: 0 },
      { day: "2026-11-03", category: "marketing", amount: -79_500, count: 0, refunded: 79_500 },
    ]);
    expect(sorted(await rollups(t, tenantId))).toEqual(sorted(await fromLedger(t, tenantId)));
    expect((await invariant(t, tenantId)).ok).toBe(true);
  });

  it("writes nothing to the rollup when the same charge arrives again", async () => {
    const { t, tenantId } = await billingTenant();
    const args = {
      tenantId,
      key: "msg:x",
      reference: message("x"),
      country: "DE",
      pricing: regular("utility"),
      at: NOV,
    };
    await inTx(t, (ctx) => settle(ctx, args));
    const once = await rollups(t, tenantId);
    await inTx(t, (ctx) => settle(ctx, args));
    await inTx(t, (ctx) => settleMany(ctx, [args, args]));
    expect(await rollups(t, tenantId)).toEqual(once);
    expect(once).toEqual([{ day: "2026-11-02", category: "utility", amount: 55_000, count: 1, refunded: 0 }]);
  });

  it("always equals the ledger, over random charges, refunds and days", async () => {
    const COUNTRIES = ["IT", "DE", "ES", "US", "BR"];
    const CATEGORIES = ["marketing", "utility", "authentication"];
    type Op =
      | { op: "settle"; country: number; category: number }
      | { op: "meter"; tokens: number }
      | { op: "refund"; of: number; part: boolean }
      | { op: "later"; hours: number };
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ op: fc.constant("settle" as const), country: fc.nat(4), category: fc.nat(2) }),
      fc.record({ op: fc.constant("meter" as const), tokens: fc.integer({ min: 1, max: 3_000_000 }) }),
      fc.record({ op: fc.constant("refund" as const), of: fc.nat(20), part: fc.boolean() }),
      fc.record({ op: fc.constant("later" as const), hours: fc.integer({ min: 1, max: 40 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 25 }), async (ops) => {
        vi.setSystemTime(NOV);
        const { t } = setup();
        await t.mutation(internal.billing.seedRates, {});
        const tenantId = await t.run(async (ctx) => {
          const createdBy = await ctx.db.insert("users", {
            tokenIdentifier: "test|o",
            email: "o@acme.test",
            name: "O",
            isPlatformAdmin: false,
            createdAt: 0,
            lastSeenAt: 0,
          });
          return await ctx.db.insert("tenants", {
            ...SETTINGS,
            currency: "USD",
            slug: "acme",
            createdBy,
            createdAt: 0,
          });
        });
        const charges: string[] = [];
        for (const [i, op] of ops.entries()) {
          if (op.op === "later") vi.advanceTimersByTime(op.hours * HOUR);
          else if (op.op === "settle") {
            const key = `msg:${i}`;
            await inTx(t, (ctx) =>
              settle(ctx, {
                tenantId,
                key,
                reference: message(String(i)),
                country: COUNTRIES[op.country],
                pricing: regular(CATEGORIES[op.category]),
                at: Date.now(),
              }),
            );
            charges.push(key);
          } else if (op.op === "meter") {
            const key = `turn:${i}`;
            await inTx(t, (ctx) =>
              meter(ctx, {
                tenantId,
                key,
                reference: { kind: "assistant_turn", id: String(i) },
                model: "gpt-4o-mini",
                inputTokens: op.tokens,
                outputTokens: op.tokens,
                at: Date.now(),
              }),
            );
            charges.push(key);
          } else if (charges.length > 0) {
            const chargeKey = charges[op.of % charges.length];
            // A second refund of the same charge is the same key: it changes nothing.
            await inTx(t, (ctx) => refund(ctx, { tenantId, chargeKey, ...(op.part ? { amount: 1 } : {}) }));
          }
        }
        expect(sorted(await rollups(t, tenantId))).toEqual(sorted(await fromLedger(t, tenantId)));
      }),
      { numRuns: 15 },
    );
  });
});

async function world() {
  vi.stubEnv("PLATFORM_ADMIN_EMAILS", "root@platform.test");
  vi.stubEnv("APP_URL", "http://app.test");
  const w = await billingTenant();
  const root = await signUp(w.as, "root@platform.test");
  return { ...w, root };
}

describe("billing:spend", () => {
  afterEach(() => vi.unstubAllEnvs());

  it("returns every day of the range, oldest first, with each day's categories and the range's totals", async () => {
    const { t, owner, tenantId } = await world();
    await inTx(t, (ctx) =>
      settle(ctx, {
        tenantId,
        key: "m1",
        reference: message("1"),
        country: "IT",
        pricing: regular("marketing"),
        at: NOV,
      }),
    );
    vi.setSystemTime(NOV - 2 * 24 * HOUR);
    await inTx(t, (ctx) =>
      settle(ctx, {
        tenantId,
        key: "m2",
        reference: message("2"),
        country: "DE",
        pricing: regular("utility"),
        at: NOV,
      }),
    );
    // Before the range: not counted.
    vi.setSystemTime(NOV - 9 * 24 * HOUR);
    await inTx(t, (ctx) =>
      settle(ctx, {
        tenantId,
        key: "m3",
        reference: message("3"),
        country: "DE",
        pricing: regular("utility"),
        at: NOV,
      }),
    );
    const report = await owner.client.query(api.billing.spend, { tenantId, to: "2026-11-02", days: 7 });
    expect(report.currency).toBe("USD");
    expect(report.from).toBe("2026-10-27");
    expect(report.days.map((d) => d.day)).toEqual([
      "2026-10-27",
      "2026-10-28",
      "2026-10-29",
      "2026-10-30",
      "2026-10-31",
      "2026-11-01",
      "2026-11-02",
    ]);
    expect(report.days[4]).toEqual({
      day: "2026-10-31",
      total: 55_000,
      categories: [{ category: "utility", amount: 55_000, count: 1, refunded: 0 }],
    });
    expect(report.days[6].total).toBe(79_500);
    expect(report.days.filter((d) => d.total === 0)).toHaveLength(5);
    expect(report.categories).toEqual([
      { category: "marketing", amount: 79_500, count: 1, refunded: 0 },
      { category: "utility", amount: 55_000, count: 1, refunded: 0 },
    ]);
    expect(report.total).toBe(134_500);
    const wider = await owner.client.query(api.billing.spend, { tenantId, to: "2026-11-02", days: 30 });
    expect(wider.total).toBe(189_500);
  });

  it("refuses a range that is not a date or too long, naming the field", async () => {
    const { owner, tenantId } = await world();
    expect(
      await errorOf(owner.client.query(api.billing.spend, { tenantId, to: "yesterday", days: 7 })),
    ).toMatchObject({
      code: "INVALID",
      field: "to",
    });
    for (const days of [0, 367, 2.5])
      expect(
        await errorOf(owner.client.query(api.billing.spend, { tenantId, to: "2026-11-02", days })),
      ).toMatchObject({
        code: "INVALID",
        field: "days",
      });
  });
});

describe("billing:referenceCost", () => {
  afterEach(() => vi.unstubAllEnvs());

  it("adds up a campaign's charges net of refunds, and nothing of another workspace's", async () => {
    const { t, as, owner, tenantId } = await world();
    const c = campaign("spring-sale");
    for (const id of ["1", "2", "3"])
      await inTx(t, (ctx) =>
        settle(ctx, {
          tenantId,
          key: `m${id}`,
          reference: c,
          country: "IT",
          pricing: regular("marketing"),
          at: NOV,
        }),
      );
    await inTx(t, (ctx) => refund(ctx, { tenantId, chargeKey: "m2", amount: 9_500 }));
    // Reservations under the campaign are not cost.
    await inTx(t, (ctx) => reserve(ctx, { tenantId, amount: 300_000, key: "batch:1", reference: c }));
    const other = await signUp(as, "bruno@beta.test");
    const { tenantId: beta } = await other.client.mutation(api.tenants.create, {
      ...SETTINGS,
      name: "Beta",
      currency: "USD",
    });
    await inTx(t, (ctx) =>
      settle(ctx, {
        tenantId: beta,
        key: "m1",
        reference: c,
        country: "IT",
        pricing: regular("marketing"),
        at: NOV,
      }),
    );

    expect(
      await owner.client.query(api.billing.referenceCost, {
        tenantId,
        referenceKind: "campaign",
        referenceId: "spring-sale",
      }),
    ).toEqual({
      currency: "USD",
      charged: 238_500,
      refunded: 9_500,
      net: 229_000,
      entries: 4,
      complete: true,
    });
    expect(
      await owner.client.query(api.billing.referenceCost, {
        tenantId,
        referenceKind: "campaign",
        referenceId: "none",
      }),
    ).toMatchObject({ net: 0, entries: 0, complete: true });
    expect(
      await errorOf(
        owner.client.query(api.billing.referenceCost, {
          tenantId,
          referenceKind: "campaign",
          referenceId: " ",
        }),
      ),
    ).toMatchObject({ code: "INVALID", field: "referenceId" });
  });
});

describe("billing:ledger filters", () => {
  afterEach(() => vi.unstubAllEnvs());

  it("filters by kind and by a time range, newest first", async () => {
    const { t, owner, root, tenantId } = await world();
    const day = (d: string) => Date.parse(`${d}T00:00:00Z`);
    vi.setSystemTime(day("2026-11-01") + HOUR);
    await root.client.mutation(api.billing.topUp, { tenantId, amount: "5", reason: "First", key: "k1" });
    vi.setSystemTime(day("2026-11-02") + HOUR);
    await root.client.mutation(api.billing.topUp, { tenantId, amount: "6", reason: "Second", key: "k2" });
    await root.client.mutation(api.billing.adjust, { tenantId, amount: "-1", reason: "Fix", key: "k3" });
    vi.setSystemTime(day("2026-11-03") + HOUR);
    await root.client.mutation(api.billing.topUp, { tenantId, amount: "7", reason: "Third", key: "k4" });

    const page = { numItems: 20, cursor: null };
    const list = async (args: { kind?: "top_up" | "adjustment"; from?: number; to?: number }) =>
      (await owner.client.query(api.billing.ledger, { tenantId, paginationOpts: page, ...args })).page.map(
        (e) => e.key,
      );
    expect(await list({})).toEqual(["k4", "k3", "k2", "k1"]);
    expect(await list({ kind: "top_up" })).toEqual(["k4", "k2", "k1"]);
    expect(await list({ from: day("2026-11-02"), to: day("2026-11-03") })).toEqual(["k3", "k2"]);
    expect(await list({ kind: "top_up", from: day("2026-11-02") })).toEqual(["k4", "k2"]);
    expect(await list({ to: day("2026-11-02") })).toEqual(["k1"]);
    expect(
      await errorOf(
        owner.client.query(api.billing.ledger, {
          tenantId,
          paginationOpts: page,
          from: day("2026-11-03"),
          to: day("2026-11-01"),
        }),
      ),
    ).toMatchObject({ code: "INVALID", field: "to" });
    expect(await t.run((ctx) => ctx.db.query("spendDaily").collect())).toEqual([]);
  });
});
