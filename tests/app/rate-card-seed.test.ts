/** The rate card seed is rates.md, parsed: the generator's rules, and no drift from the file. */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { RATE_CARD_SEED } from "../../convex/model/billing/rateCardSeed";
import { buildSeed, parseCards } from "../../scripts/rate-card/parse";

const HEADER =
  "|market|countries (short)|marketing|utility|authentication|authentication-international|source|\n|---|---|---|---|---|---|---|";
const FIXTURE = `# Rates
## USD, effective 2026-10-01 (test)
${HEADER}
|Italy|IT|0.0795|0.0300|0.0300|–|BC,D|
|Egypt|EG|0.0644|0.0036|0.0036|0.0650†|BC =A|
|Hong Kong|HK|0.0732|0.0260|0.0260|–|BC|
|Rest of Africa|see map|0.0225|0.0040|0.0040|–|BC,R,X =A|
|Other|all others|0.0604|0.0077|0.0077|?|BC =A|

## USD, effective 2026-04-01 (test)
${HEADER}
|Italy|IT|0.0691|0.0300|0.0300|–|A|
Auth-intl also: EG 0.0650.

## Market → country mapping (M, ISO codes)
- **Standalone:** EG IT; from 2026-07-01 + HK; from 2026-10-01 + KZ.
`;

const find = (seed: ReturnType<typeof buildSeed>, key: string) =>
  seed.filter((r) => `${r.currency} ${r.market} ${r.category} ${r.effectiveFrom}` === key);

describe("the rate card generator", () => {
  it("reads each table, keeping sources and † as estimates and skipping ? and –", () => {
    const seed = buildSeed(FIXTURE);
    expect(find(seed, "USD EG authentication_international 2026-10-01")).toEqual([
      expect.objectContaining({ rate: "0.0650", estimate: true, source: "B,C" }),
    ]);
    expect(find(seed, "USD other authentication_international 2026-10-01")).toEqual([]);
    expect(find(seed, "USD IT authentication_international 2026-10-01")).toEqual([]);
    expect(find(seed, "USD rest_of_africa marketing 2026-10-01")[0].source).toBe("B,C,R,X");
  });

  it('builds the April card from its table plus the "=A" rows, with the auth-intl line', () => {
    const seed = buildSeed(FIXTURE);
    expect(find(seed, "USD IT marketing 2026-04-01")[0]).toMatchObject({ rate: "0.0691", source: "A" });
    expect(find(seed, "USD EG marketing 2026-04-01")[0]).toMatchObject({
      rate: "0.0644",
      source: "A",
      estimate: false,
    });
    expect(find(seed, "USD EG authentication_international 2026-04-01")[0]).toMatchObject({
      rate: "0.0650",
      estimate: false,
    });
    expect(find(seed, "USD HK marketing 2026-04-01")).toEqual([]);
  });

  it("dates D's confirmations and the new July markets (as estimates) 2026-07-01", () => {
    const seed = buildSeed(FIXTURE);
    expect(find(seed, "USD IT marketing 2026-07-01")[0]).toMatchObject({
      rate: "0.0795",
      source: "D",
      estimate: false,
    });
    expect(find(seed, "USD HK marketing 2026-07-01")[0]).toMatchObject({ rate: "0.0732", estimate: true });
    expect(find(seed, "USD EG marketing 2026-07-01")).toEqual([]);
  });

  it("prices service at the utility rate from 2026-10-01", () => {
    const seed = buildSeed(FIXTURE);
    expect(find(seed, "USD IT service 2026-10-01")[0]).toMatchObject({
      rate: "0.0300",
      source: "B,C,D,M",
      estimate: false,
    });
    expect(seed.filter((r) => r.category === "service" && r.effectiveFrom !== "2026-10-01")).toEqual([]);
  });

  it("refuses malformed rows instead of guessing", () => {
    expect(() => parseCards(FIXTURE.replace("0.0795", "0,0795"))).toThrow(/not a rate/);
    expect(() =>
      parseCards(FIXTURE.replace("|Italy|IT|0.0691|0.0300|0.0300|–|A|", "|Italy|IT|0.0691|A|")),
    ).toThrow(/7 columns/);
    expect(() =>
      buildSeed(FIXTURE.replace("## USD, effective 2026-04-01", "## USD, effective 2026-05-01")),
    ).toThrow(/2026-04-01/);
  });

  const ratesMd = [process.env.RATES_MD, "../shared/design/rates.md", "../../shared/design/rates.md"]
    .filter((p): p is string => Boolean(p))
    .map((p) => resolve(p))
    .find((p) => existsSync(p));

  it.skipIf(!ratesMd)("matches the committed seed (regenerate with scripts/generate-rate-card.ts)", () => {
    expect(buildSeed(readFileSync(ratesMd!, "utf8"))).toEqual(RATE_CARD_SEED);
  });
});
