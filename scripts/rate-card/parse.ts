/**
 * Turns ../shared/design/rates.md (Meta's WhatsApp rate cards, as researched) into seed rows for
 * the billing rate card. Pure functions, so tests can run them on small inputs; the command in
 * scripts/generate-rate-card.ts writes convex/model/billing/rateCardSeed.ts with them.
 */

export type SeedCategory =
  "marketing" | "utility" | "authentication" | "authentication_international" | "service";

export type SeedRate = {
  currency: string;
  /** Market id: an ISO country for standalone markets, a snake_case name for regions and `other`. */
  market: string;
  category: SeedCategory;
  /** YYYY-MM-DD, 00:00 UTC. */
  effectiveFrom: string;
  /** Decimal string in units of the currency, exactly as published. */
  rate: string;
  /** Source letters of rates.md ("B,C,R"). */
  source: string;
  /** Unverified for this date (rates.md's †, or derived by a rule below). */
  estimate: boolean;
  note?: string;
};

type Cell = { rate: string; estimate: boolean } | null;
type Row = {
  name: string;
  market: string;
  cells: Record<Exclude<SeedCategory, "service">, Cell>;
  letters: string[];
  equalsApril: boolean;
};
type Card = { currency: string; effectiveFrom: string; rows: Row[]; alsoAuthIntl: Record<string, string> };

const COLUMNS = ["marketing", "utility", "authentication", "authentication_international"] as const;

/** The date from which service messages cost the utility rate (rates.md, USD 2026-10-01). */
export const SERVICE_CHARGED_FROM = "2026-10-01";

export function marketId(name: string, countries: string): string {
  const code = countries.trim();
  if (/^[A-Z]{2}$/.test(code)) return code;
  return name
    .toLowerCase()
    .replace(/&/g, "and")
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
}

function cell(text: string, where: string): Cell {
  const value = text.trim();
  if (value === "?" || value === "–" || value === "-" || value === "") return null;
  const match = /^(\d+\.\d+)(†?)$/.exec(value);
  if (!match) throw new Error(`${where}: "${value}" is not a rate`);
  return { rate: match[1], estimate: match[2] === "†" };
}

