// Platform admins in a real browser: an email listed in PLATFORM_ADMIN_EMAILS becomes a platform
// admin once the account's email is verified (audited), sees every workspace and the platform
// audit log; anyone else is refused the admin pages.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { signIn } from "./helpers";
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
