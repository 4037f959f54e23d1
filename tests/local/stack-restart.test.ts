/**
 * `npm run dev`, create a workspace, stop, start again: everything is still there. Drives the
 * real stack entry point (local/stack.ts dev) as a process — the local Convex server, the
 * WhatsApp simulator and the Remix dev server — on free ports with a temporary data folder,
 * signs in through the web app's own sign-in form, creates a workspace and a channel through
 * the real Convex client, stops the stack as Ctrl-C does, starts it again and reads it all back.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { ConvexHttpClient } from "convex/browser";
import { afterEach, describe, expect, it } from "vitest";
import { api } from "../../convex/_generated/api";
import { freePortSet } from "../e2e/stack";
import { removeDir, ROOT, tempDir } from "./harness";

type RunningDev = {
  process: ChildProcess;
  webUrl: string;
  convexUrl: string;
  output: () => string;
  stop(): Promise<number | null>;
};

const running: RunningDev[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const dev of running.splice(0)) {
    if (dev.process.exitCode === null && dev.process.signalCode === null) await dev.stop();
  }
  for (const dir of dirs.splice(0)) removeDir(dir);
});

/** Runs `local/stack.ts dev` as `npm run dev` does, waiting for its "Switchboard is running" banner. */
async function startDev(env: Record<string, string>, until = /Press Ctrl-C to stop/): Promise<RunningDev> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "local/stack.ts"), "dev"], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d) => (output += String(d)));
  child.stderr!.on("data", (d) => (output += String(d)));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const dev: RunningDev = {
    process: child,
    webUrl: "",
    convexUrl: "",
    output: () => output,
    // Ctrl-C: the terminal sends SIGINT to the stack, which stops its services and exits.
    stop: async () => {
      child.kill("SIGINT");
      return await exited;
    },
  };
  running.push(dev);
  const deadline = Date.now() + 120_000;
  while (!until.test(output)) {
    if (child.exitCode !== null) throw new Error(`the stack exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`the stack did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  dev.webUrl = /App\s+(http\S+)/.exec(output)?.[1] ?? "";
  dev.convexUrl = /Convex\s+(http\S+)/.exec(output)?.[1] ?? "";
  return dev;
}

/** Signs in through the web app's sign-in form and fetches a Convex token, as the browser does. */
async function signIn(webUrl: string, email: string, name: string): Promise<string> {
  const signedIn = await fetch(`${webUrl}/sign-in`, {
    method: "POST",
    redirect: "manual",
    headers: { origin: webUrl, "sec-fetch-site": "same-origin" },
    body: new URLSearchParams({ email, name, password: "correct horse battery staple" }),
  });
  expect(signedIn.status, await signedIn.clone().text()).toBe(302);
  const cookie = signedIn.headers.get("set-cookie")!.split(";")[0]!;
  const tokenResponse = await fetch(`${webUrl}/auth/token`, { headers: { cookie } });
  expect(tokenResponse.status).toBe(200);
  return ((await tokenResponse.json()) as { token: string }).token;
}

/** Whether anything still answers on a local port. */
async function listening(port: string): Promise<boolean> {
  return await fetch(`http://127.0.0.1:${port}/`).then(
    () => true,
    () => false,
  );
}

function stackEnv(dataDir: string, ports: { web: number; convex: number; site: number; sim: number }) {
  return {
    SWITCHBOARD_DATA_DIR: dataDir,
    PORT: String(ports.web),
    CONVEX_LOCAL_PORT: String(ports.convex),
    CONVEX_LOCAL_SITE_PORT: String(ports.site),
    WHATSAPP_SIMULATOR_PORT: String(ports.sim),
    CONVEX_URL: "",
    CONVEX_SITE_URL: "",
    CONVEX_DEPLOYMENT: "",
    CLERK_PUBLISHABLE_KEY: "",
    CLERK_SECRET_KEY: "",
    APP_URL: "",
    AUTH_DATA_DIR: "",
    SENTRY_DSN: "",
  };
}

async function freePorts() {
  const [web, convex, site, sim] = await freePortSet(4);
  return { web, convex, site, sim };
}

describe("npm run dev survives a restart", () => {
  it("a workspace, its channel and its audit events are all there after stop and start", async () => {
    const dataDir = tempDir("switchboard-dev-restart-");
    dirs.push(dataDir);
    const env = stackEnv(dataDir, await freePorts());

    const first = await startDev(env);
    const token = await signIn(first.webUrl, "restart@example.com", "Ray Start");
    const client = new ConvexHttpClient(first.convexUrl);
    client.setAuth(token);
    await client.mutation(api.users.ensure, {});
    const { tenantId, slug } = await client.mutation(api.tenants.create, {
      name: "Restart Co",
      currency: "EUR",
      timeZone: "Europe/Madrid",
      defaultCountry: "ES",
    });
    // The simulator stands in for the WAHA server; a channel is saved only once it answers.
    const simulatorUrl = `http://127.0.0.1:${env.WHATSAPP_SIMULATOR_PORT}`;
    const config = await fetch(`${simulatorUrl}/_sim/config`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ waha: [{ session: "restart", apiKey: "restart-api-key" }] }),
    });
    expect(config.status).toBe(200);
    await client.action(api.channels.create, {
      tenantId,
      channel: {
        kind: "waha",
        name: "Restart WAHA",
        baseUrl: simulatorUrl,
        session: "restart",
        apiKey: "restart-api-key",
        webhookHmacKey: "restart-hmac-key",
      },
    });
    const read = async (c: ConvexHttpClient) => ({
      me: await c.query(api.users.me, {}),
      tenant: await c.query(api.tenants.get, { tenantId }),
      channels: await c.query(api.channels.list, { tenantId }),
      audit: await c.query(api.audit.listForTenant, {
        tenantId,
        paginationOpts: { numItems: 50, cursor: null },
      }),
    });
    const before = await read(client);
    expect(before.me?.tenants.map((t) => t.slug)).toContain(slug);
    expect(before.channels).toHaveLength(1);
    expect(before.audit.page.length).toBeGreaterThan(0);

    expect(await first.stop()).toBe(0);

    const second = await startDev(env);
    expect(second.output()).not.toMatch(/failed to start|Schema validation failed|fieldType/);
    // The stack never prints the local server's admin key (it stays in the data folder).
    const adminKey = readFileSync(path.join(dataDir, "convex", "admin-key"), "utf8").trim();
    expect(adminKey.length).toBeGreaterThan(20);
    expect(first.output() + second.output()).not.toContain(adminKey);
    // The same signed-in session keeps working against the restarted server.
    const again = new ConvexHttpClient(second.convexUrl);
    again.setAuth(await signIn(second.webUrl, "restart@example.com", "Ray Start"));
    const after = await read(again);
    expect(after.me).toEqual(before.me);
    expect(after.tenant).toEqual(before.tenant);
    expect(after.channels).toEqual(before.channels);
    expect(after.audit.page).toEqual(before.audit.page);
    expect(await second.stop()).toBe(0);
  }, 300_000);

  it("Ctrl-C while the stack is still starting stops the services it had started", async () => {
    const dataDir = tempDir("switchboard-dev-interrupt-");
    dirs.push(dataDir);
    const env = stackEnv(dataDir, await freePorts());
    const dev = await startDev(env, /convex-local ready/);
    expect(await listening(env.CONVEX_LOCAL_PORT)).toBe(true);
    expect(await listening(env.WHATSAPP_SIMULATOR_PORT)).toBe(true);
    expect(await dev.stop()).not.toBe(null);
    // The services ran detached; none of them may outlive the stack.
    const deadline = Date.now() + 10_000;
    while ((await listening(env.CONVEX_LOCAL_PORT)) || (await listening(env.WHATSAPP_SIMULATOR_PORT))) {
      if (Date.now() > deadline) throw new Error(`services still running after Ctrl-C:\n${dev.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 120_000);
});
