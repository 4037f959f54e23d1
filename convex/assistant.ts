/**
 * The AI assistant: settings and knowledge base for tenant admins, and the turn that answers a
 * customer (engine in convex/model/assistant/).
 */
import { paginationOptsValidator, paginationResultValidator } from "convex/server";
import { v } from "convex/values";
import { internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { openAIConfig } from "./env";
import { internalAction, internalMutation, internalQuery, tenantMutation, tenantQuery } from "./functions";
import { modelPriceInForce, tokenCost } from "./model/billing/aiPrices";
import { assertCanSpend } from "./model/billing/charging";
import * as Audit from "./model/audit";
import { fail } from "./model/errors";
import { modelTurn } from "./model/assistant/model";
import { handoffSummary, offlineTurn, type KnowledgeEntry } from "./model/assistant/offline";
import * as Settings from "./model/assistant/settings";
import * as Turns from "./model/assistant/turns";
import { KNOWLEDGE_LIMITS } from "./shared/assistant";

// ---------------------------------------------------------------- the turn

const vTurnOutcome = v.union(
  v.object({ kind: v.literal("answer"), text: v.string(), knowledgeIds: v.array(v.string()) }),
  v.object({
    kind: v.literal("handoff"),
    reason: v.string(),
    summary: v.string(),
    knowledgeIds: v.array(v.string()),
  }),
  v.object({ kind: v.literal("nothing"), reason: v.string() }),
);

export const startTurn = internalMutation({
  args: { conversationId: v.id("conversations"), dueAt: v.number() },
  returns: v.union(v.null(), v.any()),
  handler: (ctx, { conversationId, dueAt }) => Turns.startTurn(ctx, conversationId, dueAt),
});

export const finishTurn = internalMutation({
  args: {
    turnId: v.id("assistantTurns"),
    outcome: vTurnOutcome,
    usage: v.object({
      engine: v.union(v.literal("offline"), v.literal("model")),
      model: v.optional(v.string()),
      inputTokens: v.optional(v.number()),
      outputTokens: v.optional(v.number()),
    }),
  },
  returns: v.null(),
  handler: async (ctx, args) => {
    await Turns.finishTurn(ctx, args);
    return null;
  },
});

/** A turn answered offline (no model configured, or its breaker is open), in one transaction. */
export const runOfflineTurn = internalMutation({
  args: { conversationId: v.id("conversations"), dueAt: v.number() },
  returns: v.null(),
  handler: async (ctx, { conversationId, dueAt }) => {
    await Turns.runOfflineTurn(ctx, conversationId, dueAt);
    return null;
  },
});

export const searchKnowledge = internalQuery({
  args: { tenantId: v.id("tenants"), query: v.string() },
  returns: v.array(
    v.object({ id: v.string(), title: v.string(), body: v.string(), tags: v.array(v.string()) }),
  ),
  handler: (ctx, { tenantId, query }) => Turns.knowledgeFor(ctx, tenantId, query),
});

/** Whether the wallet can pay for a model turn of about this size (refusal → offline + handoff). */
export const affordModel = internalQuery({
  args: { tenantId: v.id("tenants"), model: v.string(), inputTokens: v.number(), outputTokens: v.number() },
  returns: v.union(v.literal("ok"), v.literal("no_price"), v.literal("no_credit")),
  handler: async (ctx, { tenantId, model, inputTokens, outputTokens }) => {
    const tenant = await ctx.db.get("tenants", tenantId);
    if (!tenant) return "no_credit";
    const price = await modelPriceInForce(ctx, tenant.currency, model, Date.now()).catch(() => null);
    if (!price) return "no_price";
    try {
      await assertCanSpend(ctx, tenantId, tokenCost(price, inputTokens, outputTokens));
      return "ok";
    } catch {
      return "no_credit";
    }
  },
});

export const recordModelOutcome = internalMutation({
  args: { tenantId: v.id("tenants"), ok: v.boolean(), error: v.optional(v.string()) },
  returns: v.null(),
  handler: async (ctx, { tenantId, ok, error }) => {
    const settings = await Settings.settingsOf(ctx, tenantId);
    const breaker = Settings.nextBreaker(
      settings.breaker,
      ok ? { ok: true } : { ok: false, error: error ?? "failed" },
      Date.now(),
    );
    if (JSON.stringify(breaker) !== JSON.stringify(settings.breaker))
      await Settings.saveSettings(ctx, tenantId, { ...settings, breaker });
    return null;
  },
});

/** Rough prompt size: about four characters a token. */
function estimateTokens(turn: Turns.TurnContext): number {
  return Math.ceil((JSON.stringify(turn.messages).length + 2_000) / 4);
}

/**
 * Runs one turn: the model (then its fallback) when one is configured, affordable and its
 * breaker allows; otherwise, or when both fail, the offline answerer.
 */
export const runTurn = internalAction({
  args: { conversationId: v.id("conversations"), dueAt: v.number() },
  returns: v.null(),
  handler: async (ctx, { conversationId, dueAt }) => {
    const turn = (await ctx.runMutation(internal.assistant.startTurn, {
      conversationId,
      dueAt,
    })) as Turns.TurnContext | null;
    if (!turn) return null;
    const search = (query: string): Promise<KnowledgeEntry[]> =>
      ctx.runQuery(internal.assistant.searchKnowledge, { tenantId: turn.tenantId, query });
    const customer = turn.customerSinceBot;
    const config = openAIConfig();
    const settings = turn.settings;
    if (config && Settings.breakerAllows(settings.breaker, Date.now())) {
      const models = [settings.model, settings.fallbackModel].filter(
        (m, i, all) => m && all.indexOf(m) === i && (!config.models || config.models.includes(m)),
      );
      for (const model of models) {
        const afford = await ctx.runQuery(internal.assistant.affordModel, {
          tenantId: turn.tenantId,
          model,
          inputTokens: estimateTokens(turn),
          outputTokens: 500,
        });
        if (afford === "no_price") continue;
        if (afford === "no_credit") {
          await ctx.runMutation(internal.assistant.finishTurn, {
            turnId: turn.turnId,
            outcome: {
              kind: "handoff",
              reason: "not enough credits for the assistant",
              summary: handoffSummary(customer),
              knowledgeIds: [],
            },
            usage: { engine: "offline" },
          });
          return null;
        }
        try {
          const result = await modelTurn(config, model, turn, search);
          await ctx.runMutation(internal.assistant.recordModelOutcome, { tenantId: turn.tenantId, ok: true });
          await ctx.runMutation(internal.assistant.finishTurn, {
            turnId: turn.turnId,
            outcome: result.outcome,
            usage: {
              engine: "model",
              model,
              inputTokens: result.inputTokens,
              outputTokens: result.outputTokens,
            },
          });
          return null;
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          console.warn(`Assistant model ${model} failed for tenant ${turn.tenantId}: ${message}`);
          await ctx.runMutation(internal.assistant.recordModelOutcome, {
            tenantId: turn.tenantId,
            ok: false,
            error: message,
          });
        }
      }
    }
    const entries = await search(turn.pending.join(" "));
    await ctx.runMutation(internal.assistant.finishTurn, {
      turnId: turn.turnId,
      outcome: offlineTurn(customer, turn.pending, entries),
      usage: { engine: "offline" },
    });
    return null;
  },
});

// ---------------------------------------------------------------- settings (tenant admins)

const vBreaker = v.object({
  state: v.union(v.literal("closed"), v.literal("open"), v.literal("half_open")),
  failures: v.number(),
  openedAt: v.optional(v.number()),
  lastError: v.optional(v.string()),
});

const settingsFields = {
  enabled: v.boolean(),
  name: v.string(),
  persona: v.string(),
  instructions: v.string(),
  languages: v.array(v.string()),
  businessHours: v.string(),
  handoffRules: v.string(),
  model: v.string(),
  fallbackModel: v.string(),
  disabledChannels: v.array(v.id("channels")),
  turnsPerMinute: v.number(),
  idleHandBackMinutes: v.number(),
  replyDelayMs: v.optional(v.number()),
};

/** The assistant's settings, the breaker's state and whether a model is configured at all. */
export const settings = tenantQuery({
  role: "agent",
  args: {},
  returns: v.object({
    ...settingsFields,
    breaker: vBreaker,
    modelConfigured: v.boolean(),
    models: v.union(v.array(v.string()), v.null()),
  }),
  handler: async (ctx) => {
    const s = await Settings.settingsOf(ctx, ctx.tenant._id);
    const config = openAIConfig();
    return {
      ...s,
      breaker: Settings.breakerView(s.breaker, Date.now()),
      modelConfigured: config !== null,
      models: config?.models ?? null,
    };
  },
});

export const updateSettings = tenantMutation({
  role: "admin",
  args: {
    changes: v.object({
      enabled: v.optional(settingsFields.enabled),
      name: v.optional(settingsFields.name),
      persona: v.optional(settingsFields.persona),
      instructions: v.optional(settingsFields.instructions),
      languages: v.optional(settingsFields.languages),
      businessHours: v.optional(settingsFields.businessHours),
      handoffRules: v.optional(settingsFields.handoffRules),
      model: v.optional(settingsFields.model),
      fallbackModel: v.optional(settingsFields.fallbackModel),
      disabledChannels: v.optional(settingsFields.disabledChannels),
      turnsPerMinute: v.optional(settingsFields.turnsPerMinute),
      idleHandBackMinutes: v.optional(settingsFields.idleHandBackMinutes),
      replyDelayMs: v.optional(v.number()),
    }),
  },
  returns: v.null(),
  handler: async (ctx, { changes }) => {
    const current = await Settings.settingsOf(ctx, ctx.tenant._id);
    const defined = Object.fromEntries(
      Object.entries(changes).filter(([, value]) => value !== undefined),
    ) as Settings.SettingsChanges;
    const next = Settings.validateChanges(current, defined);
    for (const channelId of next.disabledChannels) {
      const channel = await ctx.db.get("channels", channelId as Id<"channels">);
      if (!channel || channel.tenantId !== ctx.tenant._id)
        fail("NOT_FOUND", "No such channel", "disabledChannels");
    }
    const changed = Object.keys(defined).filter(
      (k) =>
        JSON.stringify(current[k as keyof Settings.AssistantSettings]) !==
        JSON.stringify(next[k as keyof Settings.AssistantSettings]),
    );
    if (!changed.length) return null;
    await Settings.saveSettings(ctx, ctx.tenant._id, next);
    await Audit.record(ctx, {
      tenantId: ctx.tenant._id,
      actor: ctx.user,
      action: "assistant.settings_changed",
      targetType: "assistant",
      summary: `Changed the assistant's ${changed.join(", ")}`,
      before: Object.fromEntries(
        changed.map((k) => [k, JSON.stringify(current[k as keyof Settings.AssistantSettings])]),
      ),
      after: Object.fromEntries(
        changed.map((k) => [k, JSON.stringify(next[k as keyof Settings.AssistantSettings])]),
      ),
    });
    return null;
  },
});

// ---------------------------------------------------------------- knowledge base

const vEntry = v.object({
  entryId: v.id("knowledgeEntries"),
  title: v.string(),
  body: v.string(),
  tags: v.array(v.string()),
  updatedAt: v.number(),
});

function checkEntry(input: { title: string; body: string; tags: string[] }) {
  const title = input.title.trim();
  const body = input.body.trim();
  const tags = [...new Set(input.tags.map((t) => t.trim().toLowerCase()).filter(Boolean))];
  if (!title) fail("INVALID", "Give the entry a title", "title");
  if (title.length > KNOWLEDGE_LIMITS.title.max)
    fail("INVALID", `A title can be at most ${KNOWLEDGE_LIMITS.title.max} characters`, "title");
  if (!body) fail("INVALID", "Write the answer", "body");
  if (body.length > KNOWLEDGE_LIMITS.body.max)
    fail(
      "INVALID",
      `An answer can be at most ${KNOWLEDGE_LIMITS.body.max} characters (${body.length} now)`,
      "body",
    );
  if (tags.length > KNOWLEDGE_LIMITS.tags) fail("INVALID", `At most ${KNOWLEDGE_LIMITS.tags} tags`, "tags");
  return { title, body, tags, searchText: [title, tags.join(" "), body].join("\n") };
}

/** The knowledge base, newest first, or the entries matching `search`. */
export const knowledge = tenantQuery({
  role: "agent",
  args: { search: v.optional(v.string()), paginationOpts: paginationOptsValidator },
  returns: paginationResultValidator(vEntry),
  handler: async (ctx, { search, paginationOpts }) => {
    const tenantId = ctx.tenant._id;
    const page = search?.trim()
      ? await ctx.db
          .query("knowledgeEntries")
          .withSearchIndex("search_text", (q) =>
            q.search("searchText", search.trim().slice(0, 200)).eq("tenantId", tenantId),
          )
          .paginate(paginationOpts)
      : await ctx.db
          .query("knowledgeEntries")
          .withIndex("by_tenant_updated", (q) => q.eq("tenantId", tenantId))
          .order("desc")
          .paginate(paginationOpts);
    return {
      ...page,
      page: page.page.map((e) => ({
        entryId: e._id,
        title: e.title,
        body: e.body,
        tags: e.tags,
        updatedAt: e.updatedAt,
      })),
    };
  },
});

export const saveEntry = tenantMutation({
  role: "admin",
  args: {
    entryId: v.optional(v.id("knowledgeEntries")),
    title: v.string(),
    body: v.string(),
    tags: v.array(v.string()),
  },
  returns: v.id("knowledgeEntries"),
  handler: async (ctx, { entryId, ...input }) => {
    const entry = checkEntry(input);
    const now = Date.now();
    if (entryId) {
      const existing = await ctx.db.get("knowledgeEntries", entryId);
      if (!existing || existing.tenantId !== ctx.tenant._id) fail("NOT_FOUND", "No such knowledge entry");
      await ctx.db.patch("knowledgeEntries", entryId, { ...entry, updatedAt: now });
    } else {
      entryId = await ctx.db.insert("knowledgeEntries", {
        tenantId: ctx.tenant._id,
        ...entry,
        updatedAt: now,
      });
    }
    await Audit.record(ctx, {
      tenantId: ctx.tenant._id,
      actor: ctx.user,
      action: "knowledge.saved",
      targetType: "knowledgeEntry",
      targetId: entryId,
      summary: `Saved the knowledge entry “${entry.title}”`,
    });
    return entryId;
  },
});

export const removeEntry = tenantMutation({
  role: "admin",
  args: { entryId: v.id("knowledgeEntries") },
  returns: v.null(),
  handler: async (ctx, { entryId }) => {
    const existing = await ctx.db.get("knowledgeEntries", entryId);
    if (!existing || existing.tenantId !== ctx.tenant._id) fail("NOT_FOUND", "No such knowledge entry");
    await ctx.db.delete("knowledgeEntries", entryId);
    await Audit.record(ctx, {
      tenantId: ctx.tenant._id,
      actor: ctx.user,
      action: "knowledge.removed",
      targetType: "knowledgeEntry",
      targetId: entryId,
      summary: `Removed the knowledge entry “${existing.title}”`,
    });
    return null;
  },
});

/** Recent assistant turns of a conversation (the inbox shows how the bot decided). */
export const turns = tenantQuery({
  role: "agent",
  args: { conversationId: v.id("conversations") },
  returns: v.array(
    v.object({
      startedAt: v.number(),
      engine: v.union(v.string(), v.null()),
      model: v.union(v.string(), v.null()),
      outcome: v.union(v.string(), v.null()),
      reason: v.union(v.string(), v.null()),
      inputTokens: v.union(v.number(), v.null()),
      outputTokens: v.union(v.number(), v.null()),
    }),
  ),
  handler: async (ctx, { conversationId }) => {
    const conversation = await ctx.db.get("conversations", conversationId);
    if (!conversation || conversation.tenantId !== ctx.tenant._id) fail("NOT_FOUND", "No such conversation");
    const rows = await ctx.db
      .query("assistantTurns")
      .withIndex("by_conversation", (q) => q.eq("conversationId", conversationId))
      .order("desc")
      .take(20);
    return rows.map((t) => ({
      startedAt: t.startedAt,
      engine: t.engine ?? null,
      model: t.model ?? null,
      outcome: t.outcome ?? null,
      reason: t.reason ?? null,
      inputTokens: t.inputTokens ?? null,
      outputTokens: t.outputTokens ?? null,
    }));
  },
});
