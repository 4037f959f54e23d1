// Index lookups on the local server: ranges read from ordered indexes (orderedIndex.ts), which
// must follow every insert, patch and delete, and see the transaction's own pending writes.
import path from "node:path";
import { compareValues } from "convex/values";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api } from "../fixtures/indexes/convex/_generated/api";
import type { Id } from "../fixtures/indexes/convex/_generated/dataModel";
import type { RangeArgs as Spec } from "../fixtures/indexes/convex/items";
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

  it("read random ranges, orders, limits and filters as their definition says, with and without the transaction's writes", async () => {
    const c = httpClient(server.url);
    type Item = { id: Id<"items">; group?: string; kind: string; n: number };
    const items: Item[] = []; // in creation order
    let state = 7;
    const next = () => (state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32;
    const pick = <T>(xs: T[]): T => xs[Math.floor(next() * xs.length)];
    const groups = [undefined, "a", "b", "c"];
    const kinds = ["x", "y", "z"];
    let n = 0;
    // The definition: every item satisfying the range, by (group, kind, n); `n` is unique.
    const expected = (all: Item[], spec: Spec): number[] => {
      const test = (item: Item, r: Spec["range"][number]) => {
        const cmp = compareValues(item[r.field as "group" | "kind" | "n"], r.value);
        return { eq: cmp === 0, gt: cmp > 0, gte: cmp >= 0, lt: cmp < 0, lte: cmp <= 0 }[r.type as "eq"];
      };
      let rows = all.filter((item) => spec.range.every((r) => test(item, r)));
      if (!spec.scan) {
        rows = [...rows].sort(
          (a, b) => compareValues(a.group, b.group) || compareValues(a.kind, b.kind) || a.n - b.n,
        );
      }
      if (spec.order === "desc") rows = [...rows].reverse();
      if (spec.skipKind !== undefined) rows = rows.filter((r) => r.kind !== spec.skipKind);
      return rows.slice(0, spec.limit ?? rows.length).map((r) => r.n);
    };
    const randomSpec = (): Spec => {
      if (next() < 0.15)
        return { range: [], scan: true, order: pick(["asc", "desc"]), limit: pick([undefined, 1, 3]) };
      const fields = ["group", "kind", "n"];
      const valueOf = (field: string) =>
        field === "group" ? pick(groups) : field === "kind" ? pick(kinds) : Math.floor(next() * n);
      const range: Spec["range"] = [];
      const eqs = Math.floor(next() * 4);
      for (let i = 0; i < eqs; i++) range.push({ type: "eq", field: fields[i], value: valueOf(fields[i]) });
      if (eqs < 3) {
        if (next() < 0.5)
          range.push({ type: pick(["gt", "gte"]), field: fields[eqs], value: valueOf(fields[eqs]) });
        if (next() < 0.5)
          range.push({ type: pick(["lt", "lte"]), field: fields[eqs], value: valueOf(fields[eqs]) });
      }
      return {
        range,
        scan: false,
        order: pick(["asc", "desc"]),
        limit: pick([undefined, 1, 2, 5]),
        skipKind: pick([undefined, undefined, "y"]),
      };
    };
    for (let round = 0; round < 60; round++) {
      // Writes: a few inserts, moves and deletes, applied in the same mutation as a read.
      const writes: Parameters<typeof c.mutation<typeof api.items.writeAndScan>>[1]["writes"] = [];
      const after = items.map((item) => ({ ...item }));
      const inserts: Omit<Item, "id">[] = [];
      for (let w = 0; w < 3; w++) {
        const roll = next();
        const live = after.filter((item) => !writes.some((x) => x.op === "delete" && x.id === item.id));
        if (roll < 0.5 || live.length === 0) {
          const row = { group: pick(groups), kind: pick(kinds), n: n++ };
          inserts.push(row);
          writes.push({ op: "insert", ...row });
        } else if (roll < 0.8) {
          const item = pick(live);
          item.group = pick(groups);
          item.kind = pick(kinds);
          writes.push({ op: "patch", id: item.id, group: item.group, kind: item.kind });
        } else {
          writes.push({ op: "delete", id: pick(live).id });
        }
      }
      const spec = randomSpec();
      const { inserted, ns } = await c.mutation(api.items.writeAndScan, { ...spec, writes });
      const deleted = new Set(writes.flatMap((w) => (w.op === "delete" ? [w.id] : [])));
      items.splice(0, items.length, ...after.filter((item) => !deleted.has(item.id)));
      items.push(...inserts.map((row, i) => ({ ...row, id: inserted[i] })));
      expect(ns, `round ${round} (in the mutation) ${JSON.stringify(spec)}`).toEqual(expected(items, spec));
      const read = randomSpec();
      expect(await c.query(api.items.scan, read), `round ${round} ${JSON.stringify(read)}`).toEqual(
        expected(items, read),
      );
      // The same range page by page, each page starting from the last one's cursor.
      const { limit: _unused, ...paged } = randomSpec();
      const numItems = 1 + Math.floor(next() * 4);
      const pages: number[] = [];
      for (let cursor: string | null = null, done = false; !done;) {
        const page: { page: number[]; continueCursor: string; isDone: boolean } = await c.query(
          api.items.page,
          {
            ...paged,
            paginationOpts: { numItems, cursor },
          },
        );
        pages.push(...page.page);
        [cursor, done] = [page.continueCursor, page.isDone];
      }
      expect(pages, `round ${round} pages of ${numItems} ${JSON.stringify(paged)}`).toEqual(
        expected(items, paged),
      );
    }
  });

  it("survive a restart", async () => {
    const dataDir = server.dataDir;
    await server.stop();
    server = await startServer({ functionsDir: path.join(ROOT, "tests/fixtures/indexes/convex"), dataDir });
    expect(await httpClient(server.url).query(api.rows.byGroup, { group: "b" })).toEqual([1, 3]);
  });
});
