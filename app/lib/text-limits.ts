// Length limits in forms, checked as people type and before anything is sent: a field never cuts
// what was pasted into it (no `maxLength`); it counts, and says how much is too much.
import { LIMITS } from "../../convex/shared/limits";

export { LIMITS };

export type Limit = { min: number; max: number };

/** Characters as the backend counts them: after trimming, per UTF-16 code unit (String.length). */
export function countChars(value: string): number {
  return value.trim().length;
}

/** "12 / 80", or "85 / 80 — 5 too many" once over. */
export function charCount(value: string, limit: Limit): { text: string; over: boolean } {
  const n = countChars(value);
  const over = n > limit.max;
  return { text: over ? `${n} / ${limit.max} — ${n - limit.max} too many` : `${n} / ${limit.max}`, over };
}

/** Why `value` cannot be saved, or null: the same rule and words the backend uses. */
export function lengthProblem(value: string, limit: Limit, what = "Name"): string | null {
  const n = countChars(value);
  if (n >= limit.min && n <= limit.max) return null;
  const rule = `${what} must be ${limit.min} to ${limit.max} characters`;
  return n > limit.max ? `${rule}; this one has ${n}` : rule;
}
