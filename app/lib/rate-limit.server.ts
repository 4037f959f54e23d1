// Rate limiting behind a small interface, so the in-process limiter here can be swapped for a
// shared one (for example Upstash Redis) when the app runs on more than one process.

export type RateLimitResult = { ok: true } | { ok: false; retryAfterMs: number };

export interface RateLimiter {
  /** Counts one attempt for `key`; refuses once `limit` attempts fell inside the window. */
  consume(key: string): Promise<RateLimitResult>;
}

export type MemoryRateLimiterOptions = {
  /** Attempts allowed per key within `windowMs`. */
  limit: number;
  windowMs: number;
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

/** Waits in words: "in 3 minutes", "in 40 seconds". */
export function retryAfterText(ms: number): string {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  if (seconds < 60) return `in ${seconds} second${seconds === 1 ? "" : "s"}`;
  const minutes = Math.ceil(seconds / 60);
  return `in ${minutes} minute${minutes === 1 ? "" : "s"}`;
}
