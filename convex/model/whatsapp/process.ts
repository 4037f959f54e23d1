/**
 * Processing a stored webhook event: idempotent, so running it again (a retry, a replay, a
 * duplicate schedule) leaves the same state.
 *
 * Failures: `whatsappWebhooks.process` runs `apply` as a sub-transaction; when it throws, its
 * writes are rolled back and `recordFailure` classifies the error (`failureKind`): one retrying
 * cannot fix (the channel is gone, a bug, an event processing does not understand) is dead at
 * once with its reason; any other counts the attempt and schedules the next one with
 * exponential backoff (1 s, 4 s, 16 s, 64 s, 256 s); after MAX_ATTEMPTS the event is dead, with
 * its last error, until a platform admin replays it (deadLetters.ts).
 *
 * Orphan statuses (a status for a message we have no row for): retried on the same schedule,
 * because the usual cause is a race — the status arrived before our send recorded the provider
 * id. Cloud statuses carry our message id as callback data, so they find the row even then; a
 * status still unmatched after ~6 minutes is dead-lettered as "orphan status: …", kept and
 * replayable, never silently applied to nothing.
 */
import { internal } from "../../_generated/api";
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx } from "../../_generated/server";
import { QUALITY_UPDATE, CATEGORY_UPDATE } from "./cloudWebhook";
import { resolveContact, upsertContact, upsertConversation } from "./contacts";
import {
  MARKETING_MESSAGES,
  type InboundMessageEvent,
  type QualityEvent,
  type SessionStatusEvent,
  type StatusEvent,
  type TemplateStatusEvent,
  type UserPreferenceEvent,
  type WhatsAppEvent,
  type WhatsAppParty,
} from "./events";
import { routeEvent, unroutedReason } from "./ingest";
import { PermanentEventError } from "./payload";
import { settlementPatch } from "../billing/settlement";
import { afterInbound } from "../assistant/turns";
import { consentChangedAfter, recordConsent } from "../contactConsent";
import { onInbound } from "../conversations";
import { inboundFrom, messageChanged } from "../campaigns/progress";
import { wakeCampaigns } from "../campaigns/dispatch";
import { applyStatus } from "./status";
import * as Templates from "../templates";

export { PermanentEventError };

export const MAX_ATTEMPTS = 6;
const BACKOFF_BASE_MS = 1_000;
const BACKOFF_CAP_MS = 10 * 60_000;

/** Delay before the next try after `failures` failed attempts: 1 s × 4^(failures-1), capped. */
export function backoffMs(failures: number): number {
  return Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 4 ** Math.max(0, failures - 1));
}

/** Its message starts "orphan status: " (errors cross the sub-transaction as text only). */
export class OrphanStatusError extends Error {
  constructor(message: string) {
    super(`orphan status: ${message}`);
    this.name = "OrphanStatusError";
  }
}

export class UnroutedEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnroutedEventError";
  }
}

/** Applies one event and marks it done. Throws (and its writes roll back) when it cannot. */
export async function apply(ctx: MutationCtx, eventId: Id<"webhookEvents">): Promise<void> {
  const row = await ctx.db.get("webhookEvents", eventId);
  if (!row || row.state === "done") return;
  const event = row.event;
  const channel = await channelOf(ctx, row, event);
  switch (event.kind) {
    case "message":
      await applyMessage(ctx, channel, event);
      break;
    case "status":
      await applyStatusEvent(ctx, channel, event);
      break;
    case "template_status":
      await applyTemplate(ctx, channel, row, event);
      break;
    case "quality":
      await applyQuality(ctx, channel, row, event);
      break;
    case "session_status":
      await applySession(ctx, channel, row, event);
      break;
    case "user_preference":
      await applyUserPreference(ctx, channel, row, event);
      break;
    case "unhandled":
      break;
    default:
      throw new PermanentEventError(`unknown event kind ${(event as { kind?: unknown }).kind}`);
  }
  await ctx.db.patch("webhookEvents", row._id, {
    state: "done",
    processedAt: Date.now(),
    lastError: undefined,
    channelId: channel?._id ?? row.channelId,
    tenantId: channel?.tenantId ?? row.tenantId,
  });
}

