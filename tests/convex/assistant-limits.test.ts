/**
 * The assistant pages count against convex/shared/assistant.ts and refuse with the backend's
 * words: here the mutations accept exactly those limits and refuse one more, on the same field.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api } from "../../convex/_generated/api";
import {
  ASSISTANT_LIMITS,
  IDLE_HAND_BACK_MINUTES,
  KNOWLEDGE_LIMITS,
  TURNS_PER_MINUTE,
} from "../../convex/shared/assistant";
import {
  IDLE_MINUTES_MESSAGE,
  TURNS_PER_MINUTE_MESSAGE,
  languagesProblem,
  parseLanguages,
  textProblem,
} from "../../app/lib/assistant";
import { expectCode, SETTINGS, setup, signUp } from "./factories";

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

async function admin() {
  const { as } = setup();
  const owner = await signUp(as, "olivia@acme.test");
  const { tenantId } = await owner.client.mutation(api.tenants.create, SETTINGS);
  const update = (changes: Record<string, unknown>) =>
    owner.client.mutation(api.assistant.updateSettings, { tenantId, changes });
  const save = (entry: { title: string; body: string; tags: string[] }) =>
    owner.client.mutation(api.assistant.saveEntry, { tenantId, ...entry });
  const settings = () => owner.client.query(api.assistant.settings, { tenantId });
  return { update, save, settings };
}

describe("assistant settings limits agree across the boundary", () => {
  it.each(Object.keys(ASSISTANT_LIMITS) as (keyof typeof ASSISTANT_LIMITS)[])(
    "%s: the limit is accepted, one more character refused with the page's words",
    async (field) => {
      const { update, settings } = await admin();
      const { max } = ASSISTANT_LIMITS[field];
      await update({ [field]: "a".repeat(max) });
      expect((await settings())[field]).toHaveLength(max);
      const error = await expectCode(update({ [field]: "b".repeat(max + 1) }), "INVALID", field);
      expect(error.message).toBe(textProblem("b".repeat(max + 1), max));
      expect(textProblem("a".repeat(max), max)).toBeNull();
    },
  );

  it("answers per minute and idle minutes: the ends of the ranges pass, one beyond is refused", async () => {
    const { update, settings } = await admin();
    for (const n of [TURNS_PER_MINUTE.min, TURNS_PER_MINUTE.max]) await update({ turnsPerMinute: n });
    expect((await settings()).turnsPerMinute).toBe(TURNS_PER_MINUTE.max);
    for (const n of [TURNS_PER_MINUTE.min - 1, TURNS_PER_MINUTE.max + 1, 2.5]) {
      const error = await expectCode(update({ turnsPerMinute: n }), "INVALID", "turnsPerMinute");
      expect(error.message).toBe(TURNS_PER_MINUTE_MESSAGE);
    }
    for (const n of [IDLE_HAND_BACK_MINUTES.min, IDLE_HAND_BACK_MINUTES.max])
      await update({ idleHandBackMinutes: n });
    for (const n of [IDLE_HAND_BACK_MINUTES.min - 1, IDLE_HAND_BACK_MINUTES.max + 1]) {
      const error = await expectCode(update({ idleHandBackMinutes: n }), "INVALID", "idleHandBackMinutes");
      expect(error.message).toBe(IDLE_MINUTES_MESSAGE);
    }
  });

  it("languages: what the page reads from a comma list is what the backend stores, and bad codes fail both", async () => {
    const { update, settings } = await admin();
    const typed = "EN, es  pt-BR,,es";
    expect(languagesProblem(parseLanguages(typed))).toBeNull();
    await update({ languages: parseLanguages(typed) });
    expect((await settings()).languages).toEqual(["en", "es", "pt-br"]);
    const bad = parseLanguages("en, english");
    expect(languagesProblem(bad)).toContain("“english”");
    await expectCode(update({ languages: bad }), "INVALID", "languages");
  });
});

describe("knowledge entry limits agree across the boundary", () => {
  it("title, answer and tags: the limit is accepted, one more refused on its field", async () => {
    const { save } = await admin();
    const title = "t".repeat(KNOWLEDGE_LIMITS.title.max);
    const body = "b".repeat(KNOWLEDGE_LIMITS.body.max);
    const tags = Array.from({ length: KNOWLEDGE_LIMITS.tags }, (_, i) => `tag${i}`);
    await save({ title, body, tags });
    await expectCode(save({ title: `${title}t`, body: "x", tags: [] }), "INVALID", "title");
    await expectCode(save({ title: "x", body: `${body}b`, tags: [] }), "INVALID", "body");
    await expectCode(save({ title: "x", body: "x", tags: [...tags, "one-more"] }), "INVALID", "tags");
    await expectCode(save({ title: " ", body: "x", tags: [] }), "INVALID", "title");
    await expectCode(save({ title: "x", body: " ", tags: [] }), "INVALID", "body");
  });
});
