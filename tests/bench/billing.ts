/**
 * Billing on the local Convex server (the real CLI as its own process, fsync on), with the real
 * billing, webhook and cron functions (tests/fixtures/billing-bench/convex re-exports them):
 *
 * - **Settle throughput**: N priced messages waiting for settlement; the settlement mutation is
 *   called until none are left. Messages settled per second, and documents written per settled
 *   message (from the server's per-function metrics).
 * - **A 1,000-message campaign at 80 and 240 status webhooks/s**: 20 dispatch batches of 50, each
 *   reserving once (as docs/decisions/013 asks of the dispatcher); then sent, delivered and read
 *   statuses for every message posted, signed, to POST /whatsapp/cloud at a steady rate while the
 *   real 5-second settlement cron runs; finally each batch's remainder is released. Counts the
 *   wallet's writes and, from the server's would-be-conflict report, the mutations that Convex's
 *   optimistic concurrency would have retried.
 */
import { createHmac } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { makeFunctionReference } from "convex/server";
import { SETTLE_BATCH } from "../../convex/model/billing/settlement";
import type { MetricsSnapshot } from "../../local/convex-server/metrics";
import { adminClient, ROOT, removeDir, spawnServer, tempDir, type SpawnedServer } from "../local/harness";
import { conflictsBetween, readMetrics } from "./conflicts";

const APP_SECRET = "bench-app-secret";
const FUNCTIONS = path.join(ROOT, "tests/fixtures/billing-bench/convex");

type Ids = { tenantId: string; channelId: string; contactId: string; conversationId: string };

const ref = {
  loadRates: makeFunctionReference<"mutation">("billing:loadPublishedRates"),
  settlePending: makeFunctionReference<"mutation", Record<string, never>, { settled: number; more: boolean }>(
    "billing:settlePending",
  ),
  seedTenant: makeFunctionReference<"mutation", { phoneNumberId: string; name: string }, Ids>(
    "bench:seedTenant",
  ),
  seedPending: makeFunctionReference<"mutation">("bench:seedPending"),
  sendBatch: makeFunctionReference<"mutation">("bench:sendBatch"),
  releaseBatches: makeFunctionReference<"mutation">("bench:releaseBatches"),
  progress: makeFunctionReference<"query", Record<string, never>, { pending: number; events: number }>(
    "bench:progress",
  ),
  walletState: makeFunctionReference<
    "query",
    { tenantId: string },
    { balance: number; reserved: number; entries: number; invariantOk: boolean; problems: string[] }
  >("bench:walletState"),
};

/** Documents written to `table` by every function between two readings, per function. */
function writesTo(table: string, before: MetricsSnapshot, after: MetricsSnapshot): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, m] of Object.entries(after.functions)) {
    const n =
      (m.committedWritesByTable[table] ?? 0) - (before.functions[name]?.committedWritesByTable[table] ?? 0);
    if (n > 0) out[name] = n;
  }
  return out;
}

/** Would-be conflicts between two readings whose overlapped write was on `table`. */
function conflictsOn(table: string, before: MetricsSnapshot, after: MetricsSnapshot): number {
  let total = 0;
  for (const [name, m] of Object.entries(after.functions)) {
    const earlier = before.functions[name]?.wouldBeConflictsWith ?? [];
    for (const w of m.wouldBeConflictsWith) {
      if (w.table !== table) continue;
      total += w.count - (earlier.find((e) => e.function === w.function && e.table === w.table)?.count ?? 0);
    }
  }
  return total;
}

const sum = (values: Record<string, number>) => Object.values(values).reduce((a, b) => a + b, 0);

