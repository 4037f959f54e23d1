// The signed-in user as Convex knows them, and the once-per-account call that registers them.
import type { FunctionReturnType } from "convex/server";
import type { api } from "../../convex/_generated/api";

export type Me = NonNullable<FunctionReturnType<typeof api.users.me>>;
export type MyTenant = Me["tenants"][number];

const ensured = new Map<string, Promise<unknown>>();

/**
 * Runs `ensure` once per account for the life of the page: concurrent and later callers share
 * the first call. A failed call is forgotten, so the next caller tries again.
 */
export function ensureOnce(account: string, ensure: () => Promise<unknown>): Promise<unknown> {
  let pending = ensured.get(account);
  if (!pending) {
    pending = ensure();
    ensured.set(account, pending);
    pending.catch(() => {
      if (ensured.get(account) === pending) ensured.delete(account);
    });
  }
  return pending;
}

export function forgetEnsure(account: string): void {
  ensured.delete(account);
}

/** Where `/app` sends a user: their last workspace if they still belong to it, else the first, else onboarding. */
export function homePathFor(me: Pick<Me, "lastTenantId" | "tenants">): string {
  const last = me.lastTenantId ? me.tenants.find((t) => t.tenantId === me.lastTenantId) : undefined;
  const tenant = last ?? me.tenants[0];
  return tenant ? `/t/${encodeURIComponent(tenant.slug)}` : "/onboarding";
}
