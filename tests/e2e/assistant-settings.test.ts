// The assistant's pages in a real browser against the production build and the local Convex
// server (no model configured, so the assistant answers offline). Ana, the owner, writes the
// knowledge base (an empty title is refused on its field), searches it as she types, edits and
// deletes an entry through a confirmation; turns the assistant off and changes its settings, which
// hold after a reload and are in the first HTML. Bob, an agent, reads both pages and can change
// nothing. Both pages fit a phone.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { connectCloudChannel, createWorkspace, dumpOnFailure, signIn, simulatorHas } from "./helpers";
import { freePort, launchChromium, startTestStack, verifyEmail } from "./stack";

let stack: Awaited<ReturnType<typeof startTestStack>>;
let browser: Browser;
let ana: BrowserContext;

const WORKSPACE = "Lisbon Lamps";
const SLUG = "lisbon-lamps";
const CHANNEL = "Shop phone";

beforeAll(async () => {
  stack = await startTestStack();
  browser = await launchChromium();
  ana = await browser.newContext();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  return errors;
}

/** A full-page screenshot into SCREENSHOT_DIR, when it is set. */
async function shot(page: Page, name: string) {
  const dir = process.env.SCREENSHOT_DIR;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
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

it("Ana writes, searches, edits and deletes knowledge entries", async () => {
  const page = await ana.newPage();
  const errors = watchErrors(page);
  dumpOnFailure(stack, page);

  await page.goto(`${stack.webUrl}/app`);
  await signIn(page, "ana@example.com", "Ana Almeida");
  await createWorkspace(page, WORKSPACE, SLUG);

  // A channel, so the settings have one to switch off.
  await simulatorHas(stack, {
    cloud: [
      {
        phoneNumberId: "106540352242922",
        wabaId: "102290129340398",
        displayNumber: "351912345678",
        accessToken: "EAAGm0PX4ZCpsBAE-e2e-assistant-Qw3r",
        appSecret: "e2e-app-secret",
      },
    ],
  });
  await connectCloudChannel(page, stack.webUrl, SLUG, {
    name: CHANNEL,
    phoneNumberId: "106540352242922",
    wabaId: "102290129340398",
    displayNumber: "+351 912 345 678",
    token: "EAAGm0PX4ZCpsBAE-e2e-assistant-Qw3r",
  });

  // The assistant is in the navigation; its knowledge base starts empty and says what it is for.
  await page.getByRole("navigation", { name: "Workspace" }).getByRole("link", { name: "Assistant" }).click();
  await page.getByRole("heading", { level: 1, name: "Assistant" }).waitFor();
  await page
    .getByRole("navigation", { name: "Assistant" })
    .getByRole("link", { name: "Knowledge base" })
    .click();
  await page.waitForURL(new RegExp(`/t/${SLUG}/assistant/knowledge$`));
  const empty = page.getByRole("heading", { name: "No knowledge entries yet" });
  await empty.waitFor();
  await page.getByText("Opening hours", { exact: false }).first().waitFor();

  // An entry without a title is refused on the title field, and focus lands there.
  await page.getByRole("button", { name: "New entry" }).click();
  const form = page.getByRole("form", { name: "New knowledge entry" });
  const title = form.getByLabel("Title");
  await expect.poll(() => title.evaluate((el) => el === document.activeElement)).toBe(true);
  await form.getByLabel("Answer").fill("We are open Monday to Saturday from 10:00 to 19:00.");
  await form.getByText("51 / 4000").waitFor();
  await form.getByRole("button", { name: "Add entry" }).click();
  await form.getByText("Give the entry a title").waitFor();
  expect(await title.getAttribute("aria-invalid")).toBe("true");

  await title.fill("Opening hours");
  await form.getByLabel("Tags").fill("Hours, open, closed");
  await form.getByText("3 / 20 tags").waitFor();
  await form.getByRole("button", { name: "Add entry" }).click();
  await page.getByRole("status").filter({ hasText: "Added “Opening hours”" }).waitFor();
  const list = page.getByRole("list", { name: "Knowledge entries" });
  const hours = list.getByRole("article", { name: "Opening hours" });
  await hours.getByText("We are open Monday to Saturday from 10:00 to 19:00.").waitFor();
  await hours.getByText("closed", { exact: true }).waitFor();

  await page.getByRole("button", { name: "New entry" }).click();
  await form.getByLabel("Title").fill("Shipping to the islands");
  await form.getByLabel("Answer").fill("We ship lamps to Madeira and the Azores in 5 working days.");
  await form.getByLabel("Tags").fill("delivery");
  await form.getByRole("button", { name: "Add entry" }).click();
  await page.getByRole("status").filter({ hasText: "Added “Shipping to the islands”" }).waitFor();
  const shipping = list.getByRole("article", { name: "Shipping to the islands" });
  await shipping.waitFor();
  await expect.poll(() => list.getByRole("article").count()).toBe(2);

  // Escape closes a form without saving, and focus returns to the button that opened it.
  const newEntry = page.getByRole("button", { name: "New entry" });
  await newEntry.click();
  await form.getByLabel("Title").fill("Half-written");
  await form.getByLabel("Title").press("Escape");
  await form.waitFor({ state: "detached" });
  await expect.poll(() => newEntry.evaluate((el) => el === document.activeElement)).toBe(true);
  expect(await list.getByRole("article").count()).toBe(2);

  // Search follows the typing: one match, then none, then all again.
  const search = page.getByRole("searchbox", { name: "Search the knowledge base" });
  await search.fill("madeira");
  await expect.poll(() => list.getByRole("article").count()).toBe(1);
  await shipping.waitFor();
  expect(await hours.count()).toBe(0);
  await search.fill("chandelier");
  await page.getByRole("heading", { name: "Nothing matches “chandelier”" }).waitFor();
  await search.press("Escape");
  await expect.poll(() => list.getByRole("article").count()).toBe(2);

  // Edit: the form opens in place with the entry, and the list shows the new answer.
  await hours.getByRole("button", { name: "Edit Opening hours" }).click();
  const edit = page.getByRole("form", { name: "Edit “Opening hours”" });
  expect(await edit.getByLabel("Tags").inputValue()).toBe("hours, open, closed");
  await edit.getByLabel("Answer").fill("We are open every day from 10:00 to 20:00.");
  await edit.getByRole("button", { name: "Save entry" }).click();
  await page.getByRole("status").filter({ hasText: "Saved “Opening hours”" }).waitFor();
  await hours.getByText("We are open every day from 10:00 to 20:00.").waitFor();
  expect(await edit.count()).toBe(0);
  const editButton = hours.getByRole("button", { name: "Edit Opening hours" });
  await expect.poll(() => editButton.evaluate((el) => el === document.activeElement)).toBe(true);

  // Delete asks first; Cancel keeps the entry, confirming removes it.
  await shipping.getByRole("button", { name: "Delete Shipping to the islands" }).click();
  const dialog = page.getByRole("dialog", { name: "Delete “Shipping to the islands”?" });
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await dialog.waitFor({ state: "hidden" });
  await shipping.waitFor();
  await shipping.getByRole("button", { name: "Delete Shipping to the islands" }).click();
  await dialog.getByRole("button", { name: "Delete entry" }).click();
  await dialog.waitFor({ state: "hidden" });
  await page.getByRole("status").filter({ hasText: "Deleted “Shipping to the islands”" }).waitFor();
  await shipping.waitFor({ state: "detached" });
  await expect.poll(() => list.getByRole("article").count()).toBe(1);

  await shot(page, "knowledge-desktop");

  // The first HTML already holds the list.
  const html = await firstHtml(ana, `/t/${SLUG}/assistant/knowledge`);
  expect(html).toContain("We are open every day from 10:00 to 20:00.");
  expect(html).not.toContain("Loading the knowledge base…");

  expect(errors).toEqual([]);
  await page.close();
});

it("Ana turns the assistant off and changes its settings; both hold after a reload", async () => {
  const page = await ana.newPage();
  const errors = watchErrors(page);
  dumpOnFailure(stack, page);
  await page.goto(`${stack.webUrl}/t/${SLUG}/assistant`);
  await page.getByRole("heading", { level: 1, name: "Assistant" }).waitFor();

  // No model on this deployment: it says so, and how to get one. The breaker is closed.
  await page
    .getByText("No model configured: the assistant answers offline from the knowledge base")
    .waitFor();
  await page.getByText("OPENAI_API_KEY", { exact: true }).waitFor();
  const breaker = page.getByRole("region", { name: "Circuit breaker" });
  await breaker.getByText("Closed", { exact: true }).waitFor();

  // Off, saved at once.
  const onOff = page.getByRole("switch", { name: "The assistant answers customers" });
  await expect.poll(() => onOff.getAttribute("aria-checked")).toBe("true");
  await onOff.click();
  await page.getByRole("status").filter({ hasText: "The assistant is off" }).waitFor();
  // The switch follows the saved setting, which arrives over the live query.
  await expect.poll(() => onOff.getAttribute("aria-checked")).toBe("false");

  // A throttle out of range is refused on its field before anything is sent.
  const form = page.getByRole("form", { name: "Assistant settings" });
  const throttle = form.getByLabel("Answers per minute per customer");
  await throttle.fill("61");
  await form.getByRole("button", { name: "Save assistant settings" }).click();
  await form.getByText("Between 1 and 60 answers per minute per customer").waitFor();
  expect(await throttle.getAttribute("aria-invalid")).toBe("true");

  await throttle.fill("4");
  await form.getByLabel("Name", { exact: true }).fill("Luz");
  await form.getByLabel("Persona").fill("Warm and brief.");
  await form.getByText("15 / 1000").waitFor();
  await form.getByRole("textbox", { name: "Languages" }).fill("pt, EN");
  await form
    .getByRole("list", { name: "Languages it answers in" })
    .getByText("en", { exact: true })
    .waitFor();
  await form.getByLabel("Hand back after idle minutes").fill("0");
  const channel = form.getByRole("checkbox", { name: new RegExp(CHANNEL) });
  expect(await channel.isChecked()).toBe(true);
  await channel.uncheck();
  await form.getByRole("button", { name: "Save assistant settings" }).click();
  await form.getByRole("status").filter({ hasText: "Assistant settings saved" }).waitFor();

  await page.reload();
  await page.getByRole("heading", { level: 1, name: "Assistant" }).waitFor();
  expect(
    await page.getByRole("switch", { name: "The assistant answers customers" }).getAttribute("aria-checked"),
  ).toBe("false");
  expect(await form.getByLabel("Name", { exact: true }).inputValue()).toBe("Luz");
  expect(await form.getByRole("textbox", { name: "Languages" }).inputValue()).toBe("pt, en");
  expect(await form.getByLabel("Answers per minute per customer").inputValue()).toBe("4");
  expect(await form.getByLabel("Hand back after idle minutes").inputValue()).toBe("0");
  expect(await form.getByRole("checkbox", { name: new RegExp(CHANNEL) }).isChecked()).toBe(false);

  await shot(page, "assistant-desktop");

  // The first HTML already holds the settings.
  const html = await firstHtml(ana, `/t/${SLUG}/assistant`);
  expect(html).toContain('value="Luz"');
  expect(html).toContain('aria-checked="false"');
  expect(html).not.toContain("Loading the assistant…");

  // The changes are in the audit log.
  await page.getByRole("navigation", { name: "Workspace" }).getByRole("link", { name: "Audit log" }).click();
  const events = page.getByRole("list", { name: "Audit events, newest first" });
  await events.getByText("Assistant settings changed").first().waitFor();
  await events.getByText("Removed the knowledge entry “Shipping to the islands”").waitFor();

  expect(errors).toEqual([]);
  await page.close();
});

it("both pages fit a phone", async () => {
  const phone = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    storageState: await ana.storageState(),
  });
  const page = await phone.newPage();
  dumpOnFailure(stack, page);
  for (const [name, pathname] of [
    ["assistant-phone", `/t/${SLUG}/assistant`],
    ["knowledge-phone", `/t/${SLUG}/assistant/knowledge`],
  ]) {
    await page.goto(`${stack.webUrl}${pathname}`);
    await page.getByRole("heading", { level: 1, name: "Assistant" }).waitFor();
    await page.waitForLoadState("networkidle");
    await shot(page, name!);
    const widths = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      // Nothing sits off-screen in a sideways scroller (form fields scrolling their text aside).
      hidden: [...document.querySelectorAll<HTMLElement>("body *")]
        .filter((el) => !["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName))
        .filter((el) => el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 1)
        .filter((el) => ["auto", "scroll", "hidden"].includes(getComputedStyle(el).overflowX))
        .filter((el) => el.getClientRects().length > 0 && !el.closest(".sr-only"))
        .map((el) => el.tagName.toLowerCase()),
    }));
    expect(widths.scroll, pathname).toBeLessThanOrEqual(390);
    expect(widths.hidden, pathname).toEqual([]);
  }
  await phone.close();
});

