/** Starts local Convex servers for tests: in-process for speed, or as a real CLI process for crash tests. */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import WebSocket from "ws";
import { SERVER_NODE_FLAGS } from "../../local/convex-server/nodeFlags";
import {
  adminKeyFile,
  startLocalConvex,
  type LocalConvex,
  type LocalConvexOptions,
} from "../../local/convex-server/server";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const APP_FUNCTIONS = path.join(ROOT, "convex");

export function tempDir(prefix = "convex-local-test-"): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export type TestServer = LocalConvex & { dataDir: string; logs: string[]; stop(): Promise<void> };

/** An in-process server on ephemeral ports with its own data folder. */
export async function startServer(options: Partial<LocalConvexOptions> = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? tempDir();
  const logs: string[] = [];
  const server = await startLocalConvex({
    functionsDir: APP_FUNCTIONS,
    port: 0,
    sitePort: 0,
    fsync: false,
    log: (line) => logs.push(line),
    ...options,
    dataDir,
  });
  return {
    ...server,
    dataDir,
    logs,
    async stop() {
      await server.close();
    },
  };
}

export function wsClient(url: string, options: Record<string, unknown> = {}): ConvexClient {
  return new ConvexClient(url, {
    webSocketConstructor: WebSocket as never,
    unsavedChangesWarning: false,
    ...options,
  });
}

export function httpClient(url: string): ConvexHttpClient {
  return new ConvexHttpClient(url);
}

export function adminClient(server: { url: string; adminKey: string }): ConvexHttpClient {
  const client = new ConvexHttpClient(server.url);
  (client as unknown as { setAdminAuth(key: string): void }).setAdminAuth(server.adminKey);
  return client;
}

/** Resolves with the first value `predicate` accepts from a subscription. */
export function waitForValue<T>(
  subscribe: (cb: (value: T) => void) => () => void,
  predicate: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    let unsubscribe: (() => void) | null = null;
    const timer = setTimeout(() => {
      unsubscribe?.();
      reject(new Error("Timed out waiting for a subscription value"));
    }, timeoutMs);
    unsubscribe = subscribe((value) => {
      if (predicate(value)) {
        clearTimeout(timer);
        queueMicrotask(() => unsubscribe?.());
        resolve(value);
      }
    });
  });
}

export type SpawnedServer = {
  url: string;
  siteUrl: string;
  adminKey: string;
  process: ChildProcess;
  output: () => string;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
};

/** Starts the real CLI (`npm run convex:local`'s entry), collecting everything it prints. */
function spawnCli(args: string[]) {
  const child = spawn(
    process.execPath,
    [
      // Extra Node flags for the server, e.g. SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof".
      ...SERVER_NODE_FLAGS,
      ...(process.env.SERVER_NODE_ARGS?.split(" ").filter(Boolean) ?? []),
      "--import",
      "tsx",
      path.join(ROOT, "local/convex-server/cli.ts"),
      ...args,
    ],
    {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const state = { output: "" };
  child.stdout!.on("data", (d) => (state.output += String(d)));
  child.stderr!.on("data", (d) => (state.output += String(d)));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, state, exited };
}

/** The data folder a CLI command line uses (`--data`, default `.data/convex` under the repo). */
function dataDirOf(args: string[]): string {
  const at = args.indexOf("--data");
  return path.resolve(ROOT, at >= 0 ? args[at + 1] : ".data/convex");
}

/** Runs the real CLI and waits for its ready line. */
export function spawnServer(args: string[], timeoutMs = 60_000): Promise<SpawnedServer> {
  const { child, state, exited } = spawnCli(args);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`convex-local did not become ready:\n${state.output}`));
    }, timeoutMs);
    const onData = () => {
      const ready = /convex-local ready (\S+) site (\S+)/.exec(state.output);
      if (ready) {
        clearTimeout(timer);
        child.stdout!.off("data", onData);
        resolve({
          url: ready[1],
          siteUrl: ready[2],
          // Never printed by default: read from the data folder, as a developer would.
          adminKey: readFileSync(adminKeyFile(dataDirOf(args)), "utf8").trim(),
          process: child,
          output: () => state.output,
          kill: async (signal = "SIGTERM") => {
            child.kill(signal);
            return await exited;
          },
        });
      }
    };
    child.stdout!.on("data", onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(
        Object.assign(new Error(`convex-local exited with ${code}:\n${state.output}`), {
          code,
          output: state.output,
        }),
      );
    });
  });
}

/** Runs the CLI expecting it to fail; resolves with its exit code and output. */
/**
 * Starts the CLI for `functionsDir` on ephemeral ports with its data in `dataDir`; the process
 * is killed (SIGKILL) by `cleanups` after the test if it is still running.
 */
export async function spawnOnEphemeralPorts(
  functionsDir: string,
  dataDir: string,
  cleanups: (() => Promise<void> | void)[],
): Promise<SpawnedServer> {
  const server = await spawnServer([
    "--functions",
    functionsDir,
    "--data",
    dataDir,
    "--port",
    "0",
    "--site-port",
    "0",
  ]);
  cleanups.push(async () => {
    if (server.process.exitCode === null && server.process.signalCode === null) await server.kill("SIGKILL");
  });
  return server;
}

export async function spawnExpectingFailure(
  args: string[],
  timeoutMs = 60_000,
): Promise<{ code: number | null; output: string }> {
  const { child, state, exited } = spawnCli(args);
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const code = await exited;
  clearTimeout(timer);
  return { code, output: state.output };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `read` until `accept` likes its value; fails with the last value after `timeoutMs`. */
export async function until<T>(
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`Timed out; last value: ${JSON.stringify(value)}`);
    await sleep(50);
  }
}
