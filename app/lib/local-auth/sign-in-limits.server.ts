// How often local sign-in may be tried when it serves a production build: per email address
// (against guessing one account's password) and per client address (against trying many).
import { getRateLimiter, RATE_LIMITS, type RateLimiter } from "../rate-limit.server";

export const SIGN_IN_LIMITS = {
  perEmail: RATE_LIMITS.signInPerEmail,
  perClient: RATE_LIMITS.signInPerClient,
} as const;

export type SignInLimiters = { perEmail: RateLimiter; perClient: RateLimiter };

let limiters: SignInLimiters | undefined;

/** The process's sign-in limiters: in Redis when configured, else in memory (rate-limit.server). */
export function getSignInLimiters(): SignInLimiters {
  return (
    limiters ?? {
      perEmail: getRateLimiter("signInPerEmail"),
      perClient: getRateLimiter("signInPerClient"),
    }
  );
}

export function setSignInLimiters(next: SignInLimiters | undefined): void {
  limiters = next;
}

/**
 * The client's address as the nearest reverse proxy reported it: the last X-Forwarded-For entry
 * (the one the proxy appended), else X-Real-IP; null when the request came with neither. Run the
 * app behind a proxy that sets it, or clients choose their own key and only the per-email limit holds.
 */
export function clientAddress(request: Request): string | null {
  const forwarded = request.headers.get("x-forwarded-for");
  const last = forwarded
    ?.split(",")
    .map((part) => part.trim())
    .filter(Boolean)
    .at(-1);
  return last || request.headers.get("x-real-ip")?.trim() || null;
}
