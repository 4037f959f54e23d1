/** The WhatsApp simulator's configuration, knobs and state shapes (see server.ts). */

/** A business number on Meta's Cloud API. */
export type CloudNumberConfig = {
  phoneNumberId: string;
  wabaId: string;
  /** Digits, e.g. "15550100001". */
  displayNumber: string;
  /** The Bearer token the API accepts for this number (and its WABA's templates). */
  accessToken: string;
  /** Signs webhooks: X-Hub-Signature-256 = sha256=HMAC(appSecret, raw body). */
  appSecret: string;
  /** Where statuses and inbound messages go, e.g. `<convex site>/whatsapp/cloud`. */
  webhookUrl?: string;
  verifiedName?: string;
  /** GREEN, YELLOW, RED, UNKNOWN (GET /{phone-number-id}). */
  qualityRating?: string;
  /**
   * The business portfolio's messaging limit: TIER_250, TIER_2K, TIER_10K, TIER_100K,
   * TIER_UNLIMITED (or a plain number). Business-initiated templates (outside the user's 24 h
   * window) reach at most that many unique users per rolling 24 h, counted per portfolio.
   */
  messagingLimitTier?: string;
  /** Numbers of one business portfolio share its messaging limit (default: the WABA id). */
  portfolioId?: string;
  /** Overrides the spamShare knob for this number. */
  spamShare?: number;
  /** Milliseconds since epoch after which the token answers 190. */
  tokenExpiresAt?: number;
  /** Overrides the knob for this number. */
  throughputPerSecond?: number;
};

/** A WAHA session (one linked WhatsApp account). */
export type WahaSessionConfig = {
  session: string;
  /** X-Api-Key the API accepts for this session. */
  apiKey: string;
  /** Signs webhooks: X-Webhook-Hmac = hex HMAC-SHA512(hmacKey, raw body). Unsigned without one. */
  hmacKey?: string;
  /** e.g. `<convex site>/whatsapp/waha/<channel id>`. */
  webhookUrl?: string;
  /** The linked account's number, digits (default: derived from the session name). */
  number?: string;
  pushName?: string;
  /** STOPPED, STARTING, SCAN_QR_CODE, WORKING (default), FAILED. */
  status?: string;
  /** Events the webhook is subscribed to (default message, message.ack, session.status). */
  events?: string[];
};

/** A template as the simulator keeps it (Meta's field names where Meta has them). */
export type SimTemplate = {
  id: string;
  wabaId: string;
  name: string;
  language: string;
  category: string;
  status: string;
  parameter_format: "POSITIONAL" | "NAMED";
  components: Record<string, unknown>[];
  rejected_reason?: string;
  /** GREEN, YELLOW, RED, UNKNOWN (message_template_quality_update). */
  quality_score?: string;
  /** Set while a re-categorisation is announced (template_category_update with correct_category). */
  correct_category?: string;
  createdAt: number;
};

export type TemplateSeed = Omit<SimTemplate, "id" | "createdAt" | "status" | "parameter_format"> & {
  id?: string;
  status?: string;
  parameter_format?: "POSITIONAL" | "NAMED";
};

export type SimConfig = {
  cloud: CloudNumberConfig[];
  waha: WahaSessionConfig[];
  templates?: TemplateSeed[];
};

/** Fault injection and behaviour, changeable at run time (POST /_sim/knobs). Shares are 0–1. */
export type Knobs = {
  /** Share of webhooks never sent. */
  drop: number;
  /** Share of webhooks sent twice. */
  duplicate: number;
  /** Share of webhooks held back and sent, in reverse order, at the end of a reorder window. */
  reorder: number;
  reorderWindowMs: number;
  /** Extra delay before every webhook. */
  delayMs: number;
  /** Share of API calls answered with a 5xx in the provider's error shape. */
  serverErrors: number;
  serverErrorStatus: number;
  /** Delay before every API answer (a large value makes clients time out). */
  apiLatencyMs: number;
  /**
   * Delay between a Cloud API send being counted against the number's throughput and its
   * answer: Meta's own processing, so the round trip a client sees is longer than the time until
   * its send was counted (apiLatencyMs delays the request before it is counted).
   */
  sendAnswerDelayMs: number;
  /** Share of accepted outbound messages that end "failed" (failCode) instead of delivered. */
  failShare: number;
  failCode: number;
  /** Share of delivered messages that are then read. */
  readShare: number;
  /** When each status is sent after the API accepted the message. */
  statusDelaysMs: { sent: number; delivered: number; read: number };
  /** Cloud API messages per second per number before 130429 (numbers may override). */
  throughputPerSecond: number;
  /** Pair limit: a burst of this many messages to one user, then one per pairIntervalMs (131056). */
  pairBurst: number;
  pairIntervalMs: number;
  /** The customer-service window for free-form messages (131047). */
  windowHours: number;
  /**
   * How a closed window shows: "status" (as Meta does: the send is accepted, then a failed
   * status webhook carries 131047) or "error" (the send itself answers 131047).
   */
  windowClosedAs: "status" | "error";
  /** Approve submitted templates by themselves after this many ms (null: wait for a person). */
  autoApproveTemplatesMs: number | null;
  /** Never send template webhooks (status, category, quality): only polling finds the changes. */
  dropTemplateWebhooks: boolean;
  /** Webhook delivery attempts (non-2xx or network errors are retried with backoff). */
  webhookAttempts: number;
  /** WAHA webhooks use an @lid chat id for users instead of their phone number. */
  wahaLid: boolean;
  /**
   * How Cloud API webhooks name users: "phone" (wa_id, `from`, `recipient_id`: before 2026),
   * "both" (plus their business-scoped user id: `user_id`, `from_user_id`, `recipient_user_id`,
   * as Meta does since 2026-03-31) or "bsuid" (the BSUID alone, as for users who chose a
   * username). A message's `bsuidOnly` and a send to a BSUID (`recipient`) do it for one message.
   */
  cloudUserIds: "phone" | "both" | "bsuid";
  /**
   * How the messaging limit, the marketing cap, marketing to US numbers and the spam limit show:
   * "status" (as Meta does: the send is accepted, then a failed status webhook carries the code)
   * or "error" (the send itself answers the code).
   */
  limitsAs: "status" | "error";
  /**
   * The code a send beyond the portfolio's messaging limit fails with. Meta documents none; the
   * default is its generic "Message undeliverable".
   */
  messagingLimitCode: number;
  /** Marketing templates a user may get per rolling 24 h before 131049 (null: no cap). */
  marketingPerUserPer24h: number | null;
  /** Users (digits) every marketing template to fails with 131049. */
  marketingCapUsers: string[];
  /** Marketing templates to US (+1) numbers fail with 131049, as since 2025-04-01. */
  usMarketingBlocked: boolean;
  /**
   * Share of template sends refused with 131048 (spam rate limit). The first one drops the
   * number's quality to RED and sends phone_number_quality_update (FLAGGED).
   */
  spamShare: number;
};

