/** A tenant with a seeded rate card, and shortcuts to the charging API inside t.run. */
import { api, internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import type { MutationCtx } from "../../convex/_generated/server";
import { ensureWallet } from "../../convex/model/billing/wallet";
import { SETTINGS, setup, signUp, type T } from "./factories";

export async function billingTenant(currency = "USD") {
  const { t, as } = setup();
  await t.mutation(internal.billing.seedRates, {});
  const owner = await signUp(as, "olivia@acme.test");
  const { tenantId } = await owner.client.mutation(api.tenants.create, { ...SETTINGS, currency });
  return { t, as, owner, tenantId: tenantId as Id<"tenants"> };
}

export function inTx<R>(t: T, fn: (ctx: MutationCtx) => Promise<R>): Promise<R> {
  return t.run((ctx) => fn(ctx as MutationCtx));
}

export async function walletOf(t: T, tenantId: Id<"tenants">) {
  return await inTx(t, (ctx) => ensureWallet(ctx, tenantId));
}

export async function invariant(t: T, tenantId: Id<"tenants">) {
  return await t.query(internal.billing.checkWalletInvariant, { tenantId });
}

export const NOV = Date.parse("2026-11-02T10:00:00Z");
