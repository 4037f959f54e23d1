/**
 * Random interleavings of top-ups, adjustments, batch reservations, settlements (duplicated and
 * reordered pricing events) and releases, checked after every step against a reference model
 * and the ledger itself: sum(entries) == balance, reserved == open reservations, no key
 * charged twice, and available ≥ −debtLimit except by what was spent without a reservation.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { adjust, release, reserve, settle, topUp } from "../../convex/model/billing/charging";
import { ensureWallet } from "../../convex/model/billing/wallet";
import { errorOf, setup, type T } from "./factories";
import { NOV, inTx } from "./billing-helpers";

const BATCHES = 4;
const PER_BATCH = 3;
const PER_ITEM = 100_000;
const DEBT_LIMIT = 500_000;
const MARKUP_BPS = 1_000;

/** Each message's pricing never changes; its events only repeat and arrive in any order. */
const MESSAGES = Array.from({ length: BATCHES * PER_BATCH }, (_, m) => {
  const kinds = [
    { country: "IT", pricing: { type: "regular", category: "marketing" }, price: 87_450 },
    { country: "ES", pricing: { type: "regular", category: "utility", billable: true }, price: 22_000 },
    { country: "IT", pricing: { type: "free_customer_service", category: "service" }, price: 0 },
    { country: "ES", pricing: null, price: 0 },
    {
      country: "LU",
      pricing: { type: "regular", category: "authentication", billable: false },
      price: 8_470,
    },
  ];
  return kinds[m % kinds.length];
});

type Op =
  | { op: "topUp"; idx: number; amount: number }
  | { op: "adjust"; idx: number; amount: number }
  | { op: "reserve"; batch: number }
  | { op: "settle"; message: number }
  | { op: "release"; batch: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant("topUp" as const),
    idx: fc.nat(4),
    amount: fc.integer({ min: 1, max: 600_000 }),
  }),
  fc.record({
    op: fc.constant("adjust" as const),
    idx: fc.nat(4),
    amount: fc.integer({ min: -400_000, max: 400_000 }).filter((n) => n !== 0),
  }),
  fc.record({ op: fc.constant("reserve" as const), batch: fc.nat(BATCHES - 1) }),
  // Settlements are the most frequent, so the same message's events repeat and interleave.
  fc.record({ op: fc.constant("settle" as const), message: fc.nat(BATCHES * PER_BATCH - 1) }),
  fc.record({ op: fc.constant("settle" as const), message: fc.nat(BATCHES * PER_BATCH - 1) }),
  fc.record({ op: fc.constant("release" as const), batch: fc.nat(BATCHES - 1) }),
);

type Model = {
  balance: number;
  reserved: number;
  keys: Set<string>;
  batches: Map<number, { remaining: number; open: boolean }>;
  /** Spent without a reservation to cover it (late events, negative adjustments). */
  uncovered: number;
};

async function world() {
  const { t } = setup();
  const tenantId = await t.run(async (ctx) => {
    const userId = await ctx.db.insert("users", {
      tokenIdentifier: "test|owner",
      email: "owner@acme.test",
      name: "Owner",
      isPlatformAdmin: false,
      createdAt: 0,
      lastSeenAt: 0,
    });
    const id = await ctx.db.insert("tenants", {
      name: "Acme",
      slug: "acme",
      currency: "USD",
      timeZone: "UTC",
      defaultCountry: "US",
      createdBy: userId,
      createdAt: 0,
    });
    const rates = [
      ["IT", "marketing", 79_500],
      ["ES", "utility", 20_000],
      ["other", "authentication", 7_700],
    ] as const;
    for (const [market, category, amount] of rates) {
      await ctx.db.insert("rates", {
        currency: "USD",
        market,
        category,
        effectiveFrom: Date.parse("2026-10-01T00:00:00Z"),
        amount,
        source: "test",
        estimate: false,
        createdAt: 0,
      });
    }
    return id;
  });
  const wallet = await inTx(t, (ctx) => ensureWallet(ctx, tenantId));
  await t.run((ctx) => ctx.db.patch("wallets", wallet._id, { debtLimit: DEBT_LIMIT, markupBps: MARKUP_BPS }));
  return { t, tenantId };
}

