/**
 * The engine of the local Convex server: loads a functions folder, runs its functions on
 * convex-test's engine, persists every commit, tracks what each query read, and tells
 * listeners what each commit wrote. Protocol faces (sync, HTTP API, site) sit on top of it.
 */
import { FrameStorage } from "./frames.js";
import { createHash, randomUUID } from "node:crypto";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { format as formatArgs, inspect } from "node:util";
import { convexToJson, jsonToConvex, type JSONValue, type Value } from "convex/values";
import { bundleFunctions, pruneBuilds, FunctionsLoadError, type FunctionsBuild } from "./bundler.js";
import { ConflictTracker, isStreamEnd, type Origin } from "./conflicts.js";
import {
  ConvexTestModule,
  type ConvexTestInstance,
  type FunctionAccessor,
  type StoredDoc,
} from "./convexTestAdapter.js";
import { validateDocument, type ValidatorJson } from "./documentValidation.js";
import { Persistence, type Doc, type PersistedState } from "./persistence.js";
import { OrderedIndexes } from "./orderedIndex.js";
import { ReadSet, type QueryJson } from "./readSet.js";
import { Metrics } from "./metrics.js";
import { Scheduler } from "./scheduling.js";
import { realConsole } from "./runtime.js";

export type UdfKind = "query" | "mutation" | "action";
export type Identity = Record<string, unknown> & { tokenIdentifier: string; subject: string; issuer: string };

/** Who is calling: nobody, a verified user, or the deployment's admin (optionally acting as a user). */
export type Caller =
  | { kind: "anonymous" }
  | { kind: "user"; identity: Identity; token: string }
  | { kind: "admin"; identity?: Identity };

export type CallOptions = {
  caller: Caller;
  /** For subscription queries: collect what the query reads. */
  readSet?: ReadSet;
  /** Pagination end cursors pinned by a previous run of the same query. */
  journal?: string | null;
  /** Restrict to one kind ("any" accepts whichever the function is). */
  expect: UdfKind | "any";
  /** Called inside the transaction, while the lock is still held, when a query finishes. */
  onQueryEnd?: (snapshotTs: bigint) => void;
};

export type CallResult = {
  value: Value;
  logLines: string[];
  /** Commit timestamp of a mutation. */
  ts: bigint | null;
  journal: string | null;
  kind: UdfKind;
};

/** An error a client sees: a message, and for ConvexError the data. */
export class FunctionError extends Error {
  constructor(
    message: string,
    readonly data: JSONValue | undefined,
    readonly logLines: string[],
  ) {
    super(message);
  }
}

/** An HTTP request to the site, as the server read it. */
export type HttpRequestParts = {
  method: string;
  url: URL;
  headers: Headers;
  body?: Uint8Array<ArrayBuffer>;
};

export type WriteRecord = { id: string; table: string; before: Doc | null; after: Doc | null };
export type CommitEvent = { ts: bigint; seq: number; writes: WriteRecord[] };

export type EngineOptions = {
  functionsDir: string;
  dataDir: string;
  /** Values visible to functions through process.env. */
  env?: Record<string, string>;
  cloudUrl: string;
  siteUrl: string;
  /** Convex's 1 s limit on query and mutation execution. */
  functionTimeoutMs?: number;
  /** Print function log lines to this sink (default: stdout). */
  log?: (line: string) => void;
  fsync?: boolean;
};

/** Per top-level call bookkeeping, visible to syscalls, commits and console output. */
type CallRecord = {
  udfPath: string;
  kind: UdfKind;
  logLines: string[];
  readSet?: ReadSet;
  journalIn: { endCursor?: string | null };
  journalOut: { endCursor?: string | null };
  commitTs: bigint | null;
  docsRead: number;
  docsWritten: number;
  /** Set when a read limit stopped the function: that error, not the time limit, is reported. */
  hitReadLimit?: boolean;
  onQueryEnd?: (snapshotTs: bigint) => void;
  /** What this call's transactions have seen, for the would-be conflict check. */
  origin: Origin;
};

const callStorage = new FrameStorage<CallRecord>();
/** The origin of a scheduled job's transactions: it has seen the commit that scheduled it. */
const jobOriginStorage = new FrameStorage<Origin>();
/** What the engine reads of a `schema.ts` default export (defineSchema's result). */
type SchemaDefinition = {
  schemaValidation?: boolean;
  tables: Record<string, { export(): { documentType: ValidatorJson } }>;
};

/** The slice of a mutation ctx the engine itself uses on system tables. */
type SystemMutationCtx = {
  db: {
    system: { get(id: string): Promise<Doc | null> };
    patch(id: string, value: Record<string, Value>): Promise<void>;
  };
};
/** Convex's read-limit errors (documents, bytes, index ranges read in one function). */
const READ_LIMIT_ERROR = /^Too many (documents read|bytes read|reads) in a single function execution/;
/** The engine whose code is running (module loading, calls, scheduled jobs). */
const engineStorage = new FrameStorage<Engine>();

/** Several engines may share a process (tests do); hooks find theirs by convex-test instance. */
const engines = new WeakMap<object, Engine>();