/** "BC,R =A" → letters B, C, R and the "equals the April CSV" mark. */
function sourceOf(text: string): { letters: string[]; equalsApril: boolean } {
  const equalsApril = /=A\b/.test(text);
  const letters = text
    .replace(/=A\b/, "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .flatMap((s) => (s === "BC" ? ["B", "C"] : [s]));
  return { letters, equalsApril };
}

/** Every "## <CUR>, effective <date>" section with its table. */
export function parseCards(markdown: string): Card[] {
  const cards: Card[] = [];
  let current: Card | null = null;
  for (const [index, line] of markdown.split("\n").entries()) {
    const heading = /^## ([A-Z]{3}), effective (\d{4}-\d{2}-\d{2})/.exec(line);
    if (heading) {
      current = { currency: heading[1], effectiveFrom: heading[2], rows: [], alsoAuthIntl: {} };
      cards.push(current);
      continue;
    }
    if (line.startsWith("## ")) {
      current = null;
      continue;
    }
    if (!current) continue;
    const also = /^Auth-intl also: (.*)\.$/.exec(line.trim());
    if (also) {
      for (const part of also[1].split(",")) {
        const [code, rate] = part.trim().split(/\s+/);
        current.alsoAuthIntl[code] = rate;
      }
      continue;
    }
    if (!line.startsWith("|") || line.startsWith("|market|") || line.startsWith("|---")) continue;
    const cols = line.split("|").slice(1, -1);
    if (cols.length !== 7) throw new Error(`line ${index + 1}: expected 7 columns, got ${cols.length}`);
    const [name, countries, ...rest] = cols.map((c) => c.trim());
    const where = `line ${index + 1} (${name})`;
    const cells = Object.fromEntries(COLUMNS.map((c, i) => [c, cell(rest[i], where)])) as Row["cells"];
    current.rows.push({ name, market: marketId(name, countries), cells, ...sourceOf(rest[4]) });
  }
  return cards;
}

/** The markets that became standalone on `date`, from the "Standalone:" line of the mapping. */
export function standaloneFrom(markdown: string, date: string): string[] {
  const line = markdown.split("\n").find((l) => l.includes("**Standalone:**"));
  if (!line) throw new Error('rates.md has no "Standalone:" line in its market mapping');
  const match = new RegExp(`from ${date} \\+ ([A-Z ]+?)[;.]?(?:$|;)`).exec(line);
  return match ? match[1].trim().split(/\s+/) : [];
}

function rowRates(
  card: { currency: string; effectiveFrom: string },
  row: Row,
  letters: string[],
  estimate?: boolean,
  note?: string,
): SeedRate[] {
  const out: SeedRate[] = [];
  for (const category of COLUMNS) {
    const c = row.cells[category];
    if (!c) continue;
    out.push({
      currency: card.currency,
      market: row.market,
      category,
      effectiveFrom: card.effectiveFrom,
      rate: c.rate,
      source: letters.join(","),
      estimate: estimate ?? c.estimate,
      ...(note ? { note } : {}),
    });
  }
  return out;
}

/**
 * The seed: every card's table as published, plus what rates.md states in words —
 * - USD 2026-04-01: its own table plus the "=A" rows of the October table (source A, verified);
 * - USD 2026-07-01: the October rows that D confirmed for July, and, as estimates, the October
 *   rows of the markets that became standalone that day (rates.md: they fit the EUR card ÷ 0.828);
 * - service from 2026-10-01 at each market's utility rate then in force, in every currency (an
 *   estimate unless that utility rate comes from a card of that date).
 */
export function buildSeed(markdown: string): SeedRate[] {
  const cards = parseCards(markdown);
  const seed: SeedRate[] = [];
  for (const card of cards) for (const row of card.rows) seed.push(...rowRates(card, row, row.letters));

  const october = cards.find((c) => c.currency === "USD" && c.effectiveFrom === "2026-10-01");
  const april = cards.find((c) => c.currency === "USD" && c.effectiveFrom === "2026-04-01");
  if (!october || !april) throw new Error("rates.md lacks the USD cards of 2026-04-01 and 2026-10-01");

  // April: the October rows marked "=A", at the values of the April CSV (A).
  const aprilMarkets = new Set(april.rows.map((r) => r.market));
  for (const row of october.rows) {
    if (!row.equalsApril) continue;
    if (aprilMarkets.has(row.market)) throw new Error(`${row.name} is both "=A" and in the April table`);
    const aprilIntl = april.alsoAuthIntl[row.market];
    const octIntl = row.cells.authentication_international;
    if (octIntl && aprilIntl && octIntl.rate !== aprilIntl) {
      throw new Error(`${row.name}: auth-intl ${octIntl.rate} in October but ${aprilIntl} in April`);
    }
    const cells = {
      ...row.cells,
      authentication_international: aprilIntl ? { rate: aprilIntl, estimate: false } : null,
    };
    seed.push(...rowRates(april, { ...row, cells }, ["A"], false));
  }

  // July: D's confirmations, and the new standalone markets' October values as estimates.
  const july = { currency: "USD", effectiveFrom: "2026-07-01" };
  const newInJuly = new Set(standaloneFrom(markdown, "2026-07-01"));
  for (const row of october.rows) {
    if (row.letters.includes("D")) {
      seed.push(...rowRates(july, row, ["D"], false));
    } else if (newInJuly.has(row.market)) {
      seed.push(
        ...rowRates(
          july,
          row,
          row.letters,
          true,
          "July value unverified: the October value, which fits the EUR card ÷ 0.828 (rates.md)",
        ),
      );
    }
  }

  // Service = utility from 2026-10-01, in every currency.
  const at = SERVICE_CHARGED_FROM;
  const utilities = new Map<string, SeedRate>();
  for (const rate of seed) {
    if (rate.category !== "utility" || rate.effectiveFrom > at) continue;
    const key = `${rate.currency}|${rate.market}`;
    const known = utilities.get(key);
    if (!known || known.effectiveFrom < rate.effectiveFrom) utilities.set(key, rate);
  }
  for (const utility of utilities.values()) {
    const sameDate = utility.effectiveFrom === at;
    seed.push({
      currency: utility.currency,
      market: utility.market,
      category: "service",
      effectiveFrom: at,
      rate: utility.rate,
      source: [...new Set([...utility.source.split(","), "M"])].join(","),
      estimate: utility.estimate || !sameDate,
      note: sameDate
        ? "service = utility from 2026-10-01 (M, B, C)"
        : `service = utility from 2026-10-01 (M, B, C); utility as of ${utility.effectiveFrom}, no ${utility.currency} card of 2026-10-01 seen`,
    });
  }

  const keys = new Set<string>();
  for (const r of seed) {
    const key = `${r.currency}|${r.market}|${r.category}|${r.effectiveFrom}`;
    if (keys.has(key)) throw new Error(`two seed rates for ${key}`);
    keys.add(key);
  }
  return seed.sort(
    (a, b) =>
      a.currency.localeCompare(b.currency) ||
      a.effectiveFrom.localeCompare(b.effectiveFrom) ||
      a.market.localeCompare(b.market) ||
      a.category.localeCompare(b.category),
  );
}

/** The TypeScript module committed as convex/model/billing/rateCardSeed.ts. */
export function renderSeedModule(seed: SeedRate[], inputSha256: string): string {
  const lines = seed.map((r) => `  ${JSON.stringify(r)},`);
  return [
    "// Generated by scripts/generate-rate-card.ts from ../shared/design/rates.md; do not edit by hand.",
    `// rates.md sha256: ${inputSha256}`,
    "",
    "/** One rate as seeded: a decimal string in the currency, with its sources and reliability. */",
    "export type SeedRate = {",
    "  currency: string;",
    "  market: string;",
    '  category: "marketing" | "utility" | "authentication" | "authentication_international" | "service";',
    "  effectiveFrom: string;",
    "  rate: string;",
    "  source: string;",
    "  estimate: boolean;",
    "  note?: string;",
    "};",
    "",
    "export const RATE_CARD_SEED: readonly SeedRate[] = [",
    ...lines,
    "];",
    "",
  ].join("\n");
}
