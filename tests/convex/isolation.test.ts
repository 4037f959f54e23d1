/**
 * The isolation matrix: every tenant function, called against tenant A by someone who must not
 * reach it, is refused with the right code, reveals nothing about A, and changes nothing. New
 * tenant, platform-admin and signed-in functions must be added to the tables here.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import type { MutationCtx } from "../../convex/_generated/server";
import type { Role } from "../../convex/schema";
import { fakeProviders } from "./fake-providers";
import {
  SETTINGS,
  call,
  convexModules,
  deployedFunctions,
  errorOf,
  expectCode,
  setup,
  signUp,
  snapshot,
  twoTenants,
  type World as TenantsWorld,
} from "./factories";

const functions = deployedFunctions(convexModules).filter((f) => f.visibility === "public");
const ofKind = (kind: string) => functions.filter((f) => f.access?.kind === kind);

const RANKED: Role[] = ["viewer", "agent", "admin", "owner"];
const below = (role: Role) => RANKED.slice(0, RANKED.indexOf(role));
const page = { numItems: 10, cursor: null };

/** The two tenants of the factories, each with a WhatsApp channel. */
type World = TenantsWorld & {
  channelA: Id<"channels">;
  channelB: Id<"channels">;
  /** A webhook event that could not be routed: a dead letter for the platform-admin functions. */
  deadLetter: Id<"webhookEvents">;
  /** A conversation of tenant A whose customer wrote just now, and an approved template. */
  conversationA: Id<"conversations">;
  templateA: Id<"templates">;
  /** A draft template of tenant A that passes lint, and an approved template of tenant B. */
  draftA: Id<"templates">;
  templateB: Id<"templates">;
  knowledgeA: Id<"knowledgeEntries">;
  /** A draft campaign of tenant A, and a running one (pause, cancel). */
  campaignA: Id<"campaigns">;
  runningCampaignA: Id<"campaigns">;
  pausedCampaignA: Id<"campaigns">;
  /** Contacts of A (the conversation's, and one without conversations), a segment and an import. */
  contactA: Id<"contacts">;
  contactA2: Id<"contacts">;
  segmentA: Id<"contactSegments">;
  importA: Id<"contactImports">;
  contactB: Id<"contacts">;
  segmentB: Id<"contactSegments">;
  importB: Id<"contactImports">;
  storageA: Id<"_storage">;
  /** A finished export of tenant A, and a failed erasure (to start again). */
  exportA: Id<"privacyJobs">;
  erasureA: Id<"privacyJobs">;
};

const DRAFT = {
  name: "welcome_note",
  language: "en_US",
  category: "UTILITY",
  components: [
    {
      type: "BODY",
      text: "Hello {{1}}, thank you for writing to us. We will answer within the hour.",
      example: { body_text: [["Ana"]] },
    },
  ],
};

type TenantRow = { role: Role; args: (w: World) => Record<string, unknown> };

/**
 * Every tenant function: the minimum role it must demand (checked against its tag, so lowering
 * a function's role fails here) and valid arguments besides `tenantId`, which is always tenant A.
 */
