/**
 * A campaign on the real stack, each part its own process: the local Convex server (the real CLI,
 * fsync on) running the app's modules plus `bench:*` seeding (tests/fixtures/campaign-bench), and
 * the WhatsApp simulator (its CLI) as Meta. Both listen on fixed ports, so the Convex server can be
 * killed and started again on the same data folder while the simulator keeps delivering webhooks.
 * Used by the dispatcher's crash test and the dispatch benchmark.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { makeFunctionReference } from "convex/server";
import type { ConvexHttpClient } from "convex/browser";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import type { Counts } from "../../convex/model/campaigns/tables";
import type { Knobs } from "../../local/whatsapp-simulator/types";
import { adminClient, ROOT, spawnServer, tempDir, type SpawnedServer } from "./harness";

const APP_SECRET = "campaign-stack-app-secret";
const TOKEN = "campaign-stack-token";
const PHONE_NUMBER_ID = "109990000000001";
const WABA_ID = "209990000000001";
const TEMPLATE = "order_update";

export const ref = {
  seedContacts: makeFunctionReference<"mutation">("bench:seedContacts"),
  seedTemplate: makeFunctionReference<"mutation", Record<string, unknown>, string>("bench:seedTemplate"),
  grant: makeFunctionReference<"mutation">("bench:grant"),
  loadRates: makeFunctionReference<"mutation">("billing:loadPublishedRates"),
  resolveStuckSending: makeFunctionReference<
    "mutation",
    { batch?: number },
    { found: number; resolved: number; remaining: number }
  >("outbound:resolveStuckSending"),
  recipientPage: makeFunctionReference<
    "query",
    { campaignId: string; cursor: string | null },
    { rows: RecipientRow[]; cursor: string; done: boolean }
  >("bench:recipientPage"),
  campaignState: makeFunctionReference<"query", { campaignId: string }, CampaignState>("bench:campaignState"),
};

export type RecipientRow = {
  phone: string | null;
  state: keyof Counts;
  messageStatus: string | null;
  attempts: number;
  providerMessageId: string | null;
  errorCode: number | null;
};

export type CampaignState = {
  state: string;
  stateReason: string | null;
  frozen: number;
  launchedAt: number | null;
  finishedAt: number | null;
  counts: Counts;
  rate: number | null;
  sentTotal: number;
};

/**
 * The functions folder: one module per app module, re-exporting it, plus the seeding module.
 * Generated, so modules added to convex/ are served without a fixture to keep in step.
 */
function functionsDir(dataDir: string): string {
  const dir = path.join(dataDir, "functions");
  mkdirSync(dir, { recursive: true });
  const appDir = path.join(ROOT, "convex");
  for (const name of readdirSync(appDir)) {
    if (!/^[A-Za-z0-9_]+(\.config)?\.ts$/.test(name) || name.endsWith(".d.ts")) continue;
    const target = path.join(appDir, name.replace(/\.ts$/, ""));
    const source = readFileSync(path.join(appDir, name), "utf8");
    const lines = [`export * from ${JSON.stringify(target)};`];
    if (/^export default /m.test(source)) lines.push(`export { default } from ${JSON.stringify(target)};`);
    writeFileSync(path.join(dir, name), lines.join("\n") + "\n");
  }
  writeFileSync(
    path.join(dir, "bench.ts"),
    `export * from ${JSON.stringify(path.join(ROOT, "tests/fixtures/campaign-bench/bench"))};\n`,
  );
  return dir;
}

export type CampaignStack = {
  convex: SpawnedServer;
  admin: ConvexHttpClient;
  owner: ConvexHttpClient;
  simulatorUrl: string;
  tenantId: Id<"tenants">;
  channelId: Id<"channels">;
  templateId: Id<"templates">;
  /** Kills the Convex server with SIGKILL (nothing flushed, nothing closed). */
  crash(): Promise<void>;
  /** Starts the Convex server again on the same data folder and ports. */
  restart(): Promise<void>;
  /** Changes the simulator's knobs while it runs. */
  knobs(knobs: Partial<Knobs>): Promise<void>;
  /** Every message each user's phone received from the business (digits → count). */
  phoneCounts(): Promise<Map<string, number>>;
  /** Sends the simulator accepted, and those it refused with 130429 (throughput). */
  simulatorStats(): Promise<{ accepted: number; throttled: number }>;
  stop(): Promise<void>;
  logs: () => string;
};

/** `count` different free ports (fixed for the stack's life: a restarted server takes them again). */
async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) {
    ports.add(
      await new Promise<number>((resolve, reject) => {
        const server = net.createServer();
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
          const port = (server.address() as net.AddressInfo).port;
          server.close(() => resolve(port));
        });
      }),
    );
  }
  return [...ports];
}

