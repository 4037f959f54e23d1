/** WhatsApp channels: connecting, editing, disabling, secrets at rest and out of reach, audit, key rotation. */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { decryptSecrets, encryptSecrets } from "../../convex/model/whatsapp/secrets";
import { expectCode, setup, signUp, twoTenants, type T } from "./factories";
import { fakeProviders, type FakeProviders } from "./fake-providers";

const newKey = () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
const KEY = newKey();
const SITE = "https://happy-otter-123.convex.site";

const TOKEN = "EAAG-cloud-access-token-9f3a";
const API_KEY = "waha-api-key-secret-77c1";
const HMAC_KEY = "waha-hmac-key-secret-0b2e";

const cloud = (overrides: Record<string, string> = {}) => ({
  kind: "cloud" as const,
  name: "Main line",
  phoneNumberId: "106540352242922",
  wabaId: "102290129340398",
  displayNumber: "+34 600-111 222",
  accessToken: TOKEN,
  ...overrides,
});

const waha = (overrides: Record<string, string> = {}) => ({
  kind: "waha" as const,
  name: "Shop phone",
  baseUrl: "https://waha.acme.test/",
  session: "default",
  apiKey: API_KEY,
  webhookHmacKey: HMAC_KEY,
  ...overrides,
});

let providers: FakeProviders;

