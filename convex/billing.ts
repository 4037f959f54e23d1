/** Credits and billing: wallets, the ledger and the rate card (logic in convex/model/billing/). */
import { v } from "convex/values";
import { internalMutation } from "./functions";
import { seedModelPrices } from "./model/billing/aiPrices";
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
