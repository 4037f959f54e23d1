/**
 * A campaign's life: draft → (scheduled) → preparing (the audience is frozen into recipient rows,
 * in bounded batches) → running (the channel's dispatcher sends) ⇄ paused → completed, or
 * cancelled. Pause and cancel take effect before the next message leaves: the dispatcher claims
 * only recipients of running campaigns, in the same transaction that records each send intent.
 */
import { internal } from "../../_generated/api";
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../../_generated/server";
import * as Audit from "../audit";
import { listContacts } from "../contacts";
import { fail } from "../errors";
import { checkSend } from "../templates";
import { resolveContact } from "../whatsapp/contacts";
import { bump, moved, SHARDS } from "./counters";
import { ensureTick } from "./dispatch";
import type { Audience, CampaignState, Variable } from "./tables";

/** Contacts frozen per mutation: each costs a recipient insert and a duplicate check. */
/** Contacts frozen per step: small enough to stay well inside the one-second limit under load. */
export const FREEZE_BATCH = 100;
export const NAME_MAX = 120;
export const MAX_CONTACTS = 10_000;

type Actor = { user: Doc<"users">; tenant: Doc<"tenants"> };

export async function campaignOf(
  ctx: QueryCtx,
  tenantId: Id<"tenants">,
  campaignId: Id<"campaigns">,
): Promise<Doc<"campaigns">> {
  const campaign = await ctx.db.get("campaigns", campaignId);
  if (!campaign || campaign.tenantId !== tenantId) fail("NOT_FOUND", "No such campaign");
  return campaign;
}

/** The number of positional variables ({{1}}, {{2}}…) a template body uses, from its stored text. */
export function variableCount(text: string | undefined): number {
  let max = 0;
  for (const m of (text ?? "").matchAll(/\{\{\s*(\d+)\s*\}\}/g)) max = Math.max(max, Number(m[1]));
  return max;
}

export async function createCampaign(
  ctx: MutationCtx,
  actor: Actor,
  args: {
    name: string;
    channelId: Id<"channels">;
    templateId: Id<"templates">;
    variables: Variable[];
    audience: Audience;
    scheduledAt?: number;
  },
  /** The campaign this one copies (recorded in the audit log). */
  copyOf?: Doc<"campaigns">,
): Promise<Id<"campaigns">> {
  const tenantId = actor.tenant._id;
  const name = args.name.trim();
  if (!name) fail("INVALID", "Give the campaign a name", "name");
  if (name.length > NAME_MAX) fail("INVALID", `A name can be at most ${NAME_MAX} characters`, "name");
  const channel = await ctx.db.get("channels", args.channelId);
  if (!channel || channel.tenantId !== tenantId) fail("NOT_FOUND", "No such channel", "channelId");
  if (channel.kind !== "cloud")
    fail("INVALID", "Campaigns send approved templates, which only Cloud API numbers have", "channelId");
  const template = await ctx.db.get("templates", args.templateId);
  if (!template || template.tenantId !== tenantId || template.channelId !== channel._id)
    fail("NOT_FOUND", "No such template on this number", "templateId");
  if (template.status.toUpperCase() !== "APPROVED")
    fail(
      "INVALID",
      `Template ${template.name} is ${template.status.toLowerCase()}, not approved`,
      "templateId",
    );
  // The variables must fit the approved template now, so error 132000 never reaches WhatsApp.
  await checkSend(ctx, channel._id, template, { body: args.variables.map(() => "x") });
  for (const [i, variable] of args.variables.entries())
    if (variable.source === "constant" && !variable.value.trim())
      fail("INVALID", `Give {{${i + 1}}} a value, or take it from the contact`, "variables");
  if (args.audience.kind === "contacts") {
    if (!args.audience.contactIds.length) fail("INVALID", "Choose at least one contact", "audience");
    if (args.audience.contactIds.length > MAX_CONTACTS)
      fail("INVALID", `Choose at most ${MAX_CONTACTS} contacts, or use a tag or segment`, "audience");
  }
  if (args.audience.kind === "filter" && args.audience.segmentId) {
    const segment = await ctx.db.get("contactSegments", args.audience.segmentId);
    if (!segment || segment.tenantId !== tenantId) fail("NOT_FOUND", "No such segment", "audience");
  }
  const now = Date.now();
  if (args.scheduledAt !== undefined && args.scheduledAt <= now)
    fail("INVALID", "Schedule it in the future, or send it now", "scheduledAt");
  const campaignId = await ctx.db.insert("campaigns", {
    tenantId,
    channelId: channel._id,
    name,
    templateId: template._id,
    template: {
      name: template.name,
      language: template.language,
      category: (template.category ?? "marketing").toLowerCase(),
    },
    variables: args.variables,
    audience: args.audience,
    state: "draft",
    ...(args.scheduledAt !== undefined ? { scheduledAt: args.scheduledAt } : {}),
    createdBy: actor.user._id,
    createdAt: now,
    frozen: 0,
    batches: 0,
  });
  await audit(
    ctx,
    actor,
    campaignId,
    copyOf ? "campaign.duplicated" : "campaign.created",
    copyOf
      ? `${actor.user.name} duplicated “${copyOf.name}” as the draft “${name}”`
      : `${actor.user.name} created the campaign “${name}”`,
  );
  return campaignId;
}

