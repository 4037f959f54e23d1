/**
 * Conformance: the would-be conflict report in GET /_local/metrics. The real CLI (fsync on, as
 * `npm run dev` runs it) serves a fixture app with a hot counter, rows owned by one caller each,
 * and lists read while others add to them; concurrency comes from HTTP clients, from one action's
 * parallel `ctx.runMutation` calls and from scheduled jobs.
 * Fixture: tests/fixtures/conflicts/convex.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FunctionMetrics, MetricsSnapshot } from "../../local/convex-server/metrics";
import { api } from "../fixtures/conflicts/convex/_generated/api";
import {
  httpClient,
  removeDir,
  ROOT,
  spawnOnEphemeralPorts,
  tempDir,
  until,
  wsClient,
  type SpawnedServer,
} from "./harness";

const FUNCTIONS = path.join(ROOT, "tests/fixtures/conflicts/convex");

const cleanups: (() => Promise<void> | void)[] = [];
let server: SpawnedServer;

beforeAll(async () => {
  const dir = tempDir("convex-local-conflicts-");
  cleanups.push(() => removeDir(dir));
  server = await spawnOnEphemeralPorts(FUNCTIONS, path.join(dir, "data"), cleanups);
});

afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function metrics(): Promise<MetricsSnapshot> {
  const res = await fetch(`${server.url}/_local/metrics`);
  expect(res.status).toBe(200);
  return (await res.json()) as MetricsSnapshot;
}

const EMPTY: FunctionMetrics = {
  kind: "mutation",
  calls: 0,
  errors: 0,
  p50Ms: 0,
  p99Ms: 0,
  documentsRead: 0,
  documentsWritten: 0,
  commits: 0,
  wouldBeConflicts: 0,
  wouldBeConflictsWith: [],
  committedWritesByTable: {},
};

/** What `run` added to one function's commits and would-be conflicts. */
async function measure(fn: string, run: () => Promise<unknown>) {
  const before = (await metrics()).functions[fn] ?? EMPTY;
  await run();
  const after = (await metrics()).functions[fn] ?? EMPTY;
  const writers = new Map(before.wouldBeConflictsWith.map((w) => [`${w.function} ${w.table}`, w.count]));
  return {
    commits: after.commits - before.commits,
    wouldBeConflicts: after.wouldBeConflicts - before.wouldBeConflicts,
    /** Writers whose count grew, as "function table". */
    overlapped: after.wouldBeConflictsWith
      .filter((w) => w.count > (writers.get(`${w.function} ${w.table}`) ?? 0))
      .map((w) => `${w.function} ${w.table}`),
    /** Documents its commits wrote, per table. */
    written: Object.fromEntries(
      Object.entries(after.committedWritesByTable)
        .map(([table, n]) => [table, n - (before.committedWritesByTable[table] ?? 0)] as const)
        .filter(([, n]) => n > 0),
    ),
  };
}

