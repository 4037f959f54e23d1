/**
 * Meta Cloud API webhook envelope → internal events (events.ts), each with its dedupe key.
 * Pure: no ctx, no clock except the `now` passed in for events that carry no time of their own.
 *
 * Strict about the envelope (object, entry[], changes[], metadata.phone_number_id, the id,
 * sender, time and type of each message and status): a body that breaks it is refused with
 * MalformedPayloadError (400) and nothing is stored. Lenient inside message bodies, so a message
 * of a type Meta adds later is kept (as "unsupported") rather than refusing the whole batch.
 *
 * People are named by phone (`wa_id`, `from`, `recipient_id`) and, since 2026, by a business-
 * scoped user id (`user_id` in `contacts`, `from_user_id`, `recipient_user_id`), either or both:
 * a person who chose a username may come with the BSUID alone (shared/bsuid.ts). Each event's
 * party carries whichever it has; the contact's aliases link them (contacts.ts).
 */
import type {
  InboundMessageEvent,
  InboundMessageType,
  KeyedEvent,
  StatusEvent,
  UnhandledEvent,
  UserPreferenceEvent,
  WhatsAppParty,
} from "./events";
import {
  array,
  compact,
  convexSafe,
  digits,
  e164,
  isObject,
  MalformedPayloadError,
  number,
  object,
  optionalArray,
  optionalBoolean,
  optionalNumber,
  optionalString,
  rawForStorage,
  secondsToMs,
  stableHash,
  string,
  type JsonObject,
} from "./payload";
import { cloudStatus } from "./status";

export const CLOUD_OBJECT = "whatsapp_business_account";

const MEDIA_TYPES = new Set(["image", "video", "audio", "document", "sticker"]);

/** The keys of a `messages` change value we interpret; any other key is kept as "unhandled". */
const KNOWN_MESSAGES_KEYS = new Set([
  "messaging_product",
  "metadata",
  "contacts",
  "messages",
  "statuses",
  "errors",
]);

type Entry = { id: string; time?: number; where: string };

export function normaliseCloudWebhook(body: unknown, now: number = Date.now()): KeyedEvent[] {
  const envelope = object(body, "The body");
  if (envelope.object !== CLOUD_OBJECT) {
    throw new MalformedPayloadError(`"object" must be "${CLOUD_OBJECT}"`);
  }
  const out: KeyedEvent[] = [];
  array(envelope.entry, "entry").forEach((rawEntry, e) => {
    const where = `entry[${e}]`;
    const entryObject = object(rawEntry, where);
    const entry: Entry = {
      id: string(entryObject.id, `${where}.id`),
      time: optionalNumber(entryObject.time),
      where,
    };
    array(entryObject.changes, `${where}.changes`).forEach((rawChange, c) => {
      const at = `${where}.changes[${c}]`;
      const change = object(rawChange, at);
      const field = string(change.field, `${at}.field`);
      switch (field) {
        case "messages":
          out.push(...messagesChange(entry, object(change.value, `${at}.value`), `${at}.value`, now));
          break;
        case "message_template_status_update":
          out.push(templateStatus(entry, object(change.value, `${at}.value`), `${at}.value`, now));
          break;
        case "template_category_update":
          out.push(templateCategory(entry, object(change.value, `${at}.value`), `${at}.value`, now));
          break;
        case "message_template_quality_update":
          out.push(templateQuality(entry, object(change.value, `${at}.value`), `${at}.value`, now));
          break;
        case "phone_number_quality_update":
          out.push(quality(entry, object(change.value, `${at}.value`), `${at}.value`, now));
          break;
        case "user_preferences":
          out.push(...userPreferences(entry, object(change.value, `${at}.value`), `${at}.value`, now));
          break;
        default:
          out.push(unhandled(entry, field, change.value, now));
      }
    });
  });
  return out;
}

// ---------------------------------------------------------------- messages and statuses

/** The business number a change is about (`metadata.phone_number_id`). */
function phoneNumberIdOf(value: JsonObject, where: string): string {
  const metadata = object(value.metadata, `${where}.metadata`);
  return string(metadata.phone_number_id, `${where}.metadata.phone_number_id`);
}

/** A person in a change's `contacts`: their wa_id and/or business-scoped user id, and name. */
type ContactCard = { waId?: string; bsuid?: string; name?: string };

