/**
 * The assistant's rules that Convex enforces (convex/model/assistant/settings.ts, the knowledge
 * base in convex/assistant.ts) and the assistant pages count against: text limits in characters
 * after trimming, the ranges of its numbers, language codes, and the circuit breaker's timing.
 * Pure: no Convex or React imports, so both sides bundle it.
 */

/** Text settings: at most `max` characters; `min: 1` means it may not be empty. */
export const ASSISTANT_LIMITS = {
  name: { min: 1, max: 60 },
  persona: { min: 0, max: 1_000 },
  instructions: { min: 0, max: 4_000 },
  businessHours: { min: 0, max: 500 },
  handoffRules: { min: 0, max: 1_000 },
  model: { min: 1, max: 100 },
} as const;

/** Answers per minute per customer (the throttle). */
export const TURNS_PER_MINUTE = { min: 1, max: 60 } as const;

/** Minutes a person may leave a conversation idle before the assistant takes it back; 0 = never. */
export const IDLE_HAND_BACK_MINUTES = { min: 0, max: 7 * 24 * 60 } as const;

/** Language codes like en, es or pt-br (stored lower-case). */
export const LANGUAGE_CODE = /^[a-z]{2,3}(-[a-z0-9]{2,8})?$/;

/** A knowledge entry: its title and answer, and how many tags it may have. */
export const KNOWLEDGE_LIMITS = {
  title: { min: 1, max: 200 },
  body: { min: 1, max: 4_000 },
  tags: 20,
} as const;

/** Failures in a row that open the breaker, and how long it stays open before one probe. */
export const BREAKER_THRESHOLD = 3;
export const BREAKER_OPEN_MS = 60_000;
