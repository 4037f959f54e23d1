/**
 * How a WhatsApp provider error should be handled: the error table of
 * ../shared/design/whatsapp.md as data, and `classify()`, which turns an HTTP answer, a timeout
 * or a network failure into one of the classes in schema.ts (`vErrorClass`).
 *
 * The classes, and what a caller does with each:
 * - retryable: try the same request again with backoff.
 * - throttled: the channel is sending too fast; retry later and slow the whole channel.
 * - pair_limited: too fast (or too much) for this one recipient; retry that recipient later.
 * - window_closed: free-form message outside the 24 h window; only a template can reach them.
 * - template_invalid: the template or its parameters are wrong; fix the template or mapping.
 * - auth: the channel cannot send until a person acts (token, account, session).
 * - permanent: this message will never go through; record the failure.
 */
import type { ErrorClass } from "../schema";

export type { ErrorClass };

/** What the channel, beyond this one message, should do about an error. */
export type ChannelAction = "none" | "slow_down" | "pause_campaigns" | "stop_channel";

export type ErrorRule = {
  class: ErrorClass;
  /** Meta's meaning, short. */
  meaning: string;
  /** Minimum wait before retrying, when the table says so. */
  retryAfterMs?: number;
  action: ChannelAction;
};

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * Meta's error codes. The first block is whatsapp.md's table; where a code's advice is not one
 * of our classes, the nearest class is chosen and the advice kept in `action`:
 * - 131048 (spam rate limit): `throttled` + pause_campaigns; it is a rate limit that lifts
 *   when quality recovers, so messages may be retried later, never hammered.
 * - 131049 (marketing per-user limit): `pair_limited` + 24 h: it is a per-recipient limit,
 *   like 131056, only longer.
 * - 368 (account restricted): `auth` + stop_channel: like an expired token, no message on
 *   the channel goes through until a person acts; `permanent` would keep sending.
 * - 131026 and 131051: `permanent`, as the table says.
 * - 4 and 80007 (app / WABA API rate limits): `retryable`, as the brief asks, with a 1 minute
 *   minimum wait.
 * The second block are codes from Meta's error reference that whatsapp.md does not list but that
 * the Cloud API answers to the calls we make (template and parameter validation).
 */
export const CLOUD_ERROR_TABLE: Readonly<Record<number, ErrorRule>> = {
  130429: {
    class: "throttled",
    meaning: "Throughput limit reached for the number",
    retryAfterMs: 1 * SECOND,
    action: "slow_down",
  },
  131056: {
    class: "pair_limited",
    meaning: "Pair rate limit: too many messages to the same recipient",
    retryAfterMs: 6 * SECOND,
    action: "none",
  },
  131047: {
    class: "window_closed",
    meaning: "More than 24 hours since the recipient last wrote",
    action: "none",
  },
  131026: { class: "permanent", meaning: "Message undeliverable", action: "none" },
  131048: {
    class: "throttled",
    meaning: "Spam rate limit hit (quality)",
    retryAfterMs: 1 * HOUR,
    action: "pause_campaigns",
  },
  131049: {
    class: "pair_limited",
    meaning: "Marketing message limit for this user",
    retryAfterMs: 24 * HOUR,
    action: "none",
  },
  132000: {
    class: "template_invalid",
    meaning: "Template parameter count mismatch",
    action: "none",
  },
  132001: {
    class: "template_invalid",
    meaning: "Template does not exist or is not approved in that language",
    action: "none",
  },
  131051: { class: "permanent", meaning: "Unsupported message type", action: "none" },
  368: {
    class: "auth",
    meaning: "Account restricted for a policy violation",
    action: "stop_channel",
  },
  4: { class: "retryable", meaning: "App API rate limit", retryAfterMs: 1 * MINUTE, action: "slow_down" },
  80007: {
    class: "retryable",
    meaning: "WABA API rate limit",
    retryAfterMs: 1 * MINUTE,
    action: "slow_down",
  },
  190: { class: "auth", meaning: "Access token expired or invalid", action: "stop_channel" },
  1: { class: "retryable", meaning: "Unknown API error", action: "none" },
  2: { class: "retryable", meaning: "API service temporarily unavailable", action: "none" },
  131000: { class: "retryable", meaning: "Something went wrong", action: "none" },
  131016: { class: "retryable", meaning: "Service overloaded", action: "none" },
  131057: {
    class: "retryable",
    meaning: "Business account in maintenance",
    retryAfterMs: 1 * MINUTE,
    action: "none",
  },

  // Beyond whatsapp.md's table (Meta's error code reference).
  10: { class: "auth", meaning: "Permission denied", action: "stop_channel" },
  200: { class: "auth", meaning: "Permission error", action: "stop_channel" },
  100: { class: "permanent", meaning: "Invalid parameter", action: "none" },
  131008: { class: "permanent", meaning: "Required parameter missing", action: "none" },
  131009: { class: "permanent", meaning: "Parameter value invalid", action: "none" },
  131021: { class: "permanent", meaning: "Recipient cannot be the sender", action: "none" },
  131050: { class: "permanent", meaning: "Recipient stopped marketing messages", action: "none" },
  131053: { class: "permanent", meaning: "Media upload error", action: "none" },
  132005: { class: "template_invalid", meaning: "Template text too long with parameters", action: "none" },
  132007: { class: "template_invalid", meaning: "Template violates format policy", action: "none" },
  132012: { class: "template_invalid", meaning: "Template parameter format mismatch", action: "none" },
  132015: { class: "template_invalid", meaning: "Template is paused", action: "none" },
  132016: { class: "template_invalid", meaning: "Template is disabled", action: "none" },
};

