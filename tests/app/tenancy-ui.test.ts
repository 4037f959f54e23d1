// The small rules behind the tenancy pages: which roles someone may hand out, whose row gets
// controls, who reads admin pages, where /app goes, the once-per-account ensure, and the actor filter.
import { describe, expect, it, vi } from "vitest";
import type { Id } from "../../convex/_generated/dataModel";
import { mergeActors } from "../../app/lib/audit-actions";
import { ensureOnce, forgetEnsure, homePathFor } from "../../app/lib/current-user";
import { assignableRoles, canManageMember, hasRole, withArticle } from "../../app/lib/roles";
import { tenantAccess } from "../../app/lib/tenant-context";
import { slugFromPath } from "../../app/components/tenant-switcher";

describe("roles", () => {
  it("ranks roles", () => {
    expect(hasRole("owner", "admin")).toBe(true);
    expect(hasRole("agent", "admin")).toBe(false);
    expect(hasRole("viewer", "viewer")).toBe(true);
  });

  it("lets only owners hand out the owner role, and agents and viewers nothing", () => {
    expect(assignableRoles("owner")).toEqual(["owner", "admin", "agent", "viewer"]);
    expect(assignableRoles("admin")).toEqual(["admin", "agent", "viewer"]);
    expect(assignableRoles("agent")).toEqual([]);
    expect(assignableRoles("viewer")).toEqual([]);
  });

  it("gives admins controls over everyone but owners, owners over everyone, nobody over themselves", () => {
    expect(canManageMember("admin", "agent", false)).toBe(true);
    expect(canManageMember("admin", "admin", false)).toBe(true);
    expect(canManageMember("admin", "owner", false)).toBe(false);
    expect(canManageMember("owner", "owner", false)).toBe(true);
    expect(canManageMember("owner", "agent", true)).toBe(false);
    expect(canManageMember("agent", "viewer", false)).toBe(false);
  });

  it("reads naturally", () => {
    expect(withArticle("agent")).toBe("an agent");
    expect(withArticle("viewer")).toBe("a viewer");
  });
});

describe("tenantAccess", () => {
  it("lets admins and owners read and write, agents and viewers neither", () => {
    expect(tenantAccess("admin", true, false)).toEqual({ canAdminRead: true, canAdminWrite: true });
    expect(tenantAccess("owner", true, false)).toEqual({ canAdminRead: true, canAdminWrite: true });
    expect(tenantAccess("agent", true, false)).toEqual({ canAdminRead: false, canAdminWrite: false });
  });

  it("lets platform admins read any workspace but write only through a role", () => {
    expect(tenantAccess("viewer", false, true)).toEqual({ canAdminRead: true, canAdminWrite: false });
    expect(tenantAccess("agent", true, true)).toEqual({ canAdminRead: true, canAdminWrite: false });
    expect(tenantAccess("viewer", false, false)).toEqual({ canAdminRead: false, canAdminWrite: false });
  });
});

describe("homePathFor", () => {
  const t = (id: string, slug: string) => ({
    tenantId: id as Id<"tenants">,
    slug,
    name: slug,
    role: "agent" as const,
  });

  it("opens the last workspace, else the first, else onboarding", () => {
    const tenants = [t("a", "alpha"), t("b", "beta")];
    expect(homePathFor({ lastTenantId: "b" as Id<"tenants">, tenants })).toBe("/t/beta");
    expect(homePathFor({ lastTenantId: null, tenants })).toBe("/t/alpha");
    // Removed from the last one since: fall back to the first.
    expect(homePathFor({ lastTenantId: "gone" as Id<"tenants">, tenants })).toBe("/t/alpha");
    expect(homePathFor({ lastTenantId: null, tenants: [] })).toBe("/onboarding");
  });
});

describe("ensureOnce", () => {
  it("calls ensure once per account, however many callers ask", async () => {
    const ensure = vi.fn(async () => "user-1");
    const results = await Promise.all([ensureOnce("acct-1", ensure), ensureOnce("acct-1", ensure)]);
    await ensureOnce("acct-1", ensure);
    expect(results).toEqual(["user-1", "user-1"]);
    expect(ensure).toHaveBeenCalledTimes(1);
    const other = vi.fn(async () => "user-2");
    await ensureOnce("acct-2", other);
    expect(other).toHaveBeenCalledTimes(1);
  });

  it("tries again after a failure, and after being told to forget", async () => {
    const failing = vi.fn(async () => {
      throw new Error("offline");
    });
    await expect(ensureOnce("acct-3", failing)).rejects.toThrow("offline");
    const ok = vi.fn(async () => "user-3");
    await expect(ensureOnce("acct-3", ok)).resolves.toBe("user-3");
    forgetEnsure("acct-3");
    await ensureOnce("acct-3", ok);
    expect(ok).toHaveBeenCalledTimes(2);
  });
});

describe("mergeActors", () => {
  it("adds new actors by id, sorted by label, ignoring system actors", () => {
    const known = [{ value: "u2", label: "zoe@example.com" }];
    const merged = mergeActors(known, [
      { actorId: "u1", actorEmail: "ana@example.com" },
      { actorId: "u2", actorEmail: "zoe-renamed@example.com" },
      { actorEmail: "system:PLATFORM_ADMIN_EMAILS" },
    ]);
    expect(merged).toEqual([
      { value: "u1", label: "ana@example.com" },
      { value: "u2", label: "zoe@example.com" },
    ]);
  });

  it("returns the same list when nothing is new (so React state does not churn)", () => {
    const known = [{ value: "u1", label: "ana@example.com" }];
    expect(mergeActors(known, [{ actorId: "u1", actorEmail: "ana@example.com" }])).toBe(known);
  });
});

describe("slugFromPath", () => {
  it("finds the workspace in /t/<slug> addresses only", () => {
    expect(slugFromPath("/t/ana-s-bakery")).toBe("ana-s-bakery");
    expect(slugFromPath("/t/ana-s-bakery/members")).toBe("ana-s-bakery");
    expect(slugFromPath("/t/caf%C3%A9")).toBe("café");
    expect(slugFromPath("/admin")).toBeNull();
    expect(slugFromPath("/tenants/x")).toBeNull();
  });
});
