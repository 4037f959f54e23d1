/**
 * A tenant's contact list: listing with search and filters, contact pages, editing, custom
 * fields, manual merges and segments (saved filters with a live count).
 *
 * Listing stays bounded at 100,000 contacts per tenant: every list reads one index page. The
 * filter that narrows most picks the index (search → the search index; tag → `contactTags`;
 * last seen → `by_tenant_last_inbound`; consent → `by_tenant_opted_out`; else newest first), and
 * the other filters are applied to that page, so a page can hold fewer rows than asked for
 * while `isDone` is false. Counts are exact for "all contacts of a tag" (kept in
 * `contactTagCounts`) and otherwise counted over at most COUNT_CAP index entries, shown as
 * "5,000+" beyond that (docs/decisions/019-contact-import.md).
 */
import type { PaginationOptions, PaginationResult } from "convex/server";
import { v, type Infer } from "convex/values";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import type { ContactFilter } from "../schema";
import { consentHistory } from "./contactConsent";
import { normalizePhone } from "./contactsCsv";
import { searchQueryOf, searchTextOf, setContactTags, tagKey } from "./contactTags";
import { fail } from "./errors";
import { applySuppression } from "./privacy/suppression";
import { merge, resolveContact } from "./whatsapp/contacts";

const DAY_MS = 24 * 60 * 60 * 1000;
/** Most index entries a live count reads. */
export const COUNT_CAP = 5000;
/** Most results a search returns (Convex's search index stops at 1,024). */
const SEARCH_CAP = 1000;
export const MAX_FIELDS = 50;
export const NAME_MAX = 200;
export const FIELD_VALUE_MAX = 500;

export const vContactRow = v.object({
  contactId: v.id("contacts"),
  name: v.union(v.string(), v.null()),
  phone: v.union(v.string(), v.null()),
  tags: v.array(v.string()),
  fields: v.array(v.object({ key: v.string(), value: v.string() })),
  optedOut: v.boolean(),
  lastInboundAt: v.union(v.number(), v.null()),
  createdAt: v.number(),
});
export type ContactRow = Infer<typeof vContactRow>;

export function rowOf(c: Doc<"contacts">): ContactRow {
  return {
    contactId: c._id,
    name: c.name ?? null,
    phone: c.phone ?? null,
    tags: c.tags ?? [],
    fields: c.fields ?? [],
    optedOut: c.optedOutAt !== undefined,
    lastInboundAt: c.lastInboundAt ?? null,
    createdAt: c.createdAt,
  };
}

/** Trims a filter to what it says; empty parts dropped. */
export function cleanFilter(filter: ContactFilter): ContactFilter {
  const out: ContactFilter = {};
  if (filter.search?.trim()) out.search = filter.search.trim().slice(0, 100);
  if (filter.tag?.trim()) out.tag = filter.tag.trim();
  if (filter.consent) out.consent = filter.consent;
  if (filter.lastSeen) {
    const ls = filter.lastSeen;
    if ("never" in ls) out.lastSeen = ls;
    else {
      const days = "within" in ls ? ls.within : ls.before;
      if (!Number.isInteger(days) || days < 1 || days > 3650)
        fail("INVALID", "Pick a number of days from 1 to 3,650");
      out.lastSeen = ls;
    }
  }
  if (filter.field?.key.trim() && filter.field.value.trim()) {
    out.field = { key: filter.field.key.trim(), value: filter.field.value.trim() };
  }
  return out;
}

