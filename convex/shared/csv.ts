/**
 * CSV as spreadsheets read and write it (RFC 4180: quoted cells, doubled quotes, line breaks
 * inside quotes, CRLF or LF). Pure: the ledger export writes with it and the rate card upload
 * reads with it, on either side of the Convex boundary.
 */

/** Put first in a file so spreadsheet programs read it as UTF-8. */
export const CSV_BOM = "\uFEFF";

export type CsvRecord = {
  /** Its row in a spreadsheet: the first record (the header) is row 1. */
  row: number;
  cells: string[];
};

export type CsvParse = {
  /** Every record that is not blank, in order. */
  records: CsvRecord[];
  /** The first problem that stops the file being read, if any (a quote left open). */
  error: { row: number; message: string } | null;
};

/**
 * Splits CSV text into records of cells. A leading byte-order mark is dropped; the delimiter is a
 * comma, or a semicolon when the first line has semicolons and no commas (spreadsheets in many
 * European locales save that way). Blank lines still count as rows, so the row numbers match
 * what a spreadsheet shows, but are left out.
 */
export function parseCsv(text: string): CsvParse {
  const input = text.startsWith(CSV_BOM) ? text.slice(1) : text;
  const firstLine = input.slice(0, input.search(/\r?\n|$/));
  const delimiter = !firstLine.includes(",") && firstLine.includes(";") ? ";" : ",";
  const records: CsvRecord[] = [];
  let row = 1;
  let cells: string[] = [];
  let cell = "";
  let quoted = false;
  let quoteRow = 0;
  /** The current cell was quoted and its closing quote was seen. */
  let closed = false;
  const endCell = () => {
    cells.push(cell);
    cell = "";
    closed = false;
  };
  const endRecord = () => {
    endCell();
    if (!(cells.length === 1 && cells[0].trim() === "")) records.push({ row, cells });
    cells = [];
    row++;
  };
  for (let i = 0; i < input.length; i++) {
    const c = input[i];
    if (quoted) {
      if (c === '"' && input[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
        closed = true;
      } else {
        cell += c;
      }
      continue;
    }
    if (c === delimiter) endCell();
    else if (c === "\n") endRecord();
    else if (c === "\r") {
      if (input[i + 1] === "\n") i++;
      endRecord();
    } else if (c === '"' && cell.trim() === "" && !closed) {
      quoted = true;
      quoteRow = row;
      cell = "";
    } else if (closed) {
      if (c === " " || c === "\t") continue;
      return {
        records,
        error: { row, message: `Row ${row}: text after a closing quote; put the whole cell in quotes` },
      };
    } else {
      cell += c;
    }
  }
  if (quoted) {
    return {
      records,
      error: { row: quoteRow, message: `Row ${quoteRow}: a quote is opened and never closed` },
    };
  }
  if (cell !== "" || cells.length > 0 || closed) endRecord();
  return { records, error: null };
}

export type CsvCell = string | number | boolean | null | undefined;

const NUMBER = /^[+-]?\d+(\.\d+)?$/;
// Cells a spreadsheet would run as a formula (CSV injection), unless they are plain numbers.
const FORMULA = /^[=+\-@\t\r]/;

/** One cell: quoted when it must be; text that would run as a formula is prefixed with '. */
export function csvCell(value: CsvCell): string {
  if (value === null || value === undefined) return "";
  let text = String(value);
  if (typeof value === "string" && FORMULA.test(text) && !NUMBER.test(text)) text = `'${text}`;
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Rows of cells as CSV text with CRLF line ends (no byte-order mark: add CSV_BOM for a file). */
export function toCsv(rows: readonly (readonly CsvCell[])[]): string {
  return rows.map((cells) => cells.map(csvCell).join(",")).join("\r\n") + "\r\n";
}