it("Bob, an agent, reads the settings and the knowledge base and can change neither", async () => {
  // Ana invites Bob as an agent and reads the link from the outbox.
  const page = await ana.newPage();
  dumpOnFailure(stack, page);
  await page.goto(`${stack.webUrl}/t/${SLUG}/members`);
  await page.getByLabel("Email address").fill("bob@example.com");
  await page.getByLabel("Role", { exact: true }).selectOption("agent");
  await page.getByRole("button", { name: "Send invitation" }).click();
  await page.getByRole("status").filter({ hasText: "Invitation sent to bob@example.com" }).waitFor();
  await page.goto(`${stack.webUrl}/t/${SLUG}/outbox`);
  await page
    .getByRole("table", { name: `Email sent from ${WORKSPACE}` })
    .getByRole("row", { name: /bob@example\.com/ })
    .getByRole("button", { name: new RegExp(`invited you to ${WORKSPACE}`) })
    .click();
  const href = await page
    .getByRole("region", { name: /^Body of/ })
    .getByRole("link", { name: /\/invitations\// })
    .getAttribute("href");
  const invitationPath = new URL(href!).pathname;
  await page.close();

  const bob = await browser.newContext();
  const bobPage = await bob.newPage();
  const errors = watchErrors(bobPage);
  dumpOnFailure(stack, bobPage);
  await bobPage.goto(`${stack.webUrl}${invitationPath}`);
  await signIn(bobPage, "bob@example.com", "Bob Baker");
  await bobPage.waitForURL(`${stack.webUrl}${invitationPath}`);
  await verifyEmail(bobPage, stack, "bob@example.com");
  await bobPage.goto(`${stack.webUrl}${invitationPath}`);
  await bobPage.getByRole("button", { name: "Accept invitation" }).click();
  await bobPage.waitForURL(new RegExp(`/t/${SLUG}$`));

  // Settings: the values as text, off as a plain statement, no switch, no form.
  await bobPage
    .getByRole("navigation", { name: "Workspace" })
    .getByRole("link", { name: "Assistant" })
    .click();
  await bobPage.getByRole("heading", { level: 1, name: "Assistant" }).waitFor();
  const settings = bobPage.getByRole("region", { name: "Settings" });
  await settings.getByText("You can read these settings; owners and admins change them.").waitFor();
  await settings.getByText("Luz", { exact: true }).waitFor();
  await settings.getByText("pt, en", { exact: true }).waitFor();
  await bobPage.getByText("Off", { exact: true }).waitFor();
  expect(await bobPage.getByRole("switch").count()).toBe(0);
  expect(await bobPage.getByRole("button", { name: "Save assistant settings" }).count()).toBe(0);
  expect(await bobPage.getByRole("textbox").count()).toBe(0);

  // Knowledge base: the entries, no way to add, edit or delete.
  await bobPage
    .getByRole("navigation", { name: "Assistant" })
    .getByRole("link", { name: "Knowledge base" })
    .click();
  const list = bobPage.getByRole("list", { name: "Knowledge entries" });
  await list.getByRole("article", { name: "Opening hours" }).waitFor();
  expect(await bobPage.getByRole("button", { name: "New entry" }).count()).toBe(0);
  expect(await list.getByRole("button", { name: /^(Edit|Delete) / }).count()).toBe(0);

  expect(errors).toEqual([]);
  await bob.close();
});

describe("on a deployment with a model", () => {
  let modelStack: Awaited<ReturnType<typeof startTestStack>>;

  beforeAll(async () => {
    modelStack = await startTestStack({
      OPENAI_LOCAL: "1",
      OPENAI_LOCAL_PORT: String(await freePort()),
      OPENAI_MODELS: "gpt-4o-mini, gpt-4.1-mini",
    });
  });

  afterAll(async () => {
    await modelStack?.stop();
  });

  it("offers the allowed models in a list and saves a change of fallback", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = watchErrors(page);
    dumpOnFailure(modelStack, page);
    await page.goto(`${modelStack.webUrl}/app`);
    await signIn(page, "carla@example.com", "Carla Costa");
    await page.waitForURL(/\/onboarding$/);
    await page.getByLabel("Workspace name").fill("Porto Prints");
    await page.getByRole("button", { name: "Create workspace" }).click();
    await page.waitForURL(/\/t\/porto-prints$/);
    await page.goto(`${modelStack.webUrl}/t/porto-prints/assistant`);
    await page.getByRole("heading", { level: 1, name: "Assistant" }).waitFor();

    const engine = page.getByRole("note").filter({ hasText: "Model in use: gpt-4o-mini" });
    await engine.getByText(", then gpt-4.1-mini when gpt-4o-mini fails.").waitFor();
    await page.getByText("This deployment allows these models: gpt-4o-mini, gpt-4.1-mini.").waitFor();
    expect(await page.getByText("No model configured").count()).toBe(0);
    await page
      .getByRole("region", { name: "Circuit breaker" })
      .getByText("Closed", { exact: true })
      .waitFor();

    const form = page.getByRole("form", { name: "Assistant settings" });
    const model = form.getByRole("combobox", { name: "Model", exact: true });
    const fallback = form.getByRole("combobox", { name: "Fallback model" });
    expect(await model.locator("option").allTextContents()).toEqual(["gpt-4o-mini", "gpt-4.1-mini"]);
    expect(await fallback.locator("option").allTextContents()).toEqual([
      "None",
      "gpt-4o-mini",
      "gpt-4.1-mini",
    ]);
    expect(await fallback.inputValue()).toBe("gpt-4.1-mini");
    await fallback.selectOption("");
    await form.getByRole("button", { name: "Save assistant settings" }).click();
    await form.getByRole("status").filter({ hasText: "Assistant settings saved" }).waitFor();
    await engine.getByText("(no fallback model). When it fails").waitFor();

    await page.reload();
    expect(await form.getByRole("combobox", { name: "Fallback model" }).inputValue()).toBe("");
    await shot(page, "assistant-model-desktop");
    expect(errors).toEqual([]);
    await context.close();
  });
});
