// Webhook dead letters in a real browser against the production build and the local Convex
// server: a correctly signed Cloud API message for a phone_number_id no channel has is accepted
// (200) but kept as an "unrouted" dead letter, which the platform admin sees live in Dead letters
// with its normalised event. Once a workspace owner connects a Cloud API channel with that number,
// the admin replays it: the row leaves the list, the message appears live on the channel's page,
// and the replay is in the platform audit log.
import { createHmac } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { connectCloudChannel, createWorkspace, dumpOnFailure, signIn, simulatorHas } from "./helpers";
import { launchChromium, startTestStack, verifyEmail } from "./stack";

/** The Cloud API app secret the stack's Convex server verifies X-Hub-Signature-256 with. */
const APP_SECRET = "e2e-dead-letters-app-secret-7c1f";
const PHONE_NUMBER_ID = "109876543210777";
const WAMID = "wamid.HBgLMzQ2MTE5OTk4ODgVAgASGBRERUFETEVUVEVSRTJFMDAwMQA=";
const TEXT = "Hello? Is anyone reading this number?";

let stack: Awaited<ReturnType<typeof startTestStack>>;
let browser: Browser;

beforeAll(async () => {
  stack = await startTestStack({
    PLATFORM_ADMIN_EMAILS: "root@platform.example",
    WHATSAPP_APP_SECRET: APP_SECRET,
  });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** Posts raw bytes to the Cloud API webhook, signed with `secret` as Meta signs them. */
async function postCloud(body: string, secret = APP_SECRET): Promise<Response> {
  const bytes = Buffer.from(body, "utf8");
  return await fetch(`${stack.convexSiteUrl}/whatsapp/cloud`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-hub-signature-256": `sha256=${createHmac("sha256", secret).update(bytes).digest("hex")}`,
    },
    body: bytes,
  });
}

function inboundMessage(): string {
  return JSON.stringify({
    object: "whatsapp_business_account",
    entry: [
      {
        id: "102290129340777",
        changes: [
          {
            field: "messages",
            value: {
              messaging_product: "whatsapp",
              metadata: { display_phone_number: "34600777888", phone_number_id: PHONE_NUMBER_ID },
              contacts: [{ profile: { name: "Dora Dead" }, wa_id: "34611999888" }],
              messages: [
                {
                  from: "34611999888",
                  id: WAMID,
                  timestamp: String(Math.floor(Date.now() / 1000)),
                  type: "text",
                  text: { body: TEXT },
                },
              ],
            },
          },
        ],
      },
    ],
  });
}

