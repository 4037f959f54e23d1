// Index lookups on the local server: equality prefixes read from per-index buckets, which must
// follow every insert, patch and delete (and see the transaction's own pending writes).
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api } from "../fixtures/indexes/convex/_generated/api";
import { httpClient, ROOT, startServer, type TestServer } from "./harness";

describe("index equality lookups", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ functionsDir: path.join(ROOT, "tests/fixtures/indexes/convex") });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("follow inserts, moves between values, deletes and missing fields", async () => {
    const c = httpClient(server.url);
    const a1 = await c.mutation(api.rows.insert, { group: "a", kind: "x", n: 1 });
    await c.mutation(api.rows.insert, { group: "a", kind: "y", n: 2 });
    await c.mutation(api.rows.insert, { group: "b", kind: "x", n: 3 });
    const none = await c.mutation(api.rows.insert, { kind: "x", n: 4 });
    expect(await c.query(api.rows.byGroup, { group: "a" })).toEqual([1, 2]);
    expect(await c.query(api.rows.byGroup, {})).toEqual([4]);

    await c.mutation(api.rows.setGroup, { id: a1, group: "b" });
    expect(await c.query(api.rows.byGroup, { group: "a" })).toEqual([2]);
    expect(await c.query(api.rows.byGroup, { group: "b" })).toEqual([1, 3]);

    await c.mutation(api.rows.setGroup, { id: none, group: "a" });
    expect(await c.query(api.rows.byGroup, {})).toEqual([]);
    // Ordered by the index: kind "x" (4) before kind "y" (2).
    expect(await c.query(api.rows.byGroup, { group: "a" })).toEqual([4, 2]);

    await c.mutation(api.rows.remove, { id: none });
    expect(await c.query(api.rows.byGroup, { group: "a" })).toEqual([2]);
  });

  it("narrow by several equalities and a bound, and see the transaction's own writes", async () => {
    const c = httpClient(server.url);
    for (const n of [5, 6, 7]) await c.mutation(api.rows.insert, { group: "g", kind: "k", n });
    await c.mutation(api.rows.insert, { group: "g", kind: "other", n: 8 });
    expect(await c.query(api.rows.byGroupKind, { group: "g", kind: "k", min: 6 })).toEqual([6, 7]);
    const id = await c.mutation(api.rows.insert, { group: "h", kind: "moved", n: 9 });
    expect((await c.mutation(api.rows.moveAndRead, { id, to: "z" })).sort()).toEqual(["fresh", "moved"]);
    expect(await c.query(api.rows.byGroup, { group: "h" })).toEqual([]);
  });

  it("match object values whatever their key order", async () => {
    const c = httpClient(server.url);
    await c.mutation(api.rows.insert, { kind: "m", n: 10, meta: { a: 1, b: 2 } });
    expect(await c.query(api.rows.byMeta, { meta: { b: 2, a: 1 } })).toEqual([10]);
  });

  it("survive a restart", async () => {
    const dataDir = server.dataDir;
    await server.stop();
    server = await startServer({ functionsDir: path.join(ROOT, "tests/fixtures/indexes/convex"), dataDir });
    expect(await httpClient(server.url).query(api.rows.byGroup, { group: "b" })).toEqual([1, 3]);
  });
});
