// Rate limiting for the web server's public endpoints. With UPSTASH_REDIS_REST_URL and
// UPSTASH_REDIS_REST_TOKEN set, counts live in Redis (Upstash's sliding-window limiter through
// the real @upstash/redis client), shared by every server process; without them, and whenever
// Redis cannot be reached, each process counts in its own memory. Production without Redis starts
// anyway, logs a warning at boot and reports itself degraded on /healthz (docs/decisions/025).
import { createHash } from "node:crypto";
import { Ratelimit } from "@upstash/ratelimit";
import { Redis } from "@upstash/redis";
import { getEnv } from "./env.server";
import { logger } from "./logger.server";

export type RateLimitResult = { ok: true } | { ok: false; retryAfterMs: number };

export interface RateLimiter {
  /** Counts one attempt for `key`; refuses once `limit` attempts fell inside the window. */
  consume(key: string): Promise<RateLimitResult>;
}

export type RateLimitPolicy = { limit: number; windowMs: number };

const MINUTE = 60_000;

/** Every limit the web server applies, by name (the name is part of the Redis key). */
export const RATE_LIMITS = {
  /** Local sign-in in production: guesses at one account's password. */
  signInPerEmail: { limit: 10, windowMs: 15 * MINUTE },
  /** Local sign-in in production: one client trying many accounts. */
  signInPerClient: { limit: 30, windowMs: 15 * MINUTE },
  /** GET /auth/token: a browser asks about once every four minutes per tab. */
  tokenPerUser: { limit: 120, windowMs: MINUTE },
  tokenPerClient: { limit: 600, windowMs: MINUTE },
  /** GET /invitations/<token>: opening invitation links (guessing them, at scale). */
  invitationPerUser: { limit: 30, windowMs: 10 * MINUTE },
  invitationPerClient: { limit: 100, windowMs: 10 * MINUTE },
  /** POST /verify-email: redeeming verification links, signed in or not. */
  verifyEmailPerClient: { limit: 20, windowMs: 15 * MINUTE },
  /** POST /account (send-verification): emails sent to one account's address. */
  verificationEmailPerAccount: { limit: 5, windowMs: 60 * MINUTE },
} as const satisfies Record<string, RateLimitPolicy>;

export type RateLimitName = keyof typeof RATE_LIMITS;

export type MemoryRateLimiterOptions = RateLimitPolicy & {
  /** Keys tracked at most; the oldest are dropped beyond it, so memory stays bounded. */
  maxKeys?: number;
  now?: () => number;
};

/**
 * A sliding-window limiter in this process's memory: each key keeps the times of its recent
 * attempts. Good for one server process; restarts forget it.
 */
export class MemoryRateLimiter implements RateLimiter {
  private readonly hits = new Map<string, number[]>();
  private readonly now: () => number;
  private readonly maxKeys: number;

  constructor(private readonly options: MemoryRateLimiterOptions) {
    this.now = options.now ?? Date.now;
    this.maxKeys = options.maxKeys ?? 10_000;
  }

  consume(key: string): Promise<RateLimitResult> {
    const now = this.now();
    const since = now - this.options.windowMs;
    const recent = (this.hits.get(key) ?? []).filter((t) => t > since);
    if (recent.length >= this.options.limit) {
      this.hits.set(key, recent);
      return Promise.resolve({ ok: false, retryAfterMs: recent[0]! + this.options.windowMs - now });
    }
    recent.push(now);
    // Re-inserted last, so the map's first key is the one least recently used.
    this.hits.delete(key);
    this.hits.set(key, recent);
    while (this.hits.size > this.maxKeys) this.hits.delete(this.hits.keys().next().value!);
    return Promise.resolve({ ok: true });
  }
}

export type RedisStoreOptions = {
  url: string;
  token: string;
  /** A Redis call slower than this counts as a failure (the memory limiter answers instead). */
  timeoutMs?: number;
  /** After a failure, Redis is left alone this long before it is tried again. */
  retryAfterFailureMs?: number;
  /** Prefix of every key, so several apps can share one database. */
  prefix?: string;
};

