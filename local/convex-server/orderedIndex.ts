/**
 * Ordered indexes over the committed documents, so an index range is read in index order from
 * where it starts: `take(n)` of a range touches n documents, not every document sharing its
 * equality prefix (which convex-test collects, filters and sorts on every query).
 *
 * For each index the documents are grouped by the values of its first `g` fields (the range's
 * leading equalities) and each group is kept sorted by the remaining fields, `_creationTime`
 * and `_id`, as Convex orders index entries. A grouping is built the first time a query needs
 * it and kept in step with every commit after that.
 *
 * Only committed documents are here; convex-test merges a transaction's own writes into the
 * stream (patch "index-ordered-ranges" in convexTestAdapter.ts).
 */
import { compareValues, convexToJson, type JSONValue, type Value } from "convex/values";
import type { Doc } from "./persistence.js";
import { compareKeys, fieldValue } from "./readSet.js";

type Key = (Value | undefined)[];
export type RangeFilter = { type: string; fieldPath: string; value: Value | undefined };

interface Entry {
  id: string;
  key: Key;
}

/** Documents grouped by the values of an index's first `prefix` fields, each group sorted. */
interface Grouping {
  prefix: number;
  groups: Map<string, Entry[]>;
}

interface IndexState {
  /** The index's fields followed by `_creationTime` and `_id`. */
  fields: string[];
  /** How many of `fields` the schema declares (the rest are `_creationTime`, `_id`). */
  declared: number;
  groupings: Map<number, Grouping>;
}

export class OrderedIndexes {
  /** Per table, per index name. */
  private tables = new Map<string, Map<string, IndexState>>();

  /** `documentsOf(table)`: the committed documents of one table, for building a grouping. */
  constructor(private readonly documentsOf: (table: string) => Iterable<Doc>) {}

  /** Forgets every grouping and declares the indexes of `schemaTables` (plus the built-in ones). */
  define(schemaTables: Iterable<[string, { indexDescriptor: string; fields: string[] }[]]>): void {
    this.tables.clear();
    for (const [table, indexes] of schemaTables) {
      const byName = this.indexesOf(table);
      for (const index of indexes) byName.set(index.indexDescriptor, state(index.fields));
    }
  }

  /**
   * The committed ids within `range` of `table.indexName`, in index order (`desc`: reversed), or
   * undefined for an index this table does not declare. `range` is an index range expression
   * as convex-test has validated it: equalities on leading fields, then at most one lower and
   * one upper bound on the next field; its values decoded. `startAfter`, a whole index key (a
   * page's cursor), skips every entry up to and including it in the order read.
   */
  range(
    table: string,
    indexName: string,
    range: RangeFilter[],
    order: "asc" | "desc",
    startAfter?: Key,
  ): Iterable<string> | undefined {
    const index = this.index(table, indexName);
    if (!index) return undefined;
    let eqs = 0;
    while (eqs < range.length && range[eqs].type === "Eq") eqs++;
    const prefix = Math.min(eqs, index.declared);
    const grouping = this.grouping(table, index, prefix);
    const eqValues = range.slice(0, prefix).map((r) => r.value);
    const entries = grouping.groups.get(groupKey(eqValues));
    if (!entries) return [];
    // What is left constrains the sorted key: more equalities (on `_creationTime`, `_id`),
    // then a lower and/or an upper bound on the next field.
    const rest = range.slice(prefix);
    const equal = rest.filter((r) => r.type === "Eq").map((r) => r.value);
    const lower = rest.find((r) => r.type === "Gt" || r.type === "Gte");
    const upper = rest.find((r) => r.type === "Lt" || r.type === "Lte");
    const start = lower
      ? firstAt(entries, [...equal, lower.value], lower.type === "Gt")
      : firstAt(entries, equal, false);
    const end = upper
      ? firstAt(entries, [...equal, upper.value], upper.type === "Lte")
      : firstAt(entries, equal, true);
    if (startAfter?.length === index.fields.length) {
      // Within the group the cursor is a position; a cursor in another group is before or
      // after all of it.
      const group = comparePrefix(eqValues, startAfter.slice(0, prefix));
      const cursor = startAfter.slice(prefix);
      const at = group > 0 ? 0 : group < 0 ? entries.length : null;
      if (order === "desc")
        return idsDown(entries, start, Math.min(end, at ?? firstAt(entries, cursor, false)));
      return idsUp(entries, Math.max(start, at ?? firstAt(entries, cursor, true)), end);
    }
    return order === "desc" ? idsDown(entries, start, end) : idsUp(entries, start, end);
  }