beforeEach(() => {
  // The provider confirms every number and session these tests connect (unless a test says not).
  providers = fakeProviders();
  for (const id of ["106540352242922", "106540352242999"]) {
    providers.number(id, TOKEN);
    providers.number(id, "EAAG-replacement-token-1234");
  }
  for (let i = 0; i < 10; i++) providers.number(`10000000000000${i}`, TOKEN);
  for (let i = 0; i < 60; i++)
    providers.number(`2000000000${String(i).padStart(3, "0")}`, `token-number-${i}`);
  for (const session of ["default", "second"]) {
    for (const key of [API_KEY, "waha-api-key-rotated-5d5d", "fresh-api-key-0001"])
      providers.session("https://waha.acme.test", session, key);
  }
  vi.useFakeTimers();
  vi.stubEnv("APP_URL", "http://app.test");
  vi.stubEnv("CHANNEL_SECRETS_KEY", KEY);
  vi.stubEnv("CONVEX_SITE_URL", `${SITE}/`);
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

async function world() {
  const { t, as } = setup();
  const w = await twoTenants(t, as);
  const admin = w.adminA.client;
  const tenantId = w.tenantA;
  return { t, w, admin, tenantId };
}

async function worldWithAs() {
  const { t, as } = setup();
  const w = await twoTenants(t, as);
  // A channel to copy the fields of.
  await w.adminA.client.action(api.channels.create, { tenantId: w.tenantA, channel: cloud() });
  return { t, as, w, admin: w.adminA.client, tenantId: w.tenantA };
}

async function stored(t: T, channelId: Id<"channels">) {
  return (await t.run((ctx) => ctx.db.get("channels", channelId)))!;
}

async function auditOf(t: T, tenantId?: Id<"tenants">) {
  const events = await t.run((ctx) => ctx.db.query("auditEvents").collect());
  return events.filter((e) => e.tenantId === tenantId && e.action.startsWith("channel."));
}

describe("connecting a channel", () => {
  it("stores a Cloud API channel normalised, with its token encrypted and only a hint shown", async () => {
    const { t, admin, tenantId, w } = await world();
    const channelId = await admin.action(api.channels.create, { tenantId, channel: cloud() });

    const listed = await w.viewerA.client.query(api.channels.list, { tenantId });
    expect(listed).toEqual([
      {
        channelId,
        kind: "cloud",
        name: "Main line",
        enabled: true,
        createdAt: expect.any(Number),
        phoneNumberId: "106540352242922",
        wabaId: "102290129340398",
        displayNumber: "+34600111222",
        baseUrl: null,
        session: null,
        secretHints: { accessToken: "9f3a" },
        health: { lastWebhookAt: null, wahaStatus: null, qualityRating: null, messagingTier: null },
        webhook: { path: "/whatsapp/cloud", url: `${SITE}/whatsapp/cloud` },
      },
    ]);
    expect(await w.viewerA.client.query(api.channels.get, { tenantId, channelId })).toEqual(listed[0]);

    const row = await stored(t, channelId);
    expect(row.secrets).not.toContain(TOKEN);
    expect(row.secrets).toMatch(/^v1:[0-9a-f]{8}:/);
    expect(await decryptSecrets(row.secrets)).toEqual({ accessToken: TOKEN });
  });

  it("gives a WAHA channel its own webhook address, by channel id", async () => {
    const { admin, tenantId } = await world();
    const channelId = await admin.action(api.channels.create, { tenantId, channel: waha() });
    const channel = await admin.query(api.channels.get, { tenantId, channelId });
    expect(channel).toMatchObject({
      kind: "waha",
      baseUrl: "https://waha.acme.test",
      session: "default",
      phoneNumberId: null,
      secretHints: { apiKey: "77c1", webhookHmacKey: "0b2e" },
      webhook: { path: `/whatsapp/waha/${channelId}`, url: `${SITE}/whatsapp/waha/${channelId}` },
    });
  });

  it("shows the webhook path without a URL when the deployment's site URL is unknown", async () => {
    const { admin, tenantId } = await world();
    vi.stubEnv("CONVEX_SITE_URL", "");
    const channelId = await admin.action(api.channels.create, { tenantId, channel: cloud() });
    const channel = await admin.query(api.channels.get, { tenantId, channelId });
    expect(channel.webhook).toEqual({ path: "/whatsapp/cloud", url: null });
  });

  it.each([
    ["name", cloud({ name: " " })],
    ["phoneNumberId", cloud({ phoneNumberId: "" })],
    ["phoneNumberId", cloud({ phoneNumberId: "10654-abc" })],
    ["wabaId", cloud({ wabaId: "waba" })],
    ["displayNumber", cloud({ displayNumber: "600 111" })],
    ["displayNumber", cloud({ displayNumber: "+34 600 111 222 ext 5" })],
    ["accessToken", cloud({ accessToken: "" })],
    ["accessToken", cloud({ accessToken: "short" })],
    ["accessToken", cloud({ accessToken: "two words-token" })],
    ["baseUrl", waha({ baseUrl: "" })],
    ["baseUrl", waha({ baseUrl: "waha.acme.test" })],
    ["baseUrl", waha({ baseUrl: "ftp://waha.acme.test" })],
    ["baseUrl", waha({ baseUrl: "https://user:pw@waha.acme.test" })],
    ["session", waha({ session: "my session" })],
    ["apiKey", waha({ apiKey: "   " })],
    ["webhookHmacKey", waha({ webhookHmacKey: "" })],
  ])("refuses a bad %s, on that field, and stores nothing", async (field, channel) => {
    const { t, admin, tenantId } = await world();
    const error = await expectCode(
      admin.action(api.channels.create, { tenantId, channel }),
      "INVALID",
      field,
    );
    expect(error.message.length).toBeGreaterThan(5);
    expect(await t.run((ctx) => ctx.db.query("channels").collect())).toEqual([]);
    expect(await auditOf(t, tenantId)).toEqual([]);
  });

  it("accepts international numbers written in the usual ways", async () => {
    const { admin, tenantId } = await world();
    const forms = ["+1 (555) 010-4477", "0015550104477", "15550104477"];
    for (const [i, displayNumber] of forms.entries()) {
      const channelId = await admin.action(api.channels.create, {
        tenantId,
        channel: cloud({ displayNumber, phoneNumberId: `10000000000000${i}` }),
      });
      expect((await admin.query(api.channels.get, { tenantId, channelId })).displayNumber).toBe(
        "+15550104477",
      );
    }
  });

  it("connects a phone number id once on the whole platform", async () => {
    const { t, admin, tenantId, w } = await world();
    await admin.action(api.channels.create, { tenantId, channel: cloud() });

    const again = await expectCode(
      admin.action(api.channels.create, { tenantId, channel: cloud({ name: "Again" }) }),
      "CONFLICT",
      "phoneNumberId",
    );
    expect(again.message).toContain("Main line");

    // Another workspace is refused too, and learns nothing about who holds the number.
    const elsewhere = await expectCode(
      w.ownerB.client.action(api.channels.create, {
        tenantId: w.tenantB,
        channel: cloud({ name: "Mine" }),
      }),
      "CONFLICT",
      "phoneNumberId",
    );
    expect(elsewhere.message).not.toContain("Main line");
    expect(elsewhere.message).not.toContain("Acme");
    expect(await t.run((ctx) => ctx.db.query("channels").collect())).toHaveLength(1);
  });

  it("connects a WAHA session once per workspace", async () => {
    const { admin, tenantId, w } = await world();
    await admin.action(api.channels.create, { tenantId, channel: waha() });
    await expectCode(
      admin.action(api.channels.create, {
        tenantId,
        channel: waha({ name: "Twin", baseUrl: "https://waha.acme.test" }),
      }),
      "CONFLICT",
      "session",
    );
    // Another session on the same server is a different number.
    await admin.action(api.channels.create, {
      tenantId,
      channel: waha({ name: "Second", session: "second" }),
    });
    // Another workspace may use its own session named the same on the same server.
    await w.ownerB.client.action(api.channels.create, { tenantId: w.tenantB, channel: waha() });
  });

  it("audits the creation with the non-secret fields and the names of the secrets, never their values", async () => {
    const { t, admin, tenantId, w } = await world();
    const channelId = await admin.action(api.channels.create, { tenantId, channel: waha() });
    const [event] = await auditOf(t, tenantId);
    expect(event).toMatchObject({
      action: "channel.created",
      actorId: w.adminA.userId,
      targetType: "channel",
      targetId: channelId,
      summary: "Connected WAHA channel Shop phone",
      after: {
        kind: "waha",
        name: "Shop phone",
        enabled: true,
        baseUrl: "https://waha.acme.test",
        session: "default",
        secretsSet: "apiKey, webhookHmacKey",
      },
    });
    const text = JSON.stringify(await t.run((ctx) => ctx.db.query("auditEvents").collect()));
    for (const secret of [API_KEY, HMAC_KEY]) expect(text).not.toContain(secret);
  });
});

describe("the provider confirms the secrets before a channel is saved", () => {
  it("refuses a token Meta does not accept, on the token, and stores nothing", async () => {
    const { t, admin, tenantId } = await world();
    const error = await expectCode(
      admin.action(api.channels.create, { tenantId, channel: cloud({ accessToken: "EAAG-made-up-token" }) }),
      "INVALID",
      "accessToken",
    );
    expect(error.message).toContain("Meta does not accept this access token");
    expect(providers.calls).toEqual([
      expect.stringMatching(/^GET https:\/\/graph\.facebook\.com\/v23\.0\/106540352242922\?fields=/),
    ]);
    expect(await t.run((ctx) => ctx.db.query("channels").collect())).toEqual([]);
    expect(await auditOf(t, tenantId)).toEqual([]);
  });

  it("refuses another tenant's number: a real token that cannot read it does not claim it", async () => {
    const { t, admin, tenantId, w } = await world();
    // Tenant B holds a genuine token, for its own number only.
    providers.number("777000111222333", "EAAG-tenant-b-own-token");
    const squat = await expectCode(
      w.ownerB.client.action(api.channels.create, {
        tenantId: w.tenantB,
        channel: cloud({ name: "Not mine", accessToken: "EAAG-tenant-b-own-token" }),
      }),
      "INVALID",
      "phoneNumberId",
    );
    expect(squat.message).toContain("The token cannot read this phone number");
    // The real owner connects it without a conflict.
    const channelId = await admin.action(api.channels.create, { tenantId, channel: cloud() });
    expect((await stored(t, channelId)).tenantId).toBe(tenantId);
    // Nor can B move its own channel onto the number by editing it.
    const own = await w.ownerB.client.action(api.channels.create, {
      tenantId: w.tenantB,
      channel: cloud({
        name: "Mine",
        phoneNumberId: "777000111222333",
        accessToken: "EAAG-tenant-b-own-token",
      }),
    });
    const { accessToken: _blank, ...noToken } = cloud({ name: "Mine" });
    await expectCode(
      w.ownerB.client.action(api.channels.update, {
        tenantId: w.tenantB,
        channelId: own,
        channel: { ...noToken, phoneNumberId: "106540352242999" },
      }),
      "INVALID",
      "phoneNumberId",
    );
    expect((await stored(t, own)).phoneNumberId).toBe("777000111222333");
  });

  it("refuses a WAHA key the server does not accept, a session it does not have, and a server it cannot reach", async () => {
    const { t, admin, tenantId } = await world();
    await expectCode(
      admin.action(api.channels.create, { tenantId, channel: waha({ apiKey: "waha-wrong-api-key" }) }),
      "INVALID",
      "apiKey",
    );
    await expectCode(
      admin.action(api.channels.create, { tenantId, channel: waha({ session: "nobody" }) }),
      "INVALID",
      "session",
    );
    const unreachable = await expectCode(
      admin.action(api.channels.create, {
        tenantId,
        channel: waha({ baseUrl: "https://waha.elsewhere.test" }),
      }),
      "INVALID",
      "baseUrl",
    );
    expect(unreachable.message).toContain("cannot be reached");
    expect(await t.run((ctx) => ctx.db.query("channels").collect())).toEqual([]);
  });

  it("asks again only when what the provider vouches for changes", async () => {
    const { admin, tenantId } = await world();
    const channelId = await admin.action(api.channels.create, { tenantId, channel: cloud() });
    const { accessToken: _blank, ...noToken } = cloud({ name: "Renamed line" });
    const before = providers.calls.length;
    await admin.action(api.channels.update, { tenantId, channelId, channel: noToken });
    expect(providers.calls.length).toBe(before);
    await admin.action(api.channels.update, {
      tenantId,
      channelId,
      channel: cloud({ accessToken: "EAAG-replacement-token-1234" }),
    });
    expect(providers.calls.length).toBe(before + 1);
  });
});

describe("WAHA addresses the backend must not call (SSRF)", () => {
  it.each([
    "http://169.254.169.254/latest/meta-data",
    "http://localhost:6379",
    "http://127.0.0.1:3000",
    "http://2130706433/",
    "http://0x7f.0.0.1/",
    "http://10.0.0.5",
    "http://172.16.0.1",
    "http://192.168.1.10:3000",
    "http://100.64.0.1",
    "http://0.0.0.0:3000",
    "http://224.0.0.1",
    "http://[::1]:3000",
    "http://[::ffff:127.0.0.1]",
    "http://[::ffff:a9fe:a9fe]",
    "http://[fd00:ec2::254]",
    "http://[fe80::1]",
    "http://metadata.google.internal",
    "http://waha.localhost",
    "http://printer.local",
    "http://waha:3000",
  ])("refuses %s when saving, on the address, without calling it", async (baseUrl) => {
    const { t, admin, tenantId } = await world();
    const error = await expectCode(
      admin.action(api.channels.create, { tenantId, channel: waha({ baseUrl }) }),
      "INVALID",
      "baseUrl",
    );
    expect(error.message).toContain("Switchboard does not call this address");
    expect(providers.calls).toEqual([]);
    expect(await t.run((ctx) => ctx.db.query("channels").collect())).toEqual([]);
  });

  it("refuses a stored private address when calling, and allows private addresses on the embedded default", async () => {
    const { t, admin, tenantId } = await world();
    vi.stubEnv("ALLOW_PRIVATE_PROVIDER_URLS", "true");
    providers.session("http://127.0.0.1:3000", "default", API_KEY);
    const channelId = await admin.action(api.channels.create, {
      tenantId,
      channel: waha({ baseUrl: "http://127.0.0.1:3000" }),
    });
    expect((await stored(t, channelId)).baseUrl).toBe("http://127.0.0.1:3000");
    // The same deployment without the switch: the stored address is not called.
    vi.stubEnv("ALLOW_PRIVATE_PROVIDER_URLS", "");
    const calls = providers.calls.length;
    await expectCode(
      admin.action(api.channels.update, {
        tenantId,
        channelId,
        channel: waha({ baseUrl: "http://127.0.0.1:3000", apiKey: "waha-api-key-rotated-5d5d" }),
      }),
      "INVALID",
      "baseUrl",
    );
    expect(providers.calls.length).toBe(calls);
  });
});

describe("the provider's view of a channel's health", () => {
  it("stores the WAHA session's status when the channel is connected, refreshed on demand and on enabling", async () => {
    const { t, admin, tenantId, w } = await world();
    const channelId = await admin.action(api.channels.create, { tenantId, channel: waha() });
    const health = async () =>
      (await w.viewerA.client.query(api.channels.get, { tenantId, channelId })).health;
    expect((await health()).wahaStatus).toBe("WORKING");

    // Anyone in the workspace may ask again from the channel's page.
    providers.session("https://waha.acme.test", "default", API_KEY, "SCAN_QR_CODE");
    expect(await w.viewerA.client.action(api.channels.refreshStatus, { tenantId, channelId })).toEqual({
      ok: true,
      message: null,
    });
    expect((await health()).wahaStatus).toBe("SCAN_QR_CODE");

    // Enabling a disabled channel asks at once.
    await admin.mutation(api.channels.setEnabled, { tenantId, channelId, enabled: false });
    providers.session("https://waha.acme.test", "default", API_KEY, "STOPPED");
    await admin.mutation(api.channels.setEnabled, { tenantId, channelId, enabled: true });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect((await health()).wahaStatus).toBe("STOPPED");
  });

  it("says why the status could not be read, and keeps the last one", async () => {
    const { t, admin, tenantId } = await world();
    const channelId = await admin.action(api.channels.create, { tenantId, channel: waha() });
    await t.run((ctx) => ctx.db.patch("channels", channelId, { session: "vanished" }));
    const result = await admin.action(api.channels.refreshStatus, { tenantId, channelId });
    expect(result.ok).toBe(false);
    expect(result.message).toContain("The WAHA server did not answer");
    expect((await stored(t, channelId)).wahaStatus).toBe("WORKING");
  });
});

describe("phone-number conflicts, resolved by a platform admin", () => {
  it("releases a squatted number (both workspaces' logs say so) so its owner can connect it, or gives it to a channel", async () => {
    vi.stubEnv("PLATFORM_ADMIN_EMAILS", "root@platform.test");
    const { t, as, admin, tenantId, w } = await worldWithAs();
    // A channel that holds the number without having proved it (connected before numbers were checked).
    const squatter = await t.run(async (ctx) => {
      const { _id, _creationTime, ...fields } = (await ctx.db.get(
        "channels",
        await ctx.db
          .query("channels")
          .collect()
          .then((rows) => rows[0]._id),
      ))!;
      return { fields, _id };
    });
    await t.run((ctx) => ctx.db.delete("channels", squatter._id));
    const squatted = await t.run((ctx) =>
      ctx.db.insert("channels", { ...squatter.fields, tenantId: w.tenantB, name: "Squatted line" }),
    );
    await expectCode(
      admin.action(api.channels.create, { tenantId, channel: cloud() }),
      "CONFLICT",
      "phoneNumberId",
    );

    const root = await signUp(as, "root@platform.test");
    await expectCode(
      admin.mutation(api.channels.reassignPhoneNumber, {
        phoneNumberId: "106540352242922",
        toChannelId: null,
        reason: "Acme proved it owns the number",
      }),
      "FORBIDDEN",
    );
    const result = await root.client.mutation(api.channels.reassignPhoneNumber, {
      phoneNumberId: "106540352242922",
      toChannelId: null,
      reason: "Acme proved it owns the number",
    });
    expect(result).toEqual({
      phoneNumberId: "106540352242922",
      released: [{ channelId: squatted, tenantId: w.tenantB, name: "Squatted line" }],
      assignedTo: null,
    });
    expect(await stored(t, squatted)).toMatchObject({ enabled: false });
    expect((await stored(t, squatted)).phoneNumberId).toBeUndefined();
    const [released] = await auditOf(t, w.tenantB);
    expect(released).toMatchObject({ action: "channel.number_released", targetId: squatted });
    expect(released.summary).toContain("Acme proved it owns the number");

    // The owner connects it now, confirmed by the provider.
    const owned = await admin.action(api.channels.create, { tenantId, channel: cloud() });

    // Given to a channel instead: the holder loses it, the target gets it; both logs record it.
    const other = await w.ownerB.client.action(api.channels.create, {
      tenantId: w.tenantB,
      channel: cloud({ name: "Beta line", phoneNumberId: "106540352242999" }),
    });
    await root.client.mutation(api.channels.reassignPhoneNumber, {
      phoneNumberId: "106540352242922",
      toChannelId: other,
      reason: "Meta support confirmed Beta owns it",
    });
    expect((await stored(t, owned)).phoneNumberId).toBeUndefined();
    expect((await stored(t, other)).phoneNumberId).toBe("106540352242922");
    expect((await auditOf(t, tenantId)).map((e) => e.action)).toContain("channel.number_released");
    expect((await auditOf(t, w.tenantB)).map((e) => e.action)).toContain("channel.number_assigned");
    const platform = await t.run((ctx) => ctx.db.query("auditEvents").collect());
    expect(platform.filter((e) => e.action === "channel.number_reassigned")).toHaveLength(2);
  });
});

describe("editing a channel", () => {
  it("keeps a secret left blank and re-encrypts one that is replaced", async () => {
    const { t, admin, tenantId } = await world();
    const channelId = await admin.action(api.channels.create, { tenantId, channel: waha() });
    const first = await stored(t, channelId);

    // Blank secrets, a new name: the secrets stay exactly as they were.
    await admin.action(api.channels.update, {
      tenantId,
      channelId,
      channel: waha({ name: "Shop phone (front desk)", apiKey: "", webhookHmacKey: "  " }),
    });
    const renamed = await stored(t, channelId);
    expect(renamed.name).toBe("Shop phone (front desk)");
    expect(renamed.secrets).toBe(first.secrets);

    // A new API key: re-encrypted (new ciphertext), the other secret kept, the hint updated.
    const newKey = "waha-api-key-rotated-5d5d";
    const { webhookHmacKey: _omitted, ...withoutHmac } = waha({
      name: "Shop phone (front desk)",
      apiKey: newKey,
    });
    await admin.action(api.channels.update, { tenantId, channelId, channel: withoutHmac });
    const replaced = await stored(t, channelId);
    expect(replaced.secrets).not.toBe(first.secrets);
    expect(await decryptSecrets(replaced.secrets)).toEqual({ apiKey: newKey, webhookHmacKey: HMAC_KEY });
    expect((await admin.query(api.channels.get, { tenantId, channelId })).secretHints).toEqual({
      apiKey: "5d5d",
      webhookHmacKey: "0b2e",
    });

    const events = await auditOf(t, tenantId);
    expect(events.map((e) => e.action)).toEqual(["channel.created", "channel.updated", "channel.updated"]);
    expect(events[1]).toMatchObject({
      before: { name: "Shop phone" },
      after: { name: "Shop phone (front desk)" },
    });
    expect(events[1].after).not.toHaveProperty("secretsChanged");
    expect(events[2]).toMatchObject({ before: {}, after: { secretsChanged: "apiKey" } });
    const text = JSON.stringify(events);
    for (const secret of [API_KEY, HMAC_KEY, newKey]) expect(text).not.toContain(secret);
  });

  it("records nothing when nothing changes, even when the same secret is typed again", async () => {
    const { t, admin, tenantId } = await world();
    const channelId = await admin.action(api.channels.create, { tenantId, channel: cloud() });
    const before = await stored(t, channelId);
    await admin.action(api.channels.update, { tenantId, channelId, channel: cloud() });
    expect((await stored(t, channelId)).secrets).toBe(before.secrets);
    expect((await auditOf(t, tenantId)).map((e) => e.action)).toEqual(["channel.created"]);
  });

  it("checks edits like new channels: fields, uniqueness (but not against itself) and kind", async () => {
    const { admin, tenantId } = await world();
    const mainId = await admin.action(api.channels.create, { tenantId, channel: cloud() });
    const otherId = await admin.action(api.channels.create, {
      tenantId,
      channel: cloud({ name: "Other", phoneNumberId: "106540352242999" }),
    });
    await expectCode(
      admin.action(api.channels.update, {
        tenantId,
        channelId: otherId,
        channel: cloud({ name: "Other" }),
      }),
      "CONFLICT",
      "phoneNumberId",
    );
    await expectCode(
      admin.action(api.channels.update, {
        tenantId,
        channelId: mainId,
        channel: cloud({ displayNumber: "12" }),
      }),
      "INVALID",
      "displayNumber",
    );
    await expectCode(
      admin.action(api.channels.update, { tenantId, channelId: mainId, channel: waha() }),
      "INVALID",
      "kind",
    );
    // Its own phone number id is no conflict.
    await admin.action(api.channels.update, {
      tenantId,
      channelId: mainId,
      channel: cloud({ name: "Main line (sales)" }),
    });
    expect((await admin.query(api.channels.get, { tenantId, channelId: mainId })).name).toBe(
      "Main line (sales)",
    );
  });

  it("disables and enables a channel, audited, and does nothing twice", async () => {
    const { t, admin, tenantId, w } = await world();
    const channelId = await admin.action(api.channels.create, { tenantId, channel: cloud() });
    await admin.mutation(api.channels.setEnabled, { tenantId, channelId, enabled: false });
    await admin.mutation(api.channels.setEnabled, { tenantId, channelId, enabled: false });
    expect((await w.viewerA.client.query(api.channels.list, { tenantId }))[0].enabled).toBe(false);
    await admin.mutation(api.channels.setEnabled, { tenantId, channelId, enabled: true });
    expect((await admin.query(api.channels.get, { tenantId, channelId })).enabled).toBe(true);
    const events = await auditOf(t, tenantId);
    expect(events.map((e) => [e.action, e.before, e.after])).toEqual([
      ["channel.created", undefined, expect.anything()],
      ["channel.disabled", { enabled: true }, { enabled: false }],
      ["channel.enabled", { enabled: false }, { enabled: true }],
    ]);
  });

  it("answers an address that is not a channel id, or another workspace's channel, with NOT_FOUND", async () => {
    const { admin, tenantId, w } = await world();
    const theirs = await w.ownerB.client.action(api.channels.create, {
      tenantId: w.tenantB,
      channel: cloud(),
    });
    await expectCode(admin.query(api.channels.get, { tenantId, channelId: "not-a-channel" }), "NOT_FOUND");
    await expectCode(admin.query(api.channels.get, { tenantId, channelId: theirs }), "NOT_FOUND");
  });
});

describe("activity and webhook events", () => {
  async function seed(t: T, tenantId: Id<"tenants">, channelId: Id<"channels">, count: number) {
    return await t.run(async (ctx) => {
      const contactId = await ctx.db.insert("contacts", {
        tenantId,
        name: "Carla Cliente",
        phone: "+34611222333",
        createdAt: 0,
      });
      const conversationId = await ctx.db.insert("conversations", {
        tenantId,
        channelId,
        contactId,
        lastMessageAt: count,
      });
      for (let i = 1; i <= count; i++) {
        await ctx.db.insert("messages", {
          tenantId,
          channelId,
          conversationId,
          contactId,
          direction: i % 2 ? "in" : "out",
          providerMessageId: `wamid.${i}`,
          type: "text",
          text: `message ${i}`,
          status: i % 2 ? "received" : i === count ? "failed" : "delivered",
          statusAt: 1_000 + i,
          ...(i === count
            ? {
                errorCode: 131047,
                errorClass: "window_closed" as const,
                errorMessage: "Re-engagement message",
              }
            : {}),
          createdAt: 1_000 + i,
        });
      }
      for (let i = 1; i <= count; i++) {
        await ctx.db.insert("webhookEvents", {
          provider: "cloud",
          dedupeKey: `key-${channelId}-${i}`,
          channelId,
          tenantId,
          kind: i % 2 ? "message" : "status",
          event: {
            kind: "unhandled" as const,
            provider: "cloud" as const,
            field: "statuses",
            timestamp: 1_000 + i,
            raw: '{"secret":"not shown"}',
          },
          state: i === count ? "dead" : "done",
          attempts: i === count ? 5 : 1,
          ...(i === count ? { lastError: "boom" } : {}),
          receivedAt: 1_000 + i,
        });
      }
    });
  }

  it("lists the channel's latest 50 messages, newest first, with the contact, and nothing of other channels", async () => {
    const { t, admin, tenantId, w } = await world();
    const channelId = await admin.action(api.channels.create, { tenantId, channel: cloud() });
    const otherId = await admin.action(api.channels.create, {
      tenantId,
      channel: cloud({ name: "Other", phoneNumberId: "106540352242999" }),
    });
    await seed(t, tenantId, channelId, 56);
    await seed(t, tenantId, otherId, 3);

    const items = await w.viewerA.client.query(api.channels.activity, { tenantId, channelId });
    expect(items).toHaveLength(50);
    expect(items.map((m) => m.text)).toEqual(Array.from({ length: 50 }, (_, i) => `message ${56 - i}`));
    expect(items[0]).toEqual({
      messageId: expect.any(String),
      direction: "out",
      type: "text",
      text: "message 56",
      status: "failed",
      statusAt: 1_056,
      createdAt: 1_056,
      errorCode: 131047,
      errorClass: "window_closed",
      errorMessage: "Re-engagement message",
      contact: { name: "Carla Cliente", phone: "+34611222333" },
    });
    expect(items[1]).toMatchObject({ direction: "in", status: "received", errorCode: null });
  });

  it("lists the channel's latest 50 webhook events with their state, for admins", async () => {
    const { t, admin, tenantId } = await world();
    const channelId = await admin.action(api.channels.create, { tenantId, channel: cloud() });
    await seed(t, tenantId, channelId, 52);
    const events = await admin.query(api.channels.recentEvents, { tenantId, channelId });
    expect(events).toHaveLength(50);
    expect(events[0]).toEqual({
      eventId: expect.any(String),
      kind: "status",
      state: "dead",
      attempts: 5,
      lastError: "boom",
      receivedAt: 1_052,
      processedAt: null,
    });
    expect(events.at(-1)?.receivedAt).toBe(1_003);
  });

  it("shows health as the webhook pipeline records it", async () => {
    const { t, admin, tenantId } = await world();
    const channelId = await admin.action(api.channels.create, { tenantId, channel: cloud() });
    await t.run((ctx) =>
      ctx.db.patch("channels", channelId, {
        lastWebhookAt: 123_456,
        qualityRating: "GREEN",
        messagingTier: "TIER_2K",
      }),
    );
    expect((await admin.query(api.channels.get, { tenantId, channelId })).health).toEqual({
      lastWebhookAt: 123_456,
      wahaStatus: null,
      qualityRating: "GREEN",
      messagingTier: "TIER_2K",
    });
  });
});

describe("secrets never leave the backend", () => {
  it("appear in no query result for anyone, nor in the audit log", async () => {
    const { t, admin, tenantId, w } = await world();
    const cloudId = await admin.action(api.channels.create, { tenantId, channel: cloud() });
    const wahaId = await admin.action(api.channels.create, { tenantId, channel: waha() });
    const replacement = "EAAG-replacement-token-1234";
    await admin.action(api.channels.update, {
      tenantId,
      channelId: cloudId,
      channel: cloud({ accessToken: replacement }),
    });
    const ciphertexts = [(await stored(t, cloudId)).secrets, (await stored(t, wahaId)).secrets];

    const results: unknown[] = [];
    for (const client of [w.ownerA.client, admin, w.agentA.client, w.viewerA.client]) {
      results.push(await client.query(api.channels.list, { tenantId }));
      for (const channelId of [cloudId, wahaId]) {
        results.push(await client.query(api.channels.get, { tenantId, channelId }));
        results.push(await client.query(api.channels.activity, { tenantId, channelId }));
      }
    }
    for (const channelId of [cloudId, wahaId]) {
      results.push(await admin.query(api.channels.recentEvents, { tenantId, channelId }));
    }
    results.push(
      await admin.query(api.audit.listForTenant, {
        tenantId,
        paginationOpts: { numItems: 100, cursor: null },
      }),
    );

    const text = JSON.stringify(results);
    expect(text).toContain("Main line"); // the scan reads real results
    for (const secret of [TOKEN, replacement, API_KEY, HMAC_KEY, ...ciphertexts]) {
      expect(text).not.toContain(secret);
    }
    expect(text).not.toContain('"secrets"');
  });
});

describe("rotating the channel secrets key", () => {
  it("re-encrypts every channel under the new key, reading the old ones with the previous key", async () => {
    const { t, admin, tenantId, w } = await world();
    const oldKey = KEY;
    // More than one page of channels, across both workspaces.
    const ids: Id<"channels">[] = [];
    for (let i = 0; i < 60; i++) {
      ids.push(
        await (i % 2 ? admin : w.ownerB.client).action(api.channels.create, {
          tenantId: i % 2 ? tenantId : w.tenantB,
          channel: cloud({
            name: `Line ${i}`,
            phoneNumberId: `2000000000${String(i).padStart(3, "0")}`,
            accessToken: `token-number-${i}`,
          }),
        }),
      );
    }
    const before = await Promise.all(ids.map((id) => stored(t, id)));

    const newKeyValue = newKey();
    vi.stubEnv("CHANNEL_SECRETS_KEY", newKeyValue);
    vi.stubEnv("CHANNEL_SECRETS_KEY_PREVIOUS", oldKey);
    // Mid-rotation, the old secrets still read.
    expect(await decryptSecrets(before[0].secrets)).toEqual({ accessToken: "token-number-0" });

    const totals = await t.action(internal.channels.reencryptAll, {});
    expect(totals).toEqual({ reencrypted: 60, alreadyCurrent: 0, failed: [] });

    // Without the previous key, everything still reads: all of it is under the new key.
    vi.stubEnv("CHANNEL_SECRETS_KEY_PREVIOUS", "");
    for (const [i, id] of ids.entries()) {
      const row = await stored(t, id);
      expect(row.secrets).not.toBe(before[i].secrets);
      expect(row.secretHints).toEqual(before[i].secretHints);
      expect(await decryptSecrets(row.secrets)).toEqual({ accessToken: `token-number-${i}` });
    }
    // And the old key alone no longer opens them.
    vi.stubEnv("CHANNEL_SECRETS_KEY", oldKey);
    await expect(decryptSecrets((await stored(t, ids[0])).secrets)).rejects.toThrow(/No CHANNEL_SECRETS_KEY/);
    vi.stubEnv("CHANNEL_SECRETS_KEY", newKeyValue);

    // Running it again changes nothing.
    const snapshot = await Promise.all(ids.map((id) => stored(t, id)));
    expect(await t.action(internal.channels.reencryptAll, {})).toEqual({
      reencrypted: 0,
      alreadyCurrent: 60,
      failed: [],
    });
    expect(await Promise.all(ids.map((id) => stored(t, id)))).toEqual(snapshot);

    const platform = await t.run((ctx) => ctx.db.query("auditEvents").collect());
    const rotations = platform.filter((e) => e.action === "channel.secrets_reencrypted");
    expect(rotations.map((e) => [e.scope, e.actorEmail, e.after])).toEqual([
      ["platform", "system:channels.reencryptAll", { reencrypted: 60, alreadyCurrent: 0, failed: 0 }],
      ["platform", "system:channels.reencryptAll", { reencrypted: 0, alreadyCurrent: 60, failed: 0 }],
    ]);
  });

  it("names the channels neither key opens, and still re-encrypts the rest", async () => {
    const { t, admin, tenantId } = await world();
    const good = await admin.action(api.channels.create, { tenantId, channel: cloud() });
    const lost = await admin.action(api.channels.create, {
      tenantId,
      channel: cloud({ name: "Lost", phoneNumberId: "106540352242999" }),
    });
    // `lost` was encrypted under a key nobody has any more.
    vi.stubEnv("CHANNEL_SECRETS_KEY", newKey());
    const orphaned = await encryptSecrets({ accessToken: "unrecoverable-token" });
    await t.run((ctx) => ctx.db.patch("channels", lost, { secrets: orphaned }));

    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const next = newKey();
    vi.stubEnv("CHANNEL_SECRETS_KEY", next);
    vi.stubEnv("CHANNEL_SECRETS_KEY_PREVIOUS", KEY);
    await expect(t.action(internal.channels.reencryptAll, {})).rejects.toThrow(
      new RegExp(`Re-encrypted 1 channel.*1 could not be decrypted.*${lost}`),
    );
    vi.stubEnv("CHANNEL_SECRETS_KEY_PREVIOUS", "");
    expect(await decryptSecrets((await stored(t, good)).secrets)).toEqual({ accessToken: TOKEN });
    expect((await stored(t, lost)).secrets).toBe(orphaned);
    expect(logged).toHaveBeenCalledWith(expect.stringContaining(lost), expect.any(Error));
  });

  it("lets an admin replace every secret of a channel whose stored secrets are unreadable", async () => {
    const { t, admin, tenantId } = await world();
    const channelId = await admin.action(api.channels.create, { tenantId, channel: waha() });
    vi.stubEnv("CHANNEL_SECRETS_KEY", newKey());
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    // One secret is not enough: the other cannot be carried over.
    const { webhookHmacKey: _h, ...onlyApiKey } = waha({ apiKey: "fresh-api-key-0001" });
    await expectCode(
      admin.action(api.channels.update, { tenantId, channelId, channel: onlyApiKey }),
      "INVALID",
      "webhookHmacKey",
    );
    await admin.action(api.channels.update, {
      tenantId,
      channelId,
      channel: waha({ apiKey: "fresh-api-key-0001", webhookHmacKey: "fresh-hmac-key-0001" }),
    });
    expect(await decryptSecrets((await stored(t, channelId)).secrets)).toEqual({
      apiKey: "fresh-api-key-0001",
      webhookHmacKey: "fresh-hmac-key-0001",
    });
  });
});
