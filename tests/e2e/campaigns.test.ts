// Campaigns in a real browser against the production build, the local Convex server and the
// WhatsApp simulator (standing in for Meta, which already has an approved template for the number
// and sends sent/delivered/read webhooks a moment after each message). Olga imports three
// contacts tagged "vip" (one without a name), reads the template from Meta, builds a campaign for
// the tag (the preview warns about the nameless contact until she gives a fallback), launches it
// after a confirmation stating the count, and watches the counters and the progress bar move live
// to completion; every phone got the template with its values filled in, and the results download
// as CSV. A second campaign, launched while the workspace's sending is paused, shows the pause's
// reason and goes out when she resumes it. A third, to 400 contacts (with credits a platform admin
// grants), is paused as soon as it starts sending: nothing more leaves until it is resumed, and
// then every phone gets it exactly once. Finally she duplicates the first campaign, launches the
// copy while WhatsApp fails every message, and sends it again to the failed recipients once
// WhatsApp is well: each phone gets exactly one more message.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import {
  connectCloudChannel,
  createWorkspace,
  dumpOnFailure,
  signIn,
  simulatorCall,
  simulatorHas,
} from "./helpers";
import { launchChromium, startTestStack, verifyEmail } from "./stack";

const APP_SECRET = "e2e-campaigns-app-secret";
const TOKEN = "EAAGm0PX4ZCpsBAE-e2e-campaigns-token-Zx9c";
const PHONE_NUMBER_ID = "106540352242931";
const WABA_ID = "102290129340331";
const SLUG = "olga-s-olives";
const USERS = ["34611000001", "34611000002", "34611000003"];

let stack: Awaited<ReturnType<typeof startTestStack>>;
let browser: Browser;

beforeAll(async () => {
  stack = await startTestStack({
    WHATSAPP_APP_SECRET: APP_SECRET,
    PLATFORM_ADMIN_EMAILS: "rita@platform.example",
  });
  browser = await launchChromium();
  await simulatorHas(stack, {
    cloud: [
      {
        phoneNumberId: PHONE_NUMBER_ID,
        wabaId: WABA_ID,
        displayNumber: "34600111331",
        accessToken: TOKEN,
        appSecret: APP_SECRET,
        webhookUrl: `${stack.convexSiteUrl}/whatsapp/cloud`,
      },
    ],
    templates: [
      {
        id: "300000000000931",
        wabaId: WABA_ID,
        name: "harvest_ready",
        language: "en_US",
        category: "UTILITY",
        status: "APPROVED",
        components: [{ type: "BODY", text: "Hi {{1}}, this year's olive oil is ready for you." }],
      },
    ],
  });
  // Statuses a little slower than default, so the counters visibly move on the page.
  await simulatorCall(stack, "/_sim/knobs", { statusDelaysMs: { sent: 500, delivered: 2_000, read: 4_000 } });
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** The rendered templates each user's phone received from the business. */
async function phonesReceived(): Promise<Record<string, string[]>> {
  const state = await simulatorCall<{
    messages: { direction: string; user: string; type: string; text?: string }[];
  }>(stack, "/_sim/state");
  const out: Record<string, string[]> = {};
  for (const m of state.messages)
    if (m.direction === "out" && m.type === "template") (out[m.user] ??= []).push(m.text ?? "");
  return out;
}

const count = (page: Page, state: string) => page.getByTestId(`count-${state}`);

/** With SCREENSHOT_DIR set, the page is saved there (full page) for a look. */
async function shot(page: Page, name: string) {
  const dir = process.env.SCREENSHOT_DIR;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `campaigns-${name}.png`), fullPage: true });
}

async function newCampaign(page: Page, name: string) {
  await page.goto(`${stack.webUrl}/t/${SLUG}/campaigns/new`);
  await page.getByRole("heading", { level: 1, name: "New campaign" }).waitFor();
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByTestId("audience-count").getByText("3", { exact: true }).waitFor();
  await page.getByLabel("Fallback for {{1}} when a contact has no name").fill("friend");
}

/** Contacts tagged `bulk` in the tests that pause a running campaign. */
const BULK = 400;

