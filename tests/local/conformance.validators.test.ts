/**
 * Conformance: documents using every validator kind (strings, floats incl. NaN/±Infinity/-0,
 * int64, booleans, null, bytes, literals, arrays of objects with optional fields, records of
 * primitives, of objects and of records, id-keyed records, unions of objects, optional, any,
 * ids) survive restarts of the real CLI — after SIGTERM and after kill -9 — exactly, and the
 * indexes and the search index still answer.
 * Fixture: tests/fixtures/all-validators/convex.
 */
import path from "node:path";
import { convexToJson } from "convex/values";
import { afterEach, describe, expect, it } from "vitest";
import { api } from "../fixtures/all-validators/convex/_generated/api";
import type { Doc, Id } from "../fixtures/all-validators/convex/_generated/dataModel";
import {
  httpClient,
  removeDir,
  ROOT,
  spawnOnEphemeralPorts,
  tempDir,
  wsClient,
  type SpawnedServer,
} from "./harness";

const FUNCTIONS = path.join(ROOT, "tests/fixtures/all-validators/convex");

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function start(dataDir: string): Promise<SpawnedServer> {
  return spawnOnEphemeralPorts(FUNCTIONS, dataDir, cleanups);
}

function dataDir(): string {
  const dir = tempDir("convex-local-validators-");
  cleanups.push(() => removeDir(dir));
  return path.join(dir, "data");
}

type KindFields = Omit<Doc<"kinds">, "_id" | "_creationTime">;

function bytes(...values: number[]): ArrayBuffer {
  return new Uint8Array(values).buffer;
}

function documents(owner: Id<"owners">, other: Id<"owners">, tag: string): KindFields[] {
  const base: KindFields = {
    text: `alpha bravo ${tag}`,
    num: 1.5,
    big: 9_007_199_254_740_993n,
    flag: true,
    nothing: null,
    raw: bytes(0, 1, 2, 253, 254, 255),
    lit: "fixed",
    litNum: 7,
    litBig: 3n,
    litBool: true,
    items: [{ label: "one" }, { label: "two", note: "with note", n: -2 }],
    counts: { a: 1, "b c": 2.25, "": 0 },
    people: { ann: { age: 41 }, bob: { age: 37, tags: ["x", "y"] } },
    byOwner: { [owner]: true, [other]: false },
    nested: { outer: { inner: "value", gone: null }, empty: {} },
    shape: { kind: "circle", r: 2 },
    maybe: "present",
    maybeObj: { deep: [1n, -1n, 0n] },
    anything: { mixed: [1, "two", null, false, { three: 3n }], buf: bytes(9, 8, 7) },
    owner,
    owners: [owner, other, owner],
    status: "open",
  };
  return [
    base,
    {
      ...base,
      text: `charlie delta ${tag}`,
      num: Number.NaN,
      big: -9_223_372_036_854_775_808n,
      flag: false,
      raw: new ArrayBuffer(0),
      items: [],
      counts: {},
      people: {},
      byOwner: {},
      nested: {},
      shape: { kind: "rect", w: 3, h: 4, label: "box" },
      maybe: undefined,
      maybeObj: undefined,
      anything: null,
      owner: other,
      owners: [],
      status: "closed",
    },
    {
      ...base,
      text: `echo ${tag}`,
      num: Number.POSITIVE_INFINITY,
      big: 9_223_372_036_854_775_807n,
      anything: "s",
    },
    { ...base, text: `foxtrot ${tag}`, num: Number.NEGATIVE_INFINITY, anything: 5e-324 },
    { ...base, text: `golf ${tag}`, num: -0, anything: [bytes(1)], maybeObj: {} },
    { ...base, text: `hotel ${tag}`, num: Number.MAX_VALUE, shape: { kind: "rect", w: 0, h: -0 } },
  ].map(
    (d) => Object.fromEntries(Object.entries(d).filter(([, value]) => value !== undefined)) as KindFields,
  );
}

/** Every document, encoded the way Convex sends values (exact for bytes, int64 and special floats). */
async function snapshot(server: SpawnedServer) {
  const all = await httpClient(server.url).query(api.kinds.all, {});
  return { all, json: JSON.stringify(convexToJson(all)) };
}

