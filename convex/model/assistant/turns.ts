/**
 * The assistant's turn engine, mutation side (the action that thinks is convex/assistant.ts).
 *
 * - **A burst gets one answer**: each inbound message pushes the conversation's `turnDueAt` a
 *   short quiet period ahead and schedules a turn for that time; a turn whose due time is no
 *   longer the conversation's does nothing, so only the last message of a burst starts one.
 * - **One turn at a time**: `startTurn` sets `turnStartedAt`; messages arriving meanwhile leave a
 *   new `turnDueAt`, which `finishTurn` schedules once the running turn is done.
 * - **Never over a human**: a turn starts only while the assistant may answer, and `finishTurn`
 *   checks again before it queues the reply (an agent may have taken over while it thought).
 * - **Replays answer nothing**: a replayed inbound webhook is dropped before it reaches here.
 * - **Throttle**: at most `turnsPerMinute` turns per conversation; what arrives beyond that is
 *   stored and shown to agents, and gets no bot answer.
 * - **Consent first**: STOP/START-like messages are recorded and confirmed, and start no turn.
 */
import { internal } from "../../_generated/api";
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../../_generated/server";
import { meter } from "../billing/charging";
import { classifyConsent } from "../consent";
import { recordConsent } from "../contactConsent";
import { botMayAnswer, stateOf } from "../conversations";
import { queueMessage } from "../outbound";
import { sendingBlock } from "../sending";
import { openAIConfig } from "../../env";
import { offlineTurn } from "./offline";
import { breakerAllows, settingsOf, type AssistantSettings } from "./settings";
import { nextOpening, parseBusinessHours } from "../../shared/businessHours";
import { rollSummary, summaryLine } from "./summary";

/** Default quiet period after the last message of a burst before the assistant answers (`replyDelayMs`). */
export const BURST_MS = 1_500;
/** A turn that has not finished after this long is considered dead (its action crashed). */
export const TURN_STALE_MS = 2 * 60 * 1000;
const THROTTLE_WINDOW_MS = 60_000;
const CONTEXT_MESSAGES = 12;

export const OPT_OUT_CONFIRMATION =
  "You will not get more messages from us on WhatsApp. If you change your mind, send START.";
export const OPT_IN_CONFIRMATION =
  "Welcome back: you will get our messages on WhatsApp again. Send STOP at any time to stop them.";
export const HANDOFF_MESSAGE =
  "I'm passing you to a member of our team; they will reply here as soon as they can.";
/** The handoff message outside the tenant's business hours: `when` is e.g. "Monday at 09:00". */
export function handoffAwayMessage(when: string): string {
  return `I'm passing you to a member of our team. They are away right now and back ${when}; they will reply here then.`;
}

/** The handoff message for now: says when the team is back when it is outside business hours. */
export async function handoffMessage(
  ctx: QueryCtx,
  tenantId: Id<"tenants">,
  settings: AssistantSettings,
  now: number,
): Promise<string> {
  const tenant = await ctx.db.get("tenants", tenantId);
  const when = nextOpening(parseBusinessHours(settings.businessHours), now, tenant?.timeZone ?? "UTC");
  return when ? handoffAwayMessage(when) : HANDOFF_MESSAGE;
}

function idleMs(settings: AssistantSettings): number | null {
  return settings.idleHandBackMinutes > 0 ? settings.idleHandBackMinutes * 60_000 : null;
}

/**
 * After an inbound message is stored: consent keywords, then (when the assistant may answer)
 * the next turn. `text` is the message's text or its button payload.
 */