const NOT_RETRIED = /^not retried \(([^)]+)\): /;

/**
 * Whether retrying can help:
 * - permanent: the event's channel is gone or no channel has its number (UnroutedEventError,
 *   "unrouted: …"); processing does not understand the event (PermanentEventError); a bug
 *   (TypeError and its kin); a value a validator or the schema refuses; a transaction limit (the
 *   same work exceeds it again). Dead-lettered at once, with the reason, to fix and replay.
 * - transient: anything else (a write conflict, a status that arrived before its message, an
 *   unavailable service): retried with backoff.
 * Errors cross the sub-transaction as text only, so `markPermanent` classifies inside it, where
 * the error's class is still known, and `recordFailure` reads the mark (or the text) outside.
 */
export function failureKind(error: unknown): { permanent: false } | { permanent: true; reason: string } {
  const name = error instanceof Error ? error.name : "";
  const text = error instanceof Error ? error.message : String(error);
  const marked = NOT_RETRIED.exec(describe(error));
  if (marked) return { permanent: true, reason: marked[1] };
  if (error instanceof UnroutedEventError || /\bunrouted: /.test(text)) {
    return { permanent: true, reason: "no channel for it" };
  }
  if (error instanceof PermanentEventError)
    return { permanent: true, reason: "the event cannot be processed" };
  if (
    error instanceof TypeError ||
    error instanceof ReferenceError ||
    error instanceof RangeError ||
    error instanceof SyntaxError ||
    /^(TypeError|ReferenceError|RangeError|SyntaxError|EvalError)$/.test(name) ||
    /^Uncaught (TypeError|ReferenceError|RangeError|SyntaxError|EvalError)\b/.test(text)
  ) {
    return { permanent: true, reason: "a bug in processing" };
  }
  if (
    /ArgumentValidationError|ReturnsValidationError|Validator error|does not match (the )?(schema|validator)|Value does not match/i.test(
      text,
    )
  ) {
    return { permanent: true, reason: "a value the schema refuses" };
  }
  if (/Too many (documents|reads|writes|bytes)|transaction (is )?too large|exceeded .*limit/i.test(text)) {
    return { permanent: true, reason: "too large for one transaction" };
  }
  return { permanent: false };
}

/** Inside `apply`'s sub-transaction: an error retrying cannot fix, re-thrown with its reason in the text. */
export function markPermanent(error: unknown): unknown {
  const kind = failureKind(error);
  if (!kind.permanent || kind.reason === "no channel for it" || NOT_RETRIED.test(describe(error)))
    return error;
  const name =
    error instanceof Error && error.name !== "Error" && kind.reason === "a bug in processing"
      ? `${error.name}: `
      : "";
  return new Error(`not retried (${kind.reason}): ${name}${describe(error)}`);
}

/** Counts a failed attempt: dead at once when retrying cannot help; else retry later, or dead after MAX_ATTEMPTS. */
export async function recordFailure(ctx: MutationCtx, eventId: Id<"webhookEvents">, error: unknown) {
  const row = await ctx.db.get("webhookEvents", eventId);
  if (!row || row.state === "done") return;
  const attempts = row.attempts + 1;
  const text = describe(error);
  const kind = failureKind(error);
  if (kind.permanent) {
    // Unrouted and marked texts already say why (the dead-letter page recognises unrouted ones).
    const lastError =
      /^unrouted: /.test(text) || NOT_RETRIED.test(text) ? text : `not retried (${kind.reason}): ${text}`;
    await ctx.db.patch("webhookEvents", row._id, { attempts, state: "dead", lastError });
    console.error(`webhook event ${row._id} (${row.dedupeKey}) is dead at once: ${lastError}`);
    return;
  }
  const lastError = text;
  if (attempts >= MAX_ATTEMPTS) {
    await ctx.db.patch("webhookEvents", row._id, { attempts, state: "dead", lastError });
    console.error(
      `webhook event ${row._id} (${row.dedupeKey}) is dead after ${attempts} attempts: ${lastError}`,
    );
    return;
  }
  await ctx.db.patch("webhookEvents", row._id, { attempts, state: "retrying", lastError });
  await ctx.scheduler.runAfter(backoffMs(attempts), internal.whatsappWebhooks.process, { eventId });
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // Sub-transaction errors arrive wrapped ("Uncaught Error: …"); keep what a person needs.
  const text = message.replace(/^Uncaught \w*: /, "").split("\n")[0] || message;
  return text.slice(0, 1000);
}

