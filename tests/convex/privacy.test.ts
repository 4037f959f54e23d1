/**
 * Export and erasure (docs/decisions/024-export-and-erasure.md): a contact with messages, a
 * conversation with the assistant's summary and turns, consent, a campaign, imports, webhook
 * events, a dead letter, emails and audit entries is exported (everything is in the file) and then
 * erased: afterwards no document in any table holds their number, name or words, while another
 * customer's data is untouched, and their opt-out still stands when they come back.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { writeContacts } from "../../convex/model/contactImport";
import schema from "../../convex/schema";
import { expectCode, setup, type T } from "./factories";
import { cloud, postCloud, settle, stubWhatsAppEnv, world, type World } from "./whatsapp-helpers";

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2024-06-03T16:00:00Z"));
  stubWhatsAppEnv();
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

const PHONE = "+16505551234";
const NAME = "Kerry Fisher";
const TEXTS = [
  "Hi, do you have these shoes in size 42?",
  "Any news about my order?",
  "Your size 42 pair ships on Tuesday",
  "Kerry wants the red pair, order 4471",
  "Where is order 4471 now?",
];
const SECRETS = [PHONE, "16505551234", NAME, "US.13491208655302741918", "peanut allergy", ...TEXTS];

/** Another customer, who must keep everything. */
function otherPerson(): string {
  return cloud("message-text")
    .replaceAll("16505551234", "34600999888")
    .replace("Kerry Fisher", "Otto Keep")
    .replace("Hi, do you have these shoes in size 42?", "Otto's own question")
    .replace("TEXT001", "OTTO001");
}

async function everyDocument(t: T): Promise<{ table: string; json: string }[]> {
  return await t.run(async (ctx) => {
    const out: { table: string; json: string }[] = [];
    for (const table of Object.keys(schema.tables)) {
      for (const doc of await ctx.db.query(table as keyof typeof schema.tables).collect()) {
        out.push({ table, json: JSON.stringify(doc) });
      }
    }
    return out;
  });
}

type Seeded = {
  w: World;
  owner: ReturnType<ReturnType<typeof setup>["as"]>;
  contactId: Id<"contacts">;
  otherId: Id<"contacts">;
  conversationId: Id<"conversations">;
  mediaId: Id<"_storage">;
  importFileId: Id<"_storage">;
  campaignId: Id<"campaigns">;
  outboundId: Id<"messages">;
};

