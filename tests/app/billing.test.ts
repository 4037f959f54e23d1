// The billing page's small rules: money with its sign, what a ledger entry says, the ledger
// filters from the address (whole days in the workspace's time zone), the CSV export's rows, and
// the debt-limit meter.
import { describe, expect, it } from "vitest";
import type { Id } from "../../convex/_generated/dataModel";
import { debtUsedPercent } from "../../app/components/wallet-summary";
import {
  describeEntry,
  formatSignedMoney,
  LEDGER_CSV_HEADER,
  ledgerCsvName,
  ledgerCsvRow,
  ledgerFilterParams,
  ledgerQueryArgs,
  zonedDayStart,
  percentToBps,
  bpsToPercent,
  tryParseAmount,
  type LedgerEntry,
} from "../../app/lib/billing";
import { parseCsv, toCsv } from "../../convex/shared/csv";
import { rateStatuses, type RateRow } from "../../app/lib/rates";

const iso = (ms: number) => new Date(ms).toISOString();

describe("zonedDayStart", () => {
  it("is midnight in the workspace's time zone, across daylight-saving changes", () => {
    expect(iso(zonedDayStart("2026-11-02", "Europe/Madrid"))).toBe("2026-11-01T23:00:00.000Z");
    expect(iso(zonedDayStart("2026-07-02", "Europe/Madrid"))).toBe("2026-07-01T22:00:00.000Z");
    // Madrid moves its clocks forward at 02:00 on 29 March 2026: that midnight is still +01:00.
    expect(iso(zonedDayStart("2026-03-29", "Europe/Madrid"))).toBe("2026-03-28T23:00:00.000Z");
    expect(iso(zonedDayStart("2026-03-30", "Europe/Madrid"))).toBe("2026-03-29T22:00:00.000Z");
    expect(iso(zonedDayStart("2026-11-02", "America/New_York"))).toBe("2026-11-02T05:00:00.000Z");
    expect(iso(zonedDayStart("2026-11-02", "Asia/Kolkata"))).toBe("2026-11-01T18:30:00.000Z");
    expect(iso(zonedDayStart("2026-11-02", "UTC"))).toBe("2026-11-02T00:00:00.000Z");
    expect(iso(zonedDayStart("2026-11-02", "Mars/Olympus_Mons"))).toBe("2026-11-02T00:00:00.000Z");
  });
});

describe("the ledger filters in the address", () => {
  it("reads a kind and whole days, ignoring anything malformed", () => {
    expect(ledgerFilterParams(new URLSearchParams("kind=charge&from=2026-11-01&to=2026-11-30"))).toEqual({
      kind: "charge",
      from: "2026-11-01",
      to: "2026-11-30",
    });
    expect(ledgerFilterParams(new URLSearchParams("kind=theft&from=yesterday&to=2026-13-45"))).toEqual({
      kind: null,
      from: null,
      to: null,
    });
  });

  it("asks Convex for the days in the workspace's time zone, the last day included", () => {
    expect(
      ledgerQueryArgs({ kind: "top_up", from: "2026-11-01", to: "2026-11-30" }, "Europe/Madrid"),
    ).toEqual({
      kind: "top_up",
      from: Date.parse("2026-10-31T23:00:00Z"),
      to: Date.parse("2026-11-30T23:00:00Z"),
    });
    expect(ledgerQueryArgs({ kind: null, from: null, to: "2026-12-31" }, "UTC")).toEqual({
      to: Date.parse("2027-01-01T00:00:00Z"),
    });
    expect(ledgerQueryArgs({ kind: null, from: null, to: null }, "UTC")).toEqual({});
  });
});

const entry = (over: Partial<LedgerEntry>): LedgerEntry => ({
  _id: "e1" as Id<"ledgerEntries">,
  _creationTime: 0,
  tenantId: "t1" as Id<"tenants">,
  seq: 7,
  kind: "charge",
  amount: -79_500,
  reservedChange: -100_000,
  balanceAfter: 9_920_500,
  reservedAfter: 0,
  key: "msg:wamid.1",
  referenceKind: "message",
  referenceId: "wamid.1",
  actor: { kind: "system", name: "billing" },
  detail: {
    category: "marketing",
    country: "IT",
    market: "IT",
    source: "B,C,D",
    estimate: false,
    markupBps: 0,
  },
  at: Date.parse("2026-11-02T10:00:00Z"),
  ...over,
});

