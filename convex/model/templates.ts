/**
 * Message templates of Cloud API channels (docs/decisions/020-templates.md).
 *
 * Lifecycle: a tenant's admin writes a DRAFT (Meta's component shape, linted as they type);
 * `submit` lints again (errors refuse), marks the row as being submitted and hands the provider
 * call to an action, which records Meta's answer (PENDING with Meta's template id). Status,
 * category and quality then arrive by webhook (model/whatsapp/process.ts calls applyProviderState);
 * a template still pending after `templatePollAfterMs` is polled (GET /{template-id}) with backoff,
 * so a dropped webhook is still picked up. A REJECTED (or PAUSED) template can be edited and
 * resubmitted (Meta's edit call, same id). Deleting asks Meta first, then removes the row.
 *
 * Re-categorisation (Meta moving a template to another category, which changes its price) is
 * recorded on the row (`categoryChange`, `recategorisedAt`), audited, and shown until an admin
 * acknowledges it; campaigns read it to pause affected sends.
 */
import { v, type Infer } from "convex/values";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { templatePollAfterMs } from "../env";
import type { CloudConfig, CloudTemplate, NewTemplate } from "../providers/whatsappCloud";
import * as Audit from "./audit";
import { fail } from "./errors";
import { hasErrors, lintTemplate, templateParts, type TemplateInput } from "./templateLint";
import { checkSendParameters, type SendParameters } from "./templateParams";
import * as Channels from "./whatsapp/channels";

type Actor = { user: Doc<"users">; tenant: Doc<"tenants"> };

export const DRAFT = "DRAFT";
/** Statuses a person may edit and (re)submit. */
export const EDITABLE = new Set([DRAFT, "REJECTED", "PAUSED"]);
/** Statuses that wait for Meta: polled when no webhook says what became of them. */
export const AWAITING = new Set(["PENDING", "IN_APPEAL", "UNKNOWN"]);
/** At most this many templates per channel (Meta: 250 per WABA, 6,000 when verified). */
export const MAX_PER_CHANNEL = 500;
/** A draft's components, as JSON, at most this many characters. */
const MAX_COMPONENTS_JSON = 32_000;
/** A submission older than this is taken as lost (the action died): another may start. */
const SUBMIT_LEASE_MS = 2 * 60 * 1000;
const POLL_MAX_DELAY_MS = 6 * 60 * 60 * 1000;
/** After this many polls without an answer from Meta, polling stops (a person can resubmit or sync). */
const MAX_POLLS = 40;

// ---------------------------------------------------------------- validators and views

export const vParameterFormat = v.union(v.literal("POSITIONAL"), v.literal("NAMED"));

/** What the editor saves: Meta's create-template body, minus nothing. */
export const vDraft = v.object({
  name: v.string(),
  language: v.string(),
  category: v.string(),
  parameterFormat: v.optional(vParameterFormat),
  components: v.array(v.any()),
});
export type Draft = Infer<typeof vDraft>;

const vCategoryChange = v.object({
  from: v.string(),
  to: v.string(),
  state: v.union(v.literal("announced"), v.literal("changed")),
  at: v.number(),
  effectiveAt: v.optional(v.number()),
  acknowledgedAt: v.optional(v.number()),
  acknowledgedBy: v.optional(v.id("users")),
});

export const vTemplateSummary = v.object({
  templateId: v.id("templates"),
  channelId: v.id("channels"),
  name: v.string(),
  language: v.string(),
  category: v.union(v.string(), v.null()),
  status: v.string(),
  reason: v.union(v.string(), v.null()),
  recommendation: v.union(v.string(), v.null()),
  qualityScore: v.union(v.string(), v.null()),
  categoryChange: v.union(vCategoryChange, v.null()),
  /** The body's text, for the list. */
  body: v.string(),
  submitting: v.boolean(),
  lastError: v.union(v.string(), v.null()),
  editable: v.boolean(),
  submittedAt: v.union(v.number(), v.null()),
  updatedAt: v.number(),
});
export type TemplateSummary = Infer<typeof vTemplateSummary>;

export const vTemplateView = v.object({
  ...vTemplateSummary.fields,
  parameterFormat: vParameterFormat,
  components: v.array(v.any()),
  requestedCategory: v.union(v.string(), v.null()),
  providerTemplateId: v.union(v.string(), v.null()),
  channelName: v.string(),
});
export type TemplateView = Infer<typeof vTemplateView>;

