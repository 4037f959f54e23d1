// The rate card for people: which version of each rate is in force on a day, which are scheduled
// and which were replaced, and the markets a rate can be for.
import type { FunctionReturnType } from "convex/server";
import type { api } from "../../convex/_generated/api";
import { marketIds, marketName } from "../../convex/model/billing/markets";

export type RateRow = FunctionReturnType<typeof api.billing.rates>[number];
export type RateStatus = "in_force" | "scheduled" | "replaced";

export const RATE_STATUS_LABELS: Record<RateStatus, string> = {
  in_force: "In force",
  scheduled: "Scheduled",
  replaced: "Replaced",
};

/**
 * Each rate's status on `today` ("YYYY-MM-DD"): the newest version of a currency, market and
 * category that has started is in force, later ones are scheduled, earlier ones replaced.
 */
export function rateStatuses(rows: readonly RateRow[], today: string): Map<string, RateStatus> {
  const groups = new Map<string, RateRow[]>();
  for (const row of rows) {
    const key = `${row.currency} ${row.market} ${row.category}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  const statuses = new Map<string, RateStatus>();
  for (const versions of groups.values()) {
    const newestFirst = [...versions].sort((a, b) => b.effectiveFrom.localeCompare(a.effectiveFrom));
    const current = newestFirst.find((r) => r.effectiveFrom <= today);
    for (const r of newestFirst) {
      statuses.set(r.rateId, r.effectiveFrom > today ? "scheduled" : r === current ? "in_force" : "replaced");
    }
  }
  return statuses;
}

/** Every market a rate can be for, by name: "Italy (IT)", "Rest of Western Europe (rest_of_western_europe)". */
export function marketOptions(): { value: string; label: string }[] {
  return marketIds()
    .map((id) => ({ value: id, label: `${marketName(id)} (${id})` }))
    .sort((a, b) => a.label.localeCompare(b.label));
}

/** A CSV to start an upload from: the header and one example row. */
export const RATE_CSV_TEMPLATE =
  "currency,market,category,rate,effective_from,source,estimate,note\r\n" +
  "USD,IT,marketing,0.0810,2027-01-01,Meta rate card 2027-01-01,no,\r\n";

/** The sources behind the published card's letters (../shared/design/rates.md, "Sources"). */
export const SEED_SOURCES: Record<string, string> = {
  M: "Meta's pricing documentation (changelog and calling-code table)",
  A: "Meta's USD rate card CSV effective 2026-04-01",
  B: "A code table of Meta's USD card effective 2026-10-01",
  C: "A second, independent code table of that card",
  D: "Research notes (July–August 2026) quoting Meta's 2026-07-01 cards",
  E: "A seed file of the EUR card effective 2026-07-01",
  E2: "A Portuguese FAQ citing Meta's EUR card of that date",
  F: "A table of the USD card effective 2026-01-01",
  G: "A page with Meta's INR card of 2025-10-01",
  H: "An India pricing analysis (September 2026)",
  R: "A French study of OTP pricing (2026-10-09)",
  X: "Single cross-checks of 2026-10-01 values",
};
