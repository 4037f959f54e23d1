/**
 * The template lifecycle against Meta's templates API (fake-providers.ts answers as Meta and the
 * simulator do) and signed template webhooks: submit → pending → approved; rejected with a
 * reason → edit → resubmit; re-categorised → recorded and acknowledged; a dropped webhook picked
 * up by polling; deletion; parameter checks before template sends.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { checkSendParameters } from "../../convex/model/templateParams";
import { fakeProviders, type FakeProviders } from "./fake-providers";
import { SETTINGS, expectCode, setup, signUp, type T } from "./factories";
import { WABA_ID, postCloud, settle, stubWhatsAppEnv } from "./whatsapp-helpers";

const PHONE_NUMBER_ID = "106540352242922";
const TOKEN = "EAAG-template-token-1";

const DRAFT = {
  name: "order_shipped",
  language: "en_US",
  category: "UTILITY",
  components: [
    {
      type: "BODY",
      text: "Hi {{1}}, your order {{2}} has shipped and should arrive within three days.",
      example: { body_text: [["Ana", "A-1042"]] },
    },
    { type: "FOOTER", text: "Acme Shoes" },
  ],
};

let fake: FakeProviders;
beforeEach(() => {
  vi.useFakeTimers();
  stubWhatsAppEnv();
  fake = fakeProviders();
  fake.number(PHONE_NUMBER_ID, TOKEN);
  fake.session("https://waha.acme.test", "acme", "waha-api-key-0001");
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.unstubAllEnvs();
  vi.useRealTimers();
});

async function workspace() {
  const { t, as } = setup();
  const owner = await signUp(as, "olivia@acme.test");
  const { tenantId } = await owner.client.mutation(api.tenants.create, SETTINGS);
  const channelId = await owner.client.action(api.channels.create, {
    tenantId,
    channel: {
      kind: "cloud",
      name: "Acme main line",
      phoneNumberId: PHONE_NUMBER_ID,
      wabaId: WABA_ID,
      displayNumber: "+1 555-078-3881",
      accessToken: TOKEN,
    },
  });
  const client = owner.client;
  const get = (templateId: Id<"templates">) => client.query(api.templates.get, { tenantId, templateId });
  const save = (draft: typeof DRAFT, templateId?: Id<"templates">) =>
    client.mutation(api.templates.saveDraft, {
      tenantId,
      channelId,
      draft,
      ...(templateId ? { templateId } : {}),
    });
  const submit = (templateId: Id<"templates">) =>
    client.action(api.templates.submit, { tenantId, templateId });
  return { t, as, client, tenantId, channelId, get, save, submit };
}

/** A signed template webhook, as Meta sends it. */
async function templateWebhook(t: T, field: string, value: Record<string, unknown>, time = Date.now()) {
  const body = JSON.stringify({
    object: "whatsapp_business_account",
    entry: [{ id: WABA_ID, time: Math.floor(time / 1000), changes: [{ field, value }] }],
  });
  const response = await postCloud(t, body);
  expect(response.status).toBe(200);
  await settle(t);
}

const status = (id: string, event: string, extra: Record<string, unknown> = {}) => ({
  event,
  message_template_id: Number(id),
  message_template_name: "order_shipped",
  message_template_language: "en_US",
  reason: "NONE",
  ...extra,
});

async function auditActions(t: T) {
  return (await t.run((ctx) => ctx.db.query("auditEvents").collect())).map((e) => e.action);
}

