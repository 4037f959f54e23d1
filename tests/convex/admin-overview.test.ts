/**
 * The platform admin's overview of workspaces: each row's members, channels with quality and
 * tier, credits, this month's spend (kept on the workspace's summary where charges happen, reset
 * when a month begins), sending state and last activity; search by name or address; the backfill;
 * the dispatchers' state; only platform admins may read any of it. And a platform admin's actions
 * inside a workspace show in both the workspace's audit log and the platform's.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { refund, settleMany, topUp } from "../../convex/model/billing/charging";
import { inTx, NOV } from "./billing-helpers";
import { addMember, expectCode, SETTINGS, setup, signUp, type T } from "./factories";
import { fakeProviders } from "./fake-providers";

const KEY = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(NOV);
  vi.stubEnv("APP_URL", "http://app.test");
  vi.stubEnv("CHANNEL_SECRETS_KEY", KEY);
  vi.stubEnv("CONVEX_SITE_URL", "https://happy-otter-123.convex.site");
  vi.stubEnv("PLATFORM_ADMIN_EMAILS", "root@platform.test");
  fakeProviders().number(CHANNEL.phoneNumberId, CHANNEL.accessToken);
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
  vi.unstubAllGlobals();
});

const ACME = { ...SETTINGS, currency: "USD" };

const page = (numItems = 50, cursor: string | null = null) => ({ numItems, cursor });

const CHANNEL = {
  kind: "cloud" as const,
  name: "Main line",
  phoneNumberId: "106540352242921",
  wabaId: "102290129340398",
  displayNumber: "+34 600-111 221",
  accessToken: "EAAG-cloud-access-token-1",
};

async function platform() {
  const { t, as } = setup();
  await t.mutation(internal.billing.seedRates, {});
  const root = await signUp(as, "root@platform.test");
  const owner = await signUp(as, "olivia@acme.test");
  return { t, as, root, owner };
}

const marketingTo = (tenantId: Id<"tenants">, id: string, at: number) => ({
  tenantId,
  key: `msg:${id}`,
  reference: { kind: "message" as const, id },
  country: "IT",
  pricing: { type: "regular", category: "marketing" },
  at,
});

/** Italy's marketing rate in USD micro-units (rates.md). */
const IT_MARKETING = 79_500;