/** A change's `contacts`, findable by wa_id and by business-scoped user id. */
class Contacts {
  private readonly byKey = new Map<string, ContactCard>();
  readonly cards: ContactCard[] = [];
  constructor(value: JsonObject, where: string) {
    optionalArray(value.contacts, `${where}.contacts`).forEach((c) => {
      if (!isObject(c)) return;
      const profile = isObject(c.profile) ? c.profile : {};
      const card = compact({
        waId: optionalString(c.wa_id) || undefined,
        bsuid: optionalString(c.user_id) || undefined,
        // A person known only by a username shows it where a profile name would be.
        name: optionalString(profile.name) || optionalString(profile.username) || undefined,
      });
      if (!card.waId && !card.bsuid) return;
      this.cards.push(card);
      if (card.waId) this.byKey.set(`wa:${card.waId}`, card);
      if (card.bsuid) this.byKey.set(`bs:${card.bsuid}`, card);
    });
  }
  /**
   * The card of the person with this wa_id or BSUID; with `sender`, else the only card (a
   * message's sender, whose wa_id may be written differently from `from`, as for Brazil).
   */
  find(waId: string | undefined, bsuid: string | undefined, sender: boolean): ContactCard | undefined {
    return (
      (waId ? this.byKey.get(`wa:${waId}`) : undefined) ??
      (bsuid ? this.byKey.get(`bs:${bsuid}`) : undefined) ??
      (sender && this.cards.length === 1 ? this.cards[0] : undefined)
    );
  }
}

/**
 * The party named by a phone-or-wa_id field and a BSUID field (either may be missing, not both),
 * completed from the change's `contacts`. `where` names the two fields for the error.
 */
function partyOf(
  contacts: Contacts,
  phoneField: unknown,
  bsuidField: unknown,
  where: string,
  options: { sender?: boolean } = {},
): WhatsAppParty {
  let waId = optionalString(phoneField) || undefined;
  let bsuid = optionalString(bsuidField) || undefined;
  if (!waId && !bsuid) throw new MalformedPayloadError(`${where} is missing`);
  // The person's card, unless it names another BSUID.
  const found = contacts.find(waId, bsuid, options.sender ?? false);
  const card = found && !(bsuid && found.bsuid && found.bsuid !== bsuid) ? found : undefined;
  waId ??= card?.waId;
  bsuid ??= card?.bsuid;
  return compact({ waId, phone: waId ? e164(waId) : undefined, bsuid, name: card?.name });
}

function messagesChange(entry: Entry, value: JsonObject, where: string, now: number): KeyedEvent[] {
  const phoneNumberId = phoneNumberIdOf(value, where);
  const contacts = new Contacts(value, where);
  const out: KeyedEvent[] = [];
  optionalArray(value.messages, `${where}.messages`).forEach((m, i) => {
    out.push(
      message(object(m, `${where}.messages[${i}]`), `${where}.messages[${i}]`, phoneNumberId, contacts),
    );
  });
  optionalArray(value.statuses, `${where}.statuses`).forEach((s, i) => {
    out.push(
      status(
        object(s, `${where}.statuses[${i}]`),
        `${where}.statuses[${i}]`,
        phoneNumberId,
        contacts,
        entry,
        now,
      ),
    );
  });
  const errors = optionalArray(value.errors, `${where}.errors`);
  if (errors.length > 0) out.push(unhandled(entry, "messages.errors", errors, now, phoneNumberId));
  for (const key of Object.keys(value)) {
    if (!KNOWN_MESSAGES_KEYS.has(key)) {
      out.push(unhandled(entry, `messages.${key}`, value[key], now, phoneNumberId));
    }
  }
  return out;
}

function message(m: JsonObject, where: string, phoneNumberId: string, contacts: Contacts): KeyedEvent {
  const messageId = string(m.id, `${where}.id`);
  const party = partyOf(contacts, m.from, m.from_user_id, `${where}.from (or from_user_id)`, {
    sender: true,
  });
  const timestamp = secondsToMs(m.timestamp, `${where}.timestamp`);
  const providerType = string(m.type, `${where}.type`);
  const body = messageBody(m, providerType, where);
  const event: InboundMessageEvent = compact({
    kind: "message" as const,
    provider: "cloud" as const,
    phoneNumberId,
    messageId,
    from: party,
    timestamp,
    type: body.type,
    text: body.text,
    content: body.content,
    context: messageContext(m.context),
  });
  return { dedupeKey: `cloud:msg:${messageId}`, event };
}

type Body = { type: InboundMessageType; text?: string; content?: Record<string, unknown> | unknown[] };

