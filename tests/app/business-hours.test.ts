import { describe, expect, it } from "vitest";
import {
  describeBusinessHours,
  isOpenAt,
  nextOpening,
  parseBusinessHours,
} from "../../convex/shared/businessHours";

// 2026-12-07 is a Monday.
const at = (iso: string) => Date.parse(iso);

describe("business hours as tenants write them", () => {
  it.each([
    [
      "Mon–Fri 9:00–18:00, Sat 10:00–14:00",
      "Mon 09:00–18:00 · Tue 09:00–18:00 · Wed 09:00–18:00 · Thu 09:00–18:00 · Fri 09:00–18:00 · Sat 10:00–14:00 · Sun closed",
    ],
    [
      "Mon-Fri 9-17; Sun closed",
      "Mon 09:00–17:00 · Tue 09:00–17:00 · Wed 09:00–17:00 · Thu 09:00–17:00 · Fri 09:00–17:00 · Sat closed · Sun closed",
    ],
    [
      "Mon, Wed, Fri 9am-5pm",
      "Mon 09:00–17:00 · Tue closed · Wed 09:00–17:00 · Thu closed · Fri 09:00–17:00 · Sat closed · Sun closed",
    ],
    [
      "Lunes a viernes 9:00 a 14:00 y 16:00 a 20:00",
      "Mon 09:00–14:00, 16:00–20:00 · Tue 09:00–14:00, 16:00–20:00 · Wed 09:00–14:00, 16:00–20:00 · Thu 09:00–14:00, 16:00–20:00 · Fri 09:00–14:00, 16:00–20:00 · Sat closed · Sun closed",
    ],
    [
      "Daily 10h00-22h00",
      "Mon 10:00–22:00 · Tue 10:00–22:00 · Wed 10:00–22:00 · Thu 10:00–22:00 · Fri 10:00–22:00 · Sat 10:00–22:00 · Sun 10:00–22:00",
    ],
    [
      "Fri 20:00–02:00",
      "Mon closed · Tue closed · Wed closed · Thu closed · Fri 20:00–24:00 · Sat 00:00–02:00 · Sun closed",
    ],
    [
      "Montag bis Freitag 8.30–17.00",
      "Mon 08:30–17:00 · Tue 08:30–17:00 · Wed 08:30–17:00 · Thu 08:30–17:00 · Fri 08:30–17:00 · Sat closed · Sun closed",
    ],
  ])("reads “%s”", (text, understood) => {
    expect(describeBusinessHours(parseBusinessHours(text))).toBe(understood);
  });

  it("treats blank and 24/7 as always open, and says what it could not read", () => {
    expect(parseBusinessHours("")).toEqual({ kind: "always" });
    expect(parseBusinessHours(" 24/7 ")).toEqual({ kind: "always" });
    expect(parseBusinessHours("when we feel like it")).toMatchObject({ kind: "unreadable" });
    expect(parseBusinessHours("Mon–Fri 9:00–25:00")).toMatchObject({
      kind: "unreadable",
      reason: expect.stringContaining("9:00–25:00"),
    });
    expect(parseBusinessHours("Funday 9-17")).toMatchObject({
      kind: "unreadable",
      reason: expect.stringContaining("Funday"),
    });
    // Unreadable hours never make the shop look closed.
    expect(isOpenAt(parseBusinessHours("when we feel like it"), at("2026-12-06T03:00:00Z"), "UTC")).toBe(
      true,
    );
  });

  it("knows whether the team is in, in the tenant's time zone, and when it is next", () => {
    const hours = parseBusinessHours("Mon–Fri 9:00–18:00, Sat 10:00–14:00");
    // Monday 10:00 in Lisbon (UTC+0 in December) is open; Monday 10:00 UTC is 19:00 in Tokyo (closed).
    expect(isOpenAt(hours, at("2026-12-07T10:00:00Z"), "Europe/Lisbon")).toBe(true);
    expect(isOpenAt(hours, at("2026-12-07T10:00:00Z"), "Asia/Tokyo")).toBe(false);
    expect(nextOpening(hours, at("2026-12-07T10:00:00Z"), "Europe/Lisbon")).toBeNull();
    expect(nextOpening(hours, at("2026-12-07T10:00:00Z"), "Asia/Tokyo")).toBe("tomorrow at 09:00");
    // Monday 07:00 in Lisbon: today; Saturday 15:00: Monday.
    expect(nextOpening(hours, at("2026-12-07T07:00:00Z"), "Europe/Lisbon")).toBe("today at 09:00");
    expect(nextOpening(hours, at("2026-12-12T15:00:00Z"), "Europe/Lisbon")).toBe("Monday at 09:00");
    // Friday 19:00 → Saturday 10:00.
    expect(nextOpening(hours, at("2026-12-11T19:00:00Z"), "Europe/Lisbon")).toBe("tomorrow at 10:00");
    expect(nextOpening(parseBusinessHours(""), at("2026-12-12T15:00:00Z"), "UTC")).toBeNull();
  });
});