async function apply(t: T, tenantId: Id<"tenants">, model: Model, step: Op) {
  const admin = {
    kind: "user" as const,
    userId: (await t.run((ctx) => ctx.db.query("users").first()))!._id,
    email: "root@platform.test",
  };
  switch (step.op) {
    case "topUp": {
      const key = `top:${step.idx}`;
      await inTx(t, (ctx) => topUp(ctx, { tenantId, amount: step.amount, key }));
      if (!model.keys.has(key)) {
        model.keys.add(key);
        model.balance += step.amount;
      }
      return;
    }
    case "adjust": {
      const key = `adj:${step.idx}`;
      await inTx(t, (ctx) =>
        adjust(ctx, { tenantId, amount: step.amount, key, actor: admin, reason: "Property test" }),
      );
      if (!model.keys.has(key)) {
        model.keys.add(key);
        model.balance += step.amount;
        if (step.amount < 0) model.uncovered -= step.amount;
      }
      return;
    }
    case "reserve": {
      const key = `batch:${step.batch}`;
      const amount = PER_BATCH * PER_ITEM;
      const call = inTx(t, (ctx) =>
        reserve(ctx, { tenantId, amount, perItem: PER_ITEM, key, reference: { kind: "campaign", id: "c" } }),
      );
      if (model.keys.has(key)) {
        expect((await call).duplicate).toBe(true);
      } else if (model.balance - model.reserved - amount < -DEBT_LIMIT) {
        const entriesBefore = await t.run((ctx) => ctx.db.query("ledgerEntries").collect());
        expect((await errorOf(call)).code).toBe("INSUFFICIENT_CREDITS");
        expect(await t.run((ctx) => ctx.db.query("ledgerEntries").collect())).toEqual(entriesBefore);
      } else {
        await call;
        model.keys.add(key);
        model.reserved += amount;
        model.batches.set(step.batch, { remaining: amount, open: true });
      }
      return;
    }
    case "settle": {
      const message = MESSAGES[step.message];
      const batchNo = Math.floor(step.message / PER_BATCH);
      const batch = model.batches.get(batchNo);
      const key = `msg:${step.message}`;
      const result = await inTx(t, (ctx) =>
        settle(ctx, {
          tenantId,
          key,
          ...(batch ? { reservationKey: `batch:${batchNo}` } : {}),
          reference: { kind: "message", id: String(step.message) },
          country: message.country,
          pricing: message.pricing,
          at: NOV,
        }),
      );
      if (model.keys.has(key)) {
        expect(result.status).toBe("duplicate");
        return;
      }
      const freed = batch?.open ? Math.min(PER_ITEM, batch.remaining) : 0;
      if (message.price === 0 && freed === 0) {
        expect(result.status).toBe("free");
        return;
      }
      model.keys.add(key);
      model.balance -= message.price;
      model.reserved -= freed;
      if (message.price > freed) model.uncovered += message.price - freed;
      if (batch) {
        batch.remaining -= freed;
        if (batch.remaining === 0) batch.open = false;
      }
      expect(result.status).toBe(message.price > 0 ? "charged" : "released");
      return;
    }
    case "release": {
      const batch = model.batches.get(step.batch);
      if (!batch) return;
      await inTx(t, (ctx) => release(ctx, { tenantId, reservationKey: `batch:${step.batch}` }));
      if (batch.open) {
        model.reserved -= batch.remaining;
        batch.remaining = 0;
        batch.open = false;
      }
      return;
    }
  }
}

async function check(t: T, tenantId: Id<"tenants">, model: Model, history: Op[]) {
  const { wallet, entries, open } = await t.run(async (ctx) => ({
    wallet: (await ctx.db.query("wallets").first())!,
    entries: await ctx.db.query("ledgerEntries").collect(),
    open: await ctx.db
      .query("reservations")
      .withIndex("by_tenant_state", (q) => q.eq("tenantId", tenantId).eq("state", "open"))
      .collect(),
  }));
  const context = JSON.stringify(history);
  expect(
    entries.reduce((s, e) => s + e.amount, 0),
    context,
  ).toBe(wallet.balance);
  expect(
    entries.reduce((s, e) => s + e.reservedChange, 0),
    context,
  ).toBe(wallet.reserved);
  expect(
    open.reduce((s, r) => s + r.remaining, 0),
    context,
  ).toBe(wallet.reserved);
  expect(wallet.balance, context).toBe(model.balance);
  expect(wallet.reserved, context).toBe(model.reserved);
  const keys = entries.map((e) => e.key);
  expect(new Set(keys).size, `a key was used twice: ${context}`).toBe(keys.length);
  expect(wallet.balance - wallet.reserved, context).toBeGreaterThanOrEqual(
    -wallet.debtLimit - model.uncovered,
  );
}

describe("wallet and ledger under random interleavings", () => {
  it("keeps sum(entries) == balance, reserved == open reservations, one charge per key, and the debt limit", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 30 }), async (ops) => {
        const { t, tenantId } = await world();
        const model: Model = { balance: 0, reserved: 0, keys: new Set(), batches: new Map(), uncovered: 0 };
        const history: Op[] = [];
        for (const step of ops) {
          history.push(step);
          await apply(t, tenantId, model, step);
          await check(t, tenantId, model, history);
        }
        expect((await t.query(internal.billing.checkWalletInvariant, { tenantId })).problems).toEqual([]);
      }),
      { numRuns: 50 },
    );
  }, 240_000);
});
