// The one place the Remix server reads its configuration. It is validated once, at boot
// (entry.server imports it), and a bad value stops the server with every problem listed.
import { z } from "zod";
import type { AuthMode } from "./auth-user";
import type { PublicEnv } from "./public-env";
import { convexSiteUrlFor, stripTrailingSlash } from "../../convex/shared/site";

const httpUrl = (name: string) =>
  z.url({
    protocol: /^https?$/,
    error: (issue) => (issue.input === undefined ? `${name} is required` : `${name} must be an http(s) URL`),
  });

const optionalText = z.string().min(1).optional();

const schema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  CONVEX_URL: httpUrl("CONVEX_URL"),
  CONVEX_SITE_URL: httpUrl("CONVEX_SITE_URL").optional(),
  SENTRY_DSN: httpUrl("SENTRY_DSN").optional(),
  SENTRY_ENVIRONMENT: optionalText,
  CLERK_PUBLISHABLE_KEY: optionalText,
  CLERK_SECRET_KEY: optionalText,
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  APP_URL: httpUrl("APP_URL").optional(),
  PORT: z.coerce
    .number({ error: "PORT must be a port number" })
    .int("PORT must be a port number")
    .min(1, "PORT must be a port number")
    .max(65_535, "PORT must be a port number")
    .optional(),
  // Local sign-in only (ignored when Clerk is configured): where the signing key, the accounts
  // and the generated session secret live, relative to the working directory (the project root).
  AUTH_DATA_DIR: z.string().min(1).default(".data/auth"),
  SESSION_SECRET: z.string().min(32, "SESSION_SECRET must be at least 32 characters").optional(),
  // Local sign-in's own email (verification links). With RESEND_API_KEY the real Resend SDK sends
  // it (RESEND_BASE_URL points it at a Resend-compatible server); without, links are shown on the
  // page in development and cannot be sent in production.
  // Local sign-in is not a real identity provider: production refuses to start with it unless
  // this is "true" (then passwords are required, attempts rate-limited and a banner shown).
  LOCAL_SIGN_IN_IN_PRODUCTION: z
    .enum(["true", "false"], { error: "LOCAL_SIGN_IN_IN_PRODUCTION must be true or false" })
    .default("false")
    .transform((value) => value === "true"),
  RESEND_API_KEY: optionalText,
  RESEND_BASE_URL: httpUrl("RESEND_BASE_URL").optional(),
  EMAIL_FROM: optionalText,
  // Rate limits shared by every server process (Upstash Redis, or any server speaking its REST
  // API). Without them each process counts in memory (docs/decisions/025-rate-limiting.md).
  UPSTASH_REDIS_REST_URL: httpUrl("UPSTASH_REDIS_REST_URL").optional(),
  UPSTASH_REDIS_REST_TOKEN: optionalText,
});

/** Rules across variables; checked on the raw input so they are reported with every other problem. */
function crossFieldProblems(input: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  if (Boolean(input.CLERK_PUBLISHABLE_KEY) !== Boolean(input.CLERK_SECRET_KEY)) {
    const missing = input.CLERK_PUBLISHABLE_KEY ? "CLERK_SECRET_KEY" : "CLERK_PUBLISHABLE_KEY";
    problems.push(`${missing} is required when the other Clerk key is set (set both or neither)`);
  }
  if (Boolean(input.UPSTASH_REDIS_REST_URL) !== Boolean(input.UPSTASH_REDIS_REST_TOKEN)) {
    const missing = input.UPSTASH_REDIS_REST_URL ? "UPSTASH_REDIS_REST_TOKEN" : "UPSTASH_REDIS_REST_URL";
    problems.push(`${missing} is required when the other Upstash variable is set (set both or neither)`);
  }
  const clerk = Boolean(input.CLERK_PUBLISHABLE_KEY && input.CLERK_SECRET_KEY);
  if (input.NODE_ENV === "production" && !clerk && input.LOCAL_SIGN_IN_IN_PRODUCTION !== "true") {
    problems.push(
      "No identity provider for production: set CLERK_PUBLISHABLE_KEY and CLERK_SECRET_KEY. " +
        "The app's own local sign-in (unverified emails, accounts in a file) is for development; to run it " +
        "in production anyway set LOCAL_SIGN_IN_IN_PRODUCTION=true (passwords are then required, sign-in " +
        "attempts rate-limited, and every page shows a banner)",
    );
  }
  const convexUrlValid = schema.shape.CONVEX_URL.safeParse(input.CONVEX_URL).success;
  if (convexUrlValid && !input.CONVEX_SITE_URL && deriveConvexSiteUrl(input.CONVEX_URL!) === null) {
    problems.push(
      "CONVEX_SITE_URL is required when CONVEX_URL is neither a local URL nor a *.convex.cloud URL",
    );
  }
  return problems;
}

