import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import { reserve, settle } from "../../convex/model/billing/charging";
import { expectCode, setup, signUp, snapshot, twoTenants } from "./factories";
import { NOV, inTx } from "./billing-helpers";

beforeEach(() => {
  vi.useFakeTimers();
  vi.stubEnv("APP_URL", "http://app.test");
  vi.stubEnv("PLATFORM_ADMIN_EMAILS", "root@platform.test");
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

const page = { numItems: 20, cursor: null };

async function world() {
  const { t, as } = setup();
  await t.mutation(internal.billing.seedRates, {});
  const w = await twoTenants(t, as);
  const root = await signUp(as, "root@platform.test");
  return { t, as, w, root };
}

describe("billing for tenant admins and platform admins", () => {
  it("shows an empty wallet with the default debt limit before any credits", async () => {
    const { w } = await world();
    expect(await w.adminA.client.query(api.billing.wallet, { tenantId: w.tenantA })).toEqual({
      currency: "EUR",
      balance: 0,
      reserved: 0,
      available: 0,
      debtLimit: 5_000_000,
      markupBps: 0,
      lowBalanceThresholds: [10_000_000],
      currencyLocked: false,
    });
  });

  it("lets a platform admin add credits with a reason, once per key, audited for the tenant and the platform", async () => {
    const { t, w, root } = await world();
    const args = { tenantId: w.tenantA, amount: "25.50", reason: "Welcome credit", key: "form-1" };
    const first = await root.client.mutation(api.billing.topUp, args);
    expect(first).toMatchObject({
      duplicate: false,
      wallet: { balance: 25_500_000, available: 25_500_000, currencyLocked: true },
    });
    const replay = await root.client.mutation(api.billing.topUp, args);
    expect(replay).toMatchObject({
      duplicate: true,
      entryId: first.entryId,
      wallet: { balance: 25_500_000 },
    });

    const ledger = await w.adminA.client.query(api.billing.ledger, {
      tenantId: w.tenantA,
      paginationOpts: page,
    });
    expect(ledger.page).toHaveLength(1);
    expect(ledger.page[0]).toMatchObject({
      kind: "top_up",
      amount: 25_500_000,
      balanceAfter: 25_500_000,
      reason: "Welcome credit",
      actor: { kind: "user", email: "root@platform.test" },
      referenceKind: "admin",
    });

    const tenantLog = await w.ownerA.client.query(api.audit.listForTenant, {
      tenantId: w.tenantA,
      action: "billing.credits_added",
      paginationOpts: page,
    });
    expect(tenantLog.page).toHaveLength(1);
    expect(tenantLog.page[0].summary).toBe("Added 25.50 EUR of credits: Welcome credit");
    const platformLog = await root.client.query(api.audit.listAll, {
      action: "billing.credits_added",
      paginationOpts: page,
    });
    expect(platformLog.page.map((e) => e.eventId)).toEqual([tenantLog.page[0].eventId]);
    // Tenant B sees nothing of it.
    const other = await w.ownerB.client.query(api.billing.ledger, {
      tenantId: w.tenantB,
      paginationOpts: page,
    });
    expect(other.page).toEqual([]);
    expect((await t.query(internal.billing.checkWalletInvariant, { tenantId: w.tenantA })).ok).toBe(true);
  });

  it("refuses credit changes without a reason, with a bad amount, or from a tenant owner, changing nothing", async () => {
    const { t, w, root } = await world();
    const before = await snapshot(t);
    await expectCode(
      root.client.mutation(api.billing.topUp, { tenantId: w.tenantA, amount: "10", reason: " " }),
      "INVALID",
      "reason",
    );
    await expectCode(
      root.client.mutation(api.billing.topUp, { tenantId: w.tenantA, amount: "-10", reason: "Oops" }),
      "INVALID",
      "amount",
    );
    await expectCode(
      root.client.mutation(api.billing.topUp, { tenantId: w.tenantA, amount: "10.0000001", reason: "Oops" }),
      "INVALID",
      "amount",
    );
    await expectCode(
      root.client.mutation(api.billing.adjust, { tenantId: w.tenantA, amount: "0", reason: "Nothing" }),
      "INVALID",
      "amount",
    );
    await expectCode(
      root.client.mutation(api.billing.setMarkup, { tenantId: w.tenantA, markupBps: 12.5, reason: "Odd" }),
      "INVALID",
      "markupBps",
    );
    await expectCode(
      root.client.mutation(api.billing.setDebtLimit, { tenantId: w.tenantA, debtLimit: "-1", reason: "Odd" }),
      "INVALID",
      "debtLimit",
    );
    await expectCode(
      w.ownerA.client.mutation(api.billing.topUp, {
        tenantId: w.tenantA,
        amount: "10",
        reason: "Free money",
      }),
      "FORBIDDEN",
    );
    expect(await snapshot(t)).toEqual(before);
  });

  it("applies the debt limit and markup a platform admin sets", async () => {
    const { t, w, root } = await world();
    await root.client.mutation(api.billing.setDebtLimit, {
      tenantId: w.tenantA,
      debtLimit: "0.50",
      reason: "New customer",
    });
    await expectCode(
      inTx(t, (ctx) =>
        reserve(ctx, {
          tenantId: w.tenantA,
          amount: 500_001,
          key: "r",
          reference: { kind: "campaign", id: "c" },
        }),
      ),
      "INSUFFICIENT_CREDITS",
    );
    await inTx(t, (ctx) =>
      reserve(ctx, {
        tenantId: w.tenantA,
        amount: 500_000,
        key: "r",
        reference: { kind: "campaign", id: "c" },
      }),
    );

    await root.client.mutation(api.billing.setMarkup, {
      tenantId: w.tenantA,
      markupBps: 1_000,
      reason: "Reseller terms",
    });
    await inTx(t, (ctx) =>
      settle(ctx, {
        tenantId: w.tenantA,
        key: "msg:1",
        reference: { kind: "message", id: "1" },
        country: "IT",
        pricing: { type: "regular", category: "marketing" },
        at: NOV,
      }),
    );
    const wallet = await w.adminA.client.query(api.billing.wallet, { tenantId: w.tenantA });
    // EUR Italy marketing 0.0658 + 10 % = 0.07238.
    expect(wallet).toMatchObject({
      balance: -72_380,
      reserved: 500_000,
      available: -572_380,
      debtLimit: 500_000,
      markupBps: 1_000,
    });
    const charges = await w.adminA.client.query(api.billing.ledger, {
      tenantId: w.tenantA,
      kind: "charge",
      paginationOpts: page,
    });
    expect(charges.page.map((e) => e.key)).toEqual(["msg:1"]);
    const log = await root.client.query(api.audit.listAll, { paginationOpts: page });
    expect(log.page.map((e) => e.action)).toEqual(
      expect.arrayContaining(["billing.debt_limit_changed", "billing.markup_changed"]),
    );
  });
});
