/**
 * CSV imports of contacts (docs/decisions/019-contact-import.md).
 *
 * 1. The browser uploads the file to Convex file storage (no size limit of function arguments
 *    applies) and creates a `contactImports` row; an action reads the header and a sample and
 *    stores the detected column mapping ("mapping"). The page shows it from the row.
 * 2. The person adjusts the mapping and starts; an action parses the whole file with
 *    parseContactsCsv's rules (duplicates in the file merged), and writes the contacts in
 *    chunks of CHUNK_SIZE (`contactImportChunks`) and the row errors (`contactImportErrors`),
 *    a few chunks per mutation ("parsing").
 * 3. One scheduled mutation per chunk writes its contacts ("importing"): a number already known
 *    (its phone alias) is merged into that contact, filling gaps and adding tags, never touching
 *    consent (an opted-out contact stays opted out); a new one is created with its phone alias.
 *    The row's counters move with every chunk, which the page reads live, so progress survives
 *    a reload. Cancelling stops before the next chunk; what was written stays.
 */
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import type { ImportedContact } from "../schema";
import { applySuppression } from "./privacy/suppression";
import { COLUMN_ROLES, uniqueTags, type ColumnRole, type ParsedContact } from "./contactsCsv";
import {
  addTagDelta,
  applyTagDeltas,
  MAX_TAGS,
  searchTextOf,
  setContactTags,
  tagKey,
  type TagDeltas,
} from "./contactTags";
import { fieldDefinitions, fieldKey, MAX_FIELDS } from "./contacts";
import { fail } from "./errors";
import { resolveContact } from "./whatsapp/contacts";

/**
 * Contacts written per scheduled mutation: each costs about 3–6 reads and writes, and the
 * mutation must finish well inside Convex's one second even on a busy machine.
 */
export const CHUNK_SIZE = 100;
/** Chunks stored per mutation while parsing. */
export const CHUNKS_PER_WRITE = 10;
/** Row errors stored per mutation while parsing; more than MAX_ERRORS are counted, not kept. */
export const ERRORS_PER_WRITE = 1000;
export const MAX_ERRORS = 20_000;
/** Rows shown in the mapping preview. */
export const SAMPLE_ROWS = 5;
/** Largest file accepted. */
export const MAX_FILE_BYTES = 20 * 1024 * 1024;

export function isColumnRole(role: string): role is ColumnRole {
  return (COLUMN_ROLES as readonly string[]).includes(role);
}

/** The import, checked to be the tenant's. */
export async function importOf(ctx: QueryCtx, tenantId: Id<"tenants">, importId: Id<"contactImports">) {
  const row = await ctx.db.get("contactImports", importId);
  if (!row || row.tenantId !== tenantId) fail("NOT_FOUND", "No such import");
  return row;
}

/** A parsed contact as stored in a chunk: fields as key/value pairs with clean keys. */
export function storedContact(contact: ParsedContact): ImportedContact {
  const out: ImportedContact = { phone: contact.phone };
  if (contact.name) out.name = contact.name;
  if (contact.tags?.length) out.tags = contact.tags;
  if (contact.fields) {
    const fields = Object.entries(contact.fields)
      .map(([key, value]) => ({ key: fieldKey(key), value: value.slice(0, 500) }))
      .filter((f) => f.key && f.value);
    if (fields.length) out.fields = fields.slice(0, MAX_FIELDS);
  }
  return out;
}

/** Defines a text field for every mapped field column not defined yet (while room is left). */
export async function defineImportFields(ctx: MutationCtx, tenantId: Id<"tenants">, keys: string[]) {
  const defs = await fieldDefinitions(ctx, tenantId);
  const known = new Set(defs.map((d) => d.key));
  let room = MAX_FIELDS - defs.length;
  for (const raw of keys) {
    const key = fieldKey(raw);
    if (!key || known.has(key) || room <= 0) continue;
    await ctx.db.insert("contactFields", { tenantId, key, type: "text", createdAt: Date.now() });
    known.add(key);
    room--;
  }
}

