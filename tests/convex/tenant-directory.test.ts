/**
 * The platform's list of workspaces: paginated rows whose member and channel counts are kept on
 * the tenant (so a page reads one document per workspace), a backfill for tenants counted before
 * that, and tenant names joined on the server into the audit and dead-letter rows.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { addMember, SETTINGS, setup, signUp, type T } from "./factories";
import { fakeProviders } from "./fake-providers";

const KEY = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));

beforeEach(() => {
  vi.useFakeTimers();
  vi.stubEnv("APP_URL", "http://app.test");
  vi.stubEnv("CHANNEL_SECRETS_KEY", KEY);
  vi.stubEnv("CONVEX_SITE_URL", "https://happy-otter-123.convex.site");
  vi.stubEnv("PLATFORM_ADMIN_EMAILS", "root@platform.test");
  // Meta confirms the numbers these tests connect.
  const providers = fakeProviders();
  for (const n of [1, 2]) providers.number(channel(n).phoneNumberId, channel(n).accessToken);
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
  vi.unstubAllGlobals();
});

const page = (numItems = 50, cursor: string | null = null) => ({ numItems, cursor });

const channel = (n: number) => ({
  kind: "cloud" as const,
  name: `Line ${n}`,
  phoneNumberId: `10654035224292${n}`,
  wabaId: "102290129340398",
  displayNumber: `+34 600-111 22${n}`,
  accessToken: `EAAG-cloud-access-token-${n}`,
});

async function stored(t: T, tenantId: Id<"tenants">) {
  return (await t.run((ctx) => ctx.db.get("tenants", tenantId)))!;
}

describe("admin.listTenants", () => {
  it("keeps member and channel counts on the tenant as memberships and channels change", async () => {
    const { t, as } = setup();
    const root = await signUp(as, "root@platform.test");
    const owner = await signUp(as, "olivia@acme.test");
    const { tenantId } = await owner.client.mutation(api.tenants.create, SETTINGS);
    const row = async () =>
      (await root.client.query(api.admin.listTenants, { paginationOpts: page() })).page.find(
        (r) => r.tenantId === tenantId,
      );
    expect(await row()).toMatchObject({ name: SETTINGS.name, slug: "acme-shoes", members: 1, channels: 0 });

    const adam = await addMember(t, as, owner.client, tenantId, "adam@acme.test", "admin");
    const agnes = await addMember(t, as, owner.client, tenantId, "agnes@acme.test", "agent");
    expect(await row()).toMatchObject({ members: 3, channels: 0 });

    await adam.client.action(api.channels.create, { tenantId, channel: channel(1) });
    await adam.client.action(api.channels.create, { tenantId, channel: channel(2) });
    expect(await row()).toMatchObject({ members: 3, channels: 2 });

    await adam.client.mutation(api.members.remove, { tenantId, membershipId: agnes.membershipId });
    await adam.client.mutation(api.members.leave, { tenantId });
    expect(await row()).toMatchObject({ members: 1, channels: 2 });
    expect(await stored(t, tenantId)).toMatchObject({ memberCount: 1, channelCount: 2 });
  });

  it("reads the kept counts instead of counting memberships for every tenant", async () => {
    const { t, as } = setup();
    const root = await signUp(as, "root@platform.test");
    const owner = await signUp(as, "olivia@acme.test");
    const { tenantId } = await owner.client.mutation(api.tenants.create, SETTINGS);
    await t.run((ctx) => ctx.db.patch("tenants", tenantId, { memberCount: 42, channelCount: 7 }));
    const { page: rows } = await root.client.query(api.admin.listTenants, { paginationOpts: page() });
    expect(rows).toEqual([
      {
        tenantId,
        name: SETTINGS.name,
        slug: "acme-shoes",
        createdAt: expect.any(Number),
        members: 42,
        channels: 7,
        channelList: [],
        sendingPaused: null,
        currency: "EUR",
        balance: 0,
        available: 0,
        monthSpend: 0,
        lastActivityAt: null,
      },
    ]);
  });

  it("pages through every workspace, newest first", async () => {
    const { as } = setup();
    const root = await signUp(as, "root@platform.test");
    const owner = await signUp(as, "olivia@acme.test");
    const names = Array.from({ length: 7 }, (_, i) => `Shop ${i + 1}`);
    for (const name of names) {
      await owner.client.mutation(api.tenants.create, { ...SETTINGS, name });
      vi.advanceTimersByTime(1_000);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 10; i++) {
      const result: Awaited<ReturnType<typeof root.client.query<typeof api.admin.listTenants>>> =
        await root.client.query(api.admin.listTenants, { paginationOpts: page(3, cursor) });
      expect(result.page.length).toBeLessThanOrEqual(3);
      seen.push(...result.page.map((r) => r.name));
      if (result.isDone) break;
      cursor = result.continueCursor;
    }
    expect(seen).toEqual([...names].reverse());
  });

  it("is for platform admins only", async () => {
    const { as } = setup();
    const owner = await signUp(as, "olivia@acme.test");
    await owner.client.mutation(api.tenants.create, SETTINGS);
    await expect(owner.client.query(api.admin.listTenants, { paginationOpts: page() })).rejects.toThrow(
      /platform admins/,
    );
  });
});

describe("admin.backfillTenantCounts", () => {
  it("counts tenants made before counts were kept, in batches, and corrects drifted counts", async () => {
    const { t, as } = setup();
    const root = await signUp(as, "root@platform.test");
    const owner = await signUp(as, "olivia@acme.test");
    const acme = await owner.client.mutation(api.tenants.create, SETTINGS);
    await addMember(t, as, owner.client, acme.tenantId, "adam@acme.test", "admin");
    await owner.client.action(api.channels.create, { tenantId: acme.tenantId, channel: channel(1) });
    // 60 tenants from before counts were kept (more than one batch), and one whose count drifted.
    const old = await t.run(async (ctx) => {
      const ids: Id<"tenants">[] = [];
      for (let i = 0; i < 60; i++) {
        ids.push(
          await ctx.db.insert("tenants", {
            ...SETTINGS,
            name: `Old ${i}`,
            slug: `old-${i}`,
            createdBy: owner.userId,
            createdAt: Date.now(),
          }),
        );
      }
      await ctx.db.insert("memberships", {
        tenantId: ids[0]!,
        userId: owner.userId,
        role: "owner",
        createdAt: Date.now(),
      });
      await ctx.db.patch("tenants", acme.tenantId, { memberCount: 9 });
      return ids;
    });
    const before = await root.client.query(api.admin.listTenants, { paginationOpts: page(100) });
    expect(before.page.find((r) => r.tenantId === old[0])).toMatchObject({ members: null, channels: null });

    // A counter change before the backfill leaves an uncounted tenant uncounted (not "1").
    await addMember(t, as, owner.client, old[0]!, "late@acme.test", "viewer");
    expect((await stored(t, old[0]!)).memberCount).toBeUndefined();

    await t.mutation(internal.admin.backfillTenantCounts, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const after = await root.client.query(api.admin.listTenants, { paginationOpts: page(100) });
    expect(after.page).toHaveLength(61);
    expect(after.page.every((r) => r.members !== null && r.channels !== null)).toBe(true);
    expect(after.page.find((r) => r.tenantId === old[0])).toMatchObject({ members: 2, channels: 0 });
    expect(after.page.find((r) => r.tenantId === old[1])).toMatchObject({ members: 0, channels: 0 });
    expect(after.page.find((r) => r.tenantId === acme.tenantId)).toMatchObject({ members: 2, channels: 1 });
  });
});

describe("tenant names joined on the server", () => {
  it("names the workspace of each platform audit event and dead letter", async () => {
    const { t, as } = setup();
    const root = await signUp(as, "root@platform.test");
    const owner = await signUp(as, "olivia@acme.test");
    const { tenantId } = await owner.client.mutation(api.tenants.create, SETTINGS);
    const [routed, unrouted] = await t.run(async (ctx) => {
      const base = {
        provider: "cloud" as const,
        kind: "message",
        event: {
          kind: "unhandled" as const,
          provider: "cloud" as const,
          field: "messages",
          timestamp: 0,
          raw: "{}",
        },
        state: "dead" as const,
        attempts: 6,
        lastError: "boom",
        receivedAt: Date.now(),
      };
      return [
        await ctx.db.insert("webhookEvents", { ...base, dedupeKey: "cloud:a", tenantId }),
        await ctx.db.insert("webhookEvents", { ...base, dedupeKey: "cloud:b" }),
      ];
    });

    const audit = await root.client.query(api.audit.listAll, { paginationOpts: page() });
    expect(audit.page.find((e) => e.action === "tenant.created")).toMatchObject({
      tenantId,
      tenantName: SETTINGS.name,
    });
    const granted = audit.page.find((e) => e.action === "platform_admin.granted");
    expect(granted).toBeDefined();
    expect(granted!.tenantName).toBeUndefined();

    const tenantLog = await owner.client.query(api.audit.listForTenant, { tenantId, paginationOpts: page() });
    expect(tenantLog.page.every((e) => e.tenantName === SETTINGS.name)).toBe(true);

    const letters = await root.client.query(api.deadLetters.list, { paginationOpts: page() });
    expect(letters.page.find((d) => d.eventId === routed)).toMatchObject({
      tenantId,
      tenant: { name: SETTINGS.name, slug: "acme-shoes" },
    });
    expect(letters.page.find((d) => d.eventId === unrouted)).toMatchObject({ tenantId: null, tenant: null });
  });
});

describe("admin.tenant", () => {
  it("returns one workspace by id for its admin page, and null for an id that is not one", async () => {
    const { t, as } = setup();
    const root = await signUp(as, "root@platform.test");
    const owner = await signUp(as, "olivia@acme.test");
    const { tenantId } = await owner.client.mutation(api.tenants.create, SETTINGS);
    expect(await root.client.query(api.admin.tenant, { tenantId })).toEqual({
      tenantId,
      name: SETTINGS.name,
      slug: "acme-shoes",
      createdAt: expect.any(Number),
      members: 1,
      channels: 0,
      channelList: [],
      sendingPaused: null,
      currency: SETTINGS.currency,
      balance: 0,
      available: 0,
      monthSpend: 0,
      lastActivityAt: null,
      timeZone: SETTINGS.timeZone,
      defaultCountry: SETTINGS.defaultCountry,
    });
    expect(await root.client.query(api.admin.tenant, { tenantId: "not-an-id" })).toBeNull();
    await t.run((ctx) => ctx.db.delete("tenants", tenantId));
    expect(await root.client.query(api.admin.tenant, { tenantId })).toBeNull();
  });
});