  /** Keeps every built grouping of `table` in step with one committed write. */
  update(table: string, id: string, before: Doc | null, after: Doc | null): void {
    const indexes = this.tables.get(table);
    if (!indexes) return;
    for (const index of indexes.values()) {
      if (index.groupings.size === 0) continue;
      const old = before ? index.fields.map((f) => fieldValue(before, f)) : null;
      const now = after ? index.fields.map((f) => fieldValue(after, f)) : null;
      if (old && now && compareKeys(old, now) === 0) continue;
      for (const grouping of index.groupings.values()) {
        if (old) remove(grouping, id, old);
        if (now) insert(grouping, id, now);
      }
    }
  }

  private indexesOf(table: string): Map<string, IndexState> {
    let byName = this.tables.get(table);
    if (!byName) {
      byName = new Map([
        ["by_creation_time", state([])],
        ["by_id", { fields: ["_id"], declared: 0, groupings: new Map() }],
      ]);
      this.tables.set(table, byName);
    }
    return byName;
  }

  private index(table: string, indexName: string): IndexState | undefined {
    const byName = this.tables.get(table);
    if (byName) return byName.get(indexName);
    // A table the schema does not declare (or a system table) still has the built-in indexes.
    return indexName === "by_creation_time" || indexName === "by_id"
      ? this.indexesOf(table).get(indexName)
      : undefined;
  }

  private grouping(table: string, index: IndexState, prefix: number): Grouping {
    let grouping = index.groupings.get(prefix);
    if (grouping) return grouping;
    grouping = { prefix, groups: new Map() };
    const unsorted = new Map<string, Entry[]>();
    for (const doc of this.documentsOf(table)) {
      const values = index.fields.map((f) => fieldValue(doc, f));
      const key = groupKey(values.slice(0, prefix));
      let entries = unsorted.get(key);
      if (!entries) unsorted.set(key, (entries = []));
      entries.push({ id: doc._id, key: values.slice(prefix) });
    }
    for (const [key, entries] of unsorted)
      grouping.groups.set(
        key,
        entries.sort((a, b) => compareKeys(a.key, b.key)),
      );
    index.groupings.set(prefix, grouping);
    return grouping;
  }
}

function state(fields: string[]): IndexState {
  return { fields: [...fields, "_creationTime", "_id"], declared: fields.length, groupings: new Map() };
}

function insert(grouping: Grouping, id: string, values: Key): void {
  const group = groupKey(values.slice(0, grouping.prefix));
  const key = values.slice(grouping.prefix);
  let entries = grouping.groups.get(group);
  if (!entries) grouping.groups.set(group, (entries = []));
  entries.splice(firstAt(entries, key, false), 0, { id, key });
}

function remove(grouping: Grouping, id: string, values: Key): void {
  const group = groupKey(values.slice(0, grouping.prefix));
  const entries = grouping.groups.get(group);
  if (!entries) return;
  const at = firstAt(entries, values.slice(grouping.prefix), false);
  if (entries[at]?.id !== id) return;
  entries.splice(at, 1);
  if (entries.length === 0) grouping.groups.delete(group);
}

/**
 * The first position whose key, cut to `bound`'s length, is past `bound` (`after`) or at or past
 * it: a binary search, as `entries` are sorted.
 */
function firstAt(entries: Entry[], bound: Key, after: boolean): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const cmp = comparePrefix(entries[mid].key, bound);
    if (cmp > 0 || (cmp === 0 && !after)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function comparePrefix(key: Key, bound: Key): number {
  for (let i = 0; i < bound.length; i++) {
    const cmp = compareValues(key[i], bound[i]);
    if (cmp !== 0) return cmp;
  }
  return 0;
}

function* idsUp(entries: Entry[], start: number, end: number): Generator<string> {
  for (let i = start; i < end; i++) yield entries[i].id;
}

function* idsDown(entries: Entry[], start: number, end: number): Generator<string> {
  for (let i = end - 1; i >= start; i--) yield entries[i].id;
}

/** A group's key: equal values (object keys in any order) always give the same text. */
export function groupKey(values: Key): string {
  return values.map(valueKey).join("\u0000");
}

function valueKey(value: Value | undefined): string {
  return value === undefined ? "undefined" : JSON.stringify(sortKeys(convexToJson(value)));
}

function sortKeys(json: JSONValue): JSONValue {
  if (Array.isArray(json)) return json.map(sortKeys);
  if (json !== null && typeof json === "object") {
    return Object.fromEntries(
      Object.keys(json)
        .sort()
        .map((k) => [k, sortKeys((json as Record<string, JSONValue>)[k])]),
    );
  }
  return json;
}
