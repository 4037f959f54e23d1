/** The live inbox (logic in convex/model/conversations.ts and convex/model/outbound.ts). */
import { paginationOptsValidator, paginationResultValidator } from "convex/server";
import { v } from "convex/values";
import { tenantMutation, tenantQuery } from "./functions";
import { consentHistory } from "./model/contactConsent";
import * as Conversations from "./model/conversations";
import { fail } from "./model/errors";
import { vConversationState, vMessageStatus } from "./schema";

const vRow = v.object({
  conversationId: v.id("conversations"),
  state: vConversationState,
  contactId: v.id("contacts"),
  contactName: v.union(v.string(), v.null()),
  contactPhone: v.union(v.string(), v.null()),
  channelId: v.id("channels"),
  channelName: v.string(),
  lastMessageAt: v.number(),
  lastMessage: v.union(
    v.null(),
    v.object({ text: v.string(), direction: v.union(v.literal("in"), v.literal("out")), status: v.string() }),
  ),
  unread: v.number(),
  windowOpen: v.boolean(),
  windowClosesAt: v.union(v.number(), v.null()),
  assigneeId: v.union(v.id("users"), v.null()),
  assigneeName: v.union(v.string(), v.null()),
  handoff: v.union(v.null(), v.object({ reason: v.string(), summary: v.string(), at: v.number() })),
  optedOut: v.boolean(),
  marketingOptedOut: v.boolean(),
});

/** Conversations newest first, optionally in one state. */
export const list = tenantQuery({
  role: "agent",
  args: { state: v.optional(vConversationState), paginationOpts: paginationOptsValidator },
  returns: paginationResultValidator(vRow),
  handler: async (ctx, { state, paginationOpts }) => {
    const tenantId = ctx.tenant._id;
    const page = state
      ? await ctx.db
          .query("conversations")
          .withIndex("by_tenant_state_last", (q) => q.eq("tenantId", tenantId).eq("state", state))
          .order("desc")
          .paginate(paginationOpts)
      : await ctx.db
          .query("conversations")
          .withIndex("by_tenant_last", (q) => q.eq("tenantId", tenantId))
          .order("desc")
          .paginate(paginationOpts);
    const now = Date.now();
    return { ...page, page: await Promise.all(page.page.map((c) => Conversations.rowOf(ctx, c, now))) };
  },
});

/** How many conversations wait for a person, and unread messages in them, for the inbox tabs. */
export const counts = tenantQuery({
  role: "agent",
  args: {},
  returns: v.object({ waiting: v.number(), human: v.number(), unreadWaiting: v.number() }),
  handler: async (ctx) => {
    const tenantId = ctx.tenant._id;
    const of = (state: "waiting" | "human") =>
      ctx.db
        .query("conversations")
        .withIndex("by_tenant_state_last", (q) => q.eq("tenantId", tenantId).eq("state", state))
        .take(500);
    const [waiting, human] = await Promise.all([of("waiting"), of("human")]);
    return {
      waiting: waiting.length,
      human: human.length,
      unreadWaiting: waiting.reduce((n, c) => n + (c.unread ?? 0), 0),
    };
  },
});

/** One conversation's header: contact, state, window, handoff summary. */
export const get = tenantQuery({
  role: "agent",
  args: { conversationId: v.string() },
  returns: v.object({
    ...vRow.fields,
    consent: v.array(v.object({ kind: v.string(), source: v.string(), scope: v.string(), at: v.number() })),
    /** The assistant's rolling summary (model/assistant/summary.ts), one line per turn. */
    summary: v.union(v.string(), v.null()),
  }),
  handler: async (ctx, { conversationId }) => {
    const id = ctx.db.normalizeId("conversations", conversationId);
    if (!id) fail("NOT_FOUND", "No such conversation");
    const c = await Conversations.conversationOf(ctx, ctx.tenant._id, id);
    const row = await Conversations.rowOf(ctx, c, Date.now());
    const consent = (await consentHistory(ctx, c.contactId, 10)).map((e) => ({
      kind: e.kind,
      source: e.source,
      scope: e.scope ?? "all",
      at: e.at,
    }));
    return { ...row, consent, summary: c.summary ?? null };
  },
});

const vThreadMessage = v.object({
  messageId: v.id("messages"),
  direction: v.union(v.literal("in"), v.literal("out")),
  text: v.string(),
  status: vMessageStatus,
  origin: v.union(v.string(), v.null()),
  authorName: v.union(v.string(), v.null()),
  errorMessage: v.union(v.string(), v.null()),
  createdAt: v.number(),
});