/** A key as stored in Redis: a hash, so emails and addresses are not kept in the clear. */
export function hashedKey(key: string): string {
  return createHash("sha256").update(key).digest("base64url").slice(0, 32);
}

/**
 * Redis through Upstash's REST API, shared by the limiters made from it. A failure (unreachable,
 * refused token, slow) is logged once, and for `retryAfterFailureMs` the limiters count in memory
 * without trying Redis, so an outage costs no latency on each request.
 */
export class RedisRateLimitStore {
  readonly redis: Redis;
  private readonly timeoutMs: number;
  private readonly retryAfterFailureMs: number;
  private readonly prefix: string;
  private failedUntil = 0;
  private lastError: string | null = null;

  constructor(options: RedisStoreOptions) {
    this.redis = new Redis({
      url: options.url,
      token: options.token,
      retry: false,
      enableTelemetry: false,
      enableAutoPipelining: false,
    });
    this.timeoutMs = options.timeoutMs ?? 1_000;
    this.retryAfterFailureMs = options.retryAfterFailureMs ?? 5_000;
    this.prefix = options.prefix ?? "switchboard:ratelimit";
  }

  /** A limiter counting in Redis, and in `fallback` while Redis fails. */
  limiter(name: string, policy: RateLimitPolicy, fallback: RateLimiter = new MemoryRateLimiter(policy)) {
    const ratelimit = new Ratelimit({
      redis: this.redis,
      limiter: Ratelimit.slidingWindow(policy.limit, `${policy.windowMs} ms`),
      prefix: `${this.prefix}:${name}`,
      // Our own timeout below: Upstash's lets requests through when Redis is slow.
      timeout: 0,
      analytics: false,
      // Keys refused until their reset are answered from memory without a Redis call.
      ephemeralCache: new Map(),
    });
    return {
      consume: async (key: string): Promise<RateLimitResult> => {
        if (Date.now() < this.failedUntil) return fallback.consume(key);
        try {
          const result = await this.withTimeout(ratelimit.limit(hashedKey(key)));
          this.recovered();
          if (result.success) return { ok: true };
          return { ok: false, retryAfterMs: Math.max(1, result.reset - Date.now()) };
        } catch (error) {
          this.failed(error);
          return fallback.consume(key);
        }
      },
    } satisfies RateLimiter;
  }

  /** Whether Redis answers PING now (for /healthz); the error when it does not. */
  async ping(): Promise<{ ok: true } | { ok: false; error: string }> {
    try {
      const reply = await this.withTimeout(this.redis.ping());
      return reply === "PONG" ? { ok: true } : { ok: false, error: `unexpected reply ${String(reply)}` };
    } catch (error) {
      return { ok: false, error: describeError(error) };
    }
  }

  private withTimeout<T>(promise: Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  private failed(error: unknown): void {
    this.failedUntil = Date.now() + this.retryAfterFailureMs;
    const message = describeError(error);
    if (message !== this.lastError) {
      logger.warn(
        { err: message },
        "rate limits: Redis failed; counting in this process's memory until it answers again",
      );
    }
    this.lastError = message;
  }

  private recovered(): void {
    if (this.lastError === null) return;
    this.lastError = null;
    logger.info("rate limits: Redis answers again; counting in Redis");
  }
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? error.message;
  }
  return String(error);
}

/** Where the limits of this process are counted. */
export type RateLimitBackend =
  { kind: "redis"; store: RedisRateLimitStore } | { kind: "memory"; reason: string; production: boolean };

let backend: RateLimitBackend | undefined;
const limiters = new Map<RateLimitName, RateLimiter>();

