// Dates in a workspace's time zone, expiry in words, links in email bodies, audit changes.
import { describe, expect, it } from "vitest";
import { INVITATION_TTL_MS } from "../../convex/model/invitationExpiry";
import {
  changeRows,
  describeExpiry,
  durationInWords,
  formatDate,
  formatDateTime,
  linkify,
} from "../../app/lib/format";

const NOON_UTC = Date.UTC(2026, 0, 15, 12, 0);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe("formatDateTime", () => {
  it("shows the time in the zone it is given", () => {
    expect(formatDateTime(NOON_UTC, "Europe/Madrid", "en-GB")).toBe("15 Jan 2026, 13:00");
    expect(formatDateTime(NOON_UTC, "America/New_York", "en-GB")).toBe("15 Jan 2026, 07:00");
    expect(formatDateTime(NOON_UTC, "Asia/Tokyo", "en-GB")).toBe("15 Jan 2026, 21:00");
  });

  it("falls back to UTC, and says so, for a zone the runtime does not know", () => {
    expect(formatDateTime(NOON_UTC, "Mars/Olympus_Mons", "en-GB")).toBe("15 Jan 2026, 12:00 UTC");
  });

  it("dates cross midnight with the zone", () => {
    expect(formatDate(Date.UTC(2026, 0, 15, 23, 30), "Europe/Madrid", "en-GB")).toBe("16 Jan 2026");
  });
});

describe("describeExpiry", () => {
  it("counts down in the largest unit, rounded to the nearest", () => {
    // A week-long link opened a moment after it was made reads as the week the rule states.
    expect(describeExpiry(NOON_UTC + INVITATION_TTL_MS - 60_000, NOON_UTC)).toEqual({
      expired: false,
      text: `expires in ${durationInWords(INVITATION_TTL_MS)}`,
    });
    expect(durationInWords(INVITATION_TTL_MS)).toBe("7 days");
    expect(describeExpiry(NOON_UTC + 7 * DAY - HOUR, NOON_UTC).text).toBe("expires in 7 days");
    expect(describeExpiry(NOON_UTC + 6 * DAY + 11 * HOUR, NOON_UTC).text).toBe("expires in 6 days");
    expect(describeExpiry(NOON_UTC + DAY, NOON_UTC)).toEqual({ expired: false, text: "expires in 1 day" });
    expect(describeExpiry(NOON_UTC + 23 * HOUR + 45 * 60_000, NOON_UTC).text).toBe("expires in 1 day");
    expect(describeExpiry(NOON_UTC + 5 * HOUR, NOON_UTC).text).toBe("expires in 5 hours");
    expect(describeExpiry(NOON_UTC + 59 * 60_000 + 45_000, NOON_UTC).text).toBe("expires in 1 hour");
    expect(describeExpiry(NOON_UTC + 90_000, NOON_UTC).text).toBe("expires in 2 minutes");
    expect(describeExpiry(NOON_UTC + 5_000, NOON_UTC).text).toBe("expires in less than a minute");
  });

  it("is expired from the very moment it expires", () => {
    expect(describeExpiry(NOON_UTC, NOON_UTC)).toEqual({ expired: true, text: "expired just now" });
    expect(describeExpiry(NOON_UTC - 2 * HOUR, NOON_UTC)).toEqual({
      expired: true,
      text: "expired 2 hours ago",
    });
  });
});

describe("linkify", () => {
  it("turns http(s) URLs into links and keeps the text around them", () => {
    expect(linkify("Accept or decline: https://app.test/invitations/abc_DEF-1\n\nThanks")).toEqual([
      { kind: "text", text: "Accept or decline: " },
      {
        kind: "link",
        text: "https://app.test/invitations/abc_DEF-1",
        href: "https://app.test/invitations/abc_DEF-1",
      },
      { kind: "text", text: "\n\nThanks" },
    ]);
  });

  it("leaves sentence punctuation and brackets outside the link", () => {
    expect(linkify("See (http://a.test/x). Or http://b.test/y, then stop.")).toEqual([
      { kind: "text", text: "See (" },
      { kind: "link", text: "http://a.test/x", href: "http://a.test/x" },
      { kind: "text", text: "). Or " },
      { kind: "link", text: "http://b.test/y", href: "http://b.test/y" },
      { kind: "text", text: ", then stop." },
    ]);
  });

  it("links nothing but http(s)", () => {
    expect(linkify("javascript:alert(1) mailto:a@b.test ftp://x.test")).toEqual([
      { kind: "text", text: "javascript:alert(1) mailto:a@b.test ftp://x.test" },
    ]);
    expect(linkify("")).toEqual([]);
  });
});

describe("changeRows", () => {
  it("lists every field of either side, with null where a side has none", () => {
    expect(changeRows({ role: "agent", name: "Old" }, { role: "admin", currency: "EUR" })).toEqual([
      { field: "role", before: "agent", after: "admin" },
      { field: "name", before: "Old", after: null },
      { field: "currency", before: null, after: "EUR" },
    ]);
  });

  it("shows numbers and booleans as text, and nothing when there is no change summary", () => {
    expect(changeRows({ isPlatformAdmin: false }, { isPlatformAdmin: true, count: 5 })).toEqual([
      { field: "isPlatformAdmin", before: "false", after: "true" },
      { field: "count", before: null, after: "5" },
    ]);
    expect(changeRows(undefined, undefined)).toEqual([]);
  });

  it("shows timestamps as dates in the given time zone", () => {
    expect(
      changeRows(
        { expiresAt: NOON_UTC },
        { expiresAt: NOON_UTC + DAY },
        { timeZone: "Europe/Madrid", locale: "en-GB" },
      ),
    ).toEqual([{ field: "expiresAt", before: "15 Jan 2026, 13:00", after: "16 Jan 2026, 13:00" }]);
  });
});
