// WhatsApp channels in a real browser against the production build and the local Convex server
// (which gets its CHANNEL_SECRETS_KEY from local/stack.ts): Ana creates a workspace, connects a
// Cloud API number (a bad phone number ID is refused on its field first), sees it listed with
// only the last four characters of its token, opens it and finds the webhook URL to paste into
// Meta; then disables it through a confirmation. Then Bruno connects a WAHA session and watches
// its page while a signed webhook arrives: the message shows up without a reload.
import { createHmac } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { dumpOnFailure, signIn, simulatorHas } from "./helpers";
import { launchChromium, startTestStack } from "./stack";

let stack: Awaited<ReturnType<typeof startTestStack>>;
let browser: Browser;

beforeAll(async () => {
  stack = await startTestStack();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const TOKEN = "EAAGm0PX4ZCpsBAE-e2e-secret-token-Zk7q";

it("connects a Cloud API number, lists it with only the token's last four characters and shows its webhook URL", async () => {
  const context = await browser.newContext({ permissions: ["clipboard-read", "clipboard-write"] });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  dumpOnFailure(stack, page);
  const workspaceNav = page.getByRole("navigation", { name: "Workspace" });

  // Meta knows the number, and that this token may read it.
  await simulatorHas(stack, {
    cloud: [
      {
        phoneNumberId: "106540352242922",
        wabaId: "102290129340398",
        displayNumber: "34600111222",
        accessToken: TOKEN,
        appSecret: "e2e-app-secret",
      },
    ],
  });

  await page.goto(`${stack.webUrl}/app`);
  await signIn(page, "ana@example.com", "Ana Almeida");
  await page.waitForURL(/\/onboarding$/);
  await page.getByLabel("Workspace name").fill("Ana's Bakery");
  await page.getByRole("button", { name: "Create workspace" }).click();
  await page.waitForURL(/\/t\/ana-s-bakery$/);

  // No channel yet: the page explains how to connect one.
  await workspaceNav.getByRole("link", { name: "Channels" }).click();
  await page.getByRole("heading", { level: 1, name: "Channels" }).waitFor();
  await page.getByRole("heading", { name: "No WhatsApp number connected yet" }).waitFor();
  await page.getByRole("link", { name: "Add channel" }).click();
  await page.waitForURL(/\/t\/ana-s-bakery\/channels\/new$/);

  // Choose the kind, then fill in its form; the token is a password field.
  await page.getByRole("radio", { name: /Cloud API/ }).check();
  const form = page.getByRole("form", { name: "Connect a Cloud API channel" });
  await form.getByLabel("Channel name").fill("Front desk");
  await form.getByLabel("Phone number ID", { exact: true }).fill("1065-40352");
  await form.getByLabel("WhatsApp Business Account ID").fill("102290129340398");
  await form.getByLabel("Display number").fill("+34 600 111 222");
  const token = form.getByLabel("Access token");
  expect(await token.getAttribute("type")).toBe("password");
  await token.fill(TOKEN);

  // The backend refuses the malformed id on its field, and focus lands there.
  await form.getByRole("button", { name: "Connect channel" }).click();
  await form.getByText("The phone number ID is digits only").waitFor();
  const phoneNumberId = form.getByLabel("Phone number ID", { exact: true });
  expect(await phoneNumberId.getAttribute("aria-invalid")).toBe("true");
  await expect.poll(() => phoneNumberId.evaluate((el) => el === document.activeElement)).toBe(true);

  // A number the token cannot read (someone else's, or a typo) is refused after asking Meta.
  await phoneNumberId.fill("106540352242923");
  await form.getByRole("button", { name: "Connect channel" }).click();
  await form.getByText("The token cannot read this phone number").waitFor();
  expect(await phoneNumberId.getAttribute("aria-invalid")).toBe("true");

  await phoneNumberId.fill("106540352242922");
  await form.getByRole("button", { name: "Connect channel" }).click();

  // The channel's page: the webhook URL to paste into Meta, and the token as a hint only.
  await page.waitForURL(/\/t\/ana-s-bakery\/channels\/(?!new$)[a-z0-9]+$/);
  await page.getByRole("heading", { level: 1, name: "Front desk" }).waitFor();
  await page.getByRole("status").filter({ hasText: "Connected Front desk" }).waitFor();
  const webhookUrl = page.getByRole("textbox", { name: "Webhook URL" });
  expect(await webhookUrl.inputValue()).toBe(`${stack.convexSiteUrl}/whatsapp/cloud`);
  await page.getByRole("button", { name: "Copy webhook URL" }).click();
  await page.getByRole("status").filter({ hasText: "Copied to the clipboard" }).waitFor();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(
    `${stack.convexSiteUrl}/whatsapp/cloud`,
  );
  const details = page.getByRole("region", { name: "Details" });
  await details.getByText("•••• Zk7q").waitFor();
  await details.getByText("+34600111222").waitFor();
  await page.getByRole("region", { name: "Health" }).getByText("Last webhook: never").waitFor();
  expect(await page.content()).not.toContain(TOKEN);

  // The list shows it with its number, health and only the hint.
  await workspaceNav.getByRole("link", { name: "Channels" }).click();
  const row = page
    .getByRole("table", { name: "WhatsApp channels of Ana's Bakery" })
    .getByRole("row", { name: /Front desk/ });
  await row.getByText("+34600111222").waitFor();
  await row.getByText("Cloud API").waitFor();
  await row.getByText("Enabled", { exact: true }).waitFor();
  await row.getByText("Last webhook: never").waitFor();
  await row.getByText("•••• Zk7q").waitFor();
  expect(await page.content()).not.toContain(TOKEN);

  // Open it again from the list; disable it through the confirmation, and the page follows live.
  await row.getByRole("link", { name: "Front desk" }).click();
  await page.getByRole("heading", { level: 1, name: "Front desk" }).waitFor();
  expect(await page.getByRole("textbox", { name: "Webhook URL" }).inputValue()).toBe(
    `${stack.convexSiteUrl}/whatsapp/cloud`,
  );
  await page.getByRole("button", { name: "Disable channel" }).click();
  const dialog = page.getByRole("dialog", { name: "Disable Front desk?" });
  await dialog.getByRole("button", { name: "Disable channel" }).click();
  await dialog.waitFor({ state: "hidden" });
  await page.getByRole("status").filter({ hasText: "Front desk is disabled" }).waitFor();
  await page.getByRole("button", { name: "Enable channel" }).waitFor();

  // Creating and disabling are in the audit log, without the token.
  await workspaceNav.getByRole("link", { name: "Audit log" }).click();
  const events = page.getByRole("list", { name: "Audit events, newest first" });
  await events.getByText("Connected Cloud API channel Front desk").waitFor();
  await events.getByText("Disabled channel Front desk").waitFor();
  expect(await page.content()).not.toContain(TOKEN);

  expect(pageErrors).toEqual([]);
  await context.close();
});

it("shows a WAHA channel's activity live: a signed webhook's message appears without a reload", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  dumpOnFailure(stack, page);
  const hmacKey = "bruno-waha-hmac-key-4242";
  await simulatorHas(stack, { waha: [{ session: "bruno", apiKey: "bruno-waha-api-key-0001" }] });

  await page.goto(`${stack.webUrl}/app`);
  await signIn(page, "bruno@example.com", "Bruno Bike");
  await page.waitForURL(/\/onboarding$/);
  await page.getByLabel("Workspace name").fill("Bruno Bikes");
  await page.getByRole("button", { name: "Create workspace" }).click();
  await page.waitForURL(/\/t\/bruno-bikes$/);
  await page.goto(`${stack.webUrl}/t/bruno-bikes/channels/new`);
  await page.getByRole("radio", { name: "WAHA" }).check();
  const form = page.getByRole("form", { name: "Connect a WAHA channel" });
  await form.getByLabel("Channel name").fill("Workshop phone");
  await form.getByLabel("Server address").fill(`${stack.simulatorUrl}/`);
  await form.getByLabel("Session name").fill("bruno");
  await form.getByLabel("API key").fill("bruno-waha-api-key-0001");
  await form.getByLabel("Webhook HMAC key").fill(hmacKey);
  await form.getByRole("button", { name: "Connect channel" }).click();
  await page.waitForURL(/\/t\/bruno-bikes\/channels\/(?!new$)[a-z0-9]+$/);
  const channelId = new URL(page.url()).pathname.split("/").pop()!;

  const webhookUrl = await page.getByRole("textbox", { name: "Webhook URL" }).inputValue();
  expect(webhookUrl).toBe(`${stack.convexSiteUrl}/whatsapp/waha/${channelId}`);
  await page.getByRole("heading", { name: "No messages yet" }).waitFor();
  await page.getByRole("region", { name: "Health" }).getByText("Last webhook: never").waitFor();
  // The session's status was asked for when the channel was connected.
  await page.getByRole("region", { name: "Health" }).getByText("Session working").waitFor();

  // WAHA posts an incoming message, signed with the channel's HMAC key.
  const body = JSON.stringify({
    id: "evt_01JE2E0000000000000000000",
    timestamp: Date.now(),
    session: "bruno",
    engine: "WEBJS",
    event: "message",
    payload: {
      id: "false_34611222333@c.us_3EB0E2E",
      timestamp: Math.floor(Date.now() / 1000),
      from: "34611222333@c.us",
      fromMe: false,
      to: "34600111222@c.us",
      body: "Is my bike ready?",
      hasMedia: false,
      ack: 1,
      ackName: "SERVER",
    },
  });
  const response = await fetch(webhookUrl, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-webhook-hmac": createHmac("sha512", hmacKey).update(body).digest("hex"),
      "x-webhook-hmac-algorithm": "sha512",
    },
    body,
  });
  expect(response.status).toBe(200);

  // The open page follows: the message, the contact's number, the health and the event's state.
  const messages = page.getByRole("list", { name: "Recent messages on Workshop phone, newest first" });
  const message = messages.getByRole("listitem").filter({ hasText: "Is my bike ready?" });
  await message.waitFor();
  await message.getByText("+34611222333").waitFor();
  await message.getByText("Received").waitFor();
  await page
    .getByRole("region", { name: "Health" })
    .getByText(/Last webhook: (just now|\d+ seconds? ago)/)
    .waitFor();
  const events = page.getByRole("table", { name: "Webhook events for Workshop phone, newest first" });
  await events.getByRole("row").filter({ hasText: "Processed" }).waitFor();

  expect(pageErrors).toEqual([]);
  await context.close();
});
