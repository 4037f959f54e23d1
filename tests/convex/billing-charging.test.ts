import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { internal } from "../../convex/_generated/api";
import {
  adjust,
  assertCanSpend,
  chargedCategory,
  meter,
  refund,
  release,
  reserve,
  settle,
  settleMany,
  topUp,
} from "../../convex/model/billing/charging";
import { entriesFor } from "../../convex/model/billing/ledger";
import { errorOf, snapshot } from "./factories";
import { NOV, billingTenant, inTx, invariant, walletOf } from "./billing-helpers";

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

const campaign = { kind: "campaign" as const, id: "camp-1" };
const message = (id: string) => ({ kind: "message" as const, id });
const regular = (category: string) => ({ type: "regular", category });

describe("the debt limit", () => {
  it("lets a reservation take available to exactly −5.00, and refuses one micro-unit more, changing nothing", async () => {
    const { t, tenantId } = await billingTenant();
    await inTx(t, (ctx) => topUp(ctx, { tenantId, amount: 1_000_000, key: "grant" }));
    // Within: 1.00 balance, reserve 5.99 → available −4.99.
    await inTx(t, (ctx) => reserve(ctx, { tenantId, amount: 5_990_000, key: "r1", reference: campaign }));
    // Exactly at the limit: reserve 0.01 more → available −5.00.
    await inTx(t, (ctx) => reserve(ctx, { tenantId, amount: 10_000, key: "r2", reference: campaign }));
    expect(await walletOf(t, tenantId)).toMatchObject({ balance: 1_000_000, reserved: 6_000_000 });
    const before = await snapshot(t);
    const refused = await errorOf(
      inTx(t, (ctx) => reserve(ctx, { tenantId, amount: 1, key: "r3", reference: campaign })),
    );
    expect(refused.code).toBe("INSUFFICIENT_CREDITS");
    expect(refused.message).toMatch(/0\.000001 USD/);
    expect(await snapshot(t)).toEqual(before);
    await inTx(t, (ctx) => assertCanSpend(ctx, tenantId, 0)); // exactly at the limit: allowed
    expect((await errorOf(inTx(t, (ctx) => assertCanSpend(ctx, tenantId, 1)))).code).toBe(
      "INSUFFICIENT_CREDITS",
    );
  });

  it("follows a per-tenant debt limit, and refuses a tenant with nothing when the limit is zero", async () => {
    const { t, tenantId } = await billingTenant();
    const wallet = await walletOf(t, tenantId);
    await t.run((ctx) => ctx.db.patch("wallets", wallet._id, { debtLimit: 0 }));
    expect(
      (await errorOf(inTx(t, (ctx) => reserve(ctx, { tenantId, amount: 1, key: "r", reference: campaign }))))
        .code,
    ).toBe("INSUFFICIENT_CREDITS");
  });
});

