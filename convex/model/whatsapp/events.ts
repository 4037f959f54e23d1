/**
 * The one internal shape every WhatsApp webhook becomes, whichever provider sent it (Meta's
 * Cloud API or WAHA). Ingress normalises into these; processing only ever sees these.
 */
import { v, type Infer } from "convex/values";

// The validators are the definition; the types are inferred from them. The schema
// (webhookEvents.event) and the internal mutation that stores events validate with them.

const vProvider = v.union(v.literal("cloud"), v.literal("waha"));

/** Who wrote or received a message; whichever identifiers the provider gave. */
export const vWhatsAppParty = v.object({
  /** Cloud API's wa_id (digits). */
  waId: v.optional(v.string()),
  /** E.164 with "+", when the identifier is a phone number. */
  phone: v.optional(v.string()),
  /** WAHA chat id, e.g. "34600111222@c.us". */
  chatId: v.optional(v.string()),
  /** WhatsApp's privacy id, e.g. "123456789@lid". */
  lid: v.optional(v.string()),
  /**
   * Cloud API business-scoped user id (`user_id`, e.g. "US.13491208655302741918"): since 2026 it
   * comes with every message and status, and alone when the person hides their number.
   */
  bsuid: v.optional(v.string()),
  /** Profile name, when given. */
  name: v.optional(v.string()),
});
export type WhatsAppParty = Infer<typeof vWhatsAppParty>;

export const vInboundMessageType = v.union(
  v.literal("text"),
  v.literal("image"),
  v.literal("video"),
  v.literal("audio"),
  v.literal("document"),
  v.literal("sticker"),
  v.literal("location"),
  v.literal("contacts"),
  v.literal("interactive"),
  v.literal("button"),
  v.literal("reaction"),
  v.literal("unsupported"),
);
export type InboundMessageType = Infer<typeof vInboundMessageType>;

export const vInboundMessageEvent = v.object({
  kind: v.literal("message"),
  provider: vProvider,
  /** Routing: Cloud API phone_number_id or WAHA session. */
  phoneNumberId: v.optional(v.string()),
  session: v.optional(v.string()),
  messageId: v.string(),
  from: vWhatsAppParty,
  /** Milliseconds since epoch (providers send seconds or ms; normalised here). */
  timestamp: v.number(),
  type: vInboundMessageType,
  text: v.optional(v.string()),
  /** Type-specific body: media {id?, url?, mimeType, sha256?, caption?, filename?, voice?},
   * location {latitude, longitude, name?, address?}, contacts [...], interactive {kind, id, title,
   * description?}, button {payload, text}, reaction {messageId, emoji?}, unsupported {errors}. */
  content: v.optional(v.union(v.record(v.string(), v.any()), v.array(v.any()))),
  /** Reply to / forward markers. */
  context: v.optional(
    v.object({
      messageId: v.optional(v.string()),
      from: v.optional(v.string()),
      forwarded: v.optional(v.boolean()),
      frequentlyForwarded: v.optional(v.boolean()),
    }),
  ),
});
export type InboundMessageEvent = Infer<typeof vInboundMessageEvent>;

export const vOutboundStatus = v.union(
  v.literal("sent"),
  v.literal("delivered"),
  v.literal("read"),
  v.literal("failed"),
);
export type OutboundStatus = Infer<typeof vOutboundStatus>;

export const vStatusEvent = v.object({
  kind: v.literal("status"),
  provider: vProvider,
  phoneNumberId: v.optional(v.string()),
  session: v.optional(v.string()),
  messageId: v.string(),
  /** "played" (voice) arrives as "read"; WAHA acks map onto these (model/whatsapp/status.ts). */
  status: vOutboundStatus,
  timestamp: v.number(),
  recipient: vWhatsAppParty,
  /** Our message id, echoed back as biz_opaque_callback_data. */
  callbackData: v.optional(v.string()),
  pricing: v.optional(
    v.object({
      billable: v.optional(v.boolean()),
      model: v.optional(v.string()),
      type: v.optional(v.string()),
      category: v.optional(v.string()),
    }),
  ),
  conversation: v.optional(
    v.object({
      id: v.optional(v.string()),
      expiresAt: v.optional(v.number()),
      originType: v.optional(v.string()),
    }),
  ),
  errors: v.optional(
    v.array(
      v.object({
        code: v.number(),
        title: v.optional(v.string()),
        message: v.optional(v.string()),
        details: v.optional(v.string()),
      }),
    ),
  ),
});
export type StatusEvent = Infer<typeof vStatusEvent>;

