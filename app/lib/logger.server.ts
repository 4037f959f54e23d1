// Structured server logs (pino, JSON lines) that never carry secrets, tokens or full phone numbers.
import pino, { type DestinationStream, type Logger } from "pino";
import { getEnv } from "./env.server";

export type { Logger };

const REDACTED = "[REDACTED]";

/**
 * Exact paths pino censors while serialising: the usual places secrets travel (request headers,
 * credential fields). `sanitize` below also catches these keys at any depth, since pino's
 * wildcards only reach one level.
 */
export const REDACT_PATHS = [
  "authorization",
  "cookie",
  "password",
  "token",
  "accessToken",
  "refreshToken",
  "apiKey",
  "secret",
  "appSecret",
  "clientSecret",
  "webhookSecret",
  "verifyToken",
  "*.authorization",
  "*.cookie",
  "*.password",
  "*.token",
  "*.accessToken",
  "*.refreshToken",
  "*.apiKey",
  "*.secret",
  "*.appSecret",
  "headers.authorization",
  "headers.cookie",
  'headers["set-cookie"]',
  'headers["x-api-key"]',
  'headers["x-hub-signature-256"]',
  "req.headers.authorization",
  "req.headers.cookie",
  "res.headers['set-cookie']",
];

// Keys whose values are secrets wherever they appear. "token" only as a suffix, so counters such
// as `promptTokens` stay readable.
const SENSITIVE_KEY =
  /(authorization|cookie|password|passwd|secret|apikey|privatekey|credential|signature)|token$/;

function isSensitiveKey(key: string): boolean {
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

const MAX_DEPTH = 8;

/** A copy of a log value with sensitive keys censored and every string passed through redactString. */
export function sanitize(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === "string") return redactString(value);
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value)) return "[Circular]";
  if (depth >= MAX_DEPTH) return "[Truncated]";
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => sanitize(item, depth + 1, seen));
  if (value instanceof Error) {
    // Same shape as pino's error serializer, so errors stay readable after masking.
    const out: Record<string, unknown> = {
      type: value.name,
      message: redactString(value.message),
      stack: value.stack ? redactString(value.stack) : undefined,
    };
    for (const [key, inner] of Object.entries(value)) {
      out[key] = isSensitiveKey(key) ? REDACTED : sanitize(inner, depth + 1, seen);
    }
    if (value.cause !== undefined) out.cause = sanitize(value.cause, depth + 1, seen);
    return out;
  }
  const withToJSON = value as { toJSON?: () => unknown };
  if (typeof withToJSON.toJSON === "function") return sanitize(withToJSON.toJSON(), depth + 1, seen);
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = isSensitiveKey(key) && inner != null ? REDACTED : sanitize(inner, depth + 1, seen);
  }
  return out;
}

function errorMessageOf(value: unknown): string | undefined {
  if (value instanceof Error) return value.message;
  if (value && typeof value === "object") {
    const { err, msg } = value as { err?: unknown; msg?: unknown };
    if (msg === undefined && err instanceof Error) return err.message;
  }
  return undefined;
}

export type LoggerOptions = {
  level?: string;
  /** Where lines go; stdout by default. Tests pass a stream to read what was written. */
  destination?: DestinationStream;
};

export function createLogger({ level = "info", destination }: LoggerOptions = {}): Logger {
  const logger = pino(
    {
      level,
      base: { service: "web" },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      formatters: {
        level: (label) => ({ level: label }),
        bindings: (bindings) => sanitize(bindings) as Record<string, unknown>,
        log: (object) => sanitize(object) as Record<string, unknown>,
      },
      // `formatters.log` runs first and already turns errors into masked plain objects.
      serializers: { err: (value: unknown) => value },
      hooks: {
        // The message and its interpolation arguments are free text too. A leading object is
        // left to `formatters.log` so pino still recognises errors; but pino takes the message
        // of a logged error before any formatter runs, so that message is masked here.
        logMethod(args, method) {
          const [first, ...rest] = args as unknown[];
          if (typeof first === "string") {
            const cleaned = [redactString(first), ...rest.map((arg) => sanitize(arg))];
            return method.apply(this, cleaned as Parameters<typeof method>);
          }
          let message = rest[0];
          if (message === undefined) message = errorMessageOf(first);
          const cleaned =
            message === undefined
              ? [first]
              : [first, typeof message === "string" ? redactString(message) : message];
          cleaned.push(...rest.slice(1).map((arg) => sanitize(arg)));
          return method.apply(this, cleaned as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
  // pino does not run `formatters.bindings` for children; mask their bindings on the way in.
  // Grandchildren inherit this method through the prototype chain.
  const child = logger.child;
  logger.child = function (this: Logger, bindings, options) {
    return child.call(this, sanitize(bindings) as typeof bindings, options);
  } as typeof logger.child;
  return logger;
}

function configuredLevel(): string {
  try {
    return getEnv().LOG_LEVEL;
  } catch {
    // An invalid environment is reported by the boot check in entry.server; logging still works.
    return "info";
  }
}

export const logger: Logger = createLogger({ level: configuredLevel() });
