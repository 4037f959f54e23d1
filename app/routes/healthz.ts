// GET /healthz: liveness of the web server and the state of Convex (and through it the scheduler,
// webhooks and providers). 200 when ok or degraded (working, something needs a person), 503 when
// down; never cached.
import { APP_VERSION } from "../../convex/version";
import { getEnv } from "../lib/env.server";
import { checkConvex } from "../lib/health.server";
import { logger } from "../lib/logger.server";

export async function loader() {
  const convex = await checkConvex(getEnv().CONVEX_SITE_URL);
  if (convex.status !== "ok") logger.warn({ check: "convex", ...convex }, "health check not ok");
  return Response.json(
    { status: convex.status, service: "web", version: APP_VERSION, checks: { convex } },
    { status: convex.status === "down" ? 503 : 200, headers: { "cache-control": "no-store" } },
  );
}
