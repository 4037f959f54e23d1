/**
 * parseContactsCsv on messy files as people export them: byte-order marks, Latin-1 bytes,
 * semicolons and tabs, CRLF and CR, quoted cells with delimiters, quotes and line breaks,
 * headers in five languages, extensions, invalid and missing numbers, repeated rows.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeCsvBytes,
  detectColumns,
  normalizePhone,
  parseContactsCsv,
  sniffDelimiter,
} from "../../convex/model/contactsCsv";

const utf8 = (text: string) => new TextEncoder().encode(text);
const withBom = (text: string) => new Uint8Array([0xef, 0xbb, 0xbf, ...utf8(text)]);
/** Windows-1252 bytes: Latin-1 characters as themselves, plus the few cp1252 ones used here. */
const cp1252 = (text: string) =>
  new Uint8Array(
    [...text].map((ch) => {
      const special: Record<string, number> = { "€": 0x80, "’": 0x92, "–": 0x96, Œ: 0x8c };
      const code = special[ch] ?? ch.charCodeAt(0);
      if (code > 0xff) throw new Error(`not in cp1252: ${ch}`);
      return code;
    }),
  );
const utf16le = (text: string) => {
  const out = [0xff, 0xfe];
  for (let i = 0; i < text.length; i++) out.push(text.charCodeAt(i) & 0xff, text.charCodeAt(i) >> 8);
  return new Uint8Array(out);
};

const ES = { defaultCountry: "ES" };

describe("encodings", () => {
  it("reads UTF-8 with a byte-order mark, which is not part of the first header", () => {
    const result = parseContactsCsv(withBom("Name,Phone\nJosé Núñez,612 34 56 78\n"), ES);
    expect(result.encoding).toBe("utf-8-bom");
    expect(result.errors).toEqual([]);
    expect(result.contacts).toEqual([{ name: "José Núñez", phone: "+34612345678" }]);
  });

  it("reads UTF-8 without a byte-order mark", () => {
    const result = parseContactsCsv(utf8("Nombre,Teléfono\nZoë Ñandú,612345678\n"), ES);
    expect(result.encoding).toBe("utf-8");
    expect(result.contacts).toEqual([{ name: "Zoë Ñandú", phone: "+34612345678" }]);
  });

  it("reads Windows-1252 / Latin-1 bytes, including the 0x80–0x9F characters", () => {
    const bytes = cp1252("Nom;Prénom;Téléphone;Note\r\nLefèvre;Zoé;06 12 34 56 78;Coût 5€ – l’Œuvre\r\n");
    expect(bytes.some((b) => b === 0xe9)).toBe(true); // é is one byte, not UTF-8
    const result = parseContactsCsv(bytes, { defaultCountry: "FR" });
    expect(result.encoding).toBe("windows-1252");
    expect(result.delimiter).toBe(";");
    expect(result.errors).toEqual([]);
    expect(result.contacts).toEqual([
      { name: "Zoé Lefèvre", phone: "+33612345678", fields: { Note: "Coût 5€ – l’Œuvre" } },
    ]);
  });

  it("reads UTF-16 (Excel's Unicode text, tab-separated)", () => {
    const result = parseContactsCsv(utf16le("Name\tMobile\r\nJürgen\t+49 151 23456789\r\n"), ES);
    expect(result.encoding).toBe("utf-16le");
    expect(result.delimiter).toBe("\t");
    expect(result.contacts).toEqual([{ name: "Jürgen", phone: "+4915123456789" }]);
  });

  it("falls back to Windows-1252 only when the bytes are not valid UTF-8", () => {
    expect(decodeCsvBytes(utf8("ñ")).encoding).toBe("utf-8");
    expect(decodeCsvBytes(new Uint8Array([0xf1])).text).toBe("ñ");
    // An overlong encoding of "/" is not UTF-8.
    expect(decodeCsvBytes(new Uint8Array([0xc0, 0xaf])).encoding).toBe("windows-1252");
  });
});

