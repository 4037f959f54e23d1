import { describe, expect, it } from "vitest";
import { ReadIndex, ReadSet } from "../../local/convex-server/readSet";

const doc = (id: string, fields: Record<string, unknown>) =>
  ({ _id: id, _creationTime: 1, ...fields }) as never;

function range(table: string, index: string, conds: [string, string, unknown][]) {
  return {
    source: {
      type: "IndexRange" as const,
      indexName: `${table}.${index}`,
      range: conds.map(([type, fieldPath, value]) => ({ type, fieldPath, value })),
    },
  } as never;
}

describe("read sets", () => {
  it("tells which writes touch an index range, a document or a whole table", () => {
    const rs = new ReadSet();
    rs.addQuery(
      range("messages", "by_conv_time", [
        ["Eq", "conversationId", "c1"],
        ["Gte", "at", 10],
        ["Lt", "at", 20],
      ]),
    );
    rs.addId("contacts", "7contacts");
    expect(rs.touchedBy("messages", null, doc("1messages", { conversationId: "c1", at: 15 }))).toBe(true);
    expect(rs.touchedBy("messages", null, doc("1messages", { conversationId: "c1", at: 25 }))).toBe(false);
    expect(rs.touchedBy("messages", null, doc("1messages", { conversationId: "c2", at: 15 }))).toBe(false);
    // A document moving out of the range changes the result too.
    expect(
      rs.touchedBy(
        "messages",
        doc("1messages", { conversationId: "c1", at: 12 }),
        doc("1messages", { conversationId: "c9", at: 12 }),
      ),
    ).toBe(true);
    expect(rs.touchedBy("contacts", null, doc("7contacts", {}))).toBe(true);
    expect(rs.touchedBy("contacts", null, doc("8contacts", {}))).toBe(false);
    rs.addQuery({ source: { type: "FullTableScan", tableName: "contacts" } } as never);
    expect(rs.touchedBy("contacts", null, doc("8contacts", {}))).toBe(true);
  });

  it("finds candidate readers by equality value instead of scanning every reader", () => {
    const index = new ReadIndex<string>();
    for (let i = 0; i < 100; i++) {
      const rs = new ReadSet();
      rs.addQuery(range("items", "by_bucket", [["Eq", "bucket", i]]));
      index.add(`q${i}`, rs);
    }
    const scan = new ReadSet();
    scan.addTable("items");
    index.add("scan", scan);
    const byId = new ReadSet();
    byId.addId("items", "5items");
    index.add("get", byId);

    expect([...index.candidates("items", null, doc("1items", { bucket: 42 }))].sort()).toEqual([
      "q42",
      "scan",
    ]);
    expect(
      [...index.candidates("items", doc("5items", { bucket: 1 }), doc("5items", { bucket: 2 }))].sort(),
    ).toEqual(["get", "q1", "q2", "scan"]);
    index.remove("q42");
    index.remove("scan");
    expect([...index.candidates("items", null, doc("1items", { bucket: 42 }))]).toEqual([]);
    expect([...index.candidates("other", null, doc("1other", { bucket: 1 }))]).toEqual([]);
  });

  it("can end a range at the index key where a scan stopped", () => {
    const rs = new ReadSet();
    const fields = ["list", "n", "_creationTime", "_id"];
    rs.addRange("tasks", [{ type: "Eq", fieldPath: "list", value: "q" }], {
      type: "UpTo",
      fields,
      key: ["q", 5, 1, "5tasks"],
    });
    expect(rs.touchedBy("tasks", null, doc("1tasks", { list: "q", n: 1 }))).toBe(true);
    expect(rs.touchedBy("tasks", null, doc("5tasks", { list: "q", n: 5 }))).toBe(true);
    expect(rs.touchedBy("tasks", null, doc("9tasks", { list: "q", n: 9 }))).toBe(false);
    expect(rs.touchedBy("tasks", null, doc("0tasks", { list: "r", n: 0 }))).toBe(false);
    const desc = new ReadSet();
    desc.addRange("tasks", [], { type: "DownTo", fields, key: ["q", 5, 1, "5tasks"] });
    expect(desc.touchedBy("tasks", null, doc("9tasks", { list: "q", n: 9 }))).toBe(true);
    expect(desc.touchedBy("tasks", null, doc("1tasks", { list: "q", n: 1 }))).toBe(false);
    // Without a bound or conditions, a range is the whole table.
    const all = new ReadSet();
    all.addRange("tasks", []);
    expect(all.touchedBy("tasks", null, doc("1tasks", { list: "z", n: 0 }))).toBe(true);
  });
});
