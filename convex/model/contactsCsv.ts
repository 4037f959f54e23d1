/**
 * Reads a contact list as people export it from phones, CRMs and spreadsheets: any of UTF-8
 * (with or without a byte-order mark), UTF-16 (Excel's "Unicode text") or Windows-1252/Latin-1;
 * commas, semicolons or tabs; RFC 4180 quoting with delimiters, doubled quotes and line breaks
 * inside quotes; CRLF, LF or CR line ends; headers in English, Spanish, Portuguese, French or
 * German. Phones come out in E.164. Pure and dependency-light so it runs in the browser, in Node
 * and in Convex's V8 runtime (which may know no encoding but UTF-8: Windows-1252 is decoded here).
 *
 * Rules (docs/decisions/019-contact-import.md):
 * - Row numbers are what a spreadsheet shows: the header is row 1 and every record is one row,
 *   however many lines its quoted cells span; a blank line is a (skipped) row too.
 * - A number with an extension ("+1 415 555 2671 ext. 89") is rejected: WhatsApp numbers have
 *   none, and an extension means an office line that cannot receive the message.
 * - "00" is read as the international prefix; a number without a country code takes
 *   `defaultCountry`'s; digits that are not valid there but are valid with a "+" in front (a
 *   WhatsApp id such as 447700900123) are read that way.
 * - Rows with the same E.164 number are one contact: the first row's values stand, later rows'
 *   non-empty values fill the gaps, tags are united; each row merged counts in `duplicatesMerged`.
 */
import { parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js/max";

export type ParsedContact = {
  name?: string;
  phone: string;
  tags?: string[];
  fields?: Record<string, string>;
};

export type ContactsCsvError = { row: number; reason: string };

export type ContactsCsvResult = {
  delimiter: string;
  encoding: string;
  contacts: ParsedContact[];
  duplicatesMerged: number;
  errors: ContactsCsvError[];
};

/** What a column holds. "field" columns are kept as custom fields under their header text. */
export type ColumnRole = "name" | "first_name" | "last_name" | "phone" | "tags" | "field" | "ignore";
export const COLUMN_ROLES: readonly ColumnRole[] = [
  "name",
  "first_name",
  "last_name",
  "phone",
  "tags",
  "field",
  "ignore",
];

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

/** Windows-1252's characters for 0x80–0x9F (Latin-1 has control codes there); 0 = undefined. */
const CP1252_HIGH = [
  0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0,
  0x017d, 0, 0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a,
  0x0153, 0, 0x017e, 0x0178,
];

function fromCodePoints(points: number[], out: string[]) {
  for (let i = 0; i < points.length; i += 8192) out.push(String.fromCodePoint(...points.slice(i, i + 8192)));
}

/** Strict UTF-8 decoding; null when the bytes are not UTF-8 (overlong forms and surrogates too). */
function decodeUtf8(bytes: Uint8Array, start: number): string | null {
  const chunks: string[] = [];
  let points: number[] = [];
  for (let i = start; i < bytes.length;) {
    const b = bytes[i];
    let cp: number;
    let need: number;
    if (b < 0x80) {
      cp = b;
      need = 0;
    } else if (b >= 0xc2 && b <= 0xdf) {
      cp = b & 0x1f;
      need = 1;
    } else if (b >= 0xe0 && b <= 0xef) {
      cp = b & 0x0f;
      need = 2;
    } else if (b >= 0xf0 && b <= 0xf4) {
      cp = b & 0x07;
      need = 3;
    } else return null;
    if (i + need >= bytes.length && need > 0) return null;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if ((c & 0xc0) !== 0x80) return null;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (
      (need === 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
      (need === 3 && (cp < 0x10000 || cp > 0x10ffff))
    ) {
      return null;
    }
    points.push(cp);
    if (points.length >= 65536) {
      fromCodePoints(points, chunks);
      points = [];
    }
    i += need + 1;
  }
  fromCodePoints(points, chunks);
  return chunks.join("");
}

function decodeCp1252(bytes: Uint8Array): string {
  const chunks: string[] = [];
  let points: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    points.push(b >= 0x80 && b <= 0x9f ? CP1252_HIGH[b - 0x80] || b : b);
    if (points.length >= 65536) {
      fromCodePoints(points, chunks);
      points = [];
    }
  }
  fromCodePoints(points, chunks);
  return chunks.join("");
}

function decodeUtf16(bytes: Uint8Array, littleEndian: boolean): string {
  const chunks: string[] = [];
  let units: number[] = [];
  for (let i = 2; i + 1 < bytes.length; i += 2) {
    units.push(littleEndian ? bytes[i] | (bytes[i + 1] << 8) : (bytes[i] << 8) | bytes[i + 1]);
    if (units.length >= 8192) {
      chunks.push(String.fromCharCode(...units));
      units = [];
    }
  }
  chunks.push(String.fromCharCode(...units));
  return chunks.join("");
}

/**
 * The text of a file and the encoding it was read as: "utf-8-bom", "utf-8", "utf-16le",
 * "utf-16be", or "windows-1252" (a superset of Latin-1, used when the bytes are not UTF-8).
 */
export function decodeCsvBytes(input: Uint8Array): { text: string; encoding: string } {
  if (input[0] === 0xef && input[1] === 0xbb && input[2] === 0xbf) {
    return { text: decodeUtf8(input, 3) ?? decodeCp1252(input.subarray(3)), encoding: "utf-8-bom" };
  }
  if (input[0] === 0xff && input[1] === 0xfe) return { text: decodeUtf16(input, true), encoding: "utf-16le" };
  if (input[0] === 0xfe && input[1] === 0xff)
    return { text: decodeUtf16(input, false), encoding: "utf-16be" };
  const utf8 = decodeUtf8(input, 0);
  if (utf8 !== null) return { text: utf8, encoding: "utf-8" };
  return { text: decodeCp1252(input), encoding: "windows-1252" };
}

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

export type CsvRow = { row: number; cells: string[] };

const DELIMITERS = [",", ";", "\t"] as const;

/**
 * Splits text into records, honouring quotes. Every record is a row, blank ones included (they
 * are returned with one empty cell). Stops after `limit` records. `open` is the row of a quote
 * left unclosed at the end, if any.
 */
export function splitCsvRecords(
  text: string,
  delimiter: string,
  limit = Infinity,
): { rows: CsvRow[]; open: number | null } {
  const rows: CsvRow[] = [];
  let cells: string[] = [];
  let cell = "";
  let quoted = false;
  let wasQuoted = false;
  let row = 1;
  const endRecord = () => {
    cells.push(cell);
    rows.push({ row, cells });
    cells = [];
    cell = "";
    wasQuoted = false;
    row++;
  };
  let i = 0;
  const n = text.length;
  while (i < n && rows.length < limit) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      // Copy a run of plain characters at once.
      const next = text.indexOf('"', i);
      const end = next === -1 ? n : next;
      cell += text.slice(i, end);
      i = end;
      continue;
    }
    if (c === delimiter) {
      cells.push(cell);
      cell = "";
      wasQuoted = false;
      i++;
    } else if (c === "\n") {
      endRecord();
      i++;
    } else if (c === "\r") {
      endRecord();
      i += text[i + 1] === "\n" ? 2 : 1;
    } else if (c === '"' && !wasQuoted && cell.trim() === "") {
      // An opening quote (spaces before it are dropped, as spreadsheets do).
      quoted = true;
      wasQuoted = true;
      cell = "";
      i++;
    } else {
      // A stray quote inside an unquoted cell, or text after a closing quote, is kept as text.
      cell += c;
      i++;
    }
  }
  const open = quoted ? row : null;
  if (rows.length < limit && (cell !== "" || cells.length > 0 || wasQuoted)) endRecord();
  return { rows, open };
}

/**
 * The delimiter that splits the first records into the same number of cells (two or more) most
 * consistently; delimiters inside quotes do not count. Ties go to comma, then semicolon, then tab.
 */