describe("delimiters and quoting", () => {
  it("sniffs semicolons, tabs and commas, not fooled by delimiters inside quotes", () => {
    expect(sniffDelimiter('name;phone\n"Doe, Jane";612345678\n"Roe, Ann";612345679\n')).toBe(";");
    expect(sniffDelimiter('name\tphone\tnote\nAna\t1\t"a;b;c;d"\n')).toBe("\t");
    expect(sniffDelimiter('"a;b;c",phone\n"d;e;f",2\n')).toBe(",");
    expect(sniffDelimiter("phone\n612345678\n")).toBe(",");
  });

  it("reads quoted cells with delimiters, doubled quotes and line breaks", () => {
    const csv =
      'Name,Phone,Address,Tags\r\n"Doe, Jane","612 345 678","Calle ""Mayor"" 1\r\n2º B\r\nMadrid","vip, newsletter"\r\n' +
      "Ann,612345679,Plain,\r\n";
    const result = parseContactsCsv(utf8(csv), ES);
    expect(result.errors).toEqual([]);
    expect(result.contacts).toEqual([
      {
        name: "Doe, Jane",
        phone: "+34612345678",
        tags: ["vip", "newsletter"],
        fields: { Address: 'Calle "Mayor" 1\r\n2º B\r\nMadrid' },
      },
      { name: "Ann", phone: "+34612345679", fields: { Address: "Plain" } },
    ]);
  });

  it("counts rows as records: a quoted multi-line record is one row, so the rows after it keep spreadsheet numbers", () => {
    const csv = 'Name,Phone\n"Multi\nline\nname",612345678\nBad,12\n\nWorse,\n';
    const result = parseContactsCsv(utf8(csv), ES);
    expect(result.contacts).toEqual([{ name: "Multi line name", phone: "+34612345678" }]);
    // Row 1 header, row 2 the multi-line record, row 3 "Bad", row 4 blank (skipped), row 5 "Worse".
    expect(result.errors.map((e) => e.row)).toEqual([3, 5]);
    expect(result.errors[0].reason).toMatch(/too short/);
    expect(result.errors[1].reason).toMatch(/missing/);
  });

  it("accepts CR-only and mixed line ends, and skips blank lines", () => {
    const csv = "Name;Phone\r\rAna;612345678\rBea;612345679\n\r\nCid;612345670";
    const result = parseContactsCsv(utf8(csv), ES);
    expect(result.delimiter).toBe(";");
    expect(result.contacts.map((c) => c.name)).toEqual(["Ana", "Bea", "Cid"]);
    expect(result.errors).toEqual([]);
  });

  it("reports a quote that is never closed at the row it opens", () => {
    const result = parseContactsCsv(utf8('Name,Phone\nAna,612345678\n"Bea,612345679\nCid,612345670\n'), ES);
    expect(result.contacts).toEqual([{ name: "Ana", phone: "+34612345678" }]);
    expect(result.errors).toEqual([{ row: 3, reason: expect.stringMatching(/never closed/) }]);
  });

  it("splits tags on ; , and | even when the file's delimiter is the same character (quoted cell)", () => {
    const csv = 'Phone;Etiquetas\n612345678;"vip;Madrid | VIP"\n612345679;a,b\n';
    const result = parseContactsCsv(utf8(csv), ES);
    expect(result.contacts).toEqual([
      { phone: "+34612345678", tags: ["vip", "Madrid"] },
      { phone: "+34612345679", tags: ["a", "b"] },
    ]);
  });
});

