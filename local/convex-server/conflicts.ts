/**
 * Would-be conflicts: the mutations Convex's optimistic concurrency control would have made
 * retry, counted although this server runs one transaction at a time.
 *
 * On Convex a mutation reads at the snapshot published when it starts and, at commit, fails
 * (and retries) when a document or index range it read was written by a commit published after
 * that snapshot. Here a transaction's snapshot is taken as what had been published when it
 * arrived (asked for the transaction lock): commits made durable (or, without fsync, made at
 * all), plus whatever the code issuing it had already seen itself (an action's earlier
 * `runMutation`, the commit that scheduled a job). Every commit between that snapshot and its
 * own, whose writes touch what it read, would have conflicted with it. See
 * docs/decisions/014-local-would-be-conflicts.md.
 */
import { jsonToConvex, type JSONValue } from "convex/values";
import type { ConflictSource, Metrics } from "./metrics.js";
import type { Doc } from "./persistence.js";
import { fieldValue, ReadSet, type KeyBound, type QueryJson } from "./readSet.js";

/**
 * Whatever issues transactions one after another (a client's call, an action, an HTTP action,
 * a scheduled job) and the last commit it has seen: its later transactions start from there.
 */
export type Origin = { knownSeq: number };

export type WrittenDocument = { table: string; before: Doc | null; after: Doc | null };

/** The function running a transaction, as convex-test's execution context names it. */
export type RunningFunction = { udfPath: string; depth: number };

/** A query stream opened by `1.0/queryStream`, until it is cleaned up or the transaction ends. */
type Stream = { query: QueryJson; returned: number; last: string | null; done: boolean };

/** One top-level transaction from its arrival to its end. */
export class TrackedTransaction {
  readonly reads = new ReadSet();
  readonly streams = new Map<number, Stream>();
  /** The outermost function that ran in it (null for the engine's own bookkeeping). */
  fn: RunningFunction | null = null;

  constructor(
    readonly origin: Origin,
    /** Commits up to this sequence number are in its snapshot. */
    readonly knownSeq: number,
  ) {}
}

type CommitEntry = { seq: number; writer: string; writes: WrittenDocument[] };

export type ConflictTrackerDeps = {
  /** Sequence number of the last commit published: durable on disk (every commit without fsync). */
  publishedSeq(): number;
  /** The key of an index as Convex orders it (fields, `_creationTime`, `_id`), or null if unknown. */
  indexKey(table: string, indexName: string): string[] | null;
  tableOf(id: string): string | null;
};

/** Commits kept for checking; older ones are dropped (and counted) if nothing published them. */
export const MAX_HISTORY = 10_000;
/** The writer named for commits made by the server itself (scheduler bookkeeping, storage). */
export const SYSTEM_WRITER = "(system)";

export class ConflictTracker {
  /** Recent commits, oldest first: only those some transaction may still have to check. */
  private history: CommitEntry[] = [];
  private pending = new Set<TrackedTransaction>();
  private current: TrackedTransaction | null = null;
  /** Newest commit dropped by MAX_HISTORY while it might still have been needed. */
  private droppedUpTo = 0;

  constructor(
    private readonly deps: ConflictTrackerDeps,
    private readonly metrics: Metrics,
  ) {}

  /** A top-level transaction asks for the lock: its snapshot is what is published now. */
  arrive(origin: Origin): TrackedTransaction {
    const tx = new TrackedTransaction(origin, Math.max(this.deps.publishedSeq(), origin.knownSeq));
    this.pending.add(tx);
    return tx;
  }

  /** The transaction holds the lock: every read from now on is its own. */
  start(tx: TrackedTransaction): void {
    if (this.current) this.pending.delete(this.current);
    this.current = tx;
  }

  /** How many commits are kept for checking (for tests of the bound). */
  get historySize(): number {
    return this.history.length;
  }

  // ---------------------------------------------------------------- reads of the running transaction

  function(fn: RunningFunction | undefined): void {
    const tx = this.current;
    if (tx && fn && (!tx.fn || fn.depth < tx.fn.depth)) tx.fn = fn;
  }

  /** A document read by id, or changed by patch, replace or delete (which read it first). */
  document(id: string, table: string | null): void {
    this.current?.reads.addId(table ?? this.deps.tableOf(id), id);
  }

  table(table: string): void {
    this.current?.reads.addTable(table);
  }

  streamOpened(queryId: number, query: QueryJson): void {
    this.current?.streams.set(queryId, { query, returned: 0, last: null, done: false });
  }

  /** `out` is the syscall's answer: `{"done": false, "value": <document>}`, or done. */
  streamNext(queryId: number, out: string): void {
    const stream = this.current?.streams.get(queryId);
    if (!stream) return;
    if (isStreamEnd(out)) {
      stream.done = true;
    } else {
      stream.returned += 1;
      stream.last = out;
    }
  }

  streamClosed(queryId: number): void {
    const tx = this.current;
    const stream = tx?.streams.get(queryId);
    if (!tx || !stream) return;
    tx.streams.delete(queryId);
    this.addStream(tx, stream);
  }