/** POSTs one mutation to the HTTP API, as a separate client would. */
async function postMutation(udfPath: string, args: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${server.url}/api/mutation`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ path: udfPath, args, format: "json" }),
  });
  const body = (await res.json()) as { status: string; errorMessage?: string };
  expect(body.status, body.errorMessage).toBe("success");
}

describe("would-be conflicts in /_local/metrics", () => {
  it("flags a hot counter that concurrent HTTP clients increment, naming the writer and table", async () => {
    const client = httpClient(server.url);
    await client.mutation(api.counters.increment, { name: "hot-http" });
    const result = await measure("counters:increment", () =>
      Promise.all(Array.from({ length: 30 }, () => postMutation("counters:increment", { name: "hot-http" }))),
    );
    expect(result.commits).toBe(30);
    expect(result.wouldBeConflicts).toBeGreaterThan(0);
    expect(result.wouldBeConflicts).toBeLessThanOrEqual(30);
    expect(result.overlapped).toEqual(["counters:increment counters"]);
    // Serial execution still gives the right answer: only the report says it would have retried.
    expect(await client.query(api.counters.get, { name: "hot-http" })).toBe(31);
  });

  it("flags WebSocket clients incrementing at once, but not one client's queued mutations", async () => {
    const clients = Array.from({ length: 10 }, () => wsClient(server.url));
    try {
      await clients[0].mutation(api.counters.increment, { name: "hot-ws" });
      const many = await measure("counters:increment", () =>
        Promise.all(clients.map((c) => c.mutation(api.counters.increment, { name: "hot-ws" }))),
      );
      expect(many.commits).toBe(10);
      expect(many.wouldBeConflicts).toBeGreaterThan(0);
      expect(many.overlapped).toEqual(["counters:increment counters"]);
      // One client's mutations run in order, each after the previous one's answer, as on Convex.
      const one = await measure("counters:increment", () =>
        Promise.all(
          Array.from({ length: 10 }, () => clients[1].mutation(api.counters.increment, { name: "hot-ws" })),
        ),
      );
      expect(one).toMatchObject({ commits: 10, wouldBeConflicts: 0, overlapped: [] });
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  it("does not flag concurrent HTTP clients that each insert and then patch their own row", async () => {
    const owners = Array.from({ length: 30 }, (_, i) => `owner-${i}`);
    const result = await measure("items:bump", async () => {
      await Promise.all(owners.map((owner) => postMutation("items:bump", { owner })));
      await Promise.all(owners.map((owner) => postMutation("items:bump", { owner })));
    });
    expect(result.commits).toBe(60);
    expect(result.written).toEqual({ items: 60 });
    expect(result.wouldBeConflicts).toBe(0);
  });

  it("counts every parallel runMutation of one action on a hot counter but the first", async () => {
    const client = httpClient(server.url);
    const result = await measure("counters:incrementInternal", () =>
      client.action(api.counters.incrementInParallel, { name: "hot-action", times: 10 }),
    );
    expect(result).toEqual({
      commits: 10,
      wouldBeConflicts: 9,
      overlapped: ["counters:incrementInternal counters"],
      written: { counters: 10 },
    });
    expect(await client.query(api.counters.get, { name: "hot-action" })).toBe(10);
  });

  it("does not flag one action's runMutation calls made one after another, nor parallel ones on separate rows", async () => {
    const client = httpClient(server.url);
    const sequential = await measure("counters:increment", () =>
      client.action(api.counters.incrementInSequence, { name: "sequential", times: 10 }),
    );
    expect(sequential).toMatchObject({ commits: 10, wouldBeConflicts: 0, overlapped: [] });
    const independent = await measure("items:bumpInternal", () =>
      client.action(api.items.bumpInParallel, {
        owners: Array.from({ length: 10 }, (_, i) => `action-${i}`),
      }),
    );
    expect(independent).toMatchObject({ commits: 10, wouldBeConflicts: 0, overlapped: [] });
  });

  it("does not flag a client's mutations that each waited for the previous answer", async () => {
    const client = httpClient(server.url);
    const result = await measure("counters:increment", async () => {
      for (let i = 0; i < 10; i++) await client.mutation(api.counters.increment, { name: "one-client" });
    });
    expect(result).toMatchObject({ commits: 10, wouldBeConflicts: 0, overlapped: [] });
  });

  it("flags scheduled jobs that fan out onto a hot counter", async () => {
    const client = httpClient(server.url);
    const result = await measure("counters:incrementInternal", async () => {
      await client.mutation(api.counters.scheduleIncrements, { name: "hot-scheduled", times: 10 });
      await until(
        () => client.query(api.counters.get, { name: "hot-scheduled" }),
        (value) => value === 10,
      );
    });
    expect(result.commits).toBe(10);
    // Scheduled commits count their writes too: one counter document each.
    expect(result.written).toEqual({ counters: 10 });
    expect(result.wouldBeConflicts).toBeGreaterThan(0);
    expect(result.wouldBeConflicts).toBeLessThanOrEqual(9);
    expect(result.overlapped).toEqual(["counters:incrementInternal counters"]);
  });

  it("flags a read of an index range that concurrent mutations insert into, not of another range", async () => {
    const client = httpClient(server.url);
    const into = await measure("tasks:summarize", () =>
      client.action(api.tasks.addWhileReading, {
        addTo: "a",
        numbers: [1, 2, 3],
        read: "a",
        reader: "summarize",
      }),
    );
    expect(into).toMatchObject({ commits: 1, wouldBeConflicts: 1, overlapped: ["tasks:add tasks"] });
    const beside = await measure("tasks:summarize", () =>
      client.action(api.tasks.addWhileReading, {
        addTo: "b",
        numbers: [1, 2, 3],
        read: "a",
        reader: "summarize",
      }),
    );
    expect(beside).toMatchObject({ commits: 1, wouldBeConflicts: 0, overlapped: [] });
    // The inserts themselves read nothing, so they never conflict.
    const adds = (await metrics()).functions["tasks:add"];
    expect(adds.commits).toBe(6);
    expect(adds.wouldBeConflicts).toBe(0);
  });

  it("counts only the part of a range a scan read before it stopped (first())", async () => {
    const client = httpClient(server.url);
    await client.mutation(api.tasks.add, { list: "q", n: 5 });
    const after = await measure("tasks:takeFirst", () =>
      client.action(api.tasks.addWhileReading, {
        addTo: "q",
        numbers: [10, 11],
        read: "q",
        reader: "takeFirst",
      }),
    );
    expect(after).toMatchObject({ commits: 1, wouldBeConflicts: 0, overlapped: [] });
    const before = await measure("tasks:takeFirst", () =>
      client.action(api.tasks.addWhileReading, { addTo: "q", numbers: [1], read: "q", reader: "takeFirst" }),
    );
    expect(before).toMatchObject({ commits: 1, wouldBeConflicts: 1, overlapped: ["tasks:add tasks"] });
  });

  it("reports the figure for every function, with totals", async () => {
    const snapshot = await metrics();
    const query = snapshot.functions["counters:get"];
    expect(query).toMatchObject({ kind: "query", commits: 0, wouldBeConflicts: 0, wouldBeConflictsWith: [] });
    const totals = Object.values(snapshot.functions).reduce(
      (sum, f) => ({ checked: sum.checked + f.commits, flagged: sum.flagged + f.wouldBeConflicts }),
      { checked: 0, flagged: 0 },
    );
    expect(snapshot.conflicts.mutationsChecked).toBe(totals.checked);
    expect(snapshot.conflicts.wouldBeConflicts).toBe(totals.flagged);
    expect(snapshot.conflicts.historyOverflows).toBe(0);
  });
});
