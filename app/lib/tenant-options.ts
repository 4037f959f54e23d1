// Choices for a workspace's settings (currency, time zone, default country), labelled in the
// browser's language, with sensible first-run defaults guessed from the browser.
import { RATE_CARD_CURRENCIES } from "../../convex/shared/currencies";

export type Option = { value: string; label: string };

/** Workspaces bill only in currencies with a WhatsApp rate card (convex/shared/currencies.ts). */
export { RATE_CARD_CURRENCIES };

// ISO 3166-1 alpha-2, every officially assigned code.
const COUNTRY_CODES = (
  "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS " +
  "BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE " +
  "EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM " +
  "HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC " +
  "LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA " +
  "NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW " +
  "SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO " +
  "TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"
).split(" ");

export function isCountryCode(code: string): boolean {
  return COUNTRY_CODES.includes(code);
}

function displayNames(locale: string | undefined, type: "currency" | "region"): Intl.DisplayNames | null {
  try {
    return new Intl.DisplayNames(locale ? [locale] : undefined, { type, fallback: "code" });
  } catch {
    return null;
  }
}

function withCurrent(values: readonly string[], current: string | undefined): string[] {
  return current && !values.includes(current) ? [current, ...values] : [...values];
}

/**
 * The currencies with a rate card, "US Dollar (USD)"; a workspace's `current` currency without
 * one (from before the rule) is kept first, so the select shows the real value.
 */
export function currencyOptions(current?: string, locale?: string): Option[] {
  const names = displayNames(locale, "currency");
  return withCurrent(RATE_CARD_CURRENCIES, current).map((code) => {
    const name = names?.of(code);
    return { value: code, label: name && name !== code ? `${name} (${code})` : code };
  });
}

/** Every country by name, "Spain (ES)"; `current` is added when it is not a known code. */
export function countryOptions(current?: string, locale?: string): Option[] {
  const names = displayNames(locale, "region");
  const options = withCurrent(COUNTRY_CODES, current).map((code) => {
    let name: string | undefined;
    try {
      name = names?.of(code);
    } catch {
      name = undefined;
    }
    return { value: code, label: name && name !== code ? `${name} (${code})` : code };
  });
  return options.sort((a, b) => a.label.localeCompare(b.label, locale));
}

/** IANA time zones the runtime knows, plus `current` when the list lacks it (e.g. "UTC"). */
export function timeZoneOptions(current?: string): Option[] {
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  const all = withCurrent(zones.length ? zones : ["UTC"], current);
  return all.sort().map((zone) => ({ value: zone, label: zone.replace(/_/g, " ") }));
}

/** The browser's time zone, or UTC when it cannot tell. */
export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

/** The first region in a list of language tags ("es-MX" → "MX"), or null. */
export function countryFromLanguages(languages: readonly string[]): string | null {
  for (const tag of languages) {
    try {
      const region = new Intl.Locale(tag).maximize().region;
      if (region && isCountryCode(region)) return region;
    } catch {
      // Not a valid tag: try the next.
    }
  }
  return null;
}

const EURO_AREA = "AT BE CY DE EE ES FI FR GR HR IE IT LT LU LV MT NL PT SI SK".split(" ");

/** The rate-card currency of a country: euro in the euro area, rupee in India, peso in Chile, else USD. */
export function currencyForCountry(country: string | null): string {
  if (!country) return "USD";
  if (EURO_AREA.includes(country)) return "EUR";
  return { IN: "INR", CL: "CLP" }[country] ?? "USD";
}

export type TenantSettingsValues = {
  name: string;
  currency: string;
  timeZone: string;
  defaultCountry: string;
};

/** First-run defaults from the browser: its time zone, and the country and currency of its language. */
export function defaultTenantSettings(languages: readonly string[], timeZone: string): TenantSettingsValues {
  const country = countryFromLanguages(languages);
  return { name: "", currency: currencyForCountry(country), timeZone, defaultCountry: country ?? "US" };
}