/** Launches a campaign to the `bulk` tag and waits until its first messages are claimed. */
async function launchToBulk(page: Page, name: string) {
  await page.goto(`${stack.webUrl}/t/${SLUG}/campaigns/new`);
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Tag", { exact: true }).selectOption("bulk");
  await page.getByTestId("audience-count").getByText(String(BULK), { exact: true }).waitFor();
  await page.getByRole("button", { name: "Launch…" }).click();
  await page
    .getByRole("dialog")
    .getByRole("button", { name: `Launch to ${BULK}` })
    .click();
  await page.waitForURL(new RegExp(`/t/${SLUG}/campaigns/(?!new$)[a-z0-9]+$`));
  await expect
    .poll(async () => Number((await count(page, "pending").innerText()).replace(/,/g, "")), {
      timeout: 20_000,
      interval: 50,
    })
    .toBeLessThan(BULK);
}

it("builds a campaign for a tag, launches it and watches it complete live", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  dumpOnFailure(stack, page);

  await page.goto(`${stack.webUrl}/app`);
  await signIn(page, "olga@olives.example", "Olga Ortiz");
  await createWorkspace(page, "Olga's Olives", SLUG);
  await connectCloudChannel(page, stack.webUrl, SLUG, {
    name: "Shop phone",
    phoneNumberId: PHONE_NUMBER_ID,
    wabaId: WABA_ID,
    displayNumber: "+34 600 111 331",
    token: TOKEN,
  });

  // The template Meta already approved.
  await page.goto(`${stack.webUrl}/t/${SLUG}/templates`);
  const approved = page.getByRole("row", { name: /harvest_ready/ }).getByText("Approved");
  // The button waits for the client's session (it is disabled until then), so one click reads.
  await page.getByRole("button", { name: "Read from Meta" }).click();
  await approved.waitFor();

  // Three contacts tagged vip, one of them without a name.
  await page.goto(`${stack.webUrl}/t/${SLUG}/contacts/import`);
  const csv = `Name,Phone,Tags\nCarla Cruz,+${USERS[0]},vip\nDiego Díaz,+${USERS[1]},vip\n,+${USERS[2]},vip\n`;
  await page
    .getByLabel("CSV file")
    .setInputFiles({ name: "vip.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  await page.getByRole("button", { name: "Upload and preview" }).click();
  await page.getByRole("button", { name: /^Import 3 rows$/ }).click();
  await page.getByTestId("import-status").getByText("Imported").waitFor({ timeout: 20_000 });

  // No campaigns yet: the empty state offers one.
  await page.getByRole("navigation", { name: "Workspace" }).getByRole("link", { name: "Campaigns" }).click();
  await page.getByRole("heading", { name: "No campaigns yet" }).waitFor();
  await page.getByRole("link", { name: "New campaign" }).first().click();
  await page.getByRole("heading", { level: 1, name: "New campaign" }).waitFor();

  // The form: the template's text, the tag's live count, and a preview per recipient.
  await page.getByText("Hi {{1}}, this year's olive oil is ready for you.").waitFor();
  await page.getByLabel("Name", { exact: true }).fill("Harvest 2026");
  await page.getByTestId("audience-count").getByText("3", { exact: true }).waitFor();
  const preview = page.getByRole("complementary", { name: "Preview" });
  await preview.getByText("Hi Carla, this year's olive oil is ready for you.").waitFor();
  await preview.getByText("Hi Diego, this year's olive oil is ready for you.").waitFor();
  await preview.getByText(/Missing a value for \{\{1\}\}/).waitFor();
  const estimate = page.getByTestId("campaign-estimate");
  await estimate
    .getByText(/Of these contacts, 2 would be sent and 1 skipped \(no value for \{\{1\}\}: 1\)/)
    .waitFor();
  await page.getByLabel("Fallback for {{1}} when a contact has no name").fill("friend");
  await estimate.getByText(/Of these contacts, 3 would be sent\./).waitFor();
  await estimate.getByText(/Estimated cost:/).waitFor();
  await preview.getByText("Hi friend, this year's olive oil is ready for you.").waitFor();
  expect(await preview.getByText(/Missing a value/).count()).toBe(0);

  // Launching asks first, stating how many contacts it goes to.
  await page.getByRole("button", { name: "Launch…" }).click();
  const dialog = page.getByRole("dialog", { name: "Launch this campaign?" });
  await dialog.getByText(/It goes to 3 contacts/).waitFor();
  await dialog.getByRole("button", { name: "Launch to 3" }).click();
  await page.waitForURL(new RegExp(`/t/${SLUG}/campaigns/(?!new$)[a-z0-9]+$`));
  await page.getByRole("heading", { level: 1, name: "Harvest 2026" }).waitFor();

  // Live, with no reload: nothing read yet, then every counter reaches the end.
  const seenRead = new Set<string>();
  const seenDone = new Set<string>();
  await expect
    .poll(
      async () => {
        seenRead.add(await count(page, "read").innerText());
        seenDone.add((await page.getByRole("progressbar").getAttribute("aria-valuenow")) ?? "");
        return seenRead.has("3");
      },
      { timeout: 30_000, interval: 100 },
    )
    .toBe(true);
  expect(seenRead.has("0")).toBe(true);
  expect(seenDone.has("100")).toBe(true);
  await page.getByTestId("campaign-state").getByText("Completed").waitFor();
  expect(await count(page, "pending").innerText()).toBe("0");
  expect(await count(page, "failed").innerText()).toBe("0");
  await page.getByTestId("progress-text").getByText("3 of 3 recipients done (100%)").waitFor();

  // Each phone got the template once, its values filled in.
  const received = await phonesReceived();
  expect(received[USERS[0]]).toEqual(["Hi Carla, this year's olive oil is ready for you."]);
  expect(received[USERS[1]]).toEqual(["Hi Diego, this year's olive oil is ready for you."]);
  expect(received[USERS[2]]).toEqual(["Hi friend, this year's olive oil is ready for you."]);

  // The drill-down lists the read recipients; the results download as CSV with a BOM.
  const recipients = page.getByRole("region", { name: "Recipients" });
  await recipients.getByRole("button", { name: "Read (3)" }).click();
  await recipients.getByRole("link", { name: "Carla Cruz" }).waitFor();
  const href = await page.getByRole("link", { name: "Download results (CSV)" }).getAttribute("href");
  const file = await context.request.get(`${stack.webUrl}${href}`);
  expect(file.status()).toBe(200);
  expect(file.headers()["content-type"]).toMatch(/^text\/csv/);
  const body = (await file.body()).toString("utf8");
  expect(body.startsWith("\uFEFFName,Phone,State,Reason,Updated (UTC),Replied (UTC)\r\n")).toBe(true);
  expect(body).toContain("Diego Díaz,");
  expect(body.match(/,Read,/g)).toHaveLength(3);

  // The list shows it completed.
  await page.getByRole("navigation", { name: "Workspace" }).getByRole("link", { name: "Campaigns" }).click();
  const row = page.getByRole("row", { name: /Harvest 2026/ });
  await row.getByText("Completed").waitFor();
  await row.getByText("3 of 3").waitFor();
  expect(pageErrors).toEqual([]);
  await context.close();
});

it("a campaign paused by the workspace's sending switch shows why, and goes out when resumed", async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  dumpOnFailure(stack, page);
  await page.goto(`${stack.webUrl}/app`);
  await signIn(page, "olga@olives.example", "Olga Ortiz");
  await page.waitForURL(new RegExp(`/t/${SLUG}`));

  // Sending paused for the workspace.
  await page.goto(`${stack.webUrl}/t/${SLUG}/settings`);
  const section = page.getByRole("region", { name: "Sending" });
  await section.getByRole("button", { name: "Pause sending" }).click();
  await page.getByRole("dialog").getByLabel("Reason").fill("Checking the price list");
  await page
    .getByRole("dialog")
    .getByRole("button", { name: /^Pause sending$/ })
    .click();
  await section.getByTestId("sending-state").getByText("Paused").waitFor();

  await newCampaign(page, "Harvest reminder");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await page.getByRole("button", { name: "Launch…" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Launch to 3" }).click();
  await page.waitForURL(new RegExp(`/t/${SLUG}/campaigns/(?!new$)[a-z0-9]+$`));
  await page.getByTestId("campaign-state").getByText("Paused").waitFor({ timeout: 20_000 });
  await page.getByText("Paused: nothing more is sent until it is resumed.").waitFor();
  await page
    .getByText(/Checking the price list/)
    .first()
    .waitFor();
  expect(await count(page, "pending").innerText()).toBe("3");
  expect(Object.values(await phonesReceived()).flat()).toHaveLength(3);

  // Sending back on; resuming the campaign sends it.
  await page.goto(`${stack.webUrl}/t/${SLUG}/settings`);
  await section.getByRole("button", { name: "Resume sending" }).click();
  await page.getByRole("dialog").getByLabel("Reason").fill("Prices checked");
  await page
    .getByRole("dialog")
    .getByRole("button", { name: /^Resume sending$/ })
    .click();
  await section.getByTestId("sending-state").getByText("Sending").waitFor();
  await page.goBack();
  await page.getByRole("button", { name: "Resume", exact: true }).click();
  await page.getByTestId("campaign-state").getByText("Completed").waitFor({ timeout: 30_000 });
  const overflowAfter = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflowAfter).toBeLessThanOrEqual(0);
  await expect
    .poll(async () => Object.values(await phonesReceived()).flat().length, { timeout: 10_000 })
    .toBe(6);
  await context.close();
});

it("pauses a running campaign before its next message, and resumes it where it stopped", async () => {
  const users = Array.from({ length: BULK }, (_, i) => `346120${String(i).padStart(5, "0")}`);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  dumpOnFailure(stack, page);
  // Enough credits for everyone, from a platform admin.
  const rita = await (await browser.newContext()).newPage();
  await signIn(rita, "rita@platform.example", "Rita Root", { webUrl: stack.webUrl, redirectTo: "/app" });
  await rita.waitForURL(/\/onboarding$/);
  await verifyEmail(rita, stack, "rita@platform.example");
  await rita.goto(`${stack.webUrl}/admin`);
  await rita.getByRole("link", { name: "Credits of Olga's Olives" }).click();
  const grant = rita.getByRole("form", { name: "Add credits" });
  await grant.getByLabel(/^Amount/).fill("500");
  await grant.getByLabel("Reason").fill("Harvest campaign");
  await grant.getByRole("button", { name: "Add credits" }).click();
  await rita.getByText(/^Added .*500\.00\./).waitFor();
  await rita.context().close();

  await page.goto(`${stack.webUrl}/app`);
  await signIn(page, "olga@olives.example", "Olga Ortiz");
  await page.waitForURL(new RegExp(`/t/${SLUG}`));

  await page.goto(`${stack.webUrl}/t/${SLUG}/contacts/import`);
  const csv = `Name,Phone,Tags\n${users.map((u, i) => `Buyer ${i},+${u},bulk`).join("\n")}\n`;
  await page
    .getByLabel("CSV file")
    .setInputFiles({ name: "bulk.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  await page.getByRole("button", { name: "Upload and preview" }).click();
  await page.getByRole("button", { name: `Import ${BULK} rows` }).click();
  await page.getByTestId("import-status").getByText("Imported").waitFor({ timeout: 60_000 });

  await launchToBulk(page, "Harvest for everyone");

  // As soon as sending starts, pause.
  await page.getByRole("button", { name: "Pause", exact: true }).click();
  await page.getByTestId("campaign-state").getByText("Paused").waitFor();
  await page.getByText("Paused by Olga Ortiz").waitFor();
  const bulkSent = async () =>
    Object.entries(await phonesReceived()).filter(([user]) => users.includes(user)).length;
  // Nothing more leaves while paused: what was claimed before the pause settles, then stays.
  await expect
    .poll(async () => Number((await count(page, "queued").innerText()).replace(/,/g, "")), {
      timeout: 15_000,
    })
    .toBe(0);
  const pendingAtPause = await count(page, "pending").innerText();
  const sentAtPause = await bulkSent();
  expect(Number(pendingAtPause.replace(/,/g, ""))).toBeGreaterThan(0);
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  expect(await count(page, "pending").innerText()).toBe(pendingAtPause);
  expect(await bulkSent()).toBe(sentAtPause);
  expect(sentAtPause).toBeLessThan(BULK);

  // Resumed: it continues to the end, each phone once.
  await page.getByRole("button", { name: "Resume", exact: true }).click();
  await page.getByTestId("campaign-state").getByText("Completed").waitFor({ timeout: 90_000 });
  const received = await phonesReceived();
  expect(users.filter((u) => received[u]?.length === 1)).toHaveLength(BULK);
  await context.close();
});

it("duplicates a campaign, and sends again to the recipients WhatsApp failed", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  dumpOnFailure(stack, page);
  await page.goto(`${stack.webUrl}/app`);
  await signIn(page, "olga@olives.example", "Olga Ortiz");
  await page.waitForURL(new RegExp(`/t/${SLUG}`));

  await page.goto(`${stack.webUrl}/t/${SLUG}/campaigns`);
  await page.getByRole("link", { name: "Harvest 2026" }).click();
  await page.getByRole("heading", { level: 1, name: "Harvest 2026" }).waitFor();
  await shot(page, "completed");
  const firstUrl = page.url();
  await page.getByRole("button", { name: "Duplicate", exact: true }).click();
  await page.waitForURL((url) => url.toString() !== firstUrl && /\/campaigns\/[a-z0-9]+$/.test(url.pathname));
  await page.getByRole("heading", { level: 1, name: "Copy of Harvest 2026" }).waitFor();
  await page.getByTestId("campaign-state").getByText("Draft").waitFor();

  // WhatsApp fails every message of the copy (a temporary error on its side).
  await simulatorCall(stack, "/_sim/knobs", { failShare: 1, failCode: 131000 });
  const before = await phonesReceived();
  await page.getByRole("button", { name: "Launch…" }).click();
  await page
    .getByRole("dialog", { name: "Launch this campaign?" })
    .getByRole("button", { name: "Launch" })
    .click();
  await page.getByTestId("campaign-state").getByText("Completed").waitFor({ timeout: 30_000 });
  await expect.poll(async () => await count(page, "failed").innerText(), { timeout: 10_000 }).toBe("3");
  const recipients = page.getByRole("region", { name: "Recipients" });
  await recipients.getByRole("button", { name: "Failed (3)" }).click();
  await recipients.getByText("(131000)").first().waitFor();

  // Retrying asks first, saying how many get a new message.
  await simulatorCall(stack, "/_sim/knobs", { failShare: 0 });
  const afterFailure = await phonesReceived();
  await page.getByRole("button", { name: "Retry failed…" }).click();
  const dialog = page.getByRole("dialog", { name: "Send again to failed recipients?" });
  await dialog
    .getByTestId("retry-summary")
    .getByText(/3 of the 3 failed recipients will get a new message/)
    .waitFor();
  await shot(page, "retry-dialog");
  await dialog.getByRole("button", { name: "Send again to 3" }).click();
  await page.getByText("3 failed recipients will be sent again.").waitFor();
  await expect.poll(async () => await count(page, "read").innerText(), { timeout: 30_000 }).toBe("3");
  await page.getByTestId("campaign-state").getByText("Completed").waitFor({ timeout: 15_000 });
  expect(await count(page, "failed").innerText()).toBe("0");
  await shot(page, "retried");

  // Each phone got the copy's message once more after the retry, not twice.
  const after = await phonesReceived();
  for (const user of USERS) {
    expect(afterFailure[user]!.length).toBeGreaterThanOrEqual(before[user]!.length);
    expect(after[user]!.length).toBe(afterFailure[user]!.length + 1);
  }
  expect(pageErrors).toEqual([]);
  await context.close();
});

it("builds campaigns for hand-picked contacts and for an uploaded list", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  dumpOnFailure(stack, page);
  await page.goto(`${stack.webUrl}/app`);
  await signIn(page, "olga@olives.example", "Olga Ortiz");
  await page.waitForURL(new RegExp(`/t/${SLUG}`));

  // Two contacts found by search and ticked.
  await page.goto(`${stack.webUrl}/t/${SLUG}/campaigns/new`);
  await page.getByLabel("Name", { exact: true }).fill("Picked few");
  await page.getByLabel("Chosen contacts").check();
  await page.getByLabel("Find contacts").fill("Carla");
  await page
    .getByRole("list", { name: "Search results" })
    .getByLabel(/Carla Cruz/)
    .check();
  await page.getByLabel("Find contacts").fill("Diego");
  await page
    .getByRole("list", { name: "Search results" })
    .getByLabel(/Diego Díaz/)
    .check();
  await page.getByTestId("audience-count").getByText("2", { exact: true }).waitFor();
  await page
    .getByRole("complementary", { name: "Preview" })
    .getByText("Hi Carla, this year's olive oil is ready for you.")
    .waitFor();
  await shot(page, "new-picked");
  await page.getByRole("button", { name: "Save draft" }).click();
  await page.getByRole("heading", { level: 1, name: "Picked few" }).waitFor();

  // An uploaded list: one number she has, one new; both become the audience.
  const listed = ["34611000001", "34613000001"];
  await page.goto(`${stack.webUrl}/t/${SLUG}/campaigns/new`);
  await page.getByLabel("Name", { exact: true }).fill("Fair visitors");
  await page.getByLabel("Upload a list (CSV)").check();
  await page.getByLabel("List file (CSV)").setInputFiles({
    name: "fair.csv",
    mimeType: "text/csv",
    buffer: Buffer.from(`Name,Phone\nCarla Cruz,+${listed[0]}\nElena Est,+${listed[1]}\n`),
  });
  await page.getByRole("button", { name: "Upload and import" }).click();
  await page
    .getByTestId("upload-status")
    .getByText(/Imported 2 contacts, tagged/)
    .waitFor({ timeout: 30_000 });
  await page.getByTestId("audience-count").getByText("2", { exact: true }).waitFor();
  await shot(page, "new-upload");
  const before = await phonesReceived();
  await page.getByRole("button", { name: "Launch…" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Launch to 2" }).click();
  await page.waitForURL(new RegExp(`/t/${SLUG}/campaigns/(?!new$)[a-z0-9]+$`));
  await page.getByTestId("campaign-state").getByText("Completed").waitFor({ timeout: 30_000 });
  const after = await phonesReceived();
  expect(after[listed[0]]!.length).toBe(before[listed[0]]!.length + 1);
  expect(after[listed[1]]).toEqual(["Hi Elena, this year's olive oil is ready for you."]);
  expect(pageErrors).toEqual([]);
  await context.close();
});

it("the platform's sending switch stops a running campaign before its next message", async () => {
  const users = Array.from({ length: BULK }, (_, i) => `346120${String(i).padStart(5, "0")}`);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const rita = await (await browser.newContext()).newPage();
  dumpOnFailure(stack, [page, rita]);
  await signIn(rita, "rita@platform.example", "Rita Root", { webUrl: stack.webUrl, redirectTo: "/admin" });
  const global = rita.getByRole("region", { name: "Sending on the whole platform" });
  await global.getByRole("button", { name: "Pause sending" }).waitFor();

  await page.goto(`${stack.webUrl}/app`);
  await signIn(page, "olga@olives.example", "Olga Ortiz");
  await page.waitForURL(new RegExp(`/t/${SLUG}`));
  const launchedAt = Date.now();
  await launchToBulk(page, "Last call for oil");

  // The platform team stops all sending: the campaign pauses with their reason.
  await global.getByRole("button", { name: "Pause sending" }).click();
  const dialog = rita.getByRole("dialog");
  await dialog.getByLabel("Reason").fill("Provider incident");
  await dialog.getByLabel(/to confirm/).fill("STOP ALL SENDING");
  await dialog.getByRole("button", { name: /^Pause sending$/ }).click();
  await global.getByTestId("global-sending-state").getByText("Paused").waitFor();
  await page.getByTestId("campaign-state").getByText("Paused").waitFor({ timeout: 15_000 });
  await page
    .getByText(/Provider incident/)
    .first()
    .waitFor();

  // This campaign's messages (the simulator's state holds the latest 500 messages, enough for 400).
  const sendsSinceLaunch = async () => {
    const state = await simulatorCall<{
      messages: { direction: string; user: string; type: string; at: number }[];
    }>(stack, "/_sim/state");
    const perUser: Record<string, number> = {};
    for (const m of state.messages)
      if (m.direction === "out" && m.type === "template" && m.at >= launchedAt && users.includes(m.user))
        perUser[m.user] = (perUser[m.user] ?? 0) + 1;
    return perUser;
  };
  const secondSends = async () => Object.keys(await sendsSinceLaunch()).length;
  // Messages claimed before the switch wait in the send queue; nothing reaches a phone meanwhile.
  let sentAtStop = await secondSends();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  sentAtStop = await secondSends();
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  expect(await secondSends()).toBe(sentAtStop);
  expect(sentAtStop).toBeLessThan(BULK);
  expect(Object.values(await sendsSinceLaunch()).filter((n) => n > 1)).toEqual([]);

  // Sending back on for the platform; the owner resumes the campaign and it completes, once each.
  await global.getByRole("button", { name: "Resume sending" }).click();
  await dialog.getByLabel("Reason").fill("Provider recovered");
  await dialog.getByRole("button", { name: /^Resume sending$/ }).click();
  await global.getByTestId("global-sending-state").getByText("Sending", { exact: true }).waitFor();
  await page.getByRole("button", { name: "Resume", exact: true }).click();
  await page.getByTestId("campaign-state").getByText("Completed").waitFor({ timeout: 90_000 });
  const after = await sendsSinceLaunch();
  expect(users.filter((u) => after[u] === 1)).toHaveLength(BULK);
  await rita.context().close();
  await context.close();
});