export function sniffDelimiter(text: string): string {
  let best: { delimiter: string; score: number } = { delimiter: ",", score: 0 };
  const sample = text.slice(0, 64 * 1024);
  for (const delimiter of DELIMITERS) {
    const { rows } = splitCsvRecords(sample, delimiter, 30);
    const counts = rows.filter((r) => !isBlank(r.cells)).map((r) => r.cells.length);
    // The last record of a cut sample may be partial.
    if (sample.length < text.length && counts.length > 2) counts.pop();
    if (counts.length === 0) continue;
    const header = counts[0];
    if (header < 2) continue;
    const same = counts.filter((c) => c === header).length / counts.length;
    const score = same * 1000 + Math.min(header, 100);
    if (score > best.score) best = { delimiter, score };
  }
  return best.delimiter;
}

function isBlank(cells: string[]): boolean {
  return cells.every((c) => c.trim() === "");
}

// ---------------------------------------------------------------------------------------------
// Headers
// ---------------------------------------------------------------------------------------------

/** Lowercase, accents and punctuation gone, words single-spaced: "Teléfono Móvil" → "telefono movil". */
export function normalizeHeader(header: string): string {
  return header
    .normalize("NFD")
    .replace(/\p{M}+/gu, "")
    .replace(/ß/g, "ss")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();
}

const words = (list: string) => list.split(",").map((w) => normalizeHeader(w));

// Exact header names (after normalizeHeader), per role.
const NAME = new Set(
  words(
    "name, full name, fullname, display name, contact, contact name, customer, customer name, client, client name, " +
      // es
      "nombre completo, nombre y apellidos, nombre y apellido, contacto, nombre del contacto, cliente, " +
      // pt
      "nome completo, nome do contato, nome do contacto, contato, contacto, " +
      // fr
      "nom complet, nom et prenom, prenom et nom, nom du contact, " +
      // de
      "vollstandiger name, voller name, vor und nachname, kontakt, kontaktname, kunde, kundenname",
  ),
);
/** Names that mean the whole name alone, but the family name beside a first-name column. */
const AMBIGUOUS_NAME = new Set(words("name, nom, nombre, nome"));
const FIRST = new Set(
  words(
    "first name, firstname, first, given name, forename, " +
      "primer nombre, nombre de pila, " +
      "primeiro nome, nome proprio, " +
      "prenom, " +
      "vorname, rufname",
  ),
);
const LAST = new Set(
  words(
    "last name, lastname, last, surname, family name, " +
      "apellido, apellidos, primer apellido, " +
      "sobrenome, apelido, ultimo nome, " +
      "nom de famille, " +
      "nachname, familienname, zuname",
  ),
);
const TAGS = new Set(
  words(
    "tags, tag, labels, label, groups, group, segments, segment, categories, category, lists, list, " +
      "etiquetas, etiqueta, grupos, grupo, categorias, categoria, listas, " +
      "marcadores, " +
      "etiquettes, etiquette, libelles, libelle, groupes, groupe, categories, " +
      "schlagworter, schlagwort, schlagworte, stichworter, stichworte, gruppen, gruppe, kategorien, kategorie, markierungen",
  ),
);

/** Words that make a header a phone column, strongest first: WhatsApp, then mobile, then any phone. */
const PHONE_WORDS: { words: Set<string>; score: number }[] = [
  { words: new Set(words("whatsapp, wa, wa id, wa number, whatsapp number")), score: 4 },
  {
    words: new Set(
      words(
        "mobile, mobil, cell, cellphone, cellular, movil, celular, telemovel, portable, handy, mobiltelefon, mobilnummer, handynummer, gsm",
      ),
    ),
    score: 3,
  },
  {
    words: new Set(
      words("phone, telephone, tel, telefono, telefone, fone, telefon, telefonnummer, rufnummer, msisdn"),
    ),
    score: 2,
  },
  { words: new Set(words("number, numero, nummer, no, num, nr")), score: 1 },
];
/** Words in headers of phone-like things that are not numbers to message. */
const NOT_PHONE = new Set(words("fax, telefax, telecopie"));

