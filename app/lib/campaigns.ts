// The campaign pages' model: state labels and tones, progress from the summed counters, the
// template body with a recipient's values filled in, and a wall-clock time in the workspace's
// time zone as an instant.
import type { FunctionReturnType } from "convex/server";
import type { api } from "../../convex/_generated/api";
import type { Tone } from "./channels";

export type CampaignView = FunctionReturnType<typeof api.campaigns.get>;
export type CampaignState = CampaignView["state"];
export type Counts = CampaignView["counts"];
export type RecipientState = keyof Counts;

export const STATE_INFO: Record<CampaignState, { label: string; tone: Tone }> = {
  draft: { label: "Draft", tone: "neutral" },
  scheduled: { label: "Scheduled", tone: "neutral" },
  preparing: { label: "Preparing", tone: "neutral" },
  running: { label: "Sending", tone: "good" },
  paused: { label: "Paused", tone: "warning" },
  completed: { label: "Completed", tone: "good" },
  cancelled: { label: "Cancelled", tone: "neutral" },
  failed: { label: "Failed", tone: "bad" },
};

/** The recipient states in the order the progress page shows them, with words for each. */
export const RECIPIENT_STATES: { state: RecipientState; label: string; hint: string }[] = [
  { state: "pending", label: "Pending", hint: "Waiting for their turn" },
  { state: "queued", label: "Queued", hint: "Handed to the send pipeline" },
  { state: "sent", label: "Sent", hint: "Accepted by WhatsApp" },
  { state: "delivered", label: "Delivered", hint: "On the recipient's phone" },
  { state: "read", label: "Read", hint: "Opened by the recipient" },
  { state: "failed", label: "Failed", hint: "WhatsApp refused or could not deliver" },
  { state: "skipped", label: "Skipped", hint: "Never sent (opted out, no number…)" },
  { state: "unknown", label: "Outcome unknown", hint: "In flight when the outcome was lost" },
];

/** Recipients frozen so far: the sum of every state. */
export function totalOf(counts: Counts): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

/** Recipients the campaign is done with (sent or further, failed or skipped). */
export function doneOf(counts: Counts): number {
  return counts.sent + counts.delivered + counts.read + counts.failed + counts.skipped;
}

/** Whole percent done, 0 when there is nobody yet. */
export function percentDone(counts: Counts): number {
  const total = totalOf(counts);
  return total === 0 ? 0 : Math.floor((doneOf(counts) * 100) / total);
}

/** The number of positional variables ({{1}}, {{2}}…) a template body uses. */
export function variableCount(text: string): number {
  let max = 0;
  for (const m of text.matchAll(/\{\{\s*(\d+)\s*\}\}/g)) max = Math.max(max, Number(m[1]));
  return max;
}

/** True when the body uses named variables ({{first_name}}), which campaigns cannot fill. */
export function hasNamedVariables(text: string): boolean {
  return /\{\{\s*[a-z_][a-z0-9_]*\s*\}\}/i.test(text);
}

export type Mapping =
  { source: "name"; fallback: string } | { source: "phone" } | { source: "constant"; value: string };

/** The backend's variable list from the form's mapping rows. */
export function toVariables(mappings: Mapping[]) {
  return mappings.map((m) =>
    m.source === "name"
      ? m.fallback.trim()
        ? { source: "name" as const, fallback: m.fallback.trim() }
        : { source: "name" as const }
      : m.source === "phone"
        ? { source: "phone" as const }
        : { source: "constant" as const, value: m.value },
  );
}

/** A contact's first name: the first word of their name. */
export function firstName(name: string | null): string | null {
  const first = name?.trim().split(/\s+/)[0];
  return first ? first : null;
}

/** A recipient's values for each variable; null where the value is missing. */
export function valuesFor(mappings: Mapping[], contact: { name: string | null; phone: string | null }) {
  return mappings.map((m) => {
    if (m.source === "phone") return contact.phone || null;
    if (m.source === "constant") return m.value.trim() ? m.value : null;
    return firstName(contact.name) ?? (m.fallback.trim() ? m.fallback.trim() : null);
  });
}

/** The body with {{n}} replaced by the values (a missing one stays visible as [{{n}}?]). */
export function fillBody(body: string, values: (string | null)[]): string {
  return body.replace(/\{\{\s*(\d+)\s*\}\}/g, (all, n: string) => values[Number(n) - 1] ?? `[${all}?]`);
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

/** The instant a wall-clock time ("YYYY-MM-DDTHH:MM", a datetime-local value) is in `timeZone`. */
export function zonedDateTime(local: string, timeZone: string): number | null {
  const asUtc = Date.parse(`${local}:00Z`);
  if (Number.isNaN(asUtc)) return null;
  try {
    const first = asUtc - offsetAt(asUtc, timeZone);
    return asUtc - offsetAt(first, timeZone);
  } catch {
    return asUtc;
  }
}

/** An instant as the workspace's wall clock, e.g. "2 Dec 2026, 17:45". */
export function formatInZone(ms: number, timeZone: string): string {
  try {
    return new Intl.DateTimeFormat("en-GB", {
      timeZone,
      day: "numeric",
      month: "short",
      year: "numeric",
      hour: "2-digit",
      minute: "2-digit",
    }).format(ms);
  } catch {
    return new Date(ms).toISOString().slice(0, 16).replace("T", " ");
  }
}

/** The campaign results file's header and rows. */
export const RESULTS_CSV_HEADER = ["Name", "Phone", "State", "Reason", "Updated (UTC)", "Replied (UTC)"];

export function resultsCsvName(campaignName: string): string {
  const safe = campaignName.replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^-+|-+$/g, "") || "campaign";
  return `${safe}-results.csv`;
}