describe("settle", () => {
  it("charges the reported category's rate with markup and releases the message's reservation in one entry", async () => {
    const { t, tenantId } = await billingTenant();
    const wallet = await walletOf(t, tenantId);
    await t.run((ctx) => ctx.db.patch("wallets", wallet._id, { markupBps: 2_000 }));
    await inTx(t, (ctx) => topUp(ctx, { tenantId, amount: 10_000_000, key: "grant" }));
    await inTx(t, (ctx) =>
      reserve(ctx, { tenantId, amount: 100_000, key: "res:m1", reference: message("m1") }),
    );
    const result = await inTx(t, (ctx) =>
      settle(ctx, {
        tenantId,
        key: "msg:m1",
        reservationKey: "res:m1",
        reference: message("m1"),
        phoneE164: "+393401234567",
        pricing: { type: "regular", category: "marketing", billable: true },
        at: NOV,
      }),
    );
    expect(result.status).toBe("charged");
    // Italy marketing 0.0795 + 20 % = 0.0954.
    expect(result.entry).toMatchObject({ kind: "charge", amount: -95_400, reservedChange: -100_000 });
    expect(result.entry!.detail).toMatchObject({
      category: "marketing",
      country: "IT",
      base: 79_500,
      markupBps: 2_000,
      source: "B,C,D",
      estimate: false,
    });
    expect(await walletOf(t, tenantId)).toMatchObject({ balance: 9_904_600, reserved: 0 });
    expect((await invariant(t, tenantId)).ok).toBe(true);
  });

  it("charges once per key, whatever order and how often the statuses arrive", async () => {
    const { t, tenantId } = await billingTenant();
    const args = {
      tenantId,
      key: "msg:m2",
      reference: message("m2"),
      country: "DE",
      pricing: regular("utility"),
      at: NOV,
    };
    const first = await inTx(t, (ctx) => settle(ctx, args));
    const again = await inTx(t, (ctx) => settle(ctx, { ...args, pricing: regular("marketing") }));
    expect(again).toEqual({ status: "duplicate", entry: first.entry });
    expect(await walletOf(t, tenantId)).toMatchObject({ balance: -55_000, entryCount: 1 });
  });

  it("reads type and category, not the deprecated billable flag", () => {
    expect(chargedCategory({ type: "regular", category: "utility", billable: false })).toBe("utility");
    expect(
      chargedCategory({ type: "free_customer_service", category: "service", billable: true }),
    ).toBeNull();
    expect(chargedCategory({ type: "free_entry_point", category: "referral_conversion" })).toBeNull();
    expect(chargedCategory({ billable: false, category: "utility" })).toBeNull();
    expect(chargedCategory({ billable: true, category: "utility" })).toBe("utility");
    expect(chargedCategory(undefined)).toBeNull();
  });

  it("only releases for free messages and failed ones the provider did not bill", async () => {
    const { t, tenantId } = await billingTenant();
    await inTx(t, (ctx) => reserve(ctx, { tenantId, amount: 50_000, key: "res:a", reference: message("a") }));
    await inTx(t, (ctx) => reserve(ctx, { tenantId, amount: 50_000, key: "res:b", reference: message("b") }));
    const free = await inTx(t, (ctx) =>
      settle(ctx, {
        tenantId,
        key: "msg:a",
        reservationKey: "res:a",
        reference: message("a"),
        country: "ES",
        pricing: { type: "free_customer_service", category: "service" },
        at: NOV,
      }),
    );
    const failed = await inTx(t, (ctx) =>
      settle(ctx, {
        tenantId,
        key: "msg:b",
        reservationKey: "res:b",
        reference: message("b"),
        country: "ES",
        pricing: null,
        at: NOV,
      }),
    );
    expect([free.status, failed.status]).toEqual(["released", "released"]);
    expect(await walletOf(t, tenantId)).toMatchObject({ balance: 0, reserved: 0 });
    const none = await inTx(t, (ctx) =>
      settle(ctx, {
        tenantId,
        key: "msg:c",
        reference: message("c"),
        country: "ES",
        pricing: { type: "free_entry_point" },
        at: NOV,
      }),
    );
    expect(none).toEqual({ status: "free", entry: null });
  });

  it("leaves no trace when the message cannot be priced", async () => {
    const { t, tenantId } = await billingTenant();
    await inTx(t, (ctx) => reserve(ctx, { tenantId, amount: 50_000, key: "res:x", reference: message("x") }));
    const before = await snapshot(t);
    const error = await errorOf(
      inTx(t, (ctx) =>
        settle(ctx, {
          tenantId,
          key: "msg:x",
          reservationKey: "res:x",
          reference: message("x"),
          country: "IT",
          pricing: regular("marketing_lite"),
          at: NOV,
        }),
      ),
    );
    expect(error.code).toBe("NO_RATE");
    expect(await snapshot(t)).toEqual(before);
  });

  it("draws a campaign's batch reservation down per message and releases the rest at the end", async () => {
    const { t, tenantId } = await billingTenant();
    await inTx(t, (ctx) => topUp(ctx, { tenantId, amount: 5_000_000, key: "grant" }));
    // One reservation for a batch of 4 marketing messages to Spain at 0.0707 each.
    await inTx(t, (ctx) =>
      reserve(ctx, { tenantId, amount: 4 * 70_700, perItem: 70_700, key: "batch:1", reference: campaign }),
    );
    const items = ["m1", "m2", "m3"].map((id, i) => ({
      tenantId,
      key: `msg:${id}`,
      reservationKey: "batch:1",
      reference: campaign,
      country: "ES",
      pricing: i === 2 ? { type: "free_customer_service", category: "service" } : regular("marketing"),
      at: NOV,
    }));
    const results = await inTx(t, (ctx) => settleMany(ctx, [...items, items[0]]));
    expect(results.map((r) => r.status)).toEqual(["charged", "charged", "released", "duplicate"]);
    expect(await walletOf(t, tenantId)).toMatchObject({ balance: 5_000_000 - 2 * 70_700, reserved: 70_700 });
    await inTx(t, (ctx) => release(ctx, { tenantId, reservationKey: "batch:1" }));
    await inTx(t, (ctx) => release(ctx, { tenantId, reservationKey: "batch:1" }));
    expect(await walletOf(t, tenantId)).toMatchObject({ reserved: 0 });
    const reservation = await t.run((ctx) => ctx.db.query("reservations").first());
    expect(reservation).toMatchObject({ state: "closed", remaining: 0 });
    const cost = await t.run((ctx) => entriesFor(ctx, tenantId, campaign));
    expect(cost.filter((e) => e.kind === "charge").reduce((s, e) => s - e.amount, 0)).toBe(141_400);
    expect((await invariant(t, tenantId)).ok).toBe(true);
  });
});

