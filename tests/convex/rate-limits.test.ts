// Limits on Convex functions the browser calls directly (convex/model/rateLimits.ts): upload URLs
// for contact imports, per workspace; invitation links that did not work, per signed-in user.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api } from "../../convex/_generated/api";
import { CONVEX_RATE_LIMITS } from "../../convex/model/rateLimits";
import { deliveredToken, expectCode, expectRefused, setup, signUp, twoTenants } from "./factories";

beforeEach(() => {
  vi.useFakeTimers();
  vi.stubEnv("APP_URL", "http://app.test");
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

describe("upload URLs", () => {
  it("allow a burst per workspace, then refuse with when to try again, and refill over time", async () => {
    const { t, as } = setup();
    const w = await twoTenants(t, as);
    const { capacity } = CONVEX_RATE_LIMITS.uploadUrl;
    const ask = (client: typeof w.ownerA.client, tenantId: typeof w.tenantA) =>
      client.mutation(api.contactImports.generateUploadUrl, { tenantId });
    // Owner and admin of the same workspace draw from one bucket.
    for (let i = 0; i < capacity; i++) {
      expect(await ask(i % 2 ? w.adminA.client : w.ownerA.client, w.tenantA)).toMatch(/^https?:\/\//);
    }
    const refused = await expectCode(ask(w.ownerA.client, w.tenantA), "RATE_LIMITED");
    expect(refused.message).toBe("Too many uploads for this workspace. Try again in 2 minutes.");
    // Another workspace is not affected.
    expect(await ask(w.ownerB.client, w.tenantB)).toMatch(/^https?:\/\//);
    // One token comes back every two minutes (30 an hour).
    vi.advanceTimersByTime(2 * 60_000 + 1_000);
    expect(await ask(w.ownerA.client, w.tenantA)).toMatch(/^https?:\/\//);
    await expectCode(ask(w.ownerA.client, w.tenantA), "RATE_LIMITED");
  });
});

describe("answers to invitations", () => {
  const MISSES = CONVEX_RATE_LIMITS.invitationMisses.capacity;
  const BLOCKED = "Too many invitation links that did not work. Try again in 6 minutes.";

  async function invited(email: string) {
    const { t, as } = setup();
    const w = await twoTenants(t, as);
    await w.ownerA.client.mutation(api.invitations.create, { tenantId: w.tenantA, email, role: "agent" });
    return { t, as, w, token: await deliveredToken(t, email) };
  }
  const membersOf = (t: ReturnType<typeof setup>["t"], tenantId: string) =>
    t.run(async (ctx) =>
      (await ctx.db.query("memberships").collect()).filter((m) => m.tenantId === tenantId),
    );

  it("refuses a user after too many links that did not work, saying when to try again, even with a good link", async () => {
    const { t, as, w, token } = await invited("eve@example.com");
    const eve = await signUp(as, "eve@example.com");
    for (let i = 0; i < MISSES; i++) {
      const guess = i % 2 ? "accept" : "decline";
      await expectRefused(eve.client.mutation(api.invitations[guess], { token: `guess-${i}` }), "NOT_FOUND");
    }
    // Blocked: her own, valid link is refused too, before it is looked up, and nothing changes.
    const members = await membersOf(t, w.tenantA);
    const blocked = await expectRefused(
      eve.client.mutation(api.invitations.accept, { token }),
      "RATE_LIMITED",
    );
    expect(blocked.message).toBe(BLOCKED);
    expect(blocked.retryAfterMs).toBeGreaterThan(5 * 60_000);
    expect(blocked.retryAfterMs).toBeLessThanOrEqual(6 * 60_000);
    await expectRefused(eve.client.mutation(api.invitations.decline, { token }), "RATE_LIMITED");
    await expectRefused(
      eve.client.mutation(api.invitations.accept, { token: "guess-again" }),
      "RATE_LIMITED",
    );
    expect(await membersOf(t, w.tenantA)).toEqual(members);
    // One attempt comes back every six minutes (10 an hour).
    vi.advanceTimersByTime(6 * 60_000 + 1_000);
    expect(await eve.client.mutation(api.invitations.accept, { token })).toMatchObject({
      ok: true,
      tenantId: w.tenantA,
      role: "agent",
    });
  });

  it("counts only the caller's own misses: trying someone else's link never locks that person out", async () => {
    const { t, as, w, token } = await invited("zoe@example.com");
    const mallory = await signUp(as, "mallory@example.com");
    // Zoe's real link, tried by someone else: refused as not theirs, and counted against them.
    for (let i = 0; i < MISSES; i++) {
      await expectRefused(mallory.client.mutation(api.invitations.accept, { token }), "FORBIDDEN");
    }
    await expectRefused(mallory.client.mutation(api.invitations.accept, { token }), "RATE_LIMITED");
    // Another user who mistyped links is limited on their own, not through Mallory.
    await expectRefused(w.ownerB.client.mutation(api.invitations.accept, { token: "typo" }), "NOT_FOUND");
    // Zoe answers her invitation as usual.
    const zoe = await signUp(as, "zoe@example.com");
    expect(await zoe.client.mutation(api.invitations.accept, { token })).toMatchObject({ ok: true });
    expect((await membersOf(t, w.tenantA)).some((m) => m.userId === zoe.userId)).toBe(true);
  });

  it("does not count successes, nor failures answering one's own invitation", async () => {
    const { as, w, token } = await invited("zoe@example.com");
    // Not verified yet: refused every time, but her own invitation, so never limited.
    const unverified = await signUp(as, "zoe@example.com", { subject: "zoe", emailVerified: false });
    for (let i = 0; i < MISSES + 5; i++) {
      await expectRefused(
        unverified.client.mutation(api.invitations.accept, { token }),
        "EMAIL_NOT_VERIFIED",
      );
    }
    const zoe = as("zoe@example.com", { subject: "zoe", emailVerified: true });
    // All but one miss used up, then a success, then the last miss: the success took nothing.
    for (let i = 0; i < MISSES - 1; i++) {
      await expectRefused(zoe.mutation(api.invitations.accept, { token: `typo-${i}` }), "NOT_FOUND");
    }
    expect(await zoe.mutation(api.invitations.accept, { token })).toMatchObject({
      ok: true,
      tenantId: w.tenantA,
    });
    // Answering it again fails (already accepted) without counting: it is her own invitation.
    await expectRefused(zoe.mutation(api.invitations.accept, { token }), "CONFLICT");
    await expectRefused(zoe.mutation(api.invitations.accept, { token: "typo-last" }), "NOT_FOUND");
    await expectRefused(zoe.mutation(api.invitations.accept, { token: "typo-over" }), "RATE_LIMITED");
  });
});
