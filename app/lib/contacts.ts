// Contacts as the pages show them: filters in the address bar, labels, and export rows.
import type { ContactFilter } from "../../convex/schema";
import type { CsvCell } from "../../convex/shared/csv";

export const CONTACTS_PAGE_SIZE = 50;

export type LastSeenChoice = "" | "7" | "30" | "90" | "over90" | "never";

export const LAST_SEEN_OPTIONS: { value: LastSeenChoice; label: string }[] = [
  { value: "", label: "Any time" },
  { value: "7", label: "In the last 7 days" },
  { value: "30", label: "In the last 30 days" },
  { value: "90", label: "In the last 90 days" },
  { value: "over90", label: "More than 90 days ago" },
  { value: "never", label: "Never wrote" },
];

export const CONSENT_OPTIONS = [
  { value: "", label: "Any consent" },
  { value: "subscribed", label: "Subscribed" },
  { value: "opted_out", label: "Opted out" },
] as const;

/** The filter the address bar describes (?q=&tag=&consent=&seen=&field=&value=). */
export function filterFromParams(params: URLSearchParams): ContactFilter {
  const filter: ContactFilter = {};
  const q = params.get("q")?.trim();
  if (q) filter.search = q;
  const tag = params.get("tag")?.trim();
  if (tag) filter.tag = tag;
  const consent = params.get("consent");
  if (consent === "subscribed" || consent === "opted_out") filter.consent = consent;
  const seen = params.get("seen") as LastSeenChoice | null;
  if (seen === "never") filter.lastSeen = { never: true };
  else if (seen === "over90") filter.lastSeen = { before: 90 };
  else if (seen === "7" || seen === "30" || seen === "90") filter.lastSeen = { within: Number(seen) };
  const field = params.get("field")?.trim();
  const value = params.get("value")?.trim();
  if (field && value) filter.field = { key: field, value };
  return filter;
}

export function paramsFromFilter(filter: ContactFilter): URLSearchParams {
  const params = new URLSearchParams();
  if (filter.search) params.set("q", filter.search);
  if (filter.tag) params.set("tag", filter.tag);
  if (filter.consent) params.set("consent", filter.consent);
  const ls = filter.lastSeen;
  if (ls) {
    if ("never" in ls) params.set("seen", "never");
    else if ("before" in ls) params.set("seen", "over90");
    else params.set("seen", String(ls.within));
  }
  if (filter.field) {
    params.set("field", filter.field.key);
    params.set("value", filter.field.value);
  }
  return params;
}

/** "Tag vip · Opted out · Seen in the last 30 days" */
export function describeFilter(filter: ContactFilter): string {
  const parts: string[] = [];
  if (filter.search) parts.push(`“${filter.search}”`);
  if (filter.tag) parts.push(`Tag ${filter.tag}`);
  if (filter.consent) parts.push(filter.consent === "opted_out" ? "Opted out" : "Subscribed");
  const ls = filter.lastSeen;
  if (ls) {
    if ("never" in ls) parts.push("Never wrote");
    else if ("before" in ls) parts.push(`Last wrote over ${ls.before} days ago`);
    else parts.push(`Wrote in the last ${ls.within} days`);
  }
  if (filter.field) parts.push(`${filter.field.key} contains “${filter.field.value}”`);
  return parts.length ? parts.join(" · ") : "All contacts";
}

/** "1 contact", "2,345 contacts", "10,000+ contacts". */
export function contactsCount(count: { count: number; capped: boolean }): string {
  return `${formatCount(count)} ${count.count === 1 && !count.capped ? "contact" : "contacts"}`;
}

export function formatCount({ count, capped }: { count: number; capped: boolean }): string {
  return `${count.toLocaleString("en-US")}${capped ? "+" : ""}`;
}

export const COLUMN_ROLE_LABELS: Record<string, string> = {
  name: "Name",
  first_name: "First name",
  last_name: "Last name",
  phone: "Phone number",
  tags: "Tags",
  field: "Custom field",
  ignore: "Don't import",
};

export const IMPORT_STATUS_LABELS: Record<string, string> = {
  analyzing: "Reading the file…",
  mapping: "Check the columns",
  parsing: "Checking every row…",
  importing: "Importing…",
  done: "Imported",
  cancelled: "Cancelled",
  failed: "Failed",
};

export type ExportRow = {
  name: string | null;
  phone: string | null;
  tags: string[];
  fields: { key: string; value: string }[];
  optedOut: boolean;
  lastInboundAt: number | null;
  createdAt: number;
};

export function contactsCsvHeader(fieldKeys: string[]): string[] {
  return ["Name", "Phone", "Tags", "Opted out", "Last message", "Added", ...fieldKeys];
}

export function contactsCsvRow(row: ExportRow, fieldKeys: string[]): CsvCell[] {
  const iso = (ms: number | null) =>
    ms === null ? "" : new Date(ms).toISOString().slice(0, 19).replace("T", " ");
  return [
    row.name ?? "",
    row.phone ?? "",
    row.tags.join("; "),
    row.optedOut ? "yes" : "no",
    iso(row.lastInboundAt),
    iso(row.createdAt),
    ...fieldKeys.map((key) => row.fields.find((f) => f.key === key)?.value ?? ""),
  ];
}
