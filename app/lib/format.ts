// Formatting shared by the tenancy pages: dates in a given time zone, expiry in words, links in
// plain-text email bodies, and audit before/after values.
import type { ChangeSummary } from "../../convex/schema";
import { formatTimeAgo } from "./relative-time";

/** "22 Nov 2026, 14:05" in `timeZone` (the viewer's own when omitted); falls back to UTC on a bad zone. */
export function formatDateTime(ms: number, timeZone?: string, locale?: string): string {
  const options: Intl.DateTimeFormatOptions = { dateStyle: "medium", timeStyle: "short", timeZone };
  try {
    return new Intl.DateTimeFormat(locale, options).format(ms);
  } catch {
    return new Intl.DateTimeFormat(locale, { ...options, timeZone: "UTC" }).format(ms) + " UTC";
  }
}

/** "22 Nov 2026". */
export function formatDate(ms: number, timeZone?: string, locale?: string): string {
  try {
    return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeZone }).format(ms);
  } catch {
    return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeZone: "UTC" }).format(ms);
  }
}

/**
 * A duration in its largest unit, rounded to the nearest one ("7 days" for 6 days 23 hours), so
 * a link that works for a week reads "7 days" both where the rule is stated and on a link that
 * was just made. Every page that shows a duration or a countdown uses this.
 */
export function durationInWords(ms: number): string {
  const unit = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const minutes = Math.round(ms / 60_000);
  if (minutes < 1) return "less than a minute";
  if (minutes < 60) return unit(minutes, "minute");
  const hours = Math.round(ms / 3_600_000);
  if (hours < 24) return unit(hours, "hour");
  return unit(Math.round(ms / 86_400_000), "day");
}

/** Whether something that expires at `expiresAt` has, by the clock `now`, and how it reads. */
export function describeExpiry(expiresAt: number, now: number): { expired: boolean; text: string } {
  if (expiresAt <= now) return { expired: true, text: `expired ${formatTimeAgo(expiresAt, now)}` };
  return { expired: false, text: `expires in ${durationInWords(expiresAt - now)}` };
}

export type TextSegment = { kind: "text"; text: string } | { kind: "link"; text: string; href: string };

// http(s) URLs up to whitespace or a closing bracket; trailing punctuation is left as text.
const URL_PATTERN = /https?:\/\/[^\s<>"'()[\]{}]+/g;
const TRAILING_PUNCTUATION = /[.,;:!?]+$/;

/** Splits plain text into text and http(s) links, so a body can be shown with clickable links. */
export function linkify(text: string): TextSegment[] {
  const segments: TextSegment[] = [];
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const start = match.index ?? 0;
    const url = match[0].replace(TRAILING_PUNCTUATION, "");
    if (start > last) segments.push({ kind: "text", text: text.slice(last, start) });
    segments.push({ kind: "link", text: url, href: url });
    last = start + url.length;
  }
  if (last < text.length) segments.push({ kind: "text", text: text.slice(last) });
  return segments;
}

export type ChangeRow = { field: string; before: string | null; after: string | null };

// Fields named like `expiresAt` hold epoch milliseconds; people read them as dates.
const TIMESTAMP_FIELD = /At$/;

function show(field: string, value: ChangeSummary[string] | undefined, timeZone?: string, locale?: string) {
  if (value === undefined || value === null) return null;
  if (typeof value === "number" && TIMESTAMP_FIELD.test(field))
    return formatDateTime(value, timeZone, locale);
  return typeof value === "string" ? value : String(value);
}

/**
 * One row per field of an audit event's before/after, in a stable order; null where a side is
 * absent. Timestamps (`…At` fields) are shown as dates in `timeZone`.
 */
export function changeRows(
  before?: ChangeSummary,
  after?: ChangeSummary,
  { timeZone, locale }: { timeZone?: string; locale?: string } = {},
): ChangeRow[] {
  const fields = [...new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])];
  return fields.map((field) => ({
    field,
    before: show(field, before?.[field], timeZone, locale),
    after: show(field, after?.[field], timeZone, locale),
  }));
}
