/**
 * The assistant with a model: our local Convex server running this repo's convex/, the real
 * `openai` SDK talking to the local OpenAI server, and the WhatsApp simulator as Meta. A customer
 * writes from the simulator's phone; the answer reaches the phone. Covers tool calls, the fallback
 * model, the breaker opening and the offline answerer taking over, and token metering.
 */
import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { api } from "../../convex/_generated/api";
import type { Doc, Id, TableNames } from "../../convex/_generated/dataModel";
import { startOpenAIServer, type OpenAIServer } from "../../local/openai-server/server";
import { startWhatsAppSimulator, type WhatsAppSimulator } from "../../local/whatsapp-simulator/server";
import { removeDir, startServer, until, type TestServer } from "./harness";

const APP_SECRET = "assistant-app-secret";
const PHONE_NUMBER_ID = "106540352242922";
const ADMIN = "root@platform.test";

function actingAs(server: TestServer, email: string): ConvexHttpClient {
  const client = new ConvexHttpClient(server.url);
  (client as unknown as { setAdminAuth(key: string, identity: object): void }).setAdminAuth(server.adminKey, {
    subject: email,
    issuer: "https://idp.test",
    tokenIdentifier: `https://idp.test|${email}`,
    email,
    name: email.split("@")[0],
    emailVerified: true,
  });
  return client;
}

async function rows<T extends TableNames>(server: TestServer, table: T): Promise<Doc<T>[]> {
  const res = await fetch(`${server.url}/_local/tables/${table}?limit=10000`, {
    headers: { authorization: `Convex ${server.adminKey}` },
  });
  return ((await res.json()) as { documents: Doc<T>[] }).documents;
}