/** The name of a copy: "Copy of …", shortened to fit. */
export function copyName(name: string): string {
  const copy = `Copy of ${name}`;
  return copy.length <= NAME_MAX ? copy : `${copy.slice(0, NAME_MAX - 1).trimEnd()}…`;
}

/**
 * A new draft with the same number, template, variables and audience definition (a filter is
 * frozen again at its launch, so it reaches the contacts that match then). Any campaign can be
 * duplicated; the template must still be approved.
 */
export async function duplicate(
  ctx: MutationCtx,
  actor: Actor,
  campaignId: Id<"campaigns">,
): Promise<Id<"campaigns">> {
  const source = await campaignOf(ctx, actor.tenant._id, campaignId);
  return await createCampaign(
    ctx,
    actor,
    {
      name: copyName(source.name),
      channelId: source.channelId,
      templateId: source.templateId,
      variables: source.variables,
      audience: source.audience,
    },
    source,
  );
}

/**
 * WhatsApp errors a second try cannot fix: the person stopped marketing messages (131050), the
 * number cannot receive WhatsApp messages (131026), or it is the business's own number (131021).
 */
export const FINAL_ERROR_CODES: readonly number[] = [131050, 131026, 131021];
/** Failed recipients moved back to pending per mutation. */
export const RETRY_BATCH = 200;
/** How many retryable recipients the confirmation counts at most (it then says "at least"). */
export const RETRY_COUNT_LIMIT = 2000;
const RETRY_STATES: CampaignState[] = ["running", "paused", "completed"];

/** Whether a person asking again can help this failed recipient (not opted out, a real number). */
export function retryable(
  recipient: Pick<Doc<"campaignRecipients">, "state" | "errorCode">,
  contact: Pick<Doc<"contacts">, "optedOutAt"> | null,
): boolean {
  if (recipient.state !== "failed" || !contact || contact.optedOutAt !== undefined) return false;
  return recipient.errorCode === undefined || !FINAL_ERROR_CODES.includes(recipient.errorCode);
}

/** How many failed recipients a retry would send again (counted up to RETRY_COUNT_LIMIT). */
export async function retryableCount(
  ctx: QueryCtx,
  campaign: Doc<"campaigns">,
): Promise<{ retryable: number; final: number; capped: boolean }> {
  const failed = await ctx.db
    .query("campaignRecipients")
    .withIndex("by_campaign_state_due", (q) => q.eq("campaignId", campaign._id).eq("state", "failed"))
    .take(RETRY_COUNT_LIMIT + 1);
  let count = 0;
  let final = 0;
  for (const recipient of failed.slice(0, RETRY_COUNT_LIMIT)) {
    if (retryable(recipient, await ctx.db.get("contacts", recipient.contactId))) count++;
    else final++;
  }
  return { retryable: count, final, capped: failed.length > RETRY_COUNT_LIMIT };
}

/**
 * Sends the campaign again to its failed recipients whose failure a person can fix: they go
 * back to `pending` (their failed message stays as it was, unlinked) and the dispatcher claims
 * them like any other, each with a new message. A completed campaign runs again; a paused one
 * sends them when resumed.
 */
export async function retryFailed(
  ctx: MutationCtx,
  actor: Actor,
  campaignId: Id<"campaigns">,
): Promise<{ retried: number; more: boolean }> {
  const campaign = await campaignOf(ctx, actor.tenant._id, campaignId);
  if (!RETRY_STATES.includes(campaign.state) || !campaign.audienceFrozen)
    fail("INVALID", `The campaign is ${campaign.state}: only a running, paused or completed one can retry`);
  const template = await ctx.db.get("templates", campaign.templateId);
  if (!template || template.status.toUpperCase() !== "APPROVED")
    fail("INVALID", "The campaign's template is no longer approved");
  const step = await retryStep(ctx, campaign, null);
  if (step.retried === 0 && !step.more) fail("INVALID", "No failed recipient can be sent again");
  await audit(
    ctx,
    actor,
    campaignId,
    "campaign.retried",
    `${actor.user.name} sent “${campaign.name}” again to its failed recipients`,
  );
  return step;
}

