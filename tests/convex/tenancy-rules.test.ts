/** The tenancy model's rules: roles, invitations, settings, slugs, the audit log, platform admins. */
import type { PaginationResult } from "convex/server";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api } from "../../convex/_generated/api";
import type { Doc, Id } from "../../convex/_generated/dataModel";
import type { AuditEventView } from "../../convex/model/audit";
import { INVITATION_TTL_MS } from "../../convex/model/invitations";
import {
  SETTINGS,
  addMember,
  deliveredToken,
  expectCode,
  expectRefused,
  setup,
  signUp,
  snapshot,
  twoTenants,
  type T,
} from "./factories";

const DAY = 24 * 60 * 60 * 1000;
const page = (numItems = 50, cursor: string | null = null) => ({ numItems, cursor });

beforeEach(() => {
  vi.useFakeTimers();
  vi.stubEnv("APP_URL", "http://app.test");
  vi.stubEnv("PLATFORM_ADMIN_EMAILS", "root@platform.test, other-root@platform.test");
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

/** Moves the clock on (so audit events get distinct times) without running scheduled work. */
function later(ms = 1000) {
  vi.setSystemTime(Date.now() + ms);
}

async function world() {
  const { t, as } = setup();
  const w = await twoTenants(t, as);
  return { t, as, w };
}

async function auditRows(t: T, tenantId?: Id<"tenants">): Promise<Doc<"auditEvents">[]> {
  return await t.run(async (ctx) =>
    (await ctx.db.query("auditEvents").withIndex("by_at").order("desc").collect()).filter(
      (e) => tenantId === undefined || e.tenantId === tenantId,
    ),
  );
}

async function newestEvent(t: T, tenantId?: Id<"tenants">) {
  return (await auditRows(t, tenantId))[0];
}

async function invitationRow(t: T, id: Id<"invitations">) {
  return (await t.run((ctx) => ctx.db.get("invitations", id)))!;
}

async function roleOf(t: T, tenantId: Id<"tenants">, userId: Id<"users">) {
  return await t.run(async (ctx) => {
    const m = await ctx.db
      .query("memberships")
      .withIndex("by_tenant_user", (q) => q.eq("tenantId", tenantId).eq("userId", userId))
      .unique();
    return m?.role ?? null;
  });
}

// ---------------------------------------------------------------- roles

describe("roles", () => {
  it("lets admins manage admins, agents and viewers", async () => {
    const { t, w } = await world();
    const admin = w.adminA.client;
    const tenantId = w.tenantA;

    await admin.mutation(api.members.changeRole, {
      tenantId,
      membershipId: w.agentA.membershipId,
      role: "viewer",
    });
    expect(await roleOf(t, tenantId, w.agentA.userId)).toBe("viewer");
    expect(await newestEvent(t, tenantId)).toMatchObject({
      action: "member.role_changed",
      actorId: w.adminA.userId,
      actorEmail: "adam@acme.test",
      targetId: w.agentA.userId,
      before: { role: "agent" },
      after: { role: "viewer" },
    });

    await admin.mutation(api.members.changeRole, {
      tenantId,
      membershipId: w.viewerA.membershipId,
      role: "admin",
    });
    expect(await roleOf(t, tenantId, w.viewerA.userId)).toBe("admin");
    // ...and back down: admins manage other admins too.
    await admin.mutation(api.members.changeRole, {
      tenantId,
      membershipId: w.viewerA.membershipId,
      role: "agent",
    });
    expect(await roleOf(t, tenantId, w.viewerA.userId)).toBe("agent");

    await admin.mutation(api.members.remove, { tenantId, membershipId: w.agentA.membershipId });
    expect(await roleOf(t, tenantId, w.agentA.userId)).toBeNull();
    expect(await newestEvent(t, tenantId)).toMatchObject({
      action: "member.removed",
      actorId: w.adminA.userId,
      targetId: w.agentA.userId,
      before: { role: "viewer" },
    });
    // The removed member loses access at once.
    await expectCode(w.agentA.client.query(api.tenants.get, { tenantId }), "NOT_FOUND");
    const me = await w.agentA.client.query(api.users.me, {});
    expect(me?.tenants).toEqual([]);
    expect(me?.lastTenantId).toBeNull();
  });

  it("lets only owners grant or take away the owner role", async () => {
    const { t, w } = await world();
    const admin = w.adminA.client;
    const tenantId = w.tenantA;
    const before = await snapshot(t);

    const grant = await expectCode(
      admin.mutation(api.members.changeRole, {
        tenantId,
        membershipId: w.agentA.membershipId,
        role: "owner",
      }),
      "FORBIDDEN",
    );
    expect(grant.message).toMatch(/owner/);
    await expectCode(
      admin.mutation(api.members.changeRole, {
        tenantId,
        membershipId: w.adminA.membershipId,
        role: "owner",
      }),
      "FORBIDDEN",
    );
    await expectCode(
      admin.mutation(api.members.changeRole, {
        tenantId,
        membershipId: w.ownerA.membershipId,
        role: "admin",
      }),
      "FORBIDDEN",
    );
    await expectCode(
      admin.mutation(api.members.remove, { tenantId, membershipId: w.ownerA.membershipId }),
      "FORBIDDEN",
    );
    await expectCode(
      admin.mutation(api.invitations.create, { tenantId, email: "boss@acme.test", role: "owner" }),
      "FORBIDDEN",
      "role",
    );
    expect(await snapshot(t), "refused role changes changed data").toEqual(before);

    await w.ownerA.client.mutation(api.members.changeRole, {
      tenantId,
      membershipId: w.adminA.membershipId,
      role: "owner",
    });
    expect(await roleOf(t, tenantId, w.adminA.userId)).toBe("owner");
    expect(await newestEvent(t, tenantId)).toMatchObject({
      action: "member.role_changed",
      actorId: w.ownerA.userId,
      before: { role: "admin" },
      after: { role: "owner" },
    });
  });

  it("keeps the last owner from leaving, being demoted or being removed", async () => {
    const { t, w } = await world();
    const owner = w.ownerA.client;
    const tenantId = w.tenantA;
    const before = await snapshot(t);
    await expectCode(owner.mutation(api.members.leave, { tenantId }), "LAST_OWNER");
    await expectCode(
      owner.mutation(api.members.changeRole, {
        tenantId,
        membershipId: w.ownerA.membershipId,
        role: "admin",
      }),
      "LAST_OWNER",
    );
    await expectCode(
      owner.mutation(api.members.remove, { tenantId, membershipId: w.ownerA.membershipId }),
      "LAST_OWNER",
    );
    // Refused changes commit nothing, not even an audit event.
    expect(await snapshot(t)).toEqual(before);
  });

  it("lets one of two owners leave, and then the other is the last", async () => {
    const { t, w } = await world();
    const tenantId = w.tenantA;
    await w.ownerA.client.mutation(api.members.changeRole, {
      tenantId,
      membershipId: w.adminA.membershipId,
      role: "owner",
    });
    later();
    await w.ownerA.client.mutation(api.members.leave, { tenantId });
    expect(await roleOf(t, tenantId, w.ownerA.userId)).toBeNull();
    expect(await newestEvent(t, tenantId)).toMatchObject({
      action: "member.left",
      actorId: w.ownerA.userId,
      targetId: w.ownerA.userId,
      before: { role: "owner" },
    });
    await expectCode(w.ownerA.client.query(api.members.list, { tenantId }), "NOT_FOUND");

    const newOwner = w.adminA.client;
    await expectCode(newOwner.mutation(api.members.leave, { tenantId }), "LAST_OWNER");
    await expectCode(
      newOwner.mutation(api.members.changeRole, {
        tenantId,
        membershipId: w.adminA.membershipId,
        role: "viewer",
      }),
      "LAST_OWNER",
    );
  });

  it("lets an owner demote or remove another owner while one remains", async () => {
    const { t, w } = await world();
    const tenantId = w.tenantA;
    const owner = w.ownerA.client;
    await owner.mutation(api.members.changeRole, {
      tenantId,
      membershipId: w.adminA.membershipId,
      role: "owner",
    });
    await owner.mutation(api.members.changeRole, {
      tenantId,
      membershipId: w.adminA.membershipId,
      role: "agent",
    });
    expect(await roleOf(t, tenantId, w.adminA.userId)).toBe("agent");
    await owner.mutation(api.members.changeRole, {
      tenantId,
      membershipId: w.adminA.membershipId,
      role: "owner",
    });
    await owner.mutation(api.members.remove, { tenantId, membershipId: w.adminA.membershipId });
    expect(await roleOf(t, tenantId, w.adminA.userId)).toBeNull();
    await expectCode(owner.mutation(api.members.leave, { tenantId }), "LAST_OWNER");
  });

  it("lets any member leave", async () => {
    const { t, w } = await world();
    await w.viewerA.client.mutation(api.members.leave, { tenantId: w.tenantA });
    expect(await roleOf(t, w.tenantA, w.viewerA.userId)).toBeNull();
    expect(await newestEvent(t, w.tenantA)).toMatchObject({
      action: "member.left",
      actorId: w.viewerA.userId,
    });
  });
});

// ---------------------------------------------------------------- invitations

describe("invitations", () => {
  it("normalises the email, and the invitee signing in with any case can accept", async () => {
    const { t, as, w } = await world();
    const tenantId = w.tenantA;
    await w.ownerA.client.mutation(api.invitations.create, {
      tenantId,
      email: "  Zoe@Example.COM ",
      role: "viewer",
    });
    const pending = await w.ownerA.client.query(api.invitations.listPending, { tenantId });
    expect(pending.map((p) => p.email)).toContain("zoe@example.com");
    expect(pending.map((p) => p.email)).not.toContain("  Zoe@Example.COM ");
    const token = await deliveredToken(t, "zoe@example.com");
    const zoe = await signUp(as, "ZOE@example.com");
    expect(await zoe.client.mutation(api.invitations.accept, { token })).toMatchObject({
      tenantId,
      role: "viewer",
    });
  });

  it("refuses an address that is not an email", async () => {
    const { w } = await world();
    for (const email of ["", "zoe", "zoe@", "zoe@example", "zo e@example.com"]) {
      await expectCode(
        w.ownerA.client.mutation(api.invitations.create, { tenantId: w.tenantA, email, role: "viewer" }),
        "INVALID",
        "email",
      );
    }
  });

  it("refuses to invite someone who is already a member", async () => {
    const { t, w } = await world();
    const before = await snapshot(t);
    const error = await expectCode(
      w.adminA.client.mutation(api.invitations.create, {
        tenantId: w.tenantA,
        email: "AGNES@acme.test",
        role: "admin",
      }),
      "CONFLICT",
      "email",
    );
    expect(error.message).toContain("agnes@acme.test");
    expect(await snapshot(t)).toEqual(before);
    // Being a member of another workspace is no obstacle.
    await w.adminA.client.mutation(api.invitations.create, {
      tenantId: w.tenantA,
      email: "bruno@beta.test",
      role: "agent",
    });
  });

  it("replaces a pending invitation when the same address is invited again; the old link stops working", async () => {
    const { t, as, w } = await world();
    const tenantId = w.tenantA;
    const first = await w.ownerA.client.mutation(api.invitations.create, {
      tenantId,
      email: "zoe@example.com",
      role: "viewer",
    });
    const oldToken = await deliveredToken(t, "zoe@example.com");
    later();
    const second = await w.adminA.client.mutation(api.invitations.create, {
      tenantId,
      email: "Zoe@example.com",
      role: "admin",
    });
    const newToken = await deliveredToken(t, "zoe@example.com");
    expect(newToken).not.toBe(oldToken);

    // Recorded as a resend of the address, not as a second new invitation.
    const events = await auditRows(t, tenantId);
    expect(events.filter((e) => e.summary.includes("zoe@example.com")).map((e) => e.action)).toEqual([
      "invitation.resent",
      "invitation.created",
    ]);
    expect(events[0]).toMatchObject({
      action: "invitation.resent",
      actorId: w.adminA.userId,
      targetId: second,
      summary: "Invited zoe@example.com again as admin; the earlier link no longer works",
      before: { role: "viewer" },
      after: { role: "admin" },
    });

    expect((await invitationRow(t, first)).status).toBe("revoked");
    const pending = await w.ownerA.client.query(api.invitations.listPending, { tenantId });
    expect(pending.filter((p) => p.email === "zoe@example.com")).toEqual([
      expect.objectContaining({ invitationId: second, role: "admin" }),
    ]);

    const zoe = await signUp(as, "zoe@example.com");
    expect(await zoe.client.query(api.invitations.preview, { token: oldToken })).toMatchObject({
      status: "revoked",
    });
    await expectRefused(zoe.client.mutation(api.invitations.accept, { token: oldToken }), "CONFLICT");
    expect(await roleOf(t, tenantId, zoe.userId)).toBeNull();
    expect(await zoe.client.mutation(api.invitations.accept, { token: newToken })).toMatchObject({
      role: "admin",
    });
  });

  it("revokes: the link stops working, and it is recorded", async () => {
    const { t, as, w } = await world();
    const tenantId = w.tenantA;
    const id = await w.adminA.client.mutation(api.invitations.create, {
      tenantId,
      email: "zoe@example.com",
      role: "agent",
    });
    const token = await deliveredToken(t, "zoe@example.com");
    await w.adminA.client.mutation(api.invitations.revoke, { tenantId, invitationId: id });
    expect(await newestEvent(t, tenantId)).toMatchObject({
      action: "invitation.revoked",
      actorId: w.adminA.userId,
      targetId: id,
      before: { status: "pending" },
      after: { status: "revoked" },
    });
    const pending = await w.adminA.client.query(api.invitations.listPending, { tenantId });
    expect(pending.map((p) => p.invitationId)).not.toContain(id);
    await expectCode(
      w.adminA.client.mutation(api.invitations.revoke, { tenantId, invitationId: id }),
      "CONFLICT",
    );

    const zoe = await signUp(as, "zoe@example.com");
    await expectRefused(zoe.client.mutation(api.invitations.accept, { token }), "CONFLICT");
    expect(await roleOf(t, tenantId, zoe.userId)).toBeNull();
  });

  it("lets only owners revoke or resend an owner invitation", async () => {
    const { t, w } = await world();
    const tenantId = w.tenantA;
    const id = await w.ownerA.client.mutation(api.invitations.create, {
      tenantId,
      email: "boss@acme.test",
      role: "owner",
    });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const before = await snapshot(t);
    await expectCode(
      w.adminA.client.mutation(api.invitations.revoke, { tenantId, invitationId: id }),
      "FORBIDDEN",
    );
    await expectCode(
      w.adminA.client.mutation(api.invitations.resend, { tenantId, invitationId: id }),
      "FORBIDDEN",
    );
    expect(await snapshot(t)).toEqual(before);
    await w.ownerA.client.mutation(api.invitations.revoke, { tenantId, invitationId: id });
    expect((await invitationRow(t, id)).status).toBe("revoked");
  });

  it("resends with a new link and a fresh week; the old link stops working", async () => {
    const { t, as, w } = await world();
    const tenantId = w.tenantA;
    const id = await w.adminA.client.mutation(api.invitations.create, {
      tenantId,
      email: "zoe@example.com",
      role: "agent",
    });
    const oldToken = await deliveredToken(t, "zoe@example.com");
    const firstExpiry = (await invitationRow(t, id)).expiresAt;

    later(6 * DAY);
    const resentAt = Date.now();
    await w.adminA.client.mutation(api.invitations.resend, { tenantId, invitationId: id });
    // Recorded in the same mutation, before any email goes out.
    expect(await newestEvent(t, tenantId)).toMatchObject({
      action: "invitation.resent",
      actorId: w.adminA.userId,
      targetId: id,
      before: { expiresAt: firstExpiry },
      after: { expiresAt: resentAt + INVITATION_TTL_MS },
    });
    // The old link is dead from the moment of the resend, before the new email goes out.
    const zoe = await signUp(as, "zoe@example.com");
    expect(await zoe.client.query(api.invitations.preview, { token: oldToken })).toBeNull();
    expect((await w.adminA.client.query(api.invitations.listPending, { tenantId }))[0]).toMatchObject({
      invitationId: id,
      delivered: false,
    });

    const newToken = await deliveredToken(t, "zoe@example.com");
    expect(newToken).not.toBe(oldToken);
    const [row] = (await w.adminA.client.query(api.invitations.listPending, { tenantId })).filter(
      (p) => p.invitationId === id,
    );
    expect(row).toMatchObject({
      expiresAt: resentAt + INVITATION_TTL_MS,
      delivered: true,
      deliveryError: null,
    });

    expect(await zoe.client.query(api.invitations.preview, { token: oldToken })).toBeNull();
    await expectRefused(zoe.client.mutation(api.invitations.accept, { token: oldToken }), "NOT_FOUND");
    // Past the first week, the resent link still works.
    later(2 * DAY);
    expect(await zoe.client.mutation(api.invitations.accept, { token: newToken })).toMatchObject({
      role: "agent",
    });
    await expectCode(
      w.adminA.client.mutation(api.invitations.resend, { tenantId, invitationId: id }),
      "CONFLICT",
    );
  });

  it("refuses an expired link, and a resent one works again", async () => {
    const { t, as, w } = await world();
    const tenantId = w.tenantA;
    const id = await w.adminA.client.mutation(api.invitations.create, {
      tenantId,
      email: "zoe@example.com",
      role: "agent",
    });
    const token = await deliveredToken(t, "zoe@example.com");
    const zoe = await signUp(as, "zoe@example.com");

    later(INVITATION_TTL_MS + 1);
    const before = await snapshot(t);
    await expectRefused(zoe.client.mutation(api.invitations.accept, { token }), "EXPIRED");
    await expectRefused(zoe.client.mutation(api.invitations.decline, { token }), "EXPIRED");
    expect(await snapshot(t)).toEqual(before);
    expect(await roleOf(t, tenantId, zoe.userId)).toBeNull();
    expect(await zoe.client.query(api.invitations.preview, { token })).toMatchObject({
      status: "pending",
      expiresAt: expect.any(Number),
    });

    await w.adminA.client.mutation(api.invitations.resend, { tenantId, invitationId: id });
    const fresh = await deliveredToken(t, "zoe@example.com");
    expect(await zoe.client.mutation(api.invitations.accept, { token: fresh })).toMatchObject({
      role: "agent",
    });
  });

  it("accepts up to the last moment of the week", async () => {
    const { t, as, w } = await world();
    await w.adminA.client.mutation(api.invitations.create, {
      tenantId: w.tenantA,
      email: "zoe@example.com",
      role: "agent",
    });
    const token = await deliveredToken(t, "zoe@example.com");
    const zoe = await signUp(as, "zoe@example.com");
    later(INVITATION_TTL_MS - 1);
    expect(await zoe.client.mutation(api.invitations.accept, { token })).toMatchObject({ role: "agent" });
  });

  it("records a declined invitation and does not make a member", async () => {
    const { t, as, w } = await world();
    const tenantId = w.tenantA;
    const id = await w.adminA.client.mutation(api.invitations.create, {
      tenantId,
      email: "zoe@example.com",
      role: "agent",
    });
    const token = await deliveredToken(t, "zoe@example.com");
    const zoe = await signUp(as, "zoe@example.com");
    await zoe.client.mutation(api.invitations.decline, { token });
    expect(await invitationRow(t, id)).toMatchObject({ status: "declined", respondedBy: zoe.userId });
    expect(await roleOf(t, tenantId, zoe.userId)).toBeNull();
    expect(await newestEvent(t, tenantId)).toMatchObject({
      action: "invitation.declined",
      actorId: zoe.userId,
      before: { status: "pending" },
      after: { status: "declined" },
    });
    await expectRefused(zoe.client.mutation(api.invitations.accept, { token }), "CONFLICT");
    expect(await zoe.client.query(api.invitations.preview, { token })).toMatchObject({ status: "declined" });
  });

  it("refuses someone signed in with another email, and does not reveal the link's workspace to a bad token", async () => {
    const { t, w } = await world();
    await w.adminA.client.mutation(api.invitations.create, {
      tenantId: w.tenantA,
      email: "zoe@example.com",
      role: "agent",
    });
    const token = await deliveredToken(t, "zoe@example.com");
    await expectRefused(w.ownerB.client.mutation(api.invitations.accept, { token }), "FORBIDDEN");
    await expectRefused(w.ownerB.client.mutation(api.invitations.decline, { token }), "FORBIDDEN");
    expect(await roleOf(t, w.tenantA, w.ownerB.userId)).toBeNull();
    expect(await w.ownerB.client.query(api.invitations.preview, { token: token + "x" })).toBeNull();
    expect(await w.ownerB.client.query(api.invitations.preview, { token: "" })).toBeNull();
    await expectRefused(
      w.ownerB.client.mutation(api.invitations.accept, { token: token.slice(1) }),
      "NOT_FOUND",
    );
  });

  it("needs a verified email to accept or decline: the address alone is not proof", async () => {
    const { t, as, w } = await world();
    await w.adminA.client.mutation(api.invitations.create, {
      tenantId: w.tenantA,
      email: "zoe@example.com",
      role: "agent",
    });
    const token = await deliveredToken(t, "zoe@example.com");
    for (const emailVerified of [false, undefined]) {
      const zoe = await signUp(as, "zoe@example.com", { subject: "zoe", emailVerified });
      expect(await zoe.client.query(api.invitations.preview, { token })).toMatchObject({
        forYou: true,
        emailVerified: false,
        status: "pending",
      });
      const before = await snapshot(t);
      const error = await expectRefused(
        zoe.client.mutation(api.invitations.accept, { token }),
        "EMAIL_NOT_VERIFIED",
      );
      expect(error.message).toMatch(/Verify zoe@example\.com first/);
      await expectRefused(zoe.client.mutation(api.invitations.decline, { token }), "EMAIL_NOT_VERIFIED");
      expect(await snapshot(t)).toEqual(before);
    }
    // The same account once its provider vouches for the address.
    const verified = as("zoe@example.com", { subject: "zoe", emailVerified: true });
    expect(await verified.query(api.invitations.preview, { token })).toMatchObject({ emailVerified: true });
    expect(await verified.mutation(api.invitations.accept, { token })).toMatchObject({ role: "agent" });
  });

  it("keeps the existing role when someone already a member accepts", async () => {
    const { t, as, w } = await world();
    const tenantId = w.tenantA;
    // Agnes (an agent) is invited under a new address, then her provider reports that address.
    await w.adminA.client.mutation(api.invitations.create, {
      tenantId,
      email: "agnes@new.test",
      role: "viewer",
    });
    const token = await deliveredToken(t, "agnes@new.test");
    const agnes = await signUp(as, "agnes@new.test", { subject: "agnes@acme.test" });
    expect(agnes.userId).toBe(w.agentA.userId);
    expect(await agnes.client.query(api.invitations.preview, { token })).toMatchObject({
      alreadyMember: true,
    });
    expect(await agnes.client.mutation(api.invitations.accept, { token })).toMatchObject({
      tenantId,
      role: "agent",
    });
    expect(await roleOf(t, tenantId, agnes.userId)).toBe("agent");
    const memberships = await t.run((ctx) =>
      ctx.db
        .query("memberships")
        .withIndex("by_user", (q) => q.eq("userId", agnes.userId))
        .collect(),
    );
    expect(memberships).toHaveLength(1);
  });

  it("does not look delivered when the deployment cannot build links (no APP_URL)", async () => {
    const { t, w } = await world();
    vi.stubEnv("APP_URL", "");
    vi.stubEnv("LOCAL_AUTH_ISSUER", "");
    const id = await w.adminA.client.mutation(api.invitations.create, {
      tenantId: w.tenantA,
      email: "zoe@example.com",
      role: "agent",
    });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const [row] = (await w.adminA.client.query(api.invitations.listPending, { tenantId: w.tenantA })).filter(
      (p) => p.invitationId === id,
    );
    expect(row.delivered).toBe(false);
    expect((await invitationRow(t, id)).tokenHash).toBeUndefined();
  });

  it("stores only the link's hash", async () => {
    const { t, w } = await world();
    await w.adminA.client.mutation(api.invitations.create, {
      tenantId: w.tenantA,
      email: "zoe@example.com",
      role: "agent",
    });
    const token = await deliveredToken(t, "zoe@example.com");
    const { emails: _outbox, ...everythingElse } = await snapshot(t);
    expect(JSON.stringify(everythingElse)).not.toContain(token);
  });
});

// ---------------------------------------------------------------- settings and slugs

describe("workspace settings", () => {
  const bad: [string, Partial<typeof SETTINGS>][] = [
    ["name", { name: " A " }],
    ["name", { name: "x".repeat(81) }],
    ["currency", { currency: "EURO" }],
    ["currency", { currency: "XYZ" }],
    ["currency", { currency: "" }],
    ["timeZone", { timeZone: "Mars/Olympus_Mons" }],
    ["timeZone", { timeZone: "" }],
    ["defaultCountry", { defaultCountry: "Spain" }],
    ["defaultCountry", { defaultCountry: "E1" }],
    ["defaultCountry", { defaultCountry: "" }],
  ];

  it.each(bad)("refuses a bad %s when creating and when updating (%j)", async (field, change) => {
    const { t, w } = await world();
    const before = await snapshot(t);
    await expectCode(
      w.ownerB.client.mutation(api.tenants.create, { ...SETTINGS, ...change }),
      "INVALID",
      field,
    );
    await expectCode(
      w.adminA.client.mutation(api.tenants.updateSettings, { tenantId: w.tenantA, ...SETTINGS, ...change }),
      "INVALID",
      field,
    );
    expect(await snapshot(t)).toEqual(before);
  });

  it("accepts only currencies with a WhatsApp rate card, naming them", async () => {
    const { t, w } = await world();
    const before = await snapshot(t);
    for (const currency of ["GBP", "BRL", "jpy"]) {
      const created = await expectCode(
        w.ownerB.client.mutation(api.tenants.create, { ...SETTINGS, currency }),
        "INVALID",
        "currency",
      );
      expect(created.message).toBe("Billing needs a currency with a WhatsApp rate card: USD, EUR, INR, CLP");
      await expectCode(
        w.adminA.client.mutation(api.tenants.updateSettings, { tenantId: w.tenantA, ...SETTINGS, currency }),
        "INVALID",
        "currency",
      );
    }
    expect(await snapshot(t)).toEqual(before);
  });

  it("keeps a currency without a rate card from before the rule while other settings change", async () => {
    const { t, w } = await world();
    await t.run((ctx) => ctx.db.patch("tenants", w.tenantA, { currency: "GBP" }));
    await w.adminA.client.mutation(api.tenants.updateSettings, {
      tenantId: w.tenantA,
      ...SETTINGS,
      currency: "GBP",
      name: "Acme Boots",
    });
    expect(await w.viewerA.client.query(api.tenants.get, { tenantId: w.tenantA })).toMatchObject({
      name: "Acme Boots",
      currency: "GBP",
    });
  });

  it("refuses to change the currency once the ledger has an entry, and says why", async () => {
    const { t, as, w } = await world();
    // Before any credits the currency may change, and the wallet follows it.
    await w.adminA.client.mutation(api.tenants.updateSettings, {
      tenantId: w.tenantA,
      ...SETTINGS,
      currency: "USD",
    });
    const root = await signUp(as, "root@platform.test");
    await root.client.mutation(api.billing.topUp, { tenantId: w.tenantA, amount: "1", reason: "Trial" });
    expect(await w.adminA.client.query(api.billing.wallet, { tenantId: w.tenantA })).toMatchObject({
      currency: "USD",
      currencyLocked: true,
    });
    const before = await snapshot(t);
    const refused = await expectCode(
      w.adminA.client.mutation(api.tenants.updateSettings, {
        tenantId: w.tenantA,
        ...SETTINGS,
        currency: "EUR",
      }),
      "INVALID",
      "currency",
    );
    expect(refused.message).toBe(
      "The currency stays USD: credits have been used, and every amount in the ledger is in USD.",
    );
    expect(await snapshot(t)).toEqual(before);
    // Other settings still save.
    await w.adminA.client.mutation(api.tenants.updateSettings, {
      tenantId: w.tenantA,
      ...SETTINGS,
      currency: "USD",
      name: "Acme Boots",
    });
  });

  it("normalises what people type and records only what changed", async () => {
    const { t, w } = await world();
    const tenantId = w.tenantA;
    later();
    await w.adminA.client.mutation(api.tenants.updateSettings, {
      tenantId,
      name: "  Acme Shoes ",
      currency: "usd",
      timeZone: "America/Mexico_City",
      defaultCountry: " mx ",
    });
    expect(await w.viewerA.client.query(api.tenants.get, { tenantId })).toMatchObject({
      name: "Acme Shoes",
      slug: "acme-shoes",
      currency: "USD",
      timeZone: "America/Mexico_City",
      defaultCountry: "MX",
      role: "viewer",
    });
    expect(await newestEvent(t, tenantId)).toMatchObject({
      action: "tenant.settings_updated",
      actorId: w.adminA.userId,
      before: { currency: "EUR", timeZone: "Europe/Madrid", defaultCountry: "ES" },
      after: { currency: "USD", timeZone: "America/Mexico_City", defaultCountry: "MX" },
    });
    const event = await newestEvent(t, tenantId);
    expect(Object.keys(event.after!).sort()).toEqual(["currency", "defaultCountry", "timeZone"]);

    // Saving the same settings again changes nothing and records nothing.
    const count = (await auditRows(t, tenantId)).length;
    await w.adminA.client.mutation(api.tenants.updateSettings, {
      tenantId,
      name: "Acme Shoes",
      currency: "USD",
      timeZone: "America/Mexico_City",
      defaultCountry: "MX",
    });
    expect(await auditRows(t, tenantId)).toHaveLength(count);

    // Renaming keeps the address.
    await w.adminA.client.mutation(api.tenants.updateSettings, {
      tenantId,
      ...SETTINGS,
      name: "Acme Sneakers",
    });
    expect(await w.viewerA.client.query(api.tenants.get, { tenantId })).toMatchObject({
      name: "Acme Sneakers",
      slug: "acme-shoes",
    });
  });
});

describe("workspace addresses", () => {
  it("are unique: the same name gets x, x-2, x-3", async () => {
    const { as } = setup();
    const ana = await signUp(as, "ana@acme.test");
    const bo = await signUp(as, "bo@other.test");
    expect((await ana.client.mutation(api.tenants.create, SETTINGS)).slug).toBe("acme-shoes");
    expect((await bo.client.mutation(api.tenants.create, SETTINGS)).slug).toBe("acme-shoes-2");
    expect((await ana.client.mutation(api.tenants.create, { ...SETTINGS, name: "ACME shoes!" })).slug).toBe(
      "acme-shoes-3",
    );
    expect((await bo.client.query(api.tenants.bySlug, { slug: "acme-shoes-2" }))?.role).toBe("owner");
    expect(await bo.client.query(api.tenants.bySlug, { slug: "acme-shoes" })).toBeNull();
  });

  it("are made of plain letters and digits", async () => {
    const { as } = setup();
    const ana = await signUp(as, "ana@acme.test");
    expect(
      (await ana.client.mutation(api.tenants.create, { ...SETTINGS, name: "Café Olé — São Paulo" })).slug,
    ).toBe("cafe-ole-sao-paulo");
    expect((await ana.client.mutation(api.tenants.create, { ...SETTINGS, name: "!!!" })).slug).toBe(
      "workspace",
    );
  });
});

// ---------------------------------------------------------------- audit

describe("audit log", () => {
  it("records every change in the same mutation, with before and after", async () => {
    const { t, as } = setup();
    const ana = await signUp(as, "ana@acme.test");
    const expectNewest = async (tenantId: Id<"tenants">, expected: Record<string, unknown>) => {
      // No scheduled function has run: the event was written by the mutation itself.
      expect(await newestEvent(t, tenantId)).toMatchObject({ scope: "tenant", tenantId, ...expected });
    };

    const { tenantId } = await ana.client.mutation(api.tenants.create, SETTINGS);
    await expectNewest(tenantId, {
      action: "tenant.created",
      actorId: ana.userId,
      actorEmail: "ana@acme.test",
      targetType: "tenant",
      targetId: tenantId,
      after: { ...SETTINGS, slug: "acme-shoes" },
    });
    later();
    await ana.client.mutation(api.tenants.updateSettings, { tenantId, ...SETTINGS, name: "Acme Boots" });
    await expectNewest(tenantId, {
      action: "tenant.settings_updated",
      before: { name: "Acme Shoes" },
      after: { name: "Acme Boots" },
    });
    later();
    const invitationId = await ana.client.mutation(api.invitations.create, {
      tenantId,
      email: "bob@acme.test",
      role: "agent",
    });
    await expectNewest(tenantId, {
      action: "invitation.created",
      targetType: "invitation",
      targetId: invitationId,
      after: { email: "bob@acme.test", role: "agent" },
    });
    later();
    await ana.client.mutation(api.invitations.resend, { tenantId, invitationId });
    await expectNewest(tenantId, { action: "invitation.resent", targetId: invitationId });
    const token = await deliveredToken(t, "bob@acme.test");
    later();
    const bob = await signUp(as, "bob@acme.test");
    await bob.client.mutation(api.invitations.accept, { token });
    await expectNewest(tenantId, {
      action: "invitation.accepted",
      actorId: bob.userId,
      targetType: "member",
      targetId: bob.userId,
      after: { role: "agent" },
    });
    const bobMembership = (await ana.client.query(api.members.list, { tenantId })).find(
      (m) => m.userId === bob.userId,
    )!.membershipId;
    later();
    await ana.client.mutation(api.members.changeRole, {
      tenantId,
      membershipId: bobMembership,
      role: "admin",
    });
    await expectNewest(tenantId, {
      action: "member.role_changed",
      before: { role: "agent" },
      after: { role: "admin" },
    });
    later();
    await bob.client.mutation(api.members.leave, { tenantId });
    await expectNewest(tenantId, { action: "member.left", actorId: bob.userId, before: { role: "admin" } });

    const actions = (await auditRows(t, tenantId)).map((e) => e.action);
    expect(actions).toEqual([
      "member.left",
      "member.role_changed",
      "invitation.accepted",
      "invitation.resent",
      "invitation.created",
      "tenant.settings_updated",
      "tenant.created",
    ]);
  });

  it("pages through a tenant's events newest first, and filters by action and by actor", async () => {
    const { t, w } = await world();
    const tenantId = w.tenantA;
    for (let i = 0; i < 5; i++) {
      later();
      await w.adminA.client.mutation(api.tenants.updateSettings, {
        tenantId,
        ...SETTINGS,
        name: `Acme ${i}`,
      });
      later();
      await w.ownerA.client.mutation(api.tenants.updateSettings, {
        tenantId,
        ...SETTINGS,
        name: `Acme owner ${i}`,
      });
    }
    const all = await auditRows(t, tenantId);
    expect(all.length).toBeGreaterThan(15);

    const walk = async (filter: { action?: string; actorId?: Id<"users"> }) => {
      const seen: AuditEventView[] = [];
      let cursor: string | null = null;
      for (let i = 0; i < 50; i++) {
        const result: PaginationResult<AuditEventView> = await w.adminA.client.query(
          api.audit.listForTenant,
          {
            tenantId,
            ...filter,
            paginationOpts: page(3, cursor),
          },
        );
        expect(result.page.length).toBeLessThanOrEqual(3);
        seen.push(...result.page);
        if (result.isDone) return seen;
        cursor = result.continueCursor;
      }
      throw new Error("pagination never finished");
    };

    const everything = await walk({});
    expect(everything.map((e) => e.eventId)).toEqual(all.map((e) => e._id));
    const times = everything.map((e) => e.at);
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(new Set(everything.map((e) => e.tenantId))).toEqual(new Set([tenantId]));

    const updates = await walk({ action: "tenant.settings_updated" });
    expect(updates).toHaveLength(10);
    expect(updates.every((e) => e.action === "tenant.settings_updated")).toBe(true);

    const byAdmin = await walk({ actorId: w.adminA.userId });
    expect(byAdmin.map((e) => e.eventId)).toEqual(
      all.filter((e) => e.actorId === w.adminA.userId).map((e) => e._id),
    );
    expect(byAdmin.length).toBeGreaterThanOrEqual(6); // 5 updates and joining

    const adminUpdates = await walk({ action: "tenant.settings_updated", actorId: w.adminA.userId });
    expect(adminUpdates).toHaveLength(5);
    expect(adminUpdates.every((e) => e.actorId === w.adminA.userId)).toBe(true);

    // Tenant B's events and platform events never show up in A's log, whatever the filter.
    const bOwnerInA = await walk({ actorId: w.ownerB.userId });
    expect(bOwnerInA).toEqual([]);
    expect(await walk({ action: "platform_admin.granted" })).toEqual([]);
  });

  it("lists every event on the platform for platform admins, with the same filters", async () => {
    const { t, as, w } = await world();
    const root = await signUp(as, "root@platform.test");
    const all = await auditRows(t);
    const list = (filter: { action?: string; actorId?: Id<"users"> }, numItems = 100) =>
      root.client.query(api.audit.listAll, { ...filter, paginationOpts: page(numItems) });

    const everything = await list({});
    expect(everything.page.map((e) => e.eventId)).toEqual(all.map((e) => e._id));
    expect(new Set(everything.page.map((e) => e.tenantId))).toEqual(
      new Set([w.tenantA, w.tenantB, undefined]),
    );

    const granted = await list({ action: "platform_admin.granted" });
    expect(granted.page.map((e) => e.tenantId)).toEqual([undefined]);
    expect(granted.page).toEqual([
      expect.objectContaining({
        scope: "platform",
        actorEmail: "system:PLATFORM_ADMIN_EMAILS",
        targetId: root.userId,
      }),
    ]);

    const byBruno = await list({ actorId: w.ownerB.userId });
    expect(byBruno.page.length).toBeGreaterThan(0);
    expect(byBruno.page.every((e) => e.actorId === w.ownerB.userId && e.tenantId === w.tenantB)).toBe(true);

    const brunoCreated = await list({ action: "tenant.created", actorId: w.ownerB.userId });
    expect(brunoCreated.page.map((e) => e.tenantId)).toEqual([w.tenantB]);

    const first = await list({}, 4);
    expect(first.page).toHaveLength(4);
    expect(first.isDone).toBe(false);
    const rest = await root.client.query(api.audit.listAll, {
      paginationOpts: page(100, first.continueCursor),
    });
    expect([...first.page, ...rest.page].map((e) => e.eventId)).toEqual(all.map((e) => e._id));
  });
});

// ---------------------------------------------------------------- users and platform admins

describe("users", () => {
  it("has no row (me is null) until ensure registers the signed-in user from the token", async () => {
    const { as } = setup();
    const zoe = as("Zoe@Example.com", { name: "Zoe Q" });
    expect(await zoe.query(api.users.me, {})).toBeNull();
    await expectCode(zoe.mutation(api.tenants.create, SETTINGS), "UNAUTHENTICATED");
    await zoe.mutation(api.users.ensure, {});
    expect(await zoe.query(api.users.me, {})).toMatchObject({
      email: "zoe@example.com",
      name: "Zoe Q",
      isPlatformAdmin: false,
      lastTenantId: null,
      tenants: [],
    });
  });

  it("takes email and name from the token on every ensure, and remembers the last workspace", async () => {
    const { as } = setup();
    const first = await signUp(as, "zoe@example.com", { subject: "zoe", name: "Zoe" });
    const a = await first.client.mutation(api.tenants.create, SETTINGS);
    const b = await first.client.mutation(api.tenants.create, { ...SETTINGS, name: "Zoe Two" });
    expect((await first.client.query(api.users.me, {}))?.lastTenantId).toBe(b.tenantId);
    await first.client.mutation(api.users.setLastTenant, { tenantId: a.tenantId });
    const again = await signUp(as, "zoe@new.test", { subject: "zoe", name: "Zoe New" });
    expect(again.userId).toBe(first.userId);
    expect(await again.client.query(api.users.me, {})).toMatchObject({
      email: "zoe@new.test",
      name: "Zoe New",
      lastTenantId: a.tenantId,
    });
  });
});

describe("platform admins", () => {
  it("are made from PLATFORM_ADMIN_EMAILS on ensure, recorded, and unmade when removed from it", async () => {
    const { t, as, w } = await world();
    const root = await signUp(as, "Root@Platform.test");
    expect((await root.client.query(api.users.me, {}))?.isPlatformAdmin).toBe(true);
    const granted = await newestEvent(t);
    expect(granted.tenantId).toBeUndefined();
    expect(granted.actorId).toBeUndefined();
    expect(granted).toMatchObject({
      scope: "platform",
      actorEmail: "system:PLATFORM_ADMIN_EMAILS",
      action: "platform_admin.granted",
      targetType: "user",
      targetId: root.userId,
      before: { isPlatformAdmin: false },
      after: { isPlatformAdmin: true },
    });
    expect(
      (await root.client.query(api.admin.listTenants, { paginationOpts: page() })).page
        .map((x) => x.slug)
        .sort(),
    ).toEqual(["acme-shoes", "beta-bikes"]);

    // Signing in again changes nothing and records nothing.
    const count = (await auditRows(t)).length;
    await root.client.mutation(api.users.ensure, {});
    expect(await auditRows(t)).toHaveLength(count);

    vi.stubEnv("PLATFORM_ADMIN_EMAILS", "other-root@platform.test");
    // Removed from the list: refused on the very next call, before any sign-in refreshes the row.
    await expectCode(root.client.query(api.admin.listTenants, { paginationOpts: page() }), "FORBIDDEN");
    expect((await root.client.query(api.users.me, {}))?.isPlatformAdmin).toBe(false);
    later();
    // The next sign-in brings the stored record up to date and audits the change.
    await root.client.mutation(api.users.ensure, {});
    expect(await newestEvent(t)).toMatchObject({
      scope: "platform",
      action: "platform_admin.revoked",
      targetId: root.userId,
      before: { isPlatformAdmin: true },
      after: { isPlatformAdmin: false },
    });
    await expectCode(root.client.query(api.admin.listTenants, { paginationOpts: page() }), "FORBIDDEN");
    await expectCode(
      root.client.query(api.audit.listForTenant, { tenantId: w.tenantA, paginationOpts: page() }),
      "NOT_FOUND",
    );
  });

  it("lose access on the next call once removed from PLATFORM_ADMIN_EMAILS, without signing in again", async () => {
    const { t, as, w } = await world();
    const root = await signUp(as, "root@platform.test");
    await root.client.query(api.admin.listTenants, { paginationOpts: page() });
    await root.client.query(api.audit.listForTenant, { tenantId: w.tenantA, paginationOpts: page() });

    vi.stubEnv("PLATFORM_ADMIN_EMAILS", "");
    await expectCode(root.client.query(api.admin.listTenants, { paginationOpts: page() }), "FORBIDDEN");
    await expectCode(root.client.query(api.audit.listAll, { paginationOpts: page() }), "FORBIDDEN");
    await expectCode(
      root.client.query(api.audit.listForTenant, { tenantId: w.tenantA, paginationOpts: page() }),
      "NOT_FOUND",
    );
    await expectCode(root.client.query(api.tenants.get, { tenantId: w.tenantA }), "NOT_FOUND");
    // The stored flag is a record only: it still says true, and grants nothing.
    expect((await t.run((ctx) => ctx.db.get("users", root.userId)))?.isPlatformAdmin).toBe(true);

    vi.stubEnv("PLATFORM_ADMIN_EMAILS", "root@platform.test");
    expect((await root.client.query(api.admin.listTenants, { paginationOpts: page() })).page).toHaveLength(2);
  });

  it("are refused when the token stops saying the email is verified, whatever the stored flag says", async () => {
    const { as } = setup();
    const root = await signUp(as, "root@platform.test", { subject: "root" });
    await root.client.query(api.admin.listTenants, { paginationOpts: page() });
    const unverified = as("root@platform.test", { subject: "root", emailVerified: false });
    await expectCode(unverified.query(api.admin.listTenants, { paginationOpts: page() }), "FORBIDDEN");
    expect((await unverified.query(api.users.me, {}))?.isPlatformAdmin).toBe(false);
  });

  it("need an email the identity provider verified", async () => {
    const { t, as } = setup();
    const unverified = await signUp(as, "root@platform.test", { subject: "u1", emailVerified: false });
    expect((await unverified.client.query(api.users.me, {}))?.isPlatformAdmin).toBe(false);
    const silent = await signUp(as, "other-root@platform.test", { subject: "u2", emailVerified: undefined });
    expect((await silent.client.query(api.users.me, {}))?.isPlatformAdmin).toBe(false);
    expect((await auditRows(t)).filter((e) => e.action === "platform_admin.granted")).toEqual([]);
  });

  it("read any workspace, even one where their own role is low, but write only as members", async () => {
    const { t, as, w } = await world();
    const root = await signUp(as, "root@platform.test");
    const tenantId = w.tenantA;
    expect(await root.client.query(api.tenants.get, { tenantId })).toMatchObject({
      name: "Acme Shoes",
      role: "viewer",
    });
    expect((await root.client.query(api.tenants.bySlug, { slug: w.slugA }))?.tenantId).toBe(tenantId);
    await root.client.query(api.audit.listForTenant, { tenantId, paginationOpts: page() });
    await expectCode(
      root.client.mutation(api.tenants.updateSettings, { tenantId, ...SETTINGS, name: "Hijacked" }),
      "NOT_FOUND",
    );

    // Made a viewer of A, they still read A's audit log, and still cannot write above viewer.
    await addMember(t, as, w.ownerA.client, tenantId, "root@platform.test", "viewer");
    expect(
      (await root.client.query(api.audit.listForTenant, { tenantId, paginationOpts: page() })).page.length,
    ).toBeGreaterThan(0);
    await expectCode(
      root.client.mutation(api.tenants.updateSettings, { tenantId, ...SETTINGS, name: "Hijacked" }),
      "FORBIDDEN",
    );
  });
});