const TENANT_MATRIX: Record<string, TenantRow> = {
  "tenants:get": { role: "viewer", args: () => ({}) },
  "tenants:updateSettings": { role: "admin", args: () => ({ ...SETTINGS, name: "Renamed Shoes" }) },
  "members:list": { role: "viewer", args: () => ({}) },
  "members:changeRole": {
    role: "admin",
    args: (w) => ({ membershipId: w.agentA.membershipId, role: "viewer" }),
  },
  "members:remove": { role: "admin", args: (w) => ({ membershipId: w.agentA.membershipId }) },
  "members:leave": { role: "viewer", args: () => ({}) },
  "invitations:listPending": { role: "admin", args: () => ({}) },
  "invitations:create": { role: "admin", args: () => ({ email: "newcomer@acme.test", role: "agent" }) },
  "invitations:resend": { role: "admin", args: (w) => ({ invitationId: w.invitationA }) },
  "invitations:revoke": { role: "admin", args: (w) => ({ invitationId: w.invitationA }) },
  "emails:listForTenant": { role: "admin", args: () => ({}) },
  "audit:listForTenant": { role: "admin", args: () => ({ paginationOpts: page }) },
  "channels:list": { role: "viewer", args: () => ({}) },
  "channels:get": { role: "viewer", args: (w) => ({ channelId: w.channelA }) },
  "channels:create": {
    role: "admin",
    args: () => ({
      channel: {
        kind: "waha",
        name: "Acme WAHA",
        baseUrl: "https://waha.acme.test",
        session: "acme",
        apiKey: "waha-api-key-0001",
        webhookHmacKey: "waha-hmac-key-0001",
      },
    }),
  },
  "channels:update": {
    role: "admin",
    args: (w) => ({
      channelId: w.channelA,
      channel: {
        kind: "cloud",
        name: "Acme renamed line",
        phoneNumberId: "100200300400500",
        wabaId: "900800700600500",
        displayNumber: "+34 600 111 222",
      },
    }),
  },
  "channels:setEnabled": { role: "admin", args: (w) => ({ channelId: w.channelA, enabled: false }) },
  "channels:activity": { role: "viewer", args: (w) => ({ channelId: w.channelA }) },
  "channels:refreshStatus": { role: "viewer", args: (w) => ({ channelId: w.channelA }) },
  "channels:recentEvents": { role: "admin", args: (w) => ({ channelId: w.channelA }) },
  "billing:wallet": { role: "admin", args: () => ({}) },
  "billing:ledger": {
    role: "admin",
    args: () => ({ kind: "top_up", from: 0, to: 4_102_444_800_000, paginationOpts: page }),
  },
  "billing:setLowBalanceThresholds": { role: "admin", args: () => ({ thresholds: ["20.00"] }) },
  "reconciliation:retention": { role: "admin", args: () => ({}) },
  "reconciliation:setWorkspaceRetention": {
    role: "admin",
    args: () => ({ messagesDays: 90, webhookEventsDays: 14, emailsDays: 30 }),
  },
  "conversations:list": { role: "agent", args: () => ({ paginationOpts: page }) },
  "conversations:counts": { role: "agent", args: () => ({}) },
  "conversations:get": { role: "agent", args: (w) => ({ conversationId: w.conversationA }) },
  "conversations:messages": {
    role: "agent",
    args: (w) => ({ conversationId: w.conversationA, paginationOpts: page }),
  },
  "conversations:templates": { role: "agent", args: (w) => ({ conversationId: w.conversationA }) },
  "conversations:reply": { role: "agent", args: (w) => ({ conversationId: w.conversationA, text: "Hello" }) },
  "conversations:sendTemplate": {
    role: "agent",
    args: (w) => ({ conversationId: w.conversationA, templateId: w.templateA }),
  },
  "conversations:takeOver": { role: "agent", args: (w) => ({ conversationId: w.conversationA }) },
  "conversations:handBack": { role: "agent", args: (w) => ({ conversationId: w.conversationA }) },
  "conversations:close": { role: "agent", args: (w) => ({ conversationId: w.conversationA }) },
  "conversations:assign": { role: "agent", args: (w) => ({ conversationId: w.conversationA, userId: null }) },
  "conversations:markRead": { role: "agent", args: (w) => ({ conversationId: w.conversationA }) },
  "assistant:settings": { role: "agent", args: () => ({}) },
  "assistant:updateSettings": { role: "admin", args: () => ({ changes: { name: "Ana" } }) },
  "assistant:knowledge": { role: "agent", args: () => ({ paginationOpts: page }) },
  "assistant:saveEntry": {
    role: "admin",
    args: (w) => ({ entryId: w.knowledgeA, title: "Hours", body: "Always open", tags: ["hours"] }),
  },
  "assistant:removeEntry": { role: "admin", args: (w) => ({ entryId: w.knowledgeA }) },
  "campaigns:list": { role: "viewer", args: () => ({ paginationOpts: page }) },
  "campaigns:get": { role: "viewer", args: (w) => ({ campaignId: w.campaignA }) },
  "campaigns:recipients": {
    role: "viewer",
    args: (w) => ({ campaignId: w.campaignA, state: "pending", paginationOpts: page }),
  },
  "campaigns:create": {
    role: "admin",
    args: (w) => ({
      name: "Winter sale",
      channelId: w.channelA,
      templateId: w.templateA,
      variables: [],
      audience: { kind: "filter", filter: {} },
    }),
  },
  "campaigns:estimate": {
    role: "admin",
    args: (w) => ({ templateId: w.templateA, variables: [], audience: { kind: "filter", filter: {} } }),
  },
  "campaigns:launch": { role: "admin", args: (w) => ({ campaignId: w.campaignA }) },
  "campaigns:pause": { role: "admin", args: (w) => ({ campaignId: w.runningCampaignA }) },
  "campaigns:resume": { role: "admin", args: (w) => ({ campaignId: w.pausedCampaignA }) },
  "campaigns:cancel": { role: "admin", args: (w) => ({ campaignId: w.runningCampaignA }) },
  "campaigns:duplicate": { role: "admin", args: (w) => ({ campaignId: w.campaignA }) },
  "campaigns:retryFailed": { role: "admin", args: (w) => ({ campaignId: w.pausedCampaignA }) },
  "campaigns:retryable": { role: "viewer", args: (w) => ({ campaignId: w.runningCampaignA }) },
  "campaigns:outlook": { role: "viewer", args: (w) => ({ campaignId: w.runningCampaignA }) },
  "assistant:turns": { role: "agent", args: (w) => ({ conversationId: w.conversationA }) },
  "conversations:setConsent": {
    role: "agent",
    args: (w) => ({ conversationId: w.conversationA, kind: "opt_out" }),
  },
  "templates:list": { role: "viewer", args: (w) => ({ channelId: w.channelA }) },
  "templates:get": { role: "viewer", args: (w) => ({ templateId: w.templateA }) },
  "templates:saveDraft": {
    role: "admin",
    args: (w) => ({ channelId: w.channelA, draft: { ...DRAFT, name: "another_note" } }),
  },
  "templates:submit": { role: "admin", args: (w) => ({ templateId: w.draftA }) },
  "templates:remove": { role: "admin", args: (w) => ({ templateId: w.draftA }) },
  "templates:sync": { role: "admin", args: (w) => ({ channelId: w.channelA }) },
  "templates:acknowledgeCategoryChange": { role: "admin", args: (w) => ({ templateId: w.templateA }) },
  "contacts:list": { role: "viewer", args: () => ({ filter: { tag: "vip" }, paginationOpts: page }) },
  "contacts:count": { role: "viewer", args: () => ({ filter: { consent: "opted_out" } }) },
  "contacts:tags": { role: "viewer", args: () => ({}) },
  "contacts:get": { role: "viewer", args: (w) => ({ contactId: w.contactA }) },
  "contacts:update": { role: "agent", args: (w) => ({ contactId: w.contactA, name: "Ana", tags: ["vip"] }) },
  "contacts:setConsent": { role: "agent", args: (w) => ({ contactId: w.contactA, kind: "opt_out" }) },
  "contacts:merge": { role: "admin", args: (w) => ({ keepId: w.contactA, mergeId: w.contactA2 }) },
  "contacts:remove": { role: "admin", args: (w) => ({ contactId: w.contactA2 }) },
  "contacts:fields": { role: "viewer", args: () => ({}) },
  "contacts:defineField": { role: "admin", args: () => ({ key: "Birthday", type: "date" }) },
  "contacts:segments": { role: "viewer", args: () => ({}) },
  "contacts:segmentCount": { role: "viewer", args: (w) => ({ segmentId: w.segmentA }) },
  "contacts:saveSegment": {
    role: "agent",
    args: () => ({ name: "Opted out", filter: { consent: "opted_out" } }),
  },
  "contacts:removeSegment": { role: "agent", args: (w) => ({ segmentId: w.segmentA }) },
  "contacts:exportPage": { role: "admin", args: () => ({ filter: {}, paginationOpts: page }) },
  "contactImports:generateUploadUrl": { role: "admin", args: () => ({}) },
  "contactImports:create": { role: "admin", args: (w) => ({ storageId: w.storageA, fileName: "list.csv" }) },
  "contactImports:get": { role: "admin", args: (w) => ({ importId: w.importA }) },
  "contactImports:list": { role: "admin", args: () => ({}) },
  "contactImports:errors": { role: "admin", args: (w) => ({ importId: w.importA, paginationOpts: page }) },
  "contactImports:start": {
    role: "admin",
    args: (w) => ({ importId: w.importA, columns: ["name", "phone"] }),
  },
  "contactImports:cancel": { role: "admin", args: (w) => ({ importId: w.importA }) },
  "billing:spend": { role: "admin", args: () => ({ to: "2026-11-30", days: 30 }) },
  "sending:status": { role: "viewer", args: () => ({}) },
  "sending:setPaused": { role: "owner", args: () => ({ paused: true, reason: "Checking a complaint" }) },
  "billing:referenceCost": {
    role: "admin",
    args: () => ({ referenceKind: "campaign", referenceId: "spring-sale" }),
  },
  "privacy:jobs": { role: "admin", args: () => ({}) },
  "privacy:job": { role: "admin", args: (w) => ({ jobId: w.exportA }) },
  "privacy:download": { role: "admin", args: (w) => ({ jobId: w.exportA }) },
  "privacy:exportContact": { role: "admin", args: (w) => ({ contactId: w.contactA }) },
  "privacy:exportTenant": { role: "admin", args: () => ({}) },
  "privacy:eraseContact": {
    role: "admin",
    args: (w) => ({ contactId: w.contactA2, confirm: "+34600111444" }),
  },
  "privacy:eraseTenant": { role: "owner", args: (w) => ({ confirm: w.slugA }) },
  "privacy:resumeErasure": { role: "admin", args: (w) => ({ jobId: w.erasureA }) },
};