function messageBody(m: JsonObject, type: string, where: string): Body {
  const withReferral = (body: Body): Body =>
    isObject(m.referral) && !Array.isArray(body.content)
      ? { ...body, content: { ...(body.content ?? {}), referral: convexSafe(m.referral) } }
      : body;
  if (type === "text") {
    const text = isObject(m.text) ? optionalString(m.text.body) : undefined;
    return withReferral({ type: "text", text: text ?? "" });
  }
  if (MEDIA_TYPES.has(type)) {
    const media = object(m[type], `${where}.${type}`);
    const caption = optionalString(media.caption);
    return withReferral({
      type: type as InboundMessageType,
      text: caption,
      content: compact({
        id: optionalString(media.id),
        url: optionalString(media.url),
        mimeType: optionalString(media.mime_type),
        sha256: optionalString(media.sha256),
        caption,
        filename: optionalString(media.filename),
        voice: optionalBoolean(media.voice),
        animated: optionalBoolean(media.animated),
      }),
    });
  }
  if (type === "location") {
    const location = object(m.location, `${where}.location`);
    return {
      type: "location",
      content: compact({
        latitude: number(location.latitude, `${where}.location.latitude`),
        longitude: number(location.longitude, `${where}.location.longitude`),
        name: optionalString(location.name),
        address: optionalString(location.address),
        url: optionalString(location.url),
      }),
    };
  }
  if (type === "contacts") {
    const cards = array(m.contacts, `${where}.contacts`);
    const first = cards.find(isObject);
    const name = first && isObject(first.name) ? optionalString(first.name.formatted_name) : undefined;
    return { type: "contacts", text: name, content: (convexSafe(cards) as unknown[]) ?? [] };
  }
  if (type === "interactive") {
    const interactive = object(m.interactive, `${where}.interactive`);
    const kind = string(interactive.type, `${where}.interactive.type`);
    const reply = isObject(interactive[kind]) ? (interactive[kind] as JsonObject) : {};
    if (kind === "button_reply" || kind === "list_reply") {
      const title = optionalString(reply.title);
      return {
        type: "interactive",
        text: title,
        content: compact({
          kind,
          id: string(reply.id, `${where}.interactive.${kind}.id`),
          title,
          description: optionalString(reply.description),
        }),
      };
    }
    // Flows (nfm_reply) and whatever Meta adds: kept whole.
    return {
      type: "interactive",
      text: optionalString(reply.body) ?? optionalString(reply.title),
      content: { kind, ...((convexSafe(reply) as Record<string, unknown>) ?? {}) },
    };
  }
  if (type === "button") {
    const button = object(m.button, `${where}.button`);
    const text = optionalString(button.text);
    return { type: "button", text, content: compact({ payload: optionalString(button.payload), text }) };
  }
  if (type === "reaction") {
    const reaction = object(m.reaction, `${where}.reaction`);
    const emoji = optionalString(reaction.emoji) || undefined;
    return {
      type: "reaction",
      text: emoji,
      content: compact({
        messageId: string(reaction.message_id, `${where}.reaction.message_id`),
        emoji,
        removed: emoji === undefined,
      }),
    };
  }
  // "unsupported" (and the older "unknown"), and any type not listed above (order, system, …):
  // kept, with Meta's errors and the original body.
  const unsupported = isObject(m.unsupported) ? m.unsupported : undefined;
  const errors = statusErrors(m.errors ?? unsupported?.errors);
  return {
    type: "unsupported",
    content: compact({
      providerType:
        type === "unsupported" || type === "unknown" ? (optionalString(unsupported?.type) ?? type) : type,
      errors: errors.length ? errors : undefined,
      body: type === "unsupported" || type === "unknown" ? undefined : (convexSafe(m[type]) ?? undefined),
    }),
  };
}

function messageContext(value: unknown): InboundMessageEvent["context"] {
  if (!isObject(value)) return undefined;
  const context = compact({
    messageId: optionalString(value.id),
    from: optionalString(value.from),
    forwarded: optionalBoolean(value.forwarded),
    frequentlyForwarded: optionalBoolean(value.frequently_forwarded),
  });
  return Object.keys(context).length ? context : undefined;
}