export async function afterInbound(
  ctx: MutationCtx,
  args: {
    conversationId: Id<"conversations">;
    messageId: Id<"messages">;
    text: string | undefined;
    at: number;
    /** The text is a button's payload and title (e.g. Meta's marketing opt-out button). */
    button?: boolean;
  },
): Promise<void> {
  const conversation = await ctx.db.get("conversations", args.conversationId);
  if (!conversation) return;
  const text = args.text?.trim();
  if (text) {
    const consent = classifyConsent(text);
    if (consent !== "none") {
      const changed = await recordConsent(ctx, {
        tenantId: conversation.tenantId,
        contactId: conversation.contactId,
        kind: consent,
        source: args.button ? "button" : "keyword",
        messageId: args.messageId,
        text,
        at: args.at,
      });
      if (changed) {
        await queueMessage(ctx, {
          tenantId: conversation.tenantId,
          conversationId: conversation._id,
          origin: "system",
          body: { type: "text", text: consent === "opt_out" ? OPT_OUT_CONFIRMATION : OPT_IN_CONFIRMATION },
          skipConsentCheck: true,
        });
      }
      return;
    }
  }
  const settings = await settingsOf(ctx, conversation.tenantId);
  if (!settings.enabled || settings.disabledChannels.includes(conversation.channelId)) return;
  // While sending is paused the assistant does not answer (nor spend on a model): agents see the
  // message in the inbox.
  if (await sendingBlock(ctx, conversation.tenantId)) return;
  const now = Date.now();
  if (!botMayAnswer(conversation, now, idleMs(settings))) return;
  const recent = (conversation.recentTurns ?? []).filter((t) => now - t < THROTTLE_WINDOW_MS);
  if (recent.length >= settings.turnsPerMinute) return;
  const delay = settings.replyDelayMs ?? BURST_MS;
  const dueAt = now + delay;
  await ctx.db.patch("conversations", conversation._id, { turnDueAt: dueAt });
  // A turn still running picks the new due time up when it finishes.
  if (!running(conversation, now)) await scheduleTurn(ctx, settings, conversation._id, dueAt, now);
}

/**
 * Schedules the turn due at `dueAt`: as an action when a model may run (it calls out), and
 * otherwise as one mutation that answers offline (no action, one commit for the whole turn).
 */
async function scheduleTurn(
  ctx: MutationCtx,
  settings: AssistantSettings,
  conversationId: Id<"conversations">,
  dueAt: number,
  now: number,
): Promise<void> {
  const args = { conversationId, dueAt };
  const at = Math.max(now, dueAt);
  if (openAIConfig() && breakerAllows(settings.breaker, now))
    await ctx.scheduler.runAt(at, internal.assistant.runTurn, args);
  else await ctx.scheduler.runAt(at, internal.assistant.runOfflineTurn, args);
}

/** A whole offline turn in one mutation: start, knowledge search, answer or handoff, finish. */
export async function runOfflineTurn(
  ctx: MutationCtx,
  conversationId: Id<"conversations">,
  dueAt: number,
): Promise<void> {
  const turn = await startTurn(ctx, conversationId, dueAt);
  if (!turn) return;
  const entries = await knowledgeFor(ctx, turn.tenantId, turn.pending.join(" "));
  await finishTurn(ctx, {
    turnId: turn.turnId,
    outcome: offlineTurn(turn.customerSinceBot, turn.pending, entries),
    usage: { engine: "offline" },
  });
}

function running(conversation: Doc<"conversations">, now: number): boolean {
  return conversation.turnStartedAt !== undefined && now - conversation.turnStartedAt < TURN_STALE_MS;
}

export type TurnContext = {
  turnId: Id<"assistantTurns">;
  tenantId: Id<"tenants">;
  conversationId: Id<"conversations">;
  settings: AssistantSettings;
  /** Oldest first; "customer" for inbound, "assistant"/"agent"/"system" for outbound. */
  messages: { role: "customer" | "assistant" | "agent" | "system"; text: string }[];
  /** What the customer wrote since the business last answered. */
  pending: string[];
  /** What the customer wrote (of `messages`) since the assistant last got the conversation back. */
  customerSinceBot: string[];
  summary: string | null;
  /** Outside business hours: when the team is back ("Monday at 09:00"); null while they are in. */
  teamBack: string | null;
  contact: { name: string | null; phone: string | null };
  currency: string;
};