/** The thread, newest first (the page shows it oldest first). */
export const messages = tenantQuery({
  role: "agent",
  args: { conversationId: v.id("conversations"), paginationOpts: paginationOptsValidator },
  returns: paginationResultValidator(vThreadMessage),
  handler: async (ctx, { conversationId, paginationOpts }) => {
    await Conversations.conversationOf(ctx, ctx.tenant._id, conversationId);
    const page = await ctx.db
      .query("messages")
      .withIndex("by_conversation_created", (q) => q.eq("conversationId", conversationId))
      .order("desc")
      .paginate(paginationOpts);
    const names = new Map<string, string | null>();
    const rows = [];
    for (const m of page.page) {
      let authorName: string | null = null;
      if (m.authorId) {
        if (!names.has(m.authorId))
          names.set(m.authorId, (await ctx.db.get("users", m.authorId))?.name ?? null);
        authorName = names.get(m.authorId) ?? null;
      }
      rows.push({
        messageId: m._id,
        direction: m.direction,
        text: Conversations.preview(m),
        status: m.status,
        origin: m.origin ?? null,
        authorName,
        errorMessage: m.errorMessage ?? null,
        createdAt: m.createdAt,
      });
    }
    return { ...page, page: rows };
  },
});

/** An agent's reply: free-form inside the 24-hour window; the assistant goes quiet. */
export const reply = tenantMutation({
  role: "agent",
  args: { conversationId: v.id("conversations"), text: v.string() },
  returns: v.id("messages"),
  handler: (ctx, { conversationId, text }) =>
    Conversations.agentSends(ctx, ctx, conversationId, { type: "text", text }),
});

/** An approved template, the only thing WhatsApp allows outside the 24-hour window. */
export const sendTemplate = tenantMutation({
  role: "agent",
  args: {
    conversationId: v.id("conversations"),
    templateId: v.id("templates"),
    parameters: v.optional(v.array(v.string())),
  },
  returns: v.id("messages"),
  handler: async (ctx, { conversationId, templateId, parameters }) => {
    const c = await Conversations.conversationOf(ctx, ctx.tenant._id, conversationId);
    const template = await ctx.db.get("templates", templateId);
    if (!template || template.tenantId !== ctx.tenant._id || template.channelId !== c.channelId)
      fail("NOT_FOUND", "No such template on this conversation's number");
    if (template.status.toUpperCase() !== "APPROVED")
      fail("INVALID", `Template ${template.name} is ${template.status.toLowerCase()}, not approved`);
    return await Conversations.agentSends(ctx, ctx, c._id, {
      type: "template",
      template: {
        name: template.name,
        language: template.language,
        ...(template.category ? { category: template.category } : {}),
        ...(parameters?.length ? { parameters } : {}),
      },
    });
  },
});

/** Approved templates of the conversation's number, for the reply box outside the window. */
export const templates = tenantQuery({
  role: "agent",
  args: { conversationId: v.id("conversations") },
  returns: v.array(
    v.object({
      templateId: v.id("templates"),
      name: v.string(),
      language: v.string(),
      category: v.union(v.string(), v.null()),
    }),
  ),
  handler: async (ctx, { conversationId }) => {
    const c = await Conversations.conversationOf(ctx, ctx.tenant._id, conversationId);
    const rows = await ctx.db
      .query("templates")
      .withIndex("by_channel_name_language", (q) => q.eq("channelId", c.channelId))
      .take(200);
    return rows
      .filter((t) => t.status.toUpperCase() === "APPROVED")
      .map((t) => ({ templateId: t._id, name: t.name, language: t.language, category: t.category ?? null }));
  },
});

export const takeOver = tenantMutation({
  role: "agent",
  args: { conversationId: v.id("conversations") },
  returns: v.null(),
  handler: async (ctx, { conversationId }) => {
    await Conversations.takeOver(ctx, ctx, conversationId);
    return null;
  },
});

export const handBack = tenantMutation({
  role: "agent",
  args: { conversationId: v.id("conversations") },
  returns: v.null(),
  handler: async (ctx, { conversationId }) => {
    await Conversations.handBack(ctx, ctx, conversationId);
    return null;
  },
});

export const close = tenantMutation({
  role: "agent",
  args: { conversationId: v.id("conversations") },
  returns: v.null(),
  handler: async (ctx, { conversationId }) => {
    await Conversations.close(ctx, ctx, conversationId);
    return null;
  },
});

export const assign = tenantMutation({
  role: "agent",
  args: { conversationId: v.id("conversations"), userId: v.union(v.id("users"), v.null()) },
  returns: v.null(),
  handler: async (ctx, { conversationId, userId }) => {
    await Conversations.assign(ctx, ctx, conversationId, userId);
    return null;
  },
});

export const markRead = tenantMutation({
  role: "agent",
  args: { conversationId: v.id("conversations") },
  returns: v.null(),
  handler: async (ctx, { conversationId }) => {
    await Conversations.markRead(ctx, ctx.tenant._id, conversationId);
    return null;
  },
});

/** An agent records a customer's opt-out or opt-in (e.g. asked for on a call). */
export const setConsent = tenantMutation({
  role: "agent",
  args: { conversationId: v.id("conversations"), kind: v.union(v.literal("opt_out"), v.literal("opt_in")) },
  returns: v.boolean(),
  handler: (ctx, { conversationId, kind }) => Conversations.agentSetsConsent(ctx, ctx, conversationId, kind),
});
