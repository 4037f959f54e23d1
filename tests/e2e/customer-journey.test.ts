// The whole customer path in two real browsers: a customer on the WhatsApp simulator's phone page
// asks a question the workspace's knowledge base answers, and the assistant (the offline answerer
// of the embedded default) answers it; the customer then asks for a person, and Bea, an agent with
// the inbox open, sees the conversation arrive under "Waiting for a person" without a reload,
// with the assistant's handoff summary. She takes over and replies, the customer sees her reply
// on the phone, and the assistant stays quiet while she has it; once she hands back it answers
// again.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { connectCloudChannel, createWorkspace, dumpOnFailure, signIn, simulatorHas } from "./helpers";
import { launchChromium, startTestStack } from "./stack";

const APP_SECRET = "e2e-journey-app-secret";
const PHONE_NUMBER_ID = "106540352242933";
const WABA_ID = "102290129340411";
const TOKEN = "EAAGm0PX4ZCpsBAE-e2e-journey-token-Zx9c";
const SLUG = "lumen-lamps";
const CUSTOMER = "351912000111";
const HOURS_ANSWER = "We are open Monday to Saturday from 10:00 to 19:00, and closed on Sundays.";
const HANDOFF_MESSAGE = "I'm passing you to a member of our team";

let stack: Awaited<ReturnType<typeof startTestStack>>;
let browser: Browser;
let bea: Page;
let phone: Page;

beforeAll(async () => {
  stack = await startTestStack({ WHATSAPP_APP_SECRET: APP_SECRET });
  browser = await launchChromium();
  await simulatorHas(stack, {
    cloud: [
      {
        phoneNumberId: PHONE_NUMBER_ID,
        wabaId: WABA_ID,
        displayNumber: "351210000222",
        accessToken: TOKEN,
        appSecret: APP_SECRET,
        webhookUrl: `${stack.convexSiteUrl}/whatsapp/cloud`,
      },
    ],
  });
  bea = await (await browser.newContext()).newPage();
  phone = await (await browser.newContext({ viewport: { width: 1100, height: 900 } })).newPage();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** The bubbles on the simulator's phone, in order, as the customer sees them. */
async function phoneBubbles(): Promise<string[]> {
  return phone.locator("#messages .bubble").allInnerTexts();
}

async function customerSends(text: string) {
  await phone.getByLabel("Message", { exact: true }).fill(text);
  await phone.getByRole("button", { name: "Send" }).click();
}

it("a customer's question is answered from the knowledge base, a person takes over on request, and the customer sees both", async () => {
  dumpOnFailure(stack, [bea, phone]);

  // Bea sets up her workspace: a number, and one knowledge entry.
  await bea.goto(`${stack.webUrl}/app`);
  await signIn(bea, "bea@example.com", "Bea Brandão");
  await createWorkspace(bea, "Lumen Lamps", SLUG);
  await connectCloudChannel(bea, stack.webUrl, SLUG, {
    name: "Shop",
    phoneNumberId: PHONE_NUMBER_ID,
    wabaId: WABA_ID,
    displayNumber: "+351 210 000 222",
    token: TOKEN,
  });
  await bea.goto(`${stack.webUrl}/t/${SLUG}/assistant/knowledge`);
  await bea.getByRole("button", { name: "New entry" }).click();
  const form = bea.getByRole("form", { name: "New knowledge entry" });
  await form.getByLabel("Title").fill("Opening hours");
  await form.getByLabel("Answer").fill(HOURS_ANSWER);
  await form.getByLabel("Tags").fill("hours, open, schedule");
  await form.getByRole("button", { name: "Add entry" }).click();
  await bea.getByRole("status").filter({ hasText: "Added “Opening hours”" }).waitFor();

  // Bea keeps the inbox open on the tab of conversations waiting for a person.
  await bea.goto(`${stack.webUrl}/t/${SLUG}/inbox`);
  await bea.getByRole("link", { name: "Waiting for a person" }).click();
  await bea.getByRole("heading", { name: "Nobody is waiting for a person" }).waitFor();

  // The customer opens the simulator's phone and writes to the shop's number.
  await phone.goto(stack.simulatorUrl!);
  await phone.getByLabel("New user's number").fill(CUSTOMER);
  await phone.getByLabel("New user's name").fill("Rui Costa");
  await phone.getByRole("button", { name: "Use this number" }).click();
  await expect.poll(() => phone.getByLabel("You are (simulated user)").inputValue()).toBe(CUSTOMER);
  await phone.getByLabel("Chatting with (business number)").selectOption(PHONE_NUMBER_ID);
  await customerSends("What time do you open on saturday?");

  // The assistant answers from the knowledge base, on the customer's phone.
  await expect.poll(phoneBubbles, { timeout: 20_000 }).toContainEqual(expect.stringContaining(HOURS_ANSWER));

  // The customer asks for a person: the assistant says so and hands off.
  await customerSends("Thanks. Can I talk to a human please? It's about a broken lamp.");
  await expect
    .poll(phoneBubbles, { timeout: 20_000 })
    .toContainEqual(expect.stringContaining(HANDOFF_MESSAGE));

  // Bea sees it arrive live, with why and what the customer wants.
  const waiting = bea.getByRole("list", { name: /^Conversations: Waiting for a person/ });
  const row = waiting.getByRole("link", { name: /Rui Costa/ });
  await row.waitFor({ timeout: 20_000 });
  await row.click();
  await bea.getByRole("heading", { level: 2, name: "Rui Costa" }).waitFor();
  const handoff = bea.getByRole("region", { name: "Handoff from the assistant" });
  await handoff.getByText(/asked for a person/).waitFor();
  await handoff.getByText(/broken lamp/).waitFor();

  // She takes over and replies; the customer sees her reply.
  const header = bea.getByRole("region", { name: "Conversation with Rui Costa" });
  await header.getByRole("button", { name: "Take over" }).click();
  await header.getByText("Human", { exact: true }).waitFor();
  const reply = bea.getByRole("combobox", { name: "Reply" });
  await reply.fill("Hi Rui, I'm Bea. Sorry about the lamp: send me a photo and I'll arrange a new one.");
  await reply.press("Enter");
  await expect
    .poll(phoneBubbles, { timeout: 20_000 })
    .toContainEqual(expect.stringContaining("I'm Bea. Sorry about the lamp"));

  // While Bea has it, the assistant stays quiet, even for a question it could answer.
  const before = (await phoneBubbles()).length;
  await customerSends("And when are you open?");
  await bea
    .getByRole("list", { name: "Messages with Rui Costa, oldest first" })
    .getByRole("listitem")
    .filter({ hasText: "And when are you open?" })
    .waitFor();
  // Longer than the assistant's quiet period (1.5 s) and a turn: nothing came back.
  await bea.waitForTimeout(4_000);
  expect((await phoneBubbles()).length).toBe(before + 1);

  // Handing back lets the assistant answer the next question.
  await header.getByRole("button", { name: "Hand back to assistant" }).click();
  await header.getByText("Bot", { exact: true }).waitFor();
  await customerSends("What are your opening hours?");
  await expect
    .poll(async () => (await phoneBubbles()).filter((b) => b.includes(HOURS_ANSWER)).length, {
      timeout: 20_000,
    })
    .toBe(2);
});
