// Local sign-in's email: the verification link. Sent with the real Resend SDK when RESEND_API_KEY
// is set (RESEND_BASE_URL for a Resend-compatible server, as on the Convex side). Without a key,
// development shows the link on the page instead (nothing is sent locally); production refuses.
import { Resend } from "resend";
import { getEnv } from "../env.server";
import { logger } from "../logger.server";

const DEFAULT_FROM = "Switchboard <no-reply@switchboard.local>";
const TIMEOUT_MS = 10_000;

export type DeliveryOutcome =
  /** Resend accepted it. */
  | { kind: "sent" }
  /** Development without a mail provider: show the link to the person on the page. */
  | { kind: "shown"; link: string }
  | { kind: "failed"; message: string };

export function verificationEmail(to: string, link: string) {
  const subject = "Verify your email address for Switchboard";
  const text = [
    "Open this link to verify the email address of your Switchboard account:",
    "",
    link,
    "",
    "The link works once, for 24 hours. If you did not ask for it, ignore this email.",
  ].join("\n");
  const html = `<p>Open this link to verify the email address of your Switchboard account:</p><p><a href="${escapeHtml(link)}">Verify ${escapeHtml(to)}</a></p><p>The link works once, for 24 hours. If you did not ask for it, ignore this email.</p>`;
  return { to, subject, text, html };
}

export async function deliverVerificationLink(to: string, link: string): Promise<DeliveryOutcome> {
  const env = getEnv();
  if (!env.RESEND_API_KEY) {
    if (env.NODE_ENV !== "production") return { kind: "shown", link };
    return {
      kind: "failed",
      message: "This server cannot send email (RESEND_API_KEY is not set), so it cannot verify addresses.",
    };
  }
  const resend = new Resend(
    env.RESEND_API_KEY,
    env.RESEND_BASE_URL ? { baseUrl: env.RESEND_BASE_URL } : undefined,
  );
  const message = verificationEmail(to, link);
  try {
    const { data, error } = await Promise.race([
      resend.emails.send({ from: env.EMAIL_FROM ?? DEFAULT_FROM, ...message }),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("timed out")), TIMEOUT_MS).unref()),
    ]);
    if (error || !data) throw new Error(error?.message ?? "Resend returned no id");
    return { kind: "sent" };
  } catch (error) {
    logger.error({ err: error }, "verification email failed");
    return { kind: "failed", message: "The email could not be sent. Please try again in a moment." };
  }
}

function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
}
