/**
 * Spend rollups: what a tenant spent per UTC day and category, updated by `appendEntry` for every
 * charge and refund in the same mutation, so the billing page's charts read a few rows a day
 * instead of scanning the ledger. Also what one reference (a campaign, a message) cost.
 */
import { ConvexError } from "convex/values";
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../../_generated/server";
import { add, sub, type Micros } from "./money";
import { dayStart, isoDay, normaliseCategory } from "./rates";
import type { Reference } from "./tables";
import * as TenantSummaries from "../tenantSummaries";

/** Spend that is neither a message category nor AI tokens (a charge with no pricing detail). */
export const OTHER_SPEND = "other";
/** Model tokens metered for the assistant. */
export const AI_SPEND = "ai";

/** The spend category of a charge, from the pricing detail it carries. */
export function spendCategory(detail: Doc<"ledgerEntries">["detail"]): string {
  if (detail?.model !== undefined) return AI_SPEND;
  return normaliseCategory(detail?.category) ?? OTHER_SPEND;
}

/**
 * Adds a charge or refund entry to its day's rollup; other kinds change nothing. A refund counts
 * in the category of the charge it refunds, on the day of the refund.
 */
export async function recordSpend(ctx: MutationCtx, entry: Doc<"ledgerEntries">): Promise<void> {
  if (entry.kind !== "charge" && entry.kind !== "refund") return;
  let category: string;
  if (entry.kind === "charge") {
    category = spendCategory(entry.detail);
  } else {
    const refundOf = entry.detail?.refundOf;
    const charge = refundOf
      ? await ctx.db
          .query("ledgerEntries")
          .withIndex("by_tenant_key", (q) => q.eq("tenantId", entry.tenantId).eq("key", refundOf))
          .first()
      : null;
    category = spendCategory(charge?.detail);
  }
  const day = isoDay(entry.at);
  // A charge's amount is negative (it lowers the balance); spend is the opposite.
  const spent = -entry.amount;
  const row = await ctx.db
    .query("spendDaily")
    .withIndex("by_tenant_day_category", (q) =>
      q.eq("tenantId", entry.tenantId).eq("day", day).eq("category", category),
    )
    .unique();
  await TenantSummaries.addSpend(ctx, entry.tenantId, spent, entry.at);
  const counted = entry.kind === "charge" ? 1 : 0;
  const refunded = entry.kind === "refund" ? entry.amount : 0;
  if (!row) {
    await ctx.db.insert("spendDaily", {
      tenantId: entry.tenantId,
      day,
      category,
      amount: spent,
      count: counted,
      refunded,
    });
    return;
  }
  await ctx.db.patch("spendDaily", row._id, {
    amount: add(row.amount, spent),
    count: row.count + counted,
    refunded: add(row.refunded, refunded),
  });
}

/** The longest range the spend report covers, in days. */
export const MAX_SPEND_DAYS = 366;

export type CategorySpend = { category: string; amount: Micros; count: number; refunded: Micros };
export type SpendReport = {
  from: string;
  to: string;
  total: Micros;
  /** Every day of the range, oldest first, with the categories spent on that day. */
  days: { day: string; total: Micros; categories: CategorySpend[] }[];
  /** Totals per category over the range, largest first. */
  categories: CategorySpend[];
};

function invalid(message: string, field: string): never {
  throw new ConvexError({ code: "INVALID" as const, message, field });
}

/**
 * Spend per day and category over the `days` days ending with `to` ("YYYY-MM-DD", UTC). The
 * caller names the last day, so the query reads no clock and stays cacheable.
 */
export async function spendReport(
  ctx: QueryCtx,
  tenantId: Id<"tenants">,
  { to, days }: { to: string; days: number },
): Promise<SpendReport> {
  if (!Number.isInteger(days) || days < 1 || days > MAX_SPEND_DAYS)
    invalid(`Choose from 1 to ${MAX_SPEND_DAYS} days`, "days");
  let end: number;
  try {
    end = dayStart(to);
  } catch {
    invalid(`"${to}" is not a date like 2026-11-30`, "to");
  }
  const DAY = 86_400_000;
  const from = isoDay(end - (days - 1) * DAY);
  const rows = await ctx.db
    .query("spendDaily")
    .withIndex("by_tenant_day_category", (q) => q.eq("tenantId", tenantId).gte("day", from).lte("day", to))
    // At most one row per day and category: a bounded read.
    .take(days * 16);
  const byDay = new Map<string, CategorySpend[]>();
  const totals = new Map<string, CategorySpend>();
  let total = 0;
  for (const row of rows) {
    const item = { category: row.category, amount: row.amount, count: row.count, refunded: row.refunded };
    byDay.set(row.day, [...(byDay.get(row.day) ?? []), item]);
    const sum = totals.get(row.category) ?? { category: row.category, amount: 0, count: 0, refunded: 0 };
    totals.set(row.category, {
      category: row.category,
      amount: add(sum.amount, row.amount),
      count: sum.count + row.count,
      refunded: add(sum.refunded, row.refunded),
    });
    total = add(total, row.amount);
  }
  const series: SpendReport["days"] = [];
  for (let i = 0; i < days; i++) {
    const day = isoDay(dayStart(from) + i * DAY);
    const categories = byDay.get(day) ?? [];
    let dayTotal = 0;
    for (const c of categories) dayTotal = add(dayTotal, c.amount);
    series.push({ day, total: dayTotal, categories });
  }
  const categories = [...totals.values()].sort(
    (a, b) => b.amount - a.amount || a.category.localeCompare(b.category),
  );
  return { from, to, total, days: series, categories };
}

/** How many entries of one reference `referenceCost` reads before it reports a partial total. */
export const REFERENCE_COST_LIMIT = 4000;

export type ReferenceCost = {
  charged: Micros;
  refunded: Micros;
  /** Charged minus refunded: what the reference cost. */
  net: Micros;
  /** Charge and refund entries counted. */
  entries: number;
  /** False when the reference has more entries than were read: the totals are then a lower bound. */
  complete: boolean;
};

/** What a reference (a campaign, a message, an assistant turn) has cost, net of refunds. */
export async function referenceCost(
  ctx: QueryCtx,
  tenantId: Id<"tenants">,
  reference: Reference,
): Promise<ReferenceCost> {
  const id = reference.id.trim();
  if (!id || id.length > 200) invalid("Enter the reference's id (up to 200 characters)", "referenceId");
  const entries = await ctx.db
    .query("ledgerEntries")
    .withIndex("by_tenant_reference_seq", (q) =>
      q.eq("tenantId", tenantId).eq("referenceKind", reference.kind).eq("referenceId", id),
    )
    .take(REFERENCE_COST_LIMIT + 1);
  const complete = entries.length <= REFERENCE_COST_LIMIT;
  let charged = 0;
  let refunded = 0;
  let counted = 0;
  for (const e of entries.slice(0, REFERENCE_COST_LIMIT)) {
    if (e.kind === "charge") charged = add(charged, -e.amount);
    else if (e.kind === "refund") refunded = add(refunded, e.amount);
    else continue;
    counted++;
  }
  return { charged, refunded, net: sub(charged, refunded), entries: counted, complete };
}