describe("the assistant with a model (real openai SDK, local OpenAI server)", () => {
  let server: TestServer;
  let sim: WhatsAppSimulator;
  let openai: OpenAIServer;
  let owner: ConvexHttpClient;
  let tenantId: Id<"tenants">;
  let user = 0;

  beforeAll(async () => {
    openai = await startOpenAIServer({ port: 0, apiKeys: ["local-key"] });
    sim = await startWhatsAppSimulator({
      config: {
        cloud: [
          {
            phoneNumberId: PHONE_NUMBER_ID,
            wabaId: "102290129340398",
            displayNumber: "15550783881",
            accessToken: "EAAG-local-token-0001",
            appSecret: APP_SECRET,
          },
        ],
      },
    });
    server = await startServer({
      env: {
        WHATSAPP_GRAPH_URL: sim.graphUrl,
        ALLOW_PRIVATE_PROVIDER_URLS: "true",
        WHATSAPP_APP_SECRET: APP_SECRET,
        CHANNEL_SECRETS_KEY: Buffer.alloc(32, 3).toString("base64"),
        APP_URL: "http://app.test",
        PLATFORM_ADMIN_EMAILS: ADMIN,
        OPENAI_API_KEY: "local-key",
        OPENAI_BASE_URL: openai.baseURL,
        OPENAI_TIMEOUT_MS: "5000",
      },
    });
    await actingAs(server, "admin@local").mutation(
      makeFunctionReference<"mutation">("billing:loadPublishedRates"),
      {},
    );
    owner = actingAs(server, "owner@acme.test");
    await owner.mutation(api.users.ensure, {});
    ({ tenantId } = await owner.mutation(api.tenants.create, {
      name: "Acme Shoes",
      currency: "EUR",
      timeZone: "Europe/Madrid",
      defaultCountry: "ES",
    }));
    const channelId = await owner.action(api.channels.create, {
      tenantId,
      channel: {
        kind: "cloud",
        name: "Acme main line",
        phoneNumberId: PHONE_NUMBER_ID,
        wabaId: "102290129340398",
        displayNumber: "+1 555-078-3881",
        accessToken: "EAAG-local-token-0001",
      },
    });
    sim.state.configure({
      cloud: [
        {
          phoneNumberId: PHONE_NUMBER_ID,
          wabaId: "102290129340398",
          displayNumber: "15550783881",
          accessToken: "EAAG-local-token-0001",
          appSecret: APP_SECRET,
          webhookUrl: `${server.siteUrl}/whatsapp/cloud`,
        },
      ],
    });
    expect(channelId).toBeTruthy();
    const root = actingAs(server, ADMIN);
    await root.mutation(api.users.ensure, {});
    await root.mutation(api.billing.topUp, { tenantId, amount: "20.00", reason: "Test credit" });
    await owner.mutation(api.assistant.saveEntry, {
      tenantId,
      title: "Opening hours",
      body: "We are open Monday to Saturday from 10:00 to 20:00. We are closed on Sundays.",
      tags: ["hours"],
    });
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await sim?.close();
    await openai?.close();
    if (server) removeDir(server.dataDir);
  });

  beforeEach(async () => {
    await openai.reset();
  });

  /** A new customer writes to the number from the simulator's phone; returns their number. */
  async function customerWrites(text: string): Promise<string> {
    const number = `3460000${String(++user).padStart(4, "0")}`;
    const res = await fetch(`${sim.url}/_sim/users/${number}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ to: PHONE_NUMBER_ID, type: "text", text, name: `Customer ${user}` }),
    });
    expect(res.status).toBeLessThan(300);
    return number;
  }

  /** The messages the business sent to `number`, as the simulator's phone shows them. */
  async function repliesTo(number: string, count = 1): Promise<string[]> {
    return await until(
      async () => {
        const state = (await (await fetch(`${sim.url}/_sim/state`)).json()) as {
          messages: { user: string; direction: string; text?: string }[];
        };
        return state.messages
          .filter((m) => m.user === number && m.direction === "out")
          .map((m) => m.text ?? "");
      },
      (out) => out.length >= count,
      30_000,
    );
  }

  async function lastTurn(): Promise<Doc<"assistantTurns">> {
    const turns = await rows(server, "assistantTurns");
    return turns.sort((a, b) => b.startedAt - a.startedAt)[0];
  }

  it("searches the knowledge base through a tool call, answers, and meters the tokens", async () => {
    const number = await customerWrites("When are you open on Saturday?");
    const [reply] = await repliesTo(number);
    expect(reply).toMatch(/Monday to Saturday from 10:00 to 20:00/);
    const requests = await openai.requests();
    expect(requests.map((r) => r.model)).toEqual(["gpt-4o-mini", "gpt-4o-mini"]);
    expect(JSON.stringify(requests[0].tools)).toContain("search_knowledge");
    expect(JSON.stringify(requests[1].messages)).toContain("We are open Monday to Saturday");
    const turn = await until(lastTurn, (t) => t?.finishedAt !== undefined);
    expect(turn).toMatchObject({ engine: "model", model: "gpt-4o-mini", outcome: "answered" });
    const usage = requests.reduce(
      (sum, r) => {
        const u = (r.response as { usage?: { prompt_tokens: number; completion_tokens: number } }).usage!;
        return { input: sum.input + u.prompt_tokens, output: sum.output + u.completion_tokens };
      },
      { input: 0, output: 0 },
    );
    expect(turn).toMatchObject({ inputTokens: usage.input, outputTokens: usage.output });
    const charges = (await rows(server, "ledgerEntries")).filter((e) => e.referenceKind === "assistant_turn");
    expect(charges).toHaveLength(1);
    expect(charges[0]).toMatchObject({ kind: "charge", key: `turn:${turn._id}`, referenceId: turn._id });
    expect(charges[0].amount).toBeLessThan(0);
  });

  it("gives the model the conversation's rolling summary on the next turn", async () => {
    const number = await customerWrites("When are you open on Saturday?");
    await repliesTo(number);
    await until(lastTurn, (t) => t?.finishedAt !== undefined);
    await openai.reset();
    const res = await fetch(`${sim.url}/_sim/users/${number}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ to: PHONE_NUMBER_ID, type: "text", text: "And on Sunday?" }),
    });
    expect(res.status).toBeLessThan(300);
    await repliesTo(number, 2);
    const [first] = await openai.requests();
    expect(JSON.stringify(first.messages)).toContain(
      "Earlier in this conversation: Asked “When are you open on Saturday?” → answered from “Opening hours”.",
    );
  });

  it("hands off through the model's tool when the customer asks for a person", async () => {
    const number = await customerWrites("I want to talk to a person");
    await repliesTo(number);
    const conversations = await rows(server, "conversations");
    const contact = (await rows(server, "contacts")).find((c) => c.phone === `+${number}`)!;
    expect(conversations.find((c) => c.contactId === contact._id)).toMatchObject({ state: "waiting" });
  });

  it("falls back to the fallback model when the first one fails", async () => {
    await openai.faults({ model: "gpt-4o-mini", fail: { status: 500, count: 5 } });
    const number = await customerWrites("When are you open on Saturday?");
    const [reply] = await repliesTo(number);
    expect(reply).toMatch(/Monday to Saturday/);
    expect(await lastTurn()).toMatchObject({ engine: "model", model: "gpt-4.1-mini" });
  });

  it("opens the breaker after repeated failures; the offline answerer takes over without calling the model", async () => {
    await openai.faults({ fail: { status: 503, count: 100 } });
    // Two turns with both models failing: four failures, the breaker opens.
    for (const question of ["When are you open on Saturday?", "What are your opening hours?"]) {
      const number = await customerWrites(question);
      const [reply] = await repliesTo(number);
      expect(reply).toMatch(/Monday to Saturday/);
      expect(await lastTurn()).toMatchObject({ engine: "offline", outcome: "answered" });
    }
    const settings = await owner.query(api.assistant.settings, { tenantId });
    expect(settings.breaker.state).toBe("open");
    const before = (await openai.requests()).length;
    const number = await customerWrites("opening hours?");
    await repliesTo(number);
    expect((await openai.requests()).length).toBe(before);
    expect(await lastTurn()).toMatchObject({ engine: "offline" });
  });
});