// ---------------------------------------------------------------- routing

async function channelOf(
  ctx: MutationCtx,
  row: Doc<"webhookEvents">,
  event: WhatsAppEvent,
): Promise<Doc<"channels"> | null> {
  if (event.kind === "unhandled") return row.channelId ? await ctx.db.get("channels", row.channelId) : null;
  // Events stored before their channel existed are routed again (a replayed dead letter).
  const channel = row.channelId ? await ctx.db.get("channels", row.channelId) : await routeEvent(ctx, event);
  if (!channel) {
    throw new UnroutedEventError(
      row.channelId ? `unrouted: channel ${row.channelId} no longer exists` : unroutedReason(event),
    );
  }
  return channel;
}

// ---------------------------------------------------------------- messages

/** The message with this provider id on the channel (WAHA ids are matched with or without their chat prefix). */
export async function findByProviderId(
  ctx: MutationCtx,
  channelId: Id<"channels">,
  providerMessageId: string,
): Promise<Doc<"messages"> | null> {
  const candidates = [providerMessageId];
  const waha = /^(true|false)_[^_]+_(.+)$/.exec(providerMessageId);
  if (waha) candidates.push(waha[2]);
  for (const id of candidates) {
    const found = await ctx.db
      .query("messages")
      .withIndex("by_channel_provider_id", (q) => q.eq("channelId", channelId).eq("providerMessageId", id))
      .first();
    if (found) return found;
  }
  return null;
}

async function applyMessage(ctx: MutationCtx, channel: Doc<"channels"> | null, event: InboundMessageEvent) {
  if (!channel) throw new UnroutedEventError(unroutedReason(event));
  if (await findByProviderId(ctx, channel._id, event.messageId)) return;
  const contactId = await upsertContact(ctx, channel.tenantId, event.from, event.timestamp, {
    inbound: true,
  });
  const conversationId = await upsertConversation(ctx, channel, contactId, event.timestamp, {
    inbound: true,
  });
  const messageId = await ctx.db.insert("messages", {
    tenantId: channel.tenantId,
    channelId: channel._id,
    conversationId,
    contactId,
    direction: "in",
    providerMessageId: event.messageId,
    type: event.type,
    text: event.text,
    content: messageContent(event),
    status: "received",
    statusAt: event.timestamp,
    providerTimestamp: event.timestamp,
    createdAt: event.timestamp,
  });
  await onInbound(ctx, conversationId);
  await inboundFrom(ctx, channel, contactId, event.timestamp);
  // Consent keywords, then the assistant's next turn (model/assistant/turns.ts).
  const payload = (event.content as { payload?: unknown } | undefined)?.payload;
  await afterInbound(ctx, {
    conversationId,
    messageId,
    text:
      event.type === "button" && typeof payload === "string" ? `${payload} ${event.text ?? ""}` : event.text,
    at: event.timestamp,
    button: event.type === "button",
  });
}

/**
 * A message row's `content`: the event's type-specific body (contact cards under `contacts`),
 * with the reply/forward `context` alongside.
 */
export function messageContent(event: InboundMessageEvent): Record<string, unknown> | undefined {
  const body = Array.isArray(event.content) ? { contacts: event.content } : event.content;
  if (!event.context) return body;
  return { ...(body ?? {}), context: event.context };
}

