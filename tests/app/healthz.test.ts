import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { CheckResult } from "../../app/lib/health.server";
import { closedPort, sendJson, startServer, type TestServer } from "./helpers";

const packageVersion = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"))
  .version as string;

/** The JSON body /healthz answers with. */
type HealthBody = {
  status: "ok" | "degraded" | "down";
  service: string;
  version: string;
  checks: { convex: CheckResult; rateLimits: CheckResult & { store: string } };
};

let server: TestServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
  vi.unstubAllEnvs();
});

/** The route as the server loads it, with a fresh env parsed from these variables. */
async function healthzWith(siteUrl: string) {
  vi.resetModules();
  vi.stubEnv("CONVEX_URL", "http://127.0.0.1:3210");
  vi.stubEnv("CONVEX_SITE_URL", siteUrl);
  vi.stubEnv("LOG_LEVEL", "silent");
  const route = await import("../../app/routes/healthz");
  const response = await route.loader();
  return { response, body: (await response.json()) as HealthBody };
}

describe("GET /healthz", () => {
  it("is 200 with every check ok when Convex answers /health", async () => {
    server = await startServer((req, res) =>
      req.url === "/health" ? sendJson(res, 200, { status: "ok" }) : sendJson(res, 404, {}),
    );
    const { response, body } = await healthzWith(server.url);
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("content-type")).toMatch(/application\/json/);
    expect(body).toEqual({
      status: "ok",
      service: "web",
      version: packageVersion,
      checks: {
        convex: { status: "ok", latencyMs: expect.any(Number) },
        // No Redis configured outside production: limits count in memory, which is fine there.
        rateLimits: { status: "ok", store: "memory", latencyMs: 0 },
      },
    });
    expect(server.requests).toEqual(["GET /health"]);
  });

  it("is 503 with the convex check down when nothing listens", async () => {
    const { response, body } = await healthzWith(`http://127.0.0.1:${await closedPort()}`);
    expect(response.status).toBe(503);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(body.status).toBe("down");
    expect(body.service).toBe("web");
    expect(body.checks.convex).toMatchObject({ status: "down", error: "ECONNREFUSED" });
  });

  it("is 200 and degraded, naming what Convex says is degraded", async () => {
    server = await startServer((_req, res) =>
      sendJson(res, 200, {
        status: "degraded",
        checks: {
          database: { status: "ok" },
          scheduler: { status: "degraded", detail: "the heartbeat cron last ran 240 s ago" },
          webhooks: { status: "ok" },
        },
      }),
    );
    const { response, body } = await healthzWith(server.url);
    expect(response.status).toBe(200);
    expect(body.status).toBe("degraded");
    expect(body.checks.convex).toMatchObject({
      status: "degraded",
      degraded: ["scheduler: the heartbeat cron last ran 240 s ago"],
    });
  });

  it("is 503 when Convex reports itself down", async () => {
    server = await startServer((_req, res) => sendJson(res, 503, { status: "down" }));
    const { response, body } = await healthzWith(server.url);
    expect(response.status).toBe(503);
    expect(body.checks.convex).toMatchObject({ status: "down", error: "HTTP 503 (down)" });
  });

  it("is 503 when something else answers 200 without saying ok", async () => {
    server = await startServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<html>hello</html>");
    });
    const { response, body } = await healthzWith(server.url);
    expect(response.status).toBe(503);
    expect(body.checks.convex.status).toBe("down");
  });

  it("gives up after 2 seconds when Convex hangs", async () => {
    server = await startServer(() => {
      /* never answers */
    });
    const started = Date.now();
    const { response, body } = await healthzWith(server.url);
    const took = Date.now() - started;
    expect(response.status).toBe(503);
    expect(body.checks.convex.error).toBe("timed out after 2000 ms");
    expect(took).toBeGreaterThanOrEqual(1_900);
    expect(took).toBeLessThan(4_000);
  });
});
