/**
 * A tenant's assistant settings, with defaults for tenants that never changed them, and the
 * model's circuit breaker (closed → open after repeated failures → half-open probe → closed).
 */
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../../_generated/server";
import {
  ASSISTANT_LIMITS,
  BREAKER_OPEN_MS,
  BREAKER_THRESHOLD,
  IDLE_HAND_BACK_MINUTES,
  LANGUAGE_CODE,
  TURNS_PER_MINUTE,
} from "../../shared/assistant";
import { fail } from "../errors";

export { BREAKER_OPEN_MS, BREAKER_THRESHOLD };

export type AssistantSettings = Omit<Doc<"assistants">, "_id" | "_creationTime" | "tenantId" | "updatedAt">;

export const DEFAULTS: AssistantSettings = {
  enabled: true,
  name: "Assistant",
  persona: "A friendly, concise customer-service assistant.",
  instructions:
    "Answer only from the knowledge base. If the answer is not there, or the customer asks for a person, hand off to the team.",
  languages: ["en", "es", "pt"],
  businessHours: "",
  handoffRules: "",
  model: "gpt-4o-mini",
  fallbackModel: "gpt-4.1-mini",
  disabledChannels: [],
  turnsPerMinute: 6,
  idleHandBackMinutes: 30,
  replyDelayMs: 1_500,
  breaker: { state: "closed", failures: 0 },
};

export async function settingsRow(ctx: QueryCtx, tenantId: Id<"tenants">): Promise<Doc<"assistants"> | null> {
  return await ctx.db
    .query("assistants")
    .withIndex("by_tenant", (q) => q.eq("tenantId", tenantId))
    .unique();
}

export async function settingsOf(ctx: QueryCtx, tenantId: Id<"tenants">): Promise<AssistantSettings> {
  const row = await settingsRow(ctx, tenantId);
  if (!row) return DEFAULTS;
  const { _id, _creationTime, tenantId: _tenant, updatedAt, ...settings } = row;
  void _id;
  void _creationTime;
  void _tenant;
  void updatedAt;
  return settings;
}

export type SettingsChanges = Partial<Omit<AssistantSettings, "breaker">>;

/** Checks what a tenant admin entered; returns the settings to store. */
export function validateChanges(current: AssistantSettings, changes: SettingsChanges): AssistantSettings {
  const next: AssistantSettings = { ...current, ...changes };
  for (const [field, { max }] of Object.entries(ASSISTANT_LIMITS) as [
    keyof typeof ASSISTANT_LIMITS,
    { max: number },
  ][]) {
    const value = next[field].trim();
    if (value.length > max) fail("INVALID", `At most ${max} characters (${value.length} now)`, field);
    next[field] = value;
  }
  if (!next.name) fail("INVALID", "Give the assistant a name", "name");
  if (!next.model) fail("INVALID", "Name the model to use", "model");
  if (
    !Number.isInteger(next.turnsPerMinute) ||
    next.turnsPerMinute < TURNS_PER_MINUTE.min ||
    next.turnsPerMinute > TURNS_PER_MINUTE.max
  )
    fail("INVALID", "Between 1 and 60 answers per minute per customer", "turnsPerMinute");
  if (
    !Number.isInteger(next.idleHandBackMinutes) ||
    next.idleHandBackMinutes < IDLE_HAND_BACK_MINUTES.min ||
    next.idleHandBackMinutes > IDLE_HAND_BACK_MINUTES.max
  )
    fail("INVALID", "Between 0 (never) and 10080 minutes (a week)", "idleHandBackMinutes");
  const delay = next.replyDelayMs ?? DEFAULTS.replyDelayMs!;
  if (!Number.isInteger(delay) || delay < 0 || delay > 10_000)
    fail("INVALID", "Between 0 and 10000 ms of quiet before answering", "replyDelayMs");
  next.replyDelayMs = delay;
  next.languages = [...new Set(next.languages.map((l) => l.trim().toLowerCase()).filter(Boolean))];
  if (next.languages.some((l) => !LANGUAGE_CODE.test(l)))
    fail("INVALID", "Languages are codes like en, es or pt-br", "languages");
  return next;
}

export async function saveSettings(ctx: MutationCtx, tenantId: Id<"tenants">, settings: AssistantSettings) {
  const row = await settingsRow(ctx, tenantId);
  const now = Date.now();
  if (row) await ctx.db.patch("assistants", row._id, { ...settings, updatedAt: now });
  else await ctx.db.insert("assistants", { tenantId, ...settings, updatedAt: now });
}

/** Whether the model may be called now, and whether this call is the half-open probe. */
export function breakerAllows(breaker: AssistantSettings["breaker"], now: number): boolean {
  if (breaker.state !== "open") return true;
  return breaker.openedAt !== undefined && now - breaker.openedAt >= BREAKER_OPEN_MS;
}

/** The breaker after a model call succeeded or failed. */
export function nextBreaker(
  breaker: AssistantSettings["breaker"],
  outcome: { ok: true } | { ok: false; error: string },
  now: number,
): AssistantSettings["breaker"] {
  if (outcome.ok) return { state: "closed", failures: 0 };
  const failures = breaker.failures + 1;
  // A failed probe, or too many failures in a row: open (again) for another pause.
  if (breaker.state !== "closed" || failures >= BREAKER_THRESHOLD)
    return { state: "open", failures, openedAt: now, lastError: outcome.error.slice(0, 300) };
  return { state: "closed", failures, lastError: outcome.error.slice(0, 300) };
}

/** The breaker as the tenant sees it: open turns half-open once its pause is over. */
export function breakerView(
  breaker: AssistantSettings["breaker"],
  now: number,
): AssistantSettings["breaker"] {
  if (breaker.state === "open" && breakerAllows(breaker, now)) return { ...breaker, state: "half_open" };
  return breaker;
}