function status(
  s: JsonObject,
  where: string,
  phoneNumberId: string,
  contacts: Contacts,
  entry: Entry,
  now: number,
): KeyedEvent {
  const messageId = string(s.id, `${where}.id`);
  const raw = string(s.status, `${where}.status`);
  const timestamp = secondsToMs(s.timestamp, `${where}.timestamp`);
  const recipient = partyOf(
    contacts,
    s.recipient_id,
    s.recipient_user_id,
    `${where}.recipient_id (or recipient_user_id)`,
  );
  const mapped = cloudStatus(raw);
  if (!mapped) {
    // A status Meta added after this was written (e.g. "deleted"): kept, not interpreted.
    return {
      dedupeKey: `cloud:status:${messageId}:${raw}`,
      event: unhandledEvent(entry, "messages.statuses", s, now, phoneNumberId),
    };
  }
  const pricing = isObject(s.pricing)
    ? compact({
        billable: optionalBoolean(s.pricing.billable),
        model: optionalString(s.pricing.pricing_model),
        type: optionalString(s.pricing.type),
        category: optionalString(s.pricing.category),
      })
    : undefined;
  const conversation = isObject(s.conversation)
    ? compact({
        id: optionalString(s.conversation.id),
        expiresAt:
          optionalNumber(s.conversation.expiration_timestamp) !== undefined
            ? secondsToMs(s.conversation.expiration_timestamp, `${where}.conversation.expiration_timestamp`)
            : undefined,
        originType: isObject(s.conversation.origin) ? optionalString(s.conversation.origin.type) : undefined,
      })
    : undefined;
  const errors = statusErrors(s.errors);
  const event: StatusEvent = compact({
    kind: "status" as const,
    provider: "cloud" as const,
    phoneNumberId,
    messageId,
    status: mapped,
    timestamp,
    recipient: compact({ waId: recipient.waId, phone: recipient.phone, bsuid: recipient.bsuid }),
    callbackData: optionalString(s.biz_opaque_callback_data) || undefined,
    pricing,
    conversation,
    errors: errors.length ? errors : undefined,
  });
  return { dedupeKey: `cloud:status:${messageId}:${mapped}`, event };
}

function statusErrors(value: unknown): NonNullable<StatusEvent["errors"]> {
  if (!Array.isArray(value)) return [];
  return value.filter(isObject).map((e) =>
    compact({
      code: optionalNumber(e.code) ?? 0,
      title: optionalString(e.title),
      message: optionalString(e.message),
      details: isObject(e.error_data) ? optionalString(e.error_data.details) : optionalString(e.details),
    }),
  );
}

// ---------------------------------------------------------------- user preferences

/**
 * `user_preferences`: users who stopped or resumed marketing messages from the number. Each is
 * keyed by user, category, value and time, so a redelivery dedupes and a later change does not.
 * A value other than stop/resume is kept as unhandled.
 */
function userPreferences(entry: Entry, value: JsonObject, where: string, now: number): KeyedEvent[] {
  const phoneNumberId = phoneNumberIdOf(value, where);
  const contacts = new Contacts(value, where);
  return array(value.user_preferences, `${where}.user_preferences`).map((raw, i) => {
    const at = `${where}.user_preferences[${i}]`;
    const preference = object(raw, at);
    const from = partyOf(contacts, preference.wa_id, preference.user_id, `${at}.wa_id (or user_id)`);
    const who = from.waId ?? from.bsuid!;
    const category = string(preference.category, `${at}.category`);
    const choice = string(preference.value, `${at}.value`).toLowerCase();
    const timestamp = secondsToMs(preference.timestamp, `${at}.timestamp`);
    const dedupeKey = `cloud:pref:${who}:${category}:${choice}:${timestamp}`;
    if (choice !== "stop" && choice !== "resume") {
      return {
        dedupeKey,
        event: unhandledEvent(entry, "user_preferences", preference, now, phoneNumberId),
      };
    }
    const event: UserPreferenceEvent = compact({
      kind: "user_preference" as const,
      provider: "cloud" as const,
      phoneNumberId,
      from,
      category,
      value: choice,
      detail: optionalString(preference.detail) || undefined,
      timestamp,
    });
    return { dedupeKey, event };
  });
}

// ---------------------------------------------------------------- account-level changes

function entryTime(entry: Entry, now: number): { timestamp: number; key: string } {
  return entry.time === undefined
    ? { timestamp: now, key: "notime" }
    : { timestamp: Math.round(entry.time < 1e11 ? entry.time * 1000 : entry.time), key: String(entry.time) };
}