/** The backend the environment asks for: Redis when both Upstash variables are set. */
export function getRateLimitBackend(): RateLimitBackend {
  if (backend) return backend;
  const env = getEnv();
  if (env.UPSTASH_REDIS_REST_URL && env.UPSTASH_REDIS_REST_TOKEN) {
    backend = {
      kind: "redis",
      store: new RedisRateLimitStore({
        url: env.UPSTASH_REDIS_REST_URL,
        token: env.UPSTASH_REDIS_REST_TOKEN,
      }),
    };
  } else {
    backend = {
      kind: "memory",
      production: env.NODE_ENV === "production",
      reason:
        "UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN are not set: limits are counted per process",
    };
  }
  return backend;
}

/** Says at boot where limits are counted; a warning in production without Redis. */
export function announceRateLimitBackend(): void {
  const current = getRateLimitBackend();
  if (current.kind === "redis") logger.info("rate limits: counted in Redis (Upstash REST)");
  else if (current.production) {
    logger.warn(
      `rate limits: ${current.reason}. Each server process keeps its own counts and a restart forgets ` +
        "them; set UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN to share them (docs/deployment.md)",
    );
  } else logger.info(`rate limits: ${current.reason}`);
}

/** The process's limiter for one of RATE_LIMITS. */
export function getRateLimiter(name: RateLimitName): RateLimiter {
  let limiter = limiters.get(name);
  if (!limiter) {
    const current = getRateLimitBackend();
    const policy = RATE_LIMITS[name];
    limiter = current.kind === "redis" ? current.store.limiter(name, policy) : new MemoryRateLimiter(policy);
    limiters.set(name, limiter);
  }
  return limiter;
}

/** Waits in words: "in 3 minutes", "in 40 seconds". */
export function retryAfterText(ms: number): string {
  const seconds = retryAfterSeconds(ms);
  if (seconds < 60) return `in ${seconds} second${seconds === 1 ? "" : "s"}`;
  const minutes = Math.ceil(seconds / 60);
  return `in ${minutes} minute${minutes === 1 ? "" : "s"}`;
}

/** The Retry-After header's value: whole seconds, at least 1. */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * Counts one attempt against each named limit (keys without a value are skipped) and, when any
 * refuses, throws a 429 with Retry-After: JSON for API endpoints, a sentence for pages (their
 * error boundary shows it).
 */
export async function enforceRateLimits(
  checks: RateLimitCheck[],
  format: "json" | "page" = "page",
): Promise<void> {
  const result = await checkRateLimits(checks);
  if (!result.ok) throw tooManyRequests(result.retryAfterMs, format);
}

/** A limit and the key to count against (null or empty: not counted, e.g. no client address). */
export type RateLimitCheck = [RateLimitName, string | null | undefined];

/** Counts one attempt against each limit; refused with the longest wait when any refuses. */
export async function checkRateLimits(checks: RateLimitCheck[]): Promise<RateLimitResult> {
  const results = await Promise.all(
    checks
      .filter((check): check is [RateLimitName, string] => Boolean(check[1]))
      .map(([name, key]) => getRateLimiter(name).consume(key)),
  );
  const waits = results.flatMap((r) => (r.ok ? [] : [r.retryAfterMs]));
  return waits.length === 0 ? { ok: true } : { ok: false, retryAfterMs: Math.max(...waits) };
}

/** A 429 response saying when to try again. */
export function tooManyRequests(retryAfterMs: number, format: "json" | "page" = "page"): Response {
  const seconds = retryAfterSeconds(retryAfterMs);
  const message = `Too many requests. Try again ${retryAfterText(retryAfterMs)}.`;
  const headers = { "retry-after": String(seconds), "cache-control": "no-store" };
  if (format === "json") {
    return Response.json(
      { error: "rate_limited", message, retryAfterSeconds: seconds },
      { status: 429, headers },
    );
  }
  return new Response(message, {
    status: 429,
    statusText: "Too Many Requests",
    headers: { ...headers, "content-type": "text/plain; charset=utf-8" },
  });
}

/** Forgets the backend and limiters (tests that change the environment). */
export function resetRateLimits(): void {
  backend = undefined;
  limiters.clear();
}