function submitting(t: Doc<"templates">, now: number) {
  return t.submittingAt !== undefined && now - t.submittingAt < SUBMIT_LEASE_MS;
}

export function toSummary(t: Doc<"templates">, now = Date.now()): TemplateSummary {
  const body = templateParts(t.components ?? []).body;
  return {
    templateId: t._id,
    channelId: t.channelId,
    name: t.name,
    language: t.language,
    category: t.category ?? null,
    status: t.status,
    // Meta says NONE when there is no reason.
    reason: t.reason && t.reason !== "NONE" ? t.reason : null,
    recommendation: t.recommendation ?? null,
    qualityScore: t.qualityScore ?? null,
    categoryChange: t.categoryChange ?? null,
    body: typeof body?.text === "string" ? body.text : "",
    submitting: submitting(t, now),
    lastError: t.lastError ?? null,
    editable: EDITABLE.has(t.status),
    submittedAt: t.submittedAt ?? null,
    updatedAt: t.updatedAt,
  };
}

// ---------------------------------------------------------------- reading

async function cloudChannelOf(ctx: QueryCtx, tenantId: Id<"tenants">, channelId: Id<"channels"> | string) {
  const channel = await Channels.channelOf(ctx, tenantId, channelId);
  if (channel.kind !== "cloud") {
    fail("INVALID", "WAHA numbers have no message templates: only Cloud API numbers send templates");
  }
  return channel;
}

export async function templateOf(
  ctx: QueryCtx,
  tenantId: Id<"tenants">,
  templateId: Id<"templates"> | string,
): Promise<Doc<"templates">> {
  const id = ctx.db.normalizeId("templates", templateId);
  const template = id ? await ctx.db.get("templates", id) : null;
  if (!template || template.tenantId !== tenantId)
    fail("NOT_FOUND", "This template does not exist in this workspace");
  return template;
}

/** The channel's templates, drafts first, then by name. */
export async function list(
  ctx: QueryCtx,
  tenantId: Id<"tenants">,
  channelId: Id<"channels">,
): Promise<TemplateSummary[]> {
  const channel = await Channels.channelOf(ctx, tenantId, channelId);
  if (channel.kind !== "cloud") return [];
  const rows = await ctx.db
    .query("templates")
    .withIndex("by_channel_name_language", (q) => q.eq("channelId", channel._id))
    .take(MAX_PER_CHANNEL);
  const now = Date.now();
  return rows.filter((t) => t.tenantId === tenantId).map((t) => toSummary(t, now));
}

export async function get(ctx: QueryCtx, tenantId: Id<"tenants">, templateId: string): Promise<TemplateView> {
  const t = await templateOf(ctx, tenantId, templateId);
  const channel = await ctx.db.get("channels", t.channelId);
  return {
    ...toSummary(t),
    parameterFormat: t.parameterFormat ?? "POSITIONAL",
    components: t.components ?? [],
    requestedCategory: t.requestedCategory ?? null,
    providerTemplateId: t.providerTemplateId ?? null,
    channelName: channel?.name ?? "",
  };
}

/** The template as Meta's create-template body (what lint and the provider see). */
export function requestBody(
  t: Pick<Doc<"templates">, "name" | "language" | "category" | "parameterFormat" | "components">,
): TemplateInput {
  return {
    name: t.name,
    category: t.category ?? "",
    language: t.language,
    ...(t.parameterFormat ? { parameter_format: t.parameterFormat } : {}),
    components: t.components ?? [],
  };
}

// ---------------------------------------------------------------- drafts

function checkDraft(draft: Draft) {
  const name = draft.name.trim();
  if (!name) fail("INVALID", "Give the template a name", "name");
  if (name.length > 512) fail("INVALID", "Template names can be at most 512 characters", "name");
  if (!draft.language.trim()) fail("INVALID", "Choose the template's language", "language");
  if (draft.language.length > 20) fail("INVALID", "Unknown language", "language");
  if (draft.category.length > 40) fail("INVALID", "Unknown category", "category");
  if (draft.components.length > 10) fail("INVALID", "A template has at most four parts", "components");
  if (JSON.stringify(draft.components).length > MAX_COMPONENTS_JSON) {
    fail("INVALID", "This template is too large", "components");
  }
}

