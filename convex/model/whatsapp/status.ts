/**
 * The delivery-status state machine of a message. Statuses arrive at least once and in any
 * order, so the final state must not depend on the order: each status has a rank and a message
 * only ever moves to a higher one. `failed` ranks highest, which makes it terminal whether it
 * arrives first or last (Meta never reports a failed message as delivered, so nothing is lost).
 */
import type { Doc } from "../../_generated/dataModel";
import { CLOUD_ERROR_TABLE } from "../../providers/whatsappErrors";
import type { ErrorClass, MessageStatus } from "../../schema";
import type { OutboundStatus, StatusEvent } from "./events";

const RANK: Record<MessageStatus, number> = {
  received: 0,
  queued: 1,
  sending: 2,
  unknown: 3,
  sent: 4,
  delivered: 5,
  read: 6,
  failed: 7,
};

export function statusRank(status: MessageStatus): number {
  return RANK[status];
}

/** True when a message in `current` should move to `incoming`. */
export function advances(current: MessageStatus, incoming: MessageStatus): boolean {
  return RANK[incoming] > RANK[current];
}

/** Cloud API status names → ours ("played", for voice messages, counts as "read"). */
export function cloudStatus(status: string): OutboundStatus | null {
  switch (status) {
    case "sent":
    case "delivered":
    case "read":
    case "failed":
      return status;
    case "played":
      return "read";
    default:
      return null;
  }
}

/**
 * WAHA's `ack` → ours: -1 ERROR → failed, 1 SERVER → sent, 2 DEVICE → delivered, 3 READ → read,
 * 4 PLAYED → read. 0 PENDING (not yet on WhatsApp's server) says nothing new: "pending".
 */
export function wahaAckStatus(ack: number): OutboundStatus | "pending" | null {
  switch (ack) {
    case -1:
      return "failed";
    case 0:
      return "pending";
    case 1:
      return "sent";
    case 2:
      return "delivered";
    case 3:
    case 4:
      return "read";
    default:
      return null;
  }
}

/**
 * The class of a Meta error code (whatsapp.md's table, kept in providers/whatsappErrors.ts so
 * sending and status webhooks agree). A code the table does not know failed the message for good.
 */
export function classifyErrorCode(code: number | undefined): ErrorClass {
  if (code === undefined) return "permanent";
  return CLOUD_ERROR_TABLE[code]?.class ?? "permanent";
}

export type StatusFields = Pick<
  Doc<"messages">,
  "status" | "statusAt" | "errorCode" | "errorClass" | "errorMessage" | "pricing" | "providerMessageId"
>;

/**
 * What applying `event` to a message changes, or null when it changes nothing (a duplicate, a
 * late lower status, anything after `failed`). Pricing: a status carrying pricing replaces the
 * stored pricing when it is at least as far along as the message, and fills it in when none is
 * stored; Meta sends the same pricing on `sent` and on one of delivered/read.
 */
export function applyStatus(message: StatusFields, event: StatusEvent): Partial<StatusFields> | null {
  const patch: Partial<StatusFields> = {};
  const moves = advances(message.status, event.status);
  if (!moves && event.status === message.status && event.timestamp < message.statusAt) {
    // The same status reported again with an earlier time (WAHA's READ then PLAYED): the
    // status was reached at the earliest, whatever order the reports came in.
    patch.statusAt = event.timestamp;
  }
  if (moves) {
    patch.status = event.status;
    patch.statusAt = event.timestamp;
    if (event.status === "failed") {
      const first = event.errors?.[0];
      patch.errorCode = first?.code;
      patch.errorClass = classifyErrorCode(first?.code);
      patch.errorMessage = describeError(first) ?? "The provider reported the message as failed";
    }
  }
  if (event.pricing && message.status !== "failed") {
    const samePricing = JSON.stringify(message.pricing ?? null) === JSON.stringify(event.pricing);
    if (!samePricing && (RANK[event.status] >= RANK[message.status] || !message.pricing)) {
      patch.pricing = event.pricing;
    }
  }
  if (!message.providerMessageId && event.messageId) patch.providerMessageId = event.messageId;
  return Object.keys(patch).length ? patch : null;
}

type StatusError = NonNullable<StatusEvent["errors"]>[number];

function describeError(error: StatusError | undefined): string | undefined {
  if (!error) return undefined;
  const parts = [error.title, error.message, error.details].filter(
    (p, i, all): p is string => typeof p === "string" && p.length > 0 && all.indexOf(p) === i,
  );
  return parts.length ? parts.join(": ") : `Error ${error.code}`;
}