export type Env = Omit<z.output<typeof schema>, "CONVEX_SITE_URL"> & {
  CONVEX_SITE_URL: string;
  AUTH_MODE: AuthMode;
  /** Local sign-in serving a production build (only with LOCAL_SIGN_IN_IN_PRODUCTION=true). */
  LOCAL_SIGN_IN_HARDENED: boolean;
};

export class EnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid environment:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "EnvError";
  }
}

/** Where Convex serves HTTP actions, from the URL its clients use (convex/shared/site.ts). */
export const deriveConvexSiteUrl = convexSiteUrlFor;

/** Validates a set of variables; empty strings count as unset, as in most `.env` files. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  const input: Record<string, string | undefined> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = source[key]?.trim();
    input[key] = value === "" ? undefined : value;
  }
  const result = schema.safeParse(input);
  const problems = result.success
    ? []
    : result.error.issues.map((issue) => {
        const key = issue.path.join(".");
        return issue.message.startsWith(key) ? issue.message : `${key}: ${issue.message}`;
      });
  problems.push(...crossFieldProblems(input));
  if (!result.success || problems.length > 0) throw new EnvError(problems);
  const env = result.data;
  const authMode: AuthMode = env.CLERK_PUBLISHABLE_KEY && env.CLERK_SECRET_KEY ? "clerk" : "local";
  // In local mode APP_URL is also the issuer of sign-in tokens, so it always has a value, and it
  // must be the URL the local Convex server is given as LOCAL_AUTH_ISSUER (local/stack.ts does both).
  const appUrl = env.APP_URL ?? (authMode === "local" ? `http://127.0.0.1:${env.PORT ?? 3000}` : undefined);
  return {
    ...env,
    APP_URL: appUrl === undefined ? undefined : stripTrailingSlash(appUrl),
    AUTH_MODE: authMode,
    LOCAL_SIGN_IN_HARDENED: authMode === "local" && env.NODE_ENV === "production",
    CONVEX_SITE_URL: stripTrailingSlash(
      env.CONVEX_SITE_URL ?? (deriveConvexSiteUrl(env.CONVEX_URL) as string),
    ),
  };
}

let cached: Env | undefined;

/** The validated server environment, parsed from `process.env` on first use. */
export function getEnv(): Env {
  cached ??= parseEnv(process.env);
  return cached;
}

/** The whitelist the browser sees. Add a key here only if it is safe to publish. */
export function toPublicEnv(env: Env): PublicEnv {
  const publicEnv: PublicEnv = { CONVEX_URL: env.CONVEX_URL };
  if (env.SENTRY_DSN) publicEnv.SENTRY_DSN = env.SENTRY_DSN;
  if (env.SENTRY_ENVIRONMENT) publicEnv.SENTRY_ENVIRONMENT = env.SENTRY_ENVIRONMENT;
  if (env.CLERK_PUBLISHABLE_KEY) publicEnv.CLERK_PUBLISHABLE_KEY = env.CLERK_PUBLISHABLE_KEY;
  return publicEnv;
}

export function getPublicEnv(): PublicEnv {
  return toPublicEnv(getEnv());
}