/**
 * Creates a draft on a Cloud API channel, or saves changes to one (also to a rejected or paused
 * template, which keeps Meta's id: resubmitting edits it). Name and language are fixed once Meta
 * knows the template.
 */
export async function saveDraft(
  ctx: MutationCtx,
  actor: Actor,
  input: { channelId: Id<"channels">; templateId?: Id<"templates">; draft: Draft },
): Promise<Id<"templates">> {
  const { draft } = input;
  checkDraft(draft);
  const channel = await cloudChannelOf(ctx, actor.tenant._id, input.channelId);
  const name = draft.name.trim();
  const fields = {
    category: draft.category.toUpperCase(),
    parameterFormat: draft.parameterFormat,
    components: draft.components,
    updatedAt: Date.now(),
  };
  const clash = await ctx.db
    .query("templates")
    .withIndex("by_channel_name_language", (q) =>
      q.eq("channelId", channel._id).eq("name", name).eq("language", draft.language),
    )
    .first();
  if (input.templateId) {
    const existing = await templateOf(ctx, actor.tenant._id, input.templateId);
    if (existing.channelId !== channel._id) fail("INVALID", "A template cannot move to another number");
    if (!EDITABLE.has(existing.status)) {
      fail(
        "INVALID",
        `This template is ${existing.status.toLowerCase()}: only drafts, rejected and paused templates can be edited`,
      );
    }
    if (submitting(existing, Date.now()))
      fail("CONFLICT", "This template is being submitted: wait for Meta's answer");
    if (existing.providerTemplateId && (existing.name !== name || existing.language !== draft.language)) {
      fail(
        "INVALID",
        "Meta does not allow renaming a submitted template or changing its language: create a new one",
      );
    }
    if (clash && clash._id !== existing._id) {
      fail("CONFLICT", `This number already has a template ${name} in ${draft.language}`, "name");
    }
    await ctx.db.patch("templates", existing._id, { ...fields, name, language: draft.language });
    return existing._id;
  }
  if (clash) fail("CONFLICT", `This number already has a template ${name} in ${draft.language}`, "name");
  const count = (
    await ctx.db
      .query("templates")
      .withIndex("by_channel_name_language", (q) => q.eq("channelId", channel._id))
      .take(MAX_PER_CHANNEL)
  ).length;
  if (count >= MAX_PER_CHANNEL)
    fail("INVALID", `A number can have at most ${MAX_PER_CHANNEL} templates here`);
  return await ctx.db.insert("templates", {
    tenantId: actor.tenant._id,
    channelId: channel._id,
    name,
    language: draft.language,
    status: DRAFT,
    ...fields,
    createdAt: fields.updatedAt,
    createdBy: actor.user._id,
  });
}

// ---------------------------------------------------------------- the provider

/** What the templates API needs for the channel: its WABA and token. */
export async function providerConfigOf(
  channel: Doc<"channels">,
): Promise<{ phoneNumberId: string; wabaId: string; accessToken: string } | null> {
  if (channel.kind !== "cloud" || !channel.wabaId) return null;
  const check = await Channels.healthCheckOf(channel);
  if (!check || check.kind !== "cloud") return null;
  return { phoneNumberId: check.phoneNumberId, wabaId: channel.wabaId, accessToken: check.accessToken };
}

export type Graph = NonNullable<Awaited<ReturnType<typeof providerConfigOf>>>;

/** The templates API's config for a channel of the workspace, for a sync. */
export async function syncTargetOf(
  ctx: QueryCtx,
  tenantId: Id<"tenants">,
  channelId: Id<"channels">,
): Promise<Graph> {
  const channel = await cloudChannelOf(ctx, tenantId, channelId);
  const graph = await providerConfigOf(channel);
  if (!graph)
    fail("INVALID", `Channel ${channel.name} has no WhatsApp Business Account id or readable token`);
  return graph;
}

export function cloudConfig(graph: Graph, graphUrl: string): CloudConfig {
  return {
    graphUrl,
    phoneNumberId: graph.phoneNumberId,
    wabaId: graph.wabaId,
    accessToken: graph.accessToken,
  };
}

// ---------------------------------------------------------------- submission

