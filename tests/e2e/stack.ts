/** Starts the production build of the whole stack on free ports for browser tests, and a Chromium to drive it. */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { expect } from "vitest";
import { startResendServer, type ResendServer } from "../../local/resend-server/server";
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

/**
 * `count` free ports, all different: the OS may hand the same just-closed port out twice, and two
 * services of one stack must not be given the same one.
 */
export async function freePortSet(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
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

/**
 * The production build on free ports, with local sign-in opted in for production (passwords
 * required, rate-limited) and a local Resend-compatible server that receives the web app's own
 * email (verification links); `mail` holds what it received. Convex keeps its outbox.
 */
export async function startTestStack(
  extraEnv: Record<string, string> = {},
): Promise<RunningStack & { logs: string[]; mail: ResendServer }> {
  ensureBuild();
  const logs: string[] = [];
  const mail = await startResendServer({ apiKey: E2E_RESEND_KEY });
  const [convexPort, convexSitePort, webPort, simulatorPort] = await freePortSet(4);
  const stack = await startStack({
    mode: "start",
    dataDir: tempDir("switchboard-e2e-"),
    webPort,
    convexPort,
    convexSitePort,
    simulatorPort,
    log: (service, line) => logs.push(`[${service}] ${line}`),
    env: { CONVEX_URL: "", CONVEX_SITE_URL: "", SENTRY_DSN: "", ...extraEnv },
    webEnv: {
      LOCAL_SIGN_IN_IN_PRODUCTION: "true",
      RESEND_API_KEY: E2E_RESEND_KEY,
      RESEND_BASE_URL: mail.url,
    },
  }).catch(async (error: unknown) => {
    await mail.close();
    throw error;
  });
  return {
    ...stack,
    logs,
    mail,
    stop: async () => {
      await stack.stop();
      await mail.close();
    },
  };
}

const E2E_RESEND_KEY = "re_e2e";

/**
 * Verifies the signed-in page's account email through the real path: the account page sends a
 * link (to the local Resend server), and the link is opened and confirmed in the same browser.
 */
export async function verifyEmail(page: Page, stack: { webUrl: string; mail: ResendServer }, email: string) {
  const count = stack.mail.received.length;
  await page.goto(`${stack.webUrl}/account`);
  await page.getByRole("button", { name: "Send a verification link" }).click();
  await page.getByText(`We sent a verification link to ${email}`).waitFor();
  const [message] = (await stack.mail.waitForEmails(count + 1)).slice(count);
  expect(message!.to).toEqual([email]);
  const link = /https?:\/\/\S+\/verify-email\?token=\S+/.exec(message!.text ?? "")?.[0];
  expect(link).toBeTruthy();
  await page.goto(link!);
  await page.getByRole("button", { name: "Verify email address" }).click();
  await page.getByText("Your email address is verified.").waitFor();
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
