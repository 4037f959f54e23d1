// Masking of secrets and personal data in free text and structured values, shared by the server
// log (logger.server.ts) and error reports (sentry-scrub.ts) on the server and in the browser.

export const REDACTED = "[REDACTED]";

// Keys whose values are secrets wherever they appear. "token" only as a suffix, so counters such
// as `promptTokens` stay readable.
const SENSITIVE_KEY =
  /(authorization|cookie|password|passwd|secret|apikey|privatekey|credential|signature)|token$/;

export function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEY.test(key.toLowerCase().replace(/[-_]/g, ""));
}

// An E.164-ish number (8–15 digits, optional +) standing alone, not part of a longer word or id.
const PHONE = /(?<![\w+])(\+?)(\d{4,11})(\d{4})(?!\w)/g;
const BEARER = /\b(Bearer)\s+[^\s"',;]+/gi;

/** Masks bearer tokens and phone numbers (keeping the last 4 digits) inside free text. */
export function redactString(text: string): string {
  return text
    .replace(BEARER, `$1 ${REDACTED}`)
    .replace(PHONE, (_match, plus: string, hidden: string, last4: string) => {
      return `${plus}${"*".repeat(hidden.length)}${last4}`;
    });
}

const EMAIL = /[\w.+-]+@([\w-]+\.)+[\w-]{2,}/g;

/**
 * redactString plus email addresses (the domain kept, for telling a customer's problem from a
 * team's): for error reports, which leave the platform.
 */
export function redactPersonalData(text: string): string {
  return redactString(text).replace(EMAIL, (address) => `${REDACTED}@${address.split("@")[1]}`);
}

const MAX_DEPTH = 8;

/** A copy of a log value with sensitive keys censored and every string passed through redactString. */
export function sanitize(
  value: unknown,
  depth = 0,
  seen = new WeakSet<object>(),
  text: (value: string) => string = redactString,
): unknown {
  if (typeof value === "string") return text(value);
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value)) return "[Circular]";
  if (depth >= MAX_DEPTH) return "[Truncated]";
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => sanitize(item, depth + 1, seen, text));
  if (value instanceof Error) {
    // Same shape as pino's error serializer, so errors stay readable after masking.
    const out: Record<string, unknown> = {
      type: value.name,
      message: text(value.message),
      stack: value.stack ? text(value.stack) : undefined,
    };
    for (const [key, inner] of Object.entries(value)) {
      out[key] = isSensitiveKey(key) ? REDACTED : sanitize(inner, depth + 1, seen, text);
    }
    if (value.cause !== undefined) out.cause = sanitize(value.cause, depth + 1, seen, text);
    return out;
  }
  const withToJSON = value as { toJSON?: () => unknown };
  if (typeof withToJSON.toJSON === "function") return sanitize(withToJSON.toJSON(), depth + 1, seen, text);
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = isSensitiveKey(key) && inner != null ? REDACTED : sanitize(inner, depth + 1, seen, text);
  }
  return out;
}
