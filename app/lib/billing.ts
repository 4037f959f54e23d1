// Credits for people: money in the workspace's currency, what each ledger entry was, spend
// categories and their colours, and the ledger filters as they live in the page's address (also
// read by the CSV export, so the file holds exactly what the page lists).
import type { FunctionReturnType } from "convex/server";
import type { api } from "../../convex/_generated/api";
import { formatMoney, parseDecimal, toDecimalString } from "../../convex/model/billing/money";
import type { CsvCell } from "../../convex/shared/csv";

export { formatMoney, toDecimalString };

export type LedgerEntry = FunctionReturnType<typeof api.billing.ledger>["page"][number];
export type LedgerKind = LedgerEntry["kind"];

export const LEDGER_KIND_LABELS: Record<LedgerKind, string> = {
  top_up: "Credits added",
  charge: "Charge",
  refund: "Refund",
  adjustment: "Adjustment",
  reservation: "Held for sending",
  release: "Released",
};

/** The kinds in the filter, most asked-for first. */
export const LEDGER_KINDS: LedgerKind[] = [
  "top_up",
  "charge",
  "refund",
  "adjustment",
  "reservation",
  "release",
];

const CATEGORY_LABELS: Record<string, string> = {
  marketing: "Marketing",
  marketing_lite: "Marketing lite",
  utility: "Utility",
  authentication: "Authentication",
  authentication_international: "Authentication (international)",
  service: "Service",
  general_purpose_ai: "General-purpose AI",
  ai: "AI assistant",
  other: "Other",
};

/** A spend or rate category for people ("authentication_international" → "Authentication (international)"). */
export function categoryLabel(category: string): string {
  return CATEGORY_LABELS[category] ?? category.replace(/_/g, " ");
}

// Whole class names, so the stylesheet keeps them.
const CATEGORY_COLOURS: Record<string, string> = {
  marketing: "bg-sky-500",
  marketing_lite: "bg-sky-300",
  utility: "bg-emerald-500",
  authentication: "bg-amber-500",
  authentication_international: "bg-orange-600",
  service: "bg-violet-500",
  general_purpose_ai: "bg-teal-500",
  ai: "bg-indigo-500",
  other: "bg-slate-400",
};

/** The colour a spend category has in the chart and its legend. */
export function categoryColour(category: string): string {
  return CATEGORY_COLOURS[category] ?? "bg-slate-400";
}

/** An amount with its sign always shown ("+€10.00", "−€0.08"); zero without one. */
export function formatSignedMoney(micros: number, currency: string, precise = false): string {
  const text = formatMoney(Math.abs(micros), currency, { precise });
  if (micros > 0) return `+${text}`;
  if (micros < 0) return `−${text}`;
  return text;
}

/** What an entry was, in a sentence: the category and market of a charge, the model of AI tokens, a person's reason. */
export function describeEntry(entry: LedgerEntry, currency: string): string {
  const d = entry.detail;
  const parts: string[] = [];
  if (entry.kind === "reservation" || entry.kind === "release") {
    parts.push(
      `${entry.kind === "reservation" ? "Held" : "Released"} ${formatMoney(Math.abs(entry.reservedChange), currency, { precise: true })}`,
    );
  }
  if (d?.model !== undefined) {
    parts.push(
      `${d.model}: ${(d.inputTokens ?? 0).toLocaleString("en-US")} input and ${(d.outputTokens ?? 0).toLocaleString("en-US")} output tokens`,
    );
  } else if (d?.category) {
    const where = d.country ? ` to ${d.country}` : "";
    parts.push(`${categoryLabel(d.category)} message${where}`);
    if (d.estimate) parts.push("estimated rate");
  }
  if (entry.kind === "refund" && d?.refundOf) parts.push(`refund of ${d.refundOf}`);
  if (entry.reason) parts.push(entry.reason);
  if (entry.reservedChange !== 0 && entry.kind === "charge")
    parts.push(`freed ${formatMoney(-entry.reservedChange, currency, { precise: true })} held`);
  return parts.join(" · ");
}

/** Who made an entry: a person's email, or the part of the system. */
export function actorLabel(entry: LedgerEntry): string {
  return entry.actor.kind === "user" ? entry.actor.email : `system (${entry.actor.name})`;
}

// ---------------------------------------------------------------- what platform admins type

/** A decimal amount typed by people, in micro-units, or null when it is not one (Convex says why). */
export function tryParseAmount(text: string): number | null {
  try {
    return parseDecimal(text);
  } catch {
    return null;
  }
}