/** Starts the turn due at `dueAt`, or returns null when it is stale, running or not the bot's. */
export async function startTurn(
  ctx: MutationCtx,
  conversationId: Id<"conversations">,
  dueAt: number,
): Promise<TurnContext | null> {
  const conversation = await ctx.db.get("conversations", conversationId);
  if (!conversation || conversation.turnDueAt !== dueAt) return null;
  const now = Date.now();
  if (running(conversation, now)) return null;
  const settings = await settingsOf(ctx, conversation.tenantId);
  if (!settings.enabled || !botMayAnswer(conversation, now, idleMs(settings))) {
    await ctx.db.patch("conversations", conversation._id, { turnDueAt: undefined });
    return null;
  }
  const recentTurns = [...(conversation.recentTurns ?? []).filter((t) => now - t < THROTTLE_WINDOW_MS), now];
  await ctx.db.patch("conversations", conversation._id, {
    turnDueAt: undefined,
    turnStartedAt: now,
    recentTurns,
    // A person left it idle long enough: the assistant takes it back.
    ...(stateOf(conversation) === "human"
      ? { state: "bot" as const, humanAt: undefined, botSince: conversation.humanAt ?? now }
      : {}),
  });
  const turnId = await ctx.db.insert("assistantTurns", {
    tenantId: conversation.tenantId,
    conversationId,
    startedAt: now,
  });
  const recent = await ctx.db
    .query("messages")
    .withIndex("by_conversation_created", (q) => q.eq("conversationId", conversationId))
    .order("desc")
    .take(CONTEXT_MESSAGES);
  // In the order they reached us: inbound times are the provider's (whole seconds), so a reply
  // sent within the same second as a customer's message could otherwise sort after it.
  const ordered = recent.sort((a, b) => a._creationTime - b._creationTime).filter((m) => m.text);
  const botSince = conversation.botSince ?? 0;
  const messages = ordered.map((m) => ({
    role:
      m.direction === "in"
        ? ("customer" as const)
        : ((m.origin === "agent" ? "agent" : m.origin === "system" ? "system" : "assistant") as
            "agent" | "system" | "assistant"),
    text: m.text!,
  }));
  // What the customer said since the assistant last got the conversation: a request for a person
  // that a person already answered must not hand off again.
  const customerSinceBot = ordered
    .filter((m) => m.direction === "in" && m._creationTime >= botSince)
    .map((m) => m.text!);
  const pending: string[] = [];
  for (let i = messages.length - 1; i >= 0 && messages[i].role === "customer"; i--)
    pending.unshift(messages[i].text);
  if (pending.length)
    await ctx.db.patch("assistantTurns", turnId, { asked: pending.join("\n").slice(0, 500) });
  const [contact, tenant] = await Promise.all([
    ctx.db.get("contacts", conversation.contactId),
    ctx.db.get("tenants", conversation.tenantId),
  ]);
  return {
    turnId,
    tenantId: conversation.tenantId,
    conversationId,
    settings,
    messages,
    pending,
    customerSinceBot,
    summary: conversation.summary ?? null,
    teamBack: nextOpening(parseBusinessHours(settings.businessHours), now, tenant?.timeZone ?? "UTC"),
    contact: { name: contact?.name ?? null, phone: contact?.phone ?? null },
    currency: tenant?.currency ?? "USD",
  };
}

export type TurnOutcome =
  | { kind: "answer"; text: string; knowledgeIds: string[] }
  | { kind: "handoff"; reason: string; summary: string; knowledgeIds: string[] }
  | { kind: "nothing"; reason: string };

export type TurnUsage = {
  engine: "offline" | "model";
  model?: string;
  inputTokens?: number;
  outputTokens?: number;
};

/**
 * Ends a turn: queues the answer (if the assistant may still answer), or hands off; meters the
 * model's tokens under `turn:<id>`; and starts the next turn if messages came in meanwhile.
 */