/** Continues a retry over the failed recipients after `cursor`. */
export async function retryFailedStep(
  ctx: MutationCtx,
  campaignId: Id<"campaigns">,
  cursor: string,
): Promise<void> {
  const campaign = await ctx.db.get("campaigns", campaignId);
  if (!campaign || !RETRY_STATES.includes(campaign.state)) return;
  await retryStep(ctx, campaign, cursor);
}

async function retryStep(
  ctx: MutationCtx,
  campaign: Doc<"campaigns">,
  cursor: string | null,
): Promise<{ retried: number; more: boolean }> {
  const page = await ctx.db
    .query("campaignRecipients")
    .withIndex("by_campaign_state_due", (q) => q.eq("campaignId", campaign._id).eq("state", "failed"))
    .paginate({ numItems: RETRY_BATCH, cursor });
  const now = Date.now();
  let retried = 0;
  for (const recipient of page.page) {
    if (!retryable(recipient, await ctx.db.get("contacts", recipient.contactId))) continue;
    await ctx.db.patch("campaignRecipients", recipient._id, {
      state: "pending",
      dueAt: now,
      messageId: undefined,
      reason: undefined,
      errorCode: undefined,
      parameters: undefined,
      updatedAt: now,
    });
    await moved(ctx, campaign._id, recipient.shard, "failed", "pending");
    retried++;
  }
  if (retried > 0 && campaign.state !== "paused") {
    // A completed campaign runs again until these are sent.
    if (campaign.state === "completed")
      await ctx.db.patch("campaigns", campaign._id, { state: "running", finishedAt: undefined });
    await ensureTick(ctx, campaign.channelId);
  }
  if (!page.isDone)
    await ctx.scheduler.runAfter(0, internal.campaigns.retryFailedStep, {
      campaignId: campaign._id,
      cursor: page.continueCursor,
    });
  return { retried, more: !page.isDone };
}

/** Launches a draft now, or at its scheduled time. */
export async function launch(ctx: MutationCtx, actor: Actor, campaignId: Id<"campaigns">): Promise<void> {
  const campaign = await campaignOf(ctx, actor.tenant._id, campaignId);
  if (campaign.state !== "draft")
    fail("INVALID", `The campaign is ${campaign.state}: only a draft can be launched`);
  const template = await ctx.db.get("templates", campaign.templateId);
  if (!template || template.status.toUpperCase() !== "APPROVED")
    fail("INVALID", "The campaign's template is no longer approved");
  const now = Date.now();
  if (campaign.scheduledAt !== undefined && campaign.scheduledAt > now) {
    await ctx.db.patch("campaigns", campaign._id, { state: "scheduled" });
    await ctx.scheduler.runAt(campaign.scheduledAt, internal.campaigns.startScheduled, { campaignId });
  } else {
    await startFreeze(ctx, campaign);
  }
  await audit(ctx, actor, campaignId, "campaign.launched", `${actor.user.name} launched “${campaign.name}”`);
}

export async function startScheduled(ctx: MutationCtx, campaignId: Id<"campaigns">): Promise<void> {
  const campaign = await ctx.db.get("campaigns", campaignId);
  if (campaign?.state === "scheduled") await startFreeze(ctx, campaign);
}

async function startFreeze(ctx: MutationCtx, campaign: Doc<"campaigns">) {
  await ctx.db.patch("campaigns", campaign._id, { state: "preparing", launchedAt: Date.now() });
  await ctx.scheduler.runAfter(0, internal.campaigns.freezeStep, { campaignId: campaign._id });
}

/**
 * Freezes the next batch of the audience into recipient rows (a contact at most once, merged
 * contacts followed), then schedules the next batch, or starts sending when the audience is done.
 */