/** Valid arguments for every platform-admin function. */
const PLATFORM_MATRIX: Record<string, (w: World) => Record<string, unknown>> = {
  "admin:listTenants": () => ({ paginationOpts: page }),
  "admin:tenant": (w) => ({ tenantId: w.tenantA }),
  "privacy:eraseTenantAsPlatform": (w) => ({ tenantId: w.tenantA, confirm: w.slugA }),
  "admin:dispatchers": () => ({ paginationOpts: page }),
  "emails:listAll": () => ({}),
  "audit:listAll": () => ({ paginationOpts: page }),
  "deadLetters:list": () => ({ paginationOpts: page }),
  "deadLetters:replay": (w) => ({ eventId: w.deadLetter }),
  "channels:reassignPhoneNumber": (w) => ({
    phoneNumberId: "100200300400999",
    toChannelId: w.channelA,
    reason: "Acme proved it owns the number",
  }),
  "billing:topUp": (w) => ({ tenantId: w.tenantA, amount: "10.00", reason: "Welcome credit" }),
  "billing:adjust": (w) => ({ tenantId: w.tenantA, amount: "-1.50", reason: "Correction" }),
  "billing:setDebtLimit": (w) => ({ tenantId: w.tenantA, debtLimit: "20.00", reason: "Trusted customer" }),
  "billing:setMarkup": (w) => ({ tenantId: w.tenantA, markupBps: 1500, reason: "Reseller terms" }),
  "billing:loadPublishedCard": () => ({}),
  "sending:globalStatus": () => ({}),
  "sending:setGlobalPaused": () => ({ paused: true, reason: "Provider incident" }),
  "sending:setTenantPaused": (w) => ({ tenantId: w.tenantA, paused: true, reason: "Abuse report" }),
  "reconciliation:jobs": () => ({}),
  "reconciliation:runs": () => ({}),
  "reconciliation:startNow": () => ({ job: "old_reservations" }),
  "billing:rates": () => ({ currency: "USD", market: "IT", category: "marketing" }),
  "billing:modelPrices": () => ({}),
  "billing:addRate": () => ({
    currency: "USD",
    market: "IT",
    category: "marketing",
    rate: "0.0810",
    effectiveFrom: "2100-01-01",
  }),
  "billing:importRates": () => ({
    csv: "currency,market,category,rate,effective_from\nUSD,IT,marketing,0.0810,2100-01-01\n",
    dryRun: true,
  }),
};

