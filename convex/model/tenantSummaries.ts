/**
 * The platform's summary of each workspace (the `tenantSummaries` table): a folded search text
 * over its name and address, and what it spent this month. Kept where the events happen, so the
 * list of workspaces reads a fixed handful of documents per workspace and never a ledger:
 *
 * - creating or renaming a workspace writes the search text (`syncName`);
 * - every charge and refund adds to the month's spend in the same mutation (`addSpend`, called by
 *   the spend rollups), starting again at zero when a new month begins;
 * - `admin:backfillTenantCounts` writes the row from scratch for workspaces from before.
 */
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { foldForSearch } from "./contactTags";
import { add } from "./billing/money";

/** "2026-12" (UTC). */
export function monthOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}

/** What the search index holds for a workspace: its folded name and address. */
export function searchTextFor(name: string, slug: string): string {
  return `${foldForSearch(name)} ${foldForSearch(slug)}`.trim();
}

/** A search as typed, folded like `searchTextFor`; empty when there is nothing to search for. */
export function searchQueryFor(search: string): string {
  return foldForSearch(search.slice(0, 100));
}

/**
 * Whether a summary matches every word of a folded search (the last one may be the start of a
 * word, as typed so far). The search index ranks rows matching any word; the list keeps these.
 */
export function matchesAll(searchText: string, query: string): boolean {
  const words = new Set(searchText.split(" "));
  const terms = query.split(" ").filter(Boolean);
  const last = terms.pop();
  if (last === undefined) return true;
  return terms.every((t) => words.has(t)) && [...words].some((w) => w.startsWith(last));
}

export async function summaryOf(
  ctx: QueryCtx,
  tenantId: Id<"tenants">,
): Promise<Doc<"tenantSummaries"> | null> {
  return await ctx.db
    .query("tenantSummaries")
    .withIndex("by_tenant", (q) => q.eq("tenantId", tenantId))
    .unique();
}

/** This month's spend from a summary (nothing when the row is from an earlier month). */
export function monthSpend(summary: Doc<"tenantSummaries"> | null, now: number): number {
  return summary && summary.month === monthOf(now) ? summary.monthSpend : 0;
}

/** Writes the workspace's search text after it was created or renamed (creates the row if needed). */
export async function syncName(ctx: MutationCtx, tenant: Pick<Doc<"tenants">, "_id" | "name" | "slug">) {
  const searchText = searchTextFor(tenant.name, tenant.slug);
  const row = await summaryOf(ctx, tenant._id);
  if (!row) {
    await ctx.db.insert("tenantSummaries", {
      tenantId: tenant._id,
      searchText,
      month: monthOf(Date.now()),
      monthSpend: 0,
    });
  } else if (row.searchText !== searchText) {
    await ctx.db.patch("tenantSummaries", row._id, { searchText });
  }
}

/**
 * Adds `spent` (a charge's cost, or a refund as a negative amount) made at `at` to the month's
 * spend. A workspace without a row yet (from before summaries were kept) gets one counting from
 * here; the backfill counts it from scratch. An entry dated in an earlier month than the row's
 * changes only `lastSpendAt`.
 */
export async function addSpend(ctx: MutationCtx, tenantId: Id<"tenants">, spent: number, at: number) {
  const month = monthOf(at);
  const row = await summaryOf(ctx, tenantId);
  if (!row) {
    const tenant = await ctx.db.get("tenants", tenantId);
    if (!tenant) return;
    await ctx.db.insert("tenantSummaries", {
      tenantId,
      searchText: searchTextFor(tenant.name, tenant.slug),
      month,
      monthSpend: spent,
      lastSpendAt: at,
    });
    return;
  }
  const lastSpendAt = Math.max(row.lastSpendAt ?? 0, at);
  if (month === row.month) {
    await ctx.db.patch("tenantSummaries", row._id, { monthSpend: add(row.monthSpend, spent), lastSpendAt });
  } else if (month > row.month) {
    await ctx.db.patch("tenantSummaries", row._id, { month, monthSpend: spent, lastSpendAt });
  } else {
    await ctx.db.patch("tenantSummaries", row._id, { lastSpendAt });
  }
}

/**
 * Writes a workspace's summary from scratch: the search text, this month's spend summed from the
 * daily rollups (at most a month of rows) and the time of its last charge or refund.
 */
export async function rebuild(ctx: MutationCtx, tenant: Doc<"tenants">, now: number): Promise<void> {
  const month = monthOf(now);
  let spend = 0;
  for await (const row of ctx.db
    .query("spendDaily")
    .withIndex("by_tenant_day_category", (q) =>
      q.eq("tenantId", tenant._id).gte("day", `${month}-01`).lte("day", `${month}-31`),
    ))
    spend = add(spend, row.amount);
  const last = await Promise.all(
    (["charge", "refund"] as const).map((kind) =>
      ctx.db
        .query("ledgerEntries")
        .withIndex("by_tenant_kind_at", (q) => q.eq("tenantId", tenant._id).eq("kind", kind))
        .order("desc")
        .first(),
    ),
  );
  const lastAt = Math.max(0, ...last.map((e) => e?.at ?? 0));
  const fields = {
    tenantId: tenant._id,
    searchText: searchTextFor(tenant.name, tenant.slug),
    month,
    monthSpend: spend,
    lastSpendAt: lastAt > 0 ? lastAt : undefined,
  };
  const row = await summaryOf(ctx, tenant._id);
  if (row) await ctx.db.replace("tenantSummaries", row._id, fields);
  else await ctx.db.insert("tenantSummaries", fields);
}
