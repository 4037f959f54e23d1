/**
 * CSV imports of contacts, for admins (the job is described in convex/model/contactImport.ts):
 * upload → mapping preview → import in scheduled chunks with live progress → error report.
 */
import { paginationOptsValidator, paginationResultValidator } from "convex/server";
import { v } from "convex/values";
import { internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import type { MutationCtx } from "./_generated/server";
import { internalAction, internalMutation, internalQuery, tenantMutation, tenantQuery } from "./functions";
import * as Audit from "./model/audit";
import * as Import from "./model/contactImport";
import {
  parseContactsTable,
  readContactsTable,
  detectColumns,
  uniqueTags,
  type ColumnRole,
} from "./model/contactsCsv";
import { fail } from "./model/errors";
import { vContactImportStatus, vImportedContact } from "./schema";

const vImport = v.object({
  importId: v.id("contactImports"),
  fileName: v.string(),
  status: vContactImportStatus,
  encoding: v.union(v.string(), v.null()),
  delimiter: v.union(v.string(), v.null()),
  headers: v.array(v.string()),
  columns: v.array(v.string()),
  sample: v.array(v.array(v.string())),
  totalRows: v.union(v.number(), v.null()),
  contactsTotal: v.union(v.number(), v.null()),
  contactsDone: v.number(),
  created: v.number(),
  merged: v.number(),
  duplicatesInFile: v.number(),
  errorCount: v.number(),
  failure: v.union(v.string(), v.null()),
  createdAt: v.number(),
  finishedAt: v.union(v.number(), v.null()),
});

/** Where the browser uploads the file (Convex file storage). */
export const generateUploadUrl = tenantMutation({
  role: "admin",
  args: {},
  returns: v.string(),
  handler: async (ctx) => await ctx.storage.generateUploadUrl(),
});

/** Starts an import of an uploaded file: its header and first rows are read for the mapping. */
export const create = tenantMutation({
  role: "admin",
  args: { storageId: v.id("_storage"), fileName: v.string() },
  returns: v.id("contactImports"),
  handler: async (ctx, { storageId, fileName }) => {
    const file = await ctx.db.system.get("_storage", storageId);
    if (!file) fail("NOT_FOUND", "The uploaded file is gone: upload it again");
    if (file.size > Import.MAX_FILE_BYTES) {
      fail("INVALID", `The file is larger than ${Import.MAX_FILE_BYTES / 1024 / 1024} MB: split it in parts`);
    }
    const importId = await ctx.db.insert("contactImports", {
      tenantId: ctx.tenant._id,
      createdBy: ctx.user._id,
      fileName: fileName.trim().slice(0, 200) || "contacts.csv",
      storageId,
      status: "analyzing",
      chunksDone: 0,
      contactsDone: 0,
      created: 0,
      merged: 0,
      duplicatesInFile: 0,
      errorCount: 0,
      createdAt: Date.now(),
    });
    await ctx.scheduler.runAfter(0, internal.contactImports.analyze, { importId });
    return importId;
  },
});

export const get = tenantQuery({
  role: "admin",
  args: { importId: v.id("contactImports") },
  returns: vImport,
  handler: async (ctx, { importId }) =>
    Import.importView(await Import.importOf(ctx, ctx.tenant._id, importId)),
});

/** Recent imports, newest first. */
export const list = tenantQuery({
  role: "admin",
  args: {},
  returns: v.array(vImport),
  handler: async (ctx) =>
    (
      await ctx.db
        .query("contactImports")
        .withIndex("by_tenant_created", (q) => q.eq("tenantId", ctx.tenant._id))
        .order("desc")
        .take(10)
    ).map(Import.importView),
});

/** Rows that could not be imported, in row order. */
export const errors = tenantQuery({
  role: "admin",
  args: { importId: v.id("contactImports"), paginationOpts: paginationOptsValidator },
  returns: paginationResultValidator(v.object({ row: v.number(), reason: v.string() })),
  handler: async (ctx, { importId, paginationOpts }) => {
    await Import.importOf(ctx, ctx.tenant._id, importId);
    const page = await ctx.db
      .query("contactImportErrors")
      .withIndex("by_import_row", (q) => q.eq("importId", importId))
      .paginate({ ...paginationOpts, numItems: Math.min(paginationOpts.numItems, 1000) });
    return { ...page, page: page.page.map((e) => ({ row: e.row, reason: e.reason })) };
  },
});

/**
 * Imports with the columns as mapped by the person (one role per header). `tag`, when given, is
 * added to every contact of the file (a campaign's uploaded list is the contacts with that tag).
 */
export const start = tenantMutation({
  role: "admin",
  args: { importId: v.id("contactImports"), columns: v.array(v.string()), tag: v.optional(v.string()) },
  returns: v.null(),
  handler: async (ctx, { importId, columns, tag: rawTag }) => {
    const tag = rawTag === undefined ? undefined : uniqueTags([rawTag])[0];
    if (rawTag !== undefined && !tag) fail("INVALID", "Give the tag for the imported contacts a name", "tag");
    const row = await Import.importOf(ctx, ctx.tenant._id, importId);
    if (row.status !== "mapping") fail("CONFLICT", "This import has already started");
    if (columns.length !== (row.headers ?? []).length || !columns.every(Import.isColumnRole)) {
      fail("INVALID", "Choose what each column holds");
    }
    if (!columns.includes("phone")) fail("INVALID", "Choose the column that holds phone numbers", "columns");
    await ctx.db.patch("contactImports", importId, { status: "parsing", columns });
    await ctx.scheduler.runAfter(0, internal.contactImports.prepare, { importId, ...(tag ? { tag } : {}) });
    await Audit.record(ctx, {
      tenantId: ctx.tenant._id,
      actor: ctx.user,
      action: "contacts.import_started",
      targetType: "contactImport",
      targetId: importId,
      summary: `${ctx.user.name} started importing contacts from “${row.fileName}”`,
    });
    return null;
  },
});

/** Stops an import before its next chunk; contacts already written stay. */
export const cancel = tenantMutation({
  role: "admin",
  args: { importId: v.id("contactImports") },
  returns: v.null(),
  handler: async (ctx, { importId }) => {
    const row = await Import.importOf(ctx, ctx.tenant._id, importId);
    if (row.status === "done" || row.status === "cancelled" || row.status === "failed") return null;
    await ctx.db.patch("contactImports", importId, { status: "cancelled", finishedAt: Date.now() });
    await ctx.scheduler.runAfter(0, internal.contactImports.cleanup, { importId });
    await Audit.record(ctx, {
      tenantId: ctx.tenant._id,
      actor: ctx.user,
      action: "contacts.import_cancelled",
      targetType: "contactImport",
      targetId: importId,
      summary: `${ctx.user.name} cancelled the import of “${row.fileName}” after ${row.contactsDone} contacts`,
    });
    return null;
  },
});

// ---------------------------------------------------------------- the job

async function fileBytes(ctx: { storage: { get(id: string): Promise<Blob | null> } }, storageId: string) {
  const blob = await ctx.storage.get(storageId);
  if (!blob) throw new Error("The uploaded file is gone");
  return new Uint8Array(await blob.arrayBuffer());
}

export const loadImport = internalQuery({
  args: { importId: v.id("contactImports") },
  returns: v.union(
    v.null(),
    v.object({
      tenantId: v.id("tenants"),
      storageId: v.union(v.id("_storage"), v.null()),
      status: vContactImportStatus,
      columns: v.array(v.string()),
      defaultCountry: v.string(),
    }),
  ),
  handler: async (ctx, { importId }) => {
    const row = await ctx.db.get("contactImports", importId);
    if (!row) return null;
    const tenant = await ctx.db.get("tenants", row.tenantId);
    return {
      tenantId: row.tenantId,
      storageId: row.storageId ?? null,
      status: row.status,
      columns: row.columns ?? [],
      defaultCountry: tenant?.defaultCountry ?? "",
    };
  },
});

/** Reads the header and first rows and proposes a mapping. */
export const analyze = internalAction({
  args: { importId: v.id("contactImports") },
  returns: v.null(),
  handler: async (ctx, { importId }) => {
    const job = await ctx.runQuery(internal.contactImports.loadImport, { importId });
    if (!job || job.status !== "analyzing" || !job.storageId) return null;
    try {
      const table = readContactsTable(await fileBytes(ctx, job.storageId));
      if (table.headers.length === 0) throw new Error(table.fatal?.reason ?? "The file is empty");
      await ctx.runMutation(internal.contactImports.analyzed, {
        importId,
        encoding: table.encoding,
        delimiter: table.delimiter,
        headers: table.headers.map((h, i) => h || `Column ${i + 1}`),
        columns: detectColumns(table.headers),
        sample: table.rows
          .slice(0, Import.SAMPLE_ROWS)
          .map((r) => table.headers.map((_, i) => (r.cells[i] ?? "").slice(0, 200))),
        totalRows: table.rows.length,
      });
    } catch (error) {
      await ctx.runMutation(internal.contactImports.failed, {
        importId,
        failure: String((error as Error).message ?? error),
      });
    }
    return null;
  },
});

export const analyzed = internalMutation({
  args: {
    importId: v.id("contactImports"),
    encoding: v.string(),
    delimiter: v.string(),
    headers: v.array(v.string()),
    columns: v.array(v.string()),
    sample: v.array(v.array(v.string())),
    totalRows: v.number(),
  },
  returns: v.null(),
  handler: async (ctx, { importId, ...analysis }) => {
    const row = await ctx.db.get("contactImports", importId);
    if (!row || row.status !== "analyzing") return null;
    await ctx.db.patch("contactImports", importId, { ...analysis, status: "mapping" });
    return null;
  },
});

export const failed = internalMutation({
  args: { importId: v.id("contactImports"), failure: v.string() },
  returns: v.null(),
  handler: async (ctx, { importId, failure }) => {
    const row = await ctx.db.get("contactImports", importId);
    if (!row || row.status === "cancelled" || row.status === "done") return null;
    await ctx.db.patch("contactImports", importId, {
      status: "failed",
      failure: failure.slice(0, 500),
      finishedAt: Date.now(),
    });
    return null;
  },
});

/** Parses the whole file with the chosen mapping and stores it in chunks, then starts writing. */
export const prepare = internalAction({
  args: { importId: v.id("contactImports"), tag: v.optional(v.string()) },
  returns: v.null(),
  handler: async (ctx, { importId, tag }) => {
    const job = await ctx.runQuery(internal.contactImports.loadImport, { importId });
    if (!job || job.status !== "parsing" || !job.storageId) return null;
    try {
      const table = readContactsTable(await fileBytes(ctx, job.storageId));
      const columns = job.columns.filter(Import.isColumnRole) as ColumnRole[];
      const result = parseContactsTable(table, { defaultCountry: job.defaultCountry, columns });
      const contacts = result.contacts.map((c) =>
        Import.storedContact(tag ? { ...c, tags: uniqueTags([tag, ...(c.tags ?? [])]) } : c),
      );
      const chunks: (typeof contacts)[] = [];
      for (let i = 0; i < contacts.length; i += Import.CHUNK_SIZE)
        chunks.push(contacts.slice(i, i + Import.CHUNK_SIZE));
      const fieldKeys = table.headers.filter((_, i) => columns[i] === "field");
      const kept = result.errors.slice(0, Import.MAX_ERRORS);
      const writes = Math.max(
        Math.ceil(chunks.length / Import.CHUNKS_PER_WRITE),
        Math.ceil(kept.length / Import.ERRORS_PER_WRITE),
        1,
      );
      for (let w = 0; w < writes; w++) {
        const ok = await ctx.runMutation(internal.contactImports.storeChunks, {
          importId,
          first: w === 0,
          fieldKeys: w === 0 ? fieldKeys : [],
          chunks: chunks
            .slice(w * Import.CHUNKS_PER_WRITE, (w + 1) * Import.CHUNKS_PER_WRITE)
            .map((c, k) => ({ index: w * Import.CHUNKS_PER_WRITE + k, contacts: c })),
          errors: kept.slice(w * Import.ERRORS_PER_WRITE, (w + 1) * Import.ERRORS_PER_WRITE),
        });
        if (!ok) return null; // cancelled meanwhile
      }
      await ctx.runMutation(internal.contactImports.startWriting, {
        importId,
        chunksTotal: chunks.length,
        contactsTotal: contacts.length,
        duplicatesInFile: result.duplicatesMerged,
        errorCount: result.errors.length,
        totalRows: table.rows.length,
      });
    } catch (error) {
      await ctx.runMutation(internal.contactImports.failed, {
        importId,
        failure: String((error as Error).message ?? error),
      });
    }
    return null;
  },
});

export const storeChunks = internalMutation({
  args: {
    importId: v.id("contactImports"),
    first: v.boolean(),
    fieldKeys: v.array(v.string()),
    chunks: v.array(v.object({ index: v.number(), contacts: v.array(vImportedContact) })),
    errors: v.array(v.object({ row: v.number(), reason: v.string() })),
  },
  returns: v.boolean(),
  handler: async (ctx, { importId, fieldKeys, chunks, errors }) => {
    const row = await ctx.db.get("contactImports", importId);
    if (!row || row.status !== "parsing") return false;
    if (fieldKeys.length) await Import.defineImportFields(ctx, row.tenantId, fieldKeys);
    for (const chunk of chunks) await ctx.db.insert("contactImportChunks", { importId, ...chunk });
    for (const e of errors)
      await ctx.db.insert("contactImportErrors", { importId, row: e.row, reason: e.reason });
    return true;
  },
});

export const startWriting = internalMutation({
  args: {
    importId: v.id("contactImports"),
    chunksTotal: v.number(),
    contactsTotal: v.number(),
    duplicatesInFile: v.number(),
    errorCount: v.number(),
    totalRows: v.number(),
  },
  returns: v.null(),
  handler: async (ctx, { importId, ...totals }) => {
    const row = await ctx.db.get("contactImports", importId);
    if (!row || row.status !== "parsing") return null;
    const done = totals.chunksTotal === 0;
    await ctx.db.patch("contactImports", importId, {
      ...totals,
      status: done ? "done" : "importing",
      ...(done ? { finishedAt: Date.now() } : {}),
    });
    if (!done) await scheduleChunk(ctx, importId, 0);
    return null;
  },
});

/** Writes one chunk of contacts and schedules the next. */
export const writeChunk = internalMutation({
  args: { importId: v.id("contactImports"), index: v.number() },
  returns: v.null(),
  handler: async (ctx, { importId, index }) => {
    const row = await ctx.db.get("contactImports", importId);
    if (!row || row.status !== "importing") return null;
    const chunk = await ctx.db
      .query("contactImportChunks")
      .withIndex("by_import_index", (q) => q.eq("importId", importId).eq("index", index))
      .unique();
    const outcome = chunk
      ? await Import.writeContacts(ctx, row.tenantId, chunk.contacts, row.createdAt)
      : { created: 0, merged: 0 };
    if (chunk) await ctx.db.delete("contactImportChunks", chunk._id);
    const chunksDone = index + 1;
    const done = chunksDone >= (row.chunksTotal ?? 0);
    await ctx.db.patch("contactImports", importId, {
      chunksDone,
      contactsDone: row.contactsDone + (chunk?.contacts.length ?? 0),
      created: row.created + outcome.created,
      merged: row.merged + outcome.merged,
      ...(done ? { status: "done" as const, finishedAt: Date.now() } : {}),
    });
    if (!done) await scheduleChunk(ctx, importId, chunksDone);
    return null;
  },
});

/** How long a chunk may go unwritten before it is tried again, and how often. */
const RETRY_AFTER_MS = 30_000;
const MAX_ATTEMPTS = 5;

/**
 * Schedules a chunk, and a check that tries it again if it has not been written by then: a
 * mutation that fails (one that ran out of time on a busy server) rolls back, and with it the
 * scheduling of the next chunk, so the check comes from this transaction, which succeeded.
 */
async function scheduleChunk(ctx: MutationCtx, importId: Id<"contactImports">, index: number, attempt = 1) {
  await ctx.scheduler.runAfter(0, internal.contactImports.writeChunk, { importId, index });
  await ctx.scheduler.runAfter(RETRY_AFTER_MS, internal.contactImports.checkChunk, {
    importId,
    index,
    attempt,
  });
}

export const checkChunk = internalMutation({
  args: { importId: v.id("contactImports"), index: v.number(), attempt: v.number() },
  returns: v.null(),
  handler: async (ctx, { importId, index, attempt }) => {
    const row = await ctx.db.get("contactImports", importId);
    if (!row || row.status !== "importing" || row.chunksDone > index) return null;
    if (attempt >= MAX_ATTEMPTS) {
      await ctx.db.patch("contactImports", importId, {
        status: "failed",
        failure: `Contacts ${index * Import.CHUNK_SIZE + 1}–${(index + 1) * Import.CHUNK_SIZE} could not be written after ${MAX_ATTEMPTS} tries; the ones before them were imported. Import the file again to finish: numbers already imported are merged, not repeated.`,
        finishedAt: Date.now(),
      });
      return null;
    }
    await scheduleChunk(ctx, importId, index, attempt + 1);
    return null;
  },
});

/** Deletes a cancelled import's unwritten chunks, a batch at a time. */
export const cleanup = internalMutation({
  args: { importId: v.id("contactImports") },
  returns: v.null(),
  handler: async (ctx, { importId }) => {
    const chunks = await ctx.db
      .query("contactImportChunks")
      .withIndex("by_import_index", (q) => q.eq("importId", importId))
      .take(20);
    for (const chunk of chunks) await ctx.db.delete("contactImportChunks", chunk._id);
    if (chunks.length === 20) await ctx.scheduler.runAfter(0, internal.contactImports.cleanup, { importId });
    return null;
  },
});