/** Whether a contact passes the filter's parts that its index did not apply. */
export function matches(contact: Doc<"contacts">, filter: ContactFilter, now: number): boolean {
  if (contact.mergedInto) return false;
  if (filter.tag) {
    const key = tagKey(filter.tag);
    if (!(contact.tags ?? []).some((t) => tagKey(t) === key)) return false;
  }
  if (filter.consent === "opted_out" && contact.optedOutAt === undefined) return false;
  if (filter.consent === "subscribed" && contact.optedOutAt !== undefined) return false;
  const ls = filter.lastSeen;
  if (ls) {
    const at = contact.lastInboundAt;
    if ("never" in ls && at !== undefined) return false;
    if ("within" in ls && (at === undefined || at < now - ls.within * DAY_MS)) return false;
    if ("before" in ls && (at === undefined || at >= now - ls.before * DAY_MS)) return false;
  }
  if (filter.field) {
    const want = filter.field.value.toLowerCase();
    const f = (contact.fields ?? []).find((g) => g.key === filter.field!.key);
    if (!f || !f.value.toLowerCase().includes(want)) return false;
  }
  return true;
}

type Source =
  | { kind: "search"; query: string }
  | { kind: "tag"; tag: string }
  | { kind: "contacts"; index: "created" | "last" | "opted_out" };

function sourceOf(filter: ContactFilter): Source {
  if (filter.search) {
    const query = searchQueryOf(filter.search);
    if (query) return { kind: "search", query };
  }
  if (filter.tag) return { kind: "tag", tag: tagKey(filter.tag) };
  if (filter.lastSeen) return { kind: "contacts", index: "last" };
  if (filter.consent) return { kind: "contacts", index: "opted_out" };
  return { kind: "contacts", index: "created" };
}

/** The index query for a contacts source, newest first. */
function contactsQuery(
  ctx: QueryCtx,
  tenantId: Id<"tenants">,
  filter: ContactFilter,
  index: string,
  now: number,
) {
  const contacts = ctx.db.query("contacts");
  if (index === "last") {
    const ls = filter.lastSeen!;
    if ("never" in ls) {
      return contacts
        .withIndex("by_tenant_last_inbound", (q) => q.eq("tenantId", tenantId).eq("lastInboundAt", undefined))
        .order("desc");
    }
    if ("within" in ls) {
      return contacts
        .withIndex("by_tenant_last_inbound", (q) =>
          q.eq("tenantId", tenantId).gte("lastInboundAt", now - ls.within * DAY_MS),
        )
        .order("desc");
    }
    return contacts
      .withIndex("by_tenant_last_inbound", (q) =>
        q
          .eq("tenantId", tenantId)
          .gt("lastInboundAt", 0)
          .lt("lastInboundAt", now - ls.before * DAY_MS),
      )
      .order("desc");
  }
  if (index === "opted_out") {
    return filter.consent === "opted_out"
      ? contacts
          .withIndex("by_tenant_opted_out", (q) => q.eq("tenantId", tenantId).gt("optedOutAt", 0))
          .order("desc")
      : contacts
          .withIndex("by_tenant_opted_out", (q) => q.eq("tenantId", tenantId).eq("optedOutAt", undefined))
          .order("desc");
  }
  return contacts.withIndex("by_tenant_created", (q) => q.eq("tenantId", tenantId)).order("desc");
}

/** One page of a tenant's contacts matching the filter (see the note at the top). */
export async function listContacts(
  ctx: QueryCtx,
  tenantId: Id<"tenants">,
  rawFilter: ContactFilter,
  paginationOpts: PaginationOptions,
  maxItems = 200,
): Promise<PaginationResult<Doc<"contacts">>> {
  const filter = cleanFilter(rawFilter);
  const now = Date.now();
  const source = sourceOf(filter);
  const opts = { ...paginationOpts, numItems: Math.min(Math.max(paginationOpts.numItems, 1), maxItems) };
  let page: PaginationResult<Doc<"contacts">>;
  if (source.kind === "search") {
    page = await ctx.db
      .query("contacts")
      .withSearchIndex("search_contacts", (q) =>
        q.search("searchText", source.query).eq("tenantId", tenantId),
      )
      .paginate(opts);
  } else if (source.kind === "tag") {
    const tags = await ctx.db
      .query("contactTags")
      .withIndex("by_tenant_tag", (q) => q.eq("tenantId", tenantId).eq("tag", source.tag))
      .paginate(opts);
    const contacts = await Promise.all(tags.page.map((t) => ctx.db.get("contacts", t.contactId)));
    page = { ...tags, page: contacts.filter((c): c is Doc<"contacts"> => c !== null) };
  } else {
    page = await contactsQuery(ctx, tenantId, filter, source.index, now).paginate(opts);
  }
  return { ...page, page: page.page.filter((c) => c.tenantId === tenantId && matches(c, filter, now)) };
}

