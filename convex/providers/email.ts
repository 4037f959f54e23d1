/**
 * Sending email, for actions only. With RESEND_API_KEY the real Resend SDK sends it; without,
 * nothing leaves the deployment and the `emails` table is the mailbox (the embedded default).
 */
import { Resend } from "resend";
import { emailConfig } from "../env";

export type OutgoingEmail = { to: string; subject: string; text: string; html?: string };

export type SendResult =
  | { provider: "outbox" }
  | { provider: "resend"; ok: true; id: string }
  | { provider: "resend"; ok: false; error: string };

const TIMEOUT_MS = 10_000;

export async function sendEmail(email: OutgoingEmail): Promise<SendResult> {
  const config = emailConfig();
  if (config.provider === "outbox") return { provider: "outbox" };
  const resend = new Resend(config.apiKey, config.baseUrl ? { baseUrl: config.baseUrl } : undefined);
  try {
    const { data, error } = await withTimeout(
      resend.emails.send({
        from: config.from,
        to: email.to,
        subject: email.subject,
        text: email.text,
        html: email.html,
      }),
      TIMEOUT_MS,
    );
    if (error || !data)
      return { provider: "resend", ok: false, error: error?.message ?? "Resend returned no id" };
    return { provider: "resend", ok: true, id: data.id };
  } catch (error) {
    return { provider: "resend", ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