/** A classified failure, as every adapter returns it. */
export type ProviderError = {
  class: ErrorClass;
  /** The provider's error code (Meta's `error.code`), or the HTTP status when there is none. */
  code?: number;
  message: string;
  retryAfterMs?: number;
  /** Present when the channel as a whole should react (see ChannelAction). */
  action?: Exclude<ChannelAction, "none">;
  /** The HTTP status, when there was an answer. */
  httpStatus?: number;
  details?: string;
};

export type SendResult = { ok: true; providerMessageId: string } | { ok: false; error: ProviderError };

export type FailureInput =
  | { kind: "timeout"; timeoutMs: number }
  | { kind: "network"; message: string }
  | {
      kind: "http";
      status: number;
      /** Meta's `error.code` (or none for bodies without one). */
      code?: number;
      message?: string;
      details?: string;
      /** From a Retry-After header, when the answer had one. */
      retryAfterMs?: number;
    };

/** The class of an HTTP status with no (known) provider code. */
function classOfStatus(status: number): { class: ErrorClass; retryAfterMs?: number } {
  if (status === 429) return { class: "throttled", retryAfterMs: 1 * SECOND };
  if (status === 401 || status === 403) return { class: "auth" };
  if (status === 408 || status >= 500) return { class: "retryable" };
  return { class: "permanent" };
}

/** Turns a failed provider call into a ProviderError (whatsapp.md's table, then the HTTP status). */
export function classify(input: FailureInput): ProviderError {
  if (input.kind === "timeout") {
    return { class: "retryable", message: `No answer within ${input.timeoutMs} ms` };
  }
  if (input.kind === "network") return { class: "retryable", message: input.message };
  const rule = input.code !== undefined ? CLOUD_ERROR_TABLE[input.code] : undefined;
  // A 5xx is transient whatever code rides along; 4xx answers follow the code when known.
  const base =
    rule && input.status < 500
      ? { class: rule.class, retryAfterMs: rule.retryAfterMs }
      : classOfStatus(input.status);
  const retryAfterMs = maxDefined(base.retryAfterMs, input.retryAfterMs);
  const error: ProviderError = {
    class: base.class,
    code: input.code ?? input.status,
    message: input.message || rule?.meaning || `HTTP ${input.status}`,
    httpStatus: input.status,
  };
  if (retryAfterMs !== undefined && base.class !== "permanent") error.retryAfterMs = retryAfterMs;
  if (rule && rule.action !== "none" && input.status < 500) error.action = rule.action;
  if (input.details) error.details = input.details;
  return error;
}

function maxDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}

/** Seconds or an HTTP date in a Retry-After header → milliseconds from now. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Milliseconds a caller should wait before a retry (exponential with a floor and a cap). */
export function backoffMs(error: ProviderError, attempt: number, capMs = 10 * MINUTE): number {
  // The pair limit's own advice is ≈ 4^n seconds; everything else doubles from one second.
  const base = error.class === "pair_limited" ? 4 ** Math.max(1, attempt) * SECOND : 2 ** attempt * SECOND;
  // The provider's own minimum (e.g. 24 h for 131049) wins over the cap.
  return Math.max(Math.min(capMs, base), error.retryAfterMs ?? 0);
}

