/**
 * The one place the Convex side reads its configuration (set with `npx convex env set`, or the
 * local server's --env-file). Read lazily, so a missing optional variable never breaks a push.
 */
/* eslint-disable @convex-dev/no-process-env -- this module is the single reader of process.env */
import { stripTrailingSlash } from "./shared/site";

function optional(name: string): string | undefined {
  const value = process.env[name]?.trim();
  return value ? value : undefined;
}

/** Lower-cased emails that are platform admins (comma or whitespace separated). */
export function platformAdminEmails(): Set<string> {
  return new Set(
    (optional("PLATFORM_ADMIN_EMAILS") ?? "")
      .split(/[\s,]+/)
      .map((e) => e.trim().toLowerCase())
      .filter(Boolean),
  );
}

/** The web app's public URL, for links in emails. */
export function appUrl(): string {
  const url = optional("APP_URL") ?? optional("LOCAL_AUTH_ISSUER");
  if (!url) {
    throw new Error("APP_URL is not set on the Convex deployment: links in emails need it");
  }
  return stripTrailingSlash(url);
}

export type EmailConfig =
  | { provider: "resend"; apiKey: string; from: string; baseUrl?: string }
  | { provider: "outbox"; from: string };

/** Resend when RESEND_API_KEY is set (RESEND_BASE_URL points the SDK elsewhere); else the outbox. */
export function emailConfig(): EmailConfig {
  const from = optional("EMAIL_FROM") ?? "Switchboard <no-reply@switchboard.local>";
  const apiKey = optional("RESEND_API_KEY");
  return apiKey
    ? { provider: "resend", apiKey, from, baseUrl: optional("RESEND_BASE_URL") }
    : { provider: "outbox", from };
}

/** Base64 of the 32-byte AES-256 key that encrypts channel secrets at rest. */
export function channelSecretsKey(): string {
  const key = optional("CHANNEL_SECRETS_KEY");
  if (!key)
    throw new Error("CHANNEL_SECRETS_KEY is not set on the Convex deployment: channel secrets need it");
  return key;
}

/** The Cloud API webhook verify token (GET handshake) and app secret (X-Hub-Signature-256). */
export function whatsappWebhookConfig(): { verifyToken?: string; appSecret?: string } {
  return { verifyToken: optional("WHATSAPP_VERIFY_TOKEN"), appSecret: optional("WHATSAPP_APP_SECRET") };
}

/** Graph API base, e.g. https://graph.facebook.com/v23.0 (the simulator's URL locally). */
export function whatsappGraphUrl(): string {
  return (optional("WHATSAPP_GRAPH_URL") ?? "https://graph.facebook.com/v23.0").replace(/\/+$/, "");
}

/** Where this deployment serves HTTP actions (Convex sets it), for the webhook URLs channels show. */
export function convexSiteUrl(): string | undefined {
  const url = optional("CONVEX_SITE_URL");
  return url === undefined ? undefined : stripTrailingSlash(url);
}

/**
 * True on the embedded default (set by local/stack.ts and the tests): tenants' provider URLs may
 * point at loopback and private addresses, where the simulator runs. Off by default (secure).
 */
export function allowPrivateProviderUrls(): boolean {
  return optional("ALLOW_PRIVATE_PROVIDER_URLS") === "true";
}

/** Days a processed webhook event is kept (WEBHOOK_EVENT_RETENTION_DAYS, default 30; at least 1). */
export function webhookEventRetentionDays(): number {
  const raw = optional("WEBHOOK_EVENT_RETENTION_DAYS");
  const days = raw === undefined ? 30 : Number(raw);
  if (!Number.isFinite(days) || days < 1) {
    throw new Error(`WEBHOOK_EVENT_RETENTION_DAYS must be a number of days, at least 1 (it is "${raw}")`);
  }
  return days;
}

export type OpenAIConfig = { apiKey: string; baseURL?: string; models: string[] | null; timeoutMs: number };

/**
 * The assistant's model provider: OPENAI_API_KEY, and OPENAI_BASE_URL for any OpenAI-compatible
 * server (Azure-compatible gateways, OpenRouter, the local OpenAI server); OPENAI_MODELS limits
 * which models tenants may pick (comma separated); OPENAI_TIMEOUT_MS (default 20000). Without a
 * key the assistant answers offline from the knowledge base.
 */
