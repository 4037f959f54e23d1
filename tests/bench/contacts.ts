/**
 * A 100,000-row contact import on the local Convex server (the real CLI as its own process,
 * fsync on), with the real import functions (tests/fixtures/contacts-bench/convex re-exports
 * them): upload to file storage, mapping preview, parse, then one scheduled mutation per chunk.
 * Reports wall time per phase, documents written per contact (from the server's per-function
 * metrics), the progress seen while it ran (read by a fresh client each time, as a reloaded page
 * would), and whether the counts come out right.
 */
import path from "node:path";
import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { CHUNK_SIZE } from "../../convex/model/contactImport";
import type { MetricsSnapshot } from "../../local/convex-server/metrics";
import { adminClient, ROOT, removeDir, spawnServer, tempDir, type SpawnedServer } from "../local/harness";
import { readMetrics } from "./conflicts";

const FUNCTIONS = path.join(ROOT, "tests/fixtures/contacts-bench/convex");

type Progress = {
  status: string;
  contactsDone: number;
  contactsTotal?: number;
  created: number;
  merged: number;
  duplicatesInFile: number;
  errorCount: number;
  columns?: string[];
} | null;

const ref = {
  seedTenant: makeFunctionReference<"mutation", { name: string }, { tenantId: string; userId: string }>(
    "bench:seedTenant",
  ),
  uploadUrl: makeFunctionReference<"mutation", Record<string, never>, string>("bench:uploadUrl"),
  createImport: makeFunctionReference<
    "mutation",
    { tenantId: string; userId: string; storageId: string },
    string
  >("bench:createImport"),
  start: makeFunctionReference<"mutation", { importId: string; columns: string[] }, null>("bench:start"),
  progress: makeFunctionReference<"query", { importId: string }, Progress>("bench:progress"),
};

/** `rows` contacts: every 100th number invalid, every 50th a repeat of the row before. */
export function generateCsv(rows: number): { csv: string; valid: number; invalid: number; repeats: number } {
  const lines = ["Nombre;Apellidos;Móvil;Etiquetas;Ciudad;Cliente desde"];
  let invalid = 0;
  let repeats = 0;
  let last = "";
  for (let i = 0; i < rows; i++) {
    if (i % 100 === 99) {
      lines.push(`Roto;${i};12${i};;;`);
      invalid++;
      continue;
    }
    if (i % 50 === 49 && last) {
      lines.push(`;;${last};extra;;`);
      repeats++;
      continue;
    }
    last = `6${String(i).padStart(8, "0")}`;
    lines.push(
      `Cliente ${i};Apellido ${i % 997};${last};${["vip", "nuevo", "madrid"][i % 3]};Ciudad ${i % 50};2024-01-${String((i % 28) + 1).padStart(2, "0")}`,
    );
  }
  return { csv: lines.join("\r\n") + "\r\n", valid: rows - invalid - repeats, invalid, repeats };
}

export type ContactsImportResult = {
  rows: number;
  fileBytes: number;
  chunkSize: number;
  analyzeMs: number;
  importMs: number;
  contactsPerSecond: number;
  documentsWrittenPerContact: number;
  writesByTable: Record<string, number>;
  progressSamples: number[];
  countsRight: boolean;
  final: Progress;
};

function writesBetween(before: MetricsSnapshot, after: MetricsSnapshot): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, m] of Object.entries(after.functions)) {
    if (!name.startsWith("contactImports:")) continue;
    for (const [table, n] of Object.entries(m.committedWritesByTable)) {
      const d = n - (before.functions[name]?.committedWritesByTable[table] ?? 0);
      if (d > 0) out[table] = (out[table] ?? 0) + d;
    }
  }
  return out;
}

async function waitFor(
  server: SpawnedServer,
  importId: string,
  done: (p: Progress) => boolean,
  onSample?: (p: Progress) => void,
  timeoutMs = 30 * 60_000,
): Promise<Progress> {
  const started = Date.now();
  for (;;) {
    // A fresh client each time, as a page reloaded mid-import would be.
    let p: Progress;
    try {
      p = await adminClient(server).query(ref.progress, { importId });
    } catch (error) {
      // A busy server may drop a poll; a dead one ends the run with its last words.
      if (server.process.exitCode !== null)
        throw new Error(`The server exited:\n${server.output().slice(-3000)}`);
      if (Date.now() - started > timeoutMs) throw error;
      await new Promise((r) => setTimeout(r, 1000));
      continue;
    }
    onSample?.(p);
    if (done(p)) return p;
    if (Date.now() - started > timeoutMs) throw new Error(`Import did not finish: ${JSON.stringify(p)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function runContactsImport(rows = 100_000): Promise<ContactsImportResult> {
  const dataDir = tempDir("convex-bench-contacts-");
  const server = await spawnServer([
    "--functions",
    FUNCTIONS,
    "--data",
    path.join(dataDir, "data"),
    "--port",
    "0",
    "--site-port",
    "0",
  ]);
  try {
    const admin: ConvexHttpClient = adminClient(server);
    const { csv, valid, invalid, repeats } = generateCsv(rows);
    const bytes = new TextEncoder().encode(csv);
    const { tenantId, userId } = await admin.mutation(ref.seedTenant, { name: "contacts-bench" });
    const url = await admin.mutation(ref.uploadUrl, {});
    const upload = await fetch(url, { method: "POST", headers: { "content-type": "text/csv" }, body: bytes });
    if (!upload.ok) throw new Error(`Upload answered ${upload.status}: ${await upload.text()}`);
    const { storageId } = (await upload.json()) as { storageId: string };

    const t0 = performance.now();
    const importId = await admin.mutation(ref.createImport, { tenantId, userId, storageId });
    const mapped = await waitFor(server, importId, (p) => p?.status !== "analyzing");
    const analyzeMs = performance.now() - t0;
    if (mapped?.status !== "mapping") throw new Error(`Analysis ended ${JSON.stringify(mapped)}`);

    const before = await readMetrics(server);
    const t1 = performance.now();
    await admin.mutation(ref.start, { importId, columns: mapped.columns ?? [] });
    const samples: number[] = [];
    const final = await waitFor(
      server,
      importId,
      (p) => p?.status === "done" || p?.status === "failed",
      (p) => {
        if (p && p.contactsDone !== samples[samples.length - 1]) samples.push(p.contactsDone);
      },
    );
    const importMs = performance.now() - t1;
    const after = await readMetrics(server);
    const writesByTable = writesBetween(before, after);
    const written = Object.values(writesByTable).reduce((a, b) => a + b, 0);
    return {
      rows,
      fileBytes: bytes.length,
      chunkSize: CHUNK_SIZE,
      analyzeMs: Math.round(analyzeMs),
      importMs: Math.round(importMs),
      contactsPerSecond: Math.round((valid / importMs) * 1000),
      documentsWrittenPerContact: Math.round((written / valid) * 100) / 100,
      writesByTable,
      progressSamples: samples,
      countsRight:
        final?.status === "done" &&
        final.created === valid &&
        final.contactsDone === valid &&
        final.errorCount === invalid &&
        final.duplicatesInFile === repeats,
      final,
    };
  } finally {
    await server.kill("SIGTERM");
    removeDir(dataDir);
  }
}
