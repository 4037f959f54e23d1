/**
 * The offline answerer: the embedded default, and the fallback when no model is configured, the
 * model fails or its breaker is open. It hands off when the customer asks for a person (or is
 * upset, disputes a charge, threatens legal action), answers from the best knowledge entry when
 * one answers the question well enough, and otherwise hands off rather than guess.
 */
import { decideHandoff } from "../handoff";
import { findAnswer } from "../knowledge";
import type { TurnOutcome } from "./turns";

export type KnowledgeEntry = { id: string; title: string; body: string; tags?: string[] };

/** The longest answer taken from an entry (WhatsApp allows 4096 characters). */
const MAX_ANSWER = 1_500;

/** A short summary of what the customer said, for the agent who takes over. */
export function handoffSummary(customerMessages: string[]): string {
  const recent = customerMessages
    .slice(-3)
    .map((m) => m.replace(/\s+/g, " ").trim())
    .filter(Boolean);
  if (!recent.length) return "The customer wrote without text.";
  const quoted = recent.map((m) => `“${m.length > 160 ? `${m.slice(0, 157)}…` : m}”`).join(" ");
  return `The customer wrote: ${quoted}`;
}

export function offlineTurn(
  customerMessages: string[],
  pending: string[],
  entries: KnowledgeEntry[],
): TurnOutcome {
  const handoff = decideHandoff(customerMessages.slice(-5));
  if (handoff.handoff) {
    return {
      kind: "handoff",
      reason: handoff.reason ?? "the customer asked for a person",
      summary: handoffSummary(customerMessages),
      knowledgeIds: [],
    };
  }
  const question = pending.join(" ").trim();
  if (!question) return { kind: "nothing", reason: "no text to answer" };
  // A burst ("hi" / "quick question" / "what are your hours?") is asked whole and by its last
  // message; the better match wins.
  const candidates = [...new Set([question, pending.at(-1)!.trim()])].filter(Boolean);
  const best = candidates
    .map((q) => findAnswer(q, entries))
    .reduce<ReturnType<typeof findAnswer>>((a, b) => (b && (!a || b.score > a.score) ? b : a), null);
  if (!best) {
    return {
      kind: "handoff",
      reason: "no answer in the knowledge base",
      summary: handoffSummary(customerMessages),
      knowledgeIds: [],
    };
  }
  const entry = entries.find((e) => e.id === best.id)!;
  const body = entry.body.trim();
  return {
    kind: "answer",
    text: body.length > MAX_ANSWER ? `${body.slice(0, MAX_ANSWER - 1)}…` : body,
    knowledgeIds: [entry.id],
  };
}