async function withServer<R>(run: (server: SpawnedServer) => Promise<R>): Promise<R> {
  const dataDir = tempDir("convex-bench-billing-");
  const envFile = path.join(dataDir, "bench.env");
  writeFileSync(envFile, `WHATSAPP_APP_SECRET=${APP_SECRET}\n`);
  const server = await spawnServer([
    "--functions",
    FUNCTIONS,
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
    await adminClient(server).mutation(ref.loadRates, {});
    return await run(server);
  } finally {
    await server.kill("SIGTERM");
    removeDir(dataDir);
  }
}

export type SettleThroughput = {
  messages: number;
  batchSize: number;
  settledPerSecond: number;
  settleRuns: number;
  documentsWrittenPerMessage: number;
  walletWritesPerMessage: number;
  invariantOk: boolean;
};

export async function runSettleThroughput(messages = 4_000): Promise<SettleThroughput> {
  return await withServer(async (server) => {
    const admin = adminClient(server);
    const ids = await admin.mutation(ref.seedTenant, {
      phoneNumberId: "100000000000001",
      name: "throughput",
    });
    for (let from = 0; from < messages; from += 200) {
      await admin.mutation(ref.seedPending, { ...ids, from, count: Math.min(200, messages - from) });
    }
    const before = await readMetrics(server);
    const started = performance.now();
    // Called back to back here; the job also reschedules itself while it finds full batches,
    // as it does in production after each cron run.
    for (;;) {
      const run = await admin.mutation(ref.settlePending, {});
      if (!run.more && (await admin.query(ref.progress, {})).pending === 0) break;
    }
    const elapsed = performance.now() - started;
    const after = await readMetrics(server);
    const settle = (m: MetricsSnapshot) => m.functions["billing:settlePending"];
    const runs = settle(after).commits - (settle(before)?.commits ?? 0);
    const written =
      sum(settle(after).committedWritesByTable) - sum(settle(before)?.committedWritesByTable ?? {});
    const walletWrites = sum(writesTo("wallets", before, after));
    const settled = messages;
    const wallet = await admin.query(ref.walletState, { tenantId: ids.tenantId });
    return {
      messages: settled,
      batchSize: SETTLE_BATCH,
      settledPerSecond: round((settled / elapsed) * 1000),
      settleRuns: runs,
      documentsWrittenPerMessage: round(written / settled),
      walletWritesPerMessage: round(walletWrites / settled),
      invariantOk: wallet.invariantOk,
    };
  });
}

export type CampaignRun = {
  messages: number;
  webhooksPerSecond: number;
  webhooks: number;
  /** Webhooks answered per second over the posting phase (the target is webhooksPerSecond). */
  ackedPerSecond: number;
  non200: number;
  settledAfterMs: number;
  walletWrites: number;
  walletWritesBy: Record<string, number>;
  wouldBeConflicts: number;
  wouldBeConflictsOnWallets: number;
  wouldBeConflictsBy: Record<string, number>;
  ledgerEntries: number;
  reservedAfter: number;
  invariantOk: boolean;
};

function statusBody(phoneNumberId: string, wamid: string, status: string, at: number): Buffer {
  const pricing =
    status === "read"
      ? {}
      : { pricing: { billable: true, pricing_model: "PMP", type: "regular", category: "utility" } };
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
              metadata: { display_phone_number: "34600000000", phone_number_id: phoneNumberId },
              statuses: [
                { id: wamid, status, timestamp: String(at), recipient_id: "34600000001", ...pricing },
              ],
            },
          },
        ],
      },
    ],
  };
  return Buffer.from(JSON.stringify(body));
}

export async function runCampaign(webhooksPerSecond: number, messages = 1_000): Promise<CampaignRun> {
  return await withServer(async (server) => {
    const admin = adminClient(server);
    const phoneNumberId = "100000000000002";
    const ids = await admin.mutation(ref.seedTenant, { phoneNumberId, name: `campaign${webhooksPerSecond}` });
    const batchSize = 50;
    const batches: string[] = [];
    const wamids = Array.from({ length: messages }, (_, i) => `wamid.CAMPAIGN${String(i).padStart(6, "0")}`);
    const base = await readMetrics(server);
    for (let i = 0; i < messages; i += batchSize) {
      const batch = `bench:${i / batchSize}`;
      batches.push(batch);
      await admin.mutation(ref.sendBatch, { ...ids, batch, wamids: wamids.slice(i, i + batchSize) });
    }
    // Statuses as Meta sends them during a campaign: each message's sent, delivered, read,
    // interleaved with the others'.
    const now = Math.floor(Date.now() / 1000);
    const bodies: Buffer[] = [];
    for (const [s, status] of ["sent", "delivered", "read"].entries()) {
      for (const [i, wamid] of wamids.entries())
        bodies.push(statusBody(phoneNumberId, wamid, status, now + s * 2 + (i % 2)));
    }
    const url = `${server.siteUrl}/whatsapp/cloud`;
    let non200 = 0;
    const started = performance.now();
    const inFlight: Promise<void>[] = [];
    for (const [i, body] of bodies.entries()) {
      const due = started + (i * 1000) / webhooksPerSecond;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const signature = `sha256=${createHmac("sha256", APP_SECRET).update(body).digest("hex")}`;
      inFlight.push(
        fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", "x-hub-signature-256": signature },
          body: new Uint8Array(body),
        }).then(async (response) => {
          await response.arrayBuffer();
          if (response.status !== 200) non200++;
        }),
      );
    }
    await Promise.all(inFlight);
    const postedMs = performance.now() - started;
    // The settlement cron (every 5 s) and processing catch up.
    const deadline = performance.now() + 120_000;
    for (;;) {
      const progress = await admin.query(ref.progress, {});
      if (progress.pending === 0 && progress.events === 0) break;
      if (performance.now() > deadline)
        throw new Error(`Settlement did not finish: ${JSON.stringify(progress)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const settledAfterMs = performance.now() - started;
    await admin.mutation(ref.releaseBatches, { tenantId: ids.tenantId, batches });
    const after = await readMetrics(server);
    const wallet = await admin.query(ref.walletState, { tenantId: ids.tenantId });
    const walletWritesBy = writesTo("wallets", base, after);
    const conflicts = conflictsBetween(base, after).filter((c) => c.wouldBeConflicts > 0);
    return {
      messages,
      webhooksPerSecond,
      webhooks: bodies.length,
      ackedPerSecond: round((bodies.length / postedMs) * 1000),
      non200,
      settledAfterMs: round(settledAfterMs),
      walletWrites: sum(walletWritesBy),
      walletWritesBy,
      wouldBeConflicts: conflicts.reduce((n, c) => n + c.wouldBeConflicts, 0),
      wouldBeConflictsOnWallets: conflictsOn("wallets", base, after),
      wouldBeConflictsBy: Object.fromEntries(conflicts.map((c) => [c.function, c.wouldBeConflicts])),
      ledgerEntries: wallet.entries,
      reservedAfter: wallet.reserved,
      invariantOk: wallet.invariantOk,
    };
  });
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
