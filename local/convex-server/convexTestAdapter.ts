/**
 * The one place that touches convex-test's internals. Everything the local server needs from
 * convex-test 0.0.60 beyond its public API is here:
 *
 * - text patches of its dist files (PATCHES, METRICS_PATCHES): seams for timers, URLs and
 *   per-table scans, int64 literals, Convex's read-limit wording; each must match exactly once;
 * - its private state, read and written through ConvexTestInstance: the DatabaseFake's
 *   documents, pending writes, id counter, creation clock, schema, storage blobs and `_addWrite`,
 *   the TransactionManager's `begin`/`commit`/`rollback`, lock and last commit timestamp, and the
 *   global `syscall`/`asyncSyscall`/`jsSyscall` entry points;
 * - its AsyncLocalStorages (which function is running, in which instance), made FrameStorages.
 *
 * Loading refuses any other convex-test version, naming the one found. ESLint's
 * `no-explicit-any` is off for this file only: the internals are untyped.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { Value } from "convex/values";
import { FRAME_STORAGE_GLOBAL, type FrameStorage } from "./frames.js";

export const CONVEX_TEST_VERSION = "0.0.60";

/** A text edit: `find` must match exactly `times` times (once unless given). */
export type Patch = { name: string; find: RegExp; replace: string; times?: number };