describe("headers", () => {
  it.each([
    ["English", "Full Name,Mobile Phone,Labels", ["name", "phone", "tags"]],
    [
      "English, first + last",
      "First Name,Last Name,WhatsApp,Email",
      ["first_name", "last_name", "phone", "field"],
    ],
    ["Spanish", "Nombre,Apellidos,Teléfono Móvil,Etiquetas", ["first_name", "last_name", "phone", "tags"]],
    ["Spanish, one name", "Nombre completo,Celular,Ciudad", ["name", "phone", "field"]],
    ["Portuguese", "Nome,Sobrenome,Telemóvel,Etiquetas", ["first_name", "last_name", "phone", "tags"]],
    ["Portuguese, Brazil", "Nome completo,Número de WhatsApp,Grupos", ["name", "phone", "tags"]],
    ["French", "Nom,Prénom,Portable,Étiquettes", ["last_name", "first_name", "phone", "tags"]],
    ["German", "Vorname,Nachname,Handy,Schlagwörter", ["first_name", "last_name", "phone", "tags"]],
    ["German, one name", "Name,Telefonnummer,Firma", ["name", "phone", "field"]],
  ])("maps %s headers", (_language, header, roles) => {
    expect(detectColumns(header.split(","))).toEqual(roles);
  });

  it("ignores case, accents and spacing, and prefers WhatsApp over mobile over phone", () => {
    expect(detectColumns(["  TELEFONO ", "e-mail"])).toEqual(["phone", "field"]);
    expect(detectColumns(["Phone", "Mobile", "WhatsApp number"])).toEqual(["field", "field", "phone"]);
    expect(detectColumns(["Fax", "Tel."])).toEqual(["field", "phone"]);
    expect(detectColumns(["Número de pedido", "Número"])).toEqual(["field", "phone"]);
  });

  it("joins first and last names, and keeps other columns as fields under their header text", () => {
    const csv = "Prénom;Nom;Téléphone;Ville;Date de naissance\nZoé;Lefèvre;+33 6 12 34 56 78;Lyon;\n";
    const result = parseContactsCsv(utf8(csv), { defaultCountry: "FR" });
    expect(result.contacts).toEqual([
      { name: "Zoé Lefèvre", phone: "+33612345678", fields: { Ville: "Lyon" } },
    ]);
  });

  it("says so clearly when no column holds phone numbers", () => {
    const result = parseContactsCsv(utf8("Name,Email\nAna,ana@example.test\n"), ES);
    expect(result.contacts).toEqual([]);
    expect(result.errors).toEqual([{ row: 1, reason: expect.stringMatching(/No phone column/) }]);
  });

  it("says so when the file is empty", () => {
    for (const bytes of [new Uint8Array(), withBom(""), utf8("\n\r\n")]) {
      const result = parseContactsCsv(bytes, ES);
      expect(result.contacts).toEqual([]);
      expect(result.errors).toEqual([{ row: 1, reason: expect.stringMatching(/empty/) }]);
    }
  });
});

describe("phone numbers", () => {
  it("normalises national numbers with the default country, + and 00 prefixes, and bare country codes", () => {
    expect(normalizePhone("612 34 56 78", "ES")).toEqual({ ok: true, phone: "+34612345678" });
    expect(normalizePhone("(415) 555-2671", "us")).toEqual({ ok: true, phone: "+14155552671" });
    expect(normalizePhone("0044 7911 123456", "ES")).toEqual({ ok: true, phone: "+447911123456" });
    expect(normalizePhone("+55 11 91234-5678", "ES")).toEqual({ ok: true, phone: "+5511912345678" });
    // A WhatsApp id: country code without "+".
    expect(normalizePhone("447911123456", "ES")).toEqual({ ok: true, phone: "+447911123456" });
    expect(normalizePhone("tel:+34612345678", "ES")).toEqual({ ok: true, phone: "+34612345678" });
  });

  it("rejects extensions, letters, short, long, rounded and invalid numbers with a reason a person understands", () => {
    const reason = (raw: string, country = "ES") => {
      const r = normalizePhone(raw, country);
      return r.ok ? r.phone : r.reason;
    };
    expect(reason("+1 415 555 2671 ext. 89")).toMatch(/extension/);
    expect(reason("+44 20 7946 0958x12")).toMatch(/extension/);
    expect(reason("612345678 #12")).toMatch(/extension/);
    expect(reason("call me")).toMatch(/letters/);
    expect(reason("123")).toMatch(/too short/);
    expect(reason("+1234567890123456789")).toMatch(/too long/);
    expect(reason("3.4612E+11")).toMatch(/scientific notation/);
    expect(reason("0612345678")).toMatch(/not a valid phone number in ES/);
    expect(reason("612345678", "")).toMatch(/no country code/);
    expect(reason("")).toMatch(/missing/);
  });

  it("reports invalid and missing numbers per row, header counted as row 1", () => {
    const csv = [
      "Name,Phone",
      "Ok,612345678",
      "Ext,+1 415 555 2671 ext. 89",
      "Letters,n/a",
      "Missing,",
      "Wrong,0612345678",
      ",,",
      "Ok too,+34 612 345 679",
    ].join("\r\n");
    const result = parseContactsCsv(utf8(csv), ES);
    expect(result.contacts.map((c) => c.phone)).toEqual(["+34612345678", "+34612345679"]);
    expect(result.errors.map((e) => e.row)).toEqual([3, 4, 5, 6]);
    for (const e of result.errors) expect(e.reason.length).toBeGreaterThan(10);
  });
});

