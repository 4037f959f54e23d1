import type { FunctionReturnType } from "convex/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import { adminClient, httpClient, startServer, waitForValue, wsClient, type TestServer } from "./harness";

type Status = FunctionReturnType<typeof api.system.status>;

describe("local Convex server hosting this app", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("pushes a mutation by another client to a live subscription", async () => {
    const client = wsClient(server.url);
    try {
      // The heartbeat cron runs as soon as the server starts; count from wherever it is.
      const first = await waitForValue<Status>(
        (cb) => client.onUpdate(api.system.status, {}, cb),
        () => true,
      );
      const runs = first.heartbeat?.runs ?? 0;
      const next = waitForValue<Status>(
        (cb) => client.onUpdate(api.system.status, {}, cb),
        (v) => v.heartbeat?.runs === runs + 1,
      );
      await adminClient(server).mutation(internal.system.heartbeat as never, {});
      expect((await next).heartbeat?.ok).toBe(true);
    } finally {
      await client.close();
    }
  });

  it("keeps internal functions away from clients", async () => {
    await expect(httpClient(server.url).mutation(internal.system.heartbeat as never, {})).rejects.toThrow(
      /Could not find public function for 'system:heartbeat'/,
    );
  });
});