describe("template lifecycle", () => {
  it("submits a draft, waits in review, and shows it approved when the webhook comes", async () => {
    const w = await workspace();
    const templateId = await w.save(DRAFT);
    expect((await w.get(templateId)).status).toBe("DRAFT");

    expect(await w.submit(templateId)).toEqual({ ok: true, message: null });
    const pending = await w.get(templateId);
    expect(pending).toMatchObject({ status: "PENDING", editable: false, submitting: false });
    expect(fake.templateRequests).toHaveLength(1);
    expect(fake.templateRequests[0].body).toMatchObject({
      name: "order_shipped",
      category: "UTILITY",
      language: "en_US",
      components: DRAFT.components,
    });
    const metaId = pending.providerTemplateId!;
    expect(fake.templates.get(metaId)?.status).toBe("PENDING");

    await templateWebhook(
      w.t,
      "message_template_status_update",
      status(metaId, "APPROVED", { message_template_category: "UTILITY" }),
    );
    const approved = await w.get(templateId);
    expect(approved).toMatchObject({
      status: "APPROVED",
      reason: null,
      category: "UTILITY",
      categoryChange: null,
    });
    const listed = await w.client.query(api.templates.list, { tenantId: w.tenantId, channelId: w.channelId });
    expect(listed.map((x) => [x.name, x.status])).toEqual([["order_shipped", "APPROVED"]]);
    // Approved templates are not edited in place.
    await expectCode(w.save(DRAFT, templateId), "INVALID");
    expect(await auditActions(w.t)).toEqual(
      expect.arrayContaining(["template.submitted", "template.status_changed"]),
    );
  });

  it("refuses to submit while the lint finds errors, without calling Meta", async () => {
    const w = await workspace();
    const bad = {
      ...DRAFT,
      components: [
        { type: "BODY", text: "Your order has shipped, {{1}}", example: { body_text: [["Ana"]] } },
      ],
    };
    const templateId = await w.save(bad);
    const error = await expectCode(w.submit(templateId), "INVALID");
    expect(error.message).toContain("The body cannot end with a variable");
    expect(fake.templateRequests).toHaveLength(0);
    expect((await w.get(templateId)).status).toBe("DRAFT");
  });

  it("shows Meta's refusal of a submission and lets the admin try again", async () => {
    const w = await workspace();
    const first = await w.save(DRAFT);
    await w.submit(first);
    // Another draft under the same name cannot be saved; at Meta the name is taken as well.
    await expectCode(w.save(DRAFT), "CONFLICT");
    const other = await w.save({ ...DRAFT, name: "order_shipped_copy" });
    fake.templates.set("taken", {
      ...fake.templates.values().next().value!,
      id: "taken",
      name: "order_shipped_copy",
    });
    const answer = await w.submit(other);
    expect(answer.ok).toBe(false);
    expect(answer.message).toMatch(/already exists/i);
    expect(await w.get(other)).toMatchObject({
      status: "DRAFT",
      lastError: answer.message,
      submitting: false,
    });
  });

  it("shows the rejection reason; the admin edits the template and resubmits it under Meta's id", async () => {
    const w = await workspace();
    const templateId = await w.save(DRAFT);
    await w.submit(templateId);
    const metaId = (await w.get(templateId)).providerTemplateId!;
    await templateWebhook(
      w.t,
      "message_template_status_update",
      status(metaId, "REJECTED", {
        reason: "INVALID_FORMAT",
        rejection_info: { reason: "INVALID_FORMAT", recommendation: "Add more text around the variables" },
      }),
    );
    expect(await w.get(templateId)).toMatchObject({
      status: "REJECTED",
      reason: "INVALID_FORMAT",
      recommendation: "Add more text around the variables",
      editable: true,
    });

    const fixed = {
      ...DRAFT,
      components: [
        {
          type: "BODY",
          text: "Hello {{1}}, good news: your order {{2}} left our warehouse today and arrives within three days.",
          example: { body_text: [["Ana", "A-1042"]] },
        },
      ],
    };
    // Name and language stay (Meta does not rename a submitted template).
    await expectCode(w.save({ ...fixed, name: "order_sent" }, templateId), "INVALID");
    expect(await w.save(fixed, templateId)).toBe(templateId);
    expect(await w.submit(templateId)).toEqual({ ok: true, message: null });
    expect(fake.templateRequests.at(-1)).toMatchObject({
      path: `/v23.0/${metaId}`,
      body: { components: fixed.components },
    });
    expect(fake.templates.size).toBe(1);
    expect(await w.get(templateId)).toMatchObject({
      status: "PENDING",
      reason: null,
      providerTemplateId: metaId,
    });

    await templateWebhook(
      w.t,
      "message_template_status_update",
      status(metaId, "APPROVED"),
      Date.now() + 1000,
    );
    expect((await w.get(templateId)).status).toBe("APPROVED");
  });

  it("records a re-categorisation, announced ahead and then done, until an admin acknowledges it", async () => {
    const w = await workspace();
    const templateId = await w.save(DRAFT);
    await w.submit(templateId);
    const metaId = (await w.get(templateId)).providerTemplateId!;
    await templateWebhook(
      w.t,
      "message_template_status_update",
      status(metaId, "APPROVED", { message_template_category: "UTILITY" }),
    );

    const effective = Math.floor(Date.now() / 1000) + 24 * 3600;
    await templateWebhook(w.t, "template_category_update", {
      message_template_id: Number(metaId),
      message_template_name: "order_shipped",
      message_template_language: "en_US",
      correct_category: "MARKETING",
      new_category: "UTILITY",
      category_update_timestamp: effective,
    });
    const announced = await w.get(templateId);
    expect(announced.category).toBe("UTILITY");
    expect(announced.categoryChange).toMatchObject({
      from: "UTILITY",
      to: "MARKETING",
      state: "announced",
      effectiveAt: effective * 1000,
    });

    vi.setSystemTime(Date.now() + 24 * 3600 * 1000);
    await templateWebhook(w.t, "template_category_update", {
      message_template_id: Number(metaId),
      message_template_name: "order_shipped",
      message_template_language: "en_US",
      previous_category: "UTILITY",
      new_category: "MARKETING",
    });
    const changed = await w.get(templateId);
    expect(changed).toMatchObject({ category: "MARKETING", status: "APPROVED" });
    expect(changed.categoryChange).toMatchObject({ from: "UTILITY", to: "MARKETING", state: "changed" });
    const row = await w.t.run((ctx) => ctx.db.get("templates", templateId));
    expect(row?.recategorisedAt).toBeGreaterThan(0);
    expect(await auditActions(w.t)).toEqual(
      expect.arrayContaining(["template.recategorisation_announced", "template.recategorised"]),
    );

    await w.client.mutation(api.templates.acknowledgeCategoryChange, { tenantId: w.tenantId, templateId });
    expect((await w.get(templateId)).categoryChange?.acknowledgedAt).toBeGreaterThan(0);
  });

  it("flags a utility template Meta approves as marketing", async () => {
    const w = await workspace();
    const templateId = await w.save(DRAFT);
    await w.submit(templateId);
    const metaId = (await w.get(templateId)).providerTemplateId!;
    await templateWebhook(
      w.t,
      "message_template_status_update",
      status(metaId, "APPROVED", { message_template_category: "MARKETING" }),
    );
    expect((await w.get(templateId)).categoryChange).toMatchObject({
      from: "UTILITY",
      to: "MARKETING",
      state: "changed",
    });
  });

  it("shows paused, flagged and disabled templates, and their quality score", async () => {
    const w = await workspace();
    const templateId = await w.save(DRAFT);
    await w.submit(templateId);
    const metaId = (await w.get(templateId)).providerTemplateId!;
    const at = Date.now();
    await templateWebhook(w.t, "message_template_status_update", status(metaId, "APPROVED"), at);
    await templateWebhook(
      w.t,
      "message_template_quality_update",
      {
        previous_quality_score: "GREEN",
        new_quality_score: "YELLOW",
        message_template_id: Number(metaId),
        message_template_name: "order_shipped",
        message_template_language: "en_US",
      },
      at + 1000,
    );
    expect(await w.get(templateId)).toMatchObject({ status: "APPROVED", qualityScore: "YELLOW" });
    await templateWebhook(w.t, "message_template_status_update", status(metaId, "FLAGGED"), at + 2000);
    expect((await w.get(templateId)).status).toBe("FLAGGED");
    await templateWebhook(
      w.t,
      "message_template_status_update",
      status(metaId, "PAUSED", { reason: "LOW_QUALITY", other_info: { title: "FIRST_PAUSE" } }),
      at + 3000,
    );
    expect(await w.get(templateId)).toMatchObject({
      status: "PAUSED",
      reason: "LOW_QUALITY",
      recommendation: "FIRST_PAUSE",
      editable: true,
    });
    await templateWebhook(w.t, "message_template_status_update", status(metaId, "DISABLED"), at + 4000);
    expect(await w.get(templateId)).toMatchObject({ status: "DISABLED", editable: false });
    // An old status event arriving late changes nothing.
    await templateWebhook(w.t, "message_template_status_update", status(metaId, "APPROVED"), at + 500);
    expect((await w.get(templateId)).status).toBe("DISABLED");
  });

  it("polls a template whose status webhook never came, once it stayed pending past the deadline", async () => {
    const w = await workspace();
    const templateId = await w.save(DRAFT);
    await w.submit(templateId);
    const metaId = (await w.get(templateId)).providerTemplateId!;
    // Meta approves it; the webhook is lost.
    fake.templates.get(metaId)!.status = "APPROVED";

    const polls = () => fake.calls.filter((c) => c.startsWith("GET") && c.includes(`/${metaId}?`)).length;
    expect(await w.t.mutation(internal.templates.pollDue, {})).toBe(0);
    await settle(w.t);
    expect(polls()).toBe(0);
    expect((await w.get(templateId)).status).toBe("PENDING");

    vi.setSystemTime(Date.now() + 16 * 60 * 1000);
    expect(await w.t.mutation(internal.templates.pollDue, {})).toBe(1);
    await settle(w.t);
    expect(polls()).toBe(1);
    expect(await w.get(templateId)).toMatchObject({ status: "APPROVED" });
    // Approved: nothing left to poll.
    vi.setSystemTime(Date.now() + 24 * 3600 * 1000);
    expect(await w.t.mutation(internal.templates.pollDue, {})).toBe(0);
  });

  it("keeps polling a template still in review, backing off", async () => {
    const w = await workspace();
    const templateId = await w.save(DRAFT);
    await w.submit(templateId);
    vi.setSystemTime(Date.now() + 16 * 60 * 1000);
    await w.t.mutation(internal.templates.pollDue, {});
    await settle(w.t);
    const first = await w.t.run((ctx) => ctx.db.get("templates", templateId));
    expect(first).toMatchObject({ status: "PENDING", pollAttempts: 1 });
    expect(first!.pollAt! - Date.now()).toBeGreaterThan(16 * 60 * 1000);
  });

  it("deletes a submitted template at Meta, then here", async () => {
    const w = await workspace();
    const templateId = await w.save(DRAFT);
    await w.submit(templateId);
    expect(fake.templates.size).toBe(1);
    expect(await w.client.action(api.templates.remove, { tenantId: w.tenantId, templateId })).toEqual({
      ok: true,
      message: null,
    });
    expect(fake.templates.size).toBe(0);
    expect(await w.t.run((ctx) => ctx.db.get("templates", templateId))).toBeNull();
    expect(await auditActions(w.t)).toContain("template.deleted");
  });

  it("reads templates made elsewhere from Meta", async () => {
    const w = await workspace();
    fake.templates.set("594425479261999", {
      id: "594425479261999",
      wabaId: WABA_ID,
      name: "made_in_manager",
      language: "es_ES",
      category: "MARKETING",
      status: "APPROVED",
      parameter_format: "POSITIONAL",
      components: [{ type: "BODY", text: "Hola, gracias por tu compra en nuestra tienda." }],
      quality_score: { score: "GREEN" },
    });
    const result = await w.client.action(api.templates.sync, {
      tenantId: w.tenantId,
      channelId: w.channelId,
    });
    expect(result).toMatchObject({ ok: true, added: 1 });
    const listed = await w.client.query(api.templates.list, { tenantId: w.tenantId, channelId: w.channelId });
    expect(listed).toMatchObject([
      {
        name: "made_in_manager",
        status: "APPROVED",
        category: "MARKETING",
        qualityScore: "GREEN",
        categoryChange: null,
      },
    ]);
  });

  it("has no templates on WAHA numbers", async () => {
    const w = await workspace();
    const wahaId = await w.client.action(api.channels.create, {
      tenantId: w.tenantId,
      channel: {
        kind: "waha",
        name: "Acme WAHA",
        baseUrl: "https://waha.acme.test",
        session: "acme",
        apiKey: "waha-api-key-0001",
        webhookHmacKey: "waha-hmac-key-0001",
      },
    });
    expect(await w.client.query(api.templates.list, { tenantId: w.tenantId, channelId: wahaId })).toEqual([]);
    const error = await expectCode(
      w.client.mutation(api.templates.saveDraft, { tenantId: w.tenantId, channelId: wahaId, draft: DRAFT }),
      "INVALID",
    );
    expect(error.message).toContain("WAHA numbers have no message templates");
  });

  it("lets viewers read templates but not write them", async () => {
    const w = await workspace();
    const templateId = await w.save(DRAFT);
    const viewer = await signUp(w.as, "victor@acme.test");
    await w.t.run((ctx) =>
      ctx.db.insert("memberships", {
        tenantId: w.tenantId,
        userId: viewer.userId,
        role: "viewer",
        createdAt: 1,
      }),
    );
    expect((await viewer.client.query(api.templates.get, { tenantId: w.tenantId, templateId })).name).toBe(
      "order_shipped",
    );
    await expectCode(
      viewer.client.action(api.templates.submit, { tenantId: w.tenantId, templateId }),
      "FORBIDDEN",
    );
  });
});

