/**
 * Runs the whole product locally: the local Convex server (unless CONVEX_URL points elsewhere),
 * the WhatsApp simulator, the local OpenAI server when OPENAI_LOCAL=1, redis-server behind a local
 * Upstash REST bridge for rate limits (dev mode, or REDIS_LOCAL=1), and the Remix app, in dev
 * mode (`npm run dev`) or from the production build (`npm start`).
 * Prints the URLs, keeps data in .data/, and stops everything on Ctrl-C.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { randomBytes } from "node:crypto";
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { stripVTControlCharacters } from "node:util";
import { SERVER_NODE_FLAGS } from "./convex-server/nodeFlags";
import { findRedisServer, freePort, redisServerArgs } from "./redis-rest/redis-server";
import { startRedisRestBridge } from "./redis-rest/server";
import { startSentryReceiver, type ReceivedItem, type SentryReceiver } from "./sentry-receiver/server";
import { configureDemoNumbers, demoIdentity, seedDemo, type DemoSeed } from "./whatsapp-simulator/demo";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BIN = path.join(ROOT, "node_modules", ".bin");

type Mode = "dev" | "start";

type Service = {
  name: string;
  child: ChildProcess;
  ready: Promise<string>;
};

export type StackOptions = {
  mode: Mode;
  dataDir?: string;
  webPort?: number;
  convexPort?: number;
  convexSitePort?: number;
  /** The WhatsApp simulator's port (default WHATSAPP_SIMULATOR_PORT or 3220). */
  simulatorPort?: number;
  /** The local OpenAI server's port when OPENAI_LOCAL=1 (default OPENAI_LOCAL_PORT or 3230). */
  openaiPort?: number;
  /** Log lines from the services (default: prefixed on stdout). */
  log?: (service: string, line: string) => void;
  env?: Record<string, string | undefined>;
  /** Variables for the web server only, on top of `env` (the Convex server does not see them). */
  webEnv?: Record<string, string | undefined>;
};

export type RunningStack = {
  webUrl: string;
  convexUrl: string;
  convexSiteUrl: string;
  adminKey: string | null;
  /** The WhatsApp simulator (null when WHATSAPP_SIMULATOR=off). */
  simulatorUrl: string | null;
  /** The local OpenAI server (null unless OPENAI_LOCAL=1); the SDK's base URL is `${openaiUrl}/v1`. */
  openaiUrl: string | null;
  /** The local Sentry receiver (null unless SENTRY_LOCAL=1); its events at `${sentryUrl}/_events`. */
  sentryUrl: string | null;
  /** The demo workspace `npm run dev` seeds (null when not seeded). */
  demo: (DemoSeed & { email: string }) | null;
  /** Where the web app counts rate limits, in words (local Redis, the developer's Upstash, memory). */
  rateLimits: string;
  stop(): Promise<void>;
};

/**
 * A service's output line without colours or cursor codes. Vite and others colour their banners
 * when FORCE_COLOR is set (CI runners set it), which splits `Local:` into `Local\x1b[22m:`; ready
 * patterns match the plain text.
 */
export function plainText(line: string): string {
  return stripVTControlCharacters(line);
}

function startService(
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  readyPattern: RegExp,
  log: (service: string, line: string) => void,
): Service {
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let buffer = "";
  const ready = new Promise<string>((resolve, reject) => {
    const onLine = (line: string) => {
      log(name, line);
      buffer += plainText(line) + "\n";
      const match = readyPattern.exec(buffer);
      if (match) resolve(buffer);
    };
    for (const stream of [child.stdout!, child.stderr!]) {
      let partial = "";
      stream.on("data", (chunk: Buffer) => {
        partial += chunk.toString();
        const lines = partial.split("\n");
        partial = lines.pop() ?? "";
        lines.forEach(onLine);
      });
    }
    child.once("exit", (code) => reject(new Error(`${name} exited with code ${code} before it was ready`)));
  });
  return { name, child, ready };
}

function stopService(service: Service): Promise<void> {
  return new Promise((resolve) => {
    if (service.child.exitCode !== null || service.child.signalCode !== null) return resolve();
    const timer = setTimeout(() => {
      try {
        process.kill(-service.child.pid!, "SIGKILL");
      } catch {
        /* already gone */
      }
    }, 5_000);
    service.child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    try {
      // The whole process group: npm-less binaries may still fork workers.
      process.kill(-service.child.pid!, "SIGTERM");
    } catch {
      resolve();
    }
  });
}

