/**
 * The conversation's rolling summary: one short line per assistant turn (what the customer asked,
 * how it ended), the newest last, oldest lines dropped past a size limit. The model reads it as
 * "earlier in this conversation" beside the recent messages; the agent who takes over reads it
 * in the inbox. It is built from what the turn already knows, so it costs no extra model call.
 */

/** Lines kept, and characters in all. */
export const SUMMARY_LINES = 8;
export const SUMMARY_CHARS = 1_200;
const QUESTION_CHARS = 140;
const ANSWER_CHARS = 100;

function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export type SummaryTurn =
  | { kind: "answered"; asked: string; from?: string; answer: string }
  | { kind: "handoff"; asked: string; reason: string }
  | { kind: "skipped"; asked: string; reason: string };

/** One turn as a line: `Asked “…” → answered from “Opening hours”.` */
export function summaryLine(turn: SummaryTurn): string {
  const asked = turn.asked.trim() ? `Asked “${clip(turn.asked, QUESTION_CHARS)}”` : "Wrote without text";
  switch (turn.kind) {
    case "answered":
      return turn.from
        ? `${asked} → answered from “${clip(turn.from, 80)}”.`
        : `${asked} → answered “${clip(turn.answer, ANSWER_CHARS)}”.`;
    case "handoff":
      return `${asked} → handed to a person (${clip(turn.reason, 80)}).`;
    case "skipped":
      return `${asked} → not answered (${clip(turn.reason, 80)}).`;
  }
}

/** The summary with `line` added last, within SUMMARY_LINES and SUMMARY_CHARS. */
export function rollSummary(previous: string | undefined, line: string): string {
  const lines = [...(previous ? previous.split("\n").filter(Boolean) : []), line].slice(-SUMMARY_LINES);
  while (lines.length > 1 && lines.join("\n").length > SUMMARY_CHARS) lines.shift();
  const joined = lines.join("\n");
  return joined.length > SUMMARY_CHARS ? `${joined.slice(0, SUMMARY_CHARS - 1)}…` : joined;
}