describe("template sends", () => {
  async function conversation(w: Awaited<ReturnType<typeof workspace>>) {
    return await w.t.run(async (ctx) => {
      const contactId = await ctx.db.insert("contacts", {
        tenantId: w.tenantId,
        phone: "+34600111333",
        createdAt: 1,
      });
      return await ctx.db.insert("conversations", {
        tenantId: w.tenantId,
        channelId: w.channelId,
        contactId,
        lastMessageAt: 1,
      });
    });
  }

  it("refuses parameters that do not fit the approved template before WhatsApp sees them (132000)", async () => {
    const w = await workspace();
    const templateId = await w.save(DRAFT);
    await w.submit(templateId);
    const metaId = (await w.get(templateId)).providerTemplateId!;
    await templateWebhook(w.t, "message_template_status_update", status(metaId, "APPROVED"));
    const conversationId = await conversation(w);
    const send = (parameters: string[]) =>
      w.client.mutation(api.conversations.sendTemplate, {
        tenantId: w.tenantId,
        conversationId,
        templateId,
        parameters,
      });

    const error = await expectCode(send(["Ana"]), "INVALID");
    expect(error.message).toBe("Template order_shipped needs 2 values for its body ({{1}}, {{2}}); 1 given");
    await settle(w.t);
    expect(fake.sent).toHaveLength(0);

    await send(["Ana", "A-1042"]);
    await settle(w.t);
    expect(fake.sent).toHaveLength(1);
    expect(fake.sent[0].body.template).toMatchObject({
      name: "order_shipped",
      components: [
        {
          type: "body",
          parameters: [
            { type: "text", text: "Ana" },
            { type: "text", text: "A-1042" },
          ],
        },
      ],
    });
  });

  it("sends a named template's values by name", async () => {
    const w = await workspace();
    const templateId = await w.save({
      ...DRAFT,
      name: "pickup_ready",
      parameterFormat: "NAMED",
      components: [
        {
          type: "BODY",
          text: "Hi {{first_name}}, your order is ready for pickup at {{store}} from tomorrow morning.",
          example: {
            body_text_named_params: [
              { param_name: "first_name", example: "Ana" },
              { param_name: "store", example: "Gran Vía" },
            ],
          },
        },
      ],
    } as never);
    await w.submit(templateId);
    const metaId = (await w.get(templateId)).providerTemplateId!;
    await templateWebhook(w.t, "message_template_status_update", {
      ...status(metaId, "APPROVED"),
      message_template_name: "pickup_ready",
    });
    const conversationId = await conversation(w);
    await w.client.mutation(api.conversations.sendTemplate, {
      tenantId: w.tenantId,
      conversationId,
      templateId,
      parameters: ["Ana", "Gran Vía"],
    });
    await settle(w.t);
    expect(fake.sent[0].body.template).toMatchObject({
      components: [
        {
          type: "body",
          parameters: [
            { type: "text", parameter_name: "first_name", text: "Ana" },
            { type: "text", parameter_name: "store", text: "Gran Vía" },
          ],
        },
      ],
    });
  });
});

