/** Per-function counters for GET /_local/metrics: calls, errors, durations, documents touched. */
type FunctionStats = {
  kind: string;
  calls: number;
  errors: number;
  durations: number[];
  docsRead: number;
  docsWritten: number;
};

const WINDOW = 2048;

export class Metrics {
  private stats = new Map<string, FunctionStats>();
  /** Subscription re-runs and commits, for the reactivity benchmark. */
  counters = { commits: 0, subscriptionRuns: 0, transitionsSent: 0 };

  record(
    udfPath: string,
    kind: string,
    ms: number,
    ok: boolean,
    docsRead: number,
    docsWritten: number,
  ): void {
    let s = this.stats.get(udfPath);
    if (!s) {
      s = { kind, calls: 0, errors: 0, durations: [], docsRead: 0, docsWritten: 0 };
      this.stats.set(udfPath, s);
    }
    s.kind = kind;
    s.calls += 1;
    if (!ok) s.errors += 1;
    s.docsRead += docsRead;
    s.docsWritten += docsWritten;
    s.durations.push(ms);
    if (s.durations.length > WINDOW) s.durations.splice(0, s.durations.length - WINDOW);
  }

  snapshot() {
    const functions: Record<string, unknown> = {};
    for (const [name, s] of [...this.stats.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      const sorted = [...s.durations].sort((a, b) => a - b);
      functions[name] = {
        kind: s.kind,
        calls: s.calls,
        errors: s.errors,
        p50Ms: round(percentile(sorted, 0.5)),
        p99Ms: round(percentile(sorted, 0.99)),
        documentsRead: s.docsRead,
        documentsWritten: s.docsWritten,
      };
    }
    return { functions, reactivity: { ...this.counters } };
  }
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[idx];
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