/** Valid arguments for every function that needs sign-in but no tenant role. */
const SIGNED_IN_MATRIX: Record<string, (w: World) => Record<string, unknown>> = {
  "users:me": () => ({}),
  "users:ensure": () => ({}),
  "users:setLastTenant": (w) => ({ tenantId: w.tenantA }),
  "tenants:create": () => ({ ...SETTINGS, name: "Another Shop" }),
  "tenants:bySlug": (w) => ({ slug: w.slugA }),
  "invitations:preview": () => ({ token: "some-token" }),
  "invitations:accept": () => ({ token: "some-token" }),
  "invitations:decline": () => ({ token: "some-token" }),
};

beforeEach(() => {
  const providers = fakeProviders();
  for (const id of ["100200300400500", "100200300400999"]) providers.number(id, `token-of-${id}`);
  providers.session("https://waha.acme.test", "acme", "waha-api-key-0001");
  vi.useFakeTimers();
  vi.stubEnv("APP_URL", "http://app.test");
  vi.stubEnv("PLATFORM_ADMIN_EMAILS", "root@platform.test");
  vi.stubEnv("CHANNEL_SECRETS_KEY", btoa(String.fromCharCode(...new Uint8Array(32).fill(7))));
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

async function world() {
  const { t, as } = setup();
  const tenants = await twoTenants(t, as);
  const cloud = (name: string, phoneNumberId: string) => ({
    kind: "cloud" as const,
    name,
    phoneNumberId,
    wabaId: "900800700600500",
    displayNumber: "+34 600 111 222",
    accessToken: `token-of-${phoneNumberId}`,
  });
  const channelA = await tenants.adminA.client.action(api.channels.create, {
    tenantId: tenants.tenantA,
    channel: cloud("Acme main line", "100200300400500"),
  });
  const channelB = await tenants.ownerB.client.action(api.channels.create, {
    tenantId: tenants.tenantB,
    channel: cloud("Beta line", "100200300400999"),
  });
  const deadLetter = await t.run((ctx) =>
    ctx.db.insert("webhookEvents", {
      provider: "cloud",
      dedupeKey: "cloud:msg:wamid.ISOLATION",
      kind: "message",
      event: {
        kind: "message",
        provider: "cloud",
        phoneNumberId: "999",
        messageId: "wamid.ISOLATION",
        from: { waId: "34600000009" },
        timestamp: 1,
        type: "text",
      },
      state: "dead",
      attempts: 0,
      lastError: "unrouted: no channel has phone_number_id 999",
      receivedAt: 1,
    }),
  );
  const {
    conversationA,
    templateA,
    knowledgeA,
    contactA,
    campaignA,
    runningCampaignA,
    pausedCampaignA,
    draftA,
    templateB,
  } = await t.run(async (ctx) => {
    const now = Date.now();
    const contactId = await ctx.db.insert("contacts", {
      tenantId: tenants.tenantA,
      phone: "+34600111333",
      createdAt: now,
    });
    const conversationA = await ctx.db.insert("conversations", {
      tenantId: tenants.tenantA,
      channelId: channelA,
      contactId,
      lastMessageAt: now,
      lastInboundAt: now,
      state: "bot",
    });
    const templateA = await ctx.db.insert("templates", {
      tenantId: tenants.tenantA,
      channelId: channelA,
      name: "order_shipped",
      language: "en_US",
      category: "UTILITY",
      status: "APPROVED",
      updatedAt: now,
    });
    const knowledgeA = await ctx.db.insert("knowledgeEntries", {
      tenantId: tenants.tenantA,
      title: "Opening hours",
      body: "Monday to Saturday, 10:00 to 20:00",
      tags: [],
      searchText: "Opening hours Monday to Saturday, 10:00 to 20:00",
      updatedAt: now,
    });
    const campaign = (state: "draft" | "running" | "paused") =>
      ctx.db.insert("campaigns", {
        tenantId: tenants.tenantA,
        channelId: channelA,
        name: `Spring ${state}`,
        templateId: templateA,
        template: { name: "order_shipped", language: "en_US", category: "utility" },
        variables: [],
        audience: { kind: "filter", filter: {} },
        state,
        createdBy: tenants.ownerA.userId,
        createdAt: now,
        frozen: 0,
        batches: 0,
        audienceFrozen: state !== "draft",
      });
    const draftA = await ctx.db.insert("templates", {
      tenantId: tenants.tenantA,
      channelId: channelA,
      ...DRAFT,
      status: "DRAFT",
      updatedAt: now,
    });
    const templateB = await ctx.db.insert("templates", {
      tenantId: tenants.tenantB,
      channelId: channelB,
      name: "beta_welcome",
      language: "en_US",
      category: "UTILITY",
      status: "APPROVED",
      updatedAt: now,
    });
    const campaignA = await campaign("draft");
    const runningCampaignA = await campaign("running");
    const pausedCampaignA = await campaign("paused");
    // A recipient WhatsApp failed, which "retry failed" can send again.
    await ctx.db.insert("campaignRecipients", {
      tenantId: tenants.tenantA,
      campaignId: pausedCampaignA,
      contactId,
      state: "failed",
      dueAt: now,
      reason: "Something went wrong",
      errorCode: 131000,
      shard: 0,
      updatedAt: now,
    });
    return {
      conversationA,
      templateA,
      knowledgeA,
      contactA: contactId,
      campaignA,
      runningCampaignA,
      pausedCampaignA,
      draftA,
      templateB,
    };
  });
  const contacts = await t.run(async (ctx) => {
    const now = Date.now();
    const contactA2 = await ctx.db.insert("contacts", {
      tenantId: tenants.tenantA,
      phone: "+34600111444",
      createdAt: now,
    });
    const contactB = await ctx.db.insert("contacts", {
      tenantId: tenants.tenantB,
      phone: "+14155550100",
      createdAt: now,
    });
    const segment = (tenantId: Id<"tenants">, createdBy: Id<"users">) =>
      ctx.db.insert("contactSegments", {
        tenantId,
        name: "VIPs",
        filter: { tag: "vip" },
        createdBy,
        createdAt: now,
      });
    const storageA = await ctx.storage.store(new Blob(["Name,Phone\nAna,600111555\n"]));
    const storageB = await ctx.storage.store(new Blob(["Name,Phone\nBo,4155550101\n"]));
    const upload = (tenantId: Id<"tenants">, createdBy: Id<"users">, storageId: Id<"_storage">) =>
      ctx.db.insert("contactImports", {
        tenantId,
        createdBy,
        fileName: "list.csv",
        storageId,
        status: "mapping",
        headers: ["Name", "Phone"],
        columns: ["name", "phone"],
        sample: [["Ana", "600111555"]],
        totalRows: 1,
        chunksDone: 0,
        contactsDone: 0,
        created: 0,
        merged: 0,
        duplicatesInFile: 0,
        errorCount: 0,
        createdAt: now,
      });
    return {
      contactA2,
      contactB,
      segmentA: await segment(tenants.tenantA, tenants.ownerA.userId),
      segmentB: await segment(tenants.tenantB, tenants.ownerB.userId),
      importA: await upload(tenants.tenantA, tenants.ownerA.userId, storageA),
      importB: await upload(tenants.tenantB, tenants.ownerB.userId, storageB),
      storageA: await ctx.storage.store(new Blob(["Name,Phone\nCid,600111666\n"])),
      ...(await privacyJobs(ctx, tenants.tenantA, tenants.ownerA.userId, now)),
    };
  });
  const w: World = {
    ...tenants,
    channelA,
    channelB,
    deadLetter,
    conversationA,
    templateA,
    draftA,
    templateB,
    knowledgeA,
    contactA,
    campaignA,
    runningCampaignA,
    pausedCampaignA,
    ...contacts,
    secretsOfA: () => [...tenants.secretsOfA(), channelA, "Acme main line", "100200300400500"],
  };
  return { t, as, w };
}

/** The error reveals nothing about tenant A: no name, slug, member email or id. */
function expectNothingAbout(w: World, error: { message: string }, context: string) {
  const text = JSON.stringify(error).toLowerCase();
  for (const secret of w.secretsOfA()) {
    expect(text, `${context} leaks "${secret}"`).not.toContain(String(secret).toLowerCase());
  }
}

describe("the matrix tables cover every function", () => {
  it("has a tenant matrix row for every tenant function, and no stale rows", () => {
    expect(
      ofKind("tenant")
        .map((f) => f.name)
        .sort(),
    ).toEqual(Object.keys(TENANT_MATRIX).sort());
  });
  it("finds each tenant function demanding the role its row says", () => {
    const demanded = Object.fromEntries(
      ofKind("tenant").map((f) => [f.name, f.access?.kind === "tenant" ? f.access.role : null]),
    );
    const expected = Object.fromEntries(Object.entries(TENANT_MATRIX).map(([name, row]) => [name, row.role]));
    expect(demanded).toEqual(expected);
  });
  it("has a row for every platform-admin function", () => {
    expect(
      ofKind("platformAdmin")
        .map((f) => f.name)
        .sort(),
    ).toEqual(Object.keys(PLATFORM_MATRIX).sort());
  });
  it("has a row for every signed-in (identity or authed) function", () => {
    expect([...ofKind("identity"), ...ofKind("authed")].map((f) => f.name).sort()).toEqual(
      Object.keys(SIGNED_IN_MATRIX).sort(),
    );
  });
});

describe.each(ofKind("tenant").map((f) => [f.name, f] as const))("tenant function %s", (name, fn) => {
  const minimum = TENANT_MATRIX[name]?.role ?? "owner";

  it(`refuses outsiders and members below ${minimum}, revealing and changing nothing`, async () => {
    const { t, as, w } = await world();
    const args = { tenantId: w.tenantA, ...TENANT_MATRIX[name].args(w) };
    const before = await snapshot(t);

    // (a) anonymous
    const anonymous = await expectCode(call(t, fn, args), "UNAUTHENTICATED");
    expectNothingAbout(w, anonymous, "the anonymous error");

    // signed in, but never registered with users.ensure
    await expectCode(call(as("drifter@nowhere.test"), fn, args), "UNAUTHENTICATED");

    // (b) the owner of tenant B, and B's agent
    const outsider = await expectCode(call(w.ownerB.client, fn, args), "NOT_FOUND");
    expectNothingAbout(w, outsider, "the other tenant's owner's error");
    await expectCode(call(w.agentB.client, fn, args), "NOT_FOUND");

    // A tenant that does not exist gets the very same answer as one the caller is not in.
    const deleted = await t.run(async (ctx) => {
      const id = await ctx.db.insert("tenants", {
        ...SETTINGS,
        name: "Gone",
        slug: "gone",
        createdBy: w.ownerB.userId,
        createdAt: 0,
      });
      await ctx.db.delete("tenants", id);
      return id;
    });
    const missing = await errorOf(call(w.ownerB.client, fn, { ...args, tenantId: deleted }));
    expect(missing).toEqual(outsider);

    // (c) members of A below the minimum role
    for (const role of below(minimum)) {
      const low = await expectCode(call(w.memberOfA(role), fn, args), "FORBIDDEN");
      expect(low.message).toContain(minimum);
      expectNothingAbout(w, low, `the ${role}'s error`);
    }

    expect(await snapshot(t), "a refused call changed data").toEqual(before);

    // Platform admins read any tenant through queries, but never write without a membership.
    const root = await signUp(as, "root@platform.test");
    const afterRoot = await snapshot(t);
    if (fn.kind === "query") {
      await call(root.client, fn, args);
    } else {
      await expectCode(call(root.client, fn, args), "NOT_FOUND");
      expect(await snapshot(t)).toEqual(afterRoot);
    }

    // The same arguments work for a member with exactly the minimum role: the refusals above
    // were about access, not about the arguments.
    await call(w.memberOfA(minimum), fn, args);
  });
});

describe.each(ofKind("platformAdmin").map((f) => [f.name, f] as const))(
  "platform-admin function %s",
  (name, fn) => {
    it("refuses anonymous callers and non-admins, even a tenant owner, and serves a platform admin", async () => {
      const { t, as, w } = await world();
      const args = PLATFORM_MATRIX[name](w);
      await expectCode(call(t, fn, args), "UNAUTHENTICATED");
      for (const client of [w.ownerA.client, w.ownerB.client, w.viewerA.client]) {
        await expectCode(call(client, fn, args), "FORBIDDEN");
      }
      // An address on the list that signs in but is not registered yet is not an admin yet.
      await expectCode(call(as("root@platform.test"), fn, args), "UNAUTHENTICATED");
      // An address that is not on the list never becomes one, whatever the token says about it.
      const impostor = await signUp(as, "root@platform.test.evil", { subject: "impostor" });
      await expectCode(call(impostor.client, fn, args), "FORBIDDEN");

      const root = await signUp(as, "Root@Platform.test");
      const result = await call(root.client, fn, args);
      expect(result).toBeTruthy();
    });
  },
);

describe.each([...ofKind("identity"), ...ofKind("authed")].map((f) => [f.name, f] as const))(
  "signed-in function %s",
  (name, fn) => {
    it("refuses anonymous callers and changes nothing", async () => {
      const { t, w } = await world();
      const before = await snapshot(t);
      const error = await expectCode(call(t, fn, SIGNED_IN_MATRIX[name](w)), "UNAUTHENTICATED");
      expectNothingAbout(w, error, "the anonymous error");
      expect(await snapshot(t)).toEqual(before);
    });
  },
);

describe("public functions", () => {
  it("answers anonymous callers only with what the allowlist reason promises", async () => {
    const { t } = setup();
    expect(await t.query(api.system.status, {})).toEqual({ version: expect.any(String), heartbeat: null });
  });
});

describe("signed-in functions that take a tenant", () => {
  it("setLastTenant and bySlug treat another tenant like one that does not exist", async () => {
    const { t, w } = await world();
    const before = await snapshot(t);
    const error = await expectCode(
      w.ownerB.client.mutation(api.users.setLastTenant, { tenantId: w.tenantA }),
      "NOT_FOUND",
    );
    expectNothingAbout(w, error, "setLastTenant");
    expect(await snapshot(t)).toEqual(before);
    expect(await w.ownerB.client.query(api.tenants.bySlug, { slug: w.slugA })).toBeNull();
    expect(await w.ownerB.client.query(api.tenants.bySlug, { slug: "no-such-workspace" })).toBeNull();
    expect(await w.viewerA.client.query(api.tenants.bySlug, { slug: w.slugA })).toEqual({
      tenantId: w.tenantA,
      name: "Acme Shoes",
      role: "viewer",
    });
  });
});

describe("cross-tenant id smuggling", () => {
  const cases: [string, (w: World) => Promise<unknown>][] = [
    [
      "members.changeRole with B's membership",
      (w) =>
        w.adminA.client.mutation(api.members.changeRole, {
          tenantId: w.tenantA,
          membershipId: w.agentB.membershipId,
          role: "viewer",
        }),
    ],
    [
      "members.remove with B's membership",
      (w) =>
        w.adminA.client.mutation(api.members.remove, {
          tenantId: w.tenantA,
          membershipId: w.agentB.membershipId,
        }),
    ],
    [
      "invitations.revoke with B's invitation",
      (w) =>
        w.adminA.client.mutation(api.invitations.revoke, {
          tenantId: w.tenantA,
          invitationId: w.invitationB,
        }),
    ],
    [
      "channels.get with B's channel",
      (w) => w.adminA.client.query(api.channels.get, { tenantId: w.tenantA, channelId: w.channelB }),
    ],
    [
      "channels.update with B's channel",
      (w) =>
        w.adminA.client.action(api.channels.update, {
          tenantId: w.tenantA,
          channelId: w.channelB,
          channel: {
            kind: "cloud",
            name: "Stolen",
            phoneNumberId: "100200300400999",
            wabaId: "900800700600500",
            displayNumber: "+34 600 111 222",
            accessToken: "replaced-token-123",
          },
        }),
    ],
    [
      "channels.setEnabled with B's channel",
      (w) =>
        w.adminA.client.mutation(api.channels.setEnabled, {
          tenantId: w.tenantA,
          channelId: w.channelB,
          enabled: false,
        }),
    ],
    [
      "channels.activity with B's channel",
      (w) => w.adminA.client.query(api.channels.activity, { tenantId: w.tenantA, channelId: w.channelB }),
    ],
    [
      "channels.recentEvents with B's channel",
      (w) => w.adminA.client.query(api.channels.recentEvents, { tenantId: w.tenantA, channelId: w.channelB }),
    ],
    [
      "templates.list with B's channel",
      (w) => w.adminA.client.query(api.templates.list, { tenantId: w.tenantA, channelId: w.channelB }),
    ],
    [
      "templates.get with B's template",
      (w) => w.adminA.client.query(api.templates.get, { tenantId: w.tenantA, templateId: w.templateB }),
    ],
    [
      "templates.saveDraft on B's channel",
      (w) =>
        w.adminA.client.mutation(api.templates.saveDraft, {
          tenantId: w.tenantA,
          channelId: w.channelB,
          draft: DRAFT,
        }),
    ],
    [
      "templates.saveDraft over B's template",
      (w) =>
        w.adminA.client.mutation(api.templates.saveDraft, {
          tenantId: w.tenantA,
          channelId: w.channelA,
          templateId: w.templateB,
          draft: DRAFT,
        }),
    ],
    [
      "templates.submit with B's template",
      (w) => w.adminA.client.action(api.templates.submit, { tenantId: w.tenantA, templateId: w.templateB }),
    ],
    [
      "templates.remove with B's template",
      (w) => w.adminA.client.action(api.templates.remove, { tenantId: w.tenantA, templateId: w.templateB }),
    ],
    [
      "templates.sync with B's channel",
      (w) => w.adminA.client.action(api.templates.sync, { tenantId: w.tenantA, channelId: w.channelB }),
    ],
    [
      "templates.acknowledgeCategoryChange with B's template",
      (w) =>
        w.adminA.client.mutation(api.templates.acknowledgeCategoryChange, {
          tenantId: w.tenantA,
          templateId: w.templateB,
        }),
    ],
    [
      "invitations.resend with B's invitation",
      (w) =>
        w.adminA.client.mutation(api.invitations.resend, {
          tenantId: w.tenantA,
          invitationId: w.invitationB,
        }),
    ],
    [
      "contacts.get with B's contact",
      (w) => w.adminA.client.query(api.contacts.get, { tenantId: w.tenantA, contactId: w.contactB }),
    ],
    [
      "contacts.update with B's contact",
      (w) =>
        w.adminA.client.mutation(api.contacts.update, {
          tenantId: w.tenantA,
          contactId: w.contactB,
          name: "X",
        }),
    ],
    [
      "contacts.merge pulling in B's contact",
      (w) =>
        w.adminA.client.mutation(api.contacts.merge, {
          tenantId: w.tenantA,
          keepId: w.contactA,
          mergeId: w.contactB,
        }),
    ],
    [
      "contacts.segmentCount with B's segment",
      (w) => w.adminA.client.query(api.contacts.segmentCount, { tenantId: w.tenantA, segmentId: w.segmentB }),
    ],
    [
      "contacts.exportPage with B's segment",
      (w) =>
        w.adminA.client.query(api.contacts.exportPage, {
          tenantId: w.tenantA,
          segmentId: w.segmentB,
          paginationOpts: { numItems: 10, cursor: null },
        }),
    ],
    [
      "contactImports.start with B's import",
      (w) =>
        w.adminA.client.mutation(api.contactImports.start, {
          tenantId: w.tenantA,
          importId: w.importB,
          columns: ["name", "phone"],
        }),
    ],
  ];

  it.each(cases)("refuses %s and changes nothing", async (_label, attempt) => {
    const { t, w } = await world();
    // The world's own background work (a campaign's tick, a new channel's tier check) settles first.
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const before = await snapshot(t);
    const error = await expectCode(attempt(w), "NOT_FOUND");
    expect(JSON.stringify(error)).not.toMatch(/beta|bea@|bruno@/i);
    // Nothing changed, and nothing was scheduled (no email to B's invitee, no new link).
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await snapshot(t)).toEqual(before);
  });
});

/** Tenant A's export (finished, with its file) and erasure (failed, to start again). */
async function privacyJobs(ctx: MutationCtx, tenantId: Id<"tenants">, userId: Id<"users">, now: number) {
  const base = {
    tenantId,
    requestedBy: userId,
    requestedByEmail: "olivia@acme.test",
    phasesDone: 0,
    phasesTotal: 7,
    processed: 0,
    createdAt: now,
  };
  return {
    exportA: await ctx.db.insert("privacyJobs", {
      ...base,
      kind: "export_tenant",
      state: "done",
      reference: "EXP-0A0A0A0A0A",
      reason: "Workspace export",
      phase: "done",
      storageId: await ctx.storage.store(new Blob(["{}"])),
      expiresAt: now + 86_400_000,
    }),
    erasureA: await ctx.db.insert("privacyJobs", {
      ...base,
      kind: "erase_contact",
      state: "failed",
      reference: "ERA-0B0B0B0B0B",
      reason: "On the customer's request",
      phase: "emails",
      targets: { contactIds: [], identifiers: [], words: [] },
    }),
  };
}
