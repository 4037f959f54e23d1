// Limits on Convex functions the browser calls directly (the web server cannot see those calls;
// its own limits are in app/lib/rate-limit.server.ts, decision 025). Counts live in the
// `rateLimits` table (convex-helpers' token buckets). A mutation that throws rolls its writes
// back, count included: a limit on failures (wrong invitation links) needs the mutation to
// return its failure instead of throwing it, so the count it made is kept (model/invitations.ts).
import { defineRateLimits } from "convex-helpers/server/rateLimit";
import type { GenericDatabaseReader, GenericDatabaseWriter } from "convex/server";
import type { DataModel } from "../_generated/dataModel";
import { fail } from "./errors";

const MINUTE = 60_000;

export const CONVEX_RATE_LIMITS = {
  /** Upload URLs for contact imports, per workspace: 10 at once, then one every 2 minutes. */
  uploadUrl: { kind: "token bucket", rate: 30, period: 60 * MINUTE, capacity: 10 },
  /**
   * Invitation links that did not work (no such invitation, or one for someone else), per
   * signed-in user: 10, then one every 6 minutes. Only failures count.
   */
  invitationMisses: { kind: "token bucket", rate: 10, period: 60 * MINUTE, capacity: 10 },
} as const;

export type ConvexRateLimit = keyof typeof CONVEX_RATE_LIMITS;

const { rateLimit, checkRateLimit } = defineRateLimits(CONVEX_RATE_LIMITS);

/** Waits in words: "in 3 minutes", "in 40 seconds". */
export function waitText(ms: number): string {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  if (seconds < 60) return `in ${seconds} second${seconds === 1 ? "" : "s"}`;
  const minutes = Math.ceil(seconds / 60);
  return `in ${minutes} minute${minutes === 1 ? "" : "s"}`;
}

/** Counts one use of `name` for `key`, or fails with RATE_LIMITED and when to try again. */
export async function limitOrFail(
  ctx: { db: GenericDatabaseWriter<DataModel> },
  name: ConvexRateLimit,
  key: string,
  what: string,
): Promise<void> {
  const result = await rateLimit(ctx, { name, key });
  if (!result.ok) {
    const wait = result.retryAt === undefined ? MINUTE : result.retryAt - Date.now();
    fail("RATE_LIMITED", `Too many ${what}. Try again ${waitText(wait)}.`);
  }
}

/** How long until `key` may use `name` again; 0 when it may now. Reads only (queries may call it). */
export async function waitFor(
  ctx: { db: GenericDatabaseReader<DataModel> },
  name: ConvexRateLimit,
  key: string,
): Promise<number> {
  const result = await checkRateLimit(ctx, { name, key });
  if (result.ok) return 0;
  return Math.max(1000, result.retryAt === undefined ? MINUTE : result.retryAt - Date.now());
}

/** Counts one use of `name` for `key` (when none is left, nothing is written). */
export async function count(
  ctx: { db: GenericDatabaseWriter<DataModel> },
  name: ConvexRateLimit,
  key: string,
): Promise<void> {
  await rateLimit(ctx, { name, key });
}
