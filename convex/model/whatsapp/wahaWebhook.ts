/**
 * WAHA webhook envelope → one internal event (events.ts) under `waha:<event id>`. Pure.
 *
 * Own messages: WAHA's `message.any` repeats every incoming message and adds the ones this
 * number sends (from the API or typed on the phone). Incoming ones become the same message event
 * as `message` (processing stores a message once per provider id, so subscribing to both creates
 * no duplicate). Own ones (`fromMe: true`) are kept as "unhandled" events and never become
 * message rows: our sends are recorded by the send path, and WAHA acks then move their status;
 * recording them here too would race the send path and duplicate the row.
 */
import type {
  InboundMessageEvent,
  InboundMessageType,
  KeyedEvent,
  StatusEvent,
  WhatsAppParty,
} from "./events";
import {
  compact,
  convexSafe,
  digits,
  e164,
  isObject,
  number,
  object,
  optionalBoolean,
  optionalNumber,
  optionalString,
  rawForStorage,
  string,
  toMs,
  type JsonObject,
} from "./payload";
import { wahaAckStatus } from "./status";

/** WEBJS `_data.type` values we understand; anything else is kept as "unsupported". */
const DATA_TYPES: Record<string, InboundMessageType> = {
  chat: "text",
  image: "image",
  video: "video",
  audio: "audio",
  ptt: "audio",
  document: "document",
  sticker: "sticker",
  location: "location",
  vcard: "contacts",
  multi_vcard: "contacts",
};

export function normaliseWahaWebhook(body: unknown, now: number = Date.now()): KeyedEvent {
  const envelope = object(body, "The body");
  const id = string(envelope.id, "id");
  const eventName = string(envelope.event, "event");
  const session = string(envelope.session, "session");
  const timestamp = envelope.timestamp === undefined ? now : toMs(envelope.timestamp, "timestamp");
  const dedupeKey = `waha:${id}`;
  const unhandled = (field: string): KeyedEvent => ({
    dedupeKey,
    event: { kind: "unhandled", provider: "waha", session, field, timestamp, raw: rawForStorage(envelope) },
  });

  switch (eventName) {
    case "message":
    case "message.any":
    case "message.reaction": {
      const payload = object(envelope.payload, "payload");
      if (payload.fromMe === true) return unhandled(`${eventName}:fromMe`);
      const from = string(payload.from, "payload.from");
      if (!isPersonalChat(from)) return unhandled(`${eventName}:${chatServer(from)}`);
      const event =
        eventName === "message.reaction"
          ? reactionEvent(payload, session, timestamp)
          : messageEvent(payload, session, timestamp);
      return { dedupeKey, event };
    }
    case "message.ack": {
      const payload = object(envelope.payload, "payload");
      const ack = number(payload.ack, "payload.ack");
      const status = wahaAckStatus(ack);
      // 0 (PENDING) says nothing new and unknown acks say nothing we understand: kept, not applied.
      if (status === null || status === "pending") return unhandled("message.ack");
      const other = optionalString(payload.fromMe === false ? payload.from : payload.to);
      const event: StatusEvent = compact({
        kind: "status" as const,
        provider: "waha" as const,
        session,
        messageId: string(payload.id, "payload.id"),
        status,
        timestamp,
        recipient: other ? wahaParty(other) : {},
      });
      return { dedupeKey, event };
    }
    case "session.status": {
      const payload = object(envelope.payload, "payload");
      return {
        dedupeKey,
        event: {
          kind: "session_status",
          provider: "waha",
          session: optionalString(payload.name) ?? session,
          status: string(payload.status, "payload.status"),
          timestamp,
        },
      };
    }
    default:
      return unhandled(eventName);
  }
}

/** A WAHA chat id → the identifiers it carries. "34600111222@c.us" is a phone; "…@lid" is not. */
export function wahaParty(id: string, name?: string): WhatsAppParty {
  const at = id.lastIndexOf("@");
  const server = at >= 0 ? id.slice(at + 1) : "c.us";
  const user = (at >= 0 ? id.slice(0, at) : id).split(":")[0];
  if (server === "c.us" || server === "s.whatsapp.net") {
    const number = digits(user);
    return compact({ chatId: `${number}@c.us`, waId: number, phone: e164(number), name });
  }
  if (server === "lid") return compact({ lid: `${user}@lid`, chatId: `${user}@lid`, name });
  return compact({ chatId: id, name });
}

function chatServer(id: string): string {
  const at = id.lastIndexOf("@");
  return at >= 0 ? id.slice(at + 1) : "unknown";
}

/** One person's chat: a phone number or a privacy id; not a group, broadcast or channel. */
function isPersonalChat(id: string): boolean {
  return ["c.us", "s.whatsapp.net", "lid"].includes(chatServer(id)) && !id.startsWith("status@");
}

function dataOf(payload: JsonObject): JsonObject {
  return isObject(payload._data) ? payload._data : {};
}

