// Limits on Convex functions the browser calls directly (the web server cannot see those calls;
// its own limits are in app/lib/rate-limit.server.ts, decision 025). Counts live in the
// `rateLimits` table (convex-helpers' token buckets). A mutation that throws rolls its writes
// back, so only functions that succeed are counted here: asking for an upload URL.
import { defineRateLimits } from "convex-helpers/server/rateLimit";
import type { GenericDatabaseWriter } from "convex/server";
import type { DataModel } from "../_generated/dataModel";
import { fail } from "./errors";

const MINUTE = 60_000;

export const CONVEX_RATE_LIMITS = {
  /** Upload URLs for contact imports, per workspace: 10 at once, then one every 2 minutes. */
  uploadUrl: { kind: "token bucket", rate: 30, period: 60 * MINUTE, capacity: 10 },
} as const;

const { rateLimit } = defineRateLimits(CONVEX_RATE_LIMITS);

/** Waits in words: "in 3 minutes", "in 40 seconds". */
function waitText(ms: number): string {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  if (seconds < 60) return `in ${seconds} second${seconds === 1 ? "" : "s"}`;
  const minutes = Math.ceil(seconds / 60);
  return `in ${minutes} minute${minutes === 1 ? "" : "s"}`;
}

/** Counts one use of `name` for `key`, or fails with RATE_LIMITED and when to try again. */
export async function limitOrFail(
  ctx: { db: GenericDatabaseWriter<DataModel> },
  name: keyof typeof CONVEX_RATE_LIMITS,
  key: string,
  what: string,
): Promise<void> {
  const result = await rateLimit(ctx, { name, key });
  if (!result.ok) {
    const wait = result.retryAt === undefined ? MINUTE : result.retryAt - Date.now();
    fail("RATE_LIMITED", `Too many ${what}. Try again ${waitText(wait)}.`);
  }
}