export type ChunkOutcome = { created: number; merged: number };

/**
 * Writes one chunk's contacts. Known numbers merge into their contact (empty name and fields
 * filled, tags added; consent untouched), new numbers become contacts with a phone alias.
 */
export async function writeContacts(
  ctx: MutationCtx,
  tenantId: Id<"tenants">,
  contacts: ImportedContact[],
  at: number,
): Promise<ChunkOutcome> {
  const deltas: TagDeltas = new Map();
  let created = 0;
  let merged = 0;
  for (const incoming of contacts) {
    const alias = await ctx.db
      .query("contactAliases")
      .withIndex("by_tenant_kind_value", (q) =>
        q.eq("tenantId", tenantId).eq("kind", "phone").eq("value", incoming.phone),
      )
      .first();
    // Every contact with a known phone has its phone alias (webhooks and imports add it).
    const existing = alias ? await resolveContact(ctx, alias.contactId) : null;
    if (existing && existing.tenantId === tenantId) {
      merged++;
      const patch: Partial<Doc<"contacts">> = {};
      if (!existing.name && incoming.name) {
        patch.name = incoming.name;
        patch.searchText = searchTextOf(incoming.name, existing.phone ?? incoming.phone);
      }
      if (!existing.phone) patch.phone = incoming.phone;
      if (incoming.fields?.length) {
        const fields = [...(existing.fields ?? [])];
        let changed = false;
        for (const f of incoming.fields) {
          if (fields.some((g) => g.key === f.key) || fields.length >= MAX_FIELDS) continue;
          fields.push(f);
          changed = true;
        }
        if (changed) patch.fields = fields;
      }
      if (Object.keys(patch).length) await ctx.db.patch("contacts", existing._id, patch);
      if (patch.phone) await applySuppression(ctx, tenantId, existing._id, patch.phone);
      if (!alias) {
        await ctx.db.insert("contactAliases", {
          tenantId,
          kind: "phone",
          value: incoming.phone,
          contactId: existing._id,
        });
      }
      if (incoming.tags?.length) {
        const before = existing.tags ?? [];
        await setContactTags(ctx, { ...existing, ...patch }, [...before, ...incoming.tags], deltas);
      }
      continue;
    }
    created++;
    const tags = uniqueTags(incoming.tags ?? []).slice(0, MAX_TAGS);
    const id = await ctx.db.insert("contacts", {
      tenantId,
      name: incoming.name,
      phone: incoming.phone,
      createdAt: at,
      ...(tags.length ? { tags } : {}),
      ...(incoming.fields?.length ? { fields: incoming.fields } : {}),
      searchText: searchTextOf(incoming.name, incoming.phone),
    });
    await ctx.db.insert("contactAliases", { tenantId, kind: "phone", value: incoming.phone, contactId: id });
    // The number of an erased person who had opted out: the new contact starts opted out.
    await applySuppression(ctx, tenantId, id, incoming.phone);
    // A new contact has no tag rows yet: insert them without looking.
    for (const label of tags) {
      await ctx.db.insert("contactTags", { tenantId, tag: tagKey(label), contactId: id });
      addTagDelta(deltas, tagKey(label), label, 1);
    }
  }
  await applyTagDeltas(ctx, tenantId, deltas);
  return { created, merged };
}

/** What the page shows of an import. */
export function importView(row: Doc<"contactImports">) {
  return {
    importId: row._id,
    fileName: row.fileName,
    status: row.status,
    encoding: row.encoding ?? null,
    delimiter: row.delimiter ?? null,
    headers: row.headers ?? [],
    columns: row.columns ?? [],
    sample: row.sample ?? [],
    totalRows: row.totalRows ?? null,
    contactsTotal: row.contactsTotal ?? null,
    contactsDone: row.contactsDone,
    created: row.created,
    merged: row.merged,
    duplicatesInFile: row.duplicatesInFile,
    errorCount: row.errorCount,
    failure: row.failure ?? null,
    createdAt: row.createdAt,
    finishedAt: row.finishedAt ?? null,
  };
}
