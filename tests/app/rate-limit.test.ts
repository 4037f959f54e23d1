import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkRateLimitStore } from "../../app/lib/health.server";
import {
  hashedKey,
  MemoryRateLimiter,
  RedisRateLimitStore,
  retryAfterText,
  type RateLimitResult,
} from "../../app/lib/rate-limit.server";
import { startRedisServer, type LocalRedis } from "../../local/redis-rest/redis-server";
import { startRedisRestBridge, type RedisRestBridge } from "../../local/redis-rest/server";
import { closedPort } from "./helpers";
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

describe("limits counted in a real Redis through the Upstash REST API", () => {
  let redisServer: LocalRedis;
  let bridge: RedisRestBridge;

  beforeAll(async () => {
    redisServer = await startRedisServer();
    bridge = await startRedisRestBridge({ redisPort: redisServer.port, token: "limits-token" });
  });
  afterAll(async () => {
    await bridge?.close();
    await redisServer?.stop();
  });

  const store = () =>
    new RedisRateLimitStore({ url: bridge.url, token: "limits-token", prefix: `t${Math.random()}` });

  it("refuses past the limit with when to retry, per key, and allows again after the window", async () => {
    const long = store().limiter("long", { limit: 3, windowMs: 60_000 });
    for (let i = 0; i < 3; i++) expect(await long.consume("client:203.0.113.7")).toEqual({ ok: true });
    expect((await long.consume("client:203.0.113.7")).ok).toBe(false);
    // Another client is counted apart.
    expect(await long.consume("client:198.51.100.1")).toEqual({ ok: true });

    // A short window: refused within a few calls (a window boundary may let one or two more
    // through, weighted), then allowed again once the wait has passed.
    const short = store().limiter("short", { limit: 3, windowMs: 1_000 });
    let refused: RateLimitResult = { ok: true };
    for (let i = 0; i < 10 && refused.ok; i++) refused = await short.consume("client:203.0.113.7");
    expect(refused.ok).toBe(false);
    const wait = (refused as { retryAfterMs: number }).retryAfterMs;
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(1_000);
    await new Promise((resolve) => setTimeout(resolve, wait + 50));
    expect(await short.consume("client:203.0.113.7")).toEqual({ ok: true });
  });

  it("shares counts between processes: a second store sees the first one's attempts", async () => {
    const prefix = `shared${Math.random()}`;
    const first = new RedisRateLimitStore({ url: bridge.url, token: "limits-token", prefix });
    const second = new RedisRateLimitStore({ url: bridge.url, token: "limits-token", prefix });
    const policy = { limit: 2, windowMs: 60_000 };
    expect(await first.limiter("login", policy).consume("email:ada@example.com")).toEqual({ ok: true });
    expect(await second.limiter("login", policy).consume("email:ada@example.com")).toEqual({ ok: true });
    expect((await first.limiter("login", policy).consume("email:ada@example.com")).ok).toBe(false);
    // Keys are stored hashed: no email address in Redis.
    const keys = (await new Redis({ url: bridge.url, token: "limits-token" }).keys(`${prefix}*`)) as string[];
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.join(" ")).not.toMatch(/ada|example/);
    expect(keys.join(" ")).toContain(hashedKey("email:ada@example.com"));
  });

  it("counts in memory while Redis is unreachable, and says so on /healthz", async () => {
    const down = new RedisRateLimitStore({ url: `http://127.0.0.1:${await closedPort()}`, token: "x" });
    const limiter = down.limiter("fallback", { limit: 2, windowMs: 60_000 });
    expect(await limiter.consume("k")).toEqual({ ok: true });
    expect(await limiter.consume("k")).toEqual({ ok: true });
    expect((await limiter.consume("k")).ok).toBe(false);
    expect(await checkRateLimitStore({ kind: "redis", store: down })).toMatchObject({
      status: "degraded",
      store: "redis",
      error: expect.stringMatching(/Redis unreachable \(ECONNREFUSED\)/),
    });
    expect(await checkRateLimitStore({ kind: "redis", store: store() })).toMatchObject({
      status: "ok",
      store: "redis",
    });
    const production = { kind: "memory", production: true, reason: "not set" } as const;
    expect(await checkRateLimitStore(production)).toMatchObject({ status: "degraded", store: "memory" });
  });
});
