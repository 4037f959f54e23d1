/**
 * What a query read, precise enough to decide whether a later commit can change its result:
 * whole tables for scans and searches, index ranges for `withIndex`, single ids for `get`.
 */
import { compareValues, jsonToConvex, type JSONValue, type Value } from "convex/values";
import type { Doc } from "./persistence.js";

type RangeCondition = {
  type: "Eq" | "Gt" | "Gte" | "Lt" | "Lte";
  fieldPath: string;
  value: Value | undefined;
};
type TableReads = { all: boolean; ids: Set<string>; ranges: RangeCondition[][] };

type QueryJson = {
  source:
    | { type: "FullTableScan"; tableName: string }
    | {
        type: "IndexRange";
        indexName: string;
        range: { type: RangeCondition["type"]; fieldPath: string; value: JSONValue }[];
      }
    | { type: "Search"; indexName: string };
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
    if (source.type === "Search" || source.range.length === 0) return this.addTable(table);
    const reads = this.table(table);
    if (reads.all) return;
    reads.ranges.push(
      source.range.map((r) => ({ type: r.type, fieldPath: r.fieldPath, value: decodeBound(r.value) })),
    );
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

function fieldValue(doc: Doc, fieldPath: string): Value | undefined {
  let current: unknown = doc;
  for (const part of fieldPath.split(".")) {
    if (current === null || typeof current !== "object" || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current as Value | undefined;
}

function inRange(doc: Doc, c: RangeCondition): boolean {
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
