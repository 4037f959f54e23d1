// Error reporting end to end: the production build with SENTRY_DSN pointing at a local receiver of
// Sentry envelopes (local/sentry-receiver), the real @sentry/remix SDKs on the server
// (instrument.server.mjs) and in Chromium. A browser error, a server error in a loader, a failed
// Convex read during a page's first paint and a Convex action that fails unexpectedly each arrive
// as an event; none carries the customer's phone number, an email address, a bearer token or the
// session cookie.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import {
  startSentryReceiver,
  type ReceivedItem,
  type SentryReceiver,
} from "../../local/sentry-receiver/server";
import { connectCloudChannel, createWorkspace, dumpOnFailure, signIn, simulatorHas } from "./helpers";
import { launchChromium, startTestStack } from "./stack";

let receiver: SentryReceiver;
let stack: Awaited<ReturnType<typeof startTestStack>>;
let browser: Browser;
let context: BrowserContext;
let page: Page;

const SLUG = "lisbon-bikes";
const PHONE = "+351912345678";
const EMAIL = "rui@example.com";
const BEARER = "Bearer sk_live_d1e2f3a4b5c6";

beforeAll(async () => {
  receiver = await startSentryReceiver();
  stack = await startTestStack({ SENTRY_DSN: receiver.dsn(), SENTRY_ENVIRONMENT: "e2e" });
  browser = await launchChromium();
  context = await browser.newContext();
  page = await context.newPage();
  await page.goto(`${stack.webUrl}/app`);
  await signIn(page, EMAIL, "Rui Costa");
  await createWorkspace(page, "Lisbon Bikes", SLUG);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await receiver?.close();
});

/** Every string in an event, for checking that none of them carries personal data or secrets. */
function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (value && typeof value === "object") for (const v of Object.values(value)) strings(v, out);
  return out;
}

function expectScrubbed(item: ReceivedItem) {
  const all = strings(item.payload).join("\n");
  expect(all).not.toContain(PHONE.slice(1));
  expect(all).not.toContain(EMAIL);
  expect(all).not.toContain("sk_live_d1e2f3a4b5c6");
  expect(all).not.toMatch(/__session|switchboard_session|local_session/i);
  const request = (
    item.payload as { request?: { cookies?: unknown; data?: unknown; headers?: Record<string, string> } }
  ).request;
  expect(request?.cookies).toBeUndefined();
  expect(request?.data).toBeUndefined();
  for (const [name, value] of Object.entries(request?.headers ?? {})) {
    if (/cookie|authorization/i.test(name)) expect(value).toBe("[REDACTED]");
  }
}

function exceptionText(item: ReceivedItem): string {
  const values = (item.payload as { exception?: { values?: { type?: string; value?: string }[] } }).exception
    ?.values;
  return (values ?? []).map((v) => `${v.type}: ${v.value}`).join("\n");
}

/** The process listening on `port` (from /proc), to freeze the local Convex server. */
function pidListeningOn(port: number): number {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local_address is "IP:PORT"; state 0A is LISTEN.
      if (cols[1]?.endsWith(`:${hex}`) && cols[3] === "0A") inodes.add(cols[9]!);
    }
  }
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
        if (inode && inodes.has(inode)) return Number(pid);
      } catch {
        // The descriptor closed meanwhile.
      }
    }
  }
  throw new Error(`no process listens on port ${port}`);
}

