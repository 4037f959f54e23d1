// The local server's ordered indexes against the plain definition of an index range: every
// document whose fields satisfy the range, sorted by the index's fields, _creationTime and _id.
// Random documents, random writes (inserts, moves, deletes) and random ranges, seeded.
import { compareValues, type Value } from "convex/values";
import { describe, expect, it } from "vitest";
import { OrderedIndexes, type RangeFilter } from "../../local/convex-server/orderedIndex";
import type { Doc } from "../../local/convex-server/persistence";
import { compareKeys } from "../../local/convex-server/readSet";

const FIELDS = ["group", "kind", "n"];

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function fieldValue(doc: Doc, field: string): Value | undefined {
  return doc[field];
}

/** The definition: filter every document by the range, sort by the index key. */
function expected(docs: Doc[], fields: string[], range: RangeFilter[], order: "asc" | "desc"): string[] {
  const keyFields = [...fields, "_creationTime", "_id"];
  const matches = docs.filter((doc) =>
    range.every((r) => {
      const cmp = compareValues(fieldValue(doc, r.fieldPath), r.value);
      return r.type === "Eq"
        ? cmp === 0
        : r.type === "Gt"
          ? cmp > 0
          : r.type === "Gte"
            ? cmp >= 0
            : r.type === "Lt"
              ? cmp < 0
              : cmp <= 0;
    }),
  );
  matches.sort((a, b) => {
    for (const f of keyFields) {
      const cmp = compareValues(fieldValue(a, f), fieldValue(b, f));
      if (cmp !== 0) return cmp;
    }
    return 0;
  });
  const ids = matches.map((d) => d._id);
  return order === "desc" ? ids.reverse() : ids;
}

function randomRange(next: () => number, fields: string[], values: () => Value | undefined): RangeFilter[] {
  const keyFields = [...fields, "_creationTime"];
  const eqs = Math.floor(next() * (keyFields.length + 1));
  const valueOf = (field: string) => (field === "_creationTime" ? Math.floor(next() * 40) : values());
  const range: RangeFilter[] = [];
  for (let i = 0; i < eqs; i++)
    range.push({ type: "Eq", fieldPath: keyFields[i], value: valueOf(keyFields[i]) });
  const boundField = keyFields[range.length];
  if (boundField === undefined) return range;
  const bound = () => valueOf(boundField);
  if (next() < 0.5) range.push({ type: next() < 0.5 ? "Gt" : "Gte", fieldPath: boundField, value: bound() });
  if (next() < 0.5) range.push({ type: next() < 0.5 ? "Lt" : "Lte", fieldPath: boundField, value: bound() });
  return range;
}

describe("ordered indexes", () => {
  it("return exactly the range, in index order, through inserts, moves and deletes", () => {
    for (let seed = 1; seed <= 40; seed++) {
      const next = random(seed);
      // Few distinct values, of mixed types (undefined, numbers, strings), so groups and ties are common.
      const pool: (Value | undefined)[] = [undefined, 1, 2, 3, "a", "b", null];
      const values = () => pool[Math.floor(next() * pool.length)];
      const docs = new Map<string, Doc>();
      const indexes = new OrderedIndexes(() => docs.values());
      indexes.define([["rows", [{ indexDescriptor: "by_gkn", fields: FIELDS }]]]);
      let created = 0;
      const write = () => {
        const ids = [...docs.keys()];
        const roll = next();
        if (roll < 0.5 || ids.length === 0) {
          created += 1;
          const doc: Doc = { _id: `${String(created).padStart(6, "0")}rows`, _creationTime: created };
          for (const f of FIELDS) {
            const value = values();
            if (value !== undefined) doc[f] = value;
          }
          docs.set(doc._id, doc);
          indexes.update("rows", doc._id, null, doc);
        } else {
          const id = ids[Math.floor(next() * ids.length)];
          const before = docs.get(id)!;
          if (roll < 0.8) {
            const after: Doc = { ...before };
            const f = FIELDS[Math.floor(next() * FIELDS.length)];
            const value = values();
            if (value === undefined) delete after[f];
            else after[f] = value;
            docs.set(id, after);
            indexes.update("rows", id, before, after);
          } else {
            docs.delete(id);
            indexes.update("rows", id, before, null);
          }
        }
      };
      for (let round = 0; round < 30; round++) {
        for (let i = 0; i < 5; i++) write();
        for (let q = 0; q < 5; q++) {
          const range = randomRange(next, FIELDS, values);
          const order = next() < 0.5 ? "asc" : "desc";
          const got = [...(indexes.range("rows", "by_gkn", range, order) ?? ["undefined index"])];
          expect(got, `seed ${seed} round ${round} ${JSON.stringify(range)} ${order}`).toEqual(
            expected([...docs.values()], FIELDS, range, order),
          );
          // From a page's cursor: the whole index key of some document (in the range or not,
          // still there or not), and only what comes after it in the order read.
          const all = [...docs.values()];
          if (all.length > 0) {
            const at = all[Math.floor(next() * all.length)];
            const keyOf = (doc: Doc) => [...FIELDS, "_creationTime", "_id"].map((f) => fieldValue(doc, f));
            const cursor = keyOf(at);
            if (next() < 0.3) {
              docs.delete(at._id);
              indexes.update("rows", at._id, at, null);
            }
            const after = expected([...docs.values()], FIELDS, range, order).filter((id) => {
              const cmp = compareKeys(keyOf(docs.get(id)!), cursor);
              return order === "asc" ? cmp > 0 : cmp < 0;
            });
            expect(
              [...indexes.range("rows", "by_gkn", range, order, cursor)!],
              `from ${at._id} ${JSON.stringify(cursor)} ${JSON.stringify(range)} ${order}`,
            ).toEqual(after);
          }
          const scan = [...(indexes.range("rows", "by_creation_time", [], order) ?? [])];
          expect(scan).toEqual(expected([...docs.values()], [], [], order));
        }
      }
    }
  });

  it("group object values whatever their key order, and know only declared indexes", () => {
    const docs: Doc[] = [{ _id: "1t", _creationTime: 1, meta: { b: 2, a: 1 } }];
    const indexes = new OrderedIndexes((table) => docs.filter((d) => d._id.endsWith(table)));
    indexes.define([["t", [{ indexDescriptor: "by_meta", fields: ["meta"] }]]]);
    expect([
      ...indexes.range("t", "by_meta", [{ type: "Eq", fieldPath: "meta", value: { a: 1, b: 2 } }], "asc")!,
    ]).toEqual(["1t"]);
    expect(indexes.range("t", "by_other", [], "asc")).toBeUndefined();
    expect([...indexes.range("undeclared", "by_creation_time", [], "asc")!]).toEqual([]);
  });
});