function actingAs(client: ConvexHttpClient, adminKey: string, email: string): ConvexHttpClient {
  (client as unknown as { setAdminAuth(key: string, identity: object): void }).setAdminAuth(adminKey, {
    subject: email,
    issuer: "https://idp.test",
    tokenIdentifier: `https://idp.test|${email}`,
    email,
    name: "Campaign Owner",
    emailVerified: true,
  });
  return client;
}

/** Starts the simulator CLI and waits for its ready line. */
async function startSimulator(
  port: number,
  configFile: string,
  knobs: Partial<Knobs>,
  output: string[],
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      path.join(ROOT, "local/whatsapp-simulator/cli.ts"),
      "--port",
      String(port),
      "--config",
      configFile,
      "--knobs",
      JSON.stringify(knobs),
      "--seed",
      "7",
      "--quiet",
    ],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  let text = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`simulator not ready:\n${text}`)), 60_000);
    const onData = (d: Buffer) => {
      text += String(d);
      output.push(String(d));
      const ready = /whatsapp-simulator ready (\S+)/.exec(text);
      if (ready) {
        clearTimeout(timer);
        resolve(ready[1]);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`simulator exited with ${code}:\n${text}`)));
  });
  return { child, url };
}

export async function startCampaignStack(
  options: {
    knobs?: Partial<Knobs>;
    env?: Record<string, string>;
    /** The number's messaging limit (the simulator's default, TIER_2K, unless given). */
    messagingLimitTier?: string;
  } = {},
): Promise<CampaignStack> {
  const dataDir = tempDir("campaign-stack-");
  const [convexPort, sitePort, simPort] = await freePorts(3);
  const siteUrl = `http://127.0.0.1:${sitePort}`;
  const simOutput: string[] = [];
  const configFile = path.join(dataDir, "simulator.json");
  writeFileSync(
    configFile,
    JSON.stringify({
      cloud: [
        {
          phoneNumberId: PHONE_NUMBER_ID,
          wabaId: WABA_ID,
          displayNumber: "15550199001",
          accessToken: TOKEN,
          appSecret: APP_SECRET,
          webhookUrl: `${siteUrl}/whatsapp/cloud`,
          ...(options.messagingLimitTier ? { messagingLimitTier: options.messagingLimitTier } : {}),
        },
      ],
      waha: [],
      templates: [
        {
          wabaId: WABA_ID,
          name: TEMPLATE,
          language: "en_US",
          category: "UTILITY",
          status: "APPROVED",
          components: [{ type: "BODY", text: "Hi {{1}}, your order has shipped." }],
        },
      ],
    }),
  );
  const sim = await startSimulator(simPort, configFile, options.knobs ?? {}, simOutput);
  const envFile = path.join(dataDir, "convex.env");
  const env: Record<string, string> = {
    WHATSAPP_GRAPH_URL: `${sim.url}/v23.0`,
    ALLOW_PRIVATE_PROVIDER_URLS: "true",
    WHATSAPP_APP_SECRET: APP_SECRET,
    CHANNEL_SECRETS_KEY: Buffer.alloc(32, 9).toString("base64"),
    APP_URL: "http://app.test",
    ...options.env,
  };
  writeFileSync(
    envFile,
    Object.entries(env)
      .map(([k, val]) => `${k}=${val}`)
      .join("\n") + "\n",
  );
  const args = [
    "--functions",
    functionsDir(dataDir),
    "--data",
    path.join(dataDir, "data"),
    "--port",
    String(convexPort),
    "--site-port",
    String(sitePort),
    "--env-file",
    envFile,
  ];
  const earlier: string[] = [];
  let convex: SpawnedServer;
  try {
    convex = await spawnServer(args, 120_000);
  } catch (error) {
    sim.child.kill("SIGKILL");
    throw error;
  }
  const stack = {} as CampaignStack;
  const clients = () => {
    stack.convex = convex;
    stack.admin = adminClient(convex);
    stack.owner = actingAs(adminClient(convex), convex.adminKey, "owner@campaign.test");
  };
  clients();
  const simCall = async (route: string, body?: unknown) => {
    const response = await fetch(`${sim.url}${route}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) throw new Error(`simulator ${route}: ${response.status} ${await response.text()}`);
    return (await response.json()) as unknown;
  };
  Object.assign(stack, {
    simulatorUrl: sim.url,
    crash: async () => {
      earlier.push(convex.output());
      await convex.kill("SIGKILL");
    },
    restart: async () => {
      convex = await spawnServer(args, 120_000);
      clients();
    },
    knobs: async (knobs: Partial<Knobs>) => {
      await simCall("/_sim/knobs", knobs);
    },
    phoneCounts: async () => {
      const counters = (await simCall("/_sim/counters")) as { sentTo: Record<string, number> };
      return new Map(Object.entries(counters.sentTo));
    },
    simulatorStats: async () => {
      const counters = (await simCall("/_sim/counters")) as { accepted: number; throttled: number };
      return { accepted: counters.accepted, throttled: counters.throttled };
    },
    stop: async () => {
      if (convex.process.exitCode === null && convex.process.signalCode === null)
        await convex.kill("SIGTERM");
      sim.child.kill("SIGTERM");
    },
    logs: () => [...earlier, convex.output(), ...simOutput].join("\n"),
  });

  // The workspace, its number (checked against the simulator) and its approved template.
  await stack.owner.mutation(api.users.ensure, {});
  const { tenantId } = await stack.owner.mutation(api.tenants.create, {
    name: "Crash Test Shop",
    currency: "EUR",
    timeZone: "Europe/Madrid",
    defaultCountry: "ES",
  });
  const channel = (await stack.owner.action(api.channels.create, {
    tenantId,
    channel: {
      kind: "cloud",
      name: "Campaign number",
      phoneNumberId: PHONE_NUMBER_ID,
      wabaId: WABA_ID,
      displayNumber: "+1 555-019-9001",
      accessToken: TOKEN,
    },
  })) as unknown;
  const channelId = (
    typeof channel === "string" ? channel : (channel as { channelId: string }).channelId
  ) as Id<"channels">;
  await patiently(() => stack.admin.mutation(ref.loadRates, {}));
  await patiently(() => stack.admin.mutation(ref.grant, { tenantId, amount: 1_000_000_000_000 }));
  const templateId = (await stack.admin.mutation(ref.seedTemplate, {
    tenantId,
    channelId,
    name: TEMPLATE,
    text: "Hi {{1}}, your order has shipped.",
  })) as Id<"templates">;
  Object.assign(stack, { tenantId: tenantId as Id<"tenants">, channelId, templateId });
  return stack;
}

/**
 * Runs a seeding mutation or a probe again when it ran past the one-second limit (a busy machine):
 * a timed-out mutation committed nothing, so running it again is safe.
 */
async function patiently<R>(run: () => Promise<R>): Promise<R> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= 5 || !/timed out/.test(String(error))) throw error;
    }
  }
}

/** Seeds `count` contacts tagged `tag` (50 per mutation). */
export async function seedAudience(
  stack: CampaignStack,
  tag: string,
  count: number,
  options: { from?: number; optedOutEvery?: number } = {},
): Promise<void> {
  const from = options.from ?? 0;
  for (let i = from; i < from + count; i += 50) {
    await patiently(() =>
      stack.admin.mutation(ref.seedContacts, {
        tenantId: stack.tenantId,
        tag,
        from: i,
        count: Math.min(50, from + count - i),
        ...(options.optedOutEvery ? { optedOutEvery: options.optedOutEvery } : {}),
      }),
    );
  }
}

/** Creates and launches a campaign of the template to the tag, through the app's API. */
export async function launchCampaign(stack: CampaignStack, tag: string): Promise<Id<"campaigns">> {
  const campaignId = await stack.owner.mutation(api.campaigns.create, {
    tenantId: stack.tenantId,
    name: `Campaign to ${tag}`,
    channelId: stack.channelId,
    templateId: stack.templateId,
    variables: [{ source: "name" }],
    audience: { kind: "filter", filter: { tag } },
  });
  await stack.owner.mutation(api.campaigns.launch, { tenantId: stack.tenantId, campaignId });
  return campaignId;
}

export async function recipientRows(
  stack: CampaignStack,
  campaignId: Id<"campaigns">,
): Promise<RecipientRow[]> {
  const rows: RecipientRow[] = [];
  let cursor: string | null = null;
  for (;;) {
    const at = cursor;
    const page: { rows: RecipientRow[]; cursor: string; done: boolean } = await patiently(() =>
      stack.admin.query(ref.recipientPage, { campaignId, cursor: at }),
    );
    rows.push(...page.rows);
    if (page.done) return rows;
    cursor = page.cursor;
  }
}

export async function campaignState(
  stack: CampaignStack,
  campaignId: Id<"campaigns">,
): Promise<CampaignState> {
  return await patiently(() => stack.admin.query(ref.campaignState, { campaignId }));
}

/** Recipients per state, as counted from their rows. */
export function countStates(rows: RecipientRow[]): Partial<Counts> {
  const out: Partial<Counts> = {};
  for (const r of rows) out[r.state] = (out[r.state] ?? 0) + 1;
  return out;
}

/** Counters without the zero entries, to compare with `countStates`. */
export function nonZero(counts: Counts): Partial<Counts> {
  return Object.fromEntries(Object.entries(counts).filter(([, n]) => n !== 0)) as Partial<Counts>;
}
