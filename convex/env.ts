/**
 * The one place the Convex side reads its configuration (set with `npx convex env set`, or the
 * local server's --env-file). Read lazily, so a missing optional variable never breaks a push.
 */
/* eslint-disable @convex-dev/no-process-env -- this module is the single reader of process.env */

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
  return url.replace(/\/+$/, "");
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