function currentEngine(): Engine | undefined {
  const direct = engineStorage.getStore();
  if (direct) return direct;
  const instance = loadedModule?.currentInstance();
  return instance ? engines.get(instance) : undefined;
}

let loadedModule: ConvexTestModule | null = null;
let scopedEnvInstalled = false;

/**
 * Each deployment has its own environment variables (as `npx convex env` sets them), even when
 * several engines share one Node process: process.env answers from the running engine first.
 */
function installScopedEnv(): void {
  if (scopedEnvInstalled) return;
  scopedEnvInstalled = true;
  const real = process.env;
  const own = (key: string | symbol) => {
    if (typeof key !== "string") return undefined;
    const vars = currentEngine()?.envVars;
    return vars && Object.prototype.hasOwnProperty.call(vars, key) ? vars : undefined;
  };
  process.env = new Proxy(real, {
    get: (target, key) => own(key)?.[key as string] ?? Reflect.get(target, key),
    has: (target, key) => own(key) !== undefined || Reflect.has(target, key),
    ownKeys: (target) => [
      ...new Set([...Reflect.ownKeys(target), ...Object.keys(currentEngine()?.envVars ?? {})]),
    ],
    getOwnPropertyDescriptor: (target, key) => {
      const vars = own(key);
      if (vars) return { value: vars[key as string], writable: true, enumerable: true, configurable: true };
      return Reflect.getOwnPropertyDescriptor(target, key);
    },
  });
}

let durableFetchInstalled = false;

/**
 * An outbound request made by a function (an action calling a provider) waits until everything
 * committed so far is on disk, as on Convex, where `runMutation` returns a durable commit. Without
 * it, an action could claim a message (a mutation), call the provider, and be killed before the
 * claim's fsync: the restarted server would find the message unclaimed and send it again.
 */
function installDurableFetch(): void {
  if (durableFetchInstalled) return;
  durableFetchInstalled = true;
  const real = globalThis.fetch;
  globalThis.fetch = async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const engine = loadedModule?.currentInstance() ? currentEngine() : undefined;
    if (engine) await engine.persistence.sync();
    return await real(input, init);
  };
}

let moduleReady: Promise<ConvexTestModule> | null = null;
function loadConvexTest(): Promise<ConvexTestModule> {
  moduleReady ??= ConvexTestModule.load().then((mod) => {
    const engineOf = (instance: object) => {
      const engine = engines.get(instance);
      if (!engine) throw new Error("convex-local: no engine for this function call");
      return engine;
    };
    mod.setHooks({
      siteUrl: (instance) => engineOf(instance).options.siteUrl,
      storageUrl: (instance, storageId) => `${engineOf(instance).options.cloudUrl}/api/storage/${storageId}`,
      uploadUrl: (instance) =>
        `${engineOf(instance).options.cloudUrl}/api/storage/upload?token=${randomUUID()}`,
      scheduleTimer: (instance, jobId, atMs, cb) => {
        const engine = engineOf(instance);
        engine.scheduler.armJob(jobId, atMs, () => engine.runAsJob(jobId, cb));
      },
      scheduledFunctionFailed: (instance, name, error) =>
        engineOf(instance).logLine(
          `${new Date().toISOString()} [CONVEX S(${name})] [ERROR] scheduled function failed: ${(error as Error)?.stack ?? String(error)}`,
        ),
    });
    installConsoleCapture(mod, (instance) => engines.get(instance));
    loadedModule = mod;
    return mod;
  });
  return moduleReady;
}

export class Engine {
  readonly persistence: Persistence;
  readonly metrics = new Metrics();
  /** Mutations that would have conflicted on Convex (counted into `metrics`). */
  readonly conflicts: ConflictTracker;
  readonly scheduler: Scheduler;
  private convexTest!: ConvexTestModule;
  private instance!: ConvexTestInstance;
  private build!: FunctionsBuild;
  private commitListeners = new Set<(event: CommitEvent) => void>();
  private accessors = new Map<string, FunctionAccessor>();
  private commitSeq = 0;
  /** Pending scheduled jobs → the commit that scheduled them (what their run has seen). */
  private jobSeqs = new Map<string, number>();
  private txStart = 0;
  private closed = false;
  authConfig: { providers: unknown[] } = { providers: [] };
  crons: Record<string, { name: string; schedule: unknown; args: JSONValue[] }> = {};

  constructor(readonly options: EngineOptions) {
    this.persistence = new Persistence(options.dataDir, { fsync: options.fsync });
    this.scheduler = new Scheduler(this);
    this.conflicts = new ConflictTracker(
      {
        publishedSeq: () => this.persistence.durableCommits,
        indexKey: (table, indexName) => this.indexKey(table, indexName),
        tableOf: (id) => this.tableNameFromId(id),
      },
      this.metrics,
    );
  }

  get lastCommitTs(): bigint {
    return this.instance.lastCommitTs;
  }

  /** Committed documents by id (live view: do not mutate). */
  private get documents(): Record<string, Doc> {
    return this.instance.documents();
  }