/** How strongly a header says "phone number" (0: not at all). */
export function phoneHeaderScore(header: string): number {
  const h = normalizeHeader(header);
  const tokens = h.split(" ");
  if (!h || tokens.some((t) => NOT_PHONE.has(t))) return 0;
  let score = 0;
  for (const { words: set, score: s } of PHONE_WORDS) {
    if (set.has(h) || tokens.some((t) => set.has(t))) score = Math.max(score, s);
  }
  // "Número" alone is a phone column; "número de pedido" (order number) is not.
  if (score === 1 && tokens.length > 1) return 0;
  return score;
}

/**
 * What each column holds, from its header: the strongest phone column is the phone (others are
 * kept as fields), name / first / last name and tags columns by their common names in English,
 * Spanish, Portuguese, French and German, anything else a custom field. Blank headers are ignored.
 */
export function detectColumns(headers: readonly string[]): ColumnRole[] {
  const norm = headers.map(normalizeHeader);
  const roles: ColumnRole[] = norm.map((h) => {
    if (!h) return "ignore";
    if (FIRST.has(h)) return "first_name";
    if (LAST.has(h)) return "last_name";
    if (NAME.has(h) || AMBIGUOUS_NAME.has(h)) return "name";
    if (TAGS.has(h)) return "tags";
    return "field";
  });
  // "Nom" + "Prénom", "Nombre" + "Apellido": the ambiguous one is the part the other lacks.
  const hasFirst = roles.includes("first_name");
  const hasLast = roles.includes("last_name");
  norm.forEach((h, i) => {
    if (roles[i] !== "name" || !AMBIGUOUS_NAME.has(h)) return;
    if (hasFirst && !hasLast) roles[i] = "last_name";
    else if (hasLast && !hasFirst) roles[i] = "first_name";
  });
  // Only the first name column and tags column count; repeats are kept as fields.
  for (const role of ["name", "tags"] as const) {
    let seen = false;
    roles.forEach((r, i) => {
      if (r !== role) return;
      if (seen) roles[i] = "field";
      seen = true;
    });
  }
  let phone = -1;
  let phoneScore = 0;
  headers.forEach((h, i) => {
    if (roles[i] !== "field") return;
    const s = phoneHeaderScore(h);
    if (s > phoneScore) {
      phone = i;
      phoneScore = s;
    }
  });
  if (phone >= 0) roles[phone] = "phone";
  return roles;
}

// ---------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------

export type PhoneResult = { ok: true; phone: string } | { ok: false; reason: string };

