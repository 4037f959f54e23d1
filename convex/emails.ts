import { v } from "convex/values";
import { platformAdminQuery, tenantQuery } from "./functions";
import * as Emails from "./model/emails";

const vEmail = v.object({
  emailId: v.id("emails"),
  to: v.string(),
  subject: v.string(),
  text: v.union(v.string(), v.null()),
  kind: v.string(),
  provider: v.union(v.literal("outbox"), v.literal("resend")),
  status: v.union(v.literal("stored"), v.literal("sent"), v.literal("failed")),
  error: v.union(v.string(), v.null()),
  createdAt: v.number(),
});

function view(e: Awaited<ReturnType<typeof Emails.listAll>>[number]) {
  return {
    emailId: e._id,
    to: e.to,
    subject: e.subject,
    text: e.text ?? null,
    kind: e.kind,
    provider: e.provider,
    status: e.status,
    error: e.error ?? null,
    createdAt: e.createdAt,
  };
}

/** The workspace's sent mail (the mailbox itself on the embedded default). */
export const listForTenant = tenantQuery({
  role: "admin",
  args: {},
  returns: v.array(vEmail),
  handler: async (ctx) => (await Emails.listForTenant(ctx, ctx.tenant._id, 100)).map(view),
});

/** All mail the platform sent, for platform admins. */
export const listAll = platformAdminQuery({
  args: {},
  returns: v.array(vEmail),
  handler: async (ctx) => (await Emails.listAll(ctx, 200)).map(view),
});