async function applyStatusEvent(ctx: MutationCtx, channel: Doc<"channels"> | null, event: StatusEvent) {
  if (!channel) throw new UnroutedEventError(unroutedReason(event));
  let message = await findByProviderId(ctx, channel._id, event.messageId);
  if (!message && event.callbackData) {
    // Our own message id, echoed back: finds the row even before the send recorded the wamid.
    const id = ctx.db.normalizeId("messages", event.callbackData);
    const candidate = id ? await ctx.db.get("messages", id) : null;
    if (
      candidate &&
      candidate.channelId === channel._id &&
      (!candidate.providerMessageId || candidate.providerMessageId === event.messageId)
    ) {
      message = candidate;
    }
  }
  if (!message) {
    throw new OrphanStatusError(
      `no message ${event.messageId}${event.callbackData ? ` (callback data ${event.callbackData})` : ""} on channel ${channel._id} yet`,
    );
  }
  if (message.direction === "in") return; // e.g. a WAHA ack for a message we received
  const patch = applyStatus(message, event);
  if (patch) {
    // Billing reads the pricing later, in batches (model/billing/settlement.ts): no wallet write here.
    await ctx.db.patch("messages", message._id, {
      ...patch,
      ...settlementPatch(message, patch, event.timestamp),
    });
    await messageChanged(ctx, (await ctx.db.get("messages", message._id))!);
  }
  if (event.status === "failed" && event.errors?.some((e) => e.code === ERROR_MARKETING_STOPPED)) {
    await optOutAfterError(ctx, channel, message, event);
  }
}

/** Meta's error for a marketing message to a person who stopped marketing messages from the business. */
const ERROR_MARKETING_STOPPED = 131050;

/**
 * A failed status with error 131050: WhatsApp says the person had stopped marketing messages
 * when the message was sent, so it counts as their opt-out (source "error_131050"), at the
 * status's time. The send pipeline does the same when the send itself answers 131050
 * (model/outbound.ts). A failure reported after the person's consent changed again, or after a
 * later marketing preference of theirs was applied, changes nothing.
 */
async function optOutAfterError(
  ctx: MutationCtx,
  channel: Doc<"channels">,
  message: Doc<"messages">,
  event: StatusEvent,
) {
  const contact = await resolveContact(ctx, message.contactId);
  if (!contact || contact.tenantId !== channel.tenantId) return;
  if (await consentChangedAfter(ctx, contact._id, event.timestamp)) return;
  if (await preferenceAppliedAfter(ctx, channel._id, event.recipient, event.timestamp)) return;
  await recordConsent(ctx, {
    tenantId: channel.tenantId,
    contactId: contact._id,
    kind: "opt_out",
    source: "error_131050",
    scope: "marketing",
    messageId: message._id,
    at: event.timestamp,
  });
}

// ---------------------------------------------------------------- user preferences

/**
 * WhatsApp's own marketing stop/resume: an opt-out or opt-in (source "user_preferences") of the
 * contact with that wa_id in the channel's tenant, created when new, at the event's time. Other
 * categories are stored and not acted on. Events arrive unordered, so an older one changes
 * nothing once a newer preference of the same person was applied on this channel, or once the
 * contact's consent changed after it (a keyword, a button, an agent).
 */
async function applyUserPreference(
  ctx: MutationCtx,
  channel: Doc<"channels"> | null,
  row: Doc<"webhookEvents">,
  event: UserPreferenceEvent,
) {
  if (!channel) throw new UnroutedEventError(unroutedReason(event));
  if (event.category !== MARKETING_MESSAGES) return;
  const sameChoice = (other: WhatsAppEvent) =>
    other.kind === "user_preference" &&
    other.category === event.category &&
    samePerson(other.from, event.from);
  if (await superseded(ctx, channel._id, row, event.timestamp, sameChoice)) return;
  const contactId = await upsertContact(ctx, channel.tenantId, event.from, event.timestamp, {
    inbound: false,
  });
  if (await consentChangedAfter(ctx, contactId, event.timestamp)) return;
  await recordConsent(ctx, {
    tenantId: channel.tenantId,
    contactId,
    kind: event.value === "stop" ? "opt_out" : "opt_in",
    source: "user_preferences",
    scope: "marketing",
    text: event.detail,
    at: event.timestamp,
  });
}

