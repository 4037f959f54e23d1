import type { PaginationOptions, PaginationResult } from "convex/server";
import { v, type Infer } from "convex/values";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { vAuditScope, vChangeSummary, type ChangeSummary } from "../schema";
import { labelsFor } from "./tenantDirectory";

export type AuditActor = { _id: Id<"users">; email: string } | { system: string };

export type AuditEntry = {
  tenantId?: Id<"tenants">;
  actor: AuditActor;
  action: string;
  targetType: string;
  targetId?: string;
  summary: string;
  before?: ChangeSummary;
  after?: ChangeSummary;
};

/**
 * Appends one audit event. Call it in the same mutation as the change it describes, so the
 * change and its record commit together or not at all. Events are never updated or deleted.
 */
export async function record(ctx: MutationCtx, entry: AuditEntry): Promise<Id<"auditEvents">> {
  const actor = entry.actor;
  return await ctx.db.insert("auditEvents", {
    scope: entry.tenantId ? "tenant" : "platform",
    tenantId: entry.tenantId,
    actorId: "system" in actor ? undefined : actor._id,
    actorEmail: "system" in actor ? `system:${actor.system}` : actor.email,
    action: entry.action,
    targetType: entry.targetType,
    targetId: entry.targetId,
    summary: entry.summary,
    before: entry.before,
    after: entry.after,
    at: Date.now(),
  });
}

/** Only the fields that changed, for before/after summaries. */
export function diff(
  before: ChangeSummary,
  after: ChangeSummary,
): { before: ChangeSummary; after: ChangeSummary } | null {
  const b: ChangeSummary = {};
  const a: ChangeSummary = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (before[key] !== after[key]) {
      b[key] = before[key] ?? null;
      a[key] = after[key] ?? null;
    }
  }
  return Object.keys(a).length ? { before: b, after: a } : null;
}

/** An audit event as pages see it. */
export const vAuditEventView = v.object({
  eventId: v.id("auditEvents"),
  scope: vAuditScope,
  tenantId: v.optional(v.id("tenants")),
  /** The workspace's name, joined on the server; absent for platform events and deleted workspaces. */
  tenantName: v.optional(v.string()),
  actorId: v.optional(v.id("users")),
  actorEmail: v.string(),
  action: v.string(),
  targetType: v.string(),
  targetId: v.optional(v.string()),
  summary: v.string(),
  before: v.optional(vChangeSummary),
  after: v.optional(vChangeSummary),
  at: v.number(),
});
export type AuditEventView = Infer<typeof vAuditEventView>;

export function toView(event: Doc<"auditEvents">, tenantName?: string): AuditEventView {
  return {
    eventId: event._id,
    scope: event.scope,
    tenantId: event.tenantId,
    tenantName,
    actorId: event.actorId,
    actorEmail: event.actorEmail,
    action: event.action,
    targetType: event.targetType,
    targetId: event.targetId,
    summary: event.summary,
    before: event.before,
    after: event.after,
    at: event.at,
  };
}

/** The page as views, each with its workspace's name. */
async function toViews(
  ctx: QueryCtx,
  result: PaginationResult<Doc<"auditEvents">>,
): Promise<PaginationResult<AuditEventView>> {
  const tenants = await labelsFor(
    ctx,
    result.page.map((e) => e.tenantId),
  );
  return {
    ...result,
    page: result.page.map((e) => toView(e, e.tenantId && tenants.get(e.tenantId)?.name)),
  };
}

export type AuditFilter = { action?: string; actorId?: Id<"users"> };

/** One tenant's events, newest first, through the index that matches the filter. */
export async function listForTenant(
  ctx: QueryCtx,
  tenantId: Id<"tenants">,
  { action, actorId }: AuditFilter,
  paginationOpts: PaginationOptions,
): Promise<PaginationResult<AuditEventView>> {
  const events = ctx.db.query("auditEvents");
  const query =
    action && actorId
      ? events.withIndex("by_tenant_action_actor_at", (q) =>
          q.eq("tenantId", tenantId).eq("action", action).eq("actorId", actorId),
        )
      : action
        ? events.withIndex("by_tenant_action_at", (q) => q.eq("tenantId", tenantId).eq("action", action))
        : actorId
          ? events.withIndex("by_tenant_actor_at", (q) => q.eq("tenantId", tenantId).eq("actorId", actorId))
          : events.withIndex("by_tenant_at", (q) => q.eq("tenantId", tenantId));
  return await toViews(ctx, await query.order("desc").paginate(paginationOpts));
}

/** Every event on the platform (tenant and platform scope), newest first. */
export async function listAll(
  ctx: QueryCtx,
  { action, actorId }: AuditFilter,
  paginationOpts: PaginationOptions,
): Promise<PaginationResult<AuditEventView>> {
  const events = ctx.db.query("auditEvents");
  const query =
    action && actorId
      ? events.withIndex("by_action_actor_at", (q) => q.eq("action", action).eq("actorId", actorId))
      : action
        ? events.withIndex("by_action_at", (q) => q.eq("action", action))
        : actorId
          ? events.withIndex("by_actor_at", (q) => q.eq("actorId", actorId))
          : events.withIndex("by_at");
  return await toViews(ctx, await query.order("desc").paginate(paginationOpts));
}
