/** Access checks for actions, which cannot read the database themselves (functions.ts). */
import { v } from "convex/values";
import { internalQuery, tenantInput } from "./functions";
import { vRole } from "./schema";

/** The caller's access to the tenant with write rules, or the tenant functions' errors. */
export const tenantActor = internalQuery({
  args: { tenantId: v.id("tenants"), role: vRole },
  returns: v.object({ userId: v.id("users"), tenantId: v.id("tenants"), role: vRole }),
  handler: async (ctx, { tenantId, role }) => {
    const access = await tenantInput(ctx, tenantId, role, true);
    return { userId: access.user._id, tenantId: access.tenant._id, role: access.role };
  },
});
