import { paginationOptsValidator, paginationResultValidator } from "convex/server";
import { v } from "convex/values";
import { platformAdminQuery, tenantQuery } from "./functions";
import * as Audit from "./model/audit";

const filterArgs = {
  action: v.optional(v.string()),
  actorId: v.optional(v.id("users")),
  /** Events at or after `from` and before `to` (ms since the epoch). */
  from: v.optional(v.number()),
  to: v.optional(v.number()),
  /** Events about one target ("contact", "channel", "privacyJob", …), optionally one id of it. */
  targetType: v.optional(v.string()),
  targetId: v.optional(v.string()),
  paginationOpts: paginationOptsValidator,
};

const vAuditPage = paginationResultValidator(Audit.vAuditEventView);

/**
 * The workspace's audit log, newest first, filterable by action, actor, date range and target:
 * the compliance query API (the app's CSV/JSON download reads it page by page).
 */
export const listForTenant = tenantQuery({
  role: "admin",
  args: filterArgs,
  returns: vAuditPage,
  handler: (ctx, { paginationOpts, ...filter }) =>
    Audit.listForTenant(ctx, ctx.tenant._id, filter, paginationOpts),
});

/** Every audit event on the platform, for platform admins. */
export const listAll = platformAdminQuery({
  args: filterArgs,
  returns: vAuditPage,
  handler: (ctx, { paginationOpts, ...filter }) => Audit.listAll(ctx, filter, paginationOpts),
});