/** "12.5" (percent) → 1250 basis points; null unless a number ≥ 0 with at most two decimals. */
export function percentToBps(text: string): number | null {
  const micros = tryParseAmount(text.replace(/%\s*$/, ""));
  // One percent is 100 basis points: a percent in micro-units is 10,000 × the basis points.
  if (micros === null || micros < 0 || micros % 10_000 !== 0) return null;
  return micros / 10_000;
}

/** 1250 basis points → "12.5". */
export function bpsToPercent(bps: number): string {
  return toDecimalString(bps * 10_000);
}

/** A new idempotency key for a form: the same submission retried adds once, a new one adds again. */
export function formKey(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  return `form:${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

// ---------------------------------------------------------------- filters in the address

export type LedgerFilterParams = {
  kind: LedgerKind | null;
  /** "YYYY-MM-DD" days in the workspace's time zone; both ends included. */
  from: string | null;
  to: string | null;
};

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const isDate = (value: string | null): value is string =>
  value !== null && DATE.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`));

/** The ledger filters in `?kind=…&from=…&to=…`; anything malformed is ignored. */
export function ledgerFilterParams(params: URLSearchParams): LedgerFilterParams {
  const kind = params.get("kind");
  return {
    kind: kind && (LEDGER_KINDS as string[]).includes(kind) ? (kind as LedgerKind) : null,
    from: isDate(params.get("from")) ? params.get("from") : null,
    to: isDate(params.get("to")) ? params.get("to") : null,
  };
}

/** The filters as `billing:ledger` arguments: whole days in `timeZone`, the last day included. */
export function ledgerQueryArgs(filter: LedgerFilterParams, timeZone: string) {
  return {
    ...(filter.kind ? { kind: filter.kind } : {}),
    ...(filter.from ? { from: zonedDayStart(filter.from, timeZone) } : {}),
    ...(filter.to ? { to: zonedDayStart(nextDay(filter.to), timeZone) } : {}),
  };
}

export function nextDay(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

/** How far `timeZone` is ahead of UTC at the instant `ms`. */
function offsetAt(ms: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(ms);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const wall = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return wall - Math.floor(ms / 1000) * 1000;
}

/** The instant a day ("YYYY-MM-DD") begins in `timeZone` (UTC when the zone is unknown). */
export function zonedDayStart(date: string, timeZone: string): number {
  const midnightUtc = Date.parse(`${date}T00:00:00Z`);
  try {
    const first = midnightUtc - offsetAt(midnightUtc, timeZone);
    // Again from the first guess, in case the offset changes between the two instants (DST).
    return midnightUtc - offsetAt(first, timeZone);
  } catch {
    return midnightUtc;
  }
}

/** Today in UTC, "YYYY-MM-DD": the last day of the spend chart. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The spend chart's ranges, in days. */
export const SPEND_RANGES = [30, 90] as const;
export type SpendRange = (typeof SPEND_RANGES)[number];

export function spendRange(params: URLSearchParams): SpendRange {
  return params.get("days") === "90" ? 90 : 30;
}

// ---------------------------------------------------------------- CSV export

export const LEDGER_CSV_HEADER = [
  "seq",
  "time_utc",
  "kind",
  "amount",
  "reserved_change",
  "balance_after",
  "reserved_after",
  "currency",
  "reference_kind",
  "reference_id",
  "category",
  "country",
  "market",
  "rate_source",
  "estimate",
  "markup_bps",
  "model",
  "input_tokens",
  "output_tokens",
  "refund_of",
  "actor",
  "reason",
  "key",
];

/** One ledger entry as a CSV row: amounts as exact decimals in the currency, the time in UTC. */
export function ledgerCsvRow(entry: LedgerEntry, currency: string): CsvCell[] {
  const d = entry.detail;
  return [
    entry.seq,
    new Date(entry.at).toISOString(),
    entry.kind,
    toDecimalString(entry.amount),
    toDecimalString(entry.reservedChange),
    toDecimalString(entry.balanceAfter),
    toDecimalString(entry.reservedAfter),
    currency,
    entry.referenceKind,
    entry.referenceId,
    d?.category,
    d?.country,
    d?.market,
    d?.source,
    d?.estimate,
    d?.markupBps,
    d?.model,
    d?.inputTokens,
    d?.outputTokens,
    d?.refundOf,
    actorLabel(entry),
    entry.reason,
    entry.key,
  ];
}

/** The export's file name: the workspace, and the range when there is one. */
export function ledgerCsvName(slug: string, filter: LedgerFilterParams): string {
  const range = [filter.from ?? "start", filter.to ?? "now"].join("_to_");
  return `${slug}-ledger-${filter.kind ? `${filter.kind}-` : ""}${range}.csv`;
}