async function seed(t: T, as: ReturnType<typeof setup>["as"]): Promise<Seeded> {
  const w = await world(t);
  await t.run(async (ctx) => {
    await ctx.db.insert("memberships", {
      tenantId: w.tenantId,
      userId: w.userId,
      role: "owner",
      createdAt: 1,
    });
  });
  const owner = as("owner@acme.test", { name: "Owner" });

  // Two messages from the person (one names their business-scoped id), and one from someone else.
  expect((await postCloud(t, cloud("message-text"))).status).toBe(200);
  expect((await postCloud(t, cloud("bsuid-message-with-phone"))).status).toBe(200);
  expect((await postCloud(t, otherPerson())).status).toBe(200);
  await settle(t);

  const ids = await t.run(async (ctx) => {
    const alias = await ctx.db
      .query("contactAliases")
      .withIndex("by_tenant_kind_value", (q) =>
        q.eq("tenantId", w.tenantId).eq("kind", "phone").eq("value", PHONE),
      )
      .first();
    const other = await ctx.db
      .query("contactAliases")
      .withIndex("by_tenant_kind_value", (q) =>
        q.eq("tenantId", w.tenantId).eq("kind", "phone").eq("value", "+34600999888"),
      )
      .first();
    const contactId = alias!.contactId;
    const conversation = (await ctx.db
      .query("conversations")
      .withIndex("by_contact", (q) => q.eq("contactId", contactId))
      .first())!;
    // The assistant's memory: a summary, a handoff note and a turn.
    await ctx.db.patch("conversations", conversation._id, {
      summary: "Kerry wants the red pair, order 4471",
      handoff: { reason: "asked for a person", summary: "Where is order 4471 now?", at: 2 },
    });
    await ctx.db.insert("assistantTurns", {
      tenantId: w.tenantId,
      conversationId: conversation._id,
      startedAt: 3,
      asked: "Where is order 4471 now?",
      outcome: "answered",
    });
    // An outbound reply with a stored media file, and a ledger entry for it.
    const mediaId = await ctx.storage.store(new Blob(["photo of the shoes"]));
    const outboundId = await ctx.db.insert("messages", {
      tenantId: w.tenantId,
      channelId: w.cloudChannelId,
      conversationId: conversation._id,
      contactId,
      direction: "out",
      type: "image",
      text: "Your size 42 pair ships on Tuesday",
      content: { storageId: mediaId, mimeType: "image/jpeg" },
      status: "delivered",
      statusAt: 4,
      origin: "agent",
      template: undefined,
      createdAt: 4,
    });
    await ctx.db.insert("ledgerEntries", {
      tenantId: w.tenantId,
      seq: 0,
      kind: "charge",
      amount: -1000,
      reservedChange: 0,
      balanceAfter: -1000,
      reservedAfter: 0,
      key: `charge:${outboundId}`,
      referenceKind: "message",
      referenceId: outboundId,
      actor: { kind: "system", name: "settlement" },
      at: 5,
    });
    // A campaign that went to them.
    const templateId = await ctx.db.insert("templates", {
      tenantId: w.tenantId,
      channelId: w.cloudChannelId,
      name: "order_update",
      language: "en",
      category: "UTILITY",
      status: "APPROVED",
      updatedAt: 1,
    });
    const campaignId = await ctx.db.insert("campaigns", {
      tenantId: w.tenantId,
      channelId: w.cloudChannelId,
      name: "June orders",
      templateId,
      template: { name: "order_update", language: "en", category: "UTILITY" },
      variables: [{ source: "name" }],
      audience: { kind: "contacts", contactIds: [contactId] },
      state: "completed",
      createdBy: w.userId,
      createdAt: 1,
      frozen: 1,
      batches: 1,
    });
    await ctx.db.insert("campaignRecipients", {
      tenantId: w.tenantId,
      campaignId,
      contactId,
      state: "delivered",
      dueAt: 1,
      messageId: outboundId,
      parameters: [NAME],
      shard: 0,
      updatedAt: 1,
    });
    await ctx.db.insert("campaignCounters", {
      campaignId,
      shard: 0,
      counts: { pending: 0, queued: 0, sent: 0, delivered: 1, read: 0, failed: 0, skipped: 0, unknown: 0 },
    });
    // Imports: a finished one (file, sample, an error row) and a running one with them waiting.
    const importFileId = await ctx.storage.store(
      new Blob([`name,phone\n${NAME},${PHONE}\nOtto Keep,+34600999888\n`]),
    );
    const done = await ctx.db.insert("contactImports", {
      tenantId: w.tenantId,
      createdBy: w.userId,
      fileName: "june.csv",
      storageId: importFileId,
      status: "done",
      sample: [
        [NAME, PHONE],
        ["Otto Keep", "+34600999888"],
      ],
      chunksDone: 1,
      contactsDone: 2,
      created: 0,
      merged: 2,
      duplicatesInFile: 0,
      errorCount: 1,
      createdAt: 1,
    });
    await ctx.db.insert("contactImportErrors", {
      importId: done,
      row: 4,
      reason: `${PHONE} appears twice`,
    });
    const running = await ctx.db.insert("contactImports", {
      tenantId: w.tenantId,
      createdBy: w.userId,
      fileName: "july.csv",
      status: "importing",
      chunksDone: 0,
      contactsDone: 0,
      created: 0,
      merged: 0,
      duplicatesInFile: 0,
      errorCount: 0,
      createdAt: 2,
    });
    await ctx.db.insert("contactImportChunks", {
      importId: running,
      index: 0,
      contacts: [
        { name: NAME, phone: PHONE },
        { name: "Otto Keep", phone: "+34600999888" },
      ],
    });
    // An email that mentions them, and a dead letter naming their number.
    await ctx.db.insert("emails", {
      tenantId: w.tenantId,
      to: "owner@acme.test",
      subject: `Handoff: ${NAME}`,
      text: `${NAME} (${PHONE}) asked for a person.`,
      kind: "handoff",
      provider: "outbox",
      status: "stored",
      createdAt: 6,
    });
    const events = await ctx.db.query("webhookEvents").collect();
    const theirs = events.find((e) => JSON.stringify(e.event).includes("16505551234"))!;
    await ctx.db.insert("webhookEvents", {
      ...theirs,
      _id: undefined,
      _creationTime: undefined,
      dedupeKey: "dead-1",
      state: "dead",
      lastError: "boom",
    } as never);
    return {
      contactId,
      otherId: other!.contactId,
      conversationId: conversation._id,
      mediaId,
      importFileId,
      campaignId,
      outboundId,
    };
  });
  // An opt-out and an edit by a person (audited with the name), custom field with a note.
  await owner.mutation(api.contacts.setConsent, {
    tenantId: w.tenantId,
    contactId: ids.contactId,
    kind: "opt_out",
  });
  await owner.mutation(api.contacts.update, {
    tenantId: w.tenantId,
    contactId: ids.contactId,
    name: NAME,
    tags: ["vip"],
    fields: [{ key: "Notes", value: "peanut allergy" }],
  });
  return { w, owner, ...ids };
}

