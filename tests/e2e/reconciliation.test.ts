// Reconciliation in a real browser against the production build and the local Convex server: a
// platform admin opens Reconciliation from the admin navigation, sees every job with its
// schedule, starts one by hand through the confirmation, and follows the run live to its report;
// the request is in the platform audit log. A workspace admin sets data retention on the
// workspace's settings page, and an out-of-range value is refused on its field; then every other
// job runs to a finished report on the local server.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { createWorkspace, dumpOnFailure, signIn } from "./helpers";
import { launchChromium, startTestStack, verifyEmail } from "./stack";

let stack: Awaited<ReturnType<typeof startTestStack>>;
let browser: Browser;

beforeAll(async () => {
  stack = await startTestStack({ PLATFORM_ADMIN_EMAILS: "root@platform.example" });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

it("lists the jobs, runs one by hand and shows its report live; retention is set per workspace", async () => {
  const pages: Page[] = [];
  const pageErrors: string[] = [];
  dumpOnFailure(stack, pages);

  const admin = await (await browser.newContext()).newPage();
  pages.push(admin);
  admin.on("pageerror", (e) => pageErrors.push(`admin: ${e.message}`));
  await signIn(admin, "root@platform.example", "Rita Root", { webUrl: stack.webUrl, redirectTo: "/admin" });
  await admin.waitForURL(/\/admin$/);
  await verifyEmail(admin, stack, "root@platform.example");
  await admin.goto(`${stack.webUrl}/admin`);
  await admin
    .getByRole("navigation", { name: "Platform admin" })
    .getByRole("link", { name: "Reconciliation" })
    .click();
  await admin.waitForURL(/\/admin\/reconciliation$/);
  await admin.getByRole("heading", { level: 1, name: "Reconciliation" }).waitFor();

  const jobs = admin.getByRole("table", { name: "Reconciliation jobs" });
  for (const label of [
    "Sends with no status",
    "Sends stuck in sending",
    "Ledger vs balance",
    "Campaign counters",
    "Old reservations",
    "Billed vs rate card",
    "Data retention",
  ]) {
    await jobs.getByRole("row").filter({ hasText: label }).first().waitFor();
  }
  const ledgerRow = jobs.getByRole("row").filter({ hasText: "Ledger vs balance" });
  await ledgerRow.getByText("daily at 03:17 UTC").waitFor();

  // Run it now, through the confirmation.
  await ledgerRow.getByRole("button", { name: "Run now Ledger vs balance" }).click();
  const dialog = admin.getByRole("dialog", { name: 'Run "Ledger vs balance" now?' });
  await dialog.getByText(/recorded in the platform audit log/).waitFor();
  await dialog.getByRole("button", { name: "Run now" }).click();
  await dialog.waitFor({ state: "hidden" });
  await admin.getByRole("status").filter({ hasText: 'Started "Ledger vs balance".' }).waitFor();

  // The run appears and finishes on the open page, by the admin, with its report.
  const runs = admin.getByRole("table", { name: "Reconciliation runs, newest first" });
  const run = runs.getByRole("row").filter({ hasText: "Ledger vs balance" }).first();
  await run.getByText("root@platform.example").waitFor();
  await run.getByText(/Found 0, fixed 0,\s*needs a person 0/).waitFor({ timeout: 20_000 });
  await ledgerRow.getByText(/Found 0, fixed 0/).waitFor();

  // The request is audited.
  await admin.goto(`${stack.webUrl}/admin/audit`);
  await admin.getByText('Started the reconciliation job "Ledger vs balance"').first().waitFor();

  // A workspace owner sets retention on the settings page.
  const owner = await (await browser.newContext()).newPage();
  pages.push(owner);
  owner.on("pageerror", (e) => pageErrors.push(`owner: ${e.message}`));
  await signIn(owner, "rhea@retain.example", "Rhea Owner", { webUrl: stack.webUrl, redirectTo: "/app" });
  await createWorkspace(owner, "Retain Co", "retain-co");
  await owner.goto(`${stack.webUrl}/t/retain-co/settings`);
  const retention = owner.getByRole("region", { name: "Data retention" });
  const messages = retention.getByLabel("Messages (days)");
  await expect.poll(() => messages.inputValue()).toBe("365");
  await messages.fill("90");
  await retention.getByLabel("Webhook events (days)").fill("400");
  await retention.getByRole("button", { name: "Save retention" }).click();
  await retention.getByText(/Webhook events must be a whole number of days from 1 to 30/).waitFor();
  await retention.getByLabel("Webhook events (days)").fill("14");
  await retention.getByRole("button", { name: "Save retention" }).click();
  await retention.getByText("Retention saved").waitFor();
  await owner.reload();
  await expect
    .poll(() =>
      owner.getByRole("region", { name: "Data retention" }).getByLabel("Messages (days)").inputValue(),
    )
    .toBe("90");

  // Every other job runs through on the local server too (the workspace exists now), each to a
  // finished report.
  await admin.goto(`${stack.webUrl}/admin/reconciliation`);
  for (const label of [
    "Sends with no status",
    "Sends stuck in sending",
    "Campaign counters",
    "Old reservations",
    "Billed vs rate card",
    "Data retention",
  ]) {
    const row = jobs.getByRole("row").filter({ hasText: label });
    await row.getByRole("button", { name: `Run now ${label}` }).click();
    const confirm = admin.getByRole("dialog", { name: `Run "${label}" now?` });
    await confirm.getByRole("button", { name: "Run now" }).click();
    await confirm.waitFor({ state: "hidden" });
    await row.getByText(/Found 0, fixed 0/).waitFor({ timeout: 20_000 });
  }

  expect(pageErrors).toEqual([]);
}, 180_000);