it("keeps an unrouted webhook as a dead letter, and a replay after the channel exists delivers it", async () => {
  const pages: Page[] = [];
  const pageErrors: string[] = [];
  dumpOnFailure(stack, pages);

  // The platform admin opens Dead letters from the admin navigation: nothing there yet.
  const admin = await (await browser.newContext()).newPage();
  pages.push(admin);
  admin.on("pageerror", (e) => pageErrors.push(`admin: ${e.message}`));
  await signIn(admin, "root@platform.example", "Rita Root", { webUrl: stack.webUrl, redirectTo: "/admin" });
  await admin.waitForURL(/\/admin$/);
  // A platform admin needs a verified email (and, locally, a password).
  await verifyEmail(admin, stack, "root@platform.example");
  await admin.goto(`${stack.webUrl}/admin`);
  await admin
    .getByRole("navigation", { name: "Platform admin" })
    .getByRole("link", { name: "Dead letters" })
    .click();
  await admin.waitForURL(/\/admin\/dead-letters$/);
  await admin.getByRole("heading", { level: 1, name: "Dead letters" }).waitFor();
  await admin
    .getByRole("heading", { name: "No dead letters — every webhook event was processed." })
    .waitFor();

  // A wrongly signed webhook is refused and stores nothing; a correctly signed one for a number
  // no channel has is accepted and kept as unrouted.
  expect((await postCloud(inboundMessage(), "not-the-app-secret")).status).toBe(401);
  const response = await postCloud(inboundMessage());
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ received: 1, stored: 1, duplicates: 0, unrouted: 1 });

  // It appears on the open page without a reload, with its reason; its event can be read.
  const table = admin.getByRole("table", { name: "Dead letters, newest first" });
  const rows = table.getByRole("row").filter({ hasText: `phone_number_id ${PHONE_NUMBER_ID}` });
  await rows.first().waitFor();
  expect(await rows.count()).toBe(1);
  const row = rows.first();
  await row.getByText(`unrouted: no channel has phone_number_id ${PHONE_NUMBER_ID}`).waitFor();
  await row.getByRole("cell", { name: "Cloud API", exact: true }).waitFor();
  await row.getByRole("cell", { name: "message", exact: true }).waitFor();
  await row.getByRole("cell", { name: "Not routed", exact: true }).waitFor();
  await row.getByRole("cell", { name: "0", exact: true }).waitFor();
  expect(await admin.getByRole("region", { name: `Event cloud:msg:${WAMID}` }).count()).toBe(0);
  const show = row.getByRole("button", { name: `Show event cloud:msg:${WAMID}` });
  expect(await show.getAttribute("aria-expanded")).toBe("false");
  await show.click();
  const detail = admin.getByRole("region", { name: `Event cloud:msg:${WAMID}` });
  const json = await detail.locator("pre").innerText();
  expect(JSON.parse(json)).toMatchObject({
    kind: "message",
    provider: "cloud",
    phoneNumberId: PHONE_NUMBER_ID,
    messageId: WAMID,
    type: "text",
    text: TEXT,
    from: { waId: "34611999888", phone: "+34611999888", name: "Dora Dead" },
  });
  expect(json).toContain('\n  "kind": "message"'); // pretty-printed
  expect(await row.getByRole("button", { name: /^Hide event/ }).getAttribute("aria-expanded")).toBe("true");

  // Someone else connects a Cloud API channel with that phone number ID (Meta, here the
  // simulator, confirms their token reads it); its page has no messages.
  await simulatorHas(stack, {
    cloud: [
      {
        phoneNumberId: PHONE_NUMBER_ID,
        wabaId: "102290129340777",
        displayNumber: "34600777888",
        accessToken: "EAAGm0PX4ZCpsBAE-dead-letter-token-Q9x2",
        appSecret: APP_SECRET,
      },
    ],
  });
  const owner = await (await browser.newContext()).newPage();
  pages.push(owner);
  owner.on("pageerror", (e) => pageErrors.push(`owner: ${e.message}`));
  await signIn(owner, "dora@shop.example", "Dora Owner", { webUrl: stack.webUrl, redirectTo: "/app" });
  await createWorkspace(owner, "Dora's Deli", "dora-s-deli");
  await connectCloudChannel(owner, stack.webUrl, "dora-s-deli", {
    name: "Deli counter",
    phoneNumberId: PHONE_NUMBER_ID,
    wabaId: "102290129340777",
    displayNumber: "+34 600 777 888",
    token: "EAAGm0PX4ZCpsBAE-dead-letter-token-Q9x2",
  });
  await owner.getByRole("heading", { level: 1, name: "Deli counter" }).waitFor();
  await owner.getByRole("heading", { name: "No messages yet" }).waitFor();
  await owner.getByRole("heading", { name: "No webhook events yet" }).waitFor();

  // Connecting the channel does not deliver it by itself: the dead letter is still there.
  await row.waitFor();

  // The admin replays it through the confirmation, which says what replay does.
  await row.getByRole("button", { name: `Replay message event cloud:msg:${WAMID}` }).click();
  const dialog = admin.getByRole("dialog", { name: "Replay this webhook event?" });
  await dialog.getByText(/back in the queue with a fresh set of attempts/).waitFor();
  await dialog.getByText(/recorded in the platform audit log/).waitFor();
  await dialog.getByRole("button", { name: "Replay event" }).click();
  await dialog.waitFor({ state: "hidden" });

  // It leaves the dead state: gone from the list, live.
  await rows.first().waitFor({ state: "detached" });
  await admin
    .getByRole("heading", { name: "No dead letters — every webhook event was processed." })
    .waitFor();
  await admin
    .getByRole("status")
    .filter({ hasText: `Replayed message event cloud:msg:${WAMID}` })
    .waitFor();

  // The owner's open channel page shows the message and its processed event, without a reload.
  const messages = owner.getByRole("list", { name: "Recent messages on Deli counter, newest first" });
  const message = messages.getByRole("listitem").filter({ hasText: TEXT });
  await message.waitFor();
  await message.getByText("Dora Dead (+34611999888)").waitFor();
  await message.getByText("Received").waitFor();
  const events = owner.getByRole("table", { name: "Webhook events for Deli counter, newest first" });
  await events.getByRole("row").filter({ hasText: "Processed" }).filter({ hasText: "message" }).waitFor();

  // A conflict over the number: the admin takes it back from the channel, which is disabled
  // (the owner's open page follows), with a reason both logs keep.
  const conflicts = admin.getByRole("form", { name: "Reassign a phone number ID" });
  await conflicts.getByLabel("Phone number ID").fill(PHONE_NUMBER_ID);
  await conflicts.getByLabel("Reason (kept in the audit logs)").fill("Meta support confirmed another owner");
  await conflicts.getByRole("button", { name: "Reassign number" }).click();
  await conflicts
    .getByRole("status")
    .filter({ hasText: `Phone number ID ${PHONE_NUMBER_ID} released from Deli counter` })
    .waitFor();
  await owner.getByRole("button", { name: "Enable channel" }).waitFor();

  // The replay is audited.
  await admin
    .getByRole("navigation", { name: "Platform admin" })
    .getByRole("link", { name: "Audit log" })
    .click();
  await admin.waitForURL(/\/admin\/audit/);
  const audit = admin.getByRole("list", { name: "Audit events, newest first" });
  const replayed = audit
    .getByRole("listitem")
    .filter({ hasText: `Replayed cloud webhook event cloud:msg:${WAMID}` });
  await replayed.getByText("Webhook replayed").waitFor();
  await replayed.getByText("root@platform.example").waitFor();

  expect(pageErrors).toEqual([]);
});
