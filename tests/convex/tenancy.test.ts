import { convexTest } from "convex-test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api } from "../../convex/_generated/api";
import schema from "../../convex/schema";

const modules = import.meta.glob("../../convex/**/*.*s");

function setup() {
  const t = convexTest(schema, modules);
  const as = (email: string, name = email.split("@")[0]) =>
    t.withIdentity({ subject: email, issuer: "https://idp.test", email, name, emailVerified: true });
  return { t, as };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.stubEnv("APP_URL", "http://app.test");
  vi.stubEnv("PLATFORM_ADMIN_EMAILS", "root@platform.test");
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

async function signUp(as: ReturnType<typeof setup>["as"], email: string) {
  const user = as(email);
  await user.mutation(api.users.ensure, {});
  return user;
}

const settings = { name: "Acme Shoes", currency: "EUR", timeZone: "Europe/Madrid", defaultCountry: "ES" };

describe("tenants", () => {
  it("makes the creator the owner and records it in the audit log", async () => {
    const { as } = setup();
    const ana = await signUp(as, "ana@acme.test");
    const { tenantId, slug } = await ana.mutation(api.tenants.create, settings);
    expect(slug).toBe("acme-shoes");
    const me = await ana.query(api.users.me, {});
    expect(me?.tenants).toEqual([{ tenantId, name: "Acme Shoes", slug: "acme-shoes", role: "owner" }]);
    const audit = await ana.query(api.audit.listForTenant, {
      tenantId,
      paginationOpts: { numItems: 10, cursor: null },
    });
    expect(audit.page.map((e) => e.action)).toEqual(["tenant.created"]);
  });

  it("invites by email, delivers the link to the outbox, and lets the invitee join with that role", async () => {
    const { t, as } = setup();
    const ana = await signUp(as, "ana@acme.test");
    const { tenantId } = await ana.mutation(api.tenants.create, settings);
    await ana.mutation(api.invitations.create, { tenantId, email: "Bob@Acme.test", role: "agent" });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const [email] = await ana.query(api.emails.listForTenant, { tenantId });
    expect(email).toMatchObject({ to: "bob@acme.test", provider: "outbox", status: "stored" });
    const token = /\/invitations\/([A-Za-z0-9_-]+)/.exec(email.text!)![1];

    const bob = await signUp(as, "bob@acme.test");
    expect(await bob.query(api.invitations.preview, { token })).toMatchObject({
      role: "agent",
      forYou: true,
    });
    const joined = await bob.mutation(api.invitations.accept, { token });
    expect(joined).toMatchObject({ tenantId, role: "agent" });
    await expect(
      bob.mutation(api.tenants.updateSettings, { tenantId, ...settings, name: "Mine" }),
    ).rejects.toThrow(/admin role or higher/);
    expect(await bob.mutation(api.invitations.accept, { token })).toMatchObject({
      ok: false,
      code: "CONFLICT",
      message: expect.stringMatching(/already accepted/),
    });
  });

  it("refuses an invitation link to someone signed in with another email", async () => {
    const { t, as } = setup();
    const ana = await signUp(as, "ana@acme.test");
    const { tenantId } = await ana.mutation(api.tenants.create, settings);
    await ana.mutation(api.invitations.create, { tenantId, email: "bob@acme.test", role: "viewer" });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const [email] = await ana.query(api.emails.listForTenant, { tenantId });
    const token = /\/invitations\/([A-Za-z0-9_-]+)/.exec(email.text!)![1];
    const eve = await signUp(as, "eve@evil.test");
    expect(await eve.mutation(api.invitations.accept, { token })).toMatchObject({
      ok: false,
      code: "FORBIDDEN",
      message: expect.stringMatching(/for bob@acme.test/),
    });
  });

  it("keeps the last owner from leaving or being demoted", async () => {
    const { as } = setup();
    const ana = await signUp(as, "ana@acme.test");
    const { tenantId } = await ana.mutation(api.tenants.create, settings);
    const [owner] = await ana.query(api.members.list, { tenantId });
    await expect(ana.mutation(api.members.leave, { tenantId })).rejects.toThrow(/last owner/);
    await expect(
      ana.mutation(api.members.changeRole, { tenantId, membershipId: owner.membershipId, role: "admin" }),
    ).rejects.toThrow(/at least one owner/);
  });
});

describe("invitation delivery without APP_URL", () => {
  it("shows the reason on the invitation instead of looking sent", async () => {
    const { t, as } = setup();
    vi.stubEnv("APP_URL", "");
    const ana = await signUp(as, "ana@acme.test");
    const { tenantId } = await ana.mutation(api.tenants.create, settings);
    await ana.mutation(api.invitations.create, { tenantId, email: "bob@acme.test", role: "agent" });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const [pending] = await ana.query(api.invitations.listPending, { tenantId });
    expect(pending).toMatchObject({ delivered: false, deliveryError: expect.stringMatching(/APP_URL/) });
    expect(await ana.query(api.emails.listForTenant, { tenantId })).toEqual([]);
  });
});