describe("meter, top-up, adjustment and refund", () => {
  it("charges AI tokens at the model's price per million", async () => {
    const { t, tenantId } = await billingTenant();
    const entry = await inTx(t, (ctx) =>
      meter(ctx, {
        tenantId,
        model: "gpt-4o-mini",
        inputTokens: 12_000,
        outputTokens: 800,
        key: "turn:1",
        reference: { kind: "assistant_turn", id: "1" },
        at: NOV,
      }),
    );
    // 12,000 × 0.15/M + 800 × 0.60/M = 0.0018 + 0.00048 = 0.00228 USD.
    expect(entry).toMatchObject({
      kind: "charge",
      amount: -2_280,
      detail: { model: "gpt-4o-mini", inputTokens: 12_000 },
    });
    const again = await inTx(t, (ctx) =>
      meter(ctx, {
        tenantId,
        model: "gpt-4o-mini",
        inputTokens: 12_000,
        outputTokens: 800,
        key: "turn:1",
        reference: { kind: "assistant_turn", id: "1" },
        at: NOV,
      }),
    );
    expect(again._id).toBe(entry._id);
    expect((await walletOf(t, tenantId)).balance).toBe(-2_280);
  });

  it("requires a reason for a person's adjustment and refunds a charge once", async () => {
    const { t, tenantId, owner } = await billingTenant();
    const person = { kind: "user" as const, userId: owner.userId, email: owner.email };
    expect(
      (
        await errorOf(
          inTx(t, (ctx) => adjust(ctx, { tenantId, amount: -1, key: "adj", actor: person, reason: "" })),
        )
      ).field,
    ).toBe("reason");
    await inTx(t, (ctx) =>
      adjust(ctx, { tenantId, amount: -1_000_000, key: "adj", actor: person, reason: "Bank fee" }),
    );
    await inTx(t, (ctx) =>
      settle(ctx, {
        tenantId,
        key: "msg:r",
        reference: message("r"),
        country: "FR",
        pricing: regular("marketing"),
        at: NOV,
      }),
    );
    await inTx(t, (ctx) => refund(ctx, { tenantId, chargeKey: "msg:r", reason: "Sent twice by mistake" }));
    await inTx(t, (ctx) => refund(ctx, { tenantId, chargeKey: "msg:r" }));
    expect((await walletOf(t, tenantId)).balance).toBe(-1_000_000);
    expect(
      (await errorOf(inTx(t, (ctx) => refund(ctx, { tenantId, chargeKey: "adj", key: "r2" })))).code,
    ).toBe("NOT_FOUND");
  });
});

describe("checkWalletInvariant", () => {
  it("passes on a healthy ledger across pages and names what is wrong on a tampered one", async () => {
    const { t, tenantId } = await billingTenant();
    for (let i = 0; i < 5; i++)
      await inTx(t, (ctx) => topUp(ctx, { tenantId, amount: 1_000 + i, key: `g${i}` }));
    await inTx(t, (ctx) => reserve(ctx, { tenantId, amount: 500, key: "r", reference: campaign }));
    let page = await t.query(internal.billing.checkWalletInvariant, { tenantId, pageSize: 2 });
    let pages = 1;
    while (!page.isDone) {
      expect(page.ok).toBe(true);
      page = await t.query(internal.billing.checkWalletInvariant, {
        tenantId,
        pageSize: 2,
        cursor: page.cursor,
        carry: page.carry,
      });
      pages++;
    }
    expect(page).toMatchObject({ ok: true, carry: { seq: 6, balance: 5_010, reserved: 500 } });
    expect(pages).toBeGreaterThan(2);

    const wallet = await walletOf(t, tenantId);
    await t.run((ctx) => ctx.db.patch("wallets", wallet._id, { balance: wallet.balance + 1 }));
    const broken = await invariant(t, tenantId);
    expect(broken.ok).toBe(false);
    expect(broken.problems.join("\n")).toMatch(/balance 5011 ≠ sum of entries 5010/);
  });
});
