/**
 * Local Convex server reactivity: N clients each subscribed to K queries (each on its own
 * index range) while a writer commits at a steady rate to one range at a time. Measures
 * commit-to-client latency and how many subscription re-runs each commit causes.
 */
import path from "node:path";
import { ConvexClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import WebSocket from "ws";
import { startLocalConvex } from "../../local/convex-server/server";
import { percentile } from "../../local/convex-server/metrics";
import { ROOT, tempDir, removeDir } from "../local/harness";

const byBucket = makeFunctionReference<"query", { bucket: number }, { sentAt: number; seq: number } | null>(
  "items:byBucket",
);
const write = makeFunctionReference<"mutation", { bucket: number; sentAt: number; seq: number }>(
  "items:write",
);
const seed = makeFunctionReference<"mutation", { buckets: number }>("items:seed");

export type ReactivityResult = {
  clients: number;
  queriesPerClient: number;
  subscriptions: number;
  commits: number;
  writeRatePerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  rerunsPerCommit: number;
  updatesMissed: number;
};

export async function runReactivity(
  clients: number,
  queriesPerClient: number,
  options: { commits?: number; ratePerSecond?: number } = {},
): Promise<ReactivityResult> {
  const commits = options.commits ?? 200;
  const rate = options.ratePerSecond ?? 50;
  const dataDir = tempDir("convex-bench-");
  const server = await startLocalConvex({
    functionsDir: path.join(ROOT, "tests/fixtures/bench-app/convex"),
    dataDir,
    port: 0,
    sitePort: 0,
    fsync: true,
    log: () => {},
  });
  const subscriptions = clients * queriesPerClient;
  const connections: ConvexClient[] = [];
  const latencies: number[] = [];
  const seen = new Map<number, number>(); // seq -> receipt time
  try {
    const writer = new ConvexClient(server.url, { webSocketConstructor: WebSocket as never });
    connections.push(writer);
    await writer.mutation(seed, { buckets: subscriptions });

    // Subscribe every client to its own buckets and wait for all initial results.
    let initial = 0;
    const allReady = new Promise<void>((resolve) => {
      for (let c = 0; c < clients; c++) {
        const client = new ConvexClient(server.url, { webSocketConstructor: WebSocket as never });
        connections.push(client);
        for (let k = 0; k < queriesPerClient; k++) {
          const bucket = c * queriesPerClient + k;
          let first = true;
          client.onUpdate(byBucket, { bucket }, (value) => {
            if (first) {
              first = false;
              if (++initial === subscriptions) resolve();
              return;
            }
            if (value && value.seq > 0 && !seen.has(value.seq)) {
              const now = performance.now();
              seen.set(value.seq, now);
              latencies.push(now - value.sentAt);
            }
          });
        }
      }
    });
    await allReady;

    const before = server.engine.metrics.snapshot().reactivity;
    const interval = 1000 / rate;
    const start = performance.now();
    const pending: Promise<unknown>[] = [];
    for (let seq = 1; seq <= commits; seq++) {
      const due = start + (seq - 1) * interval;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const bucket = (seq * 7919) % subscriptions;
      pending.push(writer.mutation(write, { bucket, sentAt: performance.now(), seq }));
    }
    await Promise.all(pending);
    // Let the last updates arrive.
    const deadline = performance.now() + 5_000;
    while (seen.size < commits && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const after = server.engine.metrics.snapshot().reactivity;
    latencies.sort((a, b) => a - b);
    return {
      clients,
      queriesPerClient,
      subscriptions,
      commits,
      writeRatePerSecond: rate,
      latencyP50Ms: round(percentile(latencies, 0.5)),
      latencyP99Ms: round(percentile(latencies, 0.99)),
      rerunsPerCommit: round(
        (after.subscriptionRuns - before.subscriptionRuns) / (after.commits - before.commits),
      ),
      updatesMissed: commits - seen.size,
    };
  } finally {
    await Promise.all(connections.map((c) => c.close()));
    await server.close();
    removeDir(dataDir);
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
