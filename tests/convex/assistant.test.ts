/**
 * The assistant's turn engine with the offline answerer, driven by real inbound webhooks: a burst
 * gets one answer, replays none, a person silences it, hand-back restores it, handoffs wait for a
 * person, the throttle holds, consent keywords are recorded and confirmed.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import {
  HANDOFF_MESSAGE,
  handoffAwayMessage,
  OPT_IN_CONFIRMATION,
  OPT_OUT_CONFIRMATION,
} from "../../convex/model/assistant/turns";
import { setup, type T } from "./factories";
import { fakeProviders, type FakeProviders } from "./fake-providers";
import {
  postCloud,
  settle as drain,
  signedInAs,
  stubWhatsAppEnv,
  world,
  type World,
} from "./whatsapp-helpers";

const START = Date.parse("2024-06-03T16:00:00Z");

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(START);
  stubWhatsAppEnv();
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
  vi.unstubAllGlobals();
});

const KNOWLEDGE = [
  {
    title: "Opening hours",
    body: "We are open Monday to Saturday from 10:00 to 20:00, and closed on Sundays.",
    tags: ["hours", "schedule"],
  },
  {
    title: "Shipping costs",
    body: "Shipping within Spain costs 4.95 € and is free for orders over 50 €. Delivery takes 2–3 working days.",
    tags: ["delivery", "shipping"],
  },
  {
    title: "Returns",
    body: "You can return unworn shoes within 30 days for a full refund. Start a return at acme.test/returns.",
    tags: ["returns", "refund"],
  },
];

type Shop = { t: T; w: World; fake: FakeProviders; agent: ReturnType<T["withIdentity"]> };

async function shop(): Promise<Shop> {
  const { t } = setup();
  const fake = fakeProviders();
  const w = await world(t, { assistant: true });
  const agent = await signedInAs(t, w, "admin");
  for (const entry of KNOWLEDGE)
    await agent.mutation(api.assistant.saveEntry, { tenantId: w.tenantId, ...entry });
  return { t, w, fake, agent };
}

let counter = 0;
/** A customer's text message, as a signed Cloud API webhook, sent now. */
async function customerSays(t: T, text: string, options: { id?: string } = {}) {
  const id = options.id ?? `wamid.CUSTOMER${++counter}`;
  const body = {
    object: "whatsapp_business_account",
    entry: [
      {
        id: "102290129340398",
        changes: [
          {
            field: "messages",
            value: {
              messaging_product: "whatsapp",
              metadata: { display_phone_number: "15550783881", phone_number_id: "106540352242922" },
              contacts: [{ profile: { name: "Kerry Fisher" }, wa_id: "16505551234" }],
              messages: [
                {
                  from: "16505551234",
                  id,
                  timestamp: String(Math.floor(Date.now() / 1000)),
                  type: "text",
                  text: { body: text },
                },
              ],
            },
          },
        ],
      },
    ],
  };
  const response = await postCloud(t, JSON.stringify(body));
  expect(response.status).toBe(200);
  return id;
}

/** Lets time pass, running what was scheduled in it (processing, turns, deliveries). */
async function wait(ms: number) {
  await vi.advanceTimersByTimeAsync(ms);
}

const outbound = (t: T) =>
  t.run(async (ctx) =>
    (await ctx.db.query("messages").collect())
      .filter((m) => m.direction === "out")
      .map((m) => ({ origin: m.origin, text: m.text })),
  );
const conversation = (t: T) => t.run(async (ctx) => (await ctx.db.query("conversations").first())!);

