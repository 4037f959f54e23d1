// The live inbox in a real browser against the production build, the local Convex server and the
// WhatsApp simulator (standing in for Meta): Ana connects a Cloud API number whose webhooks reach
// Convex, a customer writes from the simulator's phone, and the conversation appears in her open
// inbox without a reload. She takes over, replies with Enter (and a two-line reply with
// Shift+Enter, and a quick reply), the replies reach the simulator, and their ticks follow the
// simulator's statuses up to read; a failure shows its reason. Then: assignment, closing, an
// opt-out the backend enforces, templates outside the 24-hour window, first paint without
// JavaScript, and the phone layout. The assistant may answer customers too, so every check
// names the texts this test sends.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import {
  connectCloudChannel,
  createWorkspace,
  dumpOnFailure,
  failureReport,
  signIn,
  simulatorHas,
} from "./helpers";
import { launchChromium, startTestStack } from "./stack";

const APP_SECRET = "e2e-inbox-app-secret";
const PHONE_NUMBER_ID = "106540352242922";
const WABA_ID = "102290129340398";
const TOKEN = "EAAGm0PX4ZCpsBAE-e2e-inbox-token-Qw3r";
const SLUG = "harbour-coffee";
const MARIA = "34611222333";
const OLGA = "34622333444";
const PABLO = "34644555666";

let stack: Awaited<ReturnType<typeof startTestStack>>;
let browser: Browser;
/** Ana's signed-in browser: owner of Harbour Coffee with its Cloud API number connected. */
let ana: BrowserContext;
/** Pablo's conversation: a thread longer than one page. */
let pabloPath: string;

