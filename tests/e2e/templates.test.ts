// Message templates in a real browser against the production build, the local Convex server and
// the WhatsApp simulator (standing in for Meta, which approves submitted templates by itself
// after a moment: the autoApproveTemplatesMs knob). Ana writes a template whose lint fails as she
// types (bad name, a variable at the very end, no sample), fixes it while the preview follows,
// adds a quick reply, submits it and watches Meta's approval arrive on the page without a reload.
// A viewer reads templates but gets no editor; a WAHA number says it has none.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import {
  connectCloudChannel,
  createWorkspace,
  dumpOnFailure,
  signIn,
  simulatorCall,
  simulatorHas,
} from "./helpers";
import { launchChromium, startTestStack } from "./stack";

const APP_SECRET = "e2e-templates-app-secret";
const TOKEN = "EAAGm0PX4ZCpsBAE-e2e-templates-token-Qw3r";
const PHONE_NUMBER_ID = "106540352242977";
const WABA_ID = "102290129340377";

let stack: Awaited<ReturnType<typeof startTestStack>>;
let browser: Browser;

beforeAll(async () => {
  stack = await startTestStack({ WHATSAPP_APP_SECRET: APP_SECRET });
  browser = await launchChromium();
  await simulatorHas(stack, {
    cloud: [
      {
        phoneNumberId: PHONE_NUMBER_ID,
        wabaId: WABA_ID,
        displayNumber: "34600111277",
        accessToken: TOKEN,
        appSecret: APP_SECRET,
        webhookUrl: `${stack.convexSiteUrl}/whatsapp/cloud`,
      },
    ],
  });
  // Meta's review: approves what is submitted after two seconds, and tells Convex by webhook.
  await simulatorCall(stack, "/_sim/knobs", { autoApproveTemplatesMs: 2_000 });
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

it("writes a template, fails the lint, fixes it, submits it and sees Meta approve it live", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  dumpOnFailure(stack, page);

  const slug = "ana-s-shoes";
  await page.goto(`${stack.webUrl}/app`);
  await signIn(page, "ana@example.com", "Ana Almeida");
  await createWorkspace(page, "Ana's Shoes", slug);
  await connectCloudChannel(page, stack.webUrl, slug, {
    name: "Front desk",
    phoneNumberId: PHONE_NUMBER_ID,
    wabaId: WABA_ID,
    displayNumber: "+34 600 111 277",
    token: TOKEN,
  });

  await page.getByRole("navigation", { name: "Workspace" }).getByRole("link", { name: "Templates" }).click();
  await page.getByRole("heading", { level: 1, name: "Templates" }).waitFor();
  await page.getByRole("heading", { name: "No templates yet" }).waitFor();
  await page.getByRole("link", { name: "New template" }).first().click();
  await page.getByRole("heading", { level: 1, name: "New template" }).waitFor();

  // A first attempt: the lint answers as she types, and submitting is not possible.
  await page.getByLabel("Name", { exact: true }).fill("Order Shipped");
  await page
    .getByLabel("Body", { exact: true })
    .fill("Your order has shipped and arrives within three days, {{1}}");
  const lint = page.getByTestId("lint-results");
  await lint.getByText(/Template names may contain only lowercase letters/).waitFor();
  await lint.getByText("The body cannot end with a variable: add words after {{1}}").waitFor();
  await lint.getByText(/Give a sample value for \{\{1\}\}/).waitFor();
  const submit = page.getByRole("button", { name: "Submit for review" });
  expect(await submit.isDisabled()).toBe(true);

  // Fixing it: the problems go away one by one, and the preview shows the sample filled in.
  await page.getByLabel("Name", { exact: true }).fill("order_shipped");
  await page
    .getByLabel("Body", { exact: true })
    .fill("Hi {{1}}, your order has shipped and arrives within three days.");
  await page.getByLabel("Sample for {{1}}").fill("Ana");
  await page.getByLabel("Footer", { exact: true }).fill("Ana's Shoes");
  await page.getByRole("button", { name: "Add quick reply button" }).click();
  await page.getByLabel("Label", { exact: true }).fill("Track my order");
  await page.getByText("No problems found: ready to submit.").waitFor();
  const preview = page.getByTestId("template-preview");
  await preview.getByText("Hi Ana, your order has shipped and arrives within three days.").waitFor();
  await preview.getByText("Track my order").waitFor();
  expect(await submit.isDisabled()).toBe(false);

  await submit.click();
  await page.waitForURL(new RegExp(`/t/${slug}/templates/(?!new$)[a-z0-9]+$`));
  const status = page.getByTestId("template-status");
  // In review first, then approved by Meta's webhook, with no reload.
  await status.getByText("Approved").waitFor({ timeout: 15_000 });
  const sim = await simulatorCall<{ templates: { name: string; status: string; components: unknown[] }[] }>(
    stack,
    "/_sim/state",
  );
  expect(sim.templates.find((t) => t.name === "order_shipped")).toMatchObject({ status: "APPROVED" });

  // The list shows it approved; the audit log has the submission and Meta's decision.
  await page.getByRole("link", { name: /Templates of Front desk/ }).click();
  const row = page.getByRole("row", { name: /order_shipped/ });
  await row.getByText("Approved").waitFor();
  await page.getByRole("navigation", { name: "Workspace" }).getByRole("link", { name: "Audit log" }).click();
  await page.getByText("Submitted template order_shipped (en_US) for review as utility").waitFor();
  await page.getByText("Meta approved template order_shipped (en_US)").waitFor();

  expect(pageErrors).toEqual([]);
  await context.close();
});

it("fits a 390 px wide phone screen", async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  dumpOnFailure(stack, page);
  const slug = "bea-s-books";
  await page.goto(`${stack.webUrl}/app`);
  await signIn(page, "bea@example.com", "Bea Brito");
  await createWorkspace(page, "Bea's Books", slug);
  await page.goto(`${stack.webUrl}/t/${slug}/templates`);
  await page.getByRole("heading", { name: "No WhatsApp number connected yet" }).waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await context.close();
});