async function checkIndexes(server: SpawnedServer, owner: Id<"owners">, other: Id<"owners">, tag: string) {
  const client = httpClient(server.url);
  const { all } = await snapshot(server);
  const mine = all.kinds.filter((d) => d.owner === owner).map((d) => d._id);
  expect((await client.query(api.kinds.byOwner, { owner })).map((d) => d._id)).toEqual(mine);
  expect((await client.query(api.kinds.byOwner, { owner: other })).length).toBe(
    all.kinds.filter((d) => d.owner === other).length,
  );
  expect((await client.query(api.kinds.byStatus, { status: "closed" })).map((d) => d.text)).toEqual(
    all.kinds.filter((d) => d.status === "closed").map((d) => d.text),
  );
  const found = await client.query(api.kinds.search, { text: `charlie ${tag}` });
  expect(found.map((d) => d.text)).toContain(`charlie delta ${tag}`);
  const filtered = await client.query(api.kinds.search, { text: "bravo", status: "open" });
  expect(filtered.length).toBeGreaterThan(0);
  expect(filtered.every((d) => d.status === "open" && d.text.includes("bravo"))).toBe(true);
}

describe("every validator kind survives restarts of the real server", () => {
  it("after SIGTERM and after kill -9, every document is identical and the indexes answer", async () => {
    const data = dataDir();
    const first = await start(data);
    const http = httpClient(first.url);
    const ws = wsClient(first.url);
    let owner: Id<"owners">;
    let other: Id<"owners">;
    try {
      owner = await ws.mutation(api.kinds.addOwner, { name: "Ann" });
      other = await http.mutation(api.kinds.addOwner, { name: "Bob" });
      const docs = documents(owner, other, "first");
      // Half through the WebSocket client, half over HTTP.
      for (const [i, doc] of docs.entries()) {
        if (i % 2 === 0) await ws.mutation(api.kinds.add, doc);
        else await http.mutation(api.kinds.add, doc);
      }
      // A patch that removes optional fields and replaces a record.
      const last = (await http.query(api.kinds.all, {})).kinds.at(-1)!;
      await http.mutation(api.kinds.patch, {
        id: last._id,
        fields: { counts: { z: 26 }, nested: { x: { y: null } } },
        remove: ["maybe"],
      });
    } finally {
      await ws.close();
    }
    // A union of literals takes its members and nothing else (members are compared, not thrown).
    expect(await http.query(api.kinds.search, { text: "bravo", status: "closed" })).toEqual([]);
    await expect(
      http.query(api.kinds.search, { text: "bravo", status: "pending" as "open" }),
    ).rejects.toThrow(/Expected one of literal, literal, got `"pending"`/);
    const before = await snapshot(first);
    expect(before.all.kinds).toHaveLength(6);
    // Values came back as written (spot checks of the tricky encodings).
    expect(Number.isNaN(before.all.kinds[1].num)).toBe(true);
    expect(Object.is(before.all.kinds[4].num, -0)).toBe(true);
    expect(before.all.kinds[1].big).toBe(-9_223_372_036_854_775_808n);
    expect([...new Uint8Array(before.all.kinds[0].raw)]).toEqual([0, 1, 2, 253, 254, 255]);
    expect(before.all.kinds[5].maybe).toBeUndefined();
    expect(before.all.kinds[5].counts).toEqual({ z: 26 });

    // Clean stop, then start on the same data.
    expect(await first.kill("SIGTERM")).toBe(0);
    const second = await start(data);
    const afterStop = await snapshot(second);
    expect(afterStop.json).toBe(before.json);
    expect(afterStop.all).toEqual(before.all);
    await checkIndexes(second, owner, other, "first");

    // More writes, acknowledged, then kill -9 with no chance to write a snapshot.
    const http2 = httpClient(second.url);
    for (const doc of documents(owner, other, "second")) await http2.mutation(api.kinds.add, doc);
    const beforeCrash = await snapshot(second);
    expect(beforeCrash.all.kinds).toHaveLength(12);
    await second.kill("SIGKILL");

    const third = await start(data);
    const afterCrash = await snapshot(third);
    expect(afterCrash.json).toBe(beforeCrash.json);
    expect(afterCrash.all).toEqual(beforeCrash.all);
    await checkIndexes(third, owner, other, "second");

    // And once more after a clean stop of the recovered server (snapshot written from replayed state).
    expect(await third.kill("SIGTERM")).toBe(0);
    const fourth = await start(data);
    expect((await snapshot(fourth)).json).toBe(beforeCrash.json);
  }, 120_000);
});
