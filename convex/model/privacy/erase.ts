/**
 * Erasure of a contact (on the customer's request) or of all a tenant's customer data (after the
 * account is closed), in bounded steps: each step is one scheduled mutation that handles one
 * batch of one phase and schedules the next, and the job row shows the progress live.
 *
 * A contact's erasure starts by cutting the person off at once (their identifiers and profile are
 * removed in the request's mutation, so a new message from them makes a new contact, which a
 * suppression keeps opted out if they had opted out), then walks everything that held their data:
 * conversations with their messages, media files and assistant turns (the assistant's memory),
 * consent history, campaign recipient rows (anonymised: the campaign's counters keep the counts),
 * webhook events and dead letters naming their identifiers, emails, import files and rows,
 * earlier export files, and the audit log (their name and number redacted). Ledger entries stay:
 * they name a message id only, and the books must add up.
 */
import { internal } from "../../_generated/api";
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx } from "../../_generated/server";
import { setContactTags } from "../contactTags";
import type { ErasureTargets } from "./tables";
import * as Audit from "../audit";
import { keepSuppression } from "./suppression";

/** What both erasures go through after their first phases, in this order. */
const COMMON_PHASES = ["campaigns", "webhooks", "emails", "imports", "exports", "audit", "finish"] as const;

export const CONTACT_PHASES = ["conversations", "consent", ...COMMON_PHASES] as const;

export const TENANT_PHASES = ["conversations", "contacts", ...COMMON_PHASES] as const;

export type Phase = (typeof CONTACT_PHASES)[number] | (typeof TENANT_PHASES)[number];

/** Rows handled per step: far below Convex's per-transaction limits. */
export const BATCH = 200;
const MESSAGES_PER_STEP = 200;
const ERRORS_PER_STEP = 500;
const REDACTED = "[erased]";

type Job = Doc<"privacyJobs">;

// ---------------------------------------------------------------- matching and redaction

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The forms a number or WhatsApp id takes in stored payloads. */
export function identifierForms(values: string[]): string[] {
  const out = new Set<string>();
  for (const value of values) {
    if (!value) continue;
    out.add(value);
    const digits = value.replace(/@.*$/, "").replace(/[^\d]/g, "");
    if (/^\+?[\d\s()-]+$/.test(value) || /^\d+@(c\.us|s\.whatsapp\.net)$/.test(value)) {
      if (digits.length >= 6) {
        out.add(digits);
        out.add(`+${digits}`);
        out.add(`${digits}@c.us`);
        out.add(`${digits}@s.whatsapp.net`);
      }
    }
  }
  return [...out];
}

/** Whether a stored record (as JSON) carries one of the identifiers as a whole value. */
export function namesIdentifier(doc: unknown, identifiers: string[]): boolean {
  const json = JSON.stringify(doc);
  return identifiers.some((id) => json.includes(JSON.stringify(id)));
}

