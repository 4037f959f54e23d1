// The assistant pages' own rules: who sees them, how the circuit breaker reads, what counts as
// a change, how comma lists and numbers typed into the form are read, and the answer counter.
import { createElement } from "react";
import { renderToString } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { TextAreaField } from "../../app/components/text-area-field";
import * as app from "../../app/lib/assistant";
import * as shared from "../../convex/shared/assistant";

const { breakerSummary, canViewAssistant, changedFields, parseTags, wholeNumber } = app;

describe("the assistant pages", () => {
  it("count against the backend's limits", () => {
    expect(app.ASSISTANT_LIMITS).toBe(shared.ASSISTANT_LIMITS);
    expect(app.KNOWLEDGE_LIMITS).toBe(shared.KNOWLEDGE_LIMITS);
    expect(app.LANGUAGE_CODE).toBe(shared.LANGUAGE_CODE);
    expect(app.BREAKER_OPEN_MS).toBe(shared.BREAKER_OPEN_MS);
  });

  it("are for agents and up, and for platform admins who read every workspace", () => {
    const as = (role: "owner" | "admin" | "agent" | "viewer", isMember = true, canAdminRead = false) =>
      canViewAssistant({ role, isMember, canAdminRead });
    expect(as("owner")).toBe(true);
    expect(as("admin")).toBe(true);
    expect(as("agent")).toBe(true);
    expect(as("viewer")).toBe(false);
    expect(as("viewer", false, true)).toBe(true);
  });
});

describe("the circuit breaker in words", () => {
  const openedAt = 1_000_000;

  it("closed: in use, and how many failures it takes to open", () => {
    const clean = breakerSummary({ state: "closed", failures: 0 }, openedAt);
    expect(clean.label).toBe("Closed");
    expect(clean.meaning).toContain("After 3 failures in a row");
    const shaky = breakerSummary({ state: "closed", failures: 2, lastError: "timeout" }, openedAt);
    expect(shaky.meaning).toContain("It failed twice in a row");
    expect(shaky.probeAt).toBeNull();
  });

  it("open: offline answers until the probe, which it dates", () => {
    const open = breakerSummary({ state: "open", failures: 3, openedAt, lastError: "429" }, openedAt + 5_000);
    expect(open.label).toBe("Open");
    expect(open.tone).toBe("bad");
    expect(open.probeAt).toBe(openedAt + shared.BREAKER_OPEN_MS);
    expect(open.meaning).toContain("failed 3 times in a row");
    // Before the browser's clock is known (server rendering) it stays as stored.
    expect(breakerSummary({ state: "open", failures: 3, openedAt }, null).label).toBe("Open");
  });

  it("half-open once the pause is over, as the backend treats it on the next turn", () => {
    const later = breakerSummary({ state: "open", failures: 3, openedAt }, openedAt + shared.BREAKER_OPEN_MS);
    expect(later.label).toBe("Half-open");
    expect(later.probeAt).toBeNull();
    expect(breakerSummary({ state: "half_open", failures: 3, openedAt }, null).label).toBe("Half-open");
  });
});

describe("reading the form", () => {
  it("sends only the fields that changed", () => {
    const before = { name: "Ana", languages: ["en", "es"], turnsPerMinute: 6 };
    expect(changedFields(before, { ...before })).toEqual({});
    expect(changedFields(before, { ...before, languages: ["en"], turnsPerMinute: 6 })).toEqual({
      languages: ["en"],
    });
  });

  it("reads tags from a comma list, lower-cased and once each", () => {
    expect(parseTags("Hours, opening hours,, hours ")).toEqual(["hours", "opening hours"]);
    expect(parseTags("  ")).toEqual([]);
  });

  it("takes whole numbers within the range and refuses the rest instead of rounding", () => {
    const range = { min: 0, max: 10 };
    expect(wholeNumber(" 7 ", range, "no")).toEqual({ value: 7 });
    expect(wholeNumber("0", range, "no")).toEqual({ value: 0 });
    for (const text of ["", "2.5", "-1", "11", "ten", "1e1"])
      expect(wholeNumber(text, range, "no"), text).toEqual({ problem: "no" });
  });
});

describe("the answer field", () => {
  it("counts an answer pasted over the limit, keeps it whole and marks it invalid", () => {
    const max = shared.KNOWLEDGE_LIMITS.body.max;
    const long = "x".repeat(max + 5);
    const html = renderToString(
      createElement(TextAreaField, {
        label: "Answer",
        value: long,
        onChange: () => undefined,
        limit: shared.KNOWLEDGE_LIMITS.body,
      }),
    );
    expect(html).toContain(`${max + 5} / ${max} — 5 too many`);
    expect(html).toContain('aria-invalid="true"');
    expect(html).toContain(long);
    expect(html).not.toContain("maxLength");
  });
});
