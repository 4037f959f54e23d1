/** Starts the production build of the whole stack on free ports for browser tests, and a Chromium to drive it. */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { chromium, type Browser } from "playwright-core";
import { startStack, type RunningStack } from "../../local/stack";
import { ROOT, tempDir } from "../local/harness";

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** Builds the app once if `npm test` has not already done so. */
export function ensureBuild(): void {
  if (existsSync(path.join(ROOT, "build", "server", "index.js"))) return;
  const result = spawnSync(path.join(ROOT, "node_modules/.bin/remix"), ["vite:build"], {
    cwd: ROOT,
    stdio: "inherit",
  });
  if (result.status !== 0) throw new Error("remix vite:build failed");
}

export async function startTestStack(
  extraEnv: Record<string, string> = {},
): Promise<RunningStack & { logs: string[] }> {
  ensureBuild();
  const logs: string[] = [];
  const convexPort = await freePort();
  let convexSitePort = await freePort();
  while (convexSitePort === convexPort) convexSitePort = await freePort();
  const stack = await startStack({
    mode: "start",
    dataDir: tempDir("switchboard-e2e-"),
    webPort: await freePort(),
    convexPort,
    convexSitePort,
    simulatorPort: await freePort(),
    log: (service, line) => logs.push(`[${service}] ${line}`),
    env: { CONVEX_URL: "", CONVEX_SITE_URL: "", SENTRY_DSN: "", ...extraEnv },
  });
  return { ...stack, logs };
}

export async function launchChromium(): Promise<Browser> {
  return await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