/** `text` with every identifier and (whole-word) name replaced by "[erased]". */
export function redact(text: string, targets: ErasureTargets): string {
  let out = text;
  for (const id of [...targets.identifiers].sort((a, b) => b.length - a.length)) {
    if (id.length >= 4) out = out.split(id).join(REDACTED);
  }
  for (const word of [...targets.words].sort((a, b) => b.length - a.length)) {
    if (word.trim().length < 2) continue;
    out = out.replace(
      new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(word)}(?![\\p{L}\\p{N}])`, "giu"),
      REDACTED,
    );
  }
  return out;
}

function redactSummary<T extends Record<string, string | number | boolean | null>>(
  summary: T | undefined,
  targets: ErasureTargets,
): T | undefined {
  if (!summary) return summary;
  return Object.fromEntries(
    Object.entries(summary).map(([k, v]) => [k, typeof v === "string" ? redact(v, targets) : v]),
  ) as T;
}

// ---------------------------------------------------------------- starting

/**
 * The contact (and contacts merged into it) cut off from the person at once: identifiers,
 * profile, tags and fields removed, the suppression kept when they had opted out. Returns what
 * the later steps must still look for.
 */
export async function detachContact(ctx: MutationCtx, contact: Doc<"contacts">): Promise<ErasureTargets> {
  const merged = await ctx.db
    .query("contacts")
    .withIndex("by_merged_into", (q) => q.eq("mergedInto", contact._id))
    .take(50);
  const contacts = [contact, ...merged];
  const identifiers: string[] = [];
  const words: string[] = [];
  for (const c of contacts) {
    if (c.phone) identifiers.push(c.phone);
    if (c.name) words.push(c.name);
    const aliases = await ctx.db
      .query("contactAliases")
      .withIndex("by_contact", (q) => q.eq("contactId", c._id))
      .take(BATCH);
    for (const alias of aliases) {
      identifiers.push(alias.value);
      await ctx.db.delete("contactAliases", alias._id);
    }
  }
  // The opt-out outlives the person's data (see ./suppression.ts).
  const scope =
    contact.optedOutAt !== undefined ? "all" : contact.marketingOptedOutAt !== undefined ? "marketing" : null;
  const numbers = new Set<string>();
  for (const id of identifiers) {
    const number = /^(\+?\d{6,})(@c\.us|@s\.whatsapp\.net)?$/.exec(id);
    if (number) numbers.add(`+${number[1].replace(/^\+/, "")}`);
  }
  for (const n of numbers) await keepSuppression(ctx, contact.tenantId, n, scope);
  for (const c of contacts) {
    await setContactTags(ctx, c, []);
    await ctx.db.patch("contacts", c._id, {
      name: undefined,
      phone: undefined,
      searchText: undefined,
      fields: undefined,
      tags: undefined,
    });
  }
  return {
    contactIds: contacts.map((c) => c._id),
    identifiers: identifierForms(identifiers),
    words: [...new Set(words)],
  };
}

// ---------------------------------------------------------------- one step

type StepResult =
  /** More of the same phase: the new cursor/position. */
  | { more: true; cursor?: string | null; position?: number; processed: number }
  /** The phase is finished. */
  | { more: false; processed: number };

/**
 * Deletes a message with what hangs on it: its media file in Convex file storage and its
 * held-message row. Used by erasure and by data retention (model/reconciliation/retention.ts).
 */
export async function deleteMessage(ctx: MutationCtx, message: Doc<"messages">) {
  const content = message.content as { storageId?: string } | undefined;
  if (content && typeof content.storageId === "string") {
    const id = ctx.db.system.normalizeId("_storage", content.storageId);
    if (id && (await ctx.db.system.get("_storage", id))) await ctx.storage.delete(id);
  }
  if (message.heldAt !== undefined) {
    const held = await ctx.db
      .query("heldMessages")
      .withIndex("by_tenant", (q) => q.eq("tenantId", message.tenantId).eq("heldAt", message.heldAt!))
      .take(50);
    for (const h of held) if (h.messageId === message._id) await ctx.db.delete("heldMessages", h._id);
  }
  await ctx.db.delete("messages", message._id);
}

/** Deletes one batch of a conversation's messages, then its turns, then the conversation. */
async function eraseConversation(ctx: MutationCtx, conversation: Doc<"conversations">): Promise<number> {
  const messages = await ctx.db
    .query("messages")
    .withIndex("by_conversation_created", (q) => q.eq("conversationId", conversation._id))
    .take(MESSAGES_PER_STEP);
  for (const m of messages) await deleteMessage(ctx, m);
  if (messages.length === MESSAGES_PER_STEP) return messages.length;
  const turns = await ctx.db
    .query("assistantTurns")
    .withIndex("by_conversation", (q) => q.eq("conversationId", conversation._id))
    .take(BATCH);
  for (const t of turns) await ctx.db.delete("assistantTurns", t._id);
  if (turns.length === BATCH) return messages.length + turns.length;
  await ctx.db.delete("conversations", conversation._id);
  return messages.length + turns.length + 1;
}

async function contactIdsOf(job: Job): Promise<Id<"contacts">[]> {
  return job.targets?.contactIds ?? [];
}

async function conversationsStep(ctx: MutationCtx, job: Job): Promise<StepResult> {
  if (job.kind === "erase_tenant") {
    const conversation = await ctx.db
      .query("conversations")
      .withIndex("by_tenant_last", (q) => q.eq("tenantId", job.tenantId))
      .first();
    if (!conversation) return { more: false, processed: 0 };
    return { more: true, processed: await eraseConversation(ctx, conversation) };
  }
  for (const contactId of await contactIdsOf(job)) {
    const conversation = await ctx.db
      .query("conversations")
      .withIndex("by_contact", (q) => q.eq("contactId", contactId))
      .first();
    if (conversation && conversation.tenantId === job.tenantId) {
      return { more: true, processed: await eraseConversation(ctx, conversation) };
    }
  }
  return { more: false, processed: 0 };
}

async function consentStep(ctx: MutationCtx, job: Job): Promise<StepResult> {
  for (const contactId of await contactIdsOf(job)) {
    const events = await ctx.db
      .query("consentEvents")
      .withIndex("by_contact_at", (q) => q.eq("contactId", contactId))
      .take(BATCH);
    if (events.length) {
      for (const e of events) await ctx.db.delete("consentEvents", e._id);
      return { more: true, processed: events.length };
    }
  }
  return { more: false, processed: 0 };
}

/** Tenant erasure: contacts a batch at a time, with their aliases, tags and consent history. */
async function contactsStep(ctx: MutationCtx, job: Job): Promise<StepResult> {
  const contacts = await ctx.db
    .query("contacts")
    .withIndex("by_tenant_created", (q) => q.eq("tenantId", job.tenantId))
    .take(50);
  if (!contacts.length) {
    const counts = await ctx.db
      .query("contactTagCounts")
      .withIndex("by_tenant_tag", (q) => q.eq("tenantId", job.tenantId))
      .take(BATCH);
    for (const c of counts) await ctx.db.delete("contactTagCounts", c._id);
    return counts.length ? { more: true, processed: 0 } : { more: false, processed: 0 };
  }
  let processed = 0;
  for (const contact of contacts) {
    if (contact.phone) {
      const scope =
        contact.optedOutAt !== undefined
          ? "all"
          : contact.marketingOptedOutAt !== undefined
            ? "marketing"
            : null;
      if (scope) await keepSuppression(ctx, job.tenantId, contact.phone, scope);
    }
    for (const alias of await ctx.db
      .query("contactAliases")
      .withIndex("by_contact", (q) => q.eq("contactId", contact._id))
      .take(BATCH))
      await ctx.db.delete("contactAliases", alias._id);
    for (const tag of await ctx.db
      .query("contactTags")
      .withIndex("by_contact", (q) => q.eq("contactId", contact._id))
      .take(BATCH))
      await ctx.db.delete("contactTags", tag._id);
    for (const e of await ctx.db
      .query("consentEvents")
      .withIndex("by_contact_at", (q) => q.eq("contactId", contact._id))
      .take(BATCH))
      await ctx.db.delete("consentEvents", e._id);
    await ctx.db.delete("contacts", contact._id);
    processed++;
  }
  return { more: true, processed };
}

/** Campaign recipient rows: anonymised (contact's parameters and message link dropped) or, for a tenant, deleted. */
async function campaignsStep(ctx: MutationCtx, job: Job): Promise<StepResult> {
  const page = await ctx.db
    .query("campaigns")
    .withIndex("by_tenant_created", (q) => q.eq("tenantId", job.tenantId))
    .paginate({ cursor: job.cursor ?? null, numItems: job.kind === "erase_tenant" ? 1 : 50 });
  let processed = 0;
  if (job.kind === "erase_tenant") {
    const campaign = page.page[0];
    if (campaign) {
      const rows = await ctx.db
        .query("campaignRecipients")
        .withIndex("by_campaign_state_due", (q) => q.eq("campaignId", campaign._id))
        .take(BATCH);
      for (const r of rows) await ctx.db.delete("campaignRecipients", r._id);
      // The same campaign again until its rows are gone.
      if (rows.length === BATCH) return { more: true, cursor: job.cursor ?? null, processed: rows.length };
      processed = rows.length;
    }
  } else {
    for (const campaign of page.page) {
      for (const contactId of await contactIdsOf(job)) {
        const rows = await ctx.db
          .query("campaignRecipients")
          .withIndex("by_campaign_contact", (q) =>
            q.eq("campaignId", campaign._id).eq("contactId", contactId),
          )
          .take(10);
        for (const r of rows) {
          await ctx.db.patch("campaignRecipients", r._id, {
            parameters: undefined,
            messageId: undefined,
          });
          processed++;
        }
      }
    }
  }
  return page.isDone ? { more: false, processed } : { more: true, cursor: page.continueCursor, processed };
}

/** Webhook events (and dead letters) of the tenant's channels, then unrouted ones, naming the person. */
async function webhooksStep(ctx: MutationCtx, job: Job): Promise<StepResult> {
  const channels = (
    await ctx.db
      .query("channels")
      .withIndex("by_tenant", (q) => q.eq("tenantId", job.tenantId))
      .take(100)
  ).map((c) => c._id as Id<"channels"> | undefined);
  // A tenant's erasure has no identifiers to look for in events no channel received.
  if (job.kind === "erase_contact") channels.push(undefined);
  const position = job.position ?? 0;
  if (position >= channels.length) return { more: false, processed: 0 };
  const channelId = channels[position];
  const page = await ctx.db
    .query("webhookEvents")
    .withIndex("by_channel_received", (q) => q.eq("channelId", channelId))
    .paginate({ cursor: job.cursor ?? null, numItems: BATCH });
  let processed = 0;
  for (const event of page.page) {
    if (job.kind === "erase_tenant" || namesIdentifier(event.event, job.targets?.identifiers ?? [])) {
      await ctx.db.delete("webhookEvents", event._id);
      processed++;
    }
  }
  return page.isDone
    ? { more: true, cursor: null, position: position + 1, processed }
    : { more: true, cursor: page.continueCursor, position, processed };
}

async function emailsStep(ctx: MutationCtx, job: Job): Promise<StepResult> {
  const page = await ctx.db
    .query("emails")
    .withIndex("by_tenant_created", (q) => q.eq("tenantId", job.tenantId))
    .paginate({ cursor: job.cursor ?? null, numItems: BATCH });
  let processed = 0;
  for (const email of page.page) {
    if (job.kind === "erase_tenant") {
      // The account is closed: its mail log goes with it.
      await ctx.db.delete("emails", email._id);
      processed++;
      continue;
    }
    const targets = job.targets!;
    const patch = {
      subject: redact(email.subject, targets),
      text: email.text === undefined ? undefined : redact(email.text, targets),
      html: email.html === undefined ? undefined : redact(email.html, targets),
      to: redact(email.to, targets),
    };
    if (
      patch.subject !== email.subject ||
      patch.text !== email.text ||
      patch.html !== email.html ||
      patch.to !== email.to
    ) {
      await ctx.db.patch("emails", email._id, patch);
      processed++;
    }
  }
  return page.isDone ? { more: false, processed } : { more: true, cursor: page.continueCursor, processed };
}

function finished(status: Doc<"contactImports">["status"]): boolean {
  return status === "done" || status === "cancelled" || status === "failed";
}

/**
 * Imports: the uploaded file of a finished import is deleted (it may hold the person's row), its
 * sample rows redacted, contacts still waiting in a running import's chunks dropped, and error
 * rows naming the person redacted. One import per step; `position` is the last error row handled.
 */
async function importsStep(ctx: MutationCtx, job: Job): Promise<StepResult> {
  const page = await ctx.db
    .query("contactImports")
    .withIndex("by_tenant_created", (q) => q.eq("tenantId", job.tenantId))
    .paginate({ cursor: job.cursor ?? null, numItems: 1 });
  const row = page.page[0];
  if (!row) return { more: false, processed: 0 };
  const tenant = job.kind === "erase_tenant";
  const targets = job.targets ?? { contactIds: [], identifiers: [], words: [] };
  const position = job.position ?? 0;
  let processed = 0;
  if (position === 0) {
    const patch: Partial<Doc<"contactImports">> = {};
    if (row.storageId && (tenant || finished(row.status))) {
      if (await ctx.db.system.get("_storage", row.storageId)) await ctx.storage.delete(row.storageId);
      patch.storageId = undefined;
    }
    if (row.sample) {
      const sample = tenant ? [] : row.sample.map((cells) => cells.map((c) => redact(c, targets)));
      if (JSON.stringify(sample) !== JSON.stringify(row.sample)) patch.sample = sample;
    }
    if (Object.keys(patch).length) {
      await ctx.db.patch("contactImports", row._id, patch);
      processed++;
    }
    const chunks = await ctx.db
      .query("contactImportChunks")
      .withIndex("by_import_index", (q) => q.eq("importId", row._id))
      .take(BATCH);
    for (const chunk of chunks) {
      if (tenant) {
        await ctx.db.delete("contactImportChunks", chunk._id);
        continue;
      }
      const kept = chunk.contacts.filter(
        (c) =>
          !namesIdentifier(c.phone, targets.identifiers) && redact(c.name ?? "", targets) === (c.name ?? ""),
      );
      if (kept.length !== chunk.contacts.length) {
        await ctx.db.patch("contactImportChunks", chunk._id, { contacts: kept });
        processed += chunk.contacts.length - kept.length;
      }
    }
  }
  const errors = await ctx.db
    .query("contactImportErrors")
    .withIndex("by_import_row", (q) => q.eq("importId", row._id).gt("row", position))
    .take(ERRORS_PER_STEP);
  for (const e of errors) {
    if (tenant) {
      await ctx.db.delete("contactImportErrors", e._id);
      continue;
    }
    const reason = redact(e.reason, targets);
    if (reason !== e.reason) {
      await ctx.db.patch("contactImportErrors", e._id, { reason });
      processed++;
    }
  }
  if (errors.length === ERRORS_PER_STEP) {
    return { more: true, cursor: job.cursor ?? null, position: errors[errors.length - 1].row, processed };
  }
  return page.isDone
    ? { more: false, processed }
    : { more: true, cursor: page.continueCursor, position: 0, processed };
}

/** Earlier exports that hold the person's data (theirs, and the tenant's) are deleted with their files. */
async function exportsStep(ctx: MutationCtx, job: Job): Promise<StepResult> {
  const page = await ctx.db
    .query("privacyJobs")
    .withIndex("by_tenant_created", (q) => q.eq("tenantId", job.tenantId))
    .paginate({ cursor: job.cursor ?? null, numItems: BATCH });
  let processed = 0;
  const ids = new Set<string>(job.targets?.contactIds ?? []);
  for (const other of page.page) {
    const holds =
      other.kind === "export_tenant" ||
      (other.kind === "export_contact" &&
        (job.kind === "erase_tenant" || (other.contactId !== undefined && ids.has(other.contactId))));
    if (!holds) continue;
    await deleteExport(ctx, other);
    processed++;
  }
  return page.isDone ? { more: false, processed } : { more: true, cursor: page.continueCursor, processed };
}

/** Deletes an export's file and its job row. */
export async function deleteExport(ctx: MutationCtx, job: Job) {
  if (job.storageId && (await ctx.db.system.get("_storage", job.storageId))) {
    await ctx.storage.delete(job.storageId);
  }
  await ctx.db.delete("privacyJobs", job._id);
}

const CUSTOMER_TARGETS = new Set(["contact", "conversation", "contactImport"]);

/** The tenant's audit log: the person's name and identifiers redacted (the events themselves stay). */
async function auditStep(ctx: MutationCtx, job: Job): Promise<StepResult> {
  const page = await ctx.db
    .query("auditEvents")
    .withIndex("by_tenant_at", (q) => q.eq("tenantId", job.tenantId))
    .paginate({ cursor: job.cursor ?? null, numItems: BATCH });
  let processed = 0;
  for (const event of page.page) {
    let patch: Partial<Doc<"auditEvents">>;
    if (job.kind === "erase_tenant") {
      if (!CUSTOMER_TARGETS.has(event.targetType) || event.summary.endsWith("(details erased)")) continue;
      patch = {
        summary: `${event.actorEmail}: ${event.action} (details erased)`,
        before: undefined,
        after: undefined,
      };
    } else {
      // Names are redacted only where events speak of customers (a contact called "Support"
      // must not blank the word across the log); numbers and WhatsApp ids everywhere.
      const targets = CUSTOMER_TARGETS.has(event.targetType) ? job.targets! : { ...job.targets!, words: [] };
      patch = {
        summary: redact(event.summary, targets),
        before: redactSummary(event.before, targets),
        after: redactSummary(event.after, targets),
      };
      if (
        patch.summary === event.summary &&
        JSON.stringify(patch.before) === JSON.stringify(event.before) &&
        JSON.stringify(patch.after) === JSON.stringify(event.after)
      )
        continue;
    }
    await ctx.db.patch("auditEvents", event._id, patch);
    processed++;
  }
  return page.isDone ? { more: false, processed } : { more: true, cursor: page.continueCursor, processed };
}

async function finishStep(ctx: MutationCtx, job: Job): Promise<StepResult> {
  for (const contactId of job.targets?.contactIds ?? []) {
    const contact = await ctx.db.get("contacts", contactId);
    if (contact && contact.tenantId === job.tenantId) {
      // Anything tagged meanwhile goes too.
      await setContactTags(ctx, contact, []);
      await ctx.db.delete("contacts", contactId);
    }
  }
  return { more: false, processed: 0 };
}

const STEPS: Record<Phase, (ctx: MutationCtx, job: Job) => Promise<StepResult>> = {
  conversations: conversationsStep,
  consent: consentStep,
  contacts: contactsStep,
  campaigns: campaignsStep,
  webhooks: webhooksStep,
  emails: emailsStep,
  imports: importsStep,
  exports: exportsStep,
  audit: auditStep,
  finish: finishStep,
};

export function phasesOf(kind: Job["kind"]): readonly Phase[] {
  return kind === "erase_tenant" ? TENANT_PHASES : CONTACT_PHASES;
}

/**
 * Runs one step of an erasure and schedules the next. Returns whether the job finished. A step
 * that throws fails the job with the reason, for a person to see and start again (every step is
 * safe to repeat).
 */
export async function eraseStep(ctx: MutationCtx, jobId: Id<"privacyJobs">): Promise<boolean> {
  const job = await ctx.db.get("privacyJobs", jobId);
  if (!job || job.state !== "running" || !job.kind.startsWith("erase_")) return true;
  const phases = phasesOf(job.kind);
  const phase = job.phase as Phase;
  let result: StepResult;
  try {
    result = await STEPS[phase](ctx, job);
  } catch (error) {
    await ctx.db.patch("privacyJobs", job._id, {
      state: "failed",
      error: `The erasure stopped at “${phase}”: ${error instanceof Error ? error.message : String(error)}. Start it again: finished steps are not repeated in vain.`,
      finishedAt: Date.now(),
    });
    return true;
  }
  const processed = job.processed + result.processed;
  if (result.more) {
    await ctx.db.patch("privacyJobs", job._id, {
      processed,
      cursor: result.cursor === undefined ? job.cursor : result.cursor,
      position: result.position === undefined ? job.position : result.position,
    });
    await ctx.scheduler.runAfter(0, internal.privacy.eraseStep, { jobId });
    return false;
  }
  const next = phases[phases.indexOf(phase) + 1];
  if (next) {
    await ctx.db.patch("privacyJobs", job._id, {
      processed,
      phase: next,
      cursor: null,
      position: 0,
      phasesDone: phases.indexOf(next),
    });
    await ctx.scheduler.runAfter(0, internal.privacy.eraseStep, { jobId });
    return false;
  }
  await ctx.db.patch("privacyJobs", job._id, {
    processed,
    state: "done",
    phase: "done",
    phasesDone: phases.length,
    cursor: null,
    position: 0,
    targets: undefined,
    finishedAt: Date.now(),
  });
  // The record says that and when, by whom and why — never whose data it was.
  const tenantWide = job.kind === "erase_tenant";
  await Audit.record(ctx, {
    tenantId: job.tenantId,
    actor: { _id: job.requestedBy, email: job.requestedByEmail },
    action: tenantWide ? "tenant.customer_data_erased" : "contact.erased",
    targetType: "privacyJob",
    targetId: job.reference,
    summary: tenantWide
      ? `The workspace's customer data was erased (${job.reason}; reference ${job.reference}): ${processed} records deleted or redacted`
      : `A contact was erased (${job.reason}; reference ${job.reference}): ${processed} records deleted or redacted`,
  });
  return true;
}
