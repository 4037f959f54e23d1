import { describe, expect, it } from "vitest";
import { MemoryRateLimiter, retryAfterText } from "../../app/lib/rate-limit.server";
import { clientAddress } from "../../app/lib/local-auth/sign-in-limits.server";

describe("the in-process rate limiter", () => {
  it("allows `limit` attempts per key in a sliding window, then says when to retry", async () => {
    let now = 0;
    const limiter = new MemoryRateLimiter({ limit: 2, windowMs: 1000, now: () => now });
    expect(await limiter.consume("a")).toEqual({ ok: true });
    now = 400;
    expect(await limiter.consume("a")).toEqual({ ok: true });
    expect(await limiter.consume("b")).toEqual({ ok: true });
    now = 600;
    expect(await limiter.consume("a")).toEqual({ ok: false, retryAfterMs: 400 });
    // The first attempt leaves the window at 1000; refused attempts do not extend it.
    now = 1001;
    expect(await limiter.consume("a")).toEqual({ ok: true });
    expect(await limiter.consume("a")).toEqual({ ok: false, retryAfterMs: 399 });
  });

  it("keeps at most maxKeys keys, forgetting the least recently used", async () => {
    const limiter = new MemoryRateLimiter({ limit: 1, windowMs: 60_000, maxKeys: 2 });
    await limiter.consume("a");
    await limiter.consume("b");
    await limiter.consume("c");
    expect(await limiter.consume("a")).toEqual({ ok: true });
    expect((await limiter.consume("c")).ok).toBe(false);
  });

  it("reads the client address the nearest proxy appended", () => {
    const at = (headers: Record<string, string>) => clientAddress(new Request("http://x/", { headers }));
    expect(at({ "x-forwarded-for": "10.0.0.1, 203.0.113.7" })).toBe("203.0.113.7");
    expect(at({ "x-real-ip": "192.0.2.1" })).toBe("192.0.2.1");
    expect(at({})).toBeNull();
    expect(retryAfterText(400)).toBe("in 1 second");
    expect(retryAfterText(59_000)).toBe("in 59 seconds");
    expect(retryAfterText(14 * 60_000 + 1)).toBe("in 15 minutes");
  });
});
