/**
 * The campaign dispatcher on the real stack (tests/local/campaign-stack.ts: the local Convex
 * server's CLI with fsync on, the WhatsApp simulator's CLI as Meta, each its own process).
 *
 * - **Efficiency at a provider limit**: the simulator allows `rate` sends/s per number (130429
 *   above it). A campaign runs; the simulator's accepted sends are sampled every second. After
 *   adaptation (the first `warmupS` seconds), efficiency = accepted sends/s ÷ `rate`. Throttling
 *   errors are counted in all and after the first back-off (the first second with a 130429).
 * - **Cost per message**: documents written and mutation commits (every caller: scheduled jobs,
 *   actions' nested mutations, HTTP actions) from GET /_local/metrics, per message that reached
 *   delivered or read.
 * - **Webhook ingest during dispatch**: while the campaign runs, the benchmark itself posts
 *   signed Cloud API status webhooks (a repeated `delivered` of recent messages) at a steady
 *   rate, beside the simulator's own, and measures their acks.
 * - **A 10,000-recipient campaign**: launch → completed.
 * - **Freezing a large audience** (`runFreeze`): launch → every recipient row written, from a
 *   tag of `recipients` contacts (pages of the tag's index, one mutation per page).
 */
import { createHmac } from "node:crypto";
import { makeFunctionReference } from "convex/server";
import type { MetricsSnapshot } from "../../local/convex-server/metrics";
import { percentile } from "../../local/convex-server/metrics";
import {
  campaignState,
  launchCampaign,
  recipientRows,
  seedAudience,
  startCampaignStack,
  type CampaignStack,
} from "../local/campaign-stack";
import { readMetrics } from "./conflicts";

const APP_SECRET = "campaign-stack-app-secret";
const PHONE_NUMBER_ID = "109990000000001";

export type DispatchRun = {
  rate: number;
  recipients: number;
  /** The simulator's delay between counting a send and answering it. */
  sendAnswerDelayMs: number;
  /** WHATSAPP_SEND_ARRIVAL_MS on the server (null: unset, sends count from their answers). */
  arrivalMs: number | null;
  /** Launch → every recipient claimed (nothing pending). */
  dispatchMs: number;
  /** Launch → campaign completed (all statuses in). */
  totalMs: number;
  /** Accepted sends/s after warm-up, and ÷ rate. */
  sendsPerSecond: number;
  efficiency: number;
  warmupS: number;
  throttled: number;
  throttledAfterFirstBackoff: number;
  /** Messages that reached delivered or read. */
  deliveredOrRead: number;
  documentsWrittenPerMessage: number;
  commitsPerMessage: number;
  /** The functions writing the most documents, per delivered+read message. */
  writesBy: Record<string, number>;
  commitsBy: Record<string, number>;
  webhooks: WebhookIngest | null;
  /** The dispatcher's rate samples (its AIMD), one per second. */
  rateSamples: number[];
};

export type WebhookIngest = {
  posted: number;
  targetPerSecond: number;
  acksPerSecond: number;
  ackP50Ms: number;
  ackP99Ms: number;
  non200: number;
};

const recentWamids = makeFunctionReference<"query">("bench:recentWamids");

function statusBody(wamid: string, index: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      object: "whatsapp_business_account",
      entry: [
        {
          id: "1",
          changes: [
            {
              field: "messages",
              value: {
                messaging_product: "whatsapp",
                metadata: { display_phone_number: "15550199001", phone_number_id: PHONE_NUMBER_ID },
                statuses: [
                  {
                    id: wamid,
                    status: "delivered",
                    timestamp: String(Math.floor(Date.now() / 1000) + (index % 2)),
                    recipient_id: "34700000000",
                  },
                ],
              },
            },
          ],
        },
      ],
    }),
  );
}