  /** One `paginate` call: the page read up to its last document, or to the end when done. */
  page(query: QueryJson, page: JSONValue[], isDone: boolean): void {
    const tx = this.current;
    if (!tx) return;
    const last = page.at(-1);
    if (isDone || last === undefined) return this.addScan(tx, query, null);
    this.addScan(tx, query, jsonToConvex(last) as Doc);
  }

  // ---------------------------------------------------------------- end of a transaction

  /**
   * The running transaction ended: committed with writes (`commit`), or without (rolled back,
   * a query, a mutation that wrote nothing; a read-only transaction never conflicts on Convex).
   */
  finish(commit: { seq: number; writes: WrittenDocument[] } | null): void {
    const tx = this.current;
    if (!tx) return;
    this.current = null;
    this.pending.delete(tx);
    if (commit) {
      if (tx.fn) {
        for (const stream of tx.streams.values()) this.addStream(tx, stream);
        this.metrics.recordCommit(
          tx.fn.udfPath,
          this.overlapping(tx),
          commit.writes.map((w) => w.table),
        );
      }
      this.history.push({ seq: commit.seq, writer: tx.fn?.udfPath ?? SYSTEM_WRITER, writes: commit.writes });
    }
    tx.streams.clear();
    // The code that issued it has now seen its snapshot and, once it committed, its commit (on
    // Convex, a commit is published after every earlier one): its next transaction starts
    // there. The server's own bookkeeping (a scheduled job's state) teaches the job nothing.
    if (tx.fn) tx.origin.knownSeq = Math.max(tx.origin.knownSeq, tx.knownSeq, commit?.seq ?? 0);
    this.prune();
  }

  /** Writers and tables of the commits after `tx`'s snapshot that wrote what it read. */
  private overlapping(tx: TrackedTransaction): ConflictSource[] {
    if (tx.knownSeq < this.droppedUpTo) this.metrics.conflicts.historyOverflows += 1;
    const found = new Map<string, ConflictSource>();
    for (let i = this.history.length - 1; i >= 0 && this.history[i].seq > tx.knownSeq; i--) {
      const entry = this.history[i];
      for (const write of entry.writes) {
        const key = `${entry.writer}\u0000${write.table}`;
        if (found.has(key)) continue;
        if (tx.reads.touchedBy(write.table, write.before, write.after)) {
          found.set(key, { function: entry.writer, table: write.table });
        }
      }
    }
    return [...found.values()];
  }

  /** Drops commits that every waiting and future transaction has in its snapshot. */
  private prune(): void {
    let floor = this.deps.publishedSeq();
    for (const tx of this.pending) floor = Math.min(floor, tx.knownSeq);
    let drop = 0;
    while (drop < this.history.length && this.history[drop].seq <= floor) drop++;
    if (this.history.length - drop > MAX_HISTORY) {
      const over = this.history.length - drop - MAX_HISTORY;
      this.droppedUpTo = this.history[drop + over - 1].seq;
      drop += over;
    }
    if (drop > 0) this.history.splice(0, drop);
  }

  private addStream(tx: TrackedTransaction, stream: Stream): void {
    const limit = limitOf(stream.query);
    // A scan that stopped at its limit read up to its last document. One that reached the end
    // read the whole range; so does one abandoned early without a limit, since Convex reads
    // ahead in batches.
    const stoppedAtLimit = limit !== null && stream.returned >= limit && stream.last !== null;
    const last = stoppedAtLimit
      ? ((jsonToConvex(JSON.parse(stream.last!)) as { value: Doc }).value ?? null)
      : null;
    this.addScan(tx, stream.query, last);
  }

  /** Adds what a query read: its whole range, or (with `last`) the range up to that document. */
  private addScan(tx: TrackedTransaction, query: QueryJson, last: Doc | null): void {
    const source = query.source;
    if (source.type === "Search") return tx.reads.addTable(source.indexName.split(".")[0]);
    const [table, indexName] =
      source.type === "FullTableScan" ? [source.tableName, "by_creation_time"] : source.indexName.split(".");
    const range = source.type === "IndexRange" ? source.range : [];
    let bound: KeyBound | undefined;
    const fields = last ? this.deps.indexKey(table, indexName) : null;
    if (last && fields) {
      bound = {
        type: source.order === "desc" ? "DownTo" : "UpTo",
        fields,
        key: fields.map((f) => fieldValue(last, f)),
      };
    }
    tx.reads.addRange(table, range, bound);
  }
}

/**
 * Whether a `1.0/queryStreamNext` answer says the stream is over, without parsing the document
 * (a document may have a field named `done` of its own).
 */
export function isStreamEnd(out: string): boolean {
  return out.startsWith('{"done":true,') || out.endsWith(',"done":true}');
}

function limitOf(query: QueryJson): number | null {
  for (const op of query.operators ?? []) if ("limit" in op) return op.limit;
  return null;
}
