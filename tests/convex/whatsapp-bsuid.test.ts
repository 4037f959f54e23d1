/**
 * Business-scoped user ids (BSUIDs): since 2026 Cloud API webhooks name a person by `user_id`
 * beside the phone number, or instead of it when they chose a username. The contact stays one
 * person across both forms (the aliases link them), replies go to the BSUID when there is no
 * number, and statuses and marketing preferences that carry only the BSUID still find their
 * message and contact.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { bsuidCountry, isBusinessScopedUserId } from "../../convex/shared/bsuid";
import { setup, type T } from "./factories";
import { fakeProviders } from "./fake-providers";
import {
  cloud,
  OUT_WAMID,
  outbound,
  postCloud,
  rows,
  settle,
  signedInAs,
  stubWhatsAppEnv,
  world,
} from "./whatsapp-helpers";

const BSUID = "US.13491208655302741918";

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2024-06-03T16:05:00Z"));
  stubWhatsAppEnv();
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
  vi.unstubAllGlobals();
});

/** The contacts still standing (a merged one points at its survivor until its history has moved). */
async function people(t: T) {
  return (await rows(t, "contacts")).filter((c) => !c.mergedInto);
}

async function aliasesOf(t: T, contactId: Id<"contacts">) {
  return (await rows(t, "contactAliases"))
    .filter((a) => a.contactId === contactId)
    .map((a) => `${a.kind}:${a.value}`)
    .sort();
}

describe("the BSUID shape", () => {
  it("tells a BSUID from a phone number and reads its country", () => {
    expect(isBusinessScopedUserId(BSUID)).toBe(true);
    expect(isBusinessScopedUserId("US.ENT.11815799212886844830")).toBe(true);
    expect(isBusinessScopedUserId("16505551234")).toBe(false);
    expect(isBusinessScopedUserId("+1 650 555 1234")).toBe(false);
    expect(isBusinessScopedUserId("us.123")).toBe(false);
    expect(bsuidCountry("BR.1502576394655843")).toBe("BR");
    expect(bsuidCountry("16505551234")).toBeNull();
  });
});

describe("one person across phone and BSUID", () => {
  it("keeps a person seen by phone, then by phone and BSUID, then by BSUID alone as one contact", async () => {
    const { t } = setup({ transactionLimits: true });
    await world(t);
    for (const name of ["message-text", "bsuid-message-with-phone", "bsuid-message-only"]) {
      expect((await postCloud(t, cloud(name))).status, name).toBe(200);
      await settle(t);
    }
    const [kerry, ...others] = await people(t);
    expect(others).toEqual([]);
    expect(kerry).toMatchObject({ name: "Kerry Fisher", phone: "+16505551234" });
    expect(await aliasesOf(t, kerry._id)).toEqual([
      `bsuid:${BSUID}`,
      "phone:+16505551234",
      "wa_id:16505551234",
    ]);
    const conversations = await rows(t, "conversations");
    expect(conversations).toHaveLength(1);
    const inbound = (await rows(t, "messages")).filter((m) => m.direction === "in");
    expect(inbound.map((m) => [m.contactId, m.conversationId, m.text])).toEqual([
      [kerry._id, conversations[0]._id, "Hi, do you have these shoes in size 42?"],
      [kerry._id, conversations[0]._id, "Any news about my order?"],
      [kerry._id, conversations[0]._id, "I changed my mind: size 43, please"],
    ]);
  });

  it("merges a person first seen by BSUID alone once a webhook carries their BSUID and phone", async () => {
    const { t } = setup({ transactionLimits: true });
    const w = await world(t);
    await postCloud(t, cloud("bsuid-message-only")); // number hidden: a contact with the BSUID only
    await settle(t);
    await postCloud(t, cloud("message-text")); // an older-style webhook: the phone only
    await settle(t);
    expect(await people(t)).toHaveLength(2);
    const byBsuid = (await people(t)).find((c) => !c.phone)!;
    const byPhone = (await people(t)).find((c) => c.phone)!;
    expect(await aliasesOf(t, byBsuid._id)).toEqual([`bsuid:${BSUID}`]);

    await postCloud(t, cloud("bsuid-message-with-phone")); // both: the link
    await settle(t);
    const [kerry, ...others] = await people(t);
    expect(others).toEqual([]);
    // The contact whose first message is older (the phone one: 16:00 against 16:02) survives.
    expect(kerry._id).toBe(byPhone._id);
    expect(kerry).toMatchObject({ name: "Kerry Fisher", phone: "+16505551234" });
    expect(await aliasesOf(t, kerry._id)).toEqual([
      `bsuid:${BSUID}`,
      "phone:+16505551234",
      "wa_id:16505551234",
    ]);
    expect(await rows(t, "contacts")).toHaveLength(1); // the merged one is gone once its history moved
    const conversations = await rows(t, "conversations");
    expect(conversations.map((c) => c.contactId)).toEqual([kerry._id]);
    expect((await rows(t, "messages")).every((m) => m.contactId === kerry._id)).toBe(true);
    expect((await rows(t, "messages")).filter((m) => m.conversationId === conversations[0]._id)).toHaveLength(
      3,
    );
    // The contact page lists the BSUID with the other identifiers.
    const agent = await signedInAs(t, w, "agent");
    const page = await agent.query(api.contacts.get, { tenantId: w.tenantId, contactId: kerry._id });
    expect(page.aliases.map((a) => a.kind).sort()).toEqual(["bsuid", "phone", "wa_id"]);
  });

  it("keeps a person known only by a username and BSUID, named by the username", async () => {
    const { t } = setup();
    await world(t);
    await postCloud(t, cloud("bsuid-message-username-only"));
    await settle(t);
    const [owl] = await people(t);
    expect(owl).toMatchObject({ name: "@night.owl" });
    expect(owl.phone).toBeUndefined();
    expect(await aliasesOf(t, owl._id)).toEqual(["bsuid:BR.1502576394655843"]);
  });

  it("refuses a message that names its sender by neither phone nor BSUID, storing nothing", async () => {
    const { t } = setup();
    await world(t);
    const body = JSON.parse(cloud("bsuid-message-only"));
    delete body.entry[0].changes[0].value.messages[0].from_user_id;
    const response = await postCloud(t, JSON.stringify(body));
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/messages\[0\]\.from \(or from_user_id\) is missing/);
    expect(await rows(t, "webhookEvents")).toEqual([]);
  });
});

