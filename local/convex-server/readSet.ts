/**
 * What a query read, precise enough to decide whether a later commit can change its result:
 * whole tables for scans and searches, index ranges for `withIndex`, single ids for `get`.
 * A range can also end at an index key, when a scan stopped there (`take`, `first`, a page).
 */
import { compareValues, convexToJson, jsonToConvex, type JSONValue, type Value } from "convex/values";
import type { Doc } from "./persistence.js";

export type FieldCondition = {
  type: "Eq" | "Gt" | "Gte" | "Lt" | "Lte";
  fieldPath: string;
  value: Value | undefined;
};
/**
 * The part of an index a scan got through before it stopped: keys up to `key` in ascending
 * order ("UpTo") or down to it in descending order ("DownTo"). `fields` is the index key (its
 * fields, then `_creationTime` and `_id`, as Convex orders indexes).
 */
export type KeyBound = { type: "UpTo" | "DownTo"; fields: string[]; key: (Value | undefined)[] };
type RangeCondition = FieldCondition | KeyBound;
type TableReads = { all: boolean; ids: Set<string>; ranges: RangeCondition[][] };

export type RangeJson = { type: FieldCondition["type"]; fieldPath: string; value: JSONValue }[];

export type QueryJson = {
  source:
    | { type: "FullTableScan"; tableName: string; order?: "asc" | "desc" | null }
    | { type: "IndexRange"; indexName: string; range: RangeJson; order?: "asc" | "desc" | null }
    | { type: "Search"; indexName: string };
  operators?: ({ filter: unknown } | { limit: number })[];
};

export class ReadSet {
  readonly tables = new Map<string, TableReads>();

  private table(name: string): TableReads {
    let reads = this.tables.get(name);
    if (!reads) {
      reads = { all: false, ids: new Set(), ranges: [] };
      this.tables.set(name, reads);
    }
    return reads;
  }

  addTable(name: string): void {
    const reads = this.table(name);
    reads.all = true;
    reads.ranges = [];
    reads.ids.clear();
  }

  addId(table: string | null, id: string): void {
    if (!table) return;
    const reads = this.table(table);
    if (!reads.all) reads.ids.add(id);
  }

  addQuery(query: QueryJson): void {
    const source = query.source;
    if (source.type === "FullTableScan") return this.addTable(source.tableName);
    const [table] = source.indexName.split(".");
    if (source.type === "Search") return this.addTable(table);
    this.addRange(table, source.range);
  }

  /** An index range (`withIndex` conditions), optionally only up to the key where a scan stopped. */
  addRange(table: string, range: RangeJson, bound?: KeyBound): void {
    if (range.length === 0 && !bound) return this.addTable(table);
    const reads = this.table(table);
    if (reads.all) return;
    const conditions: RangeCondition[] = range.map((r) => ({
      type: r.type,
      fieldPath: r.fieldPath,
      value: decodeBound(r.value),
    }));
    if (bound) conditions.push(bound);
    reads.ranges.push(conditions);
  }

  /** True when a write of `before` → `after` in `table` could change what was read. */
  touchedBy(table: string, before: Doc | null, after: Doc | null): boolean {
    const reads = this.tables.get(table);
    if (!reads) return false;
    if (reads.all) return true;
    for (const doc of [before, after]) {
      if (!doc) continue;
      if (reads.ids.has(doc._id)) return true;
      for (const range of reads.ranges) if (range.every((c) => inRange(doc, c))) return true;
    }
    return false;
  }

  /** A rough size, for metrics: number of tables, ranges and ids. */
  describe(): { tables: string[]; ranges: number; ids: number } {
    let ranges = 0;
    let ids = 0;
    for (const r of this.tables.values()) {
      ranges += r.ranges.length;
      ids += r.ids.size;
    }
    return { tables: [...this.tables.keys()], ranges, ids };
  }
}

function decodeBound(value: JSONValue): Value | undefined {
  if (typeof value === "object" && value !== null && "$undefined" in value) return undefined;
  return jsonToConvex(value);
}

