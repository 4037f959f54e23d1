/** The rate card and AI prices this version of Switchboard ships, and how to tell it changed. */
import { MODEL_PRICE_SEED } from "./aiPrices";
import { RATE_CARD_SEED } from "./rateCardSeed";

export const PUBLISHED_RATES_JOB = "published rates";

/**
 * A fingerprint of the rate card and AI prices this version ships (FNV-1a over their JSON):
 * when it matches the last load, there is nothing new to load.
 */
export function publishedRatesFingerprint(): string {
  const text = JSON.stringify([RATE_CARD_SEED, MODEL_PRICE_SEED]);
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return `seed-${hash.toString(16).padStart(8, "0")}-${RATE_CARD_SEED.length}-${MODEL_PRICE_SEED.length}`;
}