beforeAll(async () => {
  // The simulator signs Cloud webhooks with the app secret Convex verifies them with.
  stack = await startTestStack({ WHATSAPP_APP_SECRET: APP_SECRET });
  browser = await launchChromium();
  await simulatorHas(stack, {
    cloud: [
      {
        phoneNumberId: PHONE_NUMBER_ID,
        wabaId: WABA_ID,
        displayNumber: "34600111222",
        accessToken: TOKEN,
        appSecret: APP_SECRET,
        webhookUrl: `${stack.convexSiteUrl}/whatsapp/cloud`,
      },
    ],
  });
  ana = await browser.newContext();
  const page = await ana.newPage();
  try {
    await page.goto(`${stack.webUrl}/app`);
    await signIn(page, "ana@example.com", "Ana Almeida");
    await createWorkspace(page, "Harbour Coffee", SLUG);
    await connectCloudChannel(page, stack.webUrl, SLUG, {
      name: "Front desk",
      phoneNumberId: PHONE_NUMBER_ID,
      wabaId: WABA_ID,
      displayNumber: "+34 600 111 222",
      token: TOKEN,
    });
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

type SimState = {
  messages: { direction: "in" | "out"; user: string; type: string; text?: string; status: string }[];
};

async function simulator<T>(pathname: string, body?: unknown): Promise<T> {
  const response = await fetch(`${stack.simulatorUrl}${pathname}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(response.status, `${pathname}: ${await response.clone().text()}`).toBe(200);
  return (await response.json()) as T;
}

/** The customer `number` writes to the business number from the simulator's phone. */
async function customerWrites(number: string, text: string, extra: Record<string, unknown> = {}) {
  await simulator(`/_sim/users/${number}/messages`, { to: PHONE_NUMBER_ID, text, ...extra });
}

/** What the simulator's phone received from the business for `number`. */
async function phoneReceived(number: string) {
  const state = await simulator<SimState>("/_sim/state");
  return state.messages.filter((m) => m.direction === "out" && m.user === number);
}

function thread(page: Page, contact: string): Locator {
  return page.getByRole("list", { name: `Messages with ${contact}, oldest first` });
}

function bubble(page: Page, contact: string, text: string | RegExp): Locator {
  return thread(page, contact).getByRole("listitem").filter({ hasText: text });
}

describe("the live inbox", () => {
  let page: Page;
  let conversationPath: string;

  it("shows a customer's first message live, in the list and its thread, and marks it read when opened", async () => {
    page = await ana.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    dumpOnFailure(stack, page);

    // Inbox is the first entry of the workspace's navigation.
    await page.goto(`${stack.webUrl}/t/${SLUG}`);
    const nav = page.getByRole("navigation", { name: "Workspace" });
    expect(await nav.getByRole("link").first().textContent()).toMatch(/^Inbox/);
    await nav.getByRole("link", { name: /^Inbox/ }).click();
    await page.getByRole("heading", { level: 1, name: "Inbox" }).waitFor();
    await page.getByRole("heading", { name: "No conversations yet" }).waitFor();
    // Each tab says what it will hold.
    await page.getByRole("link", { name: "Waiting for a person" }).click();
    await page.getByRole("heading", { name: "Nobody is waiting for a person" }).waitFor();
    await page.getByRole("link", { name: "All", exact: true }).click();
    await page.getByRole("heading", { name: "No conversations yet" }).waitFor();

    await customerWrites(MARIA, "Hola! Is my order ready?", { name: "Maria Lopez" });

    // The open list follows: the contact, the number, the message, unread, the window.
    const list = page.getByRole("list", { name: "Conversations: All, newest first" });
    const row = list.getByRole("link", { name: /Maria Lopez/ });
    await row.waitFor();
    await row.getByText(`+${MARIA} · Front desk`).waitFor();
    await row.getByText("1 unread").waitFor();
    await row.getByText(/^Open · (1 day|2\d hours) left$/).waitFor();

    await row.click();
    await page.waitForURL(new RegExp(`/t/${SLUG}/inbox/[a-z0-9]+$`));
    conversationPath = new URL(page.url()).pathname;
    await page.getByRole("heading", { level: 2, name: "Maria Lopez" }).waitFor();
    const first = bubble(page, "Maria Lopez", "Hola! Is my order ready?");
    await first.getByText("Customer", { exact: true }).waitFor();
    // Opening it marked it read.
    await expect.poll(() => row.getByText(/unread/).count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });

  it("takes over, replies with Enter and Shift+Enter, and the ticks follow the simulator's statuses", async () => {
    const header = page.getByRole("region", { name: "Conversation with Maria Lopez" });
    await header.getByRole("button", { name: "Take over" }).click();
    await page.getByRole("status").filter({ hasText: "You took over" }).waitFor();
    await header.getByText("Human", { exact: true }).waitFor();
    await header.getByRole("button", { name: "Hand back to assistant" }).waitFor();
    // Taking over assigns the conversation to whoever took it, when nobody had it.
    expect(await page.getByLabel("Assignee").locator("option:checked").textContent()).toBe(
      "Ana Almeida (you)",
    );

    const reply = page.getByRole("combobox", { name: "Reply" });
    await reply.fill("Yes, it is ready for pickup.");
    await reply.press("Enter");
    // The reply shows at once, by Ana, and the box is empty again.
    const sent = bubble(page, "Maria Lopez", "Yes, it is ready for pickup.");
    await sent.getByText("Ana Almeida", { exact: true }).waitFor();
    await expect.poll(() => reply.inputValue()).toBe("");
    // Sent, delivered, then read as the simulator's phone reports it.
    await sent.getByText("Read", { exact: true }).waitFor({ timeout: 15_000 });
    expect(await sent.locator("[aria-hidden=true][title=Read]").textContent()).toBe("✓✓");
    expect((await phoneReceived(MARIA)).map((m) => m.text)).toContain("Yes, it is ready for pickup.");

    // Shift+Enter is a new line; Enter then sends both lines as one message.
    await reply.pressSequentially("First line");
    await reply.press("Shift+Enter");
    await reply.pressSequentially("second line");
    expect(await reply.inputValue()).toBe("First line\nsecond line");
    await reply.press("Enter");
    await bubble(page, "Maria Lopez", "second line")
      .getByText("Delivered", { exact: true })
      .or(bubble(page, "Maria Lopez", "second line").getByText("Read", { exact: true }))
      .first()
      .waitFor({ timeout: 15_000 });
    await expect
      .poll(async () => (await phoneReceived(MARIA)).map((m) => m.text))
      .toContain("First line\nsecond line");
  });

  it("inserts a quick reply with / and shows a failed message with its reason", async () => {
    const reply = page.getByRole("combobox", { name: "Reply" });
    await reply.pressSequentially("/by");
    const menu = page.getByRole("listbox", { name: "Quick replies" });
    await menu.getByRole("option", { name: /Goodbye/ }).waitFor();
    expect(await menu.getByRole("option").count()).toBe(1);
    await reply.press("Enter");
    expect(await reply.inputValue()).toBe("Thanks for reaching out! Have a great day.");
    await expect.poll(() => menu.isVisible()).toBe(false);

    // Meta fails the next message (131026, undeliverable): the thread says so, with the reason.
    await simulator("/_sim/inject", { code: 131026, on: "status" });
    await reply.press("Enter");
    const failed = bubble(page, "Maria Lopez", "Thanks for reaching out! Have a great day.");
    await failed.getByText("Failed", { exact: true }).waitFor({ timeout: 15_000 });
    await failed.getByText(/^Not delivered: .+/).waitFor();
  });

  it("shows a new customer message live while open and keeps the conversation read", async () => {
    await customerWrites(MARIA, "Great, I'm on my way");
    await bubble(page, "Maria Lopez", "Great, I'm on my way")
      .getByText("Customer", { exact: true })
      .waitFor();
    const row = page
      .getByRole("list", { name: "Conversations: All, newest first" })
      .getByRole("link", { name: /Maria Lopez/ });
    await row.getByText("Great, I'm on my way").waitFor();
    await expect.poll(() => row.getByText(/unread/).count()).toBe(0);
    await shot(page, "inbox-desktop", false);
  });

  it("assigns, records an opt-out the backend then enforces, and closes after asking", async () => {
    const assignee = page.getByLabel("Assignee");
    await assignee.selectOption({ label: "Nobody" });
    await page.getByRole("status").filter({ hasText: "Nobody is assigned now" }).waitFor();
    await assignee.selectOption({ label: "Ana Almeida (you)" });
    await page.getByRole("status").filter({ hasText: "Assigned to Ana Almeida" }).waitFor();
    const row = page
      .getByRole("list", { name: "Conversations: All, newest first" })
      .getByRole("link", { name: /Maria Lopez/ });
    await row.getByText("Assigned to Ana Almeida").waitFor();

    await page.getByRole("button", { name: "Record opt-out" }).click();
    const optOut = page.getByRole("dialog", { name: "Record an opt-out for Maria Lopez?" });
    await optOut.getByRole("button", { name: "Record opt-out" }).click();
    await optOut.waitFor({ state: "hidden" });
    await page.getByRole("status").filter({ hasText: "Recorded an opt-out for Maria Lopez" }).waitFor();
    await row.getByText("Opted out").waitFor();
    await page.getByRole("button", { name: "Record opt-in" }).waitFor();

    const reply = page.getByRole("combobox", { name: "Reply" });
    await reply.fill("One more thing");
    await reply.press("Enter");
    const alert = page.getByRole("form", { name: "Reply" }).getByRole("alert");
    await alert.getByText("Not sent: the contact opted out").waitFor();
    await alert.getByText(/until they opt in again/).waitFor();
    // Refused: the draft stays, and nothing reached the phone.
    expect(await reply.inputValue()).toBe("One more thing");
    expect((await phoneReceived(MARIA)).map((m) => m.text)).not.toContain("One more thing");
    await expect.poll(() => bubble(page, "Maria Lopez", "One more thing").count()).toBe(0);

    await page.getByRole("button", { name: "Record opt-in" }).click();
    await page
      .getByRole("dialog", { name: "Record an opt-in for Maria Lopez?" })
      .getByRole("button", { name: "Record opt-in" })
      .click();
    await page.getByRole("status").filter({ hasText: "Recorded an opt-in for Maria Lopez" }).waitFor();

    await page.getByRole("button", { name: "Close", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: "Close the conversation with Maria Lopez?" });
    await dialog.getByRole("button", { name: "Close conversation" }).click();
    await dialog.waitFor({ state: "hidden" });
    const header = page.getByRole("region", { name: "Conversation with Maria Lopez" });
    await header.getByText("Closed", { exact: true }).waitFor();

    await page.getByRole("link", { name: "Closed", exact: true }).click();
    await page
      .getByRole("list", { name: "Conversations: Closed, newest first" })
      .getByRole("link", { name: /Maria Lopez/ })
      .waitFor();
    await page.getByRole("link", { name: "Human", exact: true }).click();
    await page.getByRole("heading", { name: "No conversations handled by a person" }).waitFor();
  });

  it("outside the 24-hour window, offers the number's approved templates and sends one with its parameters", async () => {
    // Meta approves a template (its status webhook tells Convex), and Olga wrote 25 hours ago.
    const template = await simulator<{ id: string }>("/_sim/templates", {
      wabaId: WABA_ID,
      name: "order_update",
      language: "en_US",
      category: "UTILITY",
      components: [{ type: "BODY", text: "Hi {{1}}, your order {{2}} is on its way." }],
    });
    await simulator(`/_sim/templates/${template.id}/status`, { event: "APPROVED" });
    await customerWrites(OLGA, "Do you ship to Porto?", {
      name: "Olga Pires",
      timestamp: Date.now() - 25 * 60 * 60 * 1000,
    });

    await page.getByRole("link", { name: "All", exact: true }).click();
    const row = page
      .getByRole("list", { name: "Conversations: All, newest first" })
      .getByRole("link", { name: /Olga Pires/ });
    await row.getByText("Window closed").waitFor();
    await row.click();
    await page.getByRole("heading", { level: 2, name: "Olga Pires" }).waitFor();

    // Free-form replies are off, and the reason is given.
    const off = page.getByRole("textbox", { name: "Reply" });
    expect(await off.isDisabled()).toBe(true);
    await page
      .getByText(/The 24-hour window is closed/)
      .first()
      .waitFor();

    const form = page.getByRole("form", { name: "Send a template" });
    await form.getByLabel("Approved template").locator("option", { hasText: "order_update" }).waitFor({
      state: "attached",
    });
    await form.getByRole("button", { name: "Add parameter" }).click();
    await form.getByRole("button", { name: "Add parameter" }).click();
    await form.getByLabel("Parameter {{1}}").fill("Olga");
    await form.getByLabel("Parameter {{2}}").fill("A-1001");
    await form.getByRole("button", { name: "Send template" }).click();
    await form.getByRole("status").filter({ hasText: "Template order_update queued" }).waitFor();

    const sent = bubble(page, "Olga Pires", "Template: order_update");
    await sent.getByText("Ana Almeida", { exact: true }).waitFor();
    await sent
      .getByText("Delivered", { exact: true })
      .or(sent.getByText("Read", { exact: true }))
      .first()
      .waitFor({
        timeout: 15_000,
      });
    await expect
      .poll(async () => (await phoneReceived(OLGA)).map((m) => m.text))
      .toContain("Hi Olga, your order A-1001 is on its way.");
    await shot(page, "inbox-desktop-template", false);
    // Sending a template made the conversation Ana's.
    await page
      .getByRole("region", { name: "Conversation with Olga Pires" })
      .getByText("Human", { exact: true })
      .waitFor();
  });

  it("loads older messages above the thread and more conversations below the list", async () => {
    // Pablo writes 32 messages, a second apart (one page of a thread is 30)...
    const start = Date.now() - 33_000;
    for (let i = 1; i <= 32; i++)
      await customerWrites(PABLO, `Pablo's message ${String(i).padStart(2, "0")}`, {
        name: "Pablo Ruiz",
        timestamp: start + i * 1000,
      });
    // ...and 24 more customers write once each (one page of the list is 25).
    for (let i = 0; i < 24; i++)
      await customerWrites(`3463300${String(i).padStart(4, "0")}`, `Hello from customer ${i}`, {
        name: `Customer ${String(i).padStart(2, "0")}`,
      });

    await page.goto(`${stack.webUrl}/t/${SLUG}/inbox`);
    const list = page.getByRole("list", { name: "Conversations: All, newest first" });
    await list.getByRole("link", { name: /Customer 23/ }).waitFor();
    await expect.poll(() => list.getByRole("link").count()).toBe(25);
    await page.getByRole("button", { name: "Load more" }).click();
    await list.getByRole("link", { name: /Maria Lopez/ }).waitFor();
    expect(await list.getByRole("link").count()).toBe(27);
    await expect.poll(() => page.getByRole("button", { name: "Load more" }).count()).toBe(0);

    await list.getByRole("link", { name: /Pablo Ruiz/ }).click();
    await bubble(page, "Pablo Ruiz", "Pablo's message 32").waitFor();
    pabloPath = new URL(page.url()).pathname;
    const texts = () =>
      thread(page, "Pablo Ruiz").getByRole("listitem").locator("p:nth-child(2)").allTextContents();
    const messages = (from: number) =>
      Array.from({ length: 33 - from }, (_, i) => `Pablo's message ${String(from + i).padStart(2, "0")}`);
    // The newest page of 30, oldest first (the assistant may have answered in between, so
    // count Pablo's own); then the ones before them, above.
    const pablos = async () => (await texts()).filter((t) => t.startsWith("Pablo's message"));
    const first = await pablos();
    expect(first.length).toBeGreaterThanOrEqual(28);
    expect(first.length).toBeLessThan(32);
    expect(first).toEqual(messages(33 - first.length));
    await page.getByRole("button", { name: "Load older messages" }).click();
    await page.getByText("This is the start of the conversation.").waitFor();
    expect(await pablos()).toEqual(messages(1));
  });

  it("the first HTML of the inbox and of a conversation already holds them", async () => {
    const cookies = await ana.cookies(stack.webUrl);
    const html = async (pathname: string) => {
      const response = await fetch(`${stack.webUrl}${pathname}`, {
        headers: { cookie: cookies.map((c) => `${c.name}=${c.value}`).join("; "), accept: "text/html" },
        redirect: "manual",
      });
      expect(response.status, pathname).toBe(200);
      return await response.text();
    };
    const inbox = await html(`/t/${SLUG}/inbox`);
    expect(inbox).toContain("Customer 00");
    expect(inbox).toContain("Customer 23");
    expect(inbox).not.toContain("Loading conversations…");
    const conversation = await html(conversationPath);
    expect(conversation).toContain("Yes, it is ready for pickup.");
    expect(conversation).toContain("Great, I&#x27;m on my way");
    expect(conversation).not.toContain("Loading conversation…");
    expect(conversation).not.toContain("Loading messages…");

    // An address that is no conversation of this workspace says so, beside the list.
    await page.goto(`${stack.webUrl}/t/${SLUG}/inbox/not-a-conversation`);
    await page.getByRole("alert").getByRole("heading", { name: "Not found" }).waitFor();
    await page.getByRole("alert").getByText("No such conversation").waitFor();
    await page
      .getByRole("list", { name: "Conversations: All, newest first" })
      .getByRole("link", { name: /Customer 23/ })
      .waitFor();
    await page.close();
  });
});