/** Posts status webhooks at `perSecond` until `stop()`; returns their ack statistics. */
function webhookLoad(stack: CampaignStack, perSecond: number) {
  const latencies: number[] = [];
  let non200 = 0;
  let stopped = false;
  let wamids: string[] = [];
  const started = performance.now();
  const inFlight = new Set<Promise<void>>();
  const loop = (async () => {
    for (let i = 0; !stopped; i++) {
      if (i % perSecond === 0) {
        // A busy or restarting server may refuse a read: keep the last ids and go on.
        wamids = ((await stack.admin.query(recentWamids, {}).catch(() => wamids)) as string[]) ?? [];
      }
      const due = started + (i * 1000) / perSecond;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (!wamids.length) continue;
      const body = statusBody(wamids[i % wamids.length], i);
      const signature = `sha256=${createHmac("sha256", APP_SECRET).update(body).digest("hex")}`;
      const t0 = performance.now();
      const p = fetch(`${stack.convex.siteUrl}/whatsapp/cloud`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-hub-signature-256": signature },
        body: new Uint8Array(body),
      })
        .then(async (response) => {
          await response.arrayBuffer();
          if (response.status !== 200) non200++;
          latencies.push(performance.now() - t0);
        })
        .catch(() => {
          non200++;
        })
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
  })();
  return async (): Promise<WebhookIngest> => {
    stopped = true;
    await loop;
    await Promise.all(inFlight);
    const elapsed = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    return {
      posted: latencies.length,
      targetPerSecond: perSecond,
      acksPerSecond: round(latencies.length / elapsed),
      ackP50Ms: round(percentile(latencies, 0.5)),
      ackP99Ms: round(percentile(latencies, 0.99)),
      non200,
    };
  };
}

function diffBy(
  before: MetricsSnapshot,
  after: MetricsSnapshot,
  pick: (m: MetricsSnapshot["functions"][string]) => number,
) {
  const out: Record<string, number> = {};
  for (const [name, m] of Object.entries(after.functions)) {
    const d = pick(m) - (before.functions[name] ? pick(before.functions[name]) : 0);
    if (d > 0) out[name] = d;
  }
  return out;
}

const sum = (values: Record<string, number>) => Object.values(values).reduce((a, b) => a + b, 0);

function perMessage(values: Record<string, number>, messages: number, top = 8): Record<string, number> {
  return Object.fromEntries(
    Object.entries(values)
      .sort(([, a], [, b]) => b - a)
      .slice(0, top)
      .map(([k, n]) => [k, round(n / messages)]),
  );
}

export async function runDispatch(
  rate: number,
  recipients: number,
  options: {
    warmupS?: number;
    webhooksPerSecond?: number;
    /** The simulator's delay between counting a send and answering it (Meta's processing). */
    sendAnswerDelayMs?: number;
    /** WHATSAPP_SEND_ARRIVAL_MS for the server (unset by default). */
    arrivalMs?: number;
  } = {},
): Promise<DispatchRun> {
  const warmupS = options.warmupS ?? 15;
  const stack = await startCampaignStack({
    // Above the default tier (2,000 people a day), so the whole campaign may go out today.
    messagingLimitTier: "TIER_100K",
    knobs: {
      throughputPerSecond: rate,
      readShare: 0.5,
      statusDelaysMs: { sent: 200, delivered: 800, read: 2_000 },
      sendAnswerDelayMs: options.sendAnswerDelayMs ?? 0,
    },
    ...(options.arrivalMs !== undefined
      ? { env: { WHATSAPP_SEND_ARRIVAL_MS: String(options.arrivalMs) } }
      : {}),
  });
  try {
    await seedAudience(stack, "Bench", recipients);
    const before = await readMetrics(stack.convex);
    const load = options.webhooksPerSecond ? webhookLoad(stack, options.webhooksPerSecond) : null;
    const launched = performance.now();
    const campaignId = await launchCampaign(stack, "Bench");
    const samples: { t: number; accepted: number; throttled: number }[] = [];
    const rateSamples: number[] = [];
    let dispatchMs = 0;
    for (;;) {
      await new Promise((r) => setTimeout(r, 1_000));
      const [sim, c] = await Promise.all([stack.simulatorStats(), campaignState(stack, campaignId)]);
      samples.push({ t: (performance.now() - launched) / 1000, ...sim });
      rateSamples.push(c.rate ?? 0);
      if (!dispatchMs && c.frozen === recipients && c.counts.pending === 0) {
        dispatchMs = performance.now() - launched;
      }
      if (c.state === "completed") break;
      if (performance.now() - launched > 1_800_000)
        throw new Error(`Campaign did not complete: ${JSON.stringify(c)}`);
    }
    const totalMs = performance.now() - launched;
    const webhooks = load ? await load() : null;
    const after = await readMetrics(stack.convex);

    // Steady state: from the end of the warm-up to the last sample before everyone was claimed.
    const end = samples.filter((s) => s.t * 1000 <= dispatchMs).at(-1) ?? samples.at(-1)!;
    const start = samples.find((s) => s.t >= warmupS) ?? samples[0];
    const sendsPerSecond = end.t > start.t ? (end.accepted - start.accepted) / (end.t - start.t) : 0;
    const firstThrottle = samples.find((s) => s.throttled > 0);
    const afterBackoff = firstThrottle ? samples.find((s) => s.t >= firstThrottle.t + 1) : undefined;
    const last = samples.at(-1)!;

    const rows = await recipientRows(stack, campaignId);
    const deliveredOrRead = rows.filter((r) => r.state === "delivered" || r.state === "read").length;
    const writes = diffBy(before, after, (m) => sum(m.committedWritesByTable));
    const commits = diffBy(before, after, (m) => m.commits);
    return {
      rate,
      recipients,
      sendAnswerDelayMs: options.sendAnswerDelayMs ?? 0,
      arrivalMs: options.arrivalMs ?? null,
      dispatchMs: round(dispatchMs),
      totalMs: round(totalMs),
      sendsPerSecond: round(sendsPerSecond),
      efficiency: round(sendsPerSecond / rate),
      warmupS,
      throttled: last.throttled,
      throttledAfterFirstBackoff: afterBackoff ? last.throttled - afterBackoff.throttled : 0,
      deliveredOrRead,
      documentsWrittenPerMessage: round(sum(writes) / Math.max(1, deliveredOrRead)),
      commitsPerMessage: round(sum(commits) / Math.max(1, deliveredOrRead)),
      writesBy: perMessage(writes, Math.max(1, deliveredOrRead)),
      commitsBy: perMessage(commits, Math.max(1, deliveredOrRead)),
      webhooks,
      rateSamples,
    };
  } finally {
    await stack.stop();
  }
}

