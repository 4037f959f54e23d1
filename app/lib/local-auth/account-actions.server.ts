// What the local account page and the verification link do, apart from rendering: send a
// verification link for the signed-in account's email, use one, and set a first password.
import { getAccountStore, localAuthConfig } from "../auth.server";
import { getEnv } from "../env.server";
import { safeRedirect } from "../safe-redirect";
import type { Account } from "./accounts.server";
import { getSigningKey } from "./keys.server";
import { deliverVerificationLink, type DeliveryOutcome } from "./mail.server";
import { readVerificationToken, VERIFICATION_TTL_MS, verificationLink } from "./verification.server";

export type SendVerificationOutcome = DeliveryOutcome | { kind: "needs-password" };

/**
 * Makes a new single-use link for the account's email (the previous one stops working) and sends
 * it. `next` is where the link leads after verifying (a path on this site).
 */
export async function sendVerificationLink(
  account: Account,
  next?: string | null,
): Promise<SendVerificationOutcome> {
  const store = getAccountStore();
  const started = await store.startEmailVerification(account.id, VERIFICATION_TTL_MS);
  if (!started.ok)
    return started.reason === "no-password"
      ? { kind: "needs-password" }
      : { kind: "failed", message: "Sign in again" };
  const { issuer, dataDir } = localAuthConfig();
  let link = await verificationLink(
    await getSigningKey(dataDir),
    issuer,
    { accountId: account.id, email: started.account.email, nonce: started.nonce },
    started.expiresAt,
  );
  const target = safeRedirect(next, "");
  if (target) {
    const url = new URL(link);
    url.searchParams.set("next", target);
    link = url.toString();
  }
  return await deliverVerificationLink(started.account.email, link);
}

export type UseLinkOutcome = { ok: true; email: string } | { ok: false; message: string };

const LINK_PROBLEMS = {
  invalid: "This verification link is not valid. Ask for a new one on your account page.",
  "no-account": "The account this link was for no longer exists.",
  "no-password": "Set a password on your account first, then ask for a new link.",
  "used-or-replaced":
    "This verification link was already used, or a newer link replaced it. Use the newest link, or ask for a new one.",
  expired: "This verification link has expired. Ask for a new one on your account page.",
  "email-changed": "This link was for another email address. Ask for a new one on your account page.",
} as const;

/** Checks the signed link and, if it is the account's current one, marks the email verified. */
export async function redeemVerificationLink(token: string): Promise<UseLinkOutcome> {
  const { issuer, dataDir } = localAuthConfig();
  const claims = await readVerificationToken(await getSigningKey(dataDir), issuer, token);
  if (!claims) return { ok: false, message: LINK_PROBLEMS.invalid };
  const result = await getAccountStore().completeEmailVerification(
    claims.accountId,
    claims.email,
    claims.nonce,
  );
  return result.ok
    ? { ok: true, email: result.account.email }
    : { ok: false, message: LINK_PROBLEMS[result.reason] };
}

/** Only what the page may show about a link before it is used: whose email it is for, if genuine. */
export async function previewVerificationLink(token: string): Promise<{ email: string } | null> {
  const { issuer, dataDir } = localAuthConfig();
  const claims = await readVerificationToken(await getSigningKey(dataDir), issuer, token);
  return claims ? { email: claims.email } : null;
}

/** True in development without a mail provider: verification links are shown, not sent. */
export function linksShownOnPage(): boolean {
  const env = getEnv();
  return !env.RESEND_API_KEY && env.NODE_ENV !== "production";
}