export const vTemplateStatusEvent = v.object({
  kind: v.literal("template_status"),
  provider: v.literal("cloud"),
  wabaId: v.string(),
  templateId: v.string(),
  name: v.string(),
  language: v.string(),
  /** APPROVED, REJECTED, PAUSED, DISABLED, FLAGGED, REINSTATED, … as Meta sends it. */
  event: v.string(),
  reason: v.optional(v.string()),
  category: v.optional(v.string()),
  /** rejection_info.recommendation: what Meta suggests changing. */
  recommendation: v.optional(v.string()),
  /** other_info.title on pauses: FIRST_PAUSE, SECOND_PAUSE, RATE_LIMITING_PAUSE, UNPAUSE. */
  title: v.optional(v.string()),
  /** template_category_update, advance notice: the category it will move to, and when (ms). */
  correctCategory: v.optional(v.string()),
  effectiveAt: v.optional(v.number()),
  /** template_category_update, done: the category it had. */
  previousCategory: v.optional(v.string()),
  /** message_template_quality_update: GREEN, YELLOW, RED, UNKNOWN. */
  qualityScore: v.optional(v.string()),
  timestamp: v.number(),
});
export type TemplateStatusEvent = Infer<typeof vTemplateStatusEvent>;

export const vQualityEvent = v.object({
  kind: v.literal("quality"),
  provider: v.literal("cloud"),
  wabaId: v.string(),
  displayNumber: v.string(),
  event: v.string(),
  /** TIER_250 … TIER_UNLIMITED. */
  tier: v.optional(v.string()),
  timestamp: v.number(),
});
export type QualityEvent = Infer<typeof vQualityEvent>;

export const vSessionStatusEvent = v.object({
  kind: v.literal("session_status"),
  provider: v.literal("waha"),
  session: v.string(),
  status: v.string(),
  timestamp: v.number(),
});
export type SessionStatusEvent = Infer<typeof vSessionStatusEvent>;

/** The marketing-messages preference category, the only one Meta reports today. */
export const MARKETING_MESSAGES = "marketing_messages";

/**
 * WhatsApp's own control: the user stopped or resumed marketing messages from one business
 * number (Cloud API `user_preferences` webhook).
 */
export const vUserPreferenceEvent = v.object({
  kind: v.literal("user_preference"),
  provider: v.literal("cloud"),
  phoneNumberId: v.string(),
  from: vWhatsAppParty,
  /** "marketing_messages"; another category is stored and not acted on. */
  category: v.string(),
  value: v.union(v.literal("stop"), v.literal("resume")),
  /** Meta's description of the change, e.g. "User requested to stop marketing messages". */
  detail: v.optional(v.string()),
  timestamp: v.number(),
});
export type UserPreferenceEvent = Infer<typeof vUserPreferenceEvent>;

/** Anything else a provider sent inside a valid, signed payload: kept, not dropped. */
export const vUnhandledEvent = v.object({
  kind: v.literal("unhandled"),
  provider: vProvider,
  phoneNumberId: v.optional(v.string()),
  session: v.optional(v.string()),
  field: v.string(),
  timestamp: v.number(),
  /** The provider's JSON as text (bounded: payload.ts rawForStorage). */
  raw: v.string(),
});
export type UnhandledEvent = Infer<typeof vUnhandledEvent>;

export const vWhatsAppEvent = v.union(
  vInboundMessageEvent,
  vStatusEvent,
  vTemplateStatusEvent,
  vQualityEvent,
  vSessionStatusEvent,
  vUserPreferenceEvent,
  vUnhandledEvent,
);
export type WhatsAppEvent = Infer<typeof vWhatsAppEvent>;

export const vKeyedEvent = v.object({ dedupeKey: v.string(), event: vWhatsAppEvent });

/** One normalised event plus the key it is stored under exactly once. */
export type KeyedEvent = { dedupeKey: string; event: WhatsAppEvent };