const PATCHES: Patch[] = [
  {
    // Every function call re-checked each patchable global's property descriptor (in case a
    // test framework replaced it since), 2 % of the server's time under webhook load. Nothing in
    // the server redefines those globals after the first call (the engine's durable fetch is an
    // assignment, which the installed accessor takes), so they are installed once.
    name: "global-proxies-once",
    find: /function installGlobalProxies\(\) \{\n {4}const g = globalThis;/,
    replace: `let globalProxiesInstalled = false;
function installGlobalProxies() {
    if (globalProxiesInstalled) return;
    globalProxiesInstalled = true;
    const g = globalThis;`,
  },
  {
    // Its six AsyncLocalStorages share one (frames.ts): one copy per promise instead of six.
    name: "frame-storages",
    find: /^import \{ AsyncLocalStorage \} from "node:async_hooks";$/m,
    replace: `const AsyncLocalStorage = globalThis[Symbol.for(${JSON.stringify(FRAME_STORAGE_GLOBAL.description)})];`,
  },
  {
    name: "expose-engine-hooks",
    find: /const nestedTxStorage = new AsyncLocalStorage\(\);/,
    replace: `const nestedTxStorage = new AsyncLocalStorage();
const engineHooks = {
    scheduleTimer: (_global, _jobId, _atMs, cb, delayMs) => frameworkSetTimeout(cb, delayMs),
    storageUrl: (_global, _storageId, sha256) => "https://some-deployment.convex.cloud/api/storage/" + sha256,
    uploadUrl: (_global) => "https://some-deployment.convex.cloud/api/storage/upload?token=" + Math.random(),
    siteUrl: (_global) => "https://some.convex.site",
    scheduledFunctionFailed: (_global, name, error) => console.error("Error when running scheduled function " + name, error),
};`,
  },
  {
    name: "scheduled-failure-error",
    find: /console\.error\(`Error when running scheduled function \$\{name\}`, error\);\s*await withAuth\(\)\.runInComponent\(componentPath, async \(\) => \{\s*db\.patch\("_scheduled_functions", jobId, \{\s*state: \{ kind: "failed" \},/,
    replace: `engineHooks.scheduledFunctionFailed(getConvexGlobal(), name, error);
            await withAuth().runInComponent(componentPath, async () => {
                db.patch("_scheduled_functions", jobId, {
                    state: { kind: "failed", error: String(error?.message ?? error) },`,
  },
  {
    name: "storage-content-type",
    find: /return db\.insert\("_storage", \{\s*size: blob\.size,\s*sha256: await blobSha\(blob\),\s*\}\);/,
    replace: `return db.insert("_storage", {
                        size: blob.size,
                        sha256: await blobSha(blob),
                        ...(blob.type ? { contentType: blob.type } : {}),
                    });`,
  },
  {
    name: "schedule-timer-hook",
    find: /frameworkSetTimeout\(\(\) => \{\s*scheduler\.timerFired\(\);/,
    replace: `engineHooks.scheduleTimer(capturedGlobal, jobId, tsInSecs * 1000, () => {
                        scheduler.timerFired();`,
  },
  {
    name: "storage-get-url",
    find: /const url = "https:\/\/some-deployment\.convex\.cloud\/api\/storage\/" \+\s*sha256;/,
    replace: `const url = engineHooks.storageUrl(getConvexGlobal(), storageId, sha256);`,
  },
  {
    name: "storage-upload-url",
    find: /const url = "https:\/\/some-deployment\.convex\.cloud\/api\/storage\/upload\?token=" \+\s*Math\.random\(\);/,
    replace: `const url = engineHooks.uploadUrl(getConvexGlobal());`,
  },
  {
    name: "site-url",
    find: /const url = new URL\(`https:\/\/some\.convex\.site\$\{path\}`\);/,
    replace: "const url = new URL(`${engineHooks.siteUrl(getConvexGlobal())}${path}`);",
  },
  {
    // Scanning a table looked at every document id of every table; the engine keeps a set of
    // ids per table (updated on each commit) so a query reads only its own table.
    name: "per-table-ids",
    find: /_iterateDocs\(tableName, callback\) \{\s*const isInTable = \(id\) => tableNameFromId\(id\) === tableName;\s*const ids = new Set\(Object\.keys\(this\._documents\)\.filter\(isInTable\)\);/,
    replace: `_iterateDocs(tableName, callback) {
        const isInTable = (id) => tableNameFromId(id) === tableName;
        const ids = new Set(this._tableIds ? (this._tableIds.get(tableName) ?? []) : Object.keys(this._documents).filter(isInTable));`,
  },
  {
    // An index range (and a table scan, by creation time) is read in index order from the
    // engine's ordered indexes (orderedIndex.ts) merged with the transaction's own writes, so a
    // query stops at its limit instead of collecting, filtering and sorting every document that
    // shares its equalities: the dispatcher's take of due recipients read thousands per call.
    name: "index-ordered-ranges",
    find: /validateIndexRangeExpression\(source, fields\);\s*this\._iterateDocs\(tableName, \(doc\) => \{\s*if \(source\.range\.every\(\(filter\) => evaluateRangeFilter\(doc, filter\)\)\) \{\s*results\.push\(doc\);\s*\}\s*\}\);/,
    replace: `validateIndexRangeExpression(source, fields);
                const ordered = this._orderedIds?.(tableName, indexName, source.range, order, startAfter);
                if (ordered !== undefined) {
                    streamed = mergeWrites(this, tableName, ordered, source.range, fields, order);
                    break;
                }
                this._iterateDocs(tableName, (doc) => {
                    if (source.range.every((filter) => evaluateRangeFilter(doc, filter))) {
                        results.push(doc);
                    }
                });`,
  },
  {
    name: "table-scan-ordered",
    find: /case "FullTableScan": \{\s*const tableName = source\.tableName;/,
    replace: `case "FullTableScan": {
                const tableName = source.tableName;
                const ordered = this._orderedIds?.(tableName, "by_creation_time", [], source.order ?? "asc", startAfter);
                if (ordered !== undefined) {
                    order = source.order ?? "asc";
                    fieldPathsToSortBy = ["_creationTime", "_id"];
                    streamed = mergeWrites(this, tableName, ordered, [], fieldPathsToSortBy, order);
                    break;
                }`,
  },
  {
    // A query's documents as a stream (`streamed`, already in order) where the engine's
    // ordered index answered, else convex-test's sorted array: _evaluateQuery (startQuery) stops
    // at the limit, paginate at the end of its page.
    name: "ordered-source",
    find: /_resolveQuerySource\(query\) \{/,
    replace: `_resolveQuerySource(query, startAfter = null) {
        let streamed;`,
  },
  {
    name: "ordered-source-unsorted",
    find: /results\.sort\(\(a, b\) => \{\s*const orderMultiplier/,
    replace: `if (streamed === undefined) results.sort((a, b) => {
            const orderMultiplier`,
  },
  {
    name: "ordered-source-result",
    find: /sortedDocs: results,/,
    replace: "sortedDocs: streamed ?? results,",
  },
  {
    // A page starts at its cursor (the engine seeks to it) and reads only as far as it needs.
    name: "paginate-from-cursor",
    find: /paginate\(\{ query, cursor, endCursor, pageSize, maximumRowsRead, maximumBytesRead, \}\) \{\s*const \{ sortedDocs, filterFn, fieldPathsToSortBy, order \} = this\._resolveQuerySource\(query\);/,
    replace: `paginate({ query, cursor, endCursor, pageSize, maximumRowsRead, maximumBytesRead, }) {
        const startAfter = cursor && cursor !== "_end_cursor"
            ? JSON.parse(cursor).map((k) => (k === null ? undefined : jsonToConvex(JSON.parse(k))))
            : null;
        const { sortedDocs, filterFn, fieldPathsToSortBy, order } = this._resolveQuerySource(query, startAfter);`,
  },
  {
    name: "paginate-streamed",
    find: /for \(let i = 0; i < sortedDocs\.length; i\+\+\) \{\s*const doc = sortedDocs\[i\];\s*const isLastDoc = i === sortedDocs\.length - 1;/,
    replace: `const docsIterator = sortedDocs[Symbol.iterator]();
        let upcoming = docsIterator.next();
        for (let i = 0; !upcoming.done; i++) {
            const doc = upcoming.value;
            upcoming = docsIterator.next();
            const isLastDoc = upcoming.done === true;`,
  },
  {
    name: "evaluate-query-to-limit",
    find: /_evaluateQuery\(query\) \{\s*const \{ sortedDocs, filterFn, limit \} = this\._resolveQuerySource\(query\);/,
    replace: `_evaluateQuery(query) {
        const { sortedDocs, filterFn, limit } = this._resolveQuerySource(query);
        if (!Array.isArray(sortedDocs)) {
            const matching = [];
            if (limit === 0) return matching;
            for (const doc of sortedDocs) {
                if (!filterFn(doc)) continue;
                matching.push(doc);
                if (matching.length === limit) break;
            }
            return matching;
        }`,
  },
  {
    name: "ordered-merge",
    find: /^function evaluateFieldPath\(fieldPath, document\) \{$/m,
    replace: `// The ids each layer of pending writes holds, per table (patch "writes-by-table"), so merging a
// transaction's writes into a query looks only at its table's.
const layerTables = new WeakMap();
function writtenIds(layer, tableName) {
    let tables = layerTables.get(layer);
    if (!tables) layerTables.set(layer, (tables = new Map()));
    let ids = tables.get(tableName);
    if (!ids) tables.set(tableName, (ids = new Set()));
    return ids;
}
// The committed documents (ids in index order) with the running transaction's writes in place:
// a document it wrote is read as written, where its new values sort.
function* mergeWrites(db, tableName, committedIds, range, fields, order) {
    const sign = order === "desc" ? -1 : 1;
    const compare = (a, b) => {
        for (const fp of fields) {
            const v = compareValues(evaluateFieldPath(fp, a), evaluateFieldPath(fp, b));
            if (v !== 0) return v * sign;
        }
        return 0;
    };
    const written = new Set();
    const pending = [];
    for (const layer of db._writes) {
        for (const id of layerTables.get(layer)?.get(tableName) ?? []) {
            if (written.has(id)) continue;
            written.add(id);
            const doc = db.get(tableName, id);
            if (doc !== null && range.every((filter) => evaluateRangeFilter(doc, filter))) pending.push(doc);
        }
    }
    pending.sort(compare);
    let next = 0;
    for (const id of committedIds) {
        if (written.has(id)) continue;
        const doc = db._documents[id];
        while (next < pending.length && compare(pending[next], doc) < 0) yield pending[next++];
        yield doc;
    }
    while (next < pending.length) yield pending[next++];
}
function evaluateFieldPath(fieldPath, document) {`,
  },
  {
    name: "writes-by-table",
    find: /this\._writes\[this\._writes\.length - 1\]\[id\] = newValue;/,
    replace: `const layer = this._writes[this._writes.length - 1];
        layer[id] = newValue;
        writtenIds(layer, tableNameFromId(id)).add(id);`,
  },
  {
    // A literal's validator JSON holds convexToJson(value): `v.literal(3n)` is {$integer: …},
    // so compare against the decoded value (as Convex does) rather than the JSON.
    name: "int64-literal",
    find: /case "literal": \{\s*if \(value !== validator\.value\) \{/,
    replace: `case "literal": {
            if (value !== literalValue(validator)) {`,
  },
  {
    // Validating a value threw and caught an Error for every union member it did not match (a
    // webhook event's union of eight object shapes built up to seven per write, stack traces
    // included): 4 % of the server's time at 750 webhooks/s. A check that only answers yes or
    // no runs first; the throwing walk runs only for a value that fails it, for its message.
    // (The literal's decoded value, `literalValue`, is shared with the walk: see int64-literal.)
    name: "validate-without-throwing",
    find: /^function validateValidator\(validator, value\) \{$/m,
    replace: `function literalValue(validator) {
    return typeof validator.value === "object" && validator.value !== null ? jsonToConvex(validator.value) : validator.value;
}
function matchesValidator(validator, value) {
    switch (validator.type) {
        case "null":
            return value === null;
        case "number":
            return typeof value === "number";
        case "bigint":
            return typeof value === "bigint";
        case "commitTs":
            return typeof value === "bigint" || value instanceof CommitTsPlaceholder;
        case "boolean":
            return typeof value === "boolean";
        case "string":
            return typeof value === "string";
        case "bytes":
            return value instanceof ArrayBuffer;
        case "any":
            return true;
        case "literal":
            return value === literalValue(validator);
        case "id":
            return typeof value === "string" && tableNameFromId(value) === validator.tableName;
        case "array": {
            if (!Array.isArray(value)) return false;
            for (const v of value) if (!matchesValidator(validator.value, v)) return false;
            return true;
        }
        case "union": {
            for (const v of validator.value) if (matchesValidator(v, value)) return true;
            return false;
        }
        case "object": {
            if (typeof value !== "object" || value === null || !isSimpleObject(value)) return false;
            const fields = validator.value;
            for (const k in fields) {
                const field = fields[k];
                if (value[k] === undefined) {
                    if (!field.optional) return false;
                }
                else if (!matchesValidator(field.fieldType, value[k])) return false;
            }
            for (const k of Object.keys(value)) if (fields[k] === undefined) return false;
            return true;
        }
        default:
            // Kinds the walk below does not check (records) pass there too.
            return true;
    }
}
function validateValidator(validator, value) {
    if (matchesValidator(validator, value)) return;`,
  },
  {
    // Each read measured the document's size and turned it into JSON text again, and each write
    // measured it twice (the 1 MiB check, the write metric): 6 % of the server's time at 80 sends/s.
    // A stored document is never changed in place (every write stores a new object), so both are
    // kept per object, for as long as the object lives.
    name: "document-size-and-json-per-object",
    find: /function asyncSyscallImpl\(\) \{/,
    replace: `const documentSizes = new WeakMap();
function documentSize(doc) {
    let size = documentSizes.get(doc);
    if (size === undefined) {
        size = getDocumentSize(doc);
        documentSizes.set(doc, size);
    }
    return size;
}
const documentTexts = new WeakMap();
function documentText(doc) {
    if (doc === null) return "null";
    let text = documentTexts.get(doc);
    if (text === undefined) {
        text = JSON.stringify(convexToJson(doc));
        documentTexts.set(doc, text);
    }
    return text;
}
function asyncSyscallImpl() {`,
  },
  {
    name: "read-size-per-object",
    find: /(tracker\??\.trackRead\(|bytesRead \+= )getDocumentSize\((doc|value)\)/,
    replace: "$1documentSize($2)",
    times: 5,
  },
  {
    name: "write-size-per-object",
    find: /tracker\?\.trackWrite\(getConvexSize\(db\.get\(/,
    replace: "tracker?.trackWrite(documentSize(db.get(",
    times: 3,
  },
  {
    name: "get-text-per-object",
    find: /const doc = getAndTrack\(table, id\);\s*return JSON\.stringify\(convexToJson\(doc\)\);/,
    replace: `const doc = getAndTrack(table, id);
                return documentText(doc);`,
  },
  {
    name: "stream-text-per-object",
    find: /return JSON\.stringify\(convexToJson\(\{ value, done \}\)\);/,
    replace: `return done || value === null
                    ? JSON.stringify(convexToJson({ value, done }))
                    : '{"value":' + documentText(value) + ',"done":false}';`,
  },
  {
    // Every call turned the function's argument and return validators into JSON and parsed it
    // back (2 % of the server's time at 80 sends/s); a function object's validators never change.
    name: "validators-per-function",
    find: /const args = JSON\.parse\(func\.exportArgs\(\)\);/,
    replace: `const exported = exportedValidators(func);
    const args = exported.args;`,
  },
  {
    name: "returns-per-function",
    find: /const returns = JSON\.parse\(func\.exportReturns\(\)\);/,
    replace: `const returns = exported.returns;`,
  },
  {
    name: "validators-cache",
    find: /async function resolveFunction\(functionPath, type\) \{/,
    replace: `const exportedValidatorsOf = new WeakMap();
function exportedValidators(func) {
    let exported = exportedValidatorsOf.get(func);
    if (exported === undefined) {
        exported = { args: JSON.parse(func.exportArgs()), returns: JSON.parse(func.exportReturns()) };
        exportedValidatorsOf.set(func, exported);
    }
    return exported;
}
async function resolveFunction(functionPath, type) {`,
  },
  {
    name: "expose-convex-global",
    find: /return \{\s*\.\.\.testAccessor\(new AuthFake\(\), DEFAULT_REQUEST_OPTIONS\),\s*registerComponent,\s*\};/,
    replace: `return {
        ...testAccessor(new AuthFake(), DEFAULT_REQUEST_OPTIONS),
        registerComponent,
        convexGlobal,
        withAuthToken(identity, token) {
            return testAccessor(new AuthFake(identity, token), DEFAULT_REQUEST_OPTIONS);
        },
    };`,
  },
];

/** Convex's own help text for read limits (database/src/reads.rs, OVER_LIMIT_HELP). */
const OVER_LIMIT_HELP =
  "Consider using smaller limits in your queries, paginating your queries, or using indexed queries with a selective index range expressions.";

/** Edits to convex-test's transactionMetrics.js: read-limit errors worded as Convex words them. */
const METRICS_PATCHES: Patch[] = [
  {
    // Convex checks the document count first, then the bytes (`record_read_document`).
    name: "read-limit-messages",
    find: /if \(layer\.metrics\.bytesRead > layer\.limits\.bytesRead\) \{[\s\S]*?Scanned too many documents[\s\S]*?\}\s*\}/,
    replace: `if (layer.metrics.documentsRead > layer.limits.documentsRead) {
                throw new Error(\`Too many documents read in a single function execution (limit: \${layer.limits.documentsRead}). ${OVER_LIMIT_HELP}\`);
            }
            if (layer.metrics.bytesRead > layer.limits.bytesRead) {
                throw new Error(\`Too many bytes read in a single function execution (limit: \${layer.limits.bytesRead} bytes). ${OVER_LIMIT_HELP}\`);
            }
        }`,
  },
  {
    name: "index-range-limit-message",
    find: /throw new Error\(`Too many index ranges read in a single function execution \(limit: \$\{layer\.limits\.databaseQueries\}\)\. ` \+\s*`This is a Convex limit: https:\/\/docs\.convex\.dev\/production\/state\/limits`\);/,
    replace: `throw new Error(\`Too many reads in a single function execution (limit: \${layer.limits.databaseQueries}). ${OVER_LIMIT_HELP}\`);`,
  },
];

export function applyPatches(source: string, patches: Patch[], file: string): string {
  for (const patch of patches) {
    const times = patch.times ?? 1;
    const all = new RegExp(patch.find.source, patch.find.flags.replace("g", "") + "g");
    const matches = source.match(all);
    if (!matches || matches.length !== times) {
      throw new Error(
        `convex-test ${CONVEX_TEST_VERSION}: patch "${patch.name}" of ${file} matched ${matches?.length ?? 0} times (expected ${times})`,
      );
    }
    source =
      times === 1 ? source.replace(patch.find, () => patch.replace) : source.replace(all, patch.replace);
  }
  return source;
}

const EXPORTS = `
export { engineHooks, executionContextStorage, convexGlobalStorage, runScheduledFunction, tableNameFromId, documentSize, documentText, matchesValidator, validateValidator };
// Node's own dynamic import, for loading bundled functions without a test runner's transforms.
export const nativeImport = (url) => import(url);
`;

/** Refuses any convex-test but the pinned version, with a message saying what to do. */
export function assertConvexTestVersion(found: string): void {
  if (found !== CONVEX_TEST_VERSION) {
    throw new Error(
      `The local Convex server needs convex-test ${CONVEX_TEST_VERSION} exactly (found ${found}); ` +
        `it depends on that version's internals (local/convex-server/convexTestAdapter.ts). ` +
        `Install convex-test@${CONVEX_TEST_VERSION}, or update the adapter's patches for ${found}.`,
    );
  }
}

/** Returns the path of the patched engine module, writing it when missing or outdated. */
export function preparePatchedConvexTest(): string {
  const require = createRequire(import.meta.url);
  const entry = require.resolve("convex-test");
  const pkg = JSON.parse(readFileSync(path.join(path.dirname(entry), "..", "package.json"), "utf8"));
  assertConvexTestVersion(String(pkg.version));
  // The patched files live inside node_modules so that "convex/*" resolves to the same copy of
  // the convex package that the app's functions use.
  const dir = path.join(path.dirname(entry), "..", "..", ".cache", "convex-local");
  const write = (name: string, text: string) => {
    const hash = createHash("sha256").update(text).digest("hex").slice(0, 12);
    const file = path.join(dir, `${name}-${hash}.js`);
    if (!existsSync(file)) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(file, text);
    }
    return file;
  };
  const metrics = applyPatches(
    readFileSync(path.join(path.dirname(entry), "transactionMetrics.js"), "utf8"),
    METRICS_PATCHES,
    "transactionMetrics.js",
  );
  const metricsUrl = pathToFileURL(write("convex-test-metrics", metrics)).href;
  let source = applyPatches(readFileSync(entry, "utf8"), PATCHES, "index.js");
  source = source.replace(`from "./transactionMetrics.js"`, `from ${JSON.stringify(metricsUrl)}`);
  source = source.replace(/^\/\/\/ <reference types="vite\/client" \/>\n/, "");
  source += EXPORTS;
  return write("convex-test-engine", source);
}

// ------------------------------------------------------------------ runtime access

/** A stored document as convex-test keeps it. */
export type StoredDoc = Record<string, Value> & { _id: string; _creationTime: number };

export type FunctionPath = { componentPath: string; udfPath: string };

/** What the engine calls functions through (convex-test's test accessor). */
export interface FunctionAccessor {
  queryFromPath(fn: FunctionPath, args: Record<string, Value>): Promise<Value>;
  mutationFromPath(fn: FunctionPath, args: Record<string, Value>): Promise<Value>;
  actionFromPath(fn: FunctionPath, args: Record<string, Value>): Promise<Value>;
  fetch(pathAndQuery: string, init: RequestInit): Promise<Response>;
}

/** Where scheduled timers, URLs and scheduled-function failures go, per instance. */
export type EngineHooks = {
  scheduleTimer: (instance: object, jobId: string, atMs: number, cb: () => void) => void;
  storageUrl: (instance: object, storageId: string) => string;
  uploadUrl: (instance: object) => string;
  siteUrl: (instance: object) => string;
  scheduledFunctionFailed: (instance: object, name: string, error: unknown) => void;
};

type SchemaIndex = { indexDescriptor: string; fields: string[] };

/** The loaded, patched convex-test module. */
export class ConvexTestModule {
  private constructor(private readonly mod: any) {}

  static async load(): Promise<ConvexTestModule> {
    loading ??= import(pathToFileURL(preparePatchedConvexTest()).href).then(
      (mod) => new ConvexTestModule(mod),
    );
    return await loading;
  }

  /** A fresh engine instance (its own database, scheduler and transaction manager). */
  create(schema: unknown, modules: unknown): ConvexTestInstance {
    return new ConvexTestInstance(this, this.mod.convexTest({ schema, modules, transactionLimits: true }));
  }

  setHooks(hooks: EngineHooks): void {
    const target = this.mod.engineHooks;
    target.siteUrl = (g: object) => hooks.siteUrl(g);
    target.storageUrl = (g: object, storageId: string) => hooks.storageUrl(g, storageId);
    target.uploadUrl = (g: object) => hooks.uploadUrl(g);
    target.scheduleTimer = (g: object, jobId: string, atMs: number, cb: () => void) =>
      hooks.scheduleTimer(g, jobId, atMs, cb);
    target.scheduledFunctionFailed = (g: object, name: string, error: unknown) =>
      hooks.scheduledFunctionFailed(g, name, error);
  }

  tableNameFromId(id: string): string | null {
    return this.mod.tableNameFromId(id);
  }

  /** A stored document's size in Convex's measure, computed once per document object. */
  documentSize(doc: StoredDoc): number {
    return this.mod.documentSize(doc);
  }

  /** A stored document's JSON text (`convexToJson`), made once per document object. */
  documentText(doc: StoredDoc): string {
    return this.mod.documentText(doc);
  }

  /** Node's own dynamic import (no test runner transforms in between). */
  nativeImport(url: string): Promise<Record<string, unknown>> {
    return this.mod.nativeImport(url);
  }

  /** The instance whose function is running now, if any. */
  currentInstance(): object | undefined {
    return (this.mod.convexGlobalStorage as FrameStorage<object>).getStore();
  }

  /** Which function is running now (for log lines), if any. */
  currentFunction(): { udfPath: string; udfType: string } | undefined {
    return (
      this.mod.executionContextStorage as FrameStorage<{ udfPath: string; udfType: string }>
    ).getStore();
  }

  /**
   * The app's function running now and how deeply it is nested (1 for a top-level call), or
   * undefined outside functions and in code run through `t.run` ("custom") or inline handlers.
   */
  appFunction(): { udfPath: string; depth: number } | undefined {
    const ctx = (
      this.mod.executionContextStorage as FrameStorage<{ udfPath: string; depth: number }>
    ).getStore();
    if (!ctx || ctx.udfPath === "custom" || ctx.udfPath === "inline") return undefined;
    return ctx;
  }

  /** @internal */
  runInInstance<T>(instance: object, fn: () => T): T {
    return (this.mod.convexGlobalStorage as FrameStorage<object>).run(instance, fn);
  }

  /** @internal */
  runScheduledFunction(args: unknown): Promise<void> {
    return this.mod.runScheduledFunction(args);
  }
}

let loading: Promise<ConvexTestModule> | null = null;

/** One convex-test engine: typed access to the state and seams the local server uses. */
export class ConvexTestInstance {
  /** convex-test's global for this instance: the key hooks use to find their engine. */
  readonly key: object;
  private readonly global: any;
  private readonly db: any;
  private readonly tm: any;

  constructor(
    private readonly module: ConvexTestModule,
    private readonly t: any,
  ) {
    this.global = t.convexGlobal;
    this.key = this.global;
    this.db = this.global.components[""].db;
    this.tm = this.global.transactionManager;
  }

  // ---- committed state

  get lastCommitTs(): bigint {
    return this.tm._lastCommitTs as bigint;
  }

  /** Committed documents by id (live: do not mutate). */
  documents(): Record<string, StoredDoc> {
    return this.db._documents;
  }

  /** The writes of the innermost open transaction: id → new document, or null when deleted. */
  pendingWrites(): Record<string, StoredDoc | null> {
    return this.db._writes[this.db._writes.length - 1] ?? {};
  }

  counters(): { nextDocId: number; lastCreationTime: number } {
    return { nextDocId: this.db._nextDocId, lastCreationTime: this.db._lastCreationTime };
  }

  /** Loads persisted state into an instance that has not run anything yet. */
  restore(
    documents: Iterable<[string, StoredDoc]>,
    nextDocId: number,
    lastCreationTime: number,
    lastCommitTs: bigint,
  ) {
    for (const [id, doc] of documents) this.db._documents[id] = doc;
    this.db._nextDocId = Math.max(this.db._nextDocId, nextDocId);
    this.db._lastCreationTime = Math.max(this.db._lastCreationTime, lastCreationTime);
    this.tm._lastCommitTs = lastCommitTs;
  }

  /** The schema's tables and their indexes (empty without a schema). */
  schemaTables(): Map<string, { indexes: SchemaIndex[] }> {
    return (this.db._schema?.tables ?? new Map()) as Map<string, { indexes: SchemaIndex[] }>;
  }

  /** Swaps in another instance's functions and schema, keeping this one's data. */
  adoptFunctions(fresh: ConvexTestInstance): void {
    const component = this.global.components[""];
    const source = fresh.global.components[""];
    component.modules = source.modules;
    component.db._schema = source.db._schema;
  }

  // ---- seams opened by the patches

  /** Document ids per table, so a table scan reads only its table (patch "per-table-ids"). */
  setTableIds(tableIds: Map<string, Set<string>>): void {
    this.db._tableIds = tableIds;
  }

  /** Committed ids of an index range in index order (patch "index-ordered-ranges"). */
  setOrderedIds(
    orderedIds: (
      table: string,
      indexName: string,
      range: { type: string; fieldPath: string; value: import("convex/values").JSONValue }[],
      order: "asc" | "desc",
      startAfter: import("convex/values").Value[] | null,
    ) => Iterable<string> | undefined,
  ): void {
    this.db._orderedIds = orderedIds;
  }

  // ---- transactions

  /** Runs `fn` holding the transaction lock, as a function call does. */
  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    const tm = this.tm;
    while (tm._waitOnCurrentFunction !== null) await tm._waitOnCurrentFunction;
    let release!: () => void;
    tm._waitOnCurrentFunction = new Promise<void>((r) => (release = r));
    try {
      return await fn();
    } finally {
      tm._waitOnCurrentFunction = null;
      release();
    }
  }

  /** Wraps the TransactionManager: every begin, commit and rollback passes through these. */
  hookTransactions(hooks: {
    begin: (isNested: boolean, next: () => Promise<void>) => Promise<void>;
    commit: (isNested: boolean, next: () => bigint) => bigint;
    rollback: (isNested: boolean, next: () => void) => void;
  }): void {
    const tm = this.tm;
    const begin = tm.begin.bind(tm);
    const commit = tm.commit.bind(tm);
    const rollback = tm.rollback.bind(tm);
    tm.begin = (isNested: boolean, limits: unknown) => hooks.begin(isNested, () => begin(isNested, limits));
    tm.commit = (isNested: boolean) => hooks.commit(isNested, () => commit(isNested));
    tm.rollback = (isNested: boolean) => hooks.rollback(isNested, () => rollback(isNested));
  }

  /** Called with every document write before it is recorded; throwing refuses the write. */
  checkWrites(check: (id: string, value: StoredDoc | null) => void): void {
    const addWrite = this.db._addWrite.bind(this.db);
    this.db._addWrite = (id: string, value: StoredDoc | null) => {
      check(id, value);
      addWrite(id, value);
    };
  }

  // ---- syscalls

  /** Wraps the syscall entry points functions use (`1.0/get`, `1.0/queryStreamNext`, …). */
  hookSyscalls(hooks: {
    sync: (op: string, args: string, next: (args: string) => string) => string;
    async: (op: string, args: string, next: (args: string) => Promise<string>) => Promise<string>;
  }): void {
    const g = this.global;
    const syscall = g.syscall as (op: string, args: string) => string;
    const asyncSyscall = g.asyncSyscall as (op: string, args: string) => Promise<string>;
    g.syscall = (op: string, args: string) => hooks.sync(op, args, (a) => syscall(op, a));
    g.asyncSyscall = (op: string, args: string) => hooks.async(op, args, (a) => asyncSyscall(op, a));
  }

  /** Files: `stored` runs once a blob has an id; `load` answers blobs missing from memory. */
  hookFiles(hooks: {
    stored: (storageId: string, bytes: Uint8Array, contentType: string | null) => void;
    load: (storageId: string) => Blob | null;
  }): void {
    const g = this.global;
    const db = this.db;
    const jsSyscall = g.jsSyscall as (op: string, args: { blob?: Blob }) => Promise<unknown>;
    g.jsSyscall = async (op: string, args: { blob?: Blob }) => {
      if (op !== "storage/storeBlob" || !args.blob) return await jsSyscall(op, args);
      const bytes = new Uint8Array(await args.blob.arrayBuffer());
      const storageId = (await jsSyscall(op, args)) as string;
      hooks.stored(storageId, bytes, args.blob.type || null);
      return storageId;
    };
    const getFile = db.getFile.bind(db);
    db.getFile = (storageId: string) => {
      const inMemory = getFile(storageId);
      if (inMemory) return inMemory;
      if (db.get("_storage", storageId) === null) return null;
      const blob = hooks.load(storageId);
      if (blob) db._storage[storageId] = blob;
      return blob;
    };
  }

  /** A stored file's bytes (loading them through hookFiles when needed). */
  getFile(storageId: string): Blob | null {
    return (this.db.getFile(storageId) as Blob | null | undefined) ?? null;
  }

  // ---- running functions

  /** The accessor for a caller: anonymous, or with an identity (and the token it came in). */
  accessor(identity?: Record<string, unknown>, token?: string | null): FunctionAccessor {
    return identity ? this.t.withAuthToken(identity, token ?? null) : this.t;
  }

  /** Runs any function by path without a caller (crons, internal calls). */
  runFunction(fn: FunctionPath, args: Record<string, Value>): Promise<Value> {
    return this.t.fun(fn, args);
  }

  /** Runs code in a mutation transaction with a mutation ctx. */
  runMutation<T>(fn: (ctx: any) => Promise<T>): Promise<T> {
    return this.t.run(fn);
  }

  /** Runs code in an action with an action ctx. */
  runAction<T>(fn: (ctx: any) => Promise<T>): Promise<T> {
    return this.t.action(fn);
  }

  /** Runs a scheduled job that was persisted before a restart or reload. */
  runScheduledJob(job: StoredDoc): Promise<void> {
    return this.module.runInInstance(this.key, () =>
      this.module.runScheduledFunction({
        db: this.db,
        jobId: job._id,
        componentPath: "",
        functionPath: { componentPath: "", udfPath: job.name as string },
        args: (job.args as Value[])[0],
        name: job.name as string,
      }),
    );
  }
}