describe("checkSendParameters", () => {
  const template = {
    name: "order_update",
    parameter_format: "POSITIONAL",
    components: [
      { type: "HEADER", format: "TEXT", text: "Order {{1}}" },
      { type: "BODY", text: "Hi {{1}}, order {{2}} ships today." },
      {
        type: "BUTTONS",
        buttons: [
          { type: "QUICK_REPLY", text: "OK" },
          { type: "URL", text: "Track", url: "https://x.example/t/{{1}}" },
        ],
      },
    ],
  };
  it.each([
    [{ header: ["A-1"], body: ["Ana", "A-1"], buttons: [{ index: 1, parameters: ["A-1"] }] }, null],
    [{ body: ["Ana", "A-1"], buttons: [{ index: 1, parameters: ["A-1"] }] }, 132000],
    [{ header: ["A-1"], body: ["Ana"], buttons: [{ index: 1, parameters: ["A-1"] }] }, 132000],
    [{ header: ["A-1"], body: ["Ana", "A-1", "x"], buttons: [{ index: 1, parameters: ["A-1"] }] }, 132000],
    [{ header: ["A-1"], body: ["Ana", " "], buttons: [{ index: 1, parameters: ["A-1"] }] }, 132000],
    [{ header: ["A-1"], body: ["Ana", "A-1"] }, 132000],
    [{ header: ["A-1"], body: { first_name: "Ana" }, buttons: [{ index: 1, parameters: ["A-1"] }] }, 132012],
  ] as const)("%j → %s", (send, code) => {
    expect(checkSendParameters(template, send as never)?.code ?? null).toBe(code);
  });
  it("checks named templates by name", () => {
    const named = {
      parameter_format: "NAMED",
      components: [{ type: "BODY", text: "Hi {{first_name}}, pick up at {{store}} today." }],
    };
    expect(checkSendParameters(named, { body: { first_name: "Ana", store: "Sol" } })).toBeNull();
    expect(checkSendParameters(named, { body: { first_name: "Ana" } })).toMatchObject({ code: 132000 });
    expect(
      checkSendParameters(named, { body: { first_name: "Ana", store: "Sol", extra: "x" } }),
    ).toMatchObject({ code: 132012 });
  });
});