describe("phone width", () => {
  it("shows the list and a conversation as separate screens, each fitting 390 px", async () => {
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      storageState: await ana.storageState(),
    });
    const page = await phone.newPage();
    dumpOnFailure(stack, page);
    await page.goto(`${stack.webUrl}/t/${SLUG}/inbox`);
    const list = page.getByRole("list", { name: "Conversations: All, newest first" });
    await list.getByRole("link", { name: /Customer 23/ }).waitFor();
    await fitsPhone(page, "inbox-list");

    await list.getByRole("link", { name: /Customer 23/ }).click();
    await page.getByRole("heading", { level: 2, name: "Customer 23" }).waitFor();
    expect(await list.isVisible()).toBe(false);
    await page.getByRole("link", { name: "← All conversations" }).click();
    await list.getByRole("link", { name: /Customer 22/ }).waitFor();

    await page.goto(`${stack.webUrl}${pabloPath}`);
    await page.getByRole("heading", { level: 2, name: "Pablo Ruiz" }).waitFor();
    // The conversation replaces the list on this screen, scrolled to its newest message.
    expect(await list.isVisible()).toBe(false);
    const newest = bubble(page, "Pablo Ruiz", "Pablo's message 32");
    await newest.waitFor();
    await expect
      .poll(() =>
        newest.evaluate((el) => {
          const box = el.getBoundingClientRect();
          // In view, above the reply box that stays at the bottom of the screen.
          const reply = document.querySelector('form[aria-label="Reply"]')!.getBoundingClientRect();
          return box.top >= 0 && box.bottom <= reply.top;
        }),
      )
      .toBe(true);
    await shot(page, "inbox-conversation-screen", false);
    await fitsPhone(page, "inbox-conversation");

    await page.getByRole("link", { name: "← All conversations" }).click();
    await list.getByRole("link", { name: /Customer 23/ }).waitFor();
    expect(await page.getByRole("heading", { level: 2, name: "Pablo Ruiz" }).count()).toBe(0);
    await phone.close();
  });
});

/** A screenshot into SCREENSHOT_DIR when it is set (to look at the layout by eye). */
async function shot(page: Page, name: string, fullPage = true) {
  const shots = process.env.SCREENSHOT_DIR;
  if (!shots) return;
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage });
}

/** The page is no wider than the phone, and nothing on it sits off-screen in a sideways scroller. */
async function fitsPhone(page: Page, name: string) {
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
  await shot(page, name);
  expect(widths.scroll, `${name} is wider than the phone`).toBeLessThanOrEqual(390);
  expect(widths.hidden, `${name} hides content in sideways scrollers`).toEqual([]);
}
