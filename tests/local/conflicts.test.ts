/**
 * The would-be conflict tracker on its own: which commits a transaction is checked against
 * (its snapshot at arrival), what its reads cover (documents, ranges, scans that stopped early),
 * and that the commits it keeps stay bounded. The conformance test
 * (conformance.conflicts.test.ts) covers the same through the real server.
 */
import { convexToJson, type Value } from "convex/values";
import { describe, expect, it } from "vitest";
import {
  ConflictTracker,
  MAX_HISTORY,
  SYSTEM_WRITER,
  type Origin,
} from "../../local/convex-server/conflicts";
import { Metrics } from "../../local/convex-server/metrics";
import type { Doc } from "../../local/convex-server/persistence";
import type { QueryJson } from "../../local/convex-server/readSet";

const INDEXES: Record<string, string[]> = { "counters.by_name": ["name"], "tasks.by_list_n": ["list", "n"] };

function setup() {
  const state = { published: 0 };
  const metrics = new Metrics();
  const tracker = new ConflictTracker(
    {
      publishedSeq: () => state.published,
      indexKey: (table, index) =>
        index === "by_creation_time"
          ? ["_creationTime", "_id"]
          : INDEXES[`${table}.${index}`]
            ? [...INDEXES[`${table}.${index}`], "_creationTime", "_id"]
            : null,
      tableOf: (id) => id.replace(/^\d+/, ""),
    },
    metrics,
  );
  let seq = 0;
  let creation = 1000;
  const doc = (id: string, fields: Record<string, Value>): Doc => ({
    _id: id,
    _creationTime: creation++,
    ...fields,
  });
  /** Runs one transaction that `arrived` earlier, reading with `read` and writing `writes`. */
  const run = (
    arrived: ReturnType<ConflictTracker["arrive"]>,
    fn: string | null,
    read: () => void,
    writes: { table: string; before: Doc | null; after: Doc | null }[],
  ) => {
    tracker.start(arrived);
    if (fn) tracker.function({ udfPath: fn, depth: 1 });
    read();
    if (writes.length === 0) return tracker.finish(null);
    seq += 1;
    tracker.finish({ seq, writes });
  };
  const fn = (name: string) => metrics.snapshot().functions[name];
  return { state, metrics, tracker, doc, run, fn, seqNow: () => seq };
}

const origin = (): Origin => ({ knownSeq: 0 });

function stream(tracker: ConflictTracker, queryId: number, query: QueryJson, docs: Doc[], done: boolean) {
  tracker.streamOpened(queryId, query);
  for (const d of docs) {
    tracker.streamNext(queryId, JSON.stringify({ done: false, value: convexToJson(d as Value) }));
  }
  if (done) tracker.streamNext(queryId, '{"done":true,"value":null}');
  tracker.streamClosed(queryId);
}

const byList = (list: string, extra: Partial<QueryJson> = {}): QueryJson => ({
  source: {
    type: "IndexRange",
    indexName: "tasks.by_list_n",
    range: [{ type: "Eq", fieldPath: "list", value: list }],
    order: null,
  },
  operators: [],
  ...extra,
});

