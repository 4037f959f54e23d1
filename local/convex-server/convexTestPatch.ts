/**
 * Loads convex-test's engine with a few seams opened: the engine's internal state, a hook for
 * scheduled-function timers, and real storage and site URLs. The edits are exact text
 * replacements on the pinned version; if one does not apply, loading fails loudly instead of
 * running a half-patched engine.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

export const CONVEX_TEST_VERSION = "0.0.60";

type Patch = { name: string; find: RegExp; replace: string };

const PATCHES: Patch[] = [
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
    replace: `_iterateDocs(tableName, callback, candidates) {
        const isInTable = (id) => tableNameFromId(id) === tableName;
        const ids = new Set(candidates ?? (this._tableIds ? (this._tableIds.get(tableName) ?? []) : Object.keys(this._documents).filter(isInTable)));`,
  },
  {
    // An index range that starts with an equality reads only the documents with that value
    // (the engine keeps those sets per index); pending writes are still added and filtered.
    name: "index-equality-candidates",
    find: /validateIndexRangeExpression\(source, fields\);\s*this\._iterateDocs\(tableName, \(doc\) => \{\s*if \(source\.range\.every\(\(filter\) => evaluateRangeFilter\(doc, filter\)\)\) \{\s*results\.push\(doc\);\s*\}\s*\}\);/,
    replace: `validateIndexRangeExpression(source, fields);
                const candidates = this._candidateIds ? this._candidateIds(tableName, indexName, source.range) : undefined;
                this._iterateDocs(tableName, (doc) => {
                    if (source.range.every((filter) => evaluateRangeFilter(doc, filter))) {
                        results.push(doc);
                    }
                }, candidates);`,
  },
  {
    // A literal's validator JSON holds convexToJson(value): `v.literal(3n)` is {$integer: …},
    // so compare against the decoded value (as Convex does) rather than the JSON.
    name: "int64-literal",
    find: /case "literal": \{\s*if \(value !== validator\.value\) \{/,
    replace: `case "literal": {
            if (value !== (typeof validator.value === "object" && validator.value !== null ? jsonToConvex(validator.value) : validator.value)) {`,
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

function applyPatches(source: string, patches: Patch[], file: string): string {
  for (const patch of patches) {
    const matches = source.match(new RegExp(patch.find.source, "g"));
    if (!matches || matches.length !== 1) {
      throw new Error(
        `convex-test ${CONVEX_TEST_VERSION}: patch "${patch.name}" of ${file} matched ${matches?.length ?? 0} times (expected 1)`,
      );
    }
    source = source.replace(patch.find, () => patch.replace);
  }
  return source;
}

const EXPORTS = `
export { engineHooks, executionContextStorage, convexGlobalStorage, runScheduledFunction, tableNameFromId };
// Node's own dynamic import, for loading bundled functions without a test runner's transforms.
export const nativeImport = (url) => import(url);
`;

/** Returns the path of the patched engine module, writing it when missing or outdated. */
export function preparePatchedConvexTest(): string {
  const require = createRequire(import.meta.url);
  const entry = require.resolve("convex-test");
  const pkg = JSON.parse(readFileSync(path.join(path.dirname(entry), "..", "package.json"), "utf8"));
  if (pkg.version !== CONVEX_TEST_VERSION) {
    throw new Error(
      `The local Convex server needs convex-test ${CONVEX_TEST_VERSION} exactly (found ${pkg.version}); ` +
        `it depends on that version's internals.`,
    );
  }
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
