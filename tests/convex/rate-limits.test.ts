// Limits on Convex functions the browser calls directly (convex/model/rateLimits.ts): upload URLs
// for contact imports, per workspace.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api } from "../../convex/_generated/api";
import { CONVEX_RATE_LIMITS } from "../../convex/model/rateLimits";
import { expectCode, setup, twoTenants } from "./factories";

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