  private tableNameFromId(id: string): string | null {
    return this.convexTest.tableNameFromId(id);
  }

  /** Loads functions and data. Throws FunctionsLoadError naming the file, table or document at fault. */
  async start(): Promise<void> {
    this.convexTest = await loadConvexTest();
    this.persistence.documentText = (doc) => this.convexTest.documentText(doc as StoredDoc);
    this.applyEnv();
    const build = await this.bundle();
    const { schema, authConfig, crons } = await engineStorage.run(this, () => this.loadDefinitions(build));
    const state = this.persistence.load();
    this.validateDocuments(schema, state.documents);
    this.instance = this.convexTest.create(schema, build.modules);
    engines.set(this.instance.key, this);
    this.build = build;
    this.authConfig = authConfig;
    this.crons = crons;
    this.restore(state);
    this.defineOrderedIndexes();
    this.installHooks();
    pruneBuilds(path.dirname(build.outDir), build.outDir, 1);
    await this.scheduler.start();
  }

  /** Swaps in new function code and schema, keeping every document and pending job. */
  async reload(): Promise<void> {
    const build = await this.bundle();
    const { schema, authConfig, crons } = await engineStorage.run(this, () => this.loadDefinitions(build));
    const documents = new Map<string, Doc>(Object.entries(this.documents));
    this.validateDocuments(schema, documents);
    await this.instance.withLock(async () => {
      this.instance.adoptFunctions(this.convexTest.create(schema, build.modules));
      this.defineOrderedIndexes();
    });
    const previous = this.build;
    this.build = build;
    this.authConfig = authConfig;
    this.crons = crons;
    this.accessors.clear();
    pruneBuilds(path.dirname(previous.outDir), build.outDir);
    this.scheduler.rearmCrons();
  }

  onCommit(listener: (event: CommitEvent) => void): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  /** Runs a function on behalf of a caller; errors come back as FunctionError. */
  async call(udfPath: string, args: Record<string, Value>, options: CallOptions): Promise<CallResult> {
    const canonical = canonicalizeUdfPath(udfPath);
    const record = newRecord(canonical, "query", {
      readSet: options.readSet,
      journalIn: parseJournal(options.journal ?? null),
      onQueryEnd: options.onQueryEnd,
    });
    try {
      const value: Value = await this.measured(record, async () => {
        const kind = await this.resolvePublic(canonical, options);
        record.kind = kind;
        const accessor = this.accessorFor(options.caller);
        const fnPath = { componentPath: "", udfPath: canonical };
        if (kind === "query") return await accessor.queryFromPath(fnPath, args);
        if (kind === "mutation") return await accessor.mutationFromPath(fnPath, args);
        return await accessor.actionFromPath(fnPath, args);
      });
      return {
        value: value === undefined ? null : value,
        logLines: record.logLines,
        ts: record.commitTs,
        journal: serializeJournal(record.journalOut),
        kind: record.kind,
      };
    } catch (error) {
      throw toFunctionError(error, record.logLines);
    }
  }

  /** Runs an internal function with no caller, as crons and the scheduler do. */
  async runInternal(udfPath: string, args: Record<string, Value>): Promise<Value> {
    const canonical = canonicalizeUdfPath(udfPath);
    const record = newRecord(canonical, (await this.functionKind(canonical)) ?? "mutation");
    return await this.measured(record, () =>
      this.instance.runFunction({ componentPath: "", udfPath: canonical }, args),
    );
  }

  /**
   * Calls an HTTP action route from http.ts with the request exactly as received (its parts: the
   * handler's `Request` is built once, from these, not copied from another).
   */
  async fetchHttpAction(request: HttpRequestParts, caller: Caller): Promise<Response> {
    if (!this.build.has("http")) {
      return new Response("No HTTP actions are defined (convex/http.ts is missing)", { status: 404 });
    }
    const accessor = this.accessorFor(caller);
    const { url } = request;
    const init: RequestInit = { method: request.method, headers: request.headers };
    if (request.method !== "GET" && request.method !== "HEAD" && request.body?.length) {
      init.body = request.body;
    }
    const record = newRecord(`http:${request.method} ${url.pathname}`, "action");
    try {
      return await this.measured(
        record,
        (): Promise<Response> => accessor.fetch(`${url.pathname}${url.search}`, init),
        (response) => response.status < 500,
      );
    } catch (error) {
      this.logLine(`[ERROR] [H ${record.udfPath}] ${(error as Error)?.stack ?? String(error)}`);
      return new Response(
        JSON.stringify({ code: "InternalServerError", message: String((error as Error)?.message ?? error) }),
        { status: 500, headers: { "content-type": "application/json" } },
      );
    }
  }

  /** Runs `run` as the top-level call described by `record`, and counts it in the metrics. */
  private async measured<T>(
    record: CallRecord,
    run: () => Promise<T>,
    ok: (value: T) => boolean = () => true,
  ) {
    const started = performance.now();
    const done = (success: boolean) =>
      this.metrics.record(
        record.udfPath,
        record.kind,
        performance.now() - started,
        success,
        record.docsRead,
        record.docsWritten,
      );
    try {
      const value = await engineStorage.run(this, () => callStorage.run(record, run));
      // Acknowledge only what is on disk (group commit: one fsync for all commits so far).
      await this.persistence.sync();
      done(ok(value));
      return value;
    } catch (error) {
      await this.persistence.sync();
      done(false);
      throw error;
    }
  }