/**
 * How many contacts match: exact from the tag counter for a tag alone, else counted over at
 * most COUNT_CAP index entries (`capped` says the true number is higher).
 */
export async function countContacts(
  ctx: QueryCtx,
  tenantId: Id<"tenants">,
  rawFilter: ContactFilter,
): Promise<{ count: number; capped: boolean }> {
  const filter = cleanFilter(rawFilter);
  const now = Date.now();
  const source = sourceOf(filter);
  const onlyTag = source.kind === "tag" && Object.keys(filter).length === 1;
  if (onlyTag) {
    const row = await ctx.db
      .query("contactTagCounts")
      .withIndex("by_tenant_tag", (q) => q.eq("tenantId", tenantId).eq("tag", source.tag))
      .unique();
    return { count: row?.count ?? 0, capped: false };
  }
  let count = 0;
  let read = 0;
  if (source.kind === "search") {
    const found = await ctx.db
      .query("contacts")
      .withSearchIndex("search_contacts", (q) =>
        q.search("searchText", source.query).eq("tenantId", tenantId),
      )
      .take(SEARCH_CAP);
    count = found.filter((c) => matches(c, filter, now)).length;
    return { count, capped: found.length === SEARCH_CAP };
  }
  if (source.kind === "tag") {
    for await (const t of ctx.db
      .query("contactTags")
      .withIndex("by_tenant_tag", (q) => q.eq("tenantId", tenantId).eq("tag", source.tag))) {
      if (++read > COUNT_CAP) return { count, capped: true };
      const c = await ctx.db.get("contacts", t.contactId);
      if (c && matches(c, filter, now)) count++;
    }
    return { count, capped: false };
  }
  for await (const c of contactsQuery(ctx, tenantId, filter, source.index, now)) {
    if (++read > COUNT_CAP) return { count, capped: true };
    if (matches(c, filter, now)) count++;
  }
  return { count, capped: false };
}

/** The tenant's contact, following merges; NOT_FOUND for another tenant's or a missing one. */
export async function contactOf(ctx: QueryCtx, tenantId: Id<"tenants">, id: Id<"contacts">) {
  const contact = await resolveContact(ctx, id);
  if (!contact || contact.tenantId !== tenantId) fail("NOT_FOUND", "No such contact");
  return contact;
}

export const vContactDetail = v.object({
  ...vContactRow.fields,
  optedOutAt: v.union(v.number(), v.null()),
  aliases: v.array(v.object({ kind: v.string(), value: v.string() })),
  conversations: v.array(
    v.object({
      conversationId: v.id("conversations"),
      channelName: v.string(),
      lastMessageAt: v.number(),
      state: v.string(),
    }),
  ),
  consent: v.array(
    v.object({ kind: v.string(), source: v.string(), at: v.number(), text: v.union(v.string(), v.null()) }),
  ),
});

export async function contactDetail(ctx: QueryCtx, tenantId: Id<"tenants">, id: Id<"contacts">) {
  const contact = await contactOf(ctx, tenantId, id);
  const aliases = await ctx.db
    .query("contactAliases")
    .withIndex("by_contact", (q) => q.eq("contactId", contact._id))
    .take(50);
  const conversations = await ctx.db
    .query("conversations")
    .withIndex("by_contact", (q) => q.eq("contactId", contact._id))
    .take(20);
  const channels = new Map<Id<"channels">, string>();
  for (const c of conversations) {
    if (!channels.has(c.channelId))
      channels.set(c.channelId, (await ctx.db.get("channels", c.channelId))?.name ?? "");
  }
  const consent = await consentHistory(ctx, contact._id, 50);
  return {
    ...rowOf(contact),
    optedOutAt: contact.optedOutAt ?? null,
    aliases: aliases.map((a) => ({ kind: a.kind, value: a.value })),
    conversations: conversations
      .sort((a, b) => b.lastMessageAt - a.lastMessageAt)
      .map((c) => ({
        conversationId: c._id,
        channelName: channels.get(c.channelId) ?? "",
        lastMessageAt: c.lastMessageAt,
        state: c.state ?? "bot",
      })),
    consent: consent.map((e) => ({ kind: e.kind, source: e.source, at: e.at, text: e.text ?? null })),
  };
}