describe("money and entries for people", () => {
  it("shows the sign of a change", () => {
    expect(formatSignedMoney(10_000_000, "EUR")).toBe("+€10.00");
    expect(formatSignedMoney(-79_500, "USD", true)).toBe("−$0.0795");
    expect(formatSignedMoney(0, "USD")).toBe("$0.00");
    expect(formatSignedMoney(-1_500_000, "CLP")).toBe("−CLP\u00a02");
  });

  it("says what an entry was", () => {
    expect(describeEntry(entry({}), "USD")).toBe("Marketing message to IT · freed $0.10 held");
    expect(
      describeEntry(
        entry({
          kind: "top_up",
          amount: 10_000_000,
          reservedChange: 0,
          detail: undefined,
          reason: "Welcome credit",
          actor: { kind: "user", userId: "u1" as Id<"users">, email: "root@platform.test" },
        }),
        "USD",
      ),
    ).toBe("Welcome credit");
    expect(
      describeEntry(
        entry({ detail: { model: "gpt-4o-mini", inputTokens: 1200, outputTokens: 300 }, reservedChange: 0 }),
        "USD",
      ),
    ).toBe("gpt-4o-mini: 1,200 input and 300 output tokens");
    expect(
      describeEntry(
        entry({ kind: "reservation", amount: 0, reservedChange: 500_000, detail: undefined }),
        "EUR",
      ),
    ).toBe("Held €0.50");
  });
});

describe("the CSV export", () => {
  it("writes exact decimals, the UTC time and every detail, and reads back", () => {
    const row = ledgerCsvRow(
      entry({
        reason: "=cmd|' /C calc'!A0",
        actor: { kind: "user", userId: "u" as Id<"users">, email: "a@b.c" },
      }),
      "USD",
    );
    expect(row).toHaveLength(LEDGER_CSV_HEADER.length);
    const [header, data] = parseCsv(toCsv([LEDGER_CSV_HEADER, row])).records.map((r) => r.cells);
    const byName = Object.fromEntries(header.map((h, i) => [h, data[i]]));
    expect(byName).toMatchObject({
      seq: "7",
      time_utc: "2026-11-02T10:00:00.000Z",
      kind: "charge",
      amount: "-0.0795",
      reserved_change: "-0.1",
      balance_after: "9.9205",
      currency: "USD",
      category: "marketing",
      country: "IT",
      estimate: "false",
      actor: "a@b.c",
      // A reason that would run as a formula stays text.
      reason: "'=cmd|' /C calc'!A0",
      key: "msg:wamid.1",
    });
  });

  it("names the file after the workspace and the filters", () => {
    expect(ledgerCsvName("acme", { kind: null, from: null, to: null })).toBe("acme-ledger-start_to_now.csv");
    expect(ledgerCsvName("acme", { kind: "charge", from: "2026-11-01", to: "2026-11-30" })).toBe(
      "acme-ledger-charge-2026-11-01_to_2026-11-30.csv",
    );
  });
});

describe("the debt-limit meter", () => {
  it("is empty while available is not negative, and full at the limit", () => {
    expect(debtUsedPercent({ available: 1_000_000, debtLimit: 5_000_000 })).toBe(0);
    expect(debtUsedPercent({ available: 0, debtLimit: 5_000_000 })).toBe(0);
    expect(debtUsedPercent({ available: -2_500_000, debtLimit: 5_000_000 })).toBe(50);
    expect(debtUsedPercent({ available: -5_000_000, debtLimit: 5_000_000 })).toBe(100);
    expect(debtUsedPercent({ available: -6_000_000, debtLimit: 5_000_000 })).toBe(100);
    expect(debtUsedPercent({ available: -1, debtLimit: 0 })).toBe(100);
  });
});

describe("what platform admins type", () => {
  it("reads a markup in percent as basis points, with at most two decimals", () => {
    expect(percentToBps("15")).toBe(1500);
    expect(percentToBps("12.5 %")).toBe(1250);
    expect(percentToBps("0.01")).toBe(1);
    expect(percentToBps("0")).toBe(0);
    expect(percentToBps("0.001")).toBeNull();
    expect(percentToBps("-5")).toBeNull();
    expect(percentToBps("lots")).toBeNull();
    expect(bpsToPercent(1250)).toBe("12.5");
    expect(bpsToPercent(0)).toBe("0");
  });

  it("reads amounts exactly, or not at all", () => {
    expect(tryParseAmount("25.50")).toBe(25_500_000);
    expect(tryParseAmount("-0.000001")).toBe(-1);
    expect(tryParseAmount("1,000")).toBeNull();
  });
});

describe("rate statuses", () => {
  it("marks the newest started version in force, later ones scheduled, earlier ones replaced, per market and category", () => {
    const row = (rateId: string, market: string, category: RateRow["category"], effectiveFrom: string) =>
      ({ rateId, currency: "USD", market, category, effectiveFrom }) as RateRow;
    const rows = [
      row("a", "IT", "marketing", "2026-04-01"),
      row("b", "IT", "marketing", "2026-10-01"),
      row("c", "IT", "marketing", "2027-01-01"),
      row("d", "IT", "utility", "2027-01-01"),
      row("e", "DE", "marketing", "2026-07-01"),
    ];
    const statuses = rateStatuses(rows, "2026-11-02");
    expect(Object.fromEntries(statuses)).toEqual({
      a: "replaced",
      b: "in_force",
      c: "scheduled",
      d: "scheduled",
      e: "in_force",
    });
    expect(rateStatuses(rows, "2027-01-01").get("c")).toBe("in_force");
  });
});
