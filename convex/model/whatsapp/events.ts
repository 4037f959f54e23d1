/**
 * The one internal shape every WhatsApp webhook becomes, whichever provider sent it (Meta's
 * Cloud API or WAHA). Ingress normalises into these; processing only ever sees these.
 */
import type { ChannelKind } from "../../schema";

/** Who wrote or received a message; whichever identifiers the provider gave. */
export type WhatsAppParty = {
  /** Cloud API's wa_id (digits). */
  waId?: string;
  /** E.164 with "+", when the identifier is a phone number. */
  phone?: string;
  /** WAHA chat id, e.g. "34600111222@c.us". */
  chatId?: string;
  /** WhatsApp's privacy id, e.g. "123456789@lid". */
  lid?: string;
  /** Profile name, when given. */
  name?: string;
};

export type InboundMessageType =
  | "text"
  | "image"
  | "video"
  | "audio"
  | "document"
  | "sticker"
  | "location"
  | "contacts"
  | "interactive"
  | "button"
  | "reaction"
  | "unsupported";

export type InboundMessageEvent = {
  kind: "message";
  provider: ChannelKind;
  /** Routing: Cloud API phone_number_id or WAHA session. */
  phoneNumberId?: string;
  session?: string;
  messageId: string;
  from: WhatsAppParty;
  /** Milliseconds since epoch (providers send seconds or ms; normalised here). */
  timestamp: number;
  type: InboundMessageType;
  text?: string;
  /** Type-specific body: media {id?, url?, mimeType, sha256?, caption?, filename?, voice?},
   * location {latitude, longitude, name?, address?}, contacts [...], interactive {kind, id, title,
   * description?}, button {payload, text}, reaction {messageId, emoji?}, unsupported {errors}. */
  content?: Record<string, unknown> | unknown[];
  /** Reply to / forward markers. */
  context?: { messageId?: string; from?: string; forwarded?: boolean; frequentlyForwarded?: boolean };
};

export type OutboundStatus = "sent" | "delivered" | "read" | "failed";

export type StatusEvent = {
  kind: "status";
  provider: ChannelKind;
  phoneNumberId?: string;
  session?: string;
  messageId: string;
  /** "played" (voice) arrives as "read"; WAHA acks map onto these (model/whatsapp/status.ts). */
  status: OutboundStatus;
  timestamp: number;
  recipient: WhatsAppParty;
  /** Our message id, echoed back as biz_opaque_callback_data. */
  callbackData?: string;
  pricing?: { billable?: boolean; model?: string; type?: string; category?: string };
  conversation?: { id?: string; expiresAt?: number; originType?: string };
  errors?: { code: number; title?: string; message?: string; details?: string }[];
};

export type TemplateStatusEvent = {
  kind: "template_status";
  provider: "cloud";
  wabaId: string;
  templateId: string;
  name: string;
  language: string;
  /** APPROVED, REJECTED, PAUSED, DISABLED, FLAGGED, REINSTATED, … as Meta sends it. */
  event: string;
  reason?: string;
  category?: string;
  timestamp: number;
};

export type QualityEvent = {
  kind: "quality";
  provider: "cloud";
  wabaId: string;
  displayNumber: string;
  event: string;
  /** TIER_250 … TIER_UNLIMITED. */
  tier?: string;
  timestamp: number;
};

export type SessionStatusEvent = {
  kind: "session_status";
  provider: "waha";
  session: string;
  status: string;
  timestamp: number;
};

/** Anything else a provider sent inside a valid, signed payload: kept, not dropped. */
export type UnhandledEvent = {
  kind: "unhandled";
  provider: ChannelKind;
  phoneNumberId?: string;
  session?: string;
  field: string;
  timestamp: number;
  raw: unknown;
};

export type WhatsAppEvent =
  | InboundMessageEvent
  | StatusEvent
  | TemplateStatusEvent
  | QualityEvent
  | SessionStatusEvent
  | UnhandledEvent;

/** One normalised event plus the key it is stored under exactly once. */
export type KeyedEvent = { dedupeKey: string; event: WhatsAppEvent };