// ---------------------------------------------------------------- custom fields

export type FieldType = Doc<"contactFields">["type"];

/** A field key as people name columns: trimmed, single-spaced, at most 60 characters. */
export function fieldKey(key: string): string {
  return key.replace(/\s+/g, " ").trim().slice(0, 60);
}

/** The value as stored for the field's type, or a reason it does not fit. */
export function checkFieldValue(
  type: FieldType,
  raw: string,
): { ok: true; value: string } | { ok: false; reason: string } {
  const value = raw.trim();
  if (value.length > FIELD_VALUE_MAX) return { ok: false, reason: `At most ${FIELD_VALUE_MAX} characters` };
  if (type === "number") {
    const n = value.replace(/\s/g, "").replace(",", ".");
    if (!/^-?\d+(\.\d+)?$/.test(n)) return { ok: false, reason: `“${value}” is not a number` };
    return { ok: true, value: n };
  }
  if (type === "date") {
    const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
    const dmy = /^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$/.exec(value);
    const [y, m, d] = iso ? [+iso[1], +iso[2], +iso[3]] : dmy ? [+dmy[3], +dmy[2], +dmy[1]] : [0, 0, 0];
    const date = new Date(Date.UTC(y, m - 1, d));
    if (!y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) {
      return { ok: false, reason: `“${value}” is not a date (write 2026-03-31 or 31/03/2026)` };
    }
    return { ok: true, value: date.toISOString().slice(0, 10) };
  }
  return { ok: true, value };
}

export async function fieldDefinitions(ctx: QueryCtx, tenantId: Id<"tenants">) {
  return await ctx.db
    .query("contactFields")
    .withIndex("by_tenant_key", (q) => q.eq("tenantId", tenantId))
    .take(MAX_FIELDS);
}

/** Defines a field (or changes its type); existing values are kept as they are. */
export async function defineField(
  ctx: MutationCtx,
  tenantId: Id<"tenants">,
  rawKey: string,
  type: FieldType,
) {
  const key = fieldKey(rawKey);
  if (!key) fail("INVALID", "Name the field", "key");
  const existing = await ctx.db
    .query("contactFields")
    .withIndex("by_tenant_key", (q) => q.eq("tenantId", tenantId).eq("key", key))
    .unique();
  if (existing) {
    if (existing.type !== type) await ctx.db.patch("contactFields", existing._id, { type });
    return existing._id;
  }
  if ((await fieldDefinitions(ctx, tenantId)).length >= MAX_FIELDS) {
    fail("INVALID", `A workspace can have at most ${MAX_FIELDS} custom fields`, "key");
  }
  return await ctx.db.insert("contactFields", { tenantId, key, type, createdAt: Date.now() });
}

// ---------------------------------------------------------------- editing

export type ContactEdit = {
  name?: string;
  phone?: string;
  tags?: string[];
  fields?: { key: string; value: string }[];
};

