/**
 * Per-function counters for GET /_local/metrics: calls, errors, durations, documents touched,
 * and the mutations that would have conflicted on Convex (see conflicts.ts).
 */
type FunctionStats = {
  kind: string;
  calls: number;
  errors: number;
  durations: number[];
  docsRead: number;
  docsWritten: number;
  /** Top-level transactions of this function that committed writes, from any caller. */
  commits: number;
  wouldBeConflicts: number;
  /** "writer function\u0000table" → how many of this function's would-be conflicts it caused. */
  conflictsWith: Map<string, number>;
  /** Documents written by this function's commits (every caller), per table. */
  writtenByTable: Map<string, number>;
};

/** One writer whose commit a would-be conflict overlapped. */
export type ConflictSource = { function: string; table: string };

const WINDOW = 2048;
/** The breakdown lists this many writers per function, the most frequent first. */
export const CONFLICT_BREAKDOWN_LIMIT = 10;

export class Metrics {
  private stats = new Map<string, FunctionStats>();
  /** Subscription re-runs and commits, for the reactivity benchmark. */
  counters = { commits: 0, subscriptionRuns: 0, transitionsSent: 0 };
  /** Totals of the would-be conflict check. */
  conflicts = { mutationsChecked: 0, wouldBeConflicts: 0, historyOverflows: 0 };

  private entry(udfPath: string, kind: string): FunctionStats {
    let s = this.stats.get(udfPath);
    if (!s) {
      s = {
        kind,
        calls: 0,
        errors: 0,
        durations: [],
        docsRead: 0,
        docsWritten: 0,
        commits: 0,
        wouldBeConflicts: 0,
        conflictsWith: new Map(),
        writtenByTable: new Map(),
      };
      this.stats.set(udfPath, s);
    }
    return s;
  }

  record(
    udfPath: string,
    kind: string,
    ms: number,
    ok: boolean,
    docsRead: number,
    docsWritten: number,
  ): void {
    const s = this.entry(udfPath, kind);
    s.kind = kind;
    s.calls += 1;
    if (!ok) s.errors += 1;
    s.docsRead += docsRead;
    s.docsWritten += docsWritten;
    s.durations.push(ms);
    if (s.durations.length > WINDOW) s.durations.splice(0, s.durations.length - WINDOW);
  }

  /**
   * A mutation of `udfPath` committed writes; `overlapped` lists the writers (function and
   * table) of the concurrent commits that wrote what it read, empty when it would not have
   * conflicted.
   */
  recordCommit(udfPath: string, overlapped: ConflictSource[], writtenTables: string[] = []): void {
    const s = this.entry(udfPath, "mutation");
    s.commits += 1;
    for (const table of writtenTables) s.writtenByTable.set(table, (s.writtenByTable.get(table) ?? 0) + 1);
    this.conflicts.mutationsChecked += 1;
    if (overlapped.length === 0) return;
    s.wouldBeConflicts += 1;
    this.conflicts.wouldBeConflicts += 1;
    for (const source of overlapped) {
      const key = `${source.function}\u0000${source.table}`;
      s.conflictsWith.set(key, (s.conflictsWith.get(key) ?? 0) + 1);
    }
  }

  snapshot() {
    const functions: Record<string, FunctionMetrics> = {};
    for (const [name, s] of [...this.stats.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      const sorted = [...s.durations].sort((a, b) => a - b);
      const conflictsWith = [...s.conflictsWith.entries()]
        .map(([key, count]) => {
          const [fn, table] = key.split("\u0000");
          return { function: fn, table, count };
        })
        .sort(
          (a, b) =>
            b.count - a.count || a.function.localeCompare(b.function) || a.table.localeCompare(b.table),
        )
        .slice(0, CONFLICT_BREAKDOWN_LIMIT);
      functions[name] = {
        kind: s.kind,
        calls: s.calls,
        errors: s.errors,
        p50Ms: round(percentile(sorted, 0.5)),
        p99Ms: round(percentile(sorted, 0.99)),
        documentsRead: s.docsRead,
        documentsWritten: s.docsWritten,
        commits: s.commits,
        wouldBeConflicts: s.wouldBeConflicts,
        wouldBeConflictsWith: conflictsWith,
        committedWritesByTable: Object.fromEntries(
          [...s.writtenByTable.entries()].sort(([a], [b]) => a.localeCompare(b)),
        ),
      };
    }
    return { functions, reactivity: { ...this.counters }, conflicts: { ...this.conflicts } };
  }
}

/** One function's entry in GET /_local/metrics. */
export type FunctionMetrics = {
  kind: string;
  calls: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  documentsRead: number;
  documentsWritten: number;
  commits: number;
  wouldBeConflicts: number;
  wouldBeConflictsWith: { function: string; table: string; count: number }[];
  /** Documents written by this function's commits (scheduled and nested ones too), per table. */
  committedWritesByTable: Record<string, number>;
};

/** The whole answer of GET /_local/metrics. */
export type MetricsSnapshot = ReturnType<Metrics["snapshot"]>;

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[idx];
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