describe("error reporting", () => {
  it("reports a browser error, scrubbed", async () => {
    dumpOnFailure(stack, page);
    await page.goto(`${stack.webUrl}/t/${SLUG}`);
    await page.evaluate(
      ([phone, email, bearer]) => {
        setTimeout(() => {
          throw new Error(`Checkout failed for ${phone} (${email}) with ${bearer}`);
        });
      },
      [PHONE, EMAIL, BEARER],
    );
    const event = await receiver.waitForEvent((item) => exceptionText(item).includes("Checkout failed"));
    expect((event.payload as { platform?: string }).platform).toBe("javascript");
    expect(exceptionText(event)).toContain("+********5678");
    expect(exceptionText(event)).toContain("[REDACTED]@example.com");
    expect(exceptionText(event)).toContain("Bearer [REDACTED]");
    expect((event.payload as { environment?: string }).environment).toBe("e2e");
    expectScrubbed(event);
  });

  it("reports a server error in a loader and a failed Convex read, scrubbed", async () => {
    dumpOnFailure(stack, page);
    receiver.clear();
    // Freeze the local Convex server: its calls from the web server time out, as on an outage.
    const convex = pidListeningOn(Number(new URL(stack.convexUrl).port));
    process.kill(convex, "SIGSTOP");
    try {
      // A loader that cannot do without Convex fails (a 500 page)…
      const csv = await page.request.get(
        `${stack.webUrl}/t/${SLUG}/campaigns/k57aaaaaaaaaaaaaaaaaaaaaaaaaaaa/results.csv?token=abc123&phone=${encodeURIComponent(PHONE)}`,
        { timeout: 30_000 },
      );
      expect(csv.status()).toBe(500);
      const loaderEvent = await receiver.waitForEvent(
        (item) =>
          (item.payload as { platform?: string }).platform === "node" &&
          /results/.test(JSON.stringify(item.payload)),
      );
      expectScrubbed(loaderEvent);
      const url = (loaderEvent.payload as { request?: { url?: string } }).request?.url ?? "";
      expect(url).toContain("token=%5BREDACTED%5D");
      // …and a page whose first paint reads Convex still answers, reporting the failed read.
      const members = await page.request.get(`${stack.webUrl}/t/${SLUG}/members`, { timeout: 30_000 });
      expect(members.status()).toBeLessThan(500);
      const preload = await receiver.waitForEvent(
        (item) => (item.payload as { tags?: Record<string, string> }).tags?.source === "convex-preload",
      );
      expect((preload.payload as { level?: string }).level).toBe("warning");
      expect((preload.payload as { tags?: Record<string, string> }).tags?.convexFunction).toMatch(/:/);
      expectScrubbed(preload);
    } finally {
      process.kill(convex, "SIGCONT");
    }
  });
  it("reports a Convex action that fails unexpectedly, and shows the person a neutral sentence", async () => {
    dumpOnFailure(stack, page);
    receiver.clear();
    await simulatorHas(stack, {
      cloud: [
        {
          phoneNumberId: "106540352242922",
          wabaId: "102290129340398",
          displayNumber: "34600111222",
          accessToken: "EAAG-error-reporting-0001",
          appSecret: "e2e-app-secret",
        },
      ],
    });
    await connectCloudChannel(page, stack.webUrl, SLUG, {
      name: "Shop number",
      phoneNumberId: "106540352242922",
      wabaId: "102290129340398",
      displayNumber: "34600111222",
      token: "EAAG-error-reporting-0001",
    });
    const channelUrl = page.url();
    // A second tab whose Convex connection answers every action the way a Convex deployment
    // answers a function that threw something other than a ConvexError: "Server Error".
    const failing = await context.newPage();
    dumpOnFailure(stack, failing);
    await failing.routeWebSocket(/\/api\/[^/]+\/sync$/, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((message) => server.send(message));
      server.onMessage((message) => {
        const parsed = typeof message === "string" ? (JSON.parse(message) as Record<string, unknown>) : null;
        if (parsed?.type === "ActionResponse") {
          ws.send(
            JSON.stringify({
              type: "ActionResponse",
              requestId: parsed.requestId,
              success: false,
              result: `[Request ID: 7f3c0a9e] Server Error for ${PHONE}`,
              logLines: [],
            }),
          );
          return;
        }
        ws.send(message);
      });
    });
    try {
      await failing.goto(channelUrl);
      await failing.getByRole("button", { name: "Refresh quality and tier" }).click();
      await failing.getByText("Something went wrong").first().waitFor();
      const event = await receiver.waitForEvent(
        (item) => (item.payload as { tags?: Record<string, string> }).tags?.source === "convex-call",
      );
      expect((event.payload as { platform?: string }).platform).toBe("javascript");
      expect(exceptionText(event)).toContain("Server Error");
      expectScrubbed(event);
    } finally {
      await failing.close();
    }
  });
});
