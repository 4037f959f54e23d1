/** Low-balance emails (logic in convex/model/billing/alerts.ts), sent like every other email. */
import { v } from "convex/values";
import { internal } from "./_generated/api";
import { internalAction, internalMutation, internalQuery } from "./_generated/server";
import { appUrl } from "./env";
import { lowBalanceEmail } from "./model/billing/alerts";
import * as Emails from "./model/emails";
import { vEmailRecord } from "./model/emails";
import { sendEmail } from "./providers/email";

/** The workspace's owners and admins with an email address, and what the email links to. */
export const lowBalanceRecipients = internalQuery({
  args: { tenantId: v.id("tenants") },
  returns: v.union(
    v.null(),
    v.object({ tenantName: v.string(), slug: v.string(), emails: v.array(v.string()) }),
  ),
  handler: async (ctx, { tenantId }) => {
    const tenant = await ctx.db.get("tenants", tenantId);
    if (!tenant) return null;
    const emails: string[] = [];
    for (const role of ["owner", "admin"] as const) {
      const members = await ctx.db
        .query("memberships")
        .withIndex("by_tenant_role", (q) => q.eq("tenantId", tenantId).eq("role", role))
        .take(50);
      for (const m of members) {
        const user = await ctx.db.get("users", m.userId);
        if (user?.email && !emails.includes(user.email)) emails.push(user.email);
      }
    }
    return { tenantName: tenant.name, slug: tenant.slug, emails };
  },
});

export const recordEmail = internalMutation({
  args: { email: vEmailRecord },
  returns: v.null(),
  handler: async (ctx, { email }) => {
    await Emails.store(ctx, email);
    return null;
  },
});

/** Emails the workspace's owners and admins that the balance fell below `threshold`. */
export const sendLowBalance = internalAction({
  args: { tenantId: v.id("tenants"), threshold: v.number(), balance: v.number(), currency: v.string() },
  returns: v.null(),
  handler: async (ctx, args) => {
    const recipients = await ctx.runQuery(internal.billingAlerts.lowBalanceRecipients, {
      tenantId: args.tenantId,
    });
    if (!recipients) return null;
    let link: string | null = null;
    try {
      link = `${appUrl()}/t/${recipients.slug}/billing`;
    } catch {
      // Without APP_URL the email still says what happened, just without a link.
    }
    for (const to of recipients.emails) {
      const message = lowBalanceEmail({ ...args, to, tenantName: recipients.tenantName, link });
      const result = await sendEmail(message);
      await ctx.runMutation(internal.billingAlerts.recordEmail, {
        email: Emails.recordFor(args.tenantId, "low_balance", message, result),
      });
    }
    return null;
  },
});
