// CSV as spreadsheets write and read it: quoting, line breaks in cells, row numbers that match a
// spreadsheet's, broken files, and cells that would run as formulas.
import { describe, expect, it } from "vitest";
import { CSV_BOM, csvCell, parseCsv, toCsv } from "../../convex/shared/csv";

describe("parseCsv", () => {
  it("reads quoted cells, doubled quotes, commas and line breaks inside quotes, CRLF and LF", () => {
    const text = 'a,b,c\r\n"x, y","say ""hi""","two\nlines"\n1,,3\n';
    expect(parseCsv(text)).toEqual({
      records: [
        { row: 1, cells: ["a", "b", "c"] },
        { row: 2, cells: ["x, y", 'say "hi"', "two\nlines"] },
        { row: 3, cells: ["1", "", "3"] },
      ],
      error: null,
    });
  });

  it("drops a byte-order mark and counts blank lines as rows without returning them", () => {
    const { records } = parseCsv(`${CSV_BOM}h1,h2\n\n1,2\n   \n3,4`);
    expect(records).toEqual([
      { row: 1, cells: ["h1", "h2"] },
      { row: 3, cells: ["1", "2"] },
      { row: 5, cells: ["3", "4"] },
    ]);
  });

  it("reads semicolon files when the header has semicolons and no commas", () => {
    expect(parseCsv("currency;rate\nEUR;0,0618\n").records[1].cells).toEqual(["EUR", "0,0618"]);
    expect(parseCsv("a,b;c\n1,2;3\n").records[1].cells).toEqual(["1", "2;3"]);
  });

  it("reports a quote that is never closed at the row where it opened", () => {
    const result = parseCsv('a,b\n1,2\n"open,3\n4,5\n');
    expect(result.error).toEqual({ row: 3, message: "Row 3: a quote is opened and never closed" });
  });

  it("reports text after a closing quote at its row", () => {
    expect(parseCsv('a,b\n"x"y,2\n').error).toEqual({
      row: 2,
      message: "Row 2: text after a closing quote; put the whole cell in quotes",
    });
  });

  it("reads an empty file as no records, and a file without a final line break fully", () => {
    expect(parseCsv("")).toEqual({ records: [], error: null });
    expect(parseCsv('a,b\n1,"2"').records).toEqual([
      { row: 1, cells: ["a", "b"] },
      { row: 2, cells: ["1", "2"] },
    ]);
  });
});

describe("toCsv", () => {
  it("quotes what must be quoted and reads back to the same cells", () => {
    const rows = [
      ["seq", "reason", "amount"],
      [1, 'Credit "welcome", first', "-1.50"],
      [2, "line\nbreak", null],
      [3, " padded ", true],
    ];
    const text = toCsv(rows);
    expect(text.endsWith("\r\n")).toBe(true);
    expect(parseCsv(text).records.map((r) => r.cells)).toEqual([
      ["seq", "reason", "amount"],
      ["1", 'Credit "welcome", first', "-1.50"],
      ["2", "line\nbreak", ""],
      ["3", " padded ", "true"],
    ]);
  });

  it("keeps cells that would run as formulas inert, but not signed numbers", () => {
    expect(csvCell('=HYPERLINK("http://x")')).toBe('"\'=HYPERLINK(""http://x"")"');
    expect(csvCell("+34 600")).toBe("'+34 600");
    expect(csvCell("@SUM(A1)")).toBe("'@SUM(A1)");
    expect(csvCell("-1.50")).toBe("-1.50");
    expect(csvCell("+2")).toBe("+2");
    expect(csvCell(-3)).toBe("-3");
  });
});
