// The choices offered for a workspace's settings and the first-run defaults from the browser.
import { describe, expect, it } from "vitest";
import {
  countryFromLanguages,
  countryOptions,
  currencyForCountry,
  currencyOptions,
  defaultTenantSettings,
  timeZoneOptions,
} from "../../app/lib/tenant-options";

describe("currencyOptions", () => {
  it("offers only the currencies with a rate card, labelled by name", () => {
    expect(currencyOptions(undefined, "en")).toEqual([
      { value: "USD", label: "US Dollar (USD)" },
      { value: "EUR", label: "Euro (EUR)" },
      { value: "INR", label: "Indian Rupee (INR)" },
      { value: "CLP", label: "Chilean Peso (CLP)" },
    ]);
    expect(currencyOptions("EUR", "en").filter((o) => o.value === "EUR")).toHaveLength(1);
  });

  it("keeps a workspace's older currency without a rate card first, so the select shows the real value", () => {
    expect(currencyOptions("ISK", "en").map((o) => o.value)).toEqual(["ISK", "USD", "EUR", "INR", "CLP"]);
  });
});

describe("countryOptions", () => {
  it("offers every ISO country once, sorted by name", () => {
    const options = countryOptions(undefined, "en");
    expect(options).toHaveLength(249);
    expect(new Set(options.map((o) => o.value)).size).toBe(249);
    expect(options.find((o) => o.value === "ES")?.label).toBe("Spain (ES)");
    const labels = options.map((o) => o.label);
    expect(labels).toEqual([...labels].sort((a, b) => a.localeCompare(b, "en")));
  });

  it("keeps a saved code it does not know, so the select shows the real value", () => {
    expect(countryOptions("XK", "en").some((o) => o.value === "XK")).toBe(true);
  });
});

describe("timeZoneOptions", () => {
  it("lists the runtime's zones and adds the current one when missing", () => {
    const zones = timeZoneOptions().map((o) => o.value);
    expect(zones).toContain("Europe/Madrid");
    expect(timeZoneOptions("Etc/Unknown_Zone").map((o) => o.value)).toContain("Etc/Unknown_Zone");
    expect(timeZoneOptions().find((o) => o.value === "America/New_York")?.label).toBe("America/New York");
  });
});

describe("first-run defaults", () => {
  it("takes the country from the first language tag that names or implies one", () => {
    expect(countryFromLanguages(["es-MX", "en-US"])).toBe("MX");
    expect(countryFromLanguages(["not a tag", "pt-BR"])).toBe("BR");
    expect(countryFromLanguages(["ja"])).toBe("JP");
    expect(countryFromLanguages([])).toBeNull();
  });

  it("guesses a rate-card currency from the country: euro for the euro area, INR, CLP, USD otherwise", () => {
    expect(currencyForCountry("ES")).toBe("EUR");
    expect(currencyForCountry("IN")).toBe("INR");
    expect(currencyForCountry("CL")).toBe("CLP");
    expect(currencyForCountry("GB")).toBe("USD");
    expect(currencyForCountry("BR")).toBe("USD");
    expect(currencyForCountry("AQ")).toBe("USD");
    expect(currencyForCountry(null)).toBe("USD");
  });

  it("combines them with the browser's time zone", () => {
    expect(defaultTenantSettings(["es-ES"], "Europe/Madrid")).toEqual({
      name: "",
      currency: "EUR",
      timeZone: "Europe/Madrid",
      defaultCountry: "ES",
    });
    expect(defaultTenantSettings([], "UTC")).toEqual({
      name: "",
      currency: "USD",
      timeZone: "UTC",
      defaultCountry: "US",
    });
  });
});
