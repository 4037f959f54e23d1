import { metricsToken } from "./env";
import { httpRouter } from "convex/server";
import { httpAction } from "./_generated/server";
import { internal } from "./_generated/api";
import { metricsOf, overall, type CheckStatus, type HealthSnapshot } from "./model/health";
import { timingSafeEqualStrings } from "./model/whatsapp/signatures";
import { APP_VERSION } from "./version";
import * as Webhooks from "./whatsappHttp";

const http = httpRouter();

/**
 * Health of the deployment: `ok`, `degraded` (working, but something needs a person: a late
 * scheduler, waiting webhooks, a failing provider) or `down` (the database does not answer).
 * 200 unless down, so a load balancer keeps a degraded deployment in service; each dependency
 * reports its own state for a person (model/health.ts).
 */
http.route({
  path: "/health",
  method: "GET",
  handler: httpAction(async (ctx) => {
    const started = Date.now();
    let database: { status: CheckStatus; latencyMs: number; error?: string };
    let snapshot: HealthSnapshot | null = null;
    try {
      snapshot = (await ctx.runQuery(internal.system.snapshot, {})) as HealthSnapshot;
      database = { status: "ok", latencyMs: Date.now() - started };
    } catch (error) {
      database = {
        status: "down",
        latencyMs: Date.now() - started,
        error: error instanceof Error ? error.message : String(error),
      };
    }
    const checks = snapshot
      ? {
          database,
          scheduler: snapshot.scheduler,
          webhooks: snapshot.webhooks,
          whatsapp: snapshot.whatsapp,
          openai: snapshot.openai,
          email: snapshot.email,
        }
      : { database };
    const status = overall(Object.values(checks));
    return new Response(JSON.stringify({ status, service: "convex", version: APP_VERSION, checks }), {
      status: status === "down" ? 503 : 200,
      headers: { "content-type": "application/json", "cache-control": "no-store" },
    });
  }),
});

/**
 * Metrics for scraping, in Prometheus's text format: dependency states, webhook lag and queue
 * depths, campaign dispatch rates and throttling. Only with `Authorization: Bearer
 * <METRICS_TOKEN>`; without METRICS_TOKEN set the endpoint does not exist (404).
 */
http.route({
  path: "/metrics",
  method: "GET",
  handler: httpAction(async (ctx, request) => {
    const token = metricsToken();
    if (!token) return new Response("Not found", { status: 404 });
    const given = /^Bearer\s+(.+)$/i.exec(request.headers.get("authorization") ?? "")?.[1]?.trim() ?? "";
    if (!timingSafeEqualStrings(given, token))
      return new Response("Unauthorized", { status: 401, headers: { "www-authenticate": "Bearer" } });
    const snapshot = (await ctx.runQuery(internal.system.snapshot, {})) as HealthSnapshot;
    return new Response(metricsOf(snapshot), {
      headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8", "cache-control": "no-store" },
    });
  }),
});

// ---------------------------------------------------------------- WhatsApp webhooks

/** Meta's subscription handshake: echoes hub.challenge when hub.verify_token matches. */
http.route({
  path: "/whatsapp/cloud",
  method: "GET",
  handler: httpAction(async (_ctx, request) => Webhooks.handleCloudVerify(request)),
});

/** Cloud API webhooks: signed with the app secret; each change routed by phone_number_id. */
http.route({
  path: "/whatsapp/cloud",
  method: "POST",
  handler: httpAction((ctx, request) => Webhooks.handleCloudPost(ctx, request)),
});

/** WAHA webhooks: `/whatsapp/waha/<channel id>`, signed with that channel's HMAC key. */
http.route({
  pathPrefix: Webhooks.WAHA_PATH_PREFIX,
  method: "POST",
  handler: httpAction((ctx, request) => Webhooks.handleWahaPost(ctx, request)),
});

export default http;