/** A template event: the template's identity from `value`, keyed once per event and time. */
function templateEvent(
  entry: Entry,
  value: JsonObject,
  where: string,
  now: number,
  fields: {
    event: string;
    category?: string;
    reason?: string;
    recommendation?: string;
    title?: string;
    correctCategory?: string;
    effectiveAt?: number;
    previousCategory?: string;
    qualityScore?: string;
  },
): KeyedEvent {
  const templateId = string(value.message_template_id, `${where}.message_template_id`);
  const time = entryTime(entry, now);
  return {
    dedupeKey: `cloud:tpl:${templateId}:${fields.event}:${time.key === "notime" ? stableHash(JSON.stringify(value)) : time.key}`,
    event: compact({
      kind: "template_status" as const,
      provider: "cloud" as const,
      wabaId: entry.id,
      templateId,
      name: string(value.message_template_name, `${where}.message_template_name`),
      language: string(value.message_template_language, `${where}.message_template_language`),
      ...fields,
      timestamp: time.timestamp,
    }),
  };
}

function templateStatus(entry: Entry, value: JsonObject, where: string, now: number): KeyedEvent {
  const rejection = isObject(value.rejection_info) ? value.rejection_info : undefined;
  const other = isObject(value.other_info) ? value.other_info : undefined;
  return templateEvent(entry, value, where, now, {
    event: string(value.event, `${where}.event`),
    reason: optionalString(value.reason) ?? optionalString(rejection?.reason) ?? undefined,
    recommendation: optionalString(rejection?.recommendation),
    title: optionalString(other?.title),
    category: optionalString(value.message_template_category),
  });
}

/**
 * `template_category_update`: Meta re-categorises a template; a template event that changes only
 * the category. The advance notice carries `correct_category` (where it is going, ≈ 24 h later at
 * `category_update_timestamp`) with `new_category` = the current one; the change itself carries
 * `previous_category` and `new_category`.
 */
function templateCategory(entry: Entry, value: JsonObject, where: string, now: number): KeyedEvent {
  const effective = optionalNumber(value.category_update_timestamp);
  return templateEvent(entry, value, where, now, {
    event: CATEGORY_UPDATE,
    category: optionalString(value.new_category),
    correctCategory: optionalString(value.correct_category),
    effectiveAt:
      effective === undefined ? undefined : Math.round(effective < 1e11 ? effective * 1000 : effective),
    previousCategory: optionalString(value.previous_category),
  });
}

/** `message_template_quality_update`: the template's quality score changed. */
function templateQuality(entry: Entry, value: JsonObject, where: string, now: number): KeyedEvent {
  return templateEvent(entry, value, where, now, {
    event: QUALITY_UPDATE,
    qualityScore: optionalString(value.new_quality_score),
  });
}

/** The template event name used for `template_category_update` (status stays as it was). */
export const CATEGORY_UPDATE = "CATEGORY_UPDATE";
/** The template event name used for `message_template_quality_update` (status stays as it was). */
export const QUALITY_UPDATE = "QUALITY_UPDATE";

function quality(entry: Entry, value: JsonObject, where: string, now: number): KeyedEvent {
  const displayNumber = string(value.display_phone_number, `${where}.display_phone_number`);
  const event = string(value.event, `${where}.event`);
  const time = entryTime(entry, now);
  const tier =
    optionalString(value.max_daily_conversations_per_business) ?? optionalString(value.current_limit);
  return {
    dedupeKey: `cloud:quality:${digits(displayNumber) || displayNumber}:${event}:${time.key === "notime" ? stableHash(JSON.stringify(value)) : time.key}`,
    event: compact({
      kind: "quality" as const,
      provider: "cloud" as const,
      wabaId: entry.id,
      displayNumber,
      event,
      tier,
      timestamp: time.timestamp,
    }),
  };
}

// ---------------------------------------------------------------- everything else

function unhandledEvent(entry: Entry, field: string, value: unknown, now: number, phoneNumberId?: string) {
  const event: UnhandledEvent = compact({
    kind: "unhandled" as const,
    provider: "cloud" as const,
    phoneNumberId,
    field,
    timestamp: entryTime(entry, now).timestamp,
    raw: rawForStorage(value),
  });
  return event;
}

function unhandled(
  entry: Entry,
  field: string,
  value: unknown,
  now: number,
  phoneNumberId?: string,
): KeyedEvent {
  return {
    dedupeKey: `cloud:unhandled:${entry.id}:${field}:${stableHash(JSON.stringify(value) ?? "")}`,
    event: unhandledEvent(entry, field, value, now, phoneNumberId),
  };
}
