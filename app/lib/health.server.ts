// Dependency checks for GET /healthz. Each check reports its own status and latency so a load
// balancer (status code) and a person (body) can both read the result.

import type { RateLimitBackend } from "./rate-limit.server";

export type CheckResult = {
  status: "ok" | "degraded" | "down";
  latencyMs: number;
  error?: string;
  /** What Convex says of its own dependencies when it is degraded (scheduler, webhooks, providers). */
  degraded?: string[];
};

export const CONVEX_HEALTH_TIMEOUT_MS = 2_000;

/**
 * Convex is up when its HTTP layer answers `/health` with 200 and `{ status: "ok" }`, degraded
 * with `{ status: "degraded" }` (the checks that are, named), down otherwise.
 */
export async function checkConvex(
  siteUrl: string,
  timeoutMs = CONVEX_HEALTH_TIMEOUT_MS,
): Promise<CheckResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const response = await fetch(`${siteUrl}/health`, {
      headers: { accept: "application/json" },
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await response.json().catch(() => null)) as {
      status?: unknown;
      checks?: Record<string, { status?: string; detail?: string }>;
    } | null;
    if (response.ok && body?.status === "ok") return { status: "ok", latencyMs: elapsed() };
    if (response.ok && body?.status === "degraded") {
      const degraded = Object.entries(body.checks ?? {})
        .filter(([, check]) => check?.status === "degraded")
        .map(([name, check]) => (check.detail ? `${name}: ${check.detail}` : name));
      return { status: "degraded", latencyMs: elapsed(), degraded };
    }
    return {
      status: "down",
      latencyMs: elapsed(),
      error: `HTTP ${response.status}${typeof body?.status === "string" ? ` (${body.status})` : ""}`,
    };
  } catch (error) {
    return { status: "down", latencyMs: elapsed(), error: describeFetchError(error, timeoutMs) };
  }
}

function describeFetchError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error) {
    if (error.name === "TimeoutError") return `timed out after ${timeoutMs} ms`;
    // Node's fetch hides the useful part (ECONNREFUSED, ENOTFOUND …) in `cause`.
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? error.message;
  }
  return String(error);
}

/**
 * Where rate limits are counted. Redis that answers PING is ok; Redis that does not is degraded
 * (limits fall back to each process's memory until it answers); no Redis configured is ok in
 * development and degraded in production, where counts per process are weaker than intended.
 */
export async function checkRateLimitStore(
  backend: RateLimitBackend,
): Promise<CheckResult & { store: string }> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  if (backend.kind === "memory") {
    return backend.production
      ? { status: "degraded", store: "memory", latencyMs: 0, error: backend.reason }
      : { status: "ok", store: "memory", latencyMs: 0 };
  }
  const ping = await backend.store.ping();
  if (ping.ok) return { status: "ok", store: "redis", latencyMs: elapsed() };
  return {
    status: "degraded",
    store: "redis",
    latencyMs: elapsed(),
    error: `Redis unreachable (${ping.error}): limits are counted in each process's memory`,
  };
}