export type SubmitPlan = {
  graph: Graph;
  providerTemplateId: string | null;
  template: NewTemplate;
};

/** Lints, marks the template as being submitted, and returns what the action sends. */
export async function beginSubmit(
  ctx: MutationCtx,
  actor: Actor,
  templateId: Id<"templates">,
): Promise<SubmitPlan> {
  const t = await templateOf(ctx, actor.tenant._id, templateId);
  const now = Date.now();
  if (!EDITABLE.has(t.status)) {
    fail(
      "INVALID",
      `This template is ${t.status.toLowerCase()}: only drafts, rejected and paused templates can be submitted`,
    );
  }
  if (submitting(t, now)) fail("CONFLICT", "This template is already being submitted");
  const issues = lintTemplate(requestBody(t));
  if (hasErrors(issues)) {
    const errors = issues.filter((i) => i.severity === "error");
    fail(
      "INVALID",
      `Fix ${errors.length === 1 ? "this problem" : `these ${errors.length} problems`} before submitting: ${errors
        .slice(0, 3)
        .map((e) => e.message)
        .join("; ")}`,
    );
  }
  const channel = await ctx.db.get("channels", t.channelId);
  if (!channel) fail("NOT_FOUND", "The template's number no longer exists");
  const graph = await providerConfigOf(channel);
  if (!graph)
    fail("INVALID", `Channel ${channel.name} has no WhatsApp Business Account id or readable token`);
  await ctx.db.patch("templates", t._id, { submittingAt: now, lastError: undefined });
  return {
    graph,
    providerTemplateId: t.providerTemplateId ?? null,
    template: {
      name: t.name,
      category: (t.category ?? "UTILITY") as NewTemplate["category"],
      language: t.language,
      ...(t.parameterFormat ? { parameterFormat: t.parameterFormat } : {}),
      components: (t.components ?? []) as Record<string, unknown>[],
    },
  };
}

export const vSubmitOutcome = v.union(
  v.object({ ok: v.literal(true), id: v.string(), status: v.string(), category: v.optional(v.string()) }),
  v.object({ ok: v.literal(false), message: v.string() }),
);
export type SubmitOutcome = Infer<typeof vSubmitOutcome>;

/** Records Meta's answer to a submission (or its refusal). */
export async function recordSubmission(
  ctx: MutationCtx,
  actor: Actor,
  templateId: Id<"templates">,
  outcome: SubmitOutcome,
): Promise<void> {
  const t = await ctx.db.get("templates", templateId);
  if (!t || t.tenantId !== actor.tenant._id) return;
  const now = Date.now();
  if (!outcome.ok) {
    await ctx.db.patch("templates", t._id, {
      submittingAt: undefined,
      lastError: outcome.message,
      updatedAt: now,
    });
    return;
  }
  // A webhook may have been faster than this answer: it found the row by name and moved it on.
  const overtaken = t.providerTemplateId === outcome.id && !EDITABLE.has(t.status);
  const requested = (t.category ?? "").toUpperCase();
  await ctx.db.patch("templates", t._id, {
    providerTemplateId: outcome.id,
    requestedCategory: requested,
    submittedAt: now,
    submittedBy: actor.user._id,
    submittingAt: undefined,
    lastError: undefined,
    updatedAt: now,
    ...(overtaken
      ? {}
      : {
          status: outcome.status.toUpperCase(),
          reason: undefined,
          recommendation: undefined,
          pollAt: now + templatePollAfterMs(),
          pollAttempts: 0,
        }),
  });
  await Audit.record(ctx, {
    tenantId: actor.tenant._id,
    actor: actor.user,
    action: "template.submitted",
    targetType: "template",
    targetId: t._id,
    summary: `Submitted template ${t.name} (${t.language}) for review as ${requested.toLowerCase()}`,
    after: { name: t.name, language: t.language, category: requested },
  });
  // Meta may answer with another category at once (a utility template it judges marketing).
  if (outcome.category) {
    const fresh = (await ctx.db.get("templates", t._id))!;
    await applyProviderState(ctx, fresh, { category: outcome.category.toUpperCase() }, now);
  }
}

// ---------------------------------------------------------------- provider state (webhooks, polls, sync)