describe("replies, statuses and preferences by BSUID", () => {
  it("sends a reply to a person without a number to their BSUID as `recipient`, and to the phone when known", async () => {
    const { t } = setup();
    const fake = fakeProviders();
    const w = await world(t);
    const agent = await signedInAs(t, w, "agent");
    await postCloud(t, cloud("bsuid-message-username-only"));
    await settle(t);
    const [owlConversation] = await rows(t, "conversations");
    const id = await agent.mutation(api.conversations.reply, {
      tenantId: w.tenantId,
      conversationId: owlConversation._id,
      text: "Sim, entregamos!",
    });
    await settle(t);
    expect(fake.sent).toHaveLength(1);
    expect(fake.sent[0].body).toMatchObject({
      messaging_product: "whatsapp",
      recipient_type: "individual",
      recipient: "BR.1502576394655843",
      type: "text",
      text: { body: "Sim, entregamos!" },
    });
    expect(fake.sent[0].body).not.toHaveProperty("to");
    expect(await t.run((ctx) => ctx.db.get("messages", id))).toMatchObject({
      status: "sending",
      providerMessageId: "wamid.FAKE1",
    });

    // A person whose number is known (here with a BSUID too) is written to at the number.
    await postCloud(t, cloud("bsuid-message-with-phone"));
    await settle(t);
    const kerryConversation = (await rows(t, "conversations")).find((c) => c._id !== owlConversation._id)!;
    await agent.mutation(api.conversations.reply, {
      tenantId: w.tenantId,
      conversationId: kerryConversation._id,
      text: "It ships tomorrow",
    });
    await settle(t);
    expect(fake.sent[1].body).toMatchObject({ to: "16505551234", text: { body: "It ships tomorrow" } });
    expect(fake.sent[1].body).not.toHaveProperty("recipient");
  });

  it("applies a status that names the recipient by BSUID alone to the message", async () => {
    const { t } = setup();
    const w = await world(t);
    const id = await outbound(t, w, {
      providerMessageId: "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA",
    });
    expect((await postCloud(t, cloud("bsuid-status-delivered"))).status).toBe(200);
    await settle(t);
    expect(await t.run((ctx) => ctx.db.get("messages", id))).toMatchObject({ status: "delivered" });
    expect((await rows(t, "webhookEvents")).map((r) => r.state)).toEqual(["done"]);
  });

  it("records a marketing stop that names the person by BSUID alone on the contact known by phone", async () => {
    const { t } = setup();
    const w = await world(t);
    await postCloud(t, cloud("bsuid-message-with-phone"));
    await settle(t);
    await postCloud(t, cloud("bsuid-user-preferences-stop"));
    await settle(t);
    const [kerry, ...others] = await people(t);
    expect(others).toEqual([]);
    const consent = await t.run((ctx) => ctx.db.query("consentEvents").collect());
    expect(consent).toMatchObject([
      {
        tenantId: w.tenantId,
        contactId: kerry._id,
        kind: "opt_out",
        source: "user_preferences",
        scope: "marketing",
      },
    ]);
  });

  it("prices a message to a person without a number by the country of their BSUID", async () => {
    vi.setSystemTime(new Date("2026-08-15T12:00:00Z")); // a date the seeded rate card covers
    const { t } = setup();
    await t.mutation(internal.billing.seedRates, {});
    const w = await world(t);
    await t.run(async (ctx) => {
      const contactId = await ctx.db.insert("contacts", { tenantId: w.tenantId, createdAt: 1 });
      await ctx.db.insert("contactAliases", {
        tenantId: w.tenantId,
        kind: "bsuid",
        value: "BR.1502576394655843",
        contactId,
      });
      const conversationId = await ctx.db.insert("conversations", {
        tenantId: w.tenantId,
        channelId: w.cloudChannelId,
        contactId,
        lastMessageAt: 1,
      });
      await ctx.db.insert("messages", {
        tenantId: w.tenantId,
        channelId: w.cloudChannelId,
        conversationId,
        contactId,
        direction: "out",
        providerMessageId: OUT_WAMID,
        type: "template",
        status: "sending",
        statusAt: 1,
        createdAt: 1,
      });
    });
    // The marketing status of the fixture, moved to August 2026.
    const august = Date.parse("2026-08-15T10:00:00Z") / 1000;
    await postCloud(t, cloud("status-delivered").replace(/"timestamp": "\d+"/, `"timestamp": "${august}"`));
    await settle(t);
    expect(await t.mutation(internal.billing.settlePending, {})).toMatchObject({ settled: 1, charged: 1 });
    const [charge] = await t.run((ctx) => ctx.db.query("ledgerEntries").collect());
    expect(charge).toMatchObject({ kind: "charge", detail: { category: "marketing", country: "BR" } });
  });
});