  /** Stores uploaded bytes as a file and returns its storage id. */
  async storeFile(bytes: Uint8Array<ArrayBuffer>, contentType: string | null): Promise<string> {
    const blob = new Blob([bytes], contentType ? { type: contentType } : {});
    const storageId = await this.instance.runAction(
      async (ctx: { storage: { store(blob: Blob): Promise<string> } }) => await ctx.storage.store(blob),
    );
    await this.persistence.sync();
    return storageId;
  }

  /** Returns a stored file, or null when there is none with that id. */
  async getFile(storageId: string): Promise<{ blob: Blob; contentType: string | null } | null> {
    if (this.tableNameFromId(storageId) !== "_storage") return null;
    const doc = this.documents[storageId];
    if (!doc) return null;
    const blob = this.instance.getFile(storageId);
    if (!blob) return null;
    return { blob, contentType: (doc.contentType as string | undefined) ?? (blob.type || null) };
  }

  tableOf(id: string): string | null {
    return this.tableNameFromId(id);
  }

  /** All committed documents of a table, for the read-only table browser. */
  listTables(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const name of this.schemaTableNames()) counts[name] = 0;
    for (const id of Object.keys(this.documents)) {
      const table = this.tableNameFromId(id) ?? "?";
      counts[table] = (counts[table] ?? 0) + 1;
    }
    return counts;
  }

  tableDocuments(table: string, limit: number): JSONValue[] {
    const docs: Doc[] = [];
    for (const [id, doc] of Object.entries(this.documents)) {
      if (this.tableNameFromId(id) === table) docs.push(doc);
    }
    docs.sort((a, b) => b._creationTime - a._creationTime);
    return docs.slice(0, limit).map((d) => convexToJson(d));
  }

  /** Runs a function that was scheduled before the server restarted (or reloaded). */
  runScheduledJob(job: Doc): Promise<void> {
    return this.runAsJob(job._id, () => this.instance.runScheduledJob(job));
  }

  /** Runs a scheduled job's code as its own origin, which has seen the commit that scheduled it. */
  runAsJob<T>(jobId: string, run: () => T): T {
    const origin: Origin = { knownSeq: this.jobSeqs.get(jobId) ?? 0 };
    this.jobSeqs.delete(jobId);
    return jobOriginStorage.run(origin, run);
  }

  scheduledJobs(): Doc[] {
    return Object.values(this.documents).filter(
      (d) => this.tableNameFromId(d._id) === "_scheduled_functions",
    );
  }

  /** Marks a pending job as failed without running it (its function no longer exists). */
  async failScheduledJob(jobId: string, reason: string): Promise<void> {
    this.logLine(`[ERROR] scheduled function ${jobId} failed: ${reason}`);
    await this.instance.runMutation(async (ctx: SystemMutationCtx) => {
      const job = await ctx.db.system.get(jobId);
      if (job && (job.state as { kind: string }).kind === "pending") {
        await ctx.db.patch(jobId, { state: { kind: "failed", error: reason }, completedTime: Date.now() });
      }
    });
  }

  /** The kind of an exported function, or null when there is none. */
  async functionKind(udfPath: string): Promise<UdfKind | null> {
    const [modulePath, exportName] = canonicalizeUdfPath(udfPath).split(":");
    if (!this.build.has(modulePath)) return null;
    const fn = (await this.build.load(modulePath))[exportName] as
      { isQuery?: boolean; isMutation?: boolean; isAction?: boolean } | undefined;
    return fn?.isQuery ? "query" : fn?.isMutation ? "mutation" : fn?.isAction ? "action" : null;
  }

  /** Puts a job interrupted mid-run back to pending, so it runs again. */
  async resetScheduledJob(jobId: string): Promise<void> {
    await this.instance.runMutation(async (ctx: SystemMutationCtx) => {
      await ctx.db.patch(jobId, { state: { kind: "pending" } });
    });
  }

  hasFunction(udfPath: string): boolean {
    return this.build.has(canonicalizeUdfPath(udfPath).split(":")[0]);
  }

  logLine(line: string): void {
    (this.options.log ?? ((l: string) => realConsole.log(l)))(line);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.scheduler.stop();
    await this.instance.withLock(async () => {
      this.persistence.compact(this.currentState());
    });
    // A background compaction it superseded removes its unfinished file.
    await this.persistence.compaction().catch(() => {});
    this.persistence.close();
  }

  /** Writes a snapshot now (also done automatically as the journal grows). */
  compact(): void {
    this.persistence.compact(this.currentState());
  }

  // ---------------------------------------------------------------- internals

  /** The variables this deployment's functions see in process.env, on top of the process's own. */
  readonly envVars: Record<string, string> = {};

  private applyEnv(): void {
    Object.assign(this.envVars, this.options.env ?? {}, {
      CONVEX_CLOUD_URL: this.options.cloudUrl,
      CONVEX_SITE_URL: this.options.siteUrl,
    });
    installScopedEnv();
    installDurableFetch();
  }

  private async bundle(): Promise<FunctionsBuild> {
    return await bundleFunctions(
      path.resolve(this.options.functionsDir),
      path.join(path.resolve(this.options.dataDir), "_build"),
      (url) => this.convexTest.nativeImport(url),
    );
  }

  private async loadDefinitions(build: FunctionsBuild) {
    const load = async (name: string) => {
      if (!build.has(name)) return undefined;
      try {
        return (await build.load(name)).default;
      } catch (error) {
        throw new FunctionsLoadError(
          `Could not load ${path.join(this.options.functionsDir, name)}.ts: ${(error as Error)?.stack ?? error}`,
        );
      }
    };
    // Import every module once now, so a module that throws at load time fails the start.
    for (const modulePath of build.modulePaths) {
      try {
        await build.load(modulePath);
      } catch (error) {
        throw new FunctionsLoadError(
          `Could not load module ${modulePath} from ${this.options.functionsDir}: ${(error as Error)?.stack ?? error}`,
        );
      }
    }
    const schema = (await load("schema")) as SchemaDefinition | undefined;
    const authConfig = ((await load("auth.config")) ?? { providers: [] }) as Engine["authConfig"];
    const cronDefs = (await load("crons")) as { crons?: Engine["crons"] } | undefined;
    const crons = cronDefs?.crons ?? {};
    return { schema, authConfig, crons };
  }

  /** Checks stored documents against the schema, as Convex does before accepting a push. */
  private validateDocuments(schema: SchemaDefinition | undefined, documents: Map<string, Doc>): void {
    if (!schema || !schema.schemaValidation) return;
    const tables = new Map(
      Object.entries(schema.tables).map(([name, table]) => [name, table.export()] as const),
    );
    for (const doc of documents.values()) {
      const table = this.tableNameFromId(doc._id)!;
      if (table.startsWith("_")) continue;
      const tableSchema = tables.get(table);
      if (!tableSchema) continue;
      const problem = validateDocument(tableSchema.documentType, doc, (id) => this.tableNameFromId(id));
      if (problem) {
        throw new FunctionsLoadError(
          `Schema validation failed: document with ID "${doc._id}" in table "${table}" does not match the schema: ${problem}`,
        );
      }
    }
  }

  /** The committed documents in index order, per schema index (see orderedIndex.ts). */
  private orderedIndexes = new OrderedIndexes((table) => this.committedOf(table));

  private *committedOf(table: string): Iterable<Doc> {
    const documents = this.documents;
    for (const id of this.tableIds.get(table) ?? []) yield documents[id];
  }

  private defineOrderedIndexes(): void {
    const tables = this.instance.schemaTables();
    this.orderedIndexes.define([...tables].map(([table, def]) => [table, def.indexes]));
    this.instance.setOrderedIds((table, indexName, range, order, startAfter) =>
      this.orderedIndexes.range(
        table,
        indexName,
        range.map((r) => ({ ...r, value: decodeJsonBound(r.value) })),
        order,
        startAfter ?? undefined,
      ),
    );
  }

  /** Ids per table, shared with convex-test's scans (see convexTestAdapter), kept in step with commits. */
  private tableIds = new Map<string, Set<string>>();

  private indexTableId(table: string, id: string, present: boolean): void {
    const tables = this.tableIds;
    let ids = tables.get(table);
    if (!ids) {
      ids = new Set();
      tables.set(table, ids);
    }
    if (present) ids.add(id);
    else ids.delete(id);
  }

  private restore(state: PersistedState): void {
    this.tableIds = new Map<string, Set<string>>();
    this.instance.setTableIds(this.tableIds);
    this.instance.restore(state.documents, state.nextDocId, state.lastCreationTime, state.lastCommitTs);
    for (const id of state.documents.keys()) this.indexTableId(this.tableNameFromId(id) ?? "", id, true);
  }

  private currentState(): PersistedState {
    const counters = this.instance.counters();
    return {
      documents: new Map(Object.entries(this.documents)),
      nextDocId: counters.nextDocId,
      lastCreationTime: counters.lastCreationTime,
      lastCommitTs: this.lastCommitTs,
    };
  }

  private accessorFor(caller: Caller): FunctionAccessor {
    if (caller.kind === "anonymous") return this.instance.accessor();
    const identity = caller.identity;
    if (!identity) return this.instance.accessor();
    const token = caller.kind === "user" ? caller.token : `admin:${JSON.stringify(identity)}`;
    let accessor = this.accessors.get(token);
    if (!accessor) {
      accessor = this.instance.accessor(identity, caller.kind === "user" ? caller.token : null);
      if (this.accessors.size > 1000) this.accessors.clear();
      this.accessors.set(token, accessor);
    }
    return accessor;
  }

  private async resolvePublic(udfPath: string, options: CallOptions): Promise<UdfKind> {
    const [modulePath, exportName] = udfPath.split(":");
    const notFound = () =>
      new FunctionError(
        `Could not find public function for '${udfPath}'. Did you forget to run \`npx convex dev\` or \`npx convex deploy\`?`,
        undefined,
        [],
      );
    if (!this.build.has(modulePath)) throw notFound();
    const mod = await this.build.load(modulePath);
    const fn = mod[exportName] as
      | {
          isQuery?: boolean;
          isMutation?: boolean;
          isAction?: boolean;
          isPublic?: boolean;
          isInternal?: boolean;
        }
      | undefined;
    if (!fn || !(fn.isQuery || fn.isMutation || fn.isAction)) throw notFound();
    const isAdmin = options.caller.kind === "admin";
    if (!fn.isPublic && !isAdmin) throw notFound();
    const kind: UdfKind = fn.isQuery ? "query" : fn.isMutation ? "mutation" : "action";
    if (options.expect !== "any" && options.expect !== kind) {
      throw new FunctionError(
        `Trying to execute ${udfPath} as ${capitalize(options.expect)}, but it is defined as ${capitalize(kind)}.`,
        undefined,
        [],
      );
    }
    return kind;
  }

  private installHooks(): void {
    const instance = this.instance;
    const timeoutMs = this.options.functionTimeoutMs ?? 1000;
    const timedOut = () => new Error(`Function execution timed out (maximum duration: ${timeoutMs / 1000}s)`);

    instance.hookTransactions({
      begin: async (isNested, next) => {
        if (isNested) return await next();
        // Arrival: the snapshot this transaction would have read on Convex is taken now,
        // before it waits for the lock.
        const tx = this.conflicts.arrive(
          callStorage.getStore()?.origin ?? jobOriginStorage.getStore() ?? { knownSeq: 0 },
        );
        await next();
        this.txStart = performance.now();
        this.conflicts.start(tx);
      },
      commit: (isNested, next) => {
        if (isNested) return next();
        if (timeoutMs > 0 && performance.now() - this.txStart > timeoutMs) throw timedOut();
        const documents = this.documents;
        const before = new Map<string, Doc | null>();
        for (const id of Object.keys(instance.pendingWrites())) before.set(id, documents[id] ?? null);
        const ts = next();
        const record = callStorage.getStore();
        if (record) record.commitTs = ts;
        if (before.size === 0) {
          this.finishTracked(null);
          return ts;
        }
        const seq = this.commitSeq + 1;
        const writes: WriteRecord[] = [];
        const persisted: [string, Doc | null][] = [];
        for (const [id, prev] of before) {
          const after: Doc | null = documents[id] ?? null;
          const table = this.tableNameFromId(id) ?? "";
          writes.push({ id, table, before: prev, after });
          if (table === "_scheduled_functions" && prev === null) this.jobSeqs.set(id, seq);
          persisted.push([id, after]);
          if (table === "_storage" && after === null) this.persistence.deleteFile(id);
          this.indexTableId(table, id, after !== null);
          this.orderedIndexes.update(table, id, prev, after);
        }
        // Written to the journal now; fsynced (group commit) before any caller is answered:
        // `measured` awaits persistence.sync() before a function's result goes out. Listeners
        // (subscriptions) hear of the commit at once, as in-memory state.
        this.persistence.append({ ts, ...instance.counters(), writes: persisted });
        this.commitSeq = seq;
        this.finishTracked({ seq, writes });
        const event: CommitEvent = { ts, seq: this.commitSeq, writes };
        for (const listener of this.commitListeners) {
          try {
            listener(event);
          } catch (error) {
            this.logLine(`[ERROR] commit listener failed: ${(error as Error).stack}`);
          }
        }
        if (this.persistence.needsCompaction())
          this.persistence
            .startCompaction(this.currentState())
            .catch((error) =>
              this.logLine(
                `[ERROR] compaction failed (the journal is kept): ${(error as Error)?.stack ?? error}`,
              ),
            );
        return ts;
      },
      rollback: (isNested, next) => {
        const record = callStorage.getStore();
        const endQuery = !isNested && record?.kind === "query" ? record.onQueryEnd : undefined;
        const elapsed = performance.now() - this.txStart;
        next();
        if (!isNested) this.finishTracked(null);
        // Still synchronous with the end of the transaction: no commit can slip in between.
        endQuery?.(this.lastCommitTs);
        if (
          !isNested &&
          record?.kind === "query" &&
          !record.hitReadLimit &&
          timeoutMs > 0 &&
          elapsed > timeoutMs
        ) {
          throw timedOut();
        }
      },
    });

    // Convex's 1 MiB limit on a document (system fields included), checked before the write
    // is recorded, so a caught error leaves nothing behind.
    instance.checkWrites((id, value) => {
      if (value === null || (this.tableNameFromId(id) ?? "").startsWith("_")) return;
      const size = this.convexTest.documentSize(value);
      if (size > MAX_DOCUMENT_BYTES) {
        throw new Error(
          `Value is too large (${formatBinarySize(size)} > maximum size ${formatBinarySize(MAX_DOCUMENT_BYTES)})`,
        );
      }
    });

    // Files: on disk before `storage.store` returns, so they survive restarts; loaded lazily.
    instance.hookFiles({
      stored: (storageId, bytes, contentType) => this.persistence.writeFile(storageId, bytes, contentType),
      load: (storageId) => {
        const file = this.persistence.readFile(storageId);
        if (!file) return null;
        return new Blob([new Uint8Array(file.bytes)], file.contentType ? { type: file.contentType } : {});
      },
    });

    this.wrapSyscalls();
  }

  /**
   * Observes reads for read sets, metrics, pagination journals and the would-be conflict
   * check. Calls (`record`) are absent for scheduled jobs; the conflict tracker sees every
   * transaction.
   */
  private wrapSyscalls(): void {
    const conflicts = this.conflicts;
    const running = () => conflicts.function(this.convexTest.appFunction());
    const observe = async (
      record: CallRecord | undefined,
      op: string,
      jsonArgs: string,
      asyncSyscall: (args: string) => Promise<string>,
    ): Promise<string> => {
      switch (op) {
        case "1.0/get": {
          const args = JSON.parse(jsonArgs);
          const table = args.table ?? this.tableNameFromId(args.id);
          record?.readSet?.addId(table, args.id);
          running();
          conflicts.document(args.id, table);
          const out = await asyncSyscall(jsonArgs);
          if (record && out !== "null") record.docsRead += 1;
          return out;
        }
        case "1.0/queryStreamNext": {
          const out = await asyncSyscall(jsonArgs);
          if (record && !isStreamEnd(out)) record.docsRead += 1;
          conflicts.streamNext((JSON.parse(jsonArgs) as { queryId: number }).queryId, out);
          return out;
        }
        case "1.0/queryPage": {
          const args = JSON.parse(jsonArgs);
          record?.readSet?.addQuery(args.query);
          const pinned = record?.journalIn.endCursor;
          const requestedEnd = args.endCursor ?? pinned ?? null;
          if (requestedEnd !== (args.endCursor ?? null)) args.endCursor = requestedEnd;
          const out = JSON.parse(await asyncSyscall(JSON.stringify(args)));
          // With an end cursor the page ends exactly there and more may follow.
          if (requestedEnd && requestedEnd !== "_end_cursor") {
            out.continueCursor = requestedEnd;
            out.isDone = false;
          }
          if (record) {
            record.journalOut.endCursor = out.continueCursor;
            record.docsRead += Array.isArray(out.page) ? out.page.length : 0;
          }
          running();
          conflicts.page(
            args.query as QueryJson,
            Array.isArray(out.page) ? out.page : [],
            out.isDone === true,
          );
          return JSON.stringify(out);
        }
        case "1.0/count": {
          const args = JSON.parse(jsonArgs);
          record?.readSet?.addTable(args.table);
          running();
          conflicts.table(args.table);
          return await asyncSyscall(jsonArgs);
        }
        case "1.0/insert":
          if (record) record.docsWritten += 1;
          running();
          return await asyncSyscall(jsonArgs);
        case "1.0/shallowMerge":
        case "1.0/replace":
        case "1.0/remove": {
          if (record) record.docsWritten += 1;
          // Convex reads the document it changes: it is part of the read set.
          const args = JSON.parse(jsonArgs) as { id: string; table?: string };
          running();
          conflicts.document(args.id, args.table ?? null);
          return await asyncSyscall(jsonArgs);
        }
        default:
          return await asyncSyscall(jsonArgs);
      }
    };
    this.instance.hookSyscalls({
      sync: (op, jsonArgs, syscall) => {
        if (op !== "1.0/queryStream" && op !== "1.0/queryCleanup") return syscall(jsonArgs);
        const args = JSON.parse(jsonArgs);
        if (op === "1.0/queryCleanup") {
          conflicts.streamClosed(args.queryId);
          return syscall(jsonArgs);
        }
        callStorage.getStore()?.readSet?.addQuery(args.query);
        const out = syscall(jsonArgs);
        running();
        conflicts.streamOpened((JSON.parse(out) as { queryId: number }).queryId, args.query as QueryJson);
        return out;
      },
      async: async (op, jsonArgs, asyncSyscall) => {
        const record = callStorage.getStore();
        try {
          return await observe(record, op, jsonArgs, asyncSyscall);
        } catch (error) {
          if (record && READ_LIMIT_ERROR.test(String((error as Error)?.message))) record.hitReadLimit = true;
          throw error;
        }
      },
    });
  }

  /** Ends the running transaction for the conflict check; a failure there never fails a commit. */
  private finishTracked(commit: Parameters<ConflictTracker["finish"]>[0]): void {
    try {
      this.conflicts.finish(commit);
    } catch (error) {
      this.logLine(`[ERROR] would-be conflict check failed: ${(error as Error)?.stack ?? String(error)}`);
    }
  }

  /** An index's key as Convex orders its entries: its fields, then `_creationTime` and `_id`. */
  private indexKey(table: string, indexName: string): string[] | null {
    if (indexName === "by_creation_time") return ["_creationTime", "_id"];
    if (indexName === "by_id") return ["_id"];
    const index = this.instance
      .schemaTables()
      .get(table)
      ?.indexes.find((i) => i.indexDescriptor === indexName);
    return index ? [...index.fields, "_creationTime", "_id"] : null;
  }

  private schemaTableNames(): string[] {
    return [...this.instance.schemaTables().keys()];
  }
}

