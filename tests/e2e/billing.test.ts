// Credits in real browsers against the production build. Olga owns a workspace with no credits:
// her billing page says a platform admin adds them. Rita, a platform admin, grants credits from
// the workspace's admin page (a double click adds them once), and Olga's page, open in another
// browser, shows the new balance and the ledger entry without a reload. Olga exports the ledger
// as CSV and finds her currency fixed in the settings. Rita
// finds the published rate card loaded, and uploads a rate file with a bad row: the report names
// the row and nothing is written. Two drops of the balance below the €10.00 alert send one email.
import { mkdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { dumpOnFailure, signIn } from "./helpers";
import { launchChromium, startTestStack, verifyEmail } from "./stack";

let stack: Awaited<ReturnType<typeof startTestStack>>;
let browser: Browser;
/** Olga, owner of Olga's Shop (EUR), on her billing page. */
let olga: Page;
/** Rita, platform admin. */
let rita: Page;
const pages: Page[] = [];

/** With SCREENSHOT_DIR set, each step's page is saved there (full page) for a look. */
async function shot(page: Page, name: string) {
  const dir = process.env.SCREENSHOT_DIR;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `billing-${name}.png`), fullPage: true });
}

const WORKSPACE = "Olga's Shop";
const SLUG = "olga-s-shop";