/** What Meta says about a template; absent fields change nothing. */
export type ProviderState = {
  status?: string;
  reason?: string;
  recommendation?: string;
  category?: string;
  /** Advance notice of a re-categorisation: where to, and when. */
  correctCategory?: string;
  effectiveAt?: number;
  /** A completed re-categorisation: where from. */
  previousCategory?: string;
  qualityScore?: string;
};

function nextPoll(status: string, attempts: number, now: number, categoryDueAt?: number): number | undefined {
  if (attempts >= MAX_POLLS) return undefined;
  if (AWAITING.has(status)) {
    return now + Math.min(POLL_MAX_DELAY_MS, templatePollAfterMs() * 2 ** Math.min(attempts, 20));
  }
  // A re-categorisation was announced: look once it is due, in case its webhook never comes.
  if (categoryDueAt !== undefined && categoryDueAt + 10 * 60 * 1000 > now)
    return categoryDueAt + 10 * 60 * 1000;
  return undefined;
}

const NOISY_STATUSES = new Set(["REJECTED", "PAUSED", "DISABLED", "FLAGGED", "APPROVED", "REINSTATED"]);

/**
 * Applies what Meta says to one template row: status (with reason), category (recording a
 * re-categorisation), an announced category change, quality; schedules or stops polling.
 */
export async function applyProviderState(
  ctx: MutationCtx,
  t: Doc<"templates">,
  state: ProviderState,
  now = Date.now(),
): Promise<void> {
  const patch: Partial<Doc<"templates">> = {};
  const status = state.status?.toUpperCase();
  if (status !== undefined) {
    // REINSTATED means approved again; FLAGGED keeps it sendable but at risk of a pause.
    const next = status === "REINSTATED" ? "APPROVED" : status;
    if (next !== t.status) patch.status = next;
    if (state.reason !== t.reason) patch.reason = state.reason;
    if (state.recommendation !== t.recommendation) patch.recommendation = state.recommendation;
  }
  const category = state.category?.toUpperCase();
  const known = t.category?.toUpperCase();
  const requested = t.requestedCategory?.toUpperCase();
  let change: Doc<"templates">["categoryChange"] | undefined;
  if (category && category !== known) {
    patch.category = category;
    // From: what it was (or what was asked for, when Meta decides at approval).
    const from =
      state.previousCategory?.toUpperCase() ?? (t.status === DRAFT ? undefined : (known ?? requested));
    if (from && from !== category) change = { from, to: category, state: "changed", at: now };
  } else if (category && requested && category !== requested && !t.categoryChange && t.status !== DRAFT) {
    // Approved straight into another category than the one asked for.
    change = { from: requested, to: category, state: "changed", at: now };
  }
  const correct = state.correctCategory?.toUpperCase();
  if (!change && correct && correct !== (category ?? known)) {
    const current = category ?? known ?? requested ?? "UNKNOWN";
    const sameNotice =
      t.categoryChange?.state === "announced" &&
      t.categoryChange.to === correct &&
      t.categoryChange.from === current;
    if (!sameNotice)
      change = { from: current, to: correct, state: "announced", at: now, effectiveAt: state.effectiveAt };
  }
  if (change) {
    patch.categoryChange = change;
    if (change.state === "changed") patch.recategorisedAt = now;
  }
  if (state.qualityScore !== undefined && state.qualityScore.toUpperCase() !== t.qualityScore) {
    patch.qualityScore = state.qualityScore.toUpperCase();
  }
  const statusAfter = patch.status ?? t.status;
  const changeAfter = patch.categoryChange ?? t.categoryChange;
  const dueAt = changeAfter?.state === "announced" ? changeAfter.effectiveAt : undefined;
  const keepPolling = AWAITING.has(statusAfter) || dueAt !== undefined;
  if (!keepPolling && t.pollAt !== undefined) patch.pollAt = undefined;
  if (keepPolling && t.pollAt === undefined)
    patch.pollAt = nextPoll(statusAfter, t.pollAttempts ?? 0, now, dueAt);
  if (Object.keys(patch).length === 0) return;
  await ctx.db.patch("templates", t._id, { ...patch, updatedAt: now });

  const system = { system: "whatsapp" };
  if (patch.status && NOISY_STATUSES.has(patch.status)) {
    await Audit.record(ctx, {
      tenantId: t.tenantId,
      actor: system,
      action: "template.status_changed",
      targetType: "template",
      targetId: t._id,
      summary: `Meta ${describeStatus(patch.status)} template ${t.name} (${t.language})${patch.reason && patch.reason !== "NONE" ? `: ${patch.reason}` : ""}`,
      before: { status: t.status },
      after: {
        status: patch.status,
        ...(patch.reason && patch.reason !== "NONE" ? { reason: patch.reason } : {}),
      },
    });
  }
  if (change) {
    await Audit.record(ctx, {
      tenantId: t.tenantId,
      actor: system,
      action: change.state === "changed" ? "template.recategorised" : "template.recategorisation_announced",
      targetType: "template",
      targetId: t._id,
      summary:
        change.state === "changed"
          ? `Meta moved template ${t.name} (${t.language}) from ${change.from.toLowerCase()} to ${change.to.toLowerCase()}: its messages are now priced as ${change.to.toLowerCase()}`
          : `Meta will move template ${t.name} (${t.language}) from ${change.from.toLowerCase()} to ${change.to.toLowerCase()}${change.effectiveAt ? ` on ${new Date(change.effectiveAt).toISOString().slice(0, 16).replace("T", " ")} UTC` : ""}`,
      before: { category: change.from },
      after: { category: change.to },
    });
  }
}