export async function startStack(options: StackOptions): Promise<RunningStack> {
  const env = { ...process.env, ...options.env };
  const log = options.log ?? ((service, line) => process.stdout.write(`[${service}] ${line}\n`));
  const dataDir = path.resolve(options.dataDir ?? path.join(ROOT, ".data"));
  mkdirSync(dataDir, { recursive: true });
  const services: Service[] = [];
  // Last resort if this process dies without stopping the stack: take the children with it.
  process.once("exit", () => {
    for (const s of services) {
      try {
        process.kill(-s.child.pid!, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
  });
  /** In-process servers (the local Sentry receiver), closed after the services. */
  const closers: (() => Promise<void>)[] = [];
  const stop = async () => {
    await Promise.all(services.reverse().map(stopService));
    await Promise.all(closers.map((close) => close()));
  };

  // Local sign-in (no Clerk keys): the web app issues tokens as APP_URL, and the local Convex
  // server trusts that issuer (LOCAL_AUTH_ISSUER, read by convex/auth.config.ts).
  const webPort = options.webPort ?? Number(env.PORT ?? 3000);
  const appUrl = (env.APP_URL || `http://127.0.0.1:${webPort}`).replace(/\/+$/, "");
  const localSignIn = !(env.CLERK_PUBLISHABLE_KEY && env.CLERK_SECRET_KEY);

  try {
    // The WhatsApp simulator stands in for Meta's Cloud API and WAHA; the local Convex server
    // talks to it (WHATSAPP_GRAPH_URL) and it signs webhooks with the same app secret.
    let simulatorUrl: string | null = null;
    if (env.WHATSAPP_SIMULATOR !== "off") {
      const simulatorPort = options.simulatorPort ?? Number(env.WHATSAPP_SIMULATOR_PORT ?? 3220);
      const ready = /whatsapp-simulator ready (\S+)/;
      const simulator = startService(
        "whatsapp",
        process.execPath,
        [
          "--import",
          "tsx",
          path.join(ROOT, "local/whatsapp-simulator/cli.ts"),
          "--port",
          String(simulatorPort),
          "--state",
          path.join(dataDir, "whatsapp-simulator.json"),
          "--quiet",
        ],
        env,
        ready,
        log,
      );
      services.push(simulator);
      simulatorUrl = ready.exec(await simulator.ready)![1];
    }
    const whatsapp = {
      ...localWhatsAppSettings(dataDir),
      ...pick(env, ["WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN"]),
    };
    const graphUrl = env.WHATSAPP_GRAPH_URL || (simulatorUrl ? `${simulatorUrl}/v23.0` : undefined);

    // OPENAI_LOCAL=1: the assistant talks to the local OpenAI server (scripted answers, fault
    // knobs) instead of the offline answerer. Off by default, and never a real key from the shell:
    // a key for OpenAI itself goes in local/convex.env.
    let openaiUrl: string | null = null;
    if (optedIn(env.OPENAI_LOCAL)) {
      const openaiPort = options.openaiPort ?? Number(env.OPENAI_LOCAL_PORT ?? 3230);
      const ready = /openai-local ready (\S+)/;
      const openai = startService(
        "openai",
        process.execPath,
        [
          "--import",
          "tsx",
          path.join(ROOT, "local/openai-server/cli.ts"),
          "--port",
          String(openaiPort),
          "--keys",
          LOCAL_OPENAI_KEY,
        ],
        env,
        ready,
        log,
      );
      services.push(openai);
      openaiUrl = ready.exec(await openai.ready)![1];
    }

    let convexUrl = env.CONVEX_URL || deploymentUrl(env.CONVEX_DEPLOYMENT);
    let convexSiteUrl = env.CONVEX_SITE_URL;
    let adminKey: string | null = null;
    if (!convexUrl) {
      const convexPort = options.convexPort ?? Number(env.CONVEX_LOCAL_PORT ?? 3210);
      const sitePort = options.convexSitePort ?? Number(env.CONVEX_LOCAL_SITE_PORT ?? 3211);
      const args = [
        ...SERVER_NODE_FLAGS,
        "--import",
        "tsx",
        path.join(ROOT, "local/convex-server/cli.ts"),
        "--functions",
        path.join(ROOT, "convex"),
        "--data",
        path.join(dataDir, "convex"),
        "--port",
        String(convexPort),
        "--site-port",
        String(sitePort),
      ];
      // Channel secrets are encrypted at rest: with the developer's key when one is set, else
      // with a key made once for this data directory.
      const channelSecretsKey =
        env.CHANNEL_SECRETS_KEY ||
        (userConvexEnvSets("CHANNEL_SECRETS_KEY") ? undefined : localChannelSecretsKey(dataDir));
      const convexEnv: Record<string, string> = {
        // Links in emails point at the web app.
        APP_URL: appUrl,
        ...(localSignIn ? { LOCAL_AUTH_ISSUER: appUrl } : {}),
        ...(channelSecretsKey ? { CHANNEL_SECRETS_KEY: channelSecretsKey } : {}),
        // WhatsApp: the simulator (or WHATSAPP_GRAPH_URL), and dev secrets unless exported.
        WHATSAPP_APP_SECRET: whatsapp.WHATSAPP_APP_SECRET,
        WHATSAPP_VERIFY_TOKEN: whatsapp.WHATSAPP_VERIFY_TOKEN,
        ...(graphUrl ? { WHATSAPP_GRAPH_URL: graphUrl } : {}),
        // The simulator (and a developer's own WAHA) run on this machine: let channels call them.
        ALLOW_PRIVATE_PROVIDER_URLS: "true",
        // The local OpenAI server when opted in (these win over local/convex.env).
        ...(openaiUrl ? { OPENAI_BASE_URL: `${openaiUrl}/v1`, OPENAI_API_KEY: LOCAL_OPENAI_KEY } : {}),
        // Convex-side settings a developer may export before `npm run dev`.
        ...pick(env, [
          "PLATFORM_ADMIN_EMAILS",
          "RESEND_API_KEY",
          "RESEND_BASE_URL",
          "EMAIL_FROM",
          "CHANNEL_SECRETS_KEY_PREVIOUS",
          "OPENAI_MODELS",
        ]),
      };
      args.push("--env-file", writeConvexEnvFile(dataDir, convexEnv));
      if (options.mode === "dev") args.push("--watch", "--codegen");
      const convex = startService(
        "convex",
        process.execPath,
        args,
        env,
        /convex-local ready (\S+) site (\S+)/,
        log,
      );
      services.push(convex);
      const out = await convex.ready;
      const match = /convex-local ready (\S+) site (\S+)/.exec(out)!;
      convexUrl = match[1];
      convexSiteUrl = match[2];
      // The server keeps its admin key in its data folder (mode 0600) and never prints it.
      adminKey = readFileSync(path.join(dataDir, "convex", "admin-key"), "utf8").trim();
    }
    convexSiteUrl ??= deriveSiteUrl(convexUrl);
    if (adminKey) {
      await loadPublishedRates(convexUrl, adminKey, log);
      await backfillContactSearch(convexUrl, adminKey, log);
    }

    let demo: RunningStack["demo"] = null;
    if (simulatorUrl) {
      await configureDemoNumbers({
        simulatorUrl,
        siteUrl: convexSiteUrl,
        appSecret: whatsapp.WHATSAPP_APP_SECRET,
      });
      // `npm run dev` with local sign-in: a demo workspace whose channels point at the simulator.
      if (options.mode === "dev" && localSignIn && adminKey && env.SWITCHBOARD_DEMO !== "off") {
        try {
          const identity = await demoIdentity({
            authDataDir: env.AUTH_DATA_DIR || path.join(dataDir, "auth"),
            issuer: appUrl,
          });
          const seeded = await seedDemo({
            convexUrl,
            adminKey,
            siteUrl: convexSiteUrl,
            simulatorUrl,
            appSecret: whatsapp.WHATSAPP_APP_SECRET,
            identity,
          });
          demo = { ...seeded, email: identity.email };
        } catch (error) {
          log(
            "whatsapp",
            `The demo workspace could not be seeded: ${error instanceof Error ? error.message : error}`,
          );
        }
      }
    }

    // SENTRY_LOCAL=1: error reports go to a local receiver of Sentry envelopes, printed here
    // (scrubbed as they would reach Sentry), instead of nowhere.
    let sentry: SentryReceiver | null = null;
    if (optedIn(env.SENTRY_LOCAL) && !env.SENTRY_DSN) {
      sentry = await startSentryReceiver({ port: Number(env.SENTRY_LOCAL_PORT ?? 3240) });
      sentry.onEvent = (item) => log("sentry", describeSentryItem(item));
      closers.push(() => sentry!.close());
    }

    // Rate limits: `npm run dev` (or REDIS_LOCAL=1) runs Debian's redis-server behind a local
    // Upstash-compatible REST bridge, so the web app uses the same client as with Upstash.
    // Without redis-server the web app counts in memory; an exported UPSTASH_* wins over both.
    let rateLimits = "in memory (each process counts its own)";
    const redisEnv: Record<string, string> = {};
    const wantsRedis = env.REDIS_LOCAL ? optedIn(env.REDIS_LOCAL) : options.mode === "dev";
    if (env.UPSTASH_REDIS_REST_URL) rateLimits = `Upstash at ${env.UPSTASH_REDIS_REST_URL}`;
    else if (wantsRedis) {
      const binary = findRedisServer(env);
      if (!binary) {
        rateLimits =
          "in memory: redis-server is not installed (apt-get install redis-server for limits in Redis)";
        log("redis", `redis-server not found; rate limits are counted in memory`);
      } else {
        const redisPort = await freePort();
        const redis = startService(
          "redis",
          binary,
          redisServerArgs(redisPort),
          env,
          /Ready to accept connections/,
          // Its start-up banner is noise here; readiness and problems are not.
          (service, line) => {
            if (/Ready to accept|error|fail|denied|in use|bye/i.test(line) && !/overcommit/.test(line))
              log(service, line);
          },
        );
        services.push(redis);
        await redis.ready;
        const bridge = await startRedisRestBridge({
          redisPort,
          token: randomBytes(24).toString("hex"),
          port: Number(env.REDIS_REST_LOCAL_PORT ?? 0),
        });
        closers.push(() => bridge.close());
        redisEnv.UPSTASH_REDIS_REST_URL = bridge.url;
        redisEnv.UPSTASH_REDIS_REST_TOKEN = bridge.token;
        rateLimits = `Redis 127.0.0.1:${redisPort} via the Upstash REST bridge ${bridge.url}`;
      }
    }

    const webEnv = {
      ...env,
      ...redisEnv,
      ...(sentry ? { SENTRY_DSN: sentry.dsn(), SENTRY_ENVIRONMENT: "local" } : {}),
      CONVEX_URL: convexUrl,
      CONVEX_SITE_URL: convexSiteUrl,
      PORT: String(webPort),
      APP_URL: appUrl,
      AUTH_DATA_DIR: env.AUTH_DATA_DIR || path.join(dataDir, "auth"),
      ...options.webEnv,
    };
    let web: Service;
    if (options.mode === "dev") {
      web = startService(
        "web",
        path.join(BIN, "remix"),
        ["vite:dev", "--port", String(webPort), "--strictPort", "--host", "127.0.0.1"],
        { ...webEnv, NODE_ENV: "development" },
        /Local:\s+(http\S+)/,
        log,
      );
    } else {
      if (!existsSync(path.join(ROOT, "build", "server", "index.js"))) {
        throw new Error("No production build found: run `npm run build` first.");
      }
      const instrument = path.join(ROOT, "instrument.server.mjs");
      const nodeOptions = existsSync(instrument) ? `--import ${instrument}` : "";
      web = startService(
        "web",
        path.join(BIN, "remix-serve"),
        [path.join(ROOT, "build", "server", "index.js")],
        { ...webEnv, NODE_ENV: "production", NODE_OPTIONS: nodeOptions, HOST: env.HOST ?? "127.0.0.1" },
        /\[remix-serve\]\s+(http\S+)/,
        log,
      );
    }
    services.push(web);
    await web.ready;
    return {
      webUrl: `http://127.0.0.1:${webPort}`,
      convexUrl,
      convexSiteUrl,
      adminKey,
      simulatorUrl,
      openaiUrl,
      sentryUrl: sentry?.url ?? null,
      demo,
      rateLimits,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** One line for an error report the local Sentry receiver got: where it came from and what. */
function describeSentryItem(item: ReceivedItem): string {
  const event = item.payload as {
    platform?: string;
    level?: string;
    message?: string;
    exception?: { values?: { type?: string; value?: string }[] };
  };
  const first = event.exception?.values?.at(-1);
  const what = first ? `${first.type ?? "Error"}: ${first.value ?? ""}` : (event.message ?? "");
  return `${event.level ?? "error"} from ${event.platform === "node" ? "the web server" : "a browser"}: ${what}`;
}

/** The key the local Convex server uses with the local OpenAI server, the only one it accepts. */
export const LOCAL_OPENAI_KEY = "local-key";

/** Whether an opt-in variable such as OPENAI_LOCAL is set: 1, true, yes or on. */
function optedIn(value: string | undefined): boolean {
  return /^(1|true|yes|on)$/i.test(value?.trim() ?? "");
}

/**
 * Loads the rate card this version ships into the local server at once (its cron would within
 * ten minutes), as `npx convex run billing:loadPublishedRates` does against a deployment.
 */
async function loadPublishedRates(
  convexUrl: string,
  adminKey: string,
  log: (service: string, line: string) => void,
): Promise<void> {
  const client = new ConvexHttpClient(convexUrl);
  (client as unknown as { setAdminAuth(key: string): void }).setAdminAuth(adminKey);
  try {
    const result = await client.mutation(
      makeFunctionReference<"mutation", Record<string, never>, { loaded: boolean; inserted: number }>(
        "billing:loadPublishedRates",
      ),
      {},
    );
    if (result.loaded) log("convex", `published rate card loaded (${result.inserted} new rows)`);
  } catch (error) {
    log("convex", `The rate card could not be loaded: ${error instanceof Error ? error.message : error}`);
  }
}

/**
 * Makes contacts stored by an earlier version searchable (it continues in the background), as
 * `npx convex run contacts:backfillSearchText` does against a deployment.
 */
async function backfillContactSearch(
  convexUrl: string,
  adminKey: string,
  log: (service: string, line: string) => void,
): Promise<void> {
  const client = new ConvexHttpClient(convexUrl);
  (client as unknown as { setAdminAuth(key: string): void }).setAdminAuth(adminKey);
  try {
    const result = await client.mutation(
      makeFunctionReference<"mutation", Record<string, never>, { updated: number; isDone: boolean }>(
        "contacts:backfillSearchText",
      ),
      {},
    );
    if (result.updated)
      log(
        "convex",
        `made ${result.updated} older contacts searchable${result.isDone ? "" : " (continuing)"}`,
      );
  } catch (error) {
    log(
      "convex",
      `Contact search could not be backfilled: ${error instanceof Error ? error.message : error}`,
    );
  }
}

/**
 * The env file the local Convex server is started with: `local/convex.env` (if any) followed by
 * what the stack itself decides, so the stack's values win (the server's parser keeps the last
 * value of a key). Today that is LOCAL_AUTH_ISSUER, which must equal the web server's APP_URL.
 */
export function writeConvexEnvFile(dataDir: string, values: Record<string, string>): string {
  const file = path.join(dataDir, "convex.env");
  const userFile = path.join(ROOT, "local", "convex.env");
  const lines = [
    "# Generated by local/stack.ts on every start; edit local/convex.env instead.",
    existsSync(userFile) ? readFileSync(userFile, "utf8").trimEnd() : "",
    ...Object.entries(values).map(([key, value]) => `${key}=${JSON.stringify(value)}`),
  ];
  writeFileSync(file, lines.filter((line) => line !== "").join("\n") + "\n", { mode: 0o600 });
  return file;
}

/** Whether local/convex.env (the developer's own Convex settings) sets `key`. */
function userConvexEnvSets(key: string): boolean {
  const userFile = path.join(ROOT, "local", "convex.env");
  if (!existsSync(userFile)) return false;
  return readFileSync(userFile, "utf8")
    .split("\n")
    .some((line) => line.trim().startsWith(`${key}=`));
}

/**
 * The local server's CHANNEL_SECRETS_KEY: 32 random bytes (base64) made on the first start and
 * kept in `<dataDir>/channel-secrets.key`, so stored channel secrets stay readable across
 * restarts; deleting the data directory deletes both. Written to a temporary file and hard-linked
 * into place, so a reader never sees half a key and two starts at once agree on one.
 */
export function localChannelSecretsKey(dataDir: string): string {
  const file = path.join(dataDir, "channel-secrets.key");
  if (!existsSync(file)) {
    const temp = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
    writeFileSync(temp, randomBytes(32).toString("base64") + "\n", { mode: 0o600, flag: "wx" });
    try {
      linkSync(temp, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    } finally {
      unlinkSync(temp);
    }
  }
  return readFileSync(file, "utf8").trim();
}

/**
 * The Cloud API webhook secrets of a local stack: WHATSAPP_APP_SECRET (the simulator signs with
 * it, Convex verifies with it) and WHATSAPP_VERIFY_TOKEN, made once per data directory and kept
 * in `<dataDir>/whatsapp-dev.json` (mode 0600). Exported values take precedence in startStack.
 */
export function localWhatsAppSettings(dataDir: string): {
  WHATSAPP_APP_SECRET: string;
  WHATSAPP_VERIFY_TOKEN: string;
} {
  const file = path.join(dataDir, "whatsapp-dev.json");
  let values: { appSecret?: string; verifyToken?: string } = {};
  if (existsSync(file)) values = JSON.parse(readFileSync(file, "utf8")) as typeof values;
  if (!values.appSecret || !values.verifyToken) {
    values = {
      appSecret: values.appSecret || randomBytes(24).toString("hex"),
      verifyToken: values.verifyToken || randomBytes(16).toString("hex"),
    };
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify(values, null, 2) + "\n", { mode: 0o600 });
  }
  return {
    WHATSAPP_APP_SECRET: values.appSecret!,
    WHATSAPP_VERIFY_TOKEN: values.verifyToken!,
  };
}

function pick(env: Record<string, string | undefined>, keys: string[]): Record<string, string> {
  return Object.fromEntries(keys.filter((k) => env[k]).map((k) => [k, env[k]!]));
}

/** `CONVEX_DEPLOYMENT` as the Convex CLI writes it (`dev:happy-otter-123`) → its cloud URL. */
export function deploymentUrl(deployment: string | undefined): string | undefined {
  const name = deployment?.split("#")[0].trim().split(":").pop();
  return name ? `https://${name}.convex.cloud` : undefined;
}

export function deriveSiteUrl(convexUrl: string): string {
  const url = new URL(convexUrl);
  if (url.hostname === "127.0.0.1" || url.hostname === "localhost") {
    url.port = String(Number(url.port) + 1);
    return url.origin;
  }
  return url.origin.replace(/\.convex\.cloud$/, ".convex.site");
}

async function main(): Promise<void> {
  const mode = (process.argv[2] ?? "dev") as Mode;
  if (mode !== "dev" && mode !== "start") throw new Error(`Unknown mode ${mode}; use dev or start`);
  // SWITCHBOARD_DATA_DIR keeps the data somewhere other than .data/ (tests use a temp folder).
  const dataDir = process.env.SWITCHBOARD_DATA_DIR || undefined;
  // Ctrl-C while starting: exiting runs startStack's exit hook, which kills the services begun
  // so far (they run detached, so a plain SIGINT death would leave them running).
  let stack: RunningStack | null = null;
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    console.log("\nStopping Switchboard…");
    if (stack) await stack.stop();
    process.exit(stack ? 0 : 130);
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => void shutdown());
  stack = await startStack({ mode, dataDir });
  if (stopping) return;
  const lines = [
    "",
    "Switchboard is running:",
    `  App              ${stack.webUrl}`,
    `  App health       ${stack.webUrl}/healthz`,
    `  Sign in          ${stack.webUrl}/sign-in`,
    `  Convex           ${stack.convexUrl}${stack.adminKey ? " (local)" : ""}`,
    `  Convex HTTP      ${stack.convexSiteUrl}  (health: ${stack.convexSiteUrl}/health)`,
  ];
  if (stack.simulatorUrl) {
    lines.push(
      `  WhatsApp sim     ${stack.simulatorUrl}  (phone page; Graph API ${stack.simulatorUrl}/v23.0, WAHA ${stack.simulatorUrl}/api)`,
    );
  }
  if (stack.openaiUrl) {
    lines.push(
      `  OpenAI (local)   ${stack.openaiUrl}/v1  (key ${LOCAL_OPENAI_KEY}; requests ${stack.openaiUrl}/_control/requests)`,
    );
  }
  lines.push(`  Rate limits      ${stack.rateLimits}`);
  if (stack.sentryUrl) lines.push(`  Sentry (local)   ${stack.sentryUrl}/_events  (error reports, scrubbed)`);
  if (stack.demo)
    lines.push(`  Demo workspace   ${stack.webUrl}/t/${stack.demo.slug}  (sign in as ${stack.demo.email})`);
  if (stack.adminKey)
    lines.push(
      `  Tables           ${stack.convexUrl}/_local/tables`,
      `  Admin key        in ${path.join(dataDir ? path.resolve(dataDir) : ".data", "convex", "admin-key")}`,
    );
  lines.push(`  Data             ${dataDir ? path.resolve(dataDir) : ".data/"}`, "Press Ctrl-C to stop.", "");
  console.log(lines.join("\n"));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
