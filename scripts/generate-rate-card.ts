/**
 * Regenerates convex/model/billing/rateCardSeed.ts from rates.md:
 *   npx tsx scripts/generate-rate-card.ts [path/to/rates.md]   (default ../shared/design/rates.md)
 */
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import * as prettier from "prettier";
import { buildSeed, renderSeedModule } from "./rate-card/parse";

const input = resolve(process.argv[2] ?? "../shared/design/rates.md");
const output = resolve("convex/model/billing/rateCardSeed.ts");
const markdown = readFileSync(input, "utf8");
const seed = buildSeed(markdown);
const sha = createHash("sha256").update(markdown).digest("hex");
const config = (await prettier.resolveConfig(output)) ?? {};
writeFileSync(output, await prettier.format(renderSeedModule(seed, sha), { ...config, filepath: output }));
console.log(`Wrote ${seed.length} rates from ${input} to ${output}`);
