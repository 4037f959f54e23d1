/**
 * `npm run bench`: runs every benchmark, writes bench-results/latest.json and
 * bench-results/latest.md (`npm run bench -- NAME`: one, to latest-NAME.json and .md).
 * docs/benchmarks.md explains the numbers.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT } from "../local/harness";
import { runAssistantLatency } from "./assistant";
import { runCampaign, runSettleThroughput } from "./billing";
import { conflictTable } from "./conflicts";
import { runContactsImport } from "./contacts";
import { dispatchTables, runDispatch, runFreeze } from "./dispatch";
import { runReactivity, type ReactivityResult } from "./reactivity";
import { runWebhooks } from "./webhooks";

async function main(): Promise<void> {
  const only = process.argv[2];
  const results: Record<string, unknown> = {
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
    startedAt: new Date().toISOString(),
  };
  const md: string[] = [
    `# Benchmark results (${results.startedAt})`,
    "",
    `Node ${process.version}, ${os.cpus().length} CPUs.`,
    "",
  ];

  if (!only || only === "reactivity") {
    const reactivity: ReactivityResult[] = [];
    for (const [clients, queries] of [
      [2, 5],
      [10, 10],
      [20, 50],
    ] as const) {
      const r = await runReactivity(clients, queries, { commits: 300, ratePerSecond: 50 });
      console.log(JSON.stringify(r));
      reactivity.push(r);
    }
    results.reactivity = reactivity;
    md.push(
      "## Local Convex server: commit → subscribed client",
      "",
      "| clients × queries | subscriptions | commits @ rate | p50 ms | p99 ms | re-runs per commit | missed |",
      "| --- | --- | --- | --- | --- | --- | --- |",
      ...reactivity.map(
        (r) =>
          `| ${r.clients} × ${r.queriesPerClient} | ${r.subscriptions} | ${r.commits} @ ${r.writeRatePerSecond}/s | ${r.latencyP50Ms} | ${r.latencyP99Ms} | ${r.rerunsPerCommit} | ${r.updatesMissed} |`,
      ),
      "",
    );
  }

  if (!only || only === "webhooks") {
    const w = await runWebhooks({ requests: 2_000, concurrency: 20 });
    console.log(JSON.stringify(w));
    results.webhooks = w;
    md.push(
      "## WhatsApp webhook ingest: signed Cloud API status webhooks → 200",
      "",
      "| requests @ concurrency | ack p50 ms | ack p99 ms | ack max ms | acks/s | no-op p50 ms | no-op p99 ms | no-op/s | ratio p50 | ratio p99 | non-200 | all processed after ms |",
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
      `| ${w.requests} @ ${w.concurrency} | ${w.ackP50Ms} | ${w.ackP99Ms} | ${w.ackMaxMs} | ${w.throughputPerSecond} | ${w.noopP50Ms} | ${w.noopP99Ms} | ${w.noopThroughputPerSecond} | ${w.ratioP50} | ${w.ratioP99} | ${w.non200} | ${w.processedAllAfterMs} |`,
      "",
      "### Would-be conflicts while ingesting and processing (would have retried on Convex)",
      "",
      ...conflictTable(w.conflicts),
      "",
    );
  }

  if (!only || only === "billing") {
    const throughput = await runSettleThroughput(4_000);
    console.log(JSON.stringify(throughput));
    const campaigns = [];
    for (const rate of [80, 240]) {
      const c = await runCampaign(rate, 1_000);
      console.log(JSON.stringify(c));
      campaigns.push(c);
    }
    results.billing = { throughput, campaigns };
    const show = (n: number) => String(n);
    md.push(
      "## Billing: settlement and the wallet",
      "",
      "| messages | batch | settled/s | settle runs | documents written per message | wallet writes per message | invariant |",
      "| --- | --- | --- | --- | --- | --- | --- |",
      `| ${throughput.messages} | ${throughput.batchSize} | ${throughput.settledPerSecond} | ${throughput.settleRuns} | ${throughput.documentsWrittenPerMessage} | ${show(throughput.walletWritesPerMessage)} | ${throughput.invariantOk ? "holds" : "BROKEN"} |`,
      "",
      "| campaign | status webhooks @ target | acked/s | non-200 | all settled after ms | wallet writes | would-be conflicts (all) | on the wallet | ledger entries | reserved after | invariant |",
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
      ...campaigns.map(
        (c) =>
          `| ${c.messages} messages | ${c.webhooks} @ ${c.webhooksPerSecond}/s | ${c.ackedPerSecond} | ${c.non200} | ${c.settledAfterMs} | ${show(c.walletWrites)} | ${show(c.wouldBeConflicts)} | ${show(c.wouldBeConflictsOnWallets)} | ${c.ledgerEntries} | ${c.reservedAfter} | ${c.invariantOk ? "holds" : "BROKEN"} |`,
      ),
      "",
    );
  }

  if (!only || only === "assistant") {
    const a = await runAssistantLatency(150, 4);
    console.log(JSON.stringify(a));
    results.assistant = a;
    md.push(
      "## Assistant: inbound webhook → provider send call (offline answerer, quiet period 0)",
      "",
      "| customers @ concurrency | p50 ms | p95 ms | max ms | answered | would-be conflicts |",
      "| --- | --- | --- | --- | --- | --- |",
      `| ${a.customers} @ ${a.concurrency} | ${a.p50Ms} | ${a.p95Ms} | ${a.maxMs} | ${a.answered} | ${a.wouldBeConflicts}${a.wouldBeConflictsBy.length ? ` (${a.wouldBeConflictsBy.join(", ")})` : ""} |`,
      "",
    );
  }

  if (!only || only === "contacts") {
    const c = await runContactsImport(Number(process.env.CONTACTS_BENCH_ROWS) || 100_000);
    console.log(JSON.stringify(c));
    results.contacts = c;
    md.push(
      "## Contacts: CSV import on the local server",
      "",
      "| rows | file | preview ms | import ms | contacts/s | documents written per contact | progress samples | counts right |",
      "| --- | --- | --- | --- | --- | --- | --- | --- |",
      `| ${c.rows} | ${(c.fileBytes / 1024 / 1024).toFixed(1)} MB | ${c.analyzeMs} | ${c.importMs} | ${c.contactsPerSecond} | ${c.documentsWrittenPerContact} (${Object.entries(
        c.writesByTable,
      )
        .map(([t, n]) => `${t} ${n}`)
        .join(", ")}) | ${c.progressSamples.length} | ${c.countsRight} |`,
      "",
    );
  }

  if (!only || only === "dispatch") {
    // DISPATCH_BENCH_SCALE shrinks the campaigns (e.g. 0.25) on a busy machine.
    const scale = Number(process.env.DISPATCH_BENCH_SCALE) || 1;
    const n = (count: number) => Math.max(200, Math.round(count * scale));
    const runs = [];
    // The last two: a provider that answers 300 ms after it counted a send (as Meta's API may),
    // with sends counted from their answers, then from 150 ms after their calls (decision 030).
    for (const [rate, recipients, webhooksPerSecond, sendAnswerDelayMs, arrivalMs] of [
      [20, n(1_200), 20, 0, undefined],
      [80, n(3_200), 40, 0, undefined],
      [80, n(10_000), 0, 0, undefined],
      [80, n(3_200), 0, 300, undefined],
      [80, n(3_200), 0, 300, 150],
    ] as const) {
      const r = await runDispatch(rate, recipients, { webhooksPerSecond, sendAnswerDelayMs, arrivalMs });
      console.log(JSON.stringify(r));
      runs.push(r);
    }
    results.dispatch = runs;
    md.push(
      "## Campaign dispatch: provider limit, cost per message, webhook ingest alongside",
      "",
      ...dispatchTables(runs),
      "",
    );
  }

  if (!only || only === "freeze") {
    const freeze = await runFreeze(
      Math.max(1_000, Math.round(100_000 * (Number(process.env.DISPATCH_BENCH_SCALE) || 1))),
    );
    console.log(JSON.stringify(freeze));
    results.freeze = freeze;
    md.push(
      "## Campaign launch: freezing the audience",
      "",
      "| recipients | seeding the contacts | launch → all frozen | frozen per second |",
      "| --- | --- | --- | --- |",
      `| ${freeze.recipients} | ${freeze.seedS} s | ${freeze.freezeS} s | ${freeze.frozenPerSecond} |`,
      "",
    );
  }

  const dir = path.join(ROOT, "bench-results");
  mkdirSync(dir, { recursive: true });
  // One benchmark alone (`npm run bench -- dispatch`) keeps the full run's files.
  const name = only ? `latest-${only}` : "latest";
  writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(results, null, 2) + "\n");
  writeFileSync(path.join(dir, `${name}.md`), md.join("\n"));
  console.log(md.join("\n"));
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
