// The assistant pages' rules and wording: the backend's limits (convex/shared/assistant.ts),
// reading the comma lists people type (languages, tags), what changed in the settings form, and
// the circuit breaker in plain words.
import type { FunctionReturnType } from "convex/server";
import type { api } from "../../convex/_generated/api";
import {
  ASSISTANT_LIMITS,
  BREAKER_OPEN_MS,
  BREAKER_THRESHOLD,
  IDLE_HAND_BACK_MINUTES,
  KNOWLEDGE_LIMITS,
  LANGUAGE_CODE,
  TURNS_PER_MINUTE,
} from "../../convex/shared/assistant";
import { durationInWords } from "./format";
import { hasRole } from "./roles";
import type { TenantContext } from "./tenant-context";

export {
  ASSISTANT_LIMITS,
  BREAKER_OPEN_MS,
  BREAKER_THRESHOLD,
  IDLE_HAND_BACK_MINUTES,
  KNOWLEDGE_LIMITS,
  LANGUAGE_CODE,
  TURNS_PER_MINUTE,
};

export type AssistantSettingsView = FunctionReturnType<typeof api.assistant.settings>;
export type Breaker = AssistantSettingsView["breaker"];
export type KnowledgeEntryView = FunctionReturnType<typeof api.assistant.knowledge>["page"][number];

/**
 * Whether the viewer may open the assistant's pages: members from agent up (as the backend's
 * queries require), and platform admins, who read every workspace.
 */
export function canViewAssistant(tenant: Pick<TenantContext, "role" | "isMember" | "canAdminRead">): boolean {
  return (tenant.isMember && hasRole(tenant.role, "agent")) || tenant.canAdminRead;
}

/** "en, es pt-BR" → ["en", "es", "pt-br"]: split on commas and spaces, lower-cased, once each. */
export function parseLanguages(text: string): string[] {
  return unique(text.split(/[\s,;]+/).map((l) => l.trim().toLowerCase()));
}

/** "Hours, opening hours" → ["hours", "opening hours"]: split on commas, lower-cased, once each. */
export function parseTags(text: string): string[] {
  return unique(text.split(",").map((t) => t.trim().toLowerCase()));
}

function unique(items: string[]): string[] {
  return [...new Set(items.filter(Boolean))];
}

/** Why these language codes cannot be saved, or null (the backend's rule and words). */
export function languagesProblem(codes: readonly string[]): string | null {
  const bad = codes.filter((c) => !LANGUAGE_CODE.test(c));
  if (!bad.length) return null;
  return `Languages are codes like en, es or pt-br; not ${bad.map((c) => `“${c}”`).join(", ")}`;
}

/** Why a text setting cannot be saved, or null: the backend's limit and words. */
export function textProblem(value: string, max: number): string | null {
  const n = value.trim().length;
  return n > max ? `At most ${max} characters (${n} now)` : null;
}

/**
 * A whole number typed into a field, within `range`; otherwise the backend's message. Empty,
 * decimals and words are refused here rather than rounded.
 */
export function wholeNumber(
  text: string,
  range: { min: number; max: number },
  message: string,
): { value: number } | { problem: string } {
  const trimmed = text.trim();
  const value = /^\d+$/.test(trimmed) ? Number(trimmed) : NaN;
  if (!Number.isInteger(value) || value < range.min || value > range.max) return { problem: message };
  return { value };
}

export const TURNS_PER_MINUTE_MESSAGE = `Between ${TURNS_PER_MINUTE.min} and ${TURNS_PER_MINUTE.max} answers per minute per customer`;
export const IDLE_MINUTES_MESSAGE = `Between 0 (never) and ${IDLE_HAND_BACK_MINUTES.max} minutes (a week)`;

/** Only the entries of `next` that differ from `current` (so a save never overwrites others' edits). */
export function changedFields<T extends Record<string, unknown>>(current: T, next: T): Partial<T> {
  const changes: Partial<T> = {};
  for (const key of Object.keys(next) as (keyof T)[]) {
    if (JSON.stringify(current[key]) !== JSON.stringify(next[key])) changes[key] = next[key];
  }
  return changes;
}

export type BreakerSummary = {
  /** "Closed", "Open", "Half-open". */
  label: string;
  tone: "good" | "warning" | "bad";
  /** What it means for customers right now. */
  meaning: string;
  /** When an open breaker lets the next call through, if it is open. */
  probeAt: number | null;
};

/**
 * The breaker as people should read it. `now` (null before the browser's clock is known) turns an
 * open breaker whose pause is over into half-open, as the backend does when the next turn comes.
 */
export function breakerSummary(breaker: Breaker, now: number | null): BreakerSummary {
  const pause = durationInWords(BREAKER_OPEN_MS);
  const probeAt =
    breaker.state === "open" && breaker.openedAt !== undefined ? breaker.openedAt + BREAKER_OPEN_MS : null;
  const state =
    breaker.state === "open" && probeAt !== null && now !== null && now >= probeAt
      ? "half_open"
      : breaker.state;
  if (state === "closed") {
    return {
      label: "Closed",
      tone: "good",
      meaning:
        breaker.failures > 0
          ? `The model is in use. It failed ${times(breaker.failures)} in a row; after ${BREAKER_THRESHOLD} failures in a row the assistant stops calling it for ${pause}.`
          : `The model is in use. After ${BREAKER_THRESHOLD} failures in a row the assistant stops calling it for ${pause} and answers offline from the knowledge base.`,
      probeAt: null,
    };
  }
  if (state === "half_open") {
    return {
      label: "Half-open",
      tone: "warning",
      meaning:
        "The next customer message tries the model once: if it answers, the breaker closes; if it fails, the breaker opens again.",
      probeAt: null,
    };
  }
  return {
    label: "Open",
    tone: "bad",
    meaning: `The model failed ${times(breaker.failures)} in a row, so the assistant answers offline from the knowledge base until it tries the model again.`,
    probeAt,
  };
}

function times(n: number): string {
  return n === 1 ? "once" : n === 2 ? "twice" : `${n} times`;
}
