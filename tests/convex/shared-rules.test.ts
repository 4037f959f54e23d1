/**
 * The role rules the web app uses to decide which controls to show (convex/shared/roles.ts) are
 * the ones the backend enforces: for every pair of roles, what the page offers is exactly what
 * the mutation accepts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api } from "../../convex/_generated/api";
import { ROLES, canAssignRole, canManageMember } from "../../convex/shared/roles";
import { addMember, SETTINGS, setup, signUp } from "./factories";

beforeEach(() => {
  vi.useFakeTimers();
  vi.stubEnv("APP_URL", "http://app.test");
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

async function outcome(call: Promise<unknown>): Promise<"ok" | string> {
  try {
    await call;
    return "ok";
  } catch (error) {
    return (error as { data?: { code?: string } }).data?.code ?? String(error);
  }
}

describe("role rules agree across the boundary", () => {
  it.each(ROLES)("an %s may invite with exactly the roles the page offers", async (actorRole) => {
    const { t, as } = setup();
    const owner = await signUp(as, "olivia@acme.test");
    const { tenantId } = await owner.client.mutation(api.tenants.create, SETTINGS);
    const actor =
      actorRole === "owner"
        ? owner
        : await addMember(t, as, owner.client, tenantId, "actor@acme.test", actorRole);
    for (const role of ROLES) {
      const result = await outcome(
        actor.client.mutation(api.invitations.create, { tenantId, email: `new-${role}@acme.test`, role }),
      );
      expect(result === "ok", `${actorRole} inviting ${role}: ${result}`).toBe(
        canAssignRole(actorRole, role),
      );
    }
  });

  it.each(ROLES)("an %s may change exactly the roles the page gives controls for", async (actorRole) => {
    const { t, as } = setup();
    const owner = await signUp(as, "olivia@acme.test");
    const { tenantId } = await owner.client.mutation(api.tenants.create, SETTINGS);
    // A second owner, so demoting one is never refused for being the last.
    await addMember(t, as, owner.client, tenantId, "otto@acme.test", "owner");
    const actor =
      actorRole === "owner"
        ? owner
        : await addMember(t, as, owner.client, tenantId, "actor@acme.test", actorRole);
    for (const target of ROLES) {
      for (const role of ROLES) {
        if (role === target) continue;
        const member = await addMember(
          t,
          as,
          owner.client,
          tenantId,
          `m-${target}-${role}@acme.test`,
          target,
        );
        const offered = canManageMember(actorRole, target, false) && canAssignRole(actorRole, role);
        const result = await outcome(
          actor.client.mutation(api.members.changeRole, {
            tenantId,
            membershipId: member.membershipId,
            role,
          }),
        );
        expect(result === "ok", `${actorRole} making a ${target} ${role}: ${result}`).toBe(offered);
      }
    }
  });
});