/** True for the classes where retrying the same request later can succeed. */
export function isRetryable(error: ProviderError): boolean {
  return error.class === "retryable" || error.class === "throttled" || error.class === "pair_limited";
}

export const DEFAULT_TIMEOUT_MS = 10_000;

export type HttpOutcome =
  | { kind: "answer"; status: number; headers: Headers; body: unknown; text: string }
  | { kind: "timeout"; timeoutMs: number }
  | { kind: "network"; message: string };

/**
 * The one way the adapters call a provider: a fetch bounded by an AbortController timeout
 * (`timeoutMs` covers the headers and the body), with the answer's JSON parsed when it is JSON.
 * It never throws; failures come back as outcomes `classify()` understands.
 */
export async function callProvider(
  url: string,
  init: { method: "GET" | "POST" | "DELETE"; headers?: Record<string, string>; body?: unknown },
  options: { timeoutMs?: number; fetch?: typeof fetch } = {},
): Promise<HttpOutcome> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const doFetch = options.fetch ?? fetch;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  try {
    const headers: Record<string, string> = { accept: "application/json", ...init.headers };
    if (init.body !== undefined) headers["content-type"] = "application/json";
    const response = await doFetch(url, {
      method: init.method,
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: controller.signal,
      // Provider APIs answer in place; a redirect could lead a tenant-given address (a WAHA base
      // URL) to this network's private hosts, past the address check. It comes back as an answer.
      redirect: "manual",
    });
    const text = await response.text();
    let body: unknown = undefined;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    return { kind: "answer", status: response.status, headers: response.headers, body, text };
  } catch (error) {
    if (timedOut) return { kind: "timeout", timeoutMs };
    return { kind: "network", message: error instanceof Error ? describeNetworkError(error) : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

function describeNetworkError(error: Error): string {
  // undici hides the reason (ECONNREFUSED, ENOTFOUND…) in `cause`.
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const reason = cause?.code ?? cause?.message;
  return reason ? `${error.message} (${reason})` : error.message;
}

/** A Graph API error body: `{error:{message, type, code, error_subcode?, error_data{details}, fbtrace_id}}`. */
export function classifyGraphAnswer(status: number, body: unknown, headers?: Headers): ProviderError {
  const error = (body as { error?: Record<string, unknown> } | undefined)?.error;
  const code = typeof error?.code === "number" ? error.code : undefined;
  const data = error?.error_data as { details?: unknown } | undefined;
  return classify({
    kind: "http",
    status,
    code,
    message: typeof error?.message === "string" ? error.message : undefined,
    details: typeof data?.details === "string" ? data.details : undefined,
    retryAfterMs: parseRetryAfter(headers?.get("retry-after")),
  });
}

/**
 * A WAHA error answer. WAHA (NestJS) answers `{statusCode, message, error?}`, and 422
 * `{error:"Session status is not as expected…", session, status, expected}` when the session is
 * not WORKING: STARTING is transient (retryable); SCAN_QR_CODE, STOPPED and FAILED need a person
 * (auth, stop the channel), as do a wrong API key (401/403) and an unknown session (404).
 */
export function classifyWahaAnswer(status: number, body: unknown, headers?: Headers): ProviderError {
  const b = (body ?? {}) as Record<string, unknown>;
  const text = [b.message, b.error].find((m) => typeof m === "string" && m) as string | undefined;
  const retryAfterMs = parseRetryAfter(headers?.get("retry-after"));
  const base = { code: status, httpStatus: status };
  if (status === 422 && typeof b.status === "string") {
    const message = `${text ?? "Session status is not as expected"} (session status ${b.status})`;
    return b.status === "STARTING"
      ? { ...base, class: "retryable", message, retryAfterMs: Math.max(5 * SECOND, retryAfterMs ?? 0) }
      : { ...base, class: "auth", message, action: "stop_channel" };
  }
  if (status === 404) {
    return { ...base, class: "auth", message: text ?? "WAHA session not found", action: "stop_channel" };
  }
  const error = classify({ kind: "http", status, message: text, retryAfterMs });
  if (error.class === "auth") error.action = "stop_channel";
  return error;
}