export type FreezeRun = { recipients: number; seedS: number; freezeS: number; frozenPerSecond: number };

/** Seeds `recipients` tagged contacts, launches a campaign to the tag and times its freeze. */
export async function runFreeze(recipients: number): Promise<FreezeRun> {
  const stack = await startCampaignStack({ messagingLimitTier: "TIER_100K" });
  try {
    const seeding = performance.now();
    await seedAudience(stack, "Freeze", recipients);
    const seedS = (performance.now() - seeding) / 1000;
    const launched = performance.now();
    const campaignId = await launchCampaign(stack, "Freeze");
    for (;;) {
      await new Promise((r) => setTimeout(r, 250));
      const c = await campaignState(stack, campaignId);
      if (c.frozen >= recipients) break;
      if (performance.now() - launched > 1_800_000)
        throw new Error(`Freeze did not finish: ${JSON.stringify(c)}`);
    }
    const freezeS = (performance.now() - launched) / 1000;
    return {
      recipients,
      seedS: round(seedS),
      freezeS: round(freezeS),
      frozenPerSecond: round(recipients / freezeS),
    };
  } finally {
    await stack.stop();
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** Markdown for run.ts. */
export function dispatchTables(runs: DispatchRun[]): string[] {
  return [
    "| provider limit | recipients | answer after count | WHATSAPP_SEND_ARRIVAL_MS | sends/s after warm-up | efficiency | 130429 (after first back-off) | all claimed after | completed after | documents written per delivered+read | commits per delivered+read | webhook acks/s @ target | ack p50 / p99 ms |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ...runs.map(
      (r) =>
        `| ${r.rate}/s | ${r.recipients} | ${r.sendAnswerDelayMs} ms | ${r.arrivalMs ?? "unset"} | ${r.sendsPerSecond} | ${r.efficiency} | ${r.throttled} (${r.throttledAfterFirstBackoff}) | ${(r.dispatchMs / 1000).toFixed(1)} s | ${(r.totalMs / 1000).toFixed(1)} s | ${r.documentsWrittenPerMessage} | ${r.commitsPerMessage} | ${r.webhooks ? `${r.webhooks.acksPerSecond} @ ${r.webhooks.targetPerSecond}/s` : "—"} | ${r.webhooks ? `${r.webhooks.ackP50Ms} / ${r.webhooks.ackP99Ms}` : "—"} |`,
    ),
  ];
}
