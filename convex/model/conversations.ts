/**
 * The live inbox: who answers a conversation, and what agents do with it.
 *
 * States: `bot` (the assistant answers; also when unset), `waiting` (the assistant handed off and
 * nobody took over yet), `human` (a person answers; the assistant is silent), `closed`. Any agent
 * reply or take-over makes it `human`; hand-back makes it `bot` again, and so does a human
 * conversation left idle longer than the tenant's hand-back timeout. A customer writing into a
 * closed conversation reopens it for the assistant.
 */
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import type { ConversationState } from "../schema";
import * as Audit from "./audit";
import { fail } from "./errors";
import { recordConsent } from "./contactConsent";
import { queueMessage, windowClosesAt, windowOpen, type OutboundBody } from "./outbound";

export function stateOf(conversation: Pick<Doc<"conversations">, "state">): ConversationState {
  return conversation.state ?? "bot";
}

/** Whether the assistant may answer now: the conversation is the bot's, or a person left it idle. */
export function botMayAnswer(
  conversation: Pick<Doc<"conversations">, "state" | "humanAt">,
  now: number,
  idleHandBackMs: number | null,
): boolean {
  const state = stateOf(conversation);
  if (state === "bot") return true;
  if (state !== "human" || idleHandBackMs === null || conversation.humanAt === undefined) return false;
  return now - conversation.humanAt >= idleHandBackMs;
}

export async function conversationOf(
  ctx: QueryCtx,
  tenantId: Id<"tenants">,
  conversationId: Id<"conversations">,
): Promise<Doc<"conversations">> {
  const conversation = await ctx.db.get("conversations", conversationId);
  if (!conversation || conversation.tenantId !== tenantId) fail("NOT_FOUND", "No such conversation");
  return conversation;
}

export type ConversationRow = {
  conversationId: Id<"conversations">;
  state: ConversationState;
  contactId: Id<"contacts">;
  contactName: string | null;
  contactPhone: string | null;
  channelId: Id<"channels">;
  channelName: string;
  lastMessageAt: number;
  lastMessage: { text: string; direction: "in" | "out"; status: string } | null;
  unread: number;
  windowOpen: boolean;
  windowClosesAt: number | null;
  assigneeId: Id<"users"> | null;
  assigneeName: string | null;
  handoff: { reason: string; summary: string; at: number } | null;
  optedOut: boolean;
  /** Stopped marketing messages in WhatsApp (replies and utility templates still go). */
  marketingOptedOut: boolean;
};

/** A message's text as the list shows it. */
export function preview(message: Doc<"messages">): string {
  if (message.text) return message.text;
  if (message.template) return `Template: ${message.template.name}`;
  return `[${message.type}]`;
}

export async function rowOf(ctx: QueryCtx, c: Doc<"conversations">, now: number): Promise<ConversationRow> {
  const [contact, channel, last, assignee] = await Promise.all([
    ctx.db.get("contacts", c.contactId),
    ctx.db.get("channels", c.channelId),
    ctx.db
      .query("messages")
      .withIndex("by_conversation_created", (q) => q.eq("conversationId", c._id))
      .order("desc")
      .first(),
    c.assigneeId ? ctx.db.get("users", c.assigneeId) : null,
  ]);
  return {
    conversationId: c._id,
    state: stateOf(c),
    contactId: c.contactId,
    contactName: contact?.name ?? null,
    contactPhone: contact?.phone ?? null,
    channelId: c.channelId,
    channelName: channel?.name ?? "Removed channel",
    lastMessageAt: c.lastMessageAt,
    lastMessage: last
      ? { text: preview(last).slice(0, 140), direction: last.direction, status: last.status }
      : null,
    unread: c.unread ?? 0,
    windowOpen: windowOpen(c, now),
    windowClosesAt: windowClosesAt(c),
    assigneeId: c.assigneeId ?? null,
    assigneeName: assignee?.name ?? null,
    handoff: c.handoff ?? null,
    optedOut: contact?.optedOutAt !== undefined,
    marketingOptedOut: contact?.marketingOptedOutAt !== undefined,
  };
}

type Actor = { user: Doc<"users">; tenant: Doc<"tenants"> };

async function audit(
  ctx: MutationCtx,
  actor: Actor,
  c: Doc<"conversations">,
  action: string,
  summary: string,
) {
  await Audit.record(ctx, {
    tenantId: actor.tenant._id,
    actor: actor.user,
    action,
    targetType: "conversation",
    targetId: c._id,
    summary,
  });
}

/**
 * An agent sends a reply or a template: it goes through the send pipeline (which refuses what the
 * window or consent does not allow, before anything is written), and the conversation becomes
 * theirs: the assistant goes quiet, unread is cleared, and it is assigned to them if nobody had it.
 */
