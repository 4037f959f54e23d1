/**
 * Would-be conflicts during a benchmark's measured phase: the difference between two readings
 * of GET /_local/metrics, per mutation that committed in between. See
 * docs/decisions/014-local-would-be-conflicts.md for what the figure means.
 */
import type { MetricsSnapshot } from "../../local/convex-server/metrics";

export type ConflictRow = {
  function: string;
  /** Mutations of this function that committed writes during the phase. */
  commits: number;
  /** How many of them would have conflicted (and retried) on Convex. */
  wouldBeConflicts: number;
  /** wouldBeConflicts / commits. */
  share: number;
  /** The writers they overlapped, most frequent first: "function on table ×count". */
  overlapped: string[];
};

/** Reads the metrics of a running server (the admin key is needed off loopback only). */
export async function readMetrics(server: { url: string; adminKey: string }): Promise<MetricsSnapshot> {
  const res = await fetch(`${server.url}/_local/metrics`, {
    headers: { authorization: `Convex ${server.adminKey}` },
  });
  if (!res.ok) throw new Error(`GET /_local/metrics answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as MetricsSnapshot;
}

/** Per function that committed between the two readings, most would-be conflicts first. */
export function conflictsBetween(before: MetricsSnapshot, after: MetricsSnapshot): ConflictRow[] {
  const rows: ConflictRow[] = [];
  for (const [name, now] of Object.entries(after.functions)) {
    const then = before.functions[name];
    const commits = now.commits - (then?.commits ?? 0);
    if (commits <= 0) continue;
    const wouldBeConflicts = now.wouldBeConflicts - (then?.wouldBeConflicts ?? 0);
    const earlier = new Map(
      (then?.wouldBeConflictsWith ?? []).map((w) => [`${w.function}\u0000${w.table}`, w.count]),
    );
    const overlapped = now.wouldBeConflictsWith
      .map((w) => ({ ...w, count: w.count - (earlier.get(`${w.function}\u0000${w.table}`) ?? 0) }))
      .filter((w) => w.count > 0)
      .sort((a, b) => b.count - a.count)
      .map((w) => `${w.function} on ${w.table} ×${w.count}`);
    rows.push({
      function: name,
      commits,
      wouldBeConflicts,
      share: Math.round((wouldBeConflicts / commits) * 1000) / 1000,
      overlapped,
    });
  }
  return rows.sort((a, b) => b.wouldBeConflicts - a.wouldBeConflicts || a.function.localeCompare(b.function));
}

/** Markdown table rows for `conflictsBetween`'s result. */
export function conflictTable(rows: ConflictRow[]): string[] {
  return [
    "| mutation | commits | would-be conflicts | share | overlapped writes (function on table ×count) |",
    "| --- | --- | --- | --- | --- |",
    ...rows.map(
      (r) =>
        `| ${r.function} | ${r.commits} | ${r.wouldBeConflicts} | ${Math.round(r.share * 100)} % | ${r.overlapped.join(", ") || "—"} |`,
    ),
  ];
}
