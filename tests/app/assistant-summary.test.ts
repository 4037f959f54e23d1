import { describe, expect, it } from "vitest";
import { SUMMARY_CHARS, SUMMARY_LINES, rollSummary, summaryLine } from "../../convex/model/assistant/summary";

describe("the assistant's rolling summary", () => {
  it("says what was asked and how each turn ended", () => {
    expect(
      summaryLine({ kind: "answered", asked: "when do\nyou open?", from: "Opening hours", answer: "x" }),
    ).toBe("Asked “when do you open?” → answered from “Opening hours”.");
    expect(summaryLine({ kind: "answered", asked: "hi", answer: "Hello! How can I help?" })).toBe(
      "Asked “hi” → answered “Hello! How can I help?”.",
    );
    expect(summaryLine({ kind: "handoff", asked: "a human please", reason: "asked for a person" })).toBe(
      "Asked “a human please” → handed to a person (asked for a person).",
    );
    expect(summaryLine({ kind: "skipped", asked: "", reason: "a person took over during the turn" })).toBe(
      "Wrote without text → not answered (a person took over during the turn).",
    );
  });

  it("clips long questions and answers", () => {
    const line = summaryLine({ kind: "answered", asked: "q".repeat(500), answer: "a".repeat(500) });
    expect(line.length).toBeLessThan(300);
    expect(line).toContain("…");
  });

  it("keeps the newest lines within its line and character limits", () => {
    let summary: string | undefined;
    for (let i = 1; i <= 20; i++) summary = rollSummary(summary, `line ${i}`);
    expect(summary!.split("\n")).toEqual(
      Array.from({ length: SUMMARY_LINES }, (_, i) => `line ${20 - SUMMARY_LINES + 1 + i}`),
    );
    let long: string | undefined;
    for (let i = 0; i < 10; i++) long = rollSummary(long, `${i} ${"x".repeat(400)}`);
    expect(long!.length).toBeLessThanOrEqual(SUMMARY_CHARS);
    expect(long!.split("\n").at(-1)).toMatch(/^9 /);
    // One line longer than the limit alone is cut, not dropped.
    expect(rollSummary(undefined, "y".repeat(5_000)).length).toBe(SUMMARY_CHARS);
  });
});