function describeStatus(status: string): string {
  switch (status) {
    case "APPROVED":
      return "approved";
    case "REJECTED":
      return "rejected";
    case "PAUSED":
      return "paused";
    case "DISABLED":
      return "disabled";
    case "FLAGGED":
      return "flagged";
    default:
      return `set to ${status.toLowerCase()}`;
  }
}

/** Meta's view of a template (GET /{template-id} or the list) as provider state. */
export function stateOfCloudTemplate(t: CloudTemplate): ProviderState {
  const quality = t.quality_score;
  const score =
    typeof quality === "string"
      ? quality
      : quality && typeof quality === "object" && typeof (quality as { score?: unknown }).score === "string"
        ? (quality as { score: string }).score
        : undefined;
  const rejected =
    typeof t.rejected_reason === "string" && t.rejected_reason !== "NONE" ? t.rejected_reason : undefined;
  return {
    status: t.status,
    reason: rejected,
    category: t.category,
    ...(typeof t.correct_category === "string" ? { correctCategory: t.correct_category } : {}),
    ...(score ? { qualityScore: score } : {}),
  };
}

// ---------------------------------------------------------------- polling

/** Templates due a poll: each is leased (pollAt moves on) and its id returned for the action. */
export async function claimDuePolls(ctx: MutationCtx, now: number, limit = 25): Promise<Id<"templates">[]> {
  const due = await ctx.db
    .query("templates")
    .withIndex("by_poll_at", (q) => q.gt("pollAt", 0).lte("pollAt", now))
    .take(limit);
  for (const t of due) {
    // A lease: if the poll action dies, the template comes due again later.
    await ctx.db.patch("templates", t._id, { pollAt: now + 10 * 60 * 1000 });
  }
  return due.map((t) => t._id);
}

export async function pollTarget(
  ctx: QueryCtx,
  templateId: Id<"templates">,
): Promise<{ graph: Graph; providerTemplateId: string } | null> {
  const t = await ctx.db.get("templates", templateId);
  if (!t?.providerTemplateId) return null;
  const channel = await ctx.db.get("channels", t.channelId);
  const graph = channel ? await providerConfigOf(channel) : null;
  return graph ? { graph, providerTemplateId: t.providerTemplateId } : null;
}

export const vPollOutcome = v.union(
  v.object({ ok: v.literal(true), template: v.any() }),
  v.object({ ok: v.literal(false), message: v.string(), gone: v.boolean() }),
);
export type PollOutcome = Infer<typeof vPollOutcome>;