describe("contact export", () => {
  it("holds the contact, identifiers, consent, conversation, messages, memory, campaigns and ledger", async () => {
    const { t, as } = setup();
    const s = await seed(t, as);
    const jobId = await s.owner.mutation(api.privacy.exportContact, {
      tenantId: s.w.tenantId,
      contactId: s.contactId,
    });
    await settle(t);
    const job = await s.owner.query(api.privacy.job, { tenantId: s.w.tenantId, jobId });
    expect(job?.state, job?.error ?? "").toBe("done");
    expect(job?.expiresAt).toBeGreaterThan(Date.now());
    const { url } = await s.owner.mutation(api.privacy.download, { tenantId: s.w.tenantId, jobId });
    expect(url).toBeTruthy();
    const file = await t.run(async (ctx) => {
      const row = await ctx.db.get("privacyJobs", jobId);
      return await (await ctx.storage.get(row!.storageId!))!.text();
    });
    const data = JSON.parse(file);
    expect(data.format).toBe("switchboard.export/1");
    expect(data.contact.name).toBe(NAME);
    expect(data.contact.phone).toBe(PHONE);
    expect(data.contact.aliases.map((a: { value: string }) => a.value)).toEqual(
      expect.arrayContaining([PHONE, "16505551234", "US.13491208655302741918"]),
    );
    expect(data.consent.map((e: { kind: string }) => e.kind)).toEqual(["opt_out"]);
    expect(data.conversations).toHaveLength(1);
    expect(data.conversations[0].summary).toBe("Kerry wants the red pair, order 4471");
    expect(data.messages.map((m: { text?: string }) => m.text)).toEqual(
      expect.arrayContaining([TEXTS[0], TEXTS[1], TEXTS[2]]),
    );
    expect(data.assistantTurns.map((x: { asked: string }) => x.asked)).toEqual(["Where is order 4471 now?"]);
    expect(data.campaigns).toHaveLength(1);
    expect(data.campaigns[0].campaign.name).toBe("June orders");
    expect(data.ledger.map((e: { referenceId: string }) => e.referenceId)).toEqual([s.outboundId]);
    // Nothing of the other customer.
    expect(file).not.toContain("Otto");

    // Only the workspace's admins can have it; it expires and the cron deletes it with its file.
    await t.run(async (ctx) => {
      const uid = await ctx.db.insert("users", {
        tokenIdentifier: "https://idp.test|ann@acme.test",
        email: "ann@acme.test",
        name: "Ann",
        isPlatformAdmin: false,
        createdAt: 1,
        lastSeenAt: 1,
      });
      await ctx.db.insert("memberships", {
        tenantId: s.w.tenantId,
        userId: uid,
        role: "agent",
        createdAt: 1,
      });
    });
    await expectCode(
      as("ann@acme.test").mutation(api.privacy.download, { tenantId: s.w.tenantId, jobId }),
      "FORBIDDEN",
    );
    const storageId = (await t.run((ctx) => ctx.db.get("privacyJobs", jobId)))!.storageId!;
    await t.mutation(internal.privacy.pruneExports, { now: Date.now() + 25 * 60 * 60 * 1000 });
    expect(await t.run((ctx) => ctx.db.get("privacyJobs", jobId))).toBeNull();
    expect(await t.run((ctx) => ctx.db.system.get("_storage", storageId))).toBeNull();
  });

  it("a workspace export holds every contact and the ledger, and shows its progress", async () => {
    const { t, as } = setup();
    const s = await seed(t, as);
    const jobId = await s.owner.mutation(api.privacy.exportTenant, { tenantId: s.w.tenantId });
    const before = await s.owner.query(api.privacy.job, { tenantId: s.w.tenantId, jobId });
    expect(before).toMatchObject({ state: "running", phasesDone: 0, phasesTotal: 8 });
    await settle(t);
    const job = await s.owner.query(api.privacy.job, { tenantId: s.w.tenantId, jobId });
    expect(job).toMatchObject({ state: "done", phasesDone: 8 });
    const file = await t.run(async (ctx) => {
      const row = await ctx.db.get("privacyJobs", jobId);
      return await (await ctx.storage.get(row!.storageId!))!.text();
    });
    const data = JSON.parse(file);
    expect(data.contacts.map((c: { name: string }) => c.name).sort()).toEqual([NAME, "Otto Keep"]);
    expect(data.messages.length).toBe(4);
    expect(data.ledger).toHaveLength(1);
    expect(data.campaignRecipients).toHaveLength(1);
  });
});

