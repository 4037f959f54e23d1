/** Credits and billing: wallets, the ledger and the rate card (logic in convex/model/billing/). */
import { v } from "convex/values";
import { internalMutation, internalQuery } from "./functions";
import { seedModelPrices } from "./model/billing/aiPrices";
import * as Invariant from "./model/billing/invariant";
import { seedRateCard } from "./model/billing/rates";

/** Loads the seeded rate card and AI prices; safe to run again (rows already there are kept). */
export const seedRates = internalMutation({
  args: {},
  returns: v.object({
    inserted: v.number(),
    unchanged: v.number(),
    differing: v.array(v.string()),
    modelPricesInserted: v.number(),
  }),
  handler: async (ctx) => {
    const now = Date.now();
    const rates = await seedRateCard(ctx, now);
    const models = await seedModelPrices(ctx, now);
    return { ...rates, modelPricesInserted: models.inserted };
  },
});

const vCarry = v.object({ seq: v.number(), balance: v.number(), reserved: v.number() });

/**
 * The ledger-vs-wallet invariant for one tenant, a page at a time: the reconciliation job calls it
 * with the returned cursor and carry until `isDone`.
 */
export const checkWalletInvariant = internalQuery({
  args: {
    tenantId: v.id("tenants"),
    cursor: v.optional(v.union(v.string(), v.null())),
    carry: v.optional(vCarry),
    pageSize: v.optional(v.number()),
  },
  returns: v.object({
    ok: v.boolean(),
    problems: v.array(v.string()),
    isDone: v.boolean(),
    cursor: v.union(v.string(), v.null()),
    carry: vCarry,
  }),
  handler: (ctx, { tenantId, ...page }) => Invariant.checkWalletInvariant(ctx, tenantId, page),
});
