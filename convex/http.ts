import { httpRouter } from "convex/server";
import { httpAction } from "./_generated/server";
import { internal } from "./_generated/api";
import { APP_VERSION } from "./version";
import * as Webhooks from "./whatsappHttp";

const http = httpRouter();

/**
 * Health of the Convex HTTP layer: 200 when the database answers, 503 otherwise. Each
 * dependency reports its own status so a load balancer and a person can both read it.
 */
http.route({
  path: "/health",
  method: "GET",
  handler: httpAction(async (ctx) => {
    const started = Date.now();
    let database: { status: "ok" | "down"; latencyMs: number; error?: string };
    let heartbeat: { lastRunAt: number | null } = { lastRunAt: null };
    try {
      const status = await ctx.runQuery(internal.system.health, {});
      database = { status: "ok", latencyMs: Date.now() - started };
      heartbeat = { lastRunAt: status.heartbeat?.lastRunAt ?? null };
    } catch (error) {
      database = {
        status: "down",
        latencyMs: Date.now() - started,
        error: error instanceof Error ? error.message : String(error),
      };
    }
    const ok = database.status === "ok";
    return new Response(
      JSON.stringify({
        status: ok ? "ok" : "down",
        service: "convex",
        version: APP_VERSION,
        checks: { database, scheduler: heartbeat },
      }),
      {
        status: ok ? 200 : 503,
        headers: { "content-type": "application/json", "cache-control": "no-store" },
      },
    );
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