export async function freezeStep(ctx: MutationCtx, campaignId: Id<"campaigns">): Promise<void> {
  const campaign = await ctx.db.get("campaigns", campaignId);
  if (!campaign || campaign.state !== "preparing") return;
  let contactIds: Id<"contacts">[];
  let cursor: string | null = null;
  let done: boolean;
  if (campaign.audience.kind === "contacts") {
    contactIds = campaign.audience.contactIds.slice(campaign.frozen, campaign.frozen + FREEZE_BATCH);
    done = campaign.frozen + contactIds.length >= campaign.audience.contactIds.length;
    // `frozen` counts list positions for an explicit list, so duplicates do not stall it.
  } else {
    const page = await listContacts(
      ctx,
      campaign.tenantId,
      campaign.audience.filter,
      { numItems: FREEZE_BATCH, cursor: campaign.freezeCursor ?? null },
      FREEZE_BATCH,
    );
    contactIds = page.page.map((c) => c._id);
    cursor = page.continueCursor;
    done = page.isDone;
  }
  const now = Date.now();
  const shardCounts = new Map<number, number>();
  let position = campaign.frozen;
  let added = 0;
  for (const id of contactIds) {
    position++;
    const contact = await resolveContact(ctx, id);
    if (!contact || contact.tenantId !== campaign.tenantId) continue;
    const existing = await ctx.db
      .query("campaignRecipients")
      .withIndex("by_campaign_contact", (q) => q.eq("campaignId", campaign._id).eq("contactId", contact._id))
      .first();
    if (existing) continue;
    const shard = (campaign.frozen + added) % SHARDS;
    added++;
    await ctx.db.insert("campaignRecipients", {
      tenantId: campaign.tenantId,
      campaignId: campaign._id,
      contactId: contact._id,
      state: "pending",
      dueAt: now,
      shard,
      updatedAt: now,
    });
    shardCounts.set(shard, (shardCounts.get(shard) ?? 0) + 1);
  }
  for (const [shard, n] of shardCounts) await bump(ctx, campaign._id, shard, { pending: n });
  await ctx.db.patch("campaigns", campaign._id, {
    frozen: campaign.audience.kind === "contacts" ? position : campaign.frozen + added,
    freezeStepAt: now,
    ...(campaign.audience.kind === "filter" ? { freezeCursor: cursor } : {}),
    ...(done ? { state: "running" as const, audienceFrozen: true } : {}),
  });
  if (done) await ensureTick(ctx, campaign.channelId);
  else await ctx.scheduler.runAfter(0, internal.campaigns.freezeStep, { campaignId });
}

const TRANSITIONS: Record<"pause" | "resume" | "cancel", { from: CampaignState[]; to: CampaignState }> = {
  pause: { from: ["running", "preparing"], to: "paused" },
  resume: { from: ["paused"], to: "running" },
  cancel: { from: ["draft", "scheduled", "preparing", "running", "paused"], to: "cancelled" },
};

/** Pause, resume or cancel: effective before the dispatcher's next claim. */
export async function transition(
  ctx: MutationCtx,
  actor: Actor,
  campaignId: Id<"campaigns">,
  action: "pause" | "resume" | "cancel",
): Promise<void> {
  const campaign = await campaignOf(ctx, actor.tenant._id, campaignId);
  const rule = TRANSITIONS[action];
  if (!rule.from.includes(campaign.state))
    fail(
      "INVALID",
      `The campaign is ${campaign.state}: it cannot be ${action === "cancel" ? "cancelled" : `${action}d`}`,
    );
  // A campaign paused while its audience was being frozen finishes freezing when resumed.
  const resumeFreeze = action === "resume" && !campaign.audienceFrozen;
  await ctx.db.patch("campaigns", campaign._id, {
    state: resumeFreeze ? "preparing" : rule.to,
    stateReason: action === "pause" ? `Paused by ${actor.user.name}` : undefined,
    ...(action === "cancel" ? { finishedAt: Date.now() } : {}),
  });
  if (resumeFreeze) await ctx.scheduler.runAfter(0, internal.campaigns.freezeStep, { campaignId });
  else if (action === "resume") await ensureTick(ctx, campaign.channelId);
  if (action === "cancel")
    await ctx.scheduler.runAfter(0, internal.campaigns.releaseReservations, { campaignId });
  await audit(
    ctx,
    actor,
    campaignId,
    `campaign.${action === "cancel" ? "cancelled" : action === "pause" ? "paused" : "resumed"}`,
    `${actor.user.name} ${action === "cancel" ? "cancelled" : action === "pause" ? "paused" : "resumed"} “${campaign.name}”`,
  );
}

async function audit(
  ctx: MutationCtx,
  actor: Actor,
  campaignId: Id<"campaigns">,
  action: string,
  summary: string,
) {
  await Audit.record(ctx, {
    tenantId: actor.tenant._id,
    actor: actor.user,
    action,
    targetType: "campaign",
    targetId: campaignId,
    summary,
  });
}