/** The sender, with a phone number when an engine gives one next to a @lid id. */
function sender(payload: JsonObject): WhatsAppParty {
  const data = dataOf(payload);
  const key = isObject(data.key) ? data.key : {};
  const info = isObject(data.Info) ? data.Info : {};
  const name =
    optionalString(data.notifyName) ??
    optionalString(data.pushName) ??
    optionalString(info.PushName) ??
    undefined;
  const party = wahaParty(string(payload.from, "payload.from"), name || undefined);
  if (party.lid && !party.phone) {
    const alt = [key.senderPn, key.remoteJidAlt, info.SenderAlt]
      .map(optionalString)
      .find((v) => v && /@(c\.us|s\.whatsapp\.net)$/.test(v));
    if (alt) {
      const phoneParty = wahaParty(alt);
      return compact({ ...party, waId: phoneParty.waId, phone: phoneParty.phone });
    }
  }
  return party;
}

function messageEvent(payload: JsonObject, session: string, fallbackTime: number): InboundMessageEvent {
  const data = dataOf(payload);
  const messageId = string(payload.id, "payload.id");
  const timestamp =
    payload.timestamp === undefined ? fallbackTime : toMs(payload.timestamp, "payload.timestamp");
  const bodyText = optionalString(payload.body);
  const dataType = optionalString(data.type);
  const media = isObject(payload.media) ? payload.media : undefined;
  const mimeType = optionalString(media?.mimetype);
  const location = isObject(payload.location) ? payload.location : undefined;

  let type: InboundMessageType;
  let text: string | undefined = bodyText;
  let content: InboundMessageEvent["content"];
  if (payload.hasMedia === true || media) {
    type = (dataType && DATA_TYPES[dataType]) || mediaTypeOf(mimeType);
    if (!["image", "video", "audio", "document", "sticker"].includes(type)) type = mediaTypeOf(mimeType);
    content = compact({
      url: optionalString(media?.url),
      mimeType,
      filename: optionalString(media?.filename),
      caption: bodyText || undefined,
      voice: dataType === "ptt" ? true : undefined,
      error: media?.error === undefined || media?.error === null ? undefined : convexSafe(media.error),
    });
    text = bodyText || undefined;
  } else if (location || dataType === "location") {
    type = "location";
    const lat = location?.latitude ?? data.lat;
    const lng = location?.longitude ?? data.lng;
    content = compact({
      latitude: number(lat, "payload.location.latitude"),
      longitude: number(lng, "payload.location.longitude"),
      name: optionalString(location?.name) ?? optionalString(location?.description),
      address: optionalString(location?.address),
      url: optionalString(location?.url),
    });
    text = undefined;
  } else if (dataType === "vcard" || dataType === "multi_vcard" || Array.isArray(payload.vCards)) {
    type = "contacts";
    const cards = Array.isArray(payload.vCards) ? payload.vCards : bodyText ? [bodyText] : [];
    content = cards.map((vcard) => ({ vcard: String(vcard) }));
    text = undefined;
  } else if (dataType && !DATA_TYPES[dataType]) {
    type = "unsupported";
    content = compact({ providerType: dataType, body: bodyText });
    text = undefined;
  } else {
    type = "text";
    text = bodyText ?? "";
  }

  const replyTo = payload.replyTo;
  const replyId = isObject(replyTo) ? optionalString(replyTo.id) : optionalString(replyTo);
  const context = compact({
    messageId: replyId,
    from: isObject(replyTo) ? optionalString(replyTo.participant) : undefined,
    forwarded: optionalBoolean(data.isForwarded),
    frequentlyForwarded: (optionalNumber(data.forwardingScore) ?? 0) >= 5 ? true : undefined,
  });

  return compact({
    kind: "message" as const,
    provider: "waha" as const,
    session,
    messageId,
    from: sender(payload),
    timestamp,
    type,
    text,
    content,
    context: Object.keys(context).length ? context : undefined,
  });
}

function reactionEvent(payload: JsonObject, session: string, fallbackTime: number): InboundMessageEvent {
  const reaction = object(payload.reaction, "payload.reaction");
  const emoji = optionalString(reaction.text) || undefined;
  return compact({
    kind: "message" as const,
    provider: "waha" as const,
    session,
    messageId: string(payload.id, "payload.id"),
    from: sender(payload),
    timestamp: payload.timestamp === undefined ? fallbackTime : toMs(payload.timestamp, "payload.timestamp"),
    type: "reaction" as const,
    text: emoji,
    content: compact({
      messageId: string(reaction.messageId, "payload.reaction.messageId"),
      emoji,
      removed: emoji === undefined,
    }),
  });
}

function mediaTypeOf(mimeType: string | undefined): InboundMessageType {
  if (!mimeType) return "document";
  if (mimeType === "image/webp") return "sticker";
  if (mimeType.startsWith("image/")) return "image";
  if (mimeType.startsWith("video/")) return "video";
  if (mimeType.startsWith("audio/")) return "audio";
  return "document";
}
