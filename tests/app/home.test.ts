// The home loader preloads the system status over Convex's HTTP query API for first paint,
// and renders without it (status null) when Convex is unreachable or slow.
import { afterEach, describe, expect, it, vi } from "vitest";
import { closedPort, sendJson, startServer, type TestServer } from "./helpers";

let server: TestServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
  vi.unstubAllEnvs();
});

async function homeLoaderWith(convexUrl: string) {
  vi.resetModules();
  vi.stubEnv("CONVEX_URL", convexUrl);
  vi.stubEnv("CONVEX_SITE_URL", "http://127.0.0.1:1");
  vi.stubEnv("LOG_LEVEL", "silent");
  const route = await import("../../app/routes/_index");
  return route.loader();
}

describe("home loader", () => {
  it("preloads api.system.status from Convex", async () => {
    const status = { version: "9.9.9", heartbeat: { runs: 7, lastRunAt: 1_700_000_000_000, ok: true } };
    const calls: unknown[] = [];
    server = await startServer((req, res, body) => {
      if (req.method === "POST" && req.url === "/api/query") {
        calls.push(JSON.parse(body));
        sendJson(res, 200, { status: "success", value: status, logLines: [] });
      } else sendJson(res, 404, {});
    });
    await expect(homeLoaderWith(server.url)).resolves.toEqual({ status });
    expect(calls).toEqual([expect.objectContaining({ path: "system:status", args: [{}] })]);
  });

  it("renders without the snapshot when Convex is down", async () => {
    await expect(homeLoaderWith(`http://127.0.0.1:${await closedPort()}`)).resolves.toEqual({
      status: null,
    });
  });

  it("does not hold the page when Convex hangs", async () => {
    server = await startServer(() => {
      /* never answers */
    });
    const started = Date.now();
    await expect(homeLoaderWith(server.url)).resolves.toEqual({ status: null });
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});