export function openAIConfig(): OpenAIConfig | null {
  const apiKey = optional("OPENAI_API_KEY");
  if (!apiKey) return null;
  const models = optional("OPENAI_MODELS")
    ?.split(/[\s,]+/)
    .map((m) => m.trim())
    .filter(Boolean);
  const timeoutMs = Number(optional("OPENAI_TIMEOUT_MS") ?? 20_000);
  return {
    apiKey,
    baseURL: optional("OPENAI_BASE_URL"),
    models: models?.length ? models : null,
    timeoutMs: Number.isFinite(timeoutMs) && timeoutMs > 0 ? timeoutMs : 20_000,
  };
}

/**
 * How long a submitted template may stay pending before we ask Meta for its status ourselves
 * (the status webhook may have been lost); later polls back off from there. Default 15 minutes.
 */
export function templatePollAfterMs(): number {
  const value = Number(optional("TEMPLATE_POLL_AFTER_MS"));
  return Number.isFinite(value) && value >= 1_000 ? value : 15 * 60 * 1000;
}

/** The bearer token Prometheus sends to `/metrics`; unset, the endpoint does not exist. */
export function metricsToken(): string | undefined {
  return optional("METRICS_TOKEN");
}

/**
 * How long an outbound message may stay `sending` (the provider call under way, no answer
 * recorded) before its outcome counts as unknown and it is never sent again
 * (OUTBOUND_UNKNOWN_AFTER_MS, default 10 minutes; at least 1 second).
 */
export function outboundUnknownAfterMs(): number {
  const value = Number(optional("OUTBOUND_UNKNOWN_AFTER_MS"));
  return Number.isFinite(value) && value >= 1_000 ? value : 10 * 60 * 1000;
}

/**
 * How long after its call a send is taken to have reached WhatsApp at the latest, for the
 * channel's per-second count (WHATSAPP_SEND_ARRIVAL_MS, 0 to 10,000 ms; unset: no limit). A send
 * counts for a second from its answer, or from this long after its call when the answer is
 * slower (model/campaigns/pacing.ts, decision 030). Unset, every send counts from its answer:
 * never refused, but each slot also holds the answer's round trip. Set, a slow provider's slots
 * are freed sooner, at the risk of 130429 when a send's trip to WhatsApp varies by more.
 */
export function sendArrivalMs(): number {
  const raw = optional("WHATSAPP_SEND_ARRIVAL_MS");
  if (raw === undefined) return Infinity;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || value > 10_000) {
    throw new Error(
      `WHATSAPP_SEND_ARRIVAL_MS must be a number of milliseconds from 0 to 10000 (it is "${raw}")`,
    );
  }
  return value;
}

function positiveNumber(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`${name} must be a positive number (it is "${raw}")`);
  }
  return value;
}

/**
 * The reconciliation jobs' deadlines (docs/operations.md, "Reconciliation"): hours before a send
 * WhatsApp accepted with no status since is charged at the estimate (24), hours before an open
 * reservation is released (48), and days after which a finished campaign's counters are no
 * longer recounted (7). Stuck sends use OUTBOUND_UNKNOWN_AFTER_MS (outboundUnknownAfterMs).
 */
export function reconciliationDeadlines(): {
  noStatusMs: number;
  reservationMs: number;
  counterWindowMs: number;
} {
  const HOUR = 60 * 60 * 1000;
  const read = (name: string, raw: string | undefined, fallback: number) =>
    positiveNumber(name, raw, fallback);
  return {
    noStatusMs: read("RECONCILE_NO_STATUS_HOURS", optional("RECONCILE_NO_STATUS_HOURS"), 24) * HOUR,
    reservationMs: read("RECONCILE_RESERVATION_HOURS", optional("RECONCILE_RESERVATION_HOURS"), 48) * HOUR,
    counterWindowMs: read("RECONCILE_COUNTER_DAYS", optional("RECONCILE_COUNTER_DAYS"), 7) * 24 * HOUR,
  };
}