/** The same person by wa_id or by business-scoped user id (a webhook may carry either or both). */
function samePerson(a: WhatsAppParty, b: WhatsAppParty): boolean {
  return (!!a.waId && a.waId === b.waId) || (!!a.bsuid && a.bsuid === b.bsuid);
}

/**
 * True when a marketing preference of this person (by wa_id or BSUID), newer than `timestamp`,
 * was already applied on the channel (among its latest 500 preference events).
 */
async function preferenceAppliedAfter(
  ctx: MutationCtx,
  channelId: Id<"channels">,
  person: WhatsAppParty,
  timestamp: number,
): Promise<boolean> {
  if (!person.waId && !person.bsuid) return false;
  const events = await ctx.db
    .query("webhookEvents")
    .withIndex("by_channel_kind_received", (q) => q.eq("channelId", channelId).eq("kind", "user_preference"))
    .order("desc")
    .take(500);
  return events.some(
    (row) =>
      row.state === "done" &&
      row.event.kind === "user_preference" &&
      row.event.category === MARKETING_MESSAGES &&
      samePerson(row.event.from, person) &&
      row.event.timestamp > timestamp,
  );
}

// ---------------------------------------------------------------- account-level events

/**
 * True when a later event about the same thing has already been applied: then this one is
 * stale and changes nothing. Ties on time go to the larger dedupe key, so the outcome does not
 * depend on the order events are processed in.
 */
async function superseded(
  ctx: MutationCtx,
  channelId: Id<"channels">,
  row: Doc<"webhookEvents">,
  timestamp: number,
  sameSubject: (other: WhatsAppEvent) => boolean,
): Promise<boolean> {
  const others = await ctx.db
    .query("webhookEvents")
    .withIndex("by_channel_kind_received", (q) => q.eq("channelId", channelId).eq("kind", row.kind))
    .order("desc")
    .take(500);
  return others.some((other) => {
    if (other._id === row._id || other.state !== "done") return false;
    const event = other.event;
    if (!sameSubject(event) || !("timestamp" in event)) return false;
    return event.timestamp > timestamp || (event.timestamp === timestamp && other.dedupeKey > row.dedupeKey);
  });
}

/**
 * Upserts the template by Meta's id. Status (with its reason) and category are separate facts
 * with separate clocks: each is taken from the latest event that carries it, so an older event
 * arriving late changes neither, and a category from an older status event is not lost when
 * a newer event without one came first.
 */
