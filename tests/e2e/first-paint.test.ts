// The tenant pages against the production build, two ways. Without JavaScript: the first HTML
// response of the overview, channels, channel, members and billing pages already holds their data (the
// loaders read it from Convex as the signed-in user), and a signed-in stranger's HTML holds none
// of it. At phone width (390 × 844 in Chromium): no tenant page, and not the simulator's
// phone page, is wider than the screen. And a name pasted over its limit is never cut.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { connectCloudChannel, dumpOnFailure, failureReport, signIn, simulatorHas } from "./helpers";
import { launchChromium, startTestStack } from "./stack";

let stack: Awaited<ReturnType<typeof startTestStack>>;
let browser: Browser;
/** Ana's signed-in browser: owner of Harbour Coffee, with a channel and a pending invitation. */
let ana: BrowserContext;
let channelPath: string;

const WORKSPACE = "Harbour Coffee";
const SLUG = "harbour-coffee";
const CHANNEL = "Front desk";
const INVITEE = "bob@example.com";

beforeAll(async () => {
  stack = await startTestStack();
  browser = await launchChromium();
  ana = await browser.newContext();
  const page = await ana.newPage();
  try {
    await setUpWorkspace(page);
  } catch (error) {
    console.log(`set-up ${await failureReport(stack, [page])}`);
    throw error;
  }
  await page.close();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

async function setUpWorkspace(page: Page) {
  await page.goto(`${stack.webUrl}/app`);
  await signIn(page, "ana@example.com", "Ana Almeida");
  await page.waitForURL(/\/onboarding$/);
  await page.getByLabel("Workspace name").fill(WORKSPACE);
  await page.getByLabel("Currency").selectOption("EUR");
  await page.getByLabel("Time zone").selectOption("Europe/Madrid");
  await page.getByLabel("Default country").selectOption("ES");
  await page.getByRole("button", { name: "Create workspace" }).click();
  await page.waitForURL(new RegExp(`/t/${SLUG}$`));

  // Meta (the simulator) knows the number, and that this token may read it.
  await simulatorHas(stack, {
    cloud: [
      {
        phoneNumberId: "106540352242922",
        wabaId: "102290129340398",
        displayNumber: "34600111222",
        accessToken: "EAAGm0PX4ZCpsBAE-e2e-first-paint-Zk7q",
        appSecret: "e2e-app-secret",
      },
    ],
  });
  await connectCloudChannel(page, stack.webUrl, SLUG, {
    name: CHANNEL,
    phoneNumberId: "106540352242922",
    wabaId: "102290129340398",
    displayNumber: "+34 600 111 222",
    token: "EAAGm0PX4ZCpsBAE-e2e-first-paint-Zk7q",
  });
  channelPath = new URL(page.url()).pathname;

  await page.goto(`${stack.webUrl}/t/${SLUG}/members`);
  await page.getByLabel("Email address").fill(INVITEE);
  await page.getByRole("button", { name: "Send invitation" }).click();
  await page.getByRole("status").filter({ hasText: INVITEE }).waitFor();
}

/** The first HTML response for `pathname`, fetched without a browser (so without JavaScript). */
async function firstHtml(context: BrowserContext, pathname: string): Promise<string> {
  const cookies = await context.cookies(stack.webUrl);
  const response = await fetch(`${stack.webUrl}${pathname}`, {
    headers: { cookie: cookies.map((c) => `${c.name}=${c.value}`).join("; "), accept: "text/html" },
    redirect: "manual",
  });
  expect(response.status, pathname).toBe(200);
  return await response.text();
}

/** The markup of the table whose caption is `caption`. */
function table(html: string, caption: string): string {
  const at = html.indexOf(`>${caption}</caption>`);
  expect(at, `a table captioned ${caption}`).toBeGreaterThan(-1);
  return html.slice(html.lastIndexOf("<table", at), html.indexOf("</table>", at));
}

const SPINNERS = ["Signing you in…", "Opening workspace…", "Loading channel…", "Loading channels…"];

describe("first paint without JavaScript", () => {
  it("the overview's first HTML shows the workspace and its details, not a spinner", async () => {
    const html = await firstHtml(ana, `/t/${SLUG}`);
    expect(html).toMatch(new RegExp(`<h1[^>]*>${WORKSPACE}</h1>`));
    expect(html).toContain("Europe/Madrid");
    expect(html).toMatch(/>EUR</);
    for (const spinner of SPINNERS) expect(html).not.toContain(spinner);
  });

  it("the channels list and the channel page's first HTML show the channel", async () => {
    const list = await firstHtml(ana, `/t/${SLUG}/channels`);
    expect(table(list, `WhatsApp channels of ${WORKSPACE}`)).toContain(CHANNEL);
    expect(list).toContain("+34600111222");

    const page = await firstHtml(ana, channelPath);
    expect(page).toMatch(new RegExp(`<h1[^>]*>${CHANNEL}</h1>`));
    expect(page).toContain(`${stack.convexSiteUrl}/whatsapp/cloud`);
    expect(page).toContain("•••• Zk7q");
    expect(page).not.toContain("e2e-first-paint-Zk7q");
    for (const spinner of SPINNERS) expect(page).not.toContain(spinner);
  });

  it("the members page's first HTML lists the members and the pending invitation", async () => {
    const html = await firstHtml(ana, `/t/${SLUG}/members`);
    expect(table(html, `Members of ${WORKSPACE}`)).toContain("ana@example.com");
    expect(html).toContain(INVITEE);
  });

  it("the billing page's first HTML shows the credits and the empty ledger's explanation", async () => {
    const html = await firstHtml(ana, `/t/${SLUG}/billing`);
    expect(html).toMatch(/<h1[^>]*>Billing<\/h1>/);
    expect(html).toContain("€5.00");
    expect(html).toContain("No credits yet");
    expect(html).not.toContain("Loading credits…");
  });

  it("a signed-in stranger's first HTML holds none of the workspace's data", async () => {
    const bob = await browser.newContext();
    const page = await bob.newPage();
    dumpOnFailure(stack, page);
    await page.goto(`${stack.webUrl}/app`);
    await signIn(page, "eve@example.com", "Eve Outsider");
    await page.waitForURL(/\/onboarding$/);
    for (const pathname of [
      `/t/${SLUG}`,
      `/t/${SLUG}/channels`,
      channelPath,
      `/t/${SLUG}/members`,
      `/t/${SLUG}/billing`,
    ]) {
      const html = await firstHtml(bob, pathname);
      for (const secret of [WORKSPACE, CHANNEL, "+34600111222", "ana@example.com", INVITEE, "Zk7q"])
        expect(html, `${pathname} leaks ${secret}`).not.toContain(secret);
    }
    // In the browser the refusal is the usual one.
    await page.goto(`${stack.webUrl}/t/${SLUG}`);
    await page.getByRole("heading", { name: "Workspace not found" }).waitFor();
    await bob.close();
  });

  it("the page stays live after hydration: a change made elsewhere shows without a reload", async () => {
    const page = await ana.newPage();
    dumpOnFailure(stack, page);
    await page.goto(`${stack.webUrl}/t/${SLUG}/members`);
    await page.getByRole("heading", { level: 1, name: "Members" }).waitFor();
    const other = await ana.newPage();
    await other.goto(`${stack.webUrl}/t/${SLUG}/members`);
    await other.getByLabel("Email address").fill("carla@example.com");
    await other.getByRole("button", { name: "Send invitation" }).click();
    await page.getByText("carla@example.com").first().waitFor();
    await other.close();
    await page.close();
  });
});

describe("phone width", () => {
  const SHOTS = process.env.SCREENSHOT_DIR;

  /**
   * The page is no wider than the phone, and nothing on it (tabs, table columns) sits off-screen
   * in a sideways scroller: form fields scrolling their own text are the only exception.
   */
  async function fitsPhone(page: Page, name: string) {
    // Let late content (live queries) settle before measuring.
    await page.waitForLoadState("networkidle");
    const widths = await page.evaluate(() => {
      const hidden = [...document.querySelectorAll<HTMLElement>("body *")]
        .filter((el) => !["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName))
        .filter((el) => el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 1)
        .filter((el) => ["auto", "scroll", "hidden"].includes(getComputedStyle(el).overflowX))
        .filter((el) => el.getClientRects().length > 0 && !el.closest(".sr-only"))
        .map((el) => `${el.tagName.toLowerCase()}.${el.className} (${el.scrollWidth} > ${el.clientWidth})`);
      return { scroll: document.documentElement.scrollWidth, hidden };
    });
    if (SHOTS) {
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
    }
    expect(widths.scroll, `${name} is wider than the phone`).toBeLessThanOrEqual(390);
    expect(widths.hidden, `${name} hides content in sideways scrollers`).toEqual([]);
  }

  it("every tenant page fits 390 px", async () => {
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      storageState: await ana.storageState(),
    });
    const page = await phone.newPage();
    dumpOnFailure(stack, page);
    const pages: [string, string, string][] = [
      ["overview", `/t/${SLUG}`, WORKSPACE],
      ["channels", `/t/${SLUG}/channels`, "Channels"],
      ["channel", channelPath, CHANNEL],
      ["members", `/t/${SLUG}/members`, "Members"],
      ["audit", `/t/${SLUG}/audit`, "Audit log"],
      ["outbox", `/t/${SLUG}/outbox`, "Outbox"],
      ["billing", `/t/${SLUG}/billing`, "Billing"],
      ["settings", `/t/${SLUG}/settings`, "Settings"],
      ["new-channel", `/t/${SLUG}/channels/new`, "Add a channel"],
    ];
    for (const [name, pathname, heading] of pages) {
      await page.goto(`${stack.webUrl}${pathname}`);
      await page.getByRole("heading", { level: 1, name: heading }).waitFor();
      await fitsPhone(page, name);
    }
    // The section tabs that do not fit say so, and reach the last tab by scrolling.
    await page.goto(`${stack.webUrl}/t/${SLUG}`);
    const nav = page.getByRole("navigation", { name: "Workspace" });
    await nav.getByRole("link", { name: "Outbox" }).scrollIntoViewIfNeeded();
    expect(await nav.getByRole("link", { name: "Outbox" }).isVisible()).toBe(true);
    await phone.close();
  });

  it("the simulator's phone page fits 390 px", async () => {
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    const page = await phone.newPage();
    await page.goto(stack.simulatorUrl!);
    await fitsPhone(page, "simulator-phone");
    await phone.close();
  });
});

describe("length-limited fields", () => {
  it("a pasted workspace name over 80 characters is kept whole, counted and refused", async () => {
    const long = "Harbour Coffee Roasters and Bakery of the Old Port, open every day from seven to seven";
    expect(long.length).toBeGreaterThan(80);
    const page = await ana.newPage();
    dumpOnFailure(stack, page);
    await page.goto(`${stack.webUrl}/t/${SLUG}/settings`);
    const name = page.getByLabel("Workspace name");
    await name.fill(long);
    expect(await name.inputValue()).toBe(long);
    await page.getByText(`${long.length} / 80 — ${long.length - 80} too many`).waitFor();
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.getByText(`Name must be 2 to 80 characters; this one has ${long.length}`).waitFor();
    expect(await name.getAttribute("aria-invalid")).toBe("true");
    expect(await name.inputValue()).toBe(long);
    await page.close();
  });
});