describe("the assistant answers from the knowledge base", () => {
  it("gives a burst of three messages in two seconds one answer", async () => {
    const { t } = await shop();
    await customerSays(t, "hello");
    await wait(700);
    await customerSays(t, "quick question");
    await wait(700);
    await customerSays(t, "what are your opening hours?");
    await drain(t);
    expect(await outbound(t)).toEqual([{ origin: "assistant", text: KNOWLEDGE[0].body }]);
    const turns = await t.run((ctx) => ctx.db.query("assistantTurns").collect());
    expect(turns).toHaveLength(1);
    expect(turns[0]).toMatchObject({ engine: "offline", outcome: "answered" });
  });

  it("does not answer a replayed webhook a second time", async () => {
    const { t } = await shop();
    const id = await customerSays(t, "how much is shipping?");
    await drain(t);
    await customerSays(t, "how much is shipping?", { id });
    await drain(t);
    expect(await outbound(t)).toEqual([{ origin: "assistant", text: KNOWLEDGE[1].body }]);
  });

  it("stays silent once a person replies, and answers again after hand-back", async () => {
    const { t, w, agent } = await shop();
    await customerSays(t, "can I return shoes?");
    await drain(t);
    const c = await conversation(t);
    await agent.mutation(api.conversations.reply, {
      tenantId: w.tenantId,
      conversationId: c._id,
      text: "Hi, Owner here",
    });
    await customerSays(t, "what are your opening hours?");
    await drain(t);
    expect((await outbound(t)).map((m) => m.origin)).toEqual(["assistant", "agent"]);
    await agent.mutation(api.conversations.handBack, { tenantId: w.tenantId, conversationId: c._id });
    await customerSays(t, "what are your opening hours?");
    await drain(t);
    expect(await outbound(t)).toEqual([
      { origin: "assistant", text: KNOWLEDGE[2].body },
      { origin: "agent", text: "Hi, Owner here" },
      { origin: "assistant", text: KNOWLEDGE[0].body },
    ]);
  });

  it("keeps a rolling summary of its turns that the agent sees", async () => {
    const { t, w, agent } = await shop();
    await customerSays(t, "what are your opening hours?");
    await drain(t);
    await customerSays(t, "and can I return shoes?");
    await drain(t);
    await customerSays(t, "I want to talk to a human please");
    await drain(t);
    const c = await conversation(t);
    const view = await agent.query(api.conversations.get, { tenantId: w.tenantId, conversationId: c._id });
    expect(view.summary?.split("\n")).toEqual([
      "Asked “what are your opening hours?” → answered from “Opening hours”.",
      "Asked “and can I return shoes?” → answered from “Returns”.",
      "Asked “I want to talk to a human please” → handed to a person (asked for a person).",
    ]);
  });

  it("hands off when asked for a person, and waits for one", async () => {
    const { t, w, agent } = await shop();
    await customerSays(t, "I want to talk to a human please");
    await drain(t);
    expect(await outbound(t)).toEqual([{ origin: "assistant", text: HANDOFF_MESSAGE }]);
    const c = await conversation(t);
    expect(c).toMatchObject({
      state: "waiting",
      handoff: { summary: expect.stringContaining("talk to a human") },
    });
    // While waiting, the assistant does not answer.
    await customerSays(t, "what are your opening hours?");
    await drain(t);
    expect(await outbound(t)).toHaveLength(1);
    const counts = await agent.query(api.conversations.counts, { tenantId: w.tenantId });
    expect(counts).toMatchObject({ waiting: 1, unreadWaiting: 2 });
  });

  it("does not hand off again for a request a person already answered, after hand-back or close", async () => {
    const { t, w, agent } = await shop();
    await customerSays(t, "I want to talk to a human please");
    await drain(t);
    const c = await conversation(t);
    await agent.mutation(api.conversations.takeOver, { tenantId: w.tenantId, conversationId: c._id });
    await agent.mutation(api.conversations.reply, {
      tenantId: w.tenantId,
      conversationId: c._id,
      text: "Hi, Owner here: all sorted.",
    });
    await agent.mutation(api.conversations.handBack, { tenantId: w.tenantId, conversationId: c._id });
    await wait(1_000);
    await customerSays(t, "what are your opening hours?");
    await drain(t);
    expect((await outbound(t)).at(-1)).toEqual({ origin: "assistant", text: KNOWLEDGE[0].body });
    expect(await conversation(t)).toMatchObject({ state: "bot" });

    // Closed and reopened by the customer: the same.
    await agent.mutation(api.conversations.close, { tenantId: w.tenantId, conversationId: c._id });
    await wait(1_000);
    await customerSays(t, "how much is shipping?");
    await drain(t);
    expect((await outbound(t)).at(-1)).toEqual({ origin: "assistant", text: KNOWLEDGE[1].body });
    // A new request for a person still hands off.
    await customerSays(t, "let me speak to an agent");
    await drain(t);
    expect((await outbound(t)).at(-1)).toEqual({ origin: "assistant", text: HANDOFF_MESSAGE });
  });

  it("outside business hours, a handoff tells the customer when the team is back", async () => {
    const { t, w, agent } = await shop();
    // START is Monday 2024-06-03 16:00 UTC: 18:00 in Madrid, after hours.
    await t.run((ctx) => ctx.db.patch("tenants", w.tenantId, { timeZone: "Europe/Madrid" }));
    await agent.mutation(api.assistant.updateSettings, {
      tenantId: w.tenantId,
      changes: { businessHours: "Mon–Fri 9:00–17:30; Sat 10:00–14:00" },
    });
    await customerSays(t, "I want to talk to a human please");
    await drain(t);
    expect(await outbound(t)).toEqual([
      { origin: "assistant", text: handoffAwayMessage("tomorrow at 09:00") },
    ]);
    expect(await conversation(t)).toMatchObject({ state: "waiting" });
    // In hours, the usual message.
    await agent.mutation(api.assistant.updateSettings, {
      tenantId: w.tenantId,
      changes: { businessHours: "Mon–Fri 9:00–19:00" },
    });
    const c = await conversation(t);
    await agent.mutation(api.conversations.close, { tenantId: w.tenantId, conversationId: c._id });
    await wait(1_000);
    await customerSays(t, "can I speak to an agent?");
    await drain(t);
    expect((await outbound(t)).at(-1)).toEqual({ origin: "assistant", text: HANDOFF_MESSAGE });
  });

  it("hands off instead of guessing when the knowledge base has no answer", async () => {
    const { t } = await shop();
    await customerSays(t, "what is the weather on mars tomorrow");
    await drain(t);
    expect(await outbound(t)).toEqual([{ origin: "assistant", text: HANDOFF_MESSAGE }]);
    expect(await conversation(t)).toMatchObject({
      state: "waiting",
      handoff: { reason: "no answer in the knowledge base" },
    });
  });

  it("answers a flooding customer at most the throttle's number of times a minute, and keeps every message", async () => {
    const { t, w, agent } = await shop();
    await agent.mutation(api.assistant.updateSettings, {
      tenantId: w.tenantId,
      changes: { turnsPerMinute: 2 },
    });
    for (let i = 0; i < 5; i++) {
      await customerSays(t, "what are your opening hours?");
      await wait(2_000);
    }
    await drain(t);
    expect((await outbound(t)).length).toBe(2);
    const inbound = await t.run(async (ctx) =>
      (await ctx.db.query("messages").collect()).filter((m) => m.direction === "in"),
    );
    expect(inbound).toHaveLength(5);
  });

  it("records STOP and START, confirms each once, and starts no turn for them", async () => {
    const { t } = await shop();
    await customerSays(t, "STOP");
    await drain(t);
    await customerSays(t, "stop");
    await drain(t);
    expect(await outbound(t)).toEqual([{ origin: "system", text: OPT_OUT_CONFIRMATION }]);
    await customerSays(t, "START");
    await drain(t);
    expect((await outbound(t)).at(-1)).toEqual({ origin: "system", text: OPT_IN_CONFIRMATION });
    const history = await t.run((ctx) => ctx.db.query("consentEvents").collect());
    expect(history.map((e) => [e.kind, e.source, e.text])).toEqual([
      ["opt_out", "keyword", "STOP"],
      ["opt_in", "keyword", "START"],
    ]);
    expect(await t.run((ctx) => ctx.db.query("assistantTurns").collect())).toEqual([]);
  });

  it("is off when the tenant turns it off", async () => {
    const { t, w, agent } = await shop();
    await agent.mutation(api.assistant.updateSettings, { tenantId: w.tenantId, changes: { enabled: false } });
    await customerSays(t, "what are your opening hours?");
    await drain(t);
    expect(await outbound(t)).toEqual([]);
  });
});