export const DEFAULT_KNOBS: Knobs = {
  drop: 0,
  duplicate: 0,
  reorder: 0,
  reorderWindowMs: 300,
  delayMs: 0,
  serverErrors: 0,
  serverErrorStatus: 500,
  apiLatencyMs: 0,
  sendAnswerDelayMs: 0,
  failShare: 0,
  failCode: 131026,
  readShare: 1,
  statusDelaysMs: { sent: 300, delivered: 1200, read: 3000 },
  throughputPerSecond: 80,
  pairBurst: 45,
  pairIntervalMs: 6000,
  windowHours: 24,
  windowClosedAs: "status",
  autoApproveTemplatesMs: null,
  dropTemplateWebhooks: false,
  webhookAttempts: 3,
  wahaLid: false,
  cloudUserIds: "phone",
  limitsAs: "status",
  messagingLimitCode: 131026,
  marketingPerUserPer24h: null,
  marketingCapUsers: [],
  usMarketingBlocked: true,
  spamShare: 0,
};

/** An error to answer with (on: "api") or to fail the next message with (on: "status"). */
export type InjectedError = {
  code: number;
  on?: "api" | "status";
  httpStatus?: number;
  message?: string;
  details?: string;
  /** Only for this Cloud number or WAHA session (default: the next send anywhere). */
  business?: string;
};

export type MessageStatus = "accepted" | "sent" | "delivered" | "read" | "failed" | "received";

/** A message between a simulated user and a business number, either way. */
export type SimMessage = {
  id: string;
  provider: "cloud" | "waha";
  /** Cloud phone_number_id or WAHA session. */
  business: string;
  /** The user's number, digits. */
  user: string;
  direction: "in" | "out";
  type: string;
  /** What a person reads: the text, the rendered template, the caption. */
  text?: string;
  /** The message object as sent or received. */
  content?: unknown;
  status: MessageStatus;
  statusAt: number;
  callbackData?: string;
  /** Template messages: name and category. */
  template?: { name: string; language: string; category: string };
  pricing?: { billable: boolean; category: string; type: string; country: string; priceUsd: number };
  error?: { code: number; title: string };
  at: number;
  /** Cloud API: the business sent it to the user's business-scoped user id (`recipient`). */
  toBsuid?: boolean;
};

export type SimUser = {
  number: string;
  name: string;
  /** WhatsApp's privacy id for this user, used by WAHA when the wahaLid knob is on. */
  lid: string;
  /** The Cloud API business-scoped user id (e.g. "ES.4915…"); missing in older state files. */
  bsuid?: string;
  /** Business (phone_number_id or session) → when the user last wrote to it (ms). */
  lastWrote: Record<string, number>;
  /**
   * Cloud phone_number_id → when the user stopped marketing messages from it (ms), while
   * stopped: marketing templates to the user fail with 131050.
   */
  marketingStopped?: Record<string, number>;
};

export type WebhookDelivery = {
  id: string;
  provider: "cloud" | "waha";
  url: string;
  /** status, message, template_status, quality, user_preferences, session_status (Cloud field or WAHA event). */
  kind: string;
  /** The exact bytes sent. */
  body: string;
  headers: Record<string, string>;
  state: "pending" | "held" | "delivered" | "failed" | "dropped";
  attempts: number;
  responseStatus?: number;
  error?: string;
  duplicate?: boolean;
  createdAt: number;
  sentAt?: number;
};

export type Charge = {
  messageId: string;
  business: string;
  country: string;
  category: string;
  priceUsd: number;
  at: number;
};
