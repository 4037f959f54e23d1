// WhatsApp channels as the interface names and describes them: kinds, secrets, health values.
import type { FunctionReturnType } from "convex/server";
import type { api } from "../../convex/_generated/api";
import type { ChannelKind } from "../../convex/shared/channels";

export {
  KIND_LABELS,
  SECRET_FIELDS,
  SECRET_LABELS,
  type ChannelKind,
  type SecretField,
} from "../../convex/shared/channels";
export type Channel = FunctionReturnType<typeof api.channels.get>;
export type ActivityItem = FunctionReturnType<typeof api.channels.activity>[number];
export type WebhookEventItem = FunctionReturnType<typeof api.channels.recentEvents>[number];

export const KIND_DESCRIPTIONS: Record<ChannelKind, string> = {
  cloud:
    "A number on Meta's WhatsApp Business Platform, connected with a phone number ID and an access token.",
  waha: "A WhatsApp session on your own WAHA server, connected with its address, API key and session name.",
};

/** "•••• 1a2b": how a stored secret is shown (its last four characters, or just dots). */
export function secretMask(hint: string | undefined): string {
  return hint ? `•••• ${hint}` : "••••";
}

/** What people read for a channel's number or session. */
export function channelAddress(channel: Channel): string {
  if (channel.kind === "cloud") return channel.displayNumber ?? channel.phoneNumberId ?? "";
  const host = channel.baseUrl ? hostOf(channel.baseUrl) : "";
  return host ? `${channel.session} on ${host}` : (channel.session ?? "");
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

export type Tone = "good" | "warning" | "bad" | "neutral";

/** WAHA session states (session.status events). */
export function wahaStatusInfo(status: string | null): { label: string; tone: Tone } {
  switch (status) {
    case "WORKING":
      return { label: "Session working", tone: "good" };
    case "SCAN_QR_CODE":
      return { label: "Waiting for QR scan", tone: "warning" };
    case "STARTING":
      return { label: "Session starting", tone: "neutral" };
    case "STOPPED":
      return { label: "Session stopped", tone: "bad" };
    case "FAILED":
      return { label: "Session failed", tone: "bad" };
    case null:
      return { label: "Session status unknown", tone: "neutral" };
    default:
      return { label: `Session ${status.toLowerCase()}`, tone: "neutral" };
  }
}

/** Meta's phone number quality rating. */
export function qualityInfo(rating: string | null): { label: string; tone: Tone } {
  switch (rating?.toUpperCase()) {
    case "GREEN":
    case "HIGH":
      return { label: "Quality high", tone: "good" };
    case "YELLOW":
    case "MEDIUM":
      return { label: "Quality medium", tone: "warning" };
    case "RED":
    case "LOW":
      return { label: "Quality low", tone: "bad" };
    // phone_number_quality_update events: WhatsApp flags a number whose quality fell low.
    case "FLAGGED":
      return { label: "Quality low (flagged)", tone: "bad" };
    case "UNFLAGGED":
      return { label: "Quality recovered", tone: "good" };
    case undefined:
      return { label: "Quality not reported", tone: "neutral" };
    default:
      return { label: `Quality ${rating!.toLowerCase()}`, tone: "neutral" };
  }
}

const TIERS: Record<string, string> = {
  TIER_50: "50",
  TIER_250: "250",
  TIER_1K: "1,000",
  TIER_2K: "2,000",
  TIER_10K: "10,000",
  TIER_100K: "100,000",
};

/** Meta's messaging limit tier: how many people business-initiated templates reach per 24 h. */
export function tierLabel(tier: string | null): string {
  if (!tier) return "Tier not reported";
  if (tier === "TIER_UNLIMITED") return "Unlimited tier";
  const count = TIERS[tier];
  return count ? `Tier ${count} / 24 h` : `Tier ${tier.replace(/^TIER_/, "")}`;
}

export const MESSAGE_STATUS_LABELS: Record<ActivityItem["status"], string> = {
  received: "Received",
  queued: "Queued",
  sending: "Sending",
  unknown: "Outcome unknown",
  sent: "Sent",
  delivered: "Delivered",
  read: "Read",
  failed: "Failed",
};

export function messageStatusTone(status: ActivityItem["status"]): Tone {
  if (status === "failed" || status === "unknown") return "bad";
  if (status === "read" || status === "delivered" || status === "received") return "good";
  return "neutral";
}

export const EVENT_STATE_LABELS: Record<WebhookEventItem["state"], string> = {
  pending: "Pending",
  done: "Processed",
  retrying: "Retrying",
  dead: "Dead letter",
};

export function eventStateTone(state: WebhookEventItem["state"]): Tone {
  return state === "done" ? "good" : state === "dead" ? "bad" : state === "retrying" ? "warning" : "neutral";
}
