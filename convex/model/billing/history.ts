/** The ledger as the billing page and its CSV export read it: newest first, by kind and time range. */
import type { PaginationOptions, PaginationResult } from "convex/server";
import { ConvexError } from "convex/values";
import type { Doc, Id } from "../../_generated/dataModel";
import type { QueryCtx } from "../../_generated/server";
import type { LedgerKind } from "./tables";

export type LedgerFilter = {
  kind?: LedgerKind;
  /** Entries at or after this time (ms). */
  from?: number;
  /** Entries before this time (ms). */
  to?: number;
};

/** A tenant's entries, newest first, of one kind and within [from, to) when given. */
export async function listLedger(
  ctx: QueryCtx,
  tenantId: Id<"tenants">,
  { kind, from, to }: LedgerFilter,
  paginationOpts: PaginationOptions,
): Promise<PaginationResult<Doc<"ledgerEntries">>> {
  for (const [field, value] of [
    ["from", from],
    ["to", to],
  ] as const) {
    if (value !== undefined && !Number.isSafeInteger(value))
      throw new ConvexError({ code: "INVALID" as const, message: "Not a valid date", field });
  }
  if (from !== undefined && to !== undefined && to < from) {
    throw new ConvexError({
      code: "INVALID" as const,
      message: "The end of the date range is before its start",
      field: "to",
    });
  }
  const entries = ctx.db.query("ledgerEntries");
  const query = kind
    ? entries.withIndex("by_tenant_kind_at", (q) => {
        const base = q.eq("tenantId", tenantId).eq("kind", kind);
        const lower = from !== undefined ? base.gte("at", from) : base;
        return to !== undefined ? lower.lt("at", to) : lower;
      })
    : entries.withIndex("by_tenant_at", (q) => {
        const base = q.eq("tenantId", tenantId);
        const lower = from !== undefined ? base.gte("at", from) : base;
        return to !== undefined ? lower.lt("at", to) : lower;
      });
  return await query.order("desc").paginate(paginationOpts);
}