export async function finishTurn(
  ctx: MutationCtx,
  args: { turnId: Id<"assistantTurns">; outcome: TurnOutcome; usage: TurnUsage },
): Promise<void> {
  const turn = await ctx.db.get("assistantTurns", args.turnId);
  if (!turn || turn.finishedAt !== undefined) return;
  const conversation = await ctx.db.get("conversations", turn.conversationId);
  const now = Date.now();
  const settings = await settingsOf(ctx, turn.tenantId);
  const { outcome, usage } = args;
  let replyMessageId: Id<"messages"> | undefined;
  let final: Doc<"assistantTurns">["outcome"] =
    outcome.kind === "answer" ? "answered" : outcome.kind === "handoff" ? "handoff" : "skipped";
  let reason = outcome.kind === "answer" ? undefined : outcome.reason;
  if (usage.engine === "model" && usage.model && (usage.inputTokens || usage.outputTokens)) {
    // The model already ran: its tokens are charged whatever happens to the answer.
    await meter(ctx, {
      tenantId: turn.tenantId,
      key: `turn:${turn._id}`,
      reference: { kind: "assistant_turn", id: turn._id },
      model: usage.model,
      inputTokens: usage.inputTokens ?? 0,
      outputTokens: usage.outputTokens ?? 0,
      at: turn.startedAt,
    });
  }
  if (conversation && outcome.kind !== "nothing") {
    if (stateOf(conversation) !== "bot") {
      // A person took over while the assistant was thinking: it stays quiet.
      final = "skipped";
      reason = "a person took over during the turn";
    } else if (outcome.kind === "answer") {
      replyMessageId = await queueOrSkip(ctx, conversation, outcome.text);
      if (!replyMessageId) {
        final = "skipped";
        reason = "the reply could not be sent (window closed, opted out or sending paused)";
      }
    } else {
      replyMessageId = await queueOrSkip(
        ctx,
        conversation,
        await handoffMessage(ctx, turn.tenantId, settings, now),
      );
      await ctx.db.patch("conversations", conversation._id, {
        state: "waiting",
        handoff: { reason: outcome.reason, summary: outcome.summary, at: now },
        turnDueAt: undefined,
      });
    }
  }
  await ctx.db.patch("assistantTurns", turn._id, {
    finishedAt: now,
    engine: usage.engine,
    ...(usage.model ? { model: usage.model } : {}),
    ...(usage.inputTokens !== undefined ? { inputTokens: usage.inputTokens } : {}),
    ...(usage.outputTokens !== undefined ? { outputTokens: usage.outputTokens } : {}),
    outcome: final,
    ...(reason ? { reason } : {}),
    knowledgeIds: outcome.kind === "nothing" ? [] : outcome.knowledgeIds,
    ...(replyMessageId ? { replyMessageId } : {}),
  });
  if (!conversation) return;
  const fresh = (await ctx.db.get("conversations", conversation._id))!;
  const summary =
    outcome.kind === "nothing"
      ? fresh.summary
      : rollSummary(fresh.summary, await turnLine(ctx, turn, outcome, final, reason));
  await ctx.db.patch("conversations", fresh._id, { turnStartedAt: undefined, summary });
  // Messages that arrived during the turn get the next one.
  if (fresh.turnDueAt !== undefined && stateOf(fresh) === "bot" && settings.enabled)
    await scheduleTurn(ctx, settings, fresh._id, fresh.turnDueAt, now);
}

/** The turn's line in the conversation's rolling summary. */
async function turnLine(
  ctx: MutationCtx,
  turn: Doc<"assistantTurns">,
  outcome: Exclude<TurnOutcome, { kind: "nothing" }>,
  final: Doc<"assistantTurns">["outcome"],
  reason: string | undefined,
): Promise<string> {
  const asked = turn.asked ?? "";
  if (final === "handoff" && outcome.kind === "handoff")
    return summaryLine({ kind: "handoff", asked, reason: outcome.reason });
  if (final === "answered" && outcome.kind === "answer") {
    const entryId =
      outcome.knowledgeIds[0] && ctx.db.normalizeId("knowledgeEntries", outcome.knowledgeIds[0]);
    const entry = entryId ? await ctx.db.get("knowledgeEntries", entryId) : null;
    return summaryLine({
      kind: "answered",
      asked,
      answer: outcome.text,
      ...(entry && entry.tenantId === turn.tenantId ? { from: entry.title } : {}),
    });
  }
  return summaryLine({ kind: "skipped", asked, reason: reason ?? "not answered" });
}

async function queueOrSkip(ctx: MutationCtx, conversation: Doc<"conversations">, text: string) {
  try {
    return await queueMessage(ctx, {
      tenantId: conversation.tenantId,
      conversationId: conversation._id,
      origin: "assistant",
      body: { type: "text", text },
    });
  } catch (error) {
    const code = (error as { data?: { code?: string } }).data?.code;
    // queueMessage checks before it writes, so a refusal leaves nothing behind.
    if (code === "OUTSIDE_WINDOW" || code === "OPTED_OUT" || code === "INVALID" || code === "SENDING_PAUSED")
      return undefined;
    throw error;
  }
}

/** Knowledge entries for a question: full-text hits first, then the newest entries. */
export async function knowledgeFor(ctx: QueryCtx, tenantId: Id<"tenants">, question: string) {
  const hits = question.trim()
    ? await ctx.db
        .query("knowledgeEntries")
        .withSearchIndex("search_text", (q) =>
          q.search("searchText", question.slice(0, 500)).eq("tenantId", tenantId),
        )
        .take(20)
    : [];
  // The search index matches whole words; typos and other word forms are the ranker's job, so
  // it also sees the newest entries (a small knowledge base is seen whole).
  const newest = await ctx.db
    .query("knowledgeEntries")
    .withIndex("by_tenant_updated", (q) => q.eq("tenantId", tenantId))
    .order("desc")
    .take(100);
  const seen = new Set(hits.map((h) => h._id));
  return [...hits, ...newest.filter((e) => !seen.has(e._id))].map((e) => ({
    id: e._id as string,
    title: e.title,
    body: e.body,
    tags: e.tags,
  }));
}
