// GET /healthz: liveness of the web server and reachability of Convex. 200 when every check is
// ok, 503 otherwise; never cached.
import { APP_VERSION } from "../../convex/version";
import { getEnv } from "../lib/env.server";
import { checkConvex } from "../lib/health.server";
import { logger } from "../lib/logger.server";

export async function loader() {
  const convex = await checkConvex(getEnv().CONVEX_SITE_URL);
  const ok = convex.status === "ok";
  if (!ok) logger.warn({ check: "convex", ...convex }, "health check failed");
  return Response.json(
    { status: ok ? "ok" : "down", service: "web", version: APP_VERSION, checks: { convex } },
    { status: ok ? 200 : 503, headers: { "cache-control": "no-store" } },
  );
}