/** Records a poll's answer: Meta's state now, and when to look again. */
export async function recordPoll(ctx: MutationCtx, templateId: Id<"templates">, outcome: PollOutcome | null) {
  const t = await ctx.db.get("templates", templateId);
  if (!t) return;
  const now = Date.now();
  const attempts = (t.pollAttempts ?? 0) + 1;
  if (!outcome) {
    // Nothing to ask (no id or no readable token): stop.
    await ctx.db.patch("templates", t._id, { pollAt: undefined, pollAttempts: attempts });
    return;
  }
  if (!outcome.ok) {
    await ctx.db.patch("templates", t._id, {
      lastError: outcome.gone
        ? "Meta no longer has this template"
        : `Could not read the status from Meta: ${outcome.message}`,
      pollAttempts: attempts,
      pollAt: outcome.gone
        ? undefined
        : nextPoll(AWAITING.has(t.status) ? t.status : "PENDING", attempts, now),
      ...(outcome.gone ? { status: "DELETED" } : {}),
    });
    return;
  }
  await ctx.db.patch("templates", t._id, {
    polledAt: now,
    pollAttempts: attempts,
    pollAt: undefined,
    lastError: undefined,
  });
  const fresh = (await ctx.db.get("templates", t._id))!;
  await applyProviderState(ctx, fresh, stateOfCloudTemplate(outcome.template as CloudTemplate), now);
  const after = (await ctx.db.get("templates", t._id))!;
  const dueAt = after.categoryChange?.state === "announced" ? after.categoryChange.effectiveAt : undefined;
  const pollAt = nextPoll(after.status, attempts, now, dueAt);
  if (pollAt !== after.pollAt) await ctx.db.patch("templates", t._id, { pollAt });
}

// ---------------------------------------------------------------- sync from the provider

/** Upserts the WABA's templates (from the templates API) into the channel's rows. */
export async function applySync(
  ctx: MutationCtx,
  actor: Actor,
  channelId: Id<"channels">,
  templates: CloudTemplate[],
): Promise<{ added: number; updated: number }> {
  const channel = await cloudChannelOf(ctx, actor.tenant._id, channelId);
  let added = 0;
  let updated = 0;
  const now = Date.now();
  for (const remote of templates.slice(0, MAX_PER_CHANNEL)) {
    const byId = (
      await ctx.db
        .query("templates")
        .withIndex("by_provider_template_id", (q) => q.eq("providerTemplateId", remote.id))
        .take(20)
    ).find((t) => t.channelId === channel._id);
    const row =
      byId ??
      (await ctx.db
        .query("templates")
        .withIndex("by_channel_name_language", (q) =>
          q.eq("channelId", channel._id).eq("name", remote.name).eq("language", remote.language),
        )
        .first());
    const content = {
      providerTemplateId: remote.id,
      ...(Array.isArray(remote.components) ? { components: remote.components } : {}),
      parameterFormat: remote.parameter_format === "NAMED" ? ("NAMED" as const) : ("POSITIONAL" as const),
    };
    if (!row) {
      const id = await ctx.db.insert("templates", {
        tenantId: actor.tenant._id,
        channelId: channel._id,
        name: remote.name,
        language: remote.language,
        category: remote.category?.toUpperCase(),
        requestedCategory: remote.category?.toUpperCase(),
        status: String(remote.status ?? "UNKNOWN").toUpperCase(),
        ...content,
        updatedAt: now,
        createdAt: now,
        polledAt: now,
      });
      const fresh = (await ctx.db.get("templates", id))!;
      await applyProviderState(ctx, fresh, { ...stateOfCloudTemplate(remote), category: undefined }, now);
      added++;
    } else {
      await ctx.db.patch("templates", row._id, { ...content, polledAt: now });
      const fresh = (await ctx.db.get("templates", row._id))!;
      await applyProviderState(ctx, fresh, stateOfCloudTemplate(remote), now);
      updated++;
    }
  }
  if (added || updated) {
    await Audit.record(ctx, {
      tenantId: actor.tenant._id,
      actor: actor.user,
      action: "template.synced",
      targetType: "channel",
      targetId: channel._id,
      summary: `Read ${templates.length} templates of ${channel.name} from Meta (${added} new)`,
    });
  }
  return { added, updated };
}

// ---------------------------------------------------------------- re-categorisation, deletion

export async function acknowledgeCategoryChange(ctx: MutationCtx, actor: Actor, templateId: Id<"templates">) {
  const t = await templateOf(ctx, actor.tenant._id, templateId);
  if (!t.categoryChange || t.categoryChange.acknowledgedAt !== undefined) return;
  await ctx.db.patch("templates", t._id, {
    categoryChange: { ...t.categoryChange, acknowledgedAt: Date.now(), acknowledgedBy: actor.user._id },
  });
  await Audit.record(ctx, {
    tenantId: actor.tenant._id,
    actor: actor.user,
    action: "template.recategorisation_acknowledged",
    targetType: "template",
    targetId: t._id,
    summary: `Acknowledged that template ${t.name} (${t.language}) is now ${t.categoryChange.to.toLowerCase()}`,
  });
}