const EXTENSION =
  /(?<=[\d\s).-])(?:(?:ext|extn|extension|x|anexo|ramal|poste|durchwahl|dw)\.?\s*:?\s*|#\s*)\d+\s*$/i;

/** A phone number in E.164, or why it cannot be one. */
export function normalizePhone(raw: string, defaultCountry: string): PhoneResult {
  let text = raw.trim().replace(/^(tel|phone|whatsapp|wa)\s*:\s*/i, "");
  if (!text) return { ok: false, reason: "The phone number is missing" };
  if (/^\d(\.\d+)?e\+\d+$/i.test(text.replace(",", "."))) {
    return {
      ok: false,
      reason: `“${raw.trim()}” is a number a spreadsheet rounded (scientific notation): format the column as text and export again`,
    };
  }
  if (EXTENSION.test(text)) {
    return {
      ok: false,
      reason: `“${raw.trim()}” has an extension: WhatsApp numbers have none, so an office line cannot receive messages`,
    };
  }
  if (/\p{L}/u.test(text.replace(/^\+/, ""))) {
    return { ok: false, reason: `“${raw.trim()}” is not a phone number (it contains letters)` };
  }
  text = text.replace(/^\s*00\s*/, "+");
  const country = /^[A-Za-z]{2}$/.test(defaultCountry)
    ? (defaultCountry.toUpperCase() as CountryCode)
    : undefined;
  const digits = text.replace(/\D/g, "");
  if (digits.length < 6) {
    return { ok: false, reason: `“${raw.trim()}” is too short to be a phone number` };
  }
  if (digits.length > 17) {
    return { ok: false, reason: `“${raw.trim()}” is too long to be a phone number` };
  }
  const tries = text.startsWith("+") ? [text] : [text, `+${digits}`];
  for (const attempt of tries) {
    const parsed = attempt.startsWith("+")
      ? parsePhoneNumberFromString(attempt)
      : country
        ? parsePhoneNumberFromString(attempt, country)
        : undefined;
    if (parsed?.ext) {
      return {
        ok: false,
        reason: `“${raw.trim()}” has an extension: WhatsApp numbers have none, so an office line cannot receive messages`,
      };
    }
    if (parsed?.isValid()) return { ok: true, phone: parsed.number };
  }
  if (!text.startsWith("+") && !country) {
    return { ok: false, reason: `“${raw.trim()}” has no country code (start it with + and the code)` };
  }
  return {
    ok: false,
    reason: text.startsWith("+")
      ? `“${raw.trim()}” is not a valid phone number`
      : `“${raw.trim()}” is not a valid phone number in ${country} (add + and the country code if it is from elsewhere)`,
  };
}

/** Tags from one cell: split on ";", "," or "|", trimmed, repeats (in any case) dropped. */
export function splitTags(cell: string): string[] {
  return uniqueTags(cell.split(/[;,|]/));
}

/** Tags trimmed, single-spaced, at most 50 characters, without blanks or case-insensitive repeats. */
export function uniqueTags(tags: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const raw of tags) {
    const tag = raw.replace(/\s+/g, " ").trim().slice(0, 50);
    const key = tag.toLowerCase();
    if (!tag || seen.has(key)) continue;
    seen.add(key);
    out.push(tag);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The whole file
// ---------------------------------------------------------------------------------------------

export type ContactsCsvTable = {
  delimiter: string;
  encoding: string;
  /** The header record's cells and row (1 unless blank lines come first). */
  headers: string[];
  headerRow: number;
  /** Every record after the header, blank ones left out. */
  rows: CsvRow[];
  /** A problem that stops the file being read as a table (empty, a quote never closed). */
  fatal: ContactsCsvError | null;
};

/** Decodes and splits a file into its header and records, without reading any value. */
export function readContactsTable(input: Uint8Array): ContactsCsvTable {
  const { text, encoding } = decodeCsvBytes(input);
  const delimiter = sniffDelimiter(text);
  const { rows, open } = splitCsvRecords(text, delimiter);
  const nonBlank = rows.filter((r) => !isBlank(r.cells));
  const header = nonBlank[0];
  const table: ContactsCsvTable = {
    delimiter,
    encoding,
    headers: header ? header.cells.map((h) => h.trim()) : [],
    headerRow: header?.row ?? 1,
    rows: nonBlank.slice(1),
    fatal: null,
  };
  if (!header) table.fatal = { row: 1, reason: "The file is empty: it has no header row and no contacts" };
  else if (open !== null) {
    table.fatal = {
      row: open,
      reason: `A quote opened in row ${open} is never closed, so the rest of the file cannot be read`,
    };
    // The unfinished record swallowed the rest of the file: it is not a contact.
    table.rows = table.rows.filter((r) => r.row < open);
  }
  return table;
}

export type RowOutcome = { ok: true; contact: ParsedContact } | { ok: false; reason: string };

/** One record as a contact, with the columns' roles. */
export function contactFromRow(
  headers: readonly string[],
  roles: readonly ColumnRole[],
  cells: readonly string[],
  defaultCountry: string,
): RowOutcome {
  let name = "";
  let first = "";
  let last = "";
  const phones: string[] = [];
  let tags: string[] = [];
  const fields: Record<string, string> = {};
  roles.forEach((role, i) => {
    const value = (cells[i] ?? "").trim();
    if (!value) return;
    switch (role) {
      case "name":
        if (!name) name = value;
        break;
      case "first_name":
        first = first ? `${first} ${value}` : value;
        break;
      case "last_name":
        last = last ? `${last} ${value}` : value;
        break;
      case "phone":
        phones.push(value);
        break;
      case "tags":
        tags = uniqueTags([...tags, ...splitTags(value)]);
        break;
      case "field": {
        const key = (headers[i] ?? "").trim() || `Column ${i + 1}`;
        if (!(key in fields)) fields[key] = value;
        break;
      }
      case "ignore":
        break;
    }
  });
  if (phones.length === 0) return { ok: false, reason: "The phone number is missing" };
  let phone: PhoneResult = { ok: false, reason: "" };
  for (const raw of phones) {
    phone = normalizePhone(raw, defaultCountry);
    if (phone.ok) break;
  }
  if (!phone.ok) return { ok: false, reason: phone.reason };
  const fullName = (name || [first, last].filter(Boolean).join(" ")).replace(/\s+/g, " ").trim();
  const contact: ParsedContact = { phone: phone.phone };
  if (fullName) contact.name = fullName.slice(0, 200);
  if (tags.length) contact.tags = tags;
  if (Object.keys(fields).length) contact.fields = fields;
  return { ok: true, contact };
}

/** `later`'s non-empty values fill `into`'s gaps; tags are united. Mutates and returns `into`. */
export function mergeParsedContact(into: ParsedContact, later: ParsedContact): ParsedContact {
  if (!into.name && later.name) into.name = later.name;
  if (later.tags?.length) into.tags = uniqueTags([...(into.tags ?? []), ...later.tags]);
  if (later.fields) {
    const fields = { ...(into.fields ?? {}) };
    for (const [key, value] of Object.entries(later.fields)) if (!fields[key]) fields[key] = value;
    into.fields = fields;
  }
  return into;
}

const NO_PHONE_COLUMN =
  "No phone column found: name a column Phone, Mobile or WhatsApp (Teléfono, Móvil, Celular, Telefone, Téléphone, Portable, Telefon or Handy also work)";

/**
 * Reads a whole contact list with the given column roles (or the detected ones). Contacts keep
 * the order of their first row; errors are in row order.
 */
export function parseContactsTable(
  table: ContactsCsvTable,
  options: { defaultCountry: string; columns?: readonly ColumnRole[] },
): ContactsCsvResult & { columns: ColumnRole[] } {
  const columns = options.columns ? [...options.columns] : detectColumns(table.headers);
  const result = {
    delimiter: table.delimiter,
    encoding: table.encoding,
    contacts: [] as ParsedContact[],
    duplicatesMerged: 0,
    errors: [] as ContactsCsvError[],
    columns,
  };
  if (table.headers.length === 0) {
    if (table.fatal) result.errors.push(table.fatal);
    return result;
  }
  if (!columns.includes("phone")) {
    result.errors.push({ row: table.headerRow, reason: NO_PHONE_COLUMN });
    return result;
  }
  const byPhone = new Map<string, ParsedContact>();
  for (const record of table.rows) {
    const outcome = contactFromRow(table.headers, columns, record.cells, options.defaultCountry);
    if (!outcome.ok) {
      result.errors.push({ row: record.row, reason: outcome.reason });
      continue;
    }
    const earlier = byPhone.get(outcome.contact.phone);
    if (earlier) {
      mergeParsedContact(earlier, outcome.contact);
      result.duplicatesMerged++;
    } else {
      byPhone.set(outcome.contact.phone, outcome.contact);
      result.contacts.push(outcome.contact);
    }
  }
  if (table.fatal) result.errors.push(table.fatal);
  return result;
}

/**
 * Parses a contact list file into contacts with E.164 phones, merging repeats, with an error
 * per row that could not be read (row 1 is the header). See the rules at the top of this file.
 */
export function parseContactsCsv(input: Uint8Array, options: { defaultCountry: string }): ContactsCsvResult {
  const { delimiter, encoding, contacts, duplicatesMerged, errors } = parseContactsTable(
    readContactsTable(input),
    options,
  );
  return { delimiter, encoding, contacts, duplicatesMerged, errors };
}