// ------------------------------------------------------------------ helpers

/** Convex's maximum document size (MAX_USER_SIZE): 1 MiB. */
export const MAX_DOCUMENT_BYTES = 1 << 20;

/** A byte count as Convex prints it (binary units, up to two decimals): "512 B", "1 MiB", "2.77 MiB". */
export function formatBinarySize(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const text = unit === 0 ? String(value) : value.toFixed(2).replace(/\.?0+$/, "");
  return `${text} ${units[unit]}`;
}

export function canonicalizeUdfPath(udfPath: string): string {
  const pieces = udfPath.split(":");
  let moduleName = pieces.length === 1 ? pieces[0] : pieces.slice(0, -1).join(":");
  const functionName = pieces.length === 1 ? "default" : pieces[pieces.length - 1];
  if (moduleName.endsWith(".js")) moduleName = moduleName.slice(0, -3);
  return `${moduleName}:${functionName}`;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function decodeJsonBound(value: JSONValue): Value | undefined {
  if (typeof value === "object" && value !== null && "$undefined" in value) return undefined;
  return jsonToConvex(value);
}

function newRecord(udfPath: string, kind: UdfKind, extra: Partial<CallRecord> = {}): CallRecord {
  return {
    udfPath,
    kind,
    logLines: [],
    journalIn: {},
    journalOut: {},
    commitTs: null,
    docsRead: 0,
    docsWritten: 0,
    origin: { knownSeq: 0 },
    ...extra,
  };
}

function parseJournal(journal: string | null): { endCursor?: string | null } {
  if (!journal) return {};
  try {
    const parsed = JSON.parse(journal);
    return typeof parsed === "object" && parsed ? parsed : {};
  } catch {
    return {};
  }
}

function serializeJournal(journal: { endCursor?: string | null }): string | null {
  return journal.endCursor === undefined ? null : JSON.stringify(journal);
}

/** Turns whatever a function threw into what Convex sends a client. */
export function toFunctionError(error: unknown, logLines: string[]): FunctionError {
  if (error instanceof FunctionError) return error;
  const requestId = createHash("sha1").update(randomUUID()).digest("hex").slice(0, 16);
  const e = error as { name?: string; message?: string; data?: unknown; stack?: string } | undefined;
  const isConvexError =
    typeof error === "object" && error !== null && Symbol.for("ConvexError") in (error as object);
  if (isConvexError) {
    const data = e?.data as Value;
    const message = typeof data === "string" ? data : JSON.stringify(convexToJson(data ?? null));
    return new FunctionError(
      `[Request ID: ${requestId}] Server Error\nUncaught ConvexError: ${message}`,
      convexToJson(data ?? null),
      logLines,
    );
  }
  const name = e?.name ?? "Error";
  const message = e?.message ?? String(error);
  return new FunctionError(
    `[Request ID: ${requestId}] Server Error\nUncaught ${name}: ${message}`,
    undefined,
    logLines,
  );
}

/**
 * Function logs: inside a function, console output is collected for the caller (as Convex
 * returns logLines) and printed with the function's name.
 */
/** Set while a captured line is being printed, so a sink that itself logs cannot recurse. */
let capturing = false;

function installConsoleCapture(
  convexTest: ConvexTestModule,
  engineFor: (instance: object) => Engine | undefined,
): void {
  const levels: [keyof Console, string][] = [
    ["log", "LOG"],
    ["info", "INFO"],
    ["warn", "WARN"],
    ["error", "ERROR"],
    ["debug", "DEBUG"],
  ];
  for (const [method, level] of levels) {
    const original = (realConsole[method] as (...a: unknown[]) => void).bind(console);
    (console as unknown as Record<string, (...a: unknown[]) => void>)[method] = (...args: unknown[]) => {
      if (capturing) return original(...args);
      const ctx = convexTest.currentFunction();
      const instance = convexTest.currentInstance();
      const engine = instance ? engineFor(instance) : undefined;
      if (!ctx || !engine) return original(...args);
      const text = args.map((a) => (typeof a === "string" ? `'${a}'` : inspect(a, { depth: 4 }))).join(" ");
      callStorage.getStore()?.logLines.push(`[${level}] ${text}`);
      capturing = true;
      try {
        const letter =
          ctx.udfType === "query"
            ? "Q"
            : ctx.udfType === "mutation"
              ? "M"
              : ctx.udfType === "http"
                ? "H"
                : "A";
        engine.logLine(
          `${new Date().toISOString()} [CONVEX ${letter}(${ctx.udfPath})] [${level}] ${formatArgs(...args)}`,
        );
      } finally {
        capturing = false;
      }
    };
  }
}

export { jsonToConvex };