beforeAll(async () => {
  stack = await startTestStack({ PLATFORM_ADMIN_EMAILS: "rita@platform.example" });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

it("shows a workspace without credits who adds them, and the debt limit it may use meanwhile", async () => {
  olga = await (await browser.newContext({ acceptDownloads: true })).newPage();
  pages.push(olga);
  dumpOnFailure(stack, pages);
  await signIn(olga, "olga@shop.example", "Olga Owner", { webUrl: stack.webUrl, redirectTo: "/app" });
  await olga.waitForURL(/\/onboarding$/);
  await olga.getByLabel("Workspace name").fill(WORKSPACE);
  // Only currencies with a WhatsApp rate card are offered.
  const offered = await olga.getByLabel("Currency").locator("option").allTextContents();
  expect(offered.map((o) => /\((\w{3})\)/.exec(o)?.[1])).toEqual(["USD", "EUR", "INR", "CLP"]);
  await olga.getByLabel("Currency").selectOption("EUR");
  await olga.getByRole("button", { name: "Create workspace" }).click();
  await olga.waitForURL(new RegExp(`/t/${SLUG}$`));

  await olga.getByRole("navigation", { name: "Workspace" }).getByRole("link", { name: "Billing" }).click();
  await olga.getByRole("heading", { level: 1, name: "Billing" }).waitFor();
  await olga.getByRole("heading", { name: "No credits yet" }).waitFor();
  await olga.getByText(/Credits are added by a Switchboard platform admin/).waitFor();
  await olga.getByText(/Paying online \(a card or another payment gateway\) is not available/).waitFor();
  expect(await olga.getByRole("meter", { name: "Debt limit used" }).getAttribute("aria-valuenow")).toBe("0");
  await olga.getByText("€5.00 can still be spent before new messages are refused").waitFor();
  await shot(olga, "empty");
});

it("lets a platform admin grant credits once, and the workspace's page shows them live", async () => {
  dumpOnFailure(stack, pages);
  rita = await (await browser.newContext()).newPage();
  pages.push(rita);
  await signIn(rita, "rita@platform.example", "Rita Root", { webUrl: stack.webUrl, redirectTo: "/app" });
  await rita.waitForURL(/\/onboarding$/);
  await verifyEmail(rita, stack, "rita@platform.example");
  await rita.goto(`${stack.webUrl}/admin`);
  await rita.getByRole("link", { name: `Credits of ${WORKSPACE}` }).click();
  await rita.getByRole("heading", { level: 1, name: WORKSPACE }).waitFor();

  // Olga's page is a live page: mark it, so a reload would be noticed.
  await olga.evaluate(() => ((window as unknown as { marker: string }).marker = "still here"));

  const grant = rita.getByRole("form", { name: "Add credits" });
  // A reason is required, and said so on its field.
  await grant.getByLabel("Amount (EUR)").fill("25.50");
  await grant.getByRole("button", { name: "Add credits" }).click();
  await grant.getByText("Say why: at least 3 characters").waitFor();
  await grant.getByLabel("Reason").fill("Welcome credit");
  // Clicked twice in a row: one grant.
  await grant.getByRole("button", { name: "Add credits" }).dblclick();
  await rita.getByText("Added €25.50. The balance is now €25.50.").waitFor();

  await olga.getByRole("heading", { name: "Ledger" }).waitFor();
  const ledger = olga.getByRole("table", { name: "Ledger entries, newest first" });
  await ledger.getByText("Welcome credit").waitFor();
  const balance = olga.getByRole("definition").filter({ hasText: "€25.50" }).first();
  await balance.waitFor();
  expect(await ledger.getByRole("row").count()).toBe(2); // the header and one entry
  expect(await olga.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe("still here");

  // Rita's page shows the entry too, and a second grant with a new form adds again.
  await rita
    .getByRole("table", { name: "Ledger entries, newest first" })
    .getByText("Welcome credit")
    .waitFor();
  await grant.getByLabel("Amount (EUR)").fill("4.50");
  await grant.getByLabel("Reason").fill("Top-up for the launch");
  await grant.getByRole("button", { name: "Add credits" }).click();
  await rita.getByText("Added €4.50. The balance is now €30.00.").waitFor();
  await olga.getByText("Top-up for the launch").waitFor();
  expect(await ledger.getByRole("row").count()).toBe(3);
  await shot(olga, "workspace");
  await shot(rita, "admin-workspace");
});

it("exports every matching ledger entry as a UTF-8 CSV, and keeps the currency fixed once credits exist", async () => {
  dumpOnFailure(stack, pages);
  const [download] = await Promise.all([
    olga.waitForEvent("download"),
    olga.getByRole("link", { name: "Export CSV" }).click(),
  ]);
  expect(download.suggestedFilename()).toBe(`${SLUG}-ledger-start_to_now.csv`);
  const bytes = await readFile((await download.path())!);
  expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  const lines = bytes.toString("utf8").slice(1).trim().split("\r\n");
  expect(lines[0]).toMatch(/^seq,time_utc,kind,amount,/);
  expect(lines).toHaveLength(3);
  expect(lines[1]).toMatch(/^1,[^,]+,top_up,4\.5,0,30,0,EUR,admin,/);
  expect(lines[2]).toContain("Welcome credit");

  // Someone outside the workspace gets no file, and nothing of it.
  const eve = await (await browser.newContext()).newPage();
  pages.push(eve);
  await signIn(eve, "eve@elsewhere.example", "Eve Outsider", { webUrl: stack.webUrl, redirectTo: "/app" });
  await eve.waitForURL(/\/onboarding$/);
  const refused = await eve.request.get(`${stack.webUrl}/t/${SLUG}/billing/ledger.csv`);
  expect(refused.status()).toBe(404);
  expect(await refused.text()).not.toContain("Welcome credit");

  await olga.getByRole("navigation", { name: "Workspace" }).getByRole("link", { name: "Settings" }).click();
  const currency = olga.getByLabel("Currency");
  await olga.getByText("The currency stays EUR: credits have been used").waitFor();
  expect(await currency.isDisabled()).toBe(true);
});

it("loads the published rate card and refuses a rate file with a bad row, writing nothing", async () => {
  dumpOnFailure(stack, pages);
  await rita.getByRole("navigation", { name: "Platform admin" }).getByRole("link", { name: "Rates" }).click();
  await rita.getByRole("heading", { level: 1, name: "Rate card" }).waitFor();
  // The stack loaded the published card when it started: no "Load" button on a full card.
  const rates = rita.getByRole("table", { name: "Message rates" });
  await rates.waitFor();
  expect(await rita.getByRole("button", { name: "Load the published rate card" }).count()).toBe(0);
  const filters = rita.getByRole("group", { name: "Filter the rates" });
  await filters.getByLabel("Market").selectOption("IT");
  await rita.waitForURL(/market=IT/);
  await filters.getByLabel("Category").selectOption("marketing");
  await rita.waitForURL(/market=IT&category=marketing/);
  const inForce = rates.getByRole("row").filter({ hasText: "In force" });
  // One version of Italy's marketing rate is in force; the others were replaced.
  await expect.poll(() => inForce.count(), { timeout: 10_000 }).toBe(1);
  expect(await inForce.innerText()).toContain("$0.0795");
  // Replaced versions show on request.
  expect(await rates.getByRole("row").filter({ hasText: "Replaced" }).count()).toBe(0);
  await rita.getByLabel(/^Show 2 replaced versions/).check();
  await expect.poll(() => rates.getByRole("row").filter({ hasText: "Replaced" }).count()).toBe(2);
  const before = await rates.getByRole("row").count();

  const csv = [
    "currency,market,category,rate,effective_from",
    "USD,IT,marketing,0.0810,2099-01-01",
    "USD,IT,marketing,0.0810,2099-02-01",
  ].join("\n");
  await rita
    .getByLabel("CSV file", { exact: true })
    .setInputFiles({ name: "rates.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  await rita.getByRole("button", { name: "Check file" }).click();
  await rita.getByText("rates.csv has 1 problem: nothing was written").waitFor();
  const problems = rita.getByRole("table", { name: "Problems in the file" });
  const row = problems.getByRole("row").nth(1);
  expect(await row.getByRole("rowheader").innerText()).toBe("3");
  await row.getByText(/2099-02-01 is not a quarter start/).waitFor();
  expect(await rates.getByRole("row").count()).toBe(before);
  await shot(rita, "rates");
});

it("emails the owner once when the balance falls below the low-balance alert, through the outbox", async () => {
  dumpOnFailure(stack, pages);
  await rita.goto(`${stack.webUrl}/admin`);
  await rita.getByRole("link", { name: `Credits of ${WORKSPACE}` }).click();
  await rita.getByRole("heading", { level: 1, name: WORKSPACE }).waitFor();
  const adjust = rita.getByRole("form", { name: "Adjust the balance" });
  const takeOff = async (amount: string, reason: string, balanceAfter: string) => {
    await adjust.getByLabel("Change (EUR, + or −)").fill(`-${amount}`);
    await adjust.getByLabel("Reason").fill(reason);
    await adjust.getByRole("button", { name: "Adjust" }).click();
    await rita.getByRole("dialog").getByRole("button", { name: "Adjust the balance" }).click();
    await rita.getByText(`The balance is now ${balanceAfter}.`).waitFor();
  };
  // €30.00 → €5.00 crosses the default alert at €10.00; €5.00 → €4.00 crosses nothing new.
  await takeOff("25.00", "Spent on a test campaign", "€5.00");
  await takeOff("1.00", "More test spending", "€4.00");
  await olga.goto(`${stack.webUrl}/t/${SLUG}/outbox`);
  const alert = olga.getByText("Olga's Shop: credit balance below €10.00");
  await alert.first().waitFor();
  // The second drop below the threshold sent nothing more.
  await olga.waitForTimeout(1_500);
  expect(await alert.count()).toBe(1);
});
