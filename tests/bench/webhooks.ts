/**
 * Webhook ingest on the local Convex server: N signed Cloud API status webhooks (sent, delivered
 * and read for N/3 outbound messages) posted at a fixed concurrency to POST /whatsapp/cloud (the real router and functions, through the site
 * port over HTTP). Measures ack latency (request sent → 200 received: signature check, parse,
 * normalise, the storing mutation with its fsync) and throughput, and compares them with a no-op
 * HTTP action on the same server given the same bodies. Processing runs in the background while
 * the acks are measured, as in production; its drain time is reported too, and so are the
 * mutations that would have conflicted on Convex meanwhile (from GET /_local/metrics).
 */
import { createHmac } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { makeFunctionReference } from "convex/server";
import { percentile } from "../../local/convex-server/metrics";
import { adminClient, ROOT, removeDir, spawnServer, tempDir } from "../local/harness";
import { conflictsBetween, readMetrics, type ConflictRow } from "./conflicts";

const APP_SECRET = "bench-app-secret";
const PHONE_NUMBER_ID = "100000000000001";

export type WebhooksResult = {
  requests: number;
  concurrency: number;
  ackP50Ms: number;
  ackP99Ms: number;
  ackMaxMs: number;
  throughputPerSecond: number;
  noopP50Ms: number;
  noopP99Ms: number;
  noopThroughputPerSecond: number;
  /** Webhook ack latency divided by the no-op's, at p50 and p99. */
  ratioP50: number;
  ratioP99: number;
  non200: number;
  /** From the first webhook sent until every event was processed. */
  processedAllAfterMs: number;
  deadLetters: number;
  /** Per mutation that committed from the first measured webhook until processing drained. */
  conflicts: ConflictRow[];
};

const seedChannel = makeFunctionReference<"mutation">("bench:seedChannel");
const seedMessages = makeFunctionReference<"mutation">("bench:seedMessages");
const backlog = makeFunctionReference<"query", Record<string, never>, { waiting: number; dead: number }>(
  "bench:backlog",
);

function statusBody(wamid: string, status: string, index: number): Buffer {
  const body = {
    object: "whatsapp_business_account",
    entry: [
      {
        id: "1",
        changes: [
          {
            field: "messages",
            value: {
              messaging_product: "whatsapp",
              metadata: { display_phone_number: "34600000000", phone_number_id: PHONE_NUMBER_ID },
              statuses: [
                {
                  id: wamid,
                  status,
                  timestamp: String(1717430400 + index),
                  recipient_id: "34600000001",
                  pricing: { billable: true, pricing_model: "PMP", type: "regular", category: "utility" },
                },
              ],
            },
          },
        ],
      },
    ],
  };
  return Buffer.from(JSON.stringify(body));
}

type Signed = { body: Buffer; signature: string };

function sign(body: Buffer): Signed {
  return { body, signature: `sha256=${createHmac("sha256", APP_SECRET).update(body).digest("hex")}` };
}

/** Posts every request with `concurrency` in flight; returns per-request latencies and the wall time. */
async function drive(url: string, requests: Signed[], concurrency: number) {
  const latencies: number[] = [];
  let non200 = 0;
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= requests.length) return;
      const { body, signature } = requests[i];
      const sent = performance.now();
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "x-hub-signature-256": signature },
        body: new Uint8Array(body),
      });
      await response.arrayBuffer();
      latencies.push(performance.now() - sent);
      if (response.status !== 200) non200 += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const wallMs = performance.now() - started;
  latencies.sort((a, b) => a - b);
  return { latencies, wallMs, non200 };
}

export async function runWebhooks(
  options: { requests?: number; concurrency?: number } = {},
): Promise<WebhooksResult> {
  const requests = options.requests ?? 2_000;
  const concurrency = options.concurrency ?? 20;
  const dataDir = tempDir("convex-bench-webhooks-");
  // The server runs as its own process (the real CLI), as it does for `npm run dev`, so the load
  // generator here does not share its event loop.
  const envFile = path.join(dataDir, "bench.env");
  writeFileSync(envFile, `WHATSAPP_APP_SECRET=${APP_SECRET}\n`);
  const server = await spawnServer([
    "--functions",
    path.join(ROOT, "tests/fixtures/webhook-bench/convex"),
    "--data",
    path.join(dataDir, "data"),
    "--port",
    "0",
    "--site-port",
    "0",
    "--env-file",
    envFile,
  ]);
  try {
    const admin = adminClient(server);
    const ids = (await admin.mutation(seedChannel, { phoneNumberId: PHONE_NUMBER_ID })) as Record<
      string,
      string
    >;
    // Status traffic as it comes: each message we sent gets sent, delivered and read (posted in
    // that order; the state machine sees them interleaved with other messages' statuses).
    const warmup = 99;
    const total = requests + warmup;
    const wamids = Array.from(
      { length: Math.ceil(total / 3) },
      (_, i) => `wamid.BENCH${String(i).padStart(6, "0")}`,
    );
    for (let i = 0; i < wamids.length; i += 200) {
      await admin.mutation(seedMessages, { ...ids, wamids: wamids.slice(i, i + 200) });
    }
    const statuses = ["sent", "delivered", "read"];
    const bodies = Array.from({ length: total }, (_, i) =>
      sign(statusBody(wamids[Math.floor(i / 3)], statuses[i % 3], i)),
    );
    const warm = bodies.slice(0, warmup);
    const measured = bodies.slice(warmup);
    const webhookUrl = `${server.siteUrl}/whatsapp/cloud`;
    const noopUrl = `${server.siteUrl}/noop`;

    // Warm both paths (module loading, JIT), then let the warm-up's processing finish.
    await drive(noopUrl, warm, concurrency);
    await drive(webhookUrl, warm, concurrency);
    await waitForBacklog(admin, 60_000);

    const noop = await drive(noopUrl, measured, concurrency);
    const metricsBefore = await readMetrics(server);
    const startedAt = performance.now();
    const ingest = await drive(webhookUrl, measured, concurrency);
    const drained = await waitForBacklog(admin, 300_000);
    const processedAllAfterMs = performance.now() - startedAt;
    const conflicts = conflictsBetween(metricsBefore, await readMetrics(server));

    const p = (xs: number[], q: number) => round(percentile(xs, q));
    return {
      requests,
      concurrency,
      ackP50Ms: p(ingest.latencies, 0.5),
      ackP99Ms: p(ingest.latencies, 0.99),
      ackMaxMs: round(ingest.latencies[ingest.latencies.length - 1] ?? 0),
      throughputPerSecond: round((requests / ingest.wallMs) * 1000),
      noopP50Ms: p(noop.latencies, 0.5),
      noopP99Ms: p(noop.latencies, 0.99),
      noopThroughputPerSecond: round((requests / noop.wallMs) * 1000),
      ratioP50: round(percentile(ingest.latencies, 0.5) / percentile(noop.latencies, 0.5)),
      ratioP99: round(percentile(ingest.latencies, 0.99) / percentile(noop.latencies, 0.99)),
      non200: ingest.non200 + noop.non200,
      processedAllAfterMs: round(processedAllAfterMs),
      deadLetters: drained.dead,
      conflicts,
    };
  } finally {
    await server.kill("SIGTERM");
    removeDir(dataDir);
  }
}

async function waitForBacklog(admin: ReturnType<typeof adminClient>, timeoutMs: number) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const state = await admin.query(backlog, {});
    if (state.waiting === 0) return state;
    if (performance.now() > deadline)
      throw new Error(`Webhook processing did not drain: ${JSON.stringify(state)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