/** Applies an edit from a person: name, phone (E.164, added as an alias), tags, typed fields. */
export async function updateContact(
  ctx: MutationCtx,
  tenantId: Id<"tenants">,
  contactId: Id<"contacts">,
  edit: ContactEdit,
  defaultCountry: string,
) {
  const contact = await contactOf(ctx, tenantId, contactId);
  const patch: Partial<Doc<"contacts">> = {};
  if (edit.name !== undefined) {
    const name = edit.name.replace(/\s+/g, " ").trim();
    if (name.length > NAME_MAX) fail("INVALID", `A name can be at most ${NAME_MAX} characters`, "name");
    patch.name = name || undefined;
  }
  if (edit.phone !== undefined && edit.phone.trim() !== (contact.phone ?? "")) {
    const phone = normalizePhone(edit.phone, defaultCountry);
    if (!phone.ok) fail("INVALID", phone.reason, "phone");
    const other = await ctx.db
      .query("contactAliases")
      .withIndex("by_tenant_kind_value", (q) =>
        q.eq("tenantId", tenantId).eq("kind", "phone").eq("value", phone.phone),
      )
      .first();
    if (other && other.contactId !== contact._id) {
      const owner = await resolveContact(ctx, other.contactId);
      if (owner && owner._id !== contact._id) {
        fail("CONFLICT", `${phone.phone} belongs to another contact: merge the two instead`, "phone");
      }
    }
    if (!other)
      await ctx.db.insert("contactAliases", {
        tenantId,
        kind: "phone",
        value: phone.phone,
        contactId: contact._id,
      });
    patch.phone = phone.phone;
  }
  if (edit.fields !== undefined) {
    const defs = new Map((await fieldDefinitions(ctx, tenantId)).map((d) => [d.key, d.type]));
    const fields: { key: string; value: string }[] = [];
    for (const f of edit.fields) {
      const key = fieldKey(f.key);
      if (!key || !f.value.trim() || fields.some((g) => g.key === key)) continue;
      const checked = checkFieldValue(defs.get(key) ?? "text", f.value);
      if (!checked.ok) fail("INVALID", `${key}: ${checked.reason}`, "fields");
      fields.push({ key, value: checked.value });
    }
    if (fields.length > MAX_FIELDS) fail("INVALID", `At most ${MAX_FIELDS} fields per contact`, "fields");
    patch.fields = fields.length ? fields : undefined;
  }
  if ("name" in patch || "phone" in patch) {
    patch.searchText = searchTextOf(
      "name" in patch ? patch.name : contact.name,
      patch.phone ?? contact.phone,
    );
  }
  if (Object.keys(patch).length) await ctx.db.patch("contacts", contact._id, patch);
  if (patch.phone) await applySuppression(ctx, tenantId, contact._id, patch.phone);
  if (edit.tags !== undefined)
    await setContactTags(ctx, (await ctx.db.get("contacts", contact._id))!, edit.tags);
  return contact;
}

/** Merges `mergeId` into `keepId` by hand, with the same machinery as automatic merges. */
export async function mergeByHand(
  ctx: MutationCtx,
  tenantId: Id<"tenants">,
  keepId: Id<"contacts">,
  mergeId: Id<"contacts">,
) {
  const keep = await contactOf(ctx, tenantId, keepId);
  const other = await contactOf(ctx, tenantId, mergeId);
  if (keep._id === other._id) fail("INVALID", "Pick two different contacts to merge");
  await merge(ctx, keep, other);
  return { keep, other };
}

/** Deletes a contact that has no conversations (those keep it for their history). */
export async function deleteContact(ctx: MutationCtx, tenantId: Id<"tenants">, contactId: Id<"contacts">) {
  const contact = await contactOf(ctx, tenantId, contactId);
  const conversation = await ctx.db
    .query("conversations")
    .withIndex("by_contact", (q) => q.eq("contactId", contact._id))
    .first();
  if (conversation) {
    fail("CONFLICT", "This contact has conversations, which keep it: it cannot be deleted");
  }
  await setContactTags(ctx, contact, []);
  for (const alias of await ctx.db
    .query("contactAliases")
    .withIndex("by_contact", (q) => q.eq("contactId", contact._id))
    .take(200)) {
    await ctx.db.delete("contactAliases", alias._id);
  }
  for (const event of await consentHistory(ctx, contact._id, 500))
    await ctx.db.delete("consentEvents", event._id);
  await ctx.db.delete("contacts", contact._id);
  return contact;
}