export function fieldValue(doc: Doc, fieldPath: string): Value | undefined {
  let current: unknown = doc;
  for (const part of fieldPath.split(".")) {
    if (current === null || typeof current !== "object" || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current as Value | undefined;
}

/** Compares two index keys field by field, as Convex orders index entries. */
export function compareKeys(a: (Value | undefined)[], b: (Value | undefined)[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const cmp = compareValues(a[i], b[i]);
    if (cmp !== 0) return cmp;
  }
  return a.length - b.length;
}

function inRange(doc: Doc, c: RangeCondition): boolean {
  if ("fields" in c) {
    const cmp = compareKeys(
      c.fields.map((f) => fieldValue(doc, f)),
      c.key,
    );
    return c.type === "UpTo" ? cmp <= 0 : cmp >= 0;
  }
  const cmp = compareValues(fieldValue(doc, c.fieldPath), c.value);
  switch (c.type) {
    case "Eq":
      return cmp === 0;
    case "Gt":
      return cmp > 0;
    case "Gte":
      return cmp >= 0;
    case "Lt":
      return cmp < 0;
    case "Lte":
      return cmp <= 0;
  }
}

/**
 * Finds the readers a write may concern without checking every reader of the table: ranges
 * that start with an equality are filed under that field's value, single documents under their
 * id; only scans and ranges without a leading equality are checked on every write.
 */
export class ReadIndex<T> {
  private wide = new Map<string, Set<T>>();
  private byEq = new Map<string, Set<T>>();
  private byId = new Map<string, Set<T>>();
  /** table → equality field → how many entries use it. */
  private eqFields = new Map<string, Map<string, number>>();
  private entries = new Map<T, { map: "wide" | "eq" | "id"; key: string; table: string; field?: string }[]>();

  add(item: T, readSet: ReadSet): void {
    this.remove(item);
    const entries: { map: "wide" | "eq" | "id"; key: string; table: string; field?: string }[] = [];
    for (const [table, reads] of readSet.tables) {
      if (reads.all) {
        entries.push({ map: "wide", key: table, table });
        continue;
      }
      for (const id of reads.ids) entries.push({ map: "id", key: id, table });
      for (const range of reads.ranges) {
        const first = range[0];
        if (first?.type === "Eq") {
          entries.push({
            map: "eq",
            key: eqKey(table, first.fieldPath, first.value),
            table,
            field: first.fieldPath,
          });
        } else {
          entries.push({ map: "wide", key: table, table });
        }
      }
    }
    for (const entry of entries) {
      addTo(this.mapOf(entry.map), entry.key, item);
      if (entry.field !== undefined) {
        const fields = this.eqFields.get(entry.table) ?? new Map<string, number>();
        fields.set(entry.field, (fields.get(entry.field) ?? 0) + 1);
        this.eqFields.set(entry.table, fields);
      }
    }
    this.entries.set(item, entries);
  }

  remove(item: T): void {
    for (const entry of this.entries.get(item) ?? []) {
      removeFrom(this.mapOf(entry.map), entry.key, item);
      if (entry.field !== undefined) {
        const fields = this.eqFields.get(entry.table)!;
        const count = (fields.get(entry.field) ?? 1) - 1;
        if (count > 0) fields.set(entry.field, count);
        else fields.delete(entry.field);
        if (fields.size === 0) this.eqFields.delete(entry.table);
      }
    }
    this.entries.delete(item);
  }

  /** Everything that may have read a document of `table` written from `before` to `after`. */
  candidates(table: string, before: Doc | null, after: Doc | null): Set<T> {
    const found = new Set<T>(this.wide.get(table) ?? []);
    const fields = this.eqFields.get(table);
    for (const doc of [before, after]) {
      if (!doc) continue;
      for (const item of this.byId.get(doc._id) ?? []) found.add(item);
      for (const field of fields?.keys() ?? []) {
        for (const item of this.byEq.get(eqKey(table, field, fieldValue(doc, field))) ?? []) found.add(item);
      }
    }
    return found;
  }

  private mapOf(map: "wide" | "eq" | "id"): Map<string, Set<T>> {
    return map === "wide" ? this.wide : map === "eq" ? this.byEq : this.byId;
  }
}

function eqKey(table: string, field: string, value: Value | undefined): string {
  return `${table}\u0000${field}\u0000${value === undefined ? "undefined" : JSON.stringify(convexToJson(value))}`;
}

function addTo<T>(map: Map<string, Set<T>>, key: string, item: T): void {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  set.add(item);
}

function removeFrom<T>(map: Map<string, Set<T>>, key: string, item: T): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(item);
  if (set.size === 0) map.delete(key);
}