describe("admin.listTenants", () => {
  it("shows members, channels with quality and tier, credits, the month's spend, sending and last activity", async () => {
    const { t, as, root, owner } = await platform();
    const { tenantId } = await owner.client.mutation(api.tenants.create, ACME);
    await addMember(t, as, owner.client, tenantId, "adam@acme.test", "admin");
    const channelId = await owner.client.action(api.channels.create, { tenantId, channel: CHANNEL });
    await t.run((ctx) =>
      ctx.db.patch("channels", channelId, { qualityRating: "FLAGGED", messagingTier: "TIER_1K" }),
    );
    await root.client.mutation(api.billing.topUp, { tenantId, amount: "25", reason: "Welcome credit" });
    const row = async () =>
      (await root.client.query(api.admin.listTenants, { paginationOpts: page() })).page.find(
        (r) => r.tenantId === tenantId,
      )!;
    expect(await row()).toMatchObject({
      name: SETTINGS.name,
      members: 2,
      channels: 1,
      channelList: [
        { channelId, name: "Main line", kind: "cloud", qualityRating: "FLAGGED", messagingTier: "TIER_1K" },
      ],
      currency: "USD",
      balance: 25_000_000,
      available: 25_000_000,
      monthSpend: 0,
      lastActivityAt: null,
      sendingPaused: null,
    });

    // Two marketing messages are charged, one is refunded: the month's spend is what is left.
    await inTx(t, (ctx) =>
      settleMany(ctx, [marketingTo(tenantId, "a", NOV), marketingTo(tenantId, "b", NOV)]),
    );
    vi.advanceTimersByTime(60_000);
    await inTx(t, (ctx) => refund(ctx, { tenantId, chargeKey: "msg:b", reason: "Not delivered" }));
    expect(await row()).toMatchObject({
      balance: 25_000_000 - IT_MARKETING,
      monthSpend: IT_MARKETING,
      lastActivityAt: NOV + 60_000,
    });

    await owner.client.mutation(api.sending.setPaused, { tenantId, paused: true, reason: "Checking prices" });
    expect((await row()).sendingPaused).toMatchObject({ reason: "Checking prices", by: "olivia@acme.test" });

    // December begins: nothing spent this month yet; the first charge of December starts it again.
    vi.setSystemTime(Date.parse("2026-12-01T00:00:05Z"));
    expect((await row()).monthSpend).toBe(0);
    await owner.client.mutation(api.sending.setPaused, { tenantId, paused: false, reason: "Prices fine" });
    await inTx(t, (ctx) => settleMany(ctx, [marketingTo(tenantId, "c", Date.now())]));
    expect((await row()).monthSpend).toBe(IT_MARKETING);
  });

  it("finds workspaces by name or address, whatever the case and accents, a page at a time", async () => {
    const { root, owner } = await platform();
    const { tenantId: acme } = await owner.client.mutation(api.tenants.create, ACME);
    const { tenantId: cafe } = await owner.client.mutation(api.tenants.create, { ...ACME, name: "Café Olé" });
    const { tenantId: bakery } = await owner.client.mutation(api.tenants.create, {
      ...SETTINGS,
      name: "Corner Bakery",
    });
    const search = async (text: string, numItems = 50) =>
      (
        await root.client.query(api.admin.listTenants, { paginationOpts: page(numItems), search: text })
      ).page.map((r) => r.tenantId);
    expect(await search("acme")).toEqual([acme]);
    expect(await search("ACME Shoes")).toEqual([acme]);
    expect(await search("cafe")).toEqual([cafe]);
    expect(await search("  corner-bakery ")).toEqual([bakery]);
    expect(await search("nothing like it")).toEqual([]);
    // Every word must match, the last one as typed so far: "corner" alone is not "acme corner".
    expect(await search("acme corner")).toEqual([]);
    expect(await search("corner bak")).toEqual([bakery]);
    expect(await search("acme-s")).toEqual([acme]);
    // A blank search lists every workspace, newest first.
    expect(await search("   ")).toEqual([bakery, cafe, acme]);

    // Renamed: found under the new name, no longer under the old one (the address stays).
    await owner.client.mutation(api.tenants.updateSettings, { tenantId: cafe, ...ACME, name: "Tea Room" });
    expect(await search("tea room")).toEqual([cafe]);
    expect(await search("cafe-ole")).toEqual([cafe]);

    // Many matches come a page at a time.
    for (let i = 0; i < 5; i++)
      await owner.client.mutation(api.tenants.create, { ...ACME, name: `Bakery ${i}` });
    const first = await root.client.query(api.admin.listTenants, {
      paginationOpts: page(4),
      search: "bakery",
    });
    expect(first.page).toHaveLength(4);
    expect(first.isDone).toBe(false);
    const rest = await root.client.query(api.admin.listTenants, {
      paginationOpts: page(4, first.continueCursor),
      search: "bakery",
    });
    const all = [...first.page, ...rest.page].map((r) => r.name);
    expect(new Set(all).size).toBe(6);
    expect(all.every((name) => /bakery/i.test(name))).toBe(true);
  });

  it("is for platform admins only: members of a workspace are refused, even its owner", async () => {
    const { t, as, owner } = await platform();
    const { tenantId } = await owner.client.mutation(api.tenants.create, ACME);
    const admin = await addMember(t, as, owner.client, tenantId, "adam@acme.test", "admin");
    for (const client of [owner.client, admin.client]) {
      await expectCode(client.query(api.admin.listTenants, { paginationOpts: page() }), "FORBIDDEN");
      await expectCode(
        client.query(api.admin.listTenants, { paginationOpts: page(), search: "acme" }),
        "FORBIDDEN",
      );
      await expectCode(client.query(api.admin.tenant, { tenantId }), "FORBIDDEN");
      await expectCode(client.query(api.admin.dispatchers, { paginationOpts: page() }), "FORBIDDEN");
    }
    await expect(t.query(api.admin.listTenants, { paginationOpts: page() })).rejects.toThrow();
  });
});

