// Kill switches in a real browser against the production build, the local Convex server and the
// WhatsApp simulator: the owner pauses sending from Settings with a reason, every page of the
// workspace shows the banner, a reply is refused with who paused and why and never reaches the
// phone, the platform admin's list shows the workspace paused, and resuming from the banner's link
// lets replies out again. Then the platform admin's global switch, which asks for a typed phrase,
// puts the banner on the owner's open page live, and lifting it takes it away.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { connectCloudChannel, createWorkspace, dumpOnFailure, signIn, simulatorHas } from "./helpers";
import { launchChromium, startTestStack, verifyEmail } from "./stack";

const APP_SECRET = "e2e-kill-switch-app-secret";
const PHONE_NUMBER_ID = "106540352242922";
const WABA_ID = "102290129340398";
const TOKEN = "EAAGm0PX4ZCpsBAE-e2e-kill-switch-token";
const SLUG = "corner-bakery";
const CUSTOMER = "34633444555";

let stack: Awaited<ReturnType<typeof startTestStack>>;
let browser: Browser;

beforeAll(async () => {
  stack = await startTestStack({
    WHATSAPP_APP_SECRET: APP_SECRET,
    PLATFORM_ADMIN_EMAILS: "root@platform.example",
  });
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
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

async function simulator<T>(pathname: string, body?: unknown): Promise<T> {
  const response = await fetch(`${stack.simulatorUrl}${pathname}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(response.status, `${pathname}: ${await response.clone().text()}`).toBe(200);
  return (await response.json()) as T;
}

/** What the phone received from the business (the assistant may answer the customer too). */
async function phoneReceived(): Promise<string[]> {
  const state = await simulator<{ messages: { direction: string; user: string; text?: string }[] }>(
    "/_sim/state",
  );
  return state.messages.filter((m) => m.direction === "out" && m.user === CUSTOMER).map((m) => m.text ?? "");
}

const banner = (page: Page) => page.getByRole("status", { name: "Sending is paused" });

/** Confirms the open sending dialog with `reason` (and the typed phrase when asked for). */
async function confirmSwitch(page: Page, action: RegExp, reason: string, phrase?: string) {
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel("Reason").fill(reason);
  const confirm = dialog.getByRole("button", { name: action });
  if (phrase) {
    expect(await confirm.isDisabled()).toBe(true);
    await dialog.getByLabel(/to confirm/).fill("stop");
    expect(await confirm.isDisabled()).toBe(true);
    await dialog.getByLabel(/to confirm/).fill(phrase);
  }
  await confirm.click();
  await dialog.waitFor({ state: "hidden" });
}

it("the owner pauses sending: a banner on every page, replies refused with the reason, and resumes", async () => {
  const pages: Page[] = [];
  dumpOnFailure(stack, pages);
  const owner = await (await browser.newContext()).newPage();
  pages.push(owner);
  await owner.goto(`${stack.webUrl}/app`);
  await signIn(owner, "bea@bakery.example", "Bea Baker");
  await createWorkspace(owner, "Corner Bakery", SLUG);
  await connectCloudChannel(owner, stack.webUrl, SLUG, {
    name: "Shop phone",
    phoneNumberId: PHONE_NUMBER_ID,
    wabaId: WABA_ID,
    displayNumber: "+34 600 111 222",
    token: TOKEN,
  });
  await simulator(`/_sim/users/${CUSTOMER}/messages`, {
    to: PHONE_NUMBER_ID,
    text: "Do you have rye bread today?",
    name: "Carla Cruz",
  });

  // Pause from Settings, with a reason.
  await owner.goto(`${stack.webUrl}/t/${SLUG}/settings`);
  const section = owner.getByRole("region", { name: "Sending" });
  await section.getByTestId("sending-state").getByText("Sending").waitFor();
  expect(await banner(owner).count()).toBe(0);
  await section.getByRole("button", { name: "Pause sending" }).click();
  await confirmSwitch(owner, /^Pause sending$/, "Wrong prices in today's offer");
  await section.getByTestId("sending-state").getByText("Paused").waitFor();
  await banner(owner)
    .getByText(/paused for this workspace by bea@bakery\.example since .*: Wrong prices in today's offer/)
    .waitFor();

  // The banner is on every page of the workspace.
  for (const path of ["", "/inbox", "/channels", "/members", "/billing", "/audit"]) {
    await owner.goto(`${stack.webUrl}/t/${SLUG}${path}`);
    await banner(owner)
      .getByText(/Wrong prices in today's offer/)
      .waitFor();
  }
  await owner.getByText("Paused sending for the workspace: Wrong prices in today's offer").waitFor();
  // In the first paint too, before any script runs.
  const noScript = await browser.newContext({
    javaScriptEnabled: false,
    storageState: await owner.context().storageState(),
  });
  const firstPaint = await noScript.newPage();
  await firstPaint.goto(`${stack.webUrl}/t/${SLUG}/members`);
  await banner(firstPaint)
    .getByText(/Wrong prices in today's offer/)
    .waitFor();
  await noScript.close();

  // A reply is refused with who and why, and nothing reaches the phone.
  await owner.goto(`${stack.webUrl}/t/${SLUG}/inbox`);
  await owner.getByRole("link", { name: /Carla Cruz/ }).click();
  await owner.waitForURL(new RegExp(`/t/${SLUG}/inbox/[a-z0-9]+$`));
  const reply = owner.getByRole("combobox", { name: "Reply" });
  await reply.fill("Yes, fresh from the oven!");
  await reply.press("Enter");
  const refused = owner.getByRole("alert").filter({ hasText: "Not sent: sending is paused" });
  await refused.getByText(/by bea@bakery\.example since .*: Wrong prices in today's offer/).waitFor();
  expect(await phoneReceived()).not.toContain("Yes, fresh from the oven!");

  // The platform admin's list shows the workspace paused.
  const admin = await (await browser.newContext()).newPage();
  pages.push(admin);
  await signIn(admin, "root@platform.example", "Rita Root", { webUrl: stack.webUrl, redirectTo: "/admin" });
  await admin.waitForURL(/\/admin$/);
  await verifyEmail(admin, stack, "root@platform.example");
  await admin.goto(`${stack.webUrl}/admin`);
  const row = admin.getByRole("table", { name: "Workspaces" }).getByRole("row", { name: /Corner Bakery/ });
  await row.getByText("Paused", { exact: true }).waitFor();

  // The banner's link takes the owner to resume.
  await banner(owner).getByRole("link", { name: "Resume sending" }).click();
  await owner.waitForURL(new RegExp(`/t/${SLUG}/settings#sending$`));
  await section.getByRole("button", { name: "Resume sending" }).click();
  await confirmSwitch(owner, /^Resume sending$/, "Prices fixed");
  await banner(owner).waitFor({ state: "detached" });
  // The admin's list follows live.
  await row.getByText("On", { exact: true }).waitFor();

  await owner.goto(`${stack.webUrl}/t/${SLUG}/inbox`);
  await owner.getByRole("link", { name: /Carla Cruz/ }).click();
  await reply.fill("Yes, fresh from the oven!");
  await reply.press("Enter");
  await expect.poll(phoneReceived, { timeout: 15_000 }).toContain("Yes, fresh from the oven!");

  // The platform admin's global switch asks for the phrase, and the owner's open page shows it live.
  await admin.goto(`${stack.webUrl}/admin`);
  const global = admin.getByRole("region", { name: "Sending on the whole platform" });
  await global.getByRole("button", { name: "Pause sending" }).click();
  await confirmSwitch(admin, /^Pause sending$/, "Provider incident", "STOP ALL SENDING");
  await global.getByTestId("global-sending-state").getByText("Paused").waitFor();
  await banner(owner)
    .getByText(/paused on the whole platform by the platform team since .*: Provider incident/)
    .waitFor();
  expect(await banner(owner).getByRole("link", { name: "Resume sending" }).count()).toBe(0);
  await reply.fill("One more thing");
  await reply.press("Enter");
  await owner
    .getByRole("alert")
    .filter({ hasText: "Not sent: sending is paused" })
    .getByText(/whole platform by the platform team .*: Provider incident/)
    .waitFor();

  await global.getByRole("button", { name: "Resume sending" }).click();
  await confirmSwitch(admin, /^Resume sending$/, "Provider recovered");
  await banner(owner).waitFor({ state: "detached" });
  expect(await phoneReceived()).not.toContain("One more thing");
});
