/** Message templates: drafts, submission to Meta, status polling, sync and deletion (model/templates.ts). */
import { v } from "convex/values";
import { internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { whatsappGraphUrl } from "./env";
import {
  internalAction,
  internalMutation,
  internalQuery,
  tenantAction,
  tenantInput,
  tenantMutation,
  tenantQuery,
} from "./functions";
import * as Templates from "./model/templates";
import * as Cloud from "./providers/whatsappCloud";

const vGraph = v.object({ phoneNumberId: v.string(), wabaId: v.string(), accessToken: v.string() });
const vActionResult = v.object({ ok: v.boolean(), message: v.union(v.string(), v.null()) });

/** A channel's templates with their status (WAHA channels have none: an empty list). */
export const list = tenantQuery({
  role: "viewer",
  args: { channelId: v.id("channels") },
  returns: v.array(Templates.vTemplateSummary),
  handler: (ctx, { channelId }) => Templates.list(ctx, ctx.tenant._id, channelId),
});

/** One template with its components. Takes the id as a string because it comes from the page address. */
export const get = tenantQuery({
  role: "viewer",
  args: { templateId: v.string() },
  returns: Templates.vTemplateView,
  handler: (ctx, { templateId }) => Templates.get(ctx, ctx.tenant._id, templateId),
});

/** Creates a draft, or saves changes to a draft (or a rejected or paused template). */
export const saveDraft = tenantMutation({
  role: "admin",
  args: { channelId: v.id("channels"), templateId: v.optional(v.id("templates")), draft: Templates.vDraft },
  returns: v.id("templates"),
  handler: (ctx, args) => Templates.saveDraft(ctx, ctx, args),
});

/** The admin accepts Meta's new category for the template (campaigns stop holding its sends). */
export const acknowledgeCategoryChange = tenantMutation({
  role: "admin",
  args: { templateId: v.id("templates") },
  returns: v.null(),
  handler: async (ctx, { templateId }) => {
    await Templates.acknowledgeCategoryChange(ctx, ctx, templateId);
    return null;
  },
});

/**
 * Submits the template for Meta's review: refused while the lint finds errors; a rejected or
 * paused template is resubmitted under its id. Answers whether Meta took it and, if not, why.
 */
export const submit = tenantAction({
  role: "admin",
  args: { templateId: v.id("templates") },
  returns: vActionResult,
  handler: async (ctx, { templateId }): Promise<{ ok: boolean; message: string | null }> => {
    const tenantId = ctx.actor.tenantId;
    const plan = await ctx.runMutation(internal.templates.beginSubmit, { tenantId, templateId });
    const config = Templates.cloudConfig(plan.graph, whatsappGraphUrl());
    const template = plan.template as Cloud.NewTemplate;
    let outcome: Templates.SubmitOutcome;
    if (plan.providerTemplateId) {
      const answer = await Cloud.editTemplate(config, plan.providerTemplateId, {
        category: template.category,
        components: template.components,
        ...(template.parameterFormat ? { parameterFormat: template.parameterFormat } : {}),
      });
      outcome = answer.ok
        ? {
            ok: true,
            id: plan.providerTemplateId,
            status: "PENDING",
            ...(answer.category ? { category: answer.category } : {}),
          }
        : { ok: false, message: answer.error.message };
    } else {
      const answer = await Cloud.createTemplate(config, template);
      outcome = answer.ok
        ? { ok: true, id: answer.id, status: answer.status, category: answer.category }
        : { ok: false, message: answer.error.message };
    }
    await ctx.runMutation(internal.templates.recordSubmission, { tenantId, templateId, outcome });
    return outcome.ok ? { ok: true, message: null } : { ok: false, message: outcome.message };
  },
});

export const beginSubmit = internalMutation({
  args: { tenantId: v.id("tenants"), templateId: v.id("templates") },
  returns: v.object({
    graph: vGraph,
    providerTemplateId: v.union(v.string(), v.null()),
    template: v.any(),
  }),
  handler: async (ctx, { tenantId, templateId }) => {
    const actor = await tenantInput(ctx, tenantId, "admin", true);
    return await Templates.beginSubmit(ctx, actor, templateId);
  },
});

export const recordSubmission = internalMutation({
  args: { tenantId: v.id("tenants"), templateId: v.id("templates"), outcome: Templates.vSubmitOutcome },
  returns: v.null(),
  handler: async (ctx, { tenantId, templateId, outcome }) => {
    const actor = await tenantInput(ctx, tenantId, "admin", true);
    await Templates.recordSubmission(ctx, actor, templateId, outcome);
    return null;
  },
});

/** Deletes the template: from Meta first (all numbers of the WABA lose it), then here. */
export const remove = tenantAction({
  role: "admin",
  args: { templateId: v.id("templates") },
  returns: vActionResult,
  handler: async (ctx, { templateId }): Promise<{ ok: boolean; message: string | null }> => {
    const tenantId = ctx.actor.tenantId;
    const plan = await ctx.runQuery(internal.templates.beginRemove, { tenantId, templateId });
    if (plan.graph && plan.providerTemplateId) {
      const answer = await Cloud.deleteTemplate(
        Templates.cloudConfig(plan.graph, whatsappGraphUrl()),
        plan.name,
        plan.providerTemplateId,
      );
      // Already gone at Meta (deleted in WhatsApp Manager): remove it here too.
      const gone =
        !answer.ok && answer.error.code === 100 && /not found|does not exist/i.test(answer.error.message);
      if (!answer.ok && !gone) return { ok: false, message: answer.error.message };
    }
    await ctx.runMutation(internal.templates.finishRemove, { tenantId, templateId });
    return { ok: true, message: null };
  },
});

export const beginRemove = internalQuery({
  args: { tenantId: v.id("tenants"), templateId: v.id("templates") },
  returns: v.object({
    graph: v.union(vGraph, v.null()),
    name: v.string(),
    providerTemplateId: v.union(v.string(), v.null()),
  }),
  handler: async (ctx, { tenantId, templateId }) => {
    await tenantInput(ctx, tenantId, "admin", true);
    return await Templates.beginRemove(ctx, tenantId, templateId);
  },
});

export const finishRemove = internalMutation({
  args: { tenantId: v.id("tenants"), templateId: v.id("templates") },
  returns: v.null(),
  handler: async (ctx, { tenantId, templateId }) => {
    const actor = await tenantInput(ctx, tenantId, "admin", true);
    await Templates.remove(ctx, actor, templateId);
    return null;
  },
});

/** Reads the WABA's templates from Meta (those made elsewhere, and the current state of ours). */
export const sync = tenantAction({
  role: "admin",
  args: { channelId: v.id("channels") },
  returns: v.object({
    ok: v.boolean(),
    message: v.union(v.string(), v.null()),
    added: v.number(),
    updated: v.number(),
  }),
  handler: async (
    ctx,
    { channelId },
  ): Promise<{ ok: boolean; message: string | null; added: number; updated: number }> => {
    const tenantId = ctx.actor.tenantId;
    const graph = await ctx.runQuery(internal.templates.syncTarget, { tenantId, channelId });
    const config = Templates.cloudConfig(graph, whatsappGraphUrl());
    const all: Cloud.CloudTemplate[] = [];
    let after: string | undefined;
    for (let page = 0; page < 10; page++) {
      const answer = await Cloud.listTemplates(config, { limit: 100, after });
      if (!answer.ok) return { ok: false, message: answer.error.message, added: 0, updated: 0 };
      all.push(...answer.templates);
      after = answer.after;
      if (!after) break;
    }
    const counts: { added: number; updated: number } = await ctx.runMutation(internal.templates.applySync, {
      tenantId,
      channelId,
      templates: all,
    });
    return { ok: true, message: null, ...counts };
  },
});

export const syncTarget = internalQuery({
  args: { tenantId: v.id("tenants"), channelId: v.id("channels") },
  returns: vGraph,
  handler: async (ctx, { tenantId, channelId }) => {
    await tenantInput(ctx, tenantId, "admin", true);
    return await Templates.syncTargetOf(ctx, tenantId, channelId);
  },
});

export const applySync = internalMutation({
  args: { tenantId: v.id("tenants"), channelId: v.id("channels"), templates: v.array(v.any()) },
  returns: v.object({ added: v.number(), updated: v.number() }),
  handler: async (ctx, { tenantId, channelId, templates }) => {
    const actor = await tenantInput(ctx, tenantId, "admin", true);
    return await Templates.applySync(ctx, actor, channelId, templates as Cloud.CloudTemplate[]);
  },
});

// ---------------------------------------------------------------- polling (cron)

/** Every minute: templates pending past their deadline get a poll of their status. */
export const pollDue = internalMutation({
  args: {},
  returns: v.number(),
  handler: async (ctx) => {
    const due = await Templates.claimDuePolls(ctx, Date.now());
    for (const templateId of due) await ctx.scheduler.runAfter(0, internal.templates.pollOne, { templateId });
    return due.length;
  },
});

export const pollOne = internalAction({
  args: { templateId: v.id("templates") },
  returns: v.null(),
  handler: async (ctx, { templateId }) => {
    const target = await ctx.runQuery(internal.templates.pollTarget, { templateId });
    let outcome: Templates.PollOutcome | null = null;
    if (target) {
      const answer = await Cloud.getTemplate(
        Templates.cloudConfig(target.graph, whatsappGraphUrl()),
        target.providerTemplateId,
      );
      outcome = answer.ok
        ? { ok: true, template: answer.template }
        : {
            ok: false,
            message: answer.error.message,
            gone:
              answer.error.code === 100 &&
              answer.error.httpStatus === 400 &&
              /does not exist/i.test(answer.error.message),
          };
    }
    await ctx.runMutation(internal.templates.recordPoll, { templateId, outcome });
    return null;
  },
});

export const pollTarget = internalQuery({
  args: { templateId: v.id("templates") },
  returns: v.union(v.null(), v.object({ graph: vGraph, providerTemplateId: v.string() })),
  handler: (ctx, { templateId }) => Templates.pollTarget(ctx, templateId),
});

export const recordPoll = internalMutation({
  args: { templateId: v.id("templates"), outcome: v.union(v.null(), Templates.vPollOutcome) },
  returns: v.null(),
  handler: async (ctx, { templateId, outcome }) => {
    await Templates.recordPoll(ctx, templateId as Id<"templates">, outcome);
    return null;
  },
});
