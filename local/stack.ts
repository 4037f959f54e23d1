/**
 * Runs the whole product locally: the local Convex server (unless CONVEX_URL points elsewhere)
 * and the Remix app, in dev mode (`npm run dev`) or from the production build (`npm start`).
 * Prints the URLs, keeps data in .data/, and stops everything on Ctrl-C.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

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
  /** Log lines from the services (default: prefixed on stdout). */
  log?: (service: string, line: string) => void;
  env?: Record<string, string | undefined>;
};

export type RunningStack = {
  webUrl: string;
  convexUrl: string;
  convexSiteUrl: string;
  adminKey: string | null;
  stop(): Promise<void>;
};

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
      buffer += line + "\n";
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
  const stop = async () => {
    await Promise.all(services.reverse().map(stopService));
  };

  // Local sign-in (no Clerk keys): the web app issues tokens as APP_URL, and the local Convex
  // server trusts that issuer (LOCAL_AUTH_ISSUER, read by convex/auth.config.ts).
  const webPort = options.webPort ?? Number(env.PORT ?? 3000);
  const appUrl = (env.APP_URL || `http://127.0.0.1:${webPort}`).replace(/\/+$/, "");
  const localSignIn = !(env.CLERK_PUBLISHABLE_KEY && env.CLERK_SECRET_KEY);

  try {
    let convexUrl = env.CONVEX_URL || deploymentUrl(env.CONVEX_DEPLOYMENT);
    let convexSiteUrl = env.CONVEX_SITE_URL;
    let adminKey: string | null = null;
    if (!convexUrl) {
      const convexPort = options.convexPort ?? Number(env.CONVEX_LOCAL_PORT ?? 3210);
      const sitePort = options.convexSitePort ?? Number(env.CONVEX_LOCAL_SITE_PORT ?? 3211);
      const args = [
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
      const convexEnv: Record<string, string> = {
        // Links in emails point at the web app.
        APP_URL: appUrl,
        ...(localSignIn ? { LOCAL_AUTH_ISSUER: appUrl } : {}),
        // Convex-side settings a developer may export before `npm run dev`.
        ...pick(env, ["PLATFORM_ADMIN_EMAILS", "RESEND_API_KEY", "RESEND_BASE_URL", "EMAIL_FROM"]),
      };
      args.push("--env-file", writeConvexEnvFile(dataDir, convexEnv));
      if (options.mode === "dev") args.push("--watch", "--codegen");
      const convex = startService(
        "convex",
        process.execPath,
        args,
        env,
        /convex-local ready (\S+) site (\S+)[\s\S]*admin key[^:]*: (\S+)/,
        log,
      );
      services.push(convex);
      const out = await convex.ready;
      const match = /convex-local ready (\S+) site (\S+)[\s\S]*admin key[^:]*: (\S+)/.exec(out)!;
      convexUrl = match[1];
      convexSiteUrl = match[2];
      adminKey = match[3];
    }
    convexSiteUrl ??= deriveSiteUrl(convexUrl);

    const webEnv = {
      ...env,
      CONVEX_URL: convexUrl,
      CONVEX_SITE_URL: convexSiteUrl,
      PORT: String(webPort),
      APP_URL: appUrl,
      AUTH_DATA_DIR: env.AUTH_DATA_DIR || path.join(dataDir, "auth"),
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
    return { webUrl: `http://127.0.0.1:${webPort}`, convexUrl, convexSiteUrl, adminKey, stop };
  } catch (error) {
    await stop();
    throw error;
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
  const stack = await startStack({ mode });
  const lines = [
    "",
    "Switchboard is running:",
    `  App              ${stack.webUrl}`,
    `  App health       ${stack.webUrl}/healthz`,
    `  Sign in          ${stack.webUrl}/sign-in`,
    `  Convex           ${stack.convexUrl}${stack.adminKey ? " (local)" : ""}`,
    `  Convex HTTP      ${stack.convexSiteUrl}  (health: ${stack.convexSiteUrl}/health)`,
  ];
  if (stack.adminKey)
    lines.push(`  Tables           ${stack.convexUrl}/_local/tables`, `  Admin key        ${stack.adminKey}`);
  lines.push("  Data             .data/", "Press Ctrl-C to stop.", "");
  console.log(lines.join("\n"));
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    console.log("\nStopping Switchboard…");
    await stack.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown());
  process.on("SIGTERM", () => void shutdown());
  process.on("SIGHUP", () => void shutdown());
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
