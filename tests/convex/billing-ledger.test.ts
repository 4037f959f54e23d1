import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { currencyLocked } from "../../convex/model/billing/currencies";
import { appendEntry, entryByKey, listEntries } from "../../convex/model/billing/ledger";
import { ensureWallet, walletView } from "../../convex/model/billing/wallet";
import { SETTINGS, errorOf, setup, signUp } from "./factories";

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

const system = { kind: "system" as const, name: "test" };
const admin = { kind: "admin" as const, id: "test" };

async function tenant() {
  const { t, as } = setup();
  const owner = await signUp(as, "olivia@acme.test");
  const { tenantId } = await owner.client.mutation(api.tenants.create, SETTINGS);
  return { t, tenantId: tenantId as Id<"tenants">, owner };
}

describe("wallet and ledger", () => {
  it("opens a wallet on first use with a 5.00 debt limit in the tenant's currency", async () => {
    const { t, tenantId } = await tenant();
    const view = await t.run(async (ctx) =>
      walletView((await ctx.db.get("tenants", tenantId))!, await ensureWallet(ctx, tenantId)),
    );
    expect(view).toEqual({
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

  it("writes entries with the totals after each, numbered without gaps, and moves the wallet", async () => {
    const { t, tenantId } = await tenant();
    await t.run(async (ctx) => {
      let wallet = await ensureWallet(ctx, tenantId);
      ({ wallet } = await appendEntry(ctx, wallet, {
        kind: "top_up",
        amount: 10_000_000,
        reservedChange: 0,
        key: "a",
        reference: admin,
        actor: system,
      }));
      ({ wallet } = await appendEntry(ctx, wallet, {
        kind: "reservation",
        amount: 0,
        reservedChange: 300_000,
        key: "b",
        reference: admin,
        actor: system,
      }));
      await appendEntry(ctx, wallet, {
        kind: "charge",
        amount: -250_000,
        reservedChange: -300_000,
        key: "c",
        reference: admin,
        actor: system,
      });
    });
    const { entries, wallet } = await t.run(async (ctx) => ({
      entries: (await listEntries(ctx, tenantId, {}, { numItems: 10, cursor: null })).page,
      wallet: await ensureWallet(ctx, tenantId),
    }));
    expect(entries.map((e) => [e.seq, e.kind, e.balanceAfter, e.reservedAfter])).toEqual([
      [2, "charge", 9_750_000, 0],
      [1, "reservation", 10_000_000, 300_000],
      [0, "top_up", 10_000_000, 0],
    ]);
    expect(wallet).toMatchObject({ balance: 9_750_000, reserved: 0, entryCount: 3 });
    const charges = await t.run((ctx) =>
      listEntries(ctx, tenantId, { kind: "charge" }, { numItems: 10, cursor: null }),
    );
    expect(charges.page.map((e) => e.key)).toEqual(["c"]);
    expect(await t.run(async (ctx) => (await entryByKey(ctx, tenantId, "b"))?.seq)).toBe(1);
  });

  it("requires a reason when a person makes an entry, and writes nothing without one", async () => {
    const { t, tenantId, owner } = await tenant();
    const person = { kind: "user" as const, userId: owner.userId, email: owner.email };
    const error = await errorOf(
      t.run(async (ctx) => {
        const wallet = await ensureWallet(ctx, tenantId);
        await appendEntry(ctx, wallet, {
          kind: "adjustment",
          amount: 1,
          reservedChange: 0,
          key: "x",
          reference: admin,
          actor: person,
          reason: " ",
        });
      }),
    );
    expect(error).toMatchObject({ code: "INVALID", field: "reason" });
    expect(await t.run((ctx) => ctx.db.query("ledgerEntries").collect())).toEqual([]);
  });

  it("follows the tenant's currency until the first entry, then locks it", async () => {
    const { t, tenantId, owner } = await tenant();
    await t.run((ctx) => ensureWallet(ctx, tenantId));
    await owner.client.mutation(api.tenants.updateSettings, { tenantId, ...SETTINGS, currency: "USD" });
    const wallet = await t.run((ctx) => ensureWallet(ctx, tenantId));
    expect(wallet.currency).toBe("USD");
    expect(await t.run((ctx) => currencyLocked(ctx, tenantId))).toBe(false);
    await t.run((ctx) =>
      appendEntry(ctx, wallet, {
        kind: "top_up",
        amount: 1,
        reservedChange: 0,
        key: "k",
        reference: admin,
        actor: system,
      }),
    );
    expect(await t.run((ctx) => currencyLocked(ctx, tenantId))).toBe(true);
    // Settings refuse the change now, saying why; the wallet keeps its currency either way.
    await expect(
      owner.client.mutation(api.tenants.updateSettings, { tenantId, ...SETTINGS, currency: "EUR" }),
    ).rejects.toThrow(/The currency stays USD: credits have been used/);
    expect((await t.run((ctx) => ensureWallet(ctx, tenantId))).currency).toBe("USD");
  });
});