describe("contact erasure", () => {
  it("leaves no trace of the person in any table, keeps others' data, and their opt-out stands", async () => {
    const { t, as } = setup();
    const s = await seed(t, as);
    // An earlier export of them, which must go too.
    await s.owner.mutation(api.privacy.exportContact, { tenantId: s.w.tenantId, contactId: s.contactId });
    await settle(t);
    const before = await everyDocument(t);
    for (const secret of SECRETS) {
      expect(
        before.some((d) => d.json.includes(secret)),
        `seeded ${secret}`,
      ).toBe(true);
    }

    await expectCode(
      s.owner.mutation(api.privacy.eraseContact, {
        tenantId: s.w.tenantId,
        contactId: s.contactId,
        confirm: "Kerry",
      }),
      "INVALID",
      "confirm",
    );
    const { jobId, reference } = await s.owner.mutation(api.privacy.eraseContact, {
      tenantId: s.w.tenantId,
      contactId: s.contactId,
      confirm: " kerry fisher ",
    });
    await settle(t);
    const job = await s.owner.query(api.privacy.job, { tenantId: s.w.tenantId, jobId });
    expect(job, job?.error ?? "").toMatchObject({
      state: "done",
      reference,
      reason: "On the customer's request",
    });
    expect(job!.phasesDone).toBe(job!.phasesTotal);

    const after = await everyDocument(t);
    for (const secret of SECRETS) {
      const found = after.filter((d) => d.json.toLowerCase().includes(secret.toLowerCase()));
      expect(found, `${secret} is still in ${found.map((d) => d.table).join(", ")}`).toEqual([]);
    }
    // Files: the media and the finished import's upload.
    expect(await t.run((ctx) => ctx.db.system.get("_storage", s.mediaId))).toBeNull();
    expect(await t.run((ctx) => ctx.db.system.get("_storage", s.importFileId))).toBeNull();

    // The other customer is untouched: contact, message, webhook event, import row.
    const other = await t.run((ctx) => ctx.db.get("contacts", s.otherId));
    expect(other?.name).toBe("Otto Keep");
    expect(after.some((d) => d.table === "messages" && d.json.includes("Otto's own question"))).toBe(true);
    expect(after.some((d) => d.table === "webhookEvents" && d.json.includes("34600999888"))).toBe(true);
    expect(after.some((d) => d.table === "contactImportChunks" && d.json.includes("Otto Keep"))).toBe(true);

    // Campaign counts stay; the recipient row holds nothing of them.
    const counters = await t.run((ctx) => ctx.db.query("campaignCounters").collect());
    expect(counters[0].counts.delivered).toBe(1);
    const recipient = (await t.run((ctx) => ctx.db.query("campaignRecipients").collect()))[0];
    expect(recipient.parameters).toBeUndefined();
    // The ledger still adds up.
    expect(await t.run((ctx) => ctx.db.query("ledgerEntries").collect())).toHaveLength(1);

    // Audited as "contact erased" with the reference only.
    const audit = await s.owner.query(api.audit.listForTenant, {
      tenantId: s.w.tenantId,
      paginationOpts: { numItems: 50, cursor: null },
    });
    const erased = audit.page.find((e) => e.action === "contact.erased");
    expect(erased?.targetId).toBe(reference);
    expect(erased?.summary).toContain("On the customer's request");

    // They come back: a message from the number, and an import of it, find them opted out.
    expect((await postCloud(t, cloud("message-text"))).status).toBe(200);
    await settle(t);
    const back = await t.run(async (ctx) => {
      const alias = await ctx.db
        .query("contactAliases")
        .withIndex("by_tenant_kind_value", (q) =>
          q.eq("tenantId", s.w.tenantId).eq("kind", "phone").eq("value", PHONE),
        )
        .first();
      const contact = await ctx.db.get("contacts", alias!.contactId);
      const events = await ctx.db
        .query("consentEvents")
        .withIndex("by_contact_at", (q) => q.eq("contactId", contact!._id))
        .collect();
      return { contact, events };
    });
    expect(back.contact?._id).not.toBe(s.contactId);
    expect(back.contact?.optedOutAt).toBeDefined();
    expect(back.events.map((e) => e.source)).toEqual(["suppression"]);

    const imported = await t.run(async (ctx) => {
      // Erase the returning contact's alias so the import makes a new contact with the number.
      const alias = await ctx.db
        .query("contactAliases")
        .withIndex("by_tenant_kind_value", (q) =>
          q.eq("tenantId", s.w.tenantId).eq("kind", "phone").eq("value", PHONE),
        )
        .collect();
      for (const a of alias) await ctx.db.delete("contactAliases", a._id);
      await writeContacts(ctx, s.w.tenantId, [{ name: "K. F.", phone: PHONE }], Date.now());
      const fresh = await ctx.db
        .query("contactAliases")
        .withIndex("by_tenant_kind_value", (q) =>
          q.eq("tenantId", s.w.tenantId).eq("kind", "phone").eq("value", PHONE),
        )
        .first();
      return await ctx.db.get("contacts", fresh!.contactId);
    });
    expect(imported?.name).toBe("K. F.");
    expect(imported?.optedOutAt).toBeDefined();

    // A subscribed customer leaves no suppression: Otto, erased, comes back subscribed.
    await s.owner.mutation(api.privacy.eraseContact, {
      tenantId: s.w.tenantId,
      contactId: s.otherId,
      confirm: "+34600999888",
    });
    await settle(t);
    expect((await postCloud(t, otherPerson())).status).toBe(200);
    await settle(t);
    const otto = await t.run(async (ctx) => {
      const alias = await ctx.db
        .query("contactAliases")
        .withIndex("by_tenant_kind_value", (q) =>
          q.eq("tenantId", s.w.tenantId).eq("kind", "phone").eq("value", "+34600999888"),
        )
        .first();
      return await ctx.db.get("contacts", alias!.contactId);
    });
    expect(otto?.optedOutAt).toBeUndefined();
  });

  it("only admins erase a contact; the workspace erasure needs its address and closes the account", async () => {
    const { t, as } = setup();
    const s = await seed(t, as);
    await t.run(async (ctx) => {
      const uid = await ctx.db.insert("users", {
        tokenIdentifier: "https://idp.test|ann@acme.test",
        email: "ann@acme.test",
        name: "Ann",
        isPlatformAdmin: false,
        createdAt: 1,
        lastSeenAt: 1,
      });
      await ctx.db.insert("memberships", {
        tenantId: s.w.tenantId,
        userId: uid,
        role: "agent",
        createdAt: 1,
      });
    });
    await expectCode(
      as("ann@acme.test").mutation(api.privacy.eraseContact, {
        tenantId: s.w.tenantId,
        contactId: s.contactId,
        confirm: NAME,
      }),
      "FORBIDDEN",
    );
    await expectCode(
      s.owner.mutation(api.privacy.eraseTenant, { tenantId: s.w.tenantId, confirm: "acme" }),
      "INVALID",
      "confirm",
    );
    const { jobId } = await s.owner.mutation(api.privacy.eraseTenant, {
      tenantId: s.w.tenantId,
      confirm: "acme-shoes",
    });
    await settle(t);
    const job = await s.owner.query(api.privacy.job, { tenantId: s.w.tenantId, jobId });
    expect(job, job?.error ?? "").toMatchObject({ state: "done", reason: "Account closed" });
    const after = await everyDocument(t);
    for (const secret of [...SECRETS, "Otto Keep", "34600999888", "Otto's own question"]) {
      const found = after.filter((d) => d.json.includes(secret));
      expect(found, `${secret} is still in ${found.map((d) => d.table).join(", ")}`).toEqual([]);
    }
    const channels = await t.run((ctx) => ctx.db.query("channels").collect());
    expect(channels.every((c) => !c.enabled)).toBe(true);
  });
});
