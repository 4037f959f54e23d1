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

export type AuditFilter = {
  action?: string;
  actorId?: Id<"users">;
  /** Events at or after `from` and before `to` (ms). */
  from?: number;
  to?: number;
  /** Events about one target: a type ("contact", "channel", …) and optionally its id. */
  targetType?: string;
  targetId?: string;
};

type Range = { gte: (field: "at", value: number) => Range; lt: (field: "at", value: number) => Range };

/** Narrows an index range on `at` (the last field of every audit index). */
function inRange<Q>(q: Q, { from, to }: AuditFilter): Q {
  let r = q as unknown as Range;
  if (from !== undefined) r = r.gte("at", from);
  if (to !== undefined) r = r.lt("at", to);
  return r as unknown as Q;
}

/**
 * Events matching the filter, newest first, through the index that fits it. A target filter
 * uses its own index and checks action and actor on the rows (few events share one target).
 */
function filtered(ctx: QueryCtx, tenantId: Id<"tenants"> | null, filter: AuditFilter) {
  const { action, actorId, targetType, targetId } = filter;
  const events = ctx.db.query("auditEvents");
  if (targetType) {
    const query =
      tenantId !== null
        ? events.withIndex("by_tenant_target_at", (q) => {
            const t = q.eq("tenantId", tenantId).eq("targetType", targetType);
            return targetId !== undefined ? inRange(t.eq("targetId", targetId), filter) : t;
          })
        : events.withIndex("by_target_at", (q) => {
            const t = q.eq("targetType", targetType);
            return targetId !== undefined ? inRange(t.eq("targetId", targetId), filter) : t;
          });
    // Few events share one target: checking action, actor and dates on its rows reads little.
    // eslint-disable-next-line @convex-dev/no-filter-in-query
    return query.order("desc").filter((q) => {
      const conditions = [];
      if (action) conditions.push(q.eq(q.field("action"), action));
      if (actorId) conditions.push(q.eq(q.field("actorId"), actorId));
      if (targetId === undefined && filter.from !== undefined)
        conditions.push(q.gte(q.field("at"), filter.from));
      if (targetId === undefined && filter.to !== undefined) conditions.push(q.lt(q.field("at"), filter.to));
      return q.and(...conditions);
    });
  }
  if (tenantId !== null) {
    const query =
      action && actorId
        ? events.withIndex("by_tenant_action_actor_at", (q) =>
            inRange(q.eq("tenantId", tenantId).eq("action", action).eq("actorId", actorId), filter),
          )
        : action
          ? events.withIndex("by_tenant_action_at", (q) =>
              inRange(q.eq("tenantId", tenantId).eq("action", action), filter),
            )
          : actorId
            ? events.withIndex("by_tenant_actor_at", (q) =>
                inRange(q.eq("tenantId", tenantId).eq("actorId", actorId), filter),
              )
            : events.withIndex("by_tenant_at", (q) => inRange(q.eq("tenantId", tenantId), filter));
    return query.order("desc");
  }
  const query =
    action && actorId
      ? events.withIndex("by_action_actor_at", (q) =>
          inRange(q.eq("action", action).eq("actorId", actorId), filter),
        )
      : action
        ? events.withIndex("by_action_at", (q) => inRange(q.eq("action", action), filter))
        : actorId
          ? events.withIndex("by_actor_at", (q) => inRange(q.eq("actorId", actorId), filter))
          : events.withIndex("by_at", (q) => inRange(q, filter));
  return query.order("desc");
}

/** One tenant's events, newest first, through the index that matches the filter. */
export async function listForTenant(
  ctx: QueryCtx,
  tenantId: Id<"tenants">,
  filter: AuditFilter,
  paginationOpts: PaginationOptions,
): Promise<PaginationResult<AuditEventView>> {
  return await toViews(ctx, await filtered(ctx, tenantId, filter).paginate(paginationOpts));
}

/** Every event on the platform (tenant and platform scope), newest first. */
export async function listAll(
  ctx: QueryCtx,
  filter: AuditFilter,
  paginationOpts: PaginationOptions,
): Promise<PaginationResult<AuditEventView>> {
  return await toViews(ctx, await filtered(ctx, null, filter).paginate(paginationOpts));
}
