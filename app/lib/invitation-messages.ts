// What the members page says after an invitation is sent, and how long links work, in one place
// so the pages and the backend's rule (INVITATION_TTL_MS) agree.
import { INVITATION_TTL_MS } from "../../convex/model/invitationExpiry";
import { durationInWords } from "./format";

/** "7 days": how long a new invitation link works. */
export function invitationLifetime(): string {
  return durationInWords(INVITATION_TTL_MS);
}

/** Emails compare as the backend stores them: trimmed and lower-cased. */
export function samePendingAddress(pending: readonly { email: string }[] | undefined, address: string) {
  const normalized = address.trim().toLowerCase();
  return pending?.some((p) => p.email === normalized) ?? false;
}

/**
 * The status line after inviting `address`. Inviting an address with a pending invitation sends
 * it again with a new link, and the link sent before stops working: say so.
 */
export function invitationSentMessage(address: string, alreadyPending: boolean): string {
  return alreadyPending
    ? `Invitation resent to ${address}. The link sent earlier no longer works; only the new one does.`
    : `Invitation sent to ${address}`;
}
