// GET /healthz: liveness of the web server, the state of Convex (and through it the scheduler,
// webhooks and providers) and of the rate-limit store (Redis). 200 when ok or degraded (working,
// something needs a person), 503 when down; never cached. Redis being unreachable only degrades:
// limits then count in each process's memory.
import { APP_VERSION } from "../../convex/version";
import { getEnv } from "../lib/env.server";
import { checkConvex, checkRateLimitStore } from "../lib/health.server";
import { logger } from "../lib/logger.server";
import { getRateLimitBackend } from "../lib/rate-limit.server";

export async function loader() {
  const [convex, rateLimits] = await Promise.all([
    checkConvex(getEnv().CONVEX_SITE_URL),
    checkRateLimitStore(getRateLimitBackend()),
  ]);
  if (convex.status !== "ok") logger.warn({ check: "convex", ...convex }, "health check not ok");
  if (rateLimits.status !== "ok") logger.warn({ check: "rateLimits", ...rateLimits }, "health check not ok");
  const status =
    convex.status === "down"
      ? "down"
      : convex.status === "degraded" || rateLimits.status !== "ok"
        ? "degraded"
        : "ok";
  return Response.json(
    { status, service: "web", version: APP_VERSION, checks: { convex, rateLimits } },
    { status: status === "down" ? 503 : 200, headers: { "cache-control": "no-store" } },
  );
}
