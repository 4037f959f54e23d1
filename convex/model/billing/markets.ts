/**
 * Meta's pricing markets and which countries belong to them on a given date, from the
 * "Market → country mapping" of ../shared/design/rates.md (Meta's calling-code table, M).
 */

export const REGIONS = {
  north_america: "North America",
  rest_of_africa: "Rest of Africa",
  rest_of_asia_pacific: "Rest of Asia Pacific",
  rest_of_central_and_eastern_europe: "Rest of Central & Eastern Europe",
  rest_of_latin_america: "Rest of Latin America",
  rest_of_middle_east: "Rest of Middle East",
  rest_of_western_europe: "Rest of Western Europe",
  other: "Other",
} as const;
export type Region = keyof typeof REGIONS;

/** A market id: an ISO country for a standalone market, or a region. */
export type MarketId = string;

const day = (date: string) => Date.parse(`${date}T00:00:00Z`);

/** Markets of their own since before any seeded card. */
const STANDALONE = "AR BR CL CO EG FR DE IN ID IL IT MY MX NL NG PK PE RU SA ZA ES TR AE GB".split(" ");

/** Markets that left a region on a date; before it they were priced as that region. */
const STANDALONE_FROM: Record<string, { from: string; region: Region }> = {
  HK: { from: "2026-07-01", region: "rest_of_asia_pacific" },
  SG: { from: "2026-07-01", region: "rest_of_asia_pacific" },
  HU: { from: "2026-07-01", region: "rest_of_central_and_eastern_europe" },
  PL: { from: "2026-07-01", region: "rest_of_central_and_eastern_europe" },
  RO: { from: "2026-07-01", region: "rest_of_central_and_eastern_europe" },
  QA: { from: "2026-07-01", region: "rest_of_middle_east" },
  BD: { from: "2026-10-01", region: "rest_of_asia_pacific" },
  NP: { from: "2026-10-01", region: "rest_of_asia_pacific" },
  LK: { from: "2026-10-01", region: "rest_of_asia_pacific" },
  IQ: { from: "2026-10-01", region: "rest_of_middle_east" },
  KW: { from: "2026-10-01", region: "rest_of_middle_east" },
  OM: { from: "2026-10-01", region: "rest_of_middle_east" },
  MA: { from: "2026-10-01", region: "rest_of_africa" },
  UA: { from: "2026-10-01", region: "rest_of_central_and_eastern_europe" },
  // +7 is shared with Russia, but Meta calls KZ's move an increase, which fits Other (rates.md).
  KZ: { from: "2026-10-01", region: "other" },
};

const REGION_COUNTRIES: Record<Exclude<Region, "other">, string> = {
  north_america: "US CA",
  rest_of_africa:
    "DZ AO BJ BW BF BI CM TD CG ER ET GA GM GH GW CI KE LS LR LY MG MW ML MR MZ NA NE RW SN SL SO SS SD SZ TZ TG TN UG ZM",
  rest_of_asia_pacific: "AF AU KH CN JP LA MN NZ PG PH TW TJ TH TM UZ VN",
  rest_of_central_and_eastern_europe: "AL AM AZ BY BG HR CZ GE GR LV LT MD MK RS SK SI",
  rest_of_western_europe: "AT BE DK FI IE NO PT SE CH",
  rest_of_latin_america: "BO CR DO EC SV GT HT HN JM NI PA PY PR UY VE",
  rest_of_middle_east: "BH JO LB YE",
};

/** Countries that joined a region on a date; before it they were in Other. */
const REGION_FROM: Record<string, { from: string; region: Region }> = {
  ZW: { from: "2025-10-01", region: "rest_of_africa" },
};

const REGION_OF = new Map<string, Region>();
for (const [region, countries] of Object.entries(REGION_COUNTRIES)) {
  for (const country of countries.split(" ")) REGION_OF.set(country, region as Region);
}

export type MarketResolution = {
  market: MarketId;
  /** Where to look when the currency has no rate for `market`: its former region, then Other. */
  fallbacks: MarketId[];
};

/** The market a country is priced in at `at` (ms), with the markets to fall back to. */
export function marketOf(country: string, at: number): MarketResolution {
  const code = country.toUpperCase();
  if (STANDALONE.includes(code)) return { market: code, fallbacks: ["other"] };
  const moved = STANDALONE_FROM[code];
  if (moved) {
    if (at >= day(moved.from)) {
      return { market: code, fallbacks: moved.region === "other" ? ["other"] : [moved.region, "other"] };
    }
    return { market: moved.region, fallbacks: moved.region === "other" ? [] : ["other"] };
  }
  const joined = REGION_FROM[code];
  if (joined) {
    return at >= day(joined.from)
      ? { market: joined.region, fallbacks: ["other"] }
      : { market: "other", fallbacks: [] };
  }
  const region = REGION_OF.get(code);
  if (region) return { market: region, fallbacks: ["other"] };
  return { market: "other", fallbacks: [] };
}

/** A market's name for people. */
export function marketName(market: MarketId): string {
  if (market in REGIONS) return REGIONS[market as Region];
  try {
    return new Intl.DisplayNames(["en"], { type: "region" }).of(market) ?? market;
  } catch {
    return market;
  }
}

/** Every country named in the mapping, for tests and the rate card viewer. */
export function mappedCountries(): string[] {
  return [...STANDALONE, ...Object.keys(STANDALONE_FROM), ...Object.keys(REGION_FROM), ...REGION_OF.keys()];
}

/** Every market a rate can be for: standalone countries (some only from a date) and regions. */
export function marketIds(): MarketId[] {
  return [...STANDALONE, ...Object.keys(STANDALONE_FROM), ...Object.keys(REGIONS)];
}

/**
 * Why a rate cannot be for `market` from `from` (ms), or null when it can: the id must be a
 * region or a country priced on its own by then, not a country inside a region.
 */
export function marketProblem(market: MarketId, from: number): string | null {
  if (market in REGIONS || STANDALONE.includes(market)) return null;
  const moved = STANDALONE_FROM[market];
  if (moved) {
    return from >= day(moved.from)
      ? null
      : `${market} is a market of its own only from ${moved.from}; before that it is priced as ${REGIONS[moved.region]} (${moved.region})`;
  }
  const region = REGION_OF.get(market) ?? REGION_FROM[market]?.region;
  if (region) return `${market} is priced as ${REGIONS[region]}: use the region id ${region}`;
  if (/^[A-Z]{2}$/.test(market))
    return `${market} has no market of its own: countries outside every region are priced as Other (other)`;
  return `"${market}" is not a market: use an ISO country with its own market (like IT) or a region id (like rest_of_western_europe)`;
}