describe("admin:backfillTenantCounts", () => {
  it("writes the summary of workspaces from before summaries were kept, from the daily rollups", async () => {
    const { t, root, owner } = await platform();
    const { tenantId } = await owner.client.mutation(api.tenants.create, ACME);
    await inTx(t, (ctx) => topUp(ctx, { tenantId, amount: 10_000_000, key: "grant" }));
    // Last month's spend does not count; this month's does.
    vi.setSystemTime(Date.parse("2026-10-30T10:00:00Z"));
    await inTx(t, (ctx) => settleMany(ctx, [marketingTo(tenantId, "old", Date.now())]));
    vi.setSystemTime(NOV);
    await inTx(t, (ctx) =>
      settleMany(ctx, [marketingTo(tenantId, "a", NOV), marketingTo(tenantId, "b", NOV)]),
    );
    await t.run(async (ctx) => {
      for (const row of await ctx.db.query("tenantSummaries").collect())
        await ctx.db.delete("tenantSummaries", row._id);
      await ctx.db.patch("tenants", tenantId, { memberCount: undefined, channelCount: undefined });
    });
    const before = await root.client.query(api.admin.listTenants, { paginationOpts: page() });
    expect(before.page[0]).toMatchObject({ members: null, monthSpend: null });
    expect(
      await root.client.query(api.admin.listTenants, { paginationOpts: page(), search: "acme" }),
    ).toMatchObject({ page: [] });

    await t.mutation(internal.admin.backfillTenantCounts, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const after = await root.client.query(api.admin.listTenants, { paginationOpts: page(), search: "acme" });
    expect(after.page).toHaveLength(1);
    expect(after.page[0]).toMatchObject({
      members: 1,
      channels: 0,
      monthSpend: 2 * IT_MARKETING,
      lastActivityAt: NOV,
    });
  });
});

describe("admin.tenant", () => {
  it("shows one workspace with every channel, and null for an id that is no workspace", async () => {
    const { root, owner } = await platform();
    const { tenantId } = await owner.client.mutation(api.tenants.create, ACME);
    await owner.client.action(api.channels.create, { tenantId, channel: CHANNEL });
    expect(await root.client.query(api.admin.tenant, { tenantId })).toMatchObject({
      name: SETTINGS.name,
      timeZone: SETTINGS.timeZone,
      channelList: [{ name: "Main line", qualityRating: null, messagingTier: null }],
    });
    expect(await root.client.query(api.admin.tenant, { tenantId: "not-an-id" })).toBeNull();
  });
});

describe("admin.dispatchers", () => {
  it("lists each channel's dispatcher with its rate, next tick and running campaigns", async () => {
    const { t, root, owner } = await platform();
    const { tenantId } = await owner.client.mutation(api.tenants.create, ACME);
    const channelId = await owner.client.action(api.channels.create, { tenantId, channel: CHANNEL });
    const userId = (await t.run((ctx) => ctx.db.query("users").first()))!._id;
    await t.run(async (ctx) => {
      const templateId = await ctx.db.insert("templates", {
        tenantId,
        channelId,
        name: "spring_sale",
        language: "es_ES",
        category: "MARKETING",
        status: "APPROVED",
        updatedAt: 1,
      });
      const campaign = (name: string, state: "running" | "completed") =>
        ctx.db.insert("campaigns", {
          tenantId,
          channelId,
          name,
          templateId,
          template: { name: "spring_sale", language: "es_ES", category: "MARKETING" },
          variables: [],
          audience: { kind: "contacts", contactIds: [] },
          state,
          createdBy: userId,
          createdAt: NOV,
          frozen: 0,
          batches: 0,
        });
      await campaign("Spring sale", "running");
      await campaign("Winter sale", "completed");
      await ctx.db.insert("channelDispatch", {
        channelId,
        rate: 40,
        maxRate: 80,
        lastTickAt: NOV,
        nextTickAt: NOV + 1_000,
        throttledAt: NOV - 5_000,
        ceiling: 45,
        ceilingAt: NOV - 5_000,
        sentTotal: 1234,
      });
    });
    const { page: rows } = await root.client.query(api.admin.dispatchers, { paginationOpts: page() });
    expect(rows).toEqual([
      expect.objectContaining({
        channelId,
        channelName: "Main line",
        tenantId,
        tenantName: SETTINGS.name,
        rate: 40,
        maxRate: 80,
        nextTickAt: NOV + 1_000,
        throttledAt: NOV - 5_000,
        ceiling: 45,
        ceilingAt: NOV - 5_000,
        sentTotal: 1234,
        running: [expect.objectContaining({ name: "Spring sale" })],
      }),
    ]);
  });
});

describe("a platform admin's actions inside a workspace", () => {
  async function bothLogs(
    t: T,
    root: { client: ReturnType<T["withIdentity"]> },
    owner: { client: ReturnType<T["withIdentity"]> },
    tenantId: Id<"tenants">,
  ) {
    const tenantLog = await owner.client.query(api.audit.listForTenant, {
      tenantId,
      paginationOpts: page(100),
    });
    const platformLog = await root.client.query(api.audit.listAll, { paginationOpts: page(100) });
    return {
      tenant: tenantLog.page.map((e) => `${e.action} by ${e.actorEmail}`),
      platform: platformLog.page
        .filter((e) => e.tenantId === tenantId)
        .map((e) => `${e.action} by ${e.actorEmail} in ${e.tenantName}`),
    };
  }

  it("are recorded in the workspace's audit log and the platform's: credits, sending, replaying its webhook", async () => {
    const { t, root, owner } = await platform();
    const { tenantId } = await owner.client.mutation(api.tenants.create, ACME);
    const channelId = await owner.client.action(api.channels.create, { tenantId, channel: CHANNEL });
    await root.client.mutation(api.billing.topUp, {
      tenantId,
      amount: "10",
      reason: "Welcome credit",
      key: "k1",
    });
    await root.client.mutation(api.billing.adjust, {
      tenantId,
      amount: "-1",
      reason: "Double grant",
      key: "k2",
    });
    await root.client.mutation(api.billing.setDebtLimit, { tenantId, debtLimit: "7", reason: "Trusted" });
    await root.client.mutation(api.billing.setMarkup, { tenantId, markupBps: 500, reason: "Plan" });
    await root.client.mutation(api.sending.setTenantPaused, {
      tenantId,
      paused: true,
      reason: "Spam reports",
    });
    const eventId = await t.run((ctx) =>
      ctx.db.insert("webhookEvents", {
        provider: "cloud",
        dedupeKey: "quality:1",
        channelId,
        tenantId,
        kind: "quality",
        event: {
          kind: "quality",
          provider: "cloud",
          wabaId: CHANNEL.wabaId,
          displayNumber: "34600111221",
          event: "FLAGGED",
          timestamp: NOV,
        },
        state: "dead",
        attempts: 5,
        lastError: "boom",
        receivedAt: NOV,
      }),
    );
    await root.client.mutation(api.deadLetters.replay, { eventId });

    const actions = [
      "billing.credits_added",
      "billing.balance_adjusted",
      "billing.debt_limit_changed",
      "billing.markup_changed",
      "sending.paused",
      "webhook.replay",
    ];
    const logs = await bothLogs(t, root, owner, tenantId);
    for (const action of actions) {
      expect(logs.tenant).toContain(`${action} by root@platform.test`);
      expect(logs.platform).toContain(`${action} by root@platform.test in ${SETTINGS.name}`);
    }
  });
});
