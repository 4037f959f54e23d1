import { paginationOptsValidator, paginationResultValidator } from "convex/server";
import { v } from "convex/values";
import { platformAdminQuery, tenantQuery } from "./functions";
import * as Audit from "./model/audit";

const filterArgs = {
  action: v.optional(v.string()),
  actorId: v.optional(v.id("users")),
  paginationOpts: paginationOptsValidator,
};

const vAuditPage = paginationResultValidator(Audit.vAuditEventView);

/** The workspace's audit log, newest first, filterable by action and actor. */
export const listForTenant = tenantQuery({
  role: "admin",
  args: filterArgs,
  returns: vAuditPage,
  handler: (ctx, { action, actorId, paginationOpts }) =>
    Audit.listForTenant(ctx, ctx.tenant._id, { action, actorId }, paginationOpts),
});

/** Every audit event on the platform, for platform admins. */
export const listAll = platformAdminQuery({
  args: filterArgs,
  returns: vAuditPage,
  handler: (ctx, { action, actorId, paginationOpts }) =>
    Audit.listAll(ctx, { action, actorId }, paginationOpts),
});
