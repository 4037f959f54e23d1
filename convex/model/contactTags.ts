/**
 * A contact's tags and search text, kept in step with the rows that index them: `contactTags`
 * (one row per tag, so a tag filter reads only its contacts) and `contactTagCounts` (how many
 * contacts carry each tag: the tag chips and exact counts of tag segments).
 */
import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { uniqueTags } from "./contactsCsv";

/** Most tags one contact carries. */
export const MAX_TAGS = 30;

/** The key a tag is indexed and counted under: "VIP " and "vip" are one tag. */
export function tagKey(tag: string): string {
  return tag.replace(/\s+/g, " ").trim().toLowerCase();
}

/** Lowercase, accents folded, for search text on both sides. */
export function foldForSearch(text: string): string {
  return text
    .normalize("NFD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();
}

/** What the search index holds for a contact: name words, the number's digits, its national digits. */
export function searchTextOf(name: string | undefined, phone: string | undefined): string {
  const parts: string[] = [];
  if (name) parts.push(foldForSearch(name));
  if (phone) {
    const digits = phone.replace(/\D/g, "");
    parts.push(digits);
    const national = parsePhoneNumberFromString(phone)?.nationalNumber;
    if (national && national !== digits) parts.push(national);
  }
  return parts.join(" ");
}

/** A search as typed, in the form of `searchTextOf`: a number's digits, or folded words. */
export function searchQueryOf(search: string): string {
  const trimmed = search.trim().slice(0, 100);
  if (/^[\d\s+().-]+$/.test(trimmed)) return trimmed.replace(/\D/g, "").replace(/^00/, "");
  return foldForSearch(trimmed);
}

export type TagDeltas = Map<string, { label: string; delta: number }>;

/**
 * Gives the contact exactly `tags` (cleaned, case-insensitive repeats dropped), adding and
 * removing its index rows. Count changes are added to `deltas` when given (an import applies
 * them once per batch), else applied at once.
 */
export async function setContactTags(
  ctx: MutationCtx,
  contact: Doc<"contacts">,
  tags: readonly string[],
  deltas?: TagDeltas,
): Promise<string[]> {
  const next = uniqueTags(tags).slice(0, MAX_TAGS);
  const nextKeys = new Map(next.map((t) => [tagKey(t), t]));
  const rows = await ctx.db
    .query("contactTags")
    .withIndex("by_contact", (q) => q.eq("contactId", contact._id))
    .take(MAX_TAGS * 2);
  const own = deltas ?? new Map();
  const had = new Set<string>();
  for (const row of rows) {
    if (nextKeys.has(row.tag) && !had.has(row.tag)) {
      had.add(row.tag);
      continue;
    }
    await ctx.db.delete("contactTags", row._id);
    if (!had.has(row.tag)) addTagDelta(own, row.tag, row.tag, -1);
  }
  for (const [key, label] of nextKeys) {
    if (had.has(key)) continue;
    await ctx.db.insert("contactTags", { tenantId: contact.tenantId, tag: key, contactId: contact._id });
    addTagDelta(own, key, label, 1);
  }
  const same = (contact.tags ?? []).join("\u0000") === next.join("\u0000");
  if (!same) await ctx.db.patch("contacts", contact._id, { tags: next.length ? next : undefined });
  if (!deltas) await applyTagDeltas(ctx, contact.tenantId, own);
  return next;
}

export function addTagDelta(deltas: TagDeltas, key: string, label: string, delta: number) {
  const entry = deltas.get(key);
  if (entry) {
    entry.delta += delta;
    if (delta > 0) entry.label = label;
  } else deltas.set(key, { label, delta });
}

/** Applies tag count changes: one read and one write per tag touched. */
export async function applyTagDeltas(ctx: MutationCtx, tenantId: Id<"tenants">, deltas: TagDeltas) {
  for (const [tag, { label, delta }] of deltas) {
    if (delta === 0) continue;
    const row = await ctx.db
      .query("contactTagCounts")
      .withIndex("by_tenant_tag", (q) => q.eq("tenantId", tenantId).eq("tag", tag))
      .unique();
    if (!row) {
      if (delta > 0) await ctx.db.insert("contactTagCounts", { tenantId, tag, label, count: delta });
      continue;
    }
    const count = Math.max(0, row.count + delta);
    if (count === 0) await ctx.db.delete("contactTagCounts", row._id);
    else await ctx.db.patch("contactTagCounts", row._id, { count, ...(delta > 0 ? { label } : {}) });
  }
}