async function applyTemplate(
  ctx: MutationCtx,
  channel: Doc<"channels"> | null,
  row: Doc<"webhookEvents">,
  event: TemplateStatusEvent,
) {
  if (!channel) throw new UnroutedEventError(unroutedReason(event));
  const sameTemplate = (other: WhatsAppEvent): other is TemplateStatusEvent =>
    other.kind === "template_status" && other.templateId === event.templateId;
  const carriesStatus = event.event !== CATEGORY_UPDATE && event.event !== QUALITY_UPDATE;
  const applyStatusFields =
    carriesStatus &&
    !(await superseded(
      ctx,
      channel._id,
      row,
      event.timestamp,
      (o) => sameTemplate(o) && o.event !== CATEGORY_UPDATE && o.event !== QUALITY_UPDATE,
    ));
  const applyCategory =
    !!event.category &&
    !(await superseded(ctx, channel._id, row, event.timestamp, (o) => sameTemplate(o) && !!o.category));
  const applyNotice =
    !!event.correctCategory &&
    !(await superseded(
      ctx,
      channel._id,
      row,
      event.timestamp,
      (o) => sameTemplate(o) && o.event === CATEGORY_UPDATE,
    ));
  const applyQuality =
    !!event.qualityScore &&
    !(await superseded(ctx, channel._id, row, event.timestamp, (o) => sameTemplate(o) && !!o.qualityScore));

  let rows = await ctx.db
    .query("templates")
    .withIndex("by_provider_template_id", (q) => q.eq("providerTemplateId", event.templateId))
    .take(100);
  rows = rows.filter((t) => t.tenantId === channel.tenantId);
  if (rows.length === 0) {
    // Meta templates belong to the WABA: every channel of it sees the template.
    const channels = (
      await ctx.db
        .query("channels")
        .withIndex("by_waba_id", (q) => q.eq("wabaId", event.wabaId))
        .take(100)
    ).filter((c) => c.tenantId === channel.tenantId);
    for (const c of channels.length ? channels : [channel]) {
      const existing = await ctx.db
        .query("templates")
        .withIndex("by_channel_name_language", (q) =>
          q.eq("channelId", c._id).eq("name", event.name).eq("language", event.language),
        )
        .first();
      if (existing) {
        await ctx.db.patch("templates", existing._id, { providerTemplateId: event.templateId });
        rows.push({ ...existing, providerTemplateId: event.templateId });
      } else {
        const id = await ctx.db.insert("templates", {
          tenantId: c.tenantId,
          channelId: c._id,
          name: event.name,
          language: event.language,
          // Filled in below when this event is the latest of its kind; a row first seen through
          // a category change has no known status yet (polling asks Meta for it).
          status: "UNKNOWN",
          providerTemplateId: event.templateId,
          updatedAt: Date.now(),
          pollAt: Date.now(),
        });
        rows.push((await ctx.db.get("templates", id))!);
      }
    }
  }
  for (const template of rows) {
    // A poll read Meta's state after this event happened: the event is old news.
    const stale = template.polledAt !== undefined && event.timestamp < template.polledAt;
    const state: Templates.ProviderState = {};
    if (applyStatusFields && !stale) {
      state.status = event.event;
      state.reason = event.reason;
      state.recommendation = event.recommendation ?? event.title;
    }
    if (applyCategory && !stale) {
      state.category = event.category;
      state.previousCategory = event.previousCategory;
    }
    if (applyNotice && !stale) {
      state.correctCategory = event.correctCategory;
      state.effectiveAt = event.effectiveAt;
    }
    if (applyQuality) state.qualityScore = event.qualityScore;
    await Templates.applyProviderState(ctx, template, state);
  }
}

const QUALITY_EVENTS = new Set(["FLAGGED", "UNFLAGGED"]);

/**
 * `qualityRating` keeps the latest quality event (FLAGGED: the number's quality is low;
 * UNFLAGGED: it recovered); `messagingTier` the latest tier any event carried (UPGRADE,
 * DOWNGRADE, ONBOARDING… carry one).
 */
async function applyQuality(
  ctx: MutationCtx,
  channel: Doc<"channels"> | null,
  row: Doc<"webhookEvents">,
  event: QualityEvent,
) {
  if (!channel) throw new UnroutedEventError(unroutedReason(event));
  const patch: Partial<Doc<"channels">> = {};
  const isQuality = (e: WhatsAppEvent) => e.kind === "quality" && QUALITY_EVENTS.has(e.event);
  const hasTier = (e: WhatsAppEvent) => e.kind === "quality" && !!e.tier;
  if (isQuality(event) && !(await superseded(ctx, channel._id, row, event.timestamp, isQuality))) {
    patch.qualityRating = event.event;
  }
  if (event.tier && !(await superseded(ctx, channel._id, row, event.timestamp, hasTier)))
    patch.messagingTier = event.tier;
  if (Object.keys(patch).length) {
    await ctx.db.patch("channels", channel._id, patch);
    // Running campaigns show the new quality, and a higher tier may let waiting recipients go.
    await wakeCampaigns(ctx, channel._id);
  }
}

async function applySession(
  ctx: MutationCtx,
  channel: Doc<"channels"> | null,
  row: Doc<"webhookEvents">,
  event: SessionStatusEvent,
) {
  if (!channel) throw new UnroutedEventError(unroutedReason(event));
  if (await superseded(ctx, channel._id, row, event.timestamp, (e) => e.kind === "session_status")) return;
  if (channel.wahaStatus !== event.status)
    await ctx.db.patch("channels", channel._id, { wahaStatus: event.status });
}
