/**
 * What a WhatsApp channel is made of, as both the Convex functions (which validate and store
 * it) and the web app's forms (which ask for it) need it. Pure: no Convex or React imports.
 */
import type { ChannelKind } from "../schema";

export type { ChannelKind };

export const KIND_LABELS: Record<ChannelKind, string> = {
  cloud: "Cloud API",
  waha: "WAHA",
};

/** The secrets each kind keeps, by name and in form order: the keys of the encrypted object and of `secretHints`. */
export const SECRET_FIELDS = {
  cloud: ["accessToken"],
  waha: ["apiKey", "webhookHmacKey"],
} as const satisfies Record<ChannelKind, readonly string[]>;

export type SecretField = (typeof SECRET_FIELDS)[ChannelKind][number];

/** How forms label each secret. */
export const SECRET_LABELS: Record<SecretField, string> = {
  accessToken: "Access token",
  apiKey: "API key",
  webhookHmacKey: "Webhook HMAC key",
};

/** A secret's name inside a sentence: "the access token", "the API key". */
export function secretName(field: string): string {
  const label = (SECRET_LABELS as Record<string, string>)[field];
  if (!label) return field;
  return /^[A-Z][a-z]/.test(label) ? label[0]!.toLowerCase() + label.slice(1) : label;
}

/** Where each provider posts webhooks on the Convex deployment's site (convex/http.ts routes them). */
export const WEBHOOK_PATHS = {
  cloud: "/whatsapp/cloud",
  wahaPrefix: "/whatsapp/waha/",
} as const;

/** The path of the webhook endpoint a channel's provider posts to. */
export function webhookPath(channel: { kind: ChannelKind; channelId: string }): string {
  return channel.kind === "cloud" ? WEBHOOK_PATHS.cloud : `${WEBHOOK_PATHS.wahaPrefix}${channel.channelId}`;
}