/** Whether campaigns should hold sends of this template: its category changed and nobody acknowledged it. */
export function categoryChangePending(t: Pick<Doc<"templates">, "categoryChange">): boolean {
  return !!t.categoryChange && t.categoryChange.acknowledgedAt === undefined;
}

export async function beginRemove(
  ctx: QueryCtx,
  tenantId: Id<"tenants">,
  templateId: Id<"templates">,
): Promise<{ graph: Graph | null; name: string; providerTemplateId: string | null }> {
  const t = await templateOf(ctx, tenantId, templateId);
  if (!t.providerTemplateId) return { graph: null, name: t.name, providerTemplateId: null };
  const channel = await ctx.db.get("channels", t.channelId);
  const graph = channel ? await providerConfigOf(channel) : null;
  if (!graph) fail("INVALID", "The template's number has no readable token: fix the channel first");
  return { graph, name: t.name, providerTemplateId: t.providerTemplateId };
}

/** Removes the template's rows in this workspace (every number of the WABA sees it). */
export async function remove(ctx: MutationCtx, actor: Actor, templateId: Id<"templates">) {
  const t = await templateOf(ctx, actor.tenant._id, templateId);
  const rows = t.providerTemplateId
    ? (
        await ctx.db
          .query("templates")
          .withIndex("by_provider_template_id", (q) => q.eq("providerTemplateId", t.providerTemplateId))
          .take(50)
      ).filter((r) => r.tenantId === actor.tenant._id)
    : [t];
  for (const r of rows) await ctx.db.delete("templates", r._id);
  await Audit.record(ctx, {
    tenantId: actor.tenant._id,
    actor: actor.user,
    action: "template.deleted",
    targetType: "template",
    targetId: t._id,
    summary: `Deleted template ${t.name} (${t.language})${t.providerTemplateId ? " from Meta" : " (a draft)"}`,
    before: { name: t.name, language: t.language, status: t.status },
  });
}

// ---------------------------------------------------------------- sends

/**
 * Checks a template send against the approved template on the channel (when its components are
 * known), so a parameter mismatch is refused here instead of failing at WhatsApp with 132000.
 * Returns the body parameters' names for named templates.
 */
export async function checkSend(
  ctx: QueryCtx,
  channelId: Id<"channels">,
  template: { name: string; language: string },
  send: SendParameters,
): Promise<{ parameterNames?: string[] }> {
  const row = await ctx.db
    .query("templates")
    .withIndex("by_channel_name_language", (q) =>
      q.eq("channelId", channelId).eq("name", template.name).eq("language", template.language),
    )
    .first();
  if (!row) return {};
  const status = row.status.toUpperCase();
  if (status === "PAUSED" || status === "DISABLED" || status === DRAFT || status === "REJECTED") {
    fail("INVALID", `Template ${row.name} is ${status.toLowerCase()}: it cannot be sent`);
  }
  if (!row.components) return {};
  const shape = { name: row.name, parameter_format: row.parameterFormat, components: row.components };
  const named = row.parameterFormat === "NAMED";
  const body = send.body;
  const names = templateParts(row.components).body;
  const bodyNames =
    typeof names?.text === "string"
      ? [...new Set([...names.text.matchAll(/\{\{([^{}]*)\}\}/g)].map((m) => m[1].trim()))]
      : [];
  // Named templates given values in order: fill the names in the order they appear.
  const sendAs: SendParameters =
    named && Array.isArray(body)
      ? { ...send, body: Object.fromEntries(body.map((value, i) => [bodyNames[i] ?? `_${i}`, value])) }
      : send;
  if (named && Array.isArray(body) && body.length !== bodyNames.length) {
    fail(
      "INVALID",
      `Template ${row.name} needs ${bodyNames.length} value${bodyNames.length === 1 ? "" : "s"} for its body; ${body.length} given`,
    );
  }
  const problem = checkSendParameters(shape, sendAs);
  if (problem) fail("INVALID", problem.message);
  return named ? { parameterNames: bodyNames } : {};
}
