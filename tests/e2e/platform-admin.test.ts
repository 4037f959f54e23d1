// Platform admins in a real browser: an email listed in PLATFORM_ADMIN_EMAILS becomes a platform
// admin once the account's email is verified (audited), sees every workspace and the platform
// audit log; anyone else is refused the admin pages. The workspaces list searches by name or
// address; a workspace's page pauses its sending after a confirmation with a reason, which the
// list, the workspace's own banner and both audit logs then show.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { signIn } from "./helpers";
import { launchChromium, startTestStack, verifyEmail } from "./stack";

let stack: Awaited<ReturnType<typeof startTestStack>>;
let browser: Browser;

beforeAll(async () => {
  stack = await startTestStack({ PLATFORM_ADMIN_EMAILS: "root@platform.example" });
  browser = await launchChromium();
});

/** With SCREENSHOT_DIR set, the page at 1280 px and at 390 px wide (full page), for a look. */
async function shot(page: Page, name: string) {
  const dir = process.env.SCREENSHOT_DIR;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: path.join(dir, `platform-admin-${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

it("shows platform admins every workspace and the platform audit log, and refuses everyone else", async () => {
  // Someone creates a workspace; they are not a platform admin.
  const owner = await (await browser.newContext()).newPage();
  await signIn(owner, "olga@shop.example", "Olga Owner", { webUrl: stack.webUrl, redirectTo: "/app" });
  await owner.waitForURL(/\/onboarding$/);
  await owner.getByLabel("Workspace name").fill("Olga's Shop");
  await owner.getByRole("button", { name: "Create workspace" }).click();
  await owner.waitForURL(/\/t\/olga-s-shop/);
  await owner.goto(`${stack.webUrl}/admin`);
  await owner
    .getByRole("alert")
    .getByText(/platform admin/i)
    .waitFor();
  expect(await owner.getByRole("navigation", { name: "Platform admin" }).count()).toBe(0);

  // The platform admin sees it without being a member, live.
  const admin = await (await browser.newContext()).newPage();
  await signIn(admin, "Root@Platform.example", "Rita Root", { webUrl: stack.webUrl, redirectTo: "/admin" });
  // Listed, but a new local account's email is unverified: not an admin until it is verified.
  await admin.waitForURL(/\/admin$/);
  await admin
    .getByRole("alert")
    .getByText(/platform admin/i)
    .waitFor();
  await verifyEmail(admin, stack, "root@platform.example");
  await admin.goto(`${stack.webUrl}/admin`);
  const workspaces = admin.getByRole("table", { name: "Workspaces" });
  await workspaces.getByRole("link", { name: "Olga's Shop", exact: true }).waitFor();

  await admin
    .getByRole("navigation", { name: "Platform admin" })
    .getByRole("link", { name: "Audit log" })
    .click();
  await admin.waitForURL(/\/admin\/audit/);
  await admin.getByText("root@platform.example became a platform admin").waitFor();
  await admin.getByText("Created workspace Olga's Shop").waitFor();
});

it("finds a workspace by name or address and pauses its sending after a confirmation, audited in both logs", async () => {
  const bruno = await (await browser.newContext()).newPage();
  await signIn(bruno, "bruno@bikes.example", "Bruno Bikes", { webUrl: stack.webUrl, redirectTo: "/app" });
  await bruno.waitForURL(/\/onboarding$/);
  await bruno.getByLabel("Workspace name").fill("Bruno's Bikes");
  await bruno.getByRole("button", { name: "Create workspace" }).click();
  await bruno.waitForURL(/\/t\/bruno-s-bikes/);

  const admin = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await signIn(admin, "root@platform.example", "Rita Root", { webUrl: stack.webUrl, redirectTo: "/admin" });
  await admin.waitForURL(/\/admin$/);
  const workspaces = admin.getByRole("table", { name: "Workspaces" });
  await workspaces.getByRole("link", { name: "Bruno's Bikes", exact: true }).waitFor();
  await workspaces.getByRole("link", { name: "Olga's Shop", exact: true }).waitFor();
  await shot(admin, "workspaces");

  // By name, whatever the case; then by address; the address keeps the search.
  const search = admin.getByRole("searchbox", { name: "Search workspaces" });
  await search.fill("BIKES");
  await admin.waitForURL(/\?q=BIKES$/);
  await expect.poll(() => workspaces.getByRole("row").count()).toBe(2); // header + Bruno's
  await workspaces.getByRole("link", { name: "Bruno's Bikes", exact: true }).waitFor();
  await search.fill("olga-s-shop");
  await workspaces.getByRole("link", { name: "Olga's Shop", exact: true }).waitFor();
  await expect.poll(() => workspaces.getByRole("row").count()).toBe(2);
  await search.fill("no such shop");
  await admin.getByText("No workspace matches").waitFor();
  await search.fill("bikes");
  await workspaces.getByRole("link", { name: "Bruno's Bikes", exact: true }).click();

  // The workspace's page: overview, channels, sending, credits, recent activity.
  await admin.waitForURL(/\/admin\/tenants\/[^/]+$/);
  await admin.getByRole("heading", { name: "Bruno's Bikes" }).waitFor();
  await admin.getByText("This workspace has not connected a WhatsApp number yet.").waitFor();
  const sending = admin.getByRole("region", { name: "Sending" });
  await sending.getByRole("button", { name: "Pause sending" }).click();
  const dialog = admin.getByRole("dialog");
  const confirm = dialog.getByRole("button", { name: "Pause sending" });
  // No reason, no pause; cancelling changes nothing.
  expect(await confirm.isDisabled()).toBe(true);
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await dialog.waitFor({ state: "hidden" });
  await sending.getByTestId("sending-state").getByText("Sending").waitFor();
  await sending.getByRole("button", { name: "Pause sending" }).click();
  await dialog.getByLabel("Reason").fill("Spam complaints under review");
  await shot(admin, "pause-dialog");
  await confirm.click();
  await dialog.waitFor({ state: "hidden" });
  await sending.getByTestId("sending-state").getByText("Paused").waitFor();
  const activity = admin.getByRole("region", { name: "Recent activity" });
  await activity
    .getByText(/Paused sending for the workspace \(platform admin\): Spam complaints under review/)
    .waitFor();
  await shot(admin, "workspace");

  // The owner's pages show the banner; only the platform team can resume.
  await bruno
    .getByRole("status", { name: "Sending is paused" })
    .getByText("Only the platform team can resume it.")
    .waitFor();

  // The list shows it paused; the platform's audit log names the workspace.
  await admin.getByRole("link", { name: "Workspaces" }).first().click();
  await admin.waitForURL(/\/admin(\?.*)?$/);
  await search.fill("bruno");
  const row = workspaces.getByRole("row", { name: /Bruno's Bikes/ });
  await row.getByText("Paused", { exact: true }).waitFor();
  await admin
    .getByRole("navigation", { name: "Platform admin" })
    .getByRole("link", { name: "Audit log" })
    .click();
  await admin
    .getByText("Paused sending for the workspace (platform admin): Spam complaints under review")
    .waitFor();

  await admin
    .getByRole("navigation", { name: "Platform admin" })
    .getByRole("link", { name: "Dispatchers" })
    .click();
  await admin.getByText("No campaign has been sent yet").waitFor();
  await shot(admin, "dispatchers");
});
