/**
 * Inbound webhook → the assistant's provider send call, on the local Convex server (the real CLI
 * as its own process, fsync on) running this repo's convex/ with the offline answerer, and the
 * WhatsApp simulator (in this process) as Meta. For each of N new customers: a signed Cloud API
 * message webhook is posted to POST /whatsapp/cloud; the time until the simulator receives the
 * assistant's `POST /{phone-number-id}/messages` for that customer is the latency. The
 * assistant's quiet period (`replyDelayMs`, 1.5 s by default, so a burst gets one answer) is a
 * product setting, not processing: the run sets it to 0 and reports it separately.
 */
import { createHmac } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import type { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { percentile } from "../../local/convex-server/metrics";
import { DEMO_KNOWLEDGE } from "../../local/whatsapp-simulator/demo";
import { startWhatsAppSimulator } from "../../local/whatsapp-simulator/server";
import { adminClient, ROOT, removeDir, spawnServer, tempDir } from "../local/harness";
import { conflictsBetween, readMetrics } from "./conflicts";

const APP_SECRET = "bench-assistant-secret";
const PHONE_NUMBER_ID = "100000000000009";

export type AssistantLatency = {
  customers: number;
  concurrency: number;
  replyDelayMs: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  answered: number;
  wouldBeConflicts: number;
  wouldBeConflictsBy: string[];
};

function inboundBody(from: string, id: string, text: string): Buffer {
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
                metadata: { display_phone_number: "15550100009", phone_number_id: PHONE_NUMBER_ID },
                contacts: [{ profile: { name: `Customer ${from}` }, wa_id: from }],
                messages: [
                  {
                    from,
                    id,
                    timestamp: String(Math.floor(Date.now() / 1000)),
                    type: "text",
                    text: { body: text },
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

function actingAs(client: ConvexHttpClient, adminKey: string, email: string): ConvexHttpClient {
  (client as unknown as { setAdminAuth(key: string, identity: object): void }).setAdminAuth(adminKey, {
    subject: email,
    issuer: "https://idp.test",
    tokenIdentifier: `https://idp.test|${email}`,
    email,
    name: "Bench Owner",
    emailVerified: true,
  });
  return client;
}

export async function runAssistantLatency(customers = 150, concurrency = 4): Promise<AssistantLatency> {
  const dataDir = tempDir("convex-bench-assistant-");
  const sim = await startWhatsAppSimulator({
    config: {
      cloud: [
        {
          phoneNumberId: PHONE_NUMBER_ID,
          wabaId: "200000000000009",
          displayNumber: "15550100009",
          accessToken: "bench-token",
          appSecret: APP_SECRET,
        },
      ],
    },
  });
  const envFile = path.join(dataDir, "bench.env");
  writeFileSync(
    envFile,
    [
      `WHATSAPP_GRAPH_URL=${sim.graphUrl}`,
      "ALLOW_PRIVATE_PROVIDER_URLS=true",
      `WHATSAPP_APP_SECRET=${APP_SECRET}`,
      `CHANNEL_SECRETS_KEY=${Buffer.alloc(32, 5).toString("base64")}`,
      "APP_URL=http://app.test",
    ].join("\n") + "\n",
  );
  const server = await spawnServer([
    "--functions",
    path.join(ROOT, "convex"),
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
    const owner = actingAs(adminClient(server), server.adminKey, "owner@bench.test");
    await owner.mutation(api.users.ensure, {});
    const { tenantId } = await owner.mutation(api.tenants.create, {
      name: "Bench Shoes",
      currency: "EUR",
      timeZone: "Europe/Madrid",
      defaultCountry: "ES",
    });
    await owner.action(api.channels.create, {
      tenantId: tenantId as Id<"tenants">,
      channel: {
        kind: "cloud",
        name: "Bench number",
        phoneNumberId: PHONE_NUMBER_ID,
        wabaId: "200000000000009",
        displayNumber: "+1 555-010-0009",
        accessToken: "bench-token",
      },
    });
    sim.state.configure({
      cloud: [
        {
          phoneNumberId: PHONE_NUMBER_ID,
          wabaId: "200000000000009",
          displayNumber: "15550100009",
          accessToken: "bench-token",
          appSecret: APP_SECRET,
          webhookUrl: `${server.siteUrl}/whatsapp/cloud`,
        },
      ],
    });
    for (const entry of DEMO_KNOWLEDGE)
      await owner.mutation(api.assistant.saveEntry, { tenantId, ...entry, tags: [...entry.tags] });
    await owner.mutation(api.assistant.updateSettings, { tenantId, changes: { replyDelayMs: 0 } });
    await adminClient(server).mutation(makeFunctionReference<"mutation">("billing:loadPublishedRates"), {});

    // Resolves when the simulator has received a message for `user` from the business.
    const waiters = new Map<string, () => void>();
    const seen = new Set<string>();
    const stop = sim.state.onChange(() => {
      for (const m of sim.state.snapshot().messages) {
        if (m.direction !== "out" || seen.has(m.user)) continue;
        seen.add(m.user);
        waiters.get(m.user)?.();
      }
    });
    const questions = [
      "What are your opening hours?",
      "How much is shipping?",
      "Can I return shoes?",
      "Which sizes do you have?",
    ];
    const ask = async (i: number): Promise<number> => {
      const from = `3470${String(i).padStart(7, "0")}`;
      const body = inboundBody(from, `wamid.BENCHIN${i}`, questions[i % questions.length]);
      const signature = `sha256=${createHmac("sha256", APP_SECRET).update(body).digest("hex")}`;
      const replied = new Promise<void>((resolve, reject) => {
        waiters.set(from, resolve);
        setTimeout(() => reject(new Error(`No reply to ${from} within 30 s`)), 30_000);
      });
      const started = performance.now();
      const response = await fetch(`${server.siteUrl}/whatsapp/cloud`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-hub-signature-256": signature },
        body: new Uint8Array(body),
      });
      if (response.status !== 200) throw new Error(`Webhook answered ${response.status}`);
      await replied;
      return performance.now() - started;
    };
    // Warm-up: module loading and the first index builds.
    for (let i = 0; i < 5; i++) await ask(1_000_000 + i);
    const before = await readMetrics(server);
    const latencies: number[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (;;) {
          const i = next++;
          if (i >= customers) return;
          latencies.push(await ask(i));
        }
      }),
    );
    const after = await readMetrics(server);
    stop();
    latencies.sort((a, b) => a - b);
    const conflicts = conflictsBetween(before, after);
    return {
      customers,
      concurrency,
      replyDelayMs: 0,
      p50Ms: round(percentile(latencies, 0.5)),
      p95Ms: round(percentile(latencies, 0.95)),
      maxMs: round(latencies.at(-1) ?? 0),
      answered: latencies.length,
      wouldBeConflicts: conflicts.reduce((n, c) => n + c.wouldBeConflicts, 0),
      wouldBeConflictsBy: conflicts
        .filter((c) => c.wouldBeConflicts > 0)
        .map((c) => `${c.function}: ${c.wouldBeConflicts}`),
    };
  } finally {
    await server.kill("SIGTERM");
    await sim.close();
    removeDir(dataDir);
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
