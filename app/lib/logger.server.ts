// Structured server logs (pino, JSON lines) that never carry secrets, tokens or full phone numbers.
import pino, { type DestinationStream, type Logger } from "pino";
import { getEnv } from "./env.server";
import { redactString, sanitize } from "./redact";

export { redactString, sanitize };

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