export async function agentSends(
  ctx: MutationCtx,
  actor: Actor,
  conversationId: Id<"conversations">,
  body: OutboundBody,
): Promise<Id<"messages">> {
  const c = await conversationOf(ctx, actor.tenant._id, conversationId);
  const messageId = await queueMessage(ctx, {
    tenantId: actor.tenant._id,
    conversationId,
    origin: "agent",
    authorId: actor.user._id,
    body,
  });
  await ctx.db.patch("conversations", c._id, {
    state: "human",
    humanAt: Date.now(),
    unread: 0,
    assigneeId: c.assigneeId ?? actor.user._id,
    turnDueAt: undefined,
  });
  return messageId;
}

/** An agent records the customer's opt-out or opt-in (asked for outside WhatsApp); audited. */
export async function agentSetsConsent(
  ctx: MutationCtx,
  actor: Actor,
  conversationId: Id<"conversations">,
  kind: "opt_out" | "opt_in",
): Promise<boolean> {
  const c = await conversationOf(ctx, actor.tenant._id, conversationId);
  const changed = await recordConsent(ctx, {
    tenantId: actor.tenant._id,
    contactId: c.contactId,
    kind,
    source: "agent",
    userId: actor.user._id,
  });
  if (changed) {
    await Audit.record(ctx, {
      tenantId: actor.tenant._id,
      actor: actor.user,
      action: kind === "opt_out" ? "contact.opted_out" : "contact.opted_in",
      targetType: "contact",
      targetId: c.contactId,
      summary: `${actor.user.name} recorded an ${kind === "opt_out" ? "opt-out" : "opt-in"} for a contact`,
    });
  }
  return changed;
}

/** A person takes the conversation: the assistant goes quiet until hand-back. */
export async function takeOver(ctx: MutationCtx, actor: Actor, conversationId: Id<"conversations">) {
  const c = await conversationOf(ctx, actor.tenant._id, conversationId);
  const now = Date.now();
  await ctx.db.patch("conversations", c._id, {
    state: "human",
    humanAt: now,
    assigneeId: c.assigneeId ?? actor.user._id,
    turnDueAt: undefined,
  });
  if (stateOf(c) !== "human")
    await audit(ctx, actor, c, "conversation.taken_over", `${actor.user.name} took over a conversation`);
}

/** The assistant answers again. */
export async function handBack(ctx: MutationCtx, actor: Actor, conversationId: Id<"conversations">) {
  const c = await conversationOf(ctx, actor.tenant._id, conversationId);
  if (stateOf(c) === "bot") return;
  await ctx.db.patch("conversations", c._id, {
    state: "bot",
    humanAt: undefined,
    handoff: undefined,
    botSince: Date.now(),
  });
  await audit(
    ctx,
    actor,
    c,
    "conversation.handed_back",
    `${actor.user.name} handed a conversation back to the assistant`,
  );
}

export async function close(ctx: MutationCtx, actor: Actor, conversationId: Id<"conversations">) {
  const c = await conversationOf(ctx, actor.tenant._id, conversationId);
  if (stateOf(c) === "closed") return;
  await ctx.db.patch("conversations", c._id, {
    state: "closed",
    unread: 0,
    turnDueAt: undefined,
    botSince: Date.now(),
  });
  await audit(ctx, actor, c, "conversation.closed", `${actor.user.name} closed a conversation`);
}

export async function assign(
  ctx: MutationCtx,
  actor: Actor,
  conversationId: Id<"conversations">,
  userId: Id<"users"> | null,
) {
  const c = await conversationOf(ctx, actor.tenant._id, conversationId);
  if (userId) {
    const membership = await ctx.db
      .query("memberships")
      .withIndex("by_tenant_user", (q) => q.eq("tenantId", actor.tenant._id).eq("userId", userId))
      .unique();
    if (!membership || membership.role === "viewer")
      fail(
        "INVALID",
        "Conversations can be assigned only to agents, admins and owners of this workspace",
        "userId",
      );
  }
  if ((c.assigneeId ?? null) === userId) return;
  await ctx.db.patch("conversations", c._id, { assigneeId: userId ?? undefined });
  const name = userId ? ((await ctx.db.get("users", userId))?.name ?? "a member") : "nobody";
  await audit(
    ctx,
    actor,
    c,
    "conversation.assigned",
    `${actor.user.name} assigned a conversation to ${name}`,
  );
}

export async function markRead(
  ctx: MutationCtx,
  tenantId: Id<"tenants">,
  conversationId: Id<"conversations">,
) {
  const c = await conversationOf(ctx, tenantId, conversationId);
  if (c.unread) await ctx.db.patch("conversations", c._id, { unread: 0 });
}

/** Inbound message stored: count it unread, reopen a closed conversation for the assistant. */
export async function onInbound(ctx: MutationCtx, conversationId: Id<"conversations">) {
  const c = await ctx.db.get("conversations", conversationId);
  if (!c) return;
  await ctx.db.patch("conversations", c._id, {
    unread: (c.unread ?? 0) + 1,
    ...(c.state === undefined ? { state: "bot" as const } : {}),
    ...(stateOf(c) === "closed" ? { state: "bot" as const, handoff: undefined, humanAt: undefined } : {}),
  });
}