describe("assistant settings", () => {
  it("validates and audits changes", async () => {
    const { t, w, agent } = await shop();
    for (const bad of [
      { turnsPerMinute: 0 },
      { name: " " },
      { languages: ["english!"] },
      { idleHandBackMinutes: -1 },
    ]) {
      await expect(
        agent.mutation(api.assistant.updateSettings, { tenantId: w.tenantId, changes: bad }),
      ).rejects.toThrow();
    }
    await agent.mutation(api.assistant.updateSettings, {
      tenantId: w.tenantId,
      changes: { name: "Ana", languages: ["es", "EN"] },
    });
    expect(await agent.query(api.assistant.settings, { tenantId: w.tenantId })).toMatchObject({
      name: "Ana",
      languages: ["es", "en"],
      modelConfigured: false,
      breaker: { state: "closed" },
    });
    const audit = await t.run((ctx) => ctx.db.query("auditEvents").collect());
    expect(audit.filter((e) => e.action === "assistant.settings_changed")).toHaveLength(1);
  });

  it("keeps knowledge entries per tenant, searchable", async () => {
    const { w, agent } = await shop();
    const found = await agent.query(api.assistant.knowledge, {
      tenantId: w.tenantId,
      search: "refund",
      paginationOpts: { numItems: 10, cursor: null },
    });
    expect(found.page.map((e) => e.title)).toEqual(["Returns"]);
    const id: Id<"knowledgeEntries"> = found.page[0].entryId;
    await agent.mutation(api.assistant.removeEntry, { tenantId: w.tenantId, entryId: id });
    const all = await agent.query(api.assistant.knowledge, {
      tenantId: w.tenantId,
      paginationOpts: { numItems: 10, cursor: null },
    });
    expect(all.page.map((e) => e.title).sort()).toEqual(["Opening hours", "Shipping costs"]);
  });
});