describe("would-be conflicts", () => {
  it("checks a mutation against the commits that were not published when it arrived", () => {
    const { state, tracker, doc, run, fn } = setup();
    const counter = doc("1counters", { name: "hot", value: 0 });
    const a = tracker.arrive(origin());
    const b = tracker.arrive(origin());
    run(a, "counters:increment", () => tracker.document(counter._id, "counters"), [
      { table: "counters", before: counter, after: { ...counter, value: 1 } },
    ]);
    // b arrived before a committed: a's write is after b's snapshot.
    run(b, "counters:increment", () => tracker.document(counter._id, "counters"), [
      { table: "counters", before: { ...counter, value: 1 }, after: { ...counter, value: 2 } },
    ]);
    expect(fn("counters:increment")).toMatchObject({
      commits: 2,
      wouldBeConflicts: 1,
      wouldBeConflictsWith: [{ function: "counters:increment", table: "counters", count: 1 }],
    });
    // Arriving after a commit that is not yet durable still overlaps it...
    const c = tracker.arrive(origin());
    run(c, "counters:increment", () => tracker.document(counter._id, "counters"), [
      { table: "counters", before: counter, after: counter },
    ]);
    expect(fn("counters:increment").wouldBeConflicts).toBe(2);
    // ...but not once everything is published.
    state.published = 3;
    const d = tracker.arrive(origin());
    run(d, "counters:increment", () => tracker.document(counter._id, "counters"), [
      { table: "counters", before: counter, after: counter },
    ]);
    expect(fn("counters:increment").wouldBeConflicts).toBe(2);
  });

  it("does not count writes that miss what was read, read-only transactions, or the server's bookkeeping", () => {
    const { tracker, doc, run, fn, metrics } = setup();
    const mine = doc("1items", { owner: "a" });
    const theirs = doc("2items", { owner: "b" });
    const a = tracker.arrive(origin());
    const b = tracker.arrive(origin());
    const readOnly = tracker.arrive(origin());
    const system = tracker.arrive(origin());
    run(a, "items:bump", () => tracker.document(mine._id, null), [
      { table: "items", before: mine, after: mine },
    ]);
    run(b, "items:bump", () => tracker.document(theirs._id, null), [
      { table: "items", before: theirs, after: theirs },
    ]);
    run(readOnly, "items:peek", () => tracker.document(mine._id, null), []);
    run(system, null, () => tracker.document(mine._id, null), [
      { table: "items", before: mine, after: mine },
    ]);
    expect(fn("items:bump")).toMatchObject({ commits: 2, wouldBeConflicts: 0 });
    expect(fn("items:peek")).toBeUndefined();
    expect(metrics.snapshot().conflicts).toEqual({
      mutationsChecked: 2,
      wouldBeConflicts: 0,
      historyOverflows: 0,
    });
    // The bookkeeping commit is still a writer others may overlap.
    const later = tracker.arrive({ knownSeq: 2 });
    run(later, "items:bump", () => tracker.document(mine._id, null), [
      { table: "items", before: mine, after: mine },
    ]);
    expect(fn("items:bump").wouldBeConflictsWith).toEqual([
      { function: SYSTEM_WRITER, table: "items", count: 1 },
    ]);
  });

  it("lets code that waited for its own transaction start from it, but not parallel siblings", () => {
    const { tracker, doc, run, fn } = setup();
    const counter = doc("1counters", { name: "hot", value: 0 });
    const write = [{ table: "counters", before: counter, after: counter }];
    const action = origin();
    const first = tracker.arrive(action);
    run(first, "counters:increment", () => tracker.document(counter._id, null), write);
    const second = tracker.arrive(action); // awaited the first: it has seen its commit
    run(second, "counters:increment", () => tracker.document(counter._id, null), write);
    expect(fn("counters:increment").wouldBeConflicts).toBe(0);
    const parallel = [tracker.arrive(action), tracker.arrive(action), tracker.arrive(action)];
    for (const tx of parallel)
      run(tx, "counters:increment", () => tracker.document(counter._id, null), write);
    expect(fn("counters:increment").wouldBeConflicts).toBe(2);
  });

  it("covers a whole index range, or only the part a scan read before its limit", () => {
    const { state, tracker, doc, run, fn, seqNow } = setup();
    const five = doc("5tasks", { list: "q", n: 5 });
    const insert = (n: number, list = "q") => [
      { table: "tasks", before: null, after: doc(`${n}${list}tasks`, { list, n }) },
    ];
    const check = (read: () => void, writes: ReturnType<typeof insert>) => {
      state.published = seqNow();
      const reader = tracker.arrive(origin());
      const writer = tracker.arrive(origin());
      run(writer, "tasks:add", () => {}, writes);
      run(reader, "tasks:read", read, [{ table: "summaries", before: null, after: doc("9summaries", {}) }]);
      return fn("tasks:read").wouldBeConflicts;
    };
    // The whole list: any insert into it, none into another list.
    expect(check(() => stream(tracker, 1, byList("q"), [five], true), insert(10))).toBe(1);
    expect(check(() => stream(tracker, 1, byList("q"), [five], true), insert(10, "r"))).toBe(1);
    // first(): stopped at n=5, so n=10 falls beyond what was read and n=1 within it.
    const first = byList("q", { operators: [{ limit: 1 }] });
    expect(check(() => stream(tracker, 1, first, [five], true), insert(10))).toBe(1);
    expect(check(() => stream(tracker, 1, first, [five], true), insert(1))).toBe(2);
    // Descending: stopped at n=5 from the top, so n=1 is beyond and n=10 within.
    const last = byList("q", { operators: [{ limit: 1 }] });
    (last.source as { order: string }).order = "desc";
    expect(check(() => stream(tracker, 1, last, [five], true), insert(1))).toBe(2);
    expect(check(() => stream(tracker, 1, last, [five], true), insert(10))).toBe(3);
    // A limit that was not reached means the scan hit the end of the range.
    const take3 = byList("q", { operators: [{ limit: 3 }] });
    expect(check(() => stream(tracker, 1, take3, [five], true), insert(10))).toBe(4);
    // Abandoned early without a limit: Convex reads ahead, so the whole range counts.
    expect(check(() => stream(tracker, 1, byList("q"), [five], false), insert(10))).toBe(5);
    // A stream still open when the transaction commits counts too.
    expect(
      check(() => {
        tracker.streamOpened(7, first);
        tracker.streamNext(7, JSON.stringify({ done: false, value: convexToJson(five as Value) }));
      }, insert(1)),
    ).toBe(6);
    // A page that is not the last one reads up to its last document.
    expect(check(() => tracker.page(byList("q"), [convexToJson(five as Value)], false), insert(10))).toBe(6);
    expect(check(() => tracker.page(byList("q"), [convexToJson(five as Value)], true), insert(10))).toBe(7);
  });

  it("keeps only commits that someone may still check, and counts checks the bound cut short", () => {
    const { state, tracker, doc, run, metrics, seqNow } = setup();
    const row = doc("1counters", { name: "x", value: 0 });
    const write = [{ table: "counters", before: row, after: row }];
    for (let i = 0; i < 50; i++) run(tracker.arrive(origin()), "counters:increment", () => {}, write);
    expect(tracker.historySize).toBe(50);
    state.published = seqNow();
    run(tracker.arrive(origin()), "counters:increment", () => {}, write);
    expect(tracker.historySize).toBe(1);
    // A transaction that waits keeps what came after its arrival, up to MAX_HISTORY commits.
    const waiting = tracker.arrive(origin());
    state.published = seqNow();
    for (let i = 0; i < MAX_HISTORY + 5; i++) {
      run(tracker.arrive(origin()), "counters:increment", () => {}, write);
      state.published = seqNow();
    }
    expect(tracker.historySize).toBe(MAX_HISTORY);
    run(waiting, "counters:increment", () => tracker.document(row._id, null), write);
    expect(metrics.snapshot().conflicts.historyOverflows).toBe(1);
    expect(metrics.snapshot().functions["counters:increment"].wouldBeConflicts).toBe(1);
    expect(tracker.historySize).toBeLessThanOrEqual(1);
  });
});