describe("duplicates", () => {
  it("merges rows with the same number: first values stand, later ones fill gaps, tags united", () => {
    const csv = [
      "Name,Phone,Tags,City,Company",
      "Ana,612 345 678,vip,,Acme",
      ",+34612345678,Madrid;VIP,Madrid,Other",
      "Ana Bis,0034612345678,new,,",
      "Bea,612345679,,,",
    ].join("\n");
    const result = parseContactsCsv(utf8(csv), ES);
    expect(result.duplicatesMerged).toBe(2);
    expect(result.contacts).toEqual([
      {
        name: "Ana",
        phone: "+34612345678",
        tags: ["vip", "Madrid", "new"],
        fields: { Company: "Acme", City: "Madrid" },
      },
      { name: "Bea", phone: "+34612345679" },
    ]);
  });
});

describe("properties", () => {
  const cell = fc.string({ maxLength: 12 }).map((s) => [...s].filter((ch) => ch >= " ").join(""));
  const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;

  it("any cell text survives quoting with any delimiter and line end, and row numbers match records", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(",", ";", "\t"),
        fc.constantFrom("\n", "\r\n", "\r"),
        fc.boolean(),
        fc.array(fc.tuple(cell, fc.integer({ min: 0, max: 99_999 }), fc.boolean()), {
          minLength: 1,
          maxLength: 15,
        }),
        (delimiter, eol, bom, rows) => {
          const lines = ["Name" + delimiter + "Phone" + delimiter + "Note"];
          const expected: { name?: string; phone: string; fields?: Record<string, string> }[] = [];
          const errorRows: number[] = [];
          rows.forEach(([text, n, valid], i) => {
            const phone = valid ? `+3461${String(i).padStart(2, "0")}${String(n).padStart(5, "0")}` : "12";
            const note = `${text}\n${delimiter}"`;
            lines.push([quote(text), phone, quote(note)].join(delimiter));
            if (valid) {
              const c: (typeof expected)[number] = { phone, fields: { Note: note.trim() } };
              if (text.trim()) c.name = text.trim().replace(/\s+/g, " ");
              expected.push(c);
            } else errorRows.push(i + 2);
          });
          const text = lines.join(eol) + eol;
          const result = parseContactsCsv(bom ? withBom(text) : utf8(text), ES);
          expect(result.delimiter).toBe(delimiter);
          expect(result.contacts).toEqual(expected);
          expect(result.errors.map((e) => e.row)).toEqual(errorRows);
          expect(result.duplicatesMerged).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("never throws on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        const result = parseContactsCsv(bytes, ES);
        for (const c of result.contacts) expect(c.phone).toMatch(/^\+\d{6,15}$/);
      }),
      { numRuns: 300 },
    );
  });
});
