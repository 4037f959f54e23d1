/**
 * Starts Debian's redis-server on loopback for local development and tests: no persistence
 * (rate-limit counters are worth nothing after a restart), no password, a port of the caller's
 * choosing or a free one.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import net, { type AddressInfo } from "node:net";

/** Where redis-server is: REDIS_SERVER_PATH, else the first on PATH, else null. */
export function findRedisServer(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.REDIS_SERVER_PATH) return existsSync(env.REDIS_SERVER_PATH) ? env.REDIS_SERVER_PATH : null;
  const found = spawnSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" });
  const path = found.status === 0 ? found.stdout.trim() : "";
  return path || null;
}

export type LocalRedis = {
  host: string;
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
};

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Runs redis-server and resolves once it accepts connections. With no `port`, picks a free one
 * (and tries again if another process took it in the meantime).
 */
export async function startRedisServer(
  options: { port?: number; binary?: string; log?: (line: string) => void } = {},
): Promise<LocalRedis> {
  const binary = options.binary ?? findRedisServer();
  if (!binary) throw new Error("redis-server is not installed (Debian: apt-get install redis-server)");
  for (let attempt = 0; ; attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return await launch(binary, port, options.log);
    } catch (error) {
      if (options.port !== undefined || attempt >= 2) throw error;
    }
  }
}

function launch(binary: string, port: number, log?: (line: string) => void): Promise<LocalRedis> {
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--protected-mode",
    "yes",
    // Keep memory bounded: counters are small, and the oldest expiring keys go first.
    "--maxmemory",
    "64mb",
    "--maxmemory-policy",
    "volatile-lru",
  ];
  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
      child.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill("SIGTERM");
    });
  return new Promise<LocalRedis>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`redis-server did not start within 10 s:\n${output}`));
    }, 10_000);
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      output += text;
      for (const line of text.split("\n")) if (line.trim()) log?.(line.trim());
      if (/Ready to accept connections/.test(output)) {
        clearTimeout(timer);
        resolve({ host: "127.0.0.1", port, child, stop });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with code ${code} before it was ready:\n${output.trim()}`));
    });
  });
}
