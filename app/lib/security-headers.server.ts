// Security headers for every page: a Content-Security-Policy with a per-request nonce (Remix's
// inline scripts carry it), no framing, no MIME sniffing, a strict referrer policy, a minimal
// Permissions-Policy, and HSTS when served over https. Development relaxes only what Vite's dev
// server needs (its HMR WebSocket, inline and eval'd scripts).
import { randomBytes } from "node:crypto";
import type { Env } from "./env.server";

export function newNonce(): string {
  return randomBytes(16).toString("base64");
}

type CspEnv = Pick<Env, "NODE_ENV" | "CONVEX_URL" | "SENTRY_DSN" | "CLERK_PUBLISHABLE_KEY" | "APP_URL">;

/** The origin of an http(s) URL and its WebSocket twin (https → wss), as CSP sources. */
function httpAndWs(url: string): string[] {
  const { protocol, host } = new URL(url);
  return [`${protocol}//${host}`, `${protocol === "https:" ? "wss:" : "ws:"}//${host}`];
}

/**
 * Clerk's Frontend API host, which its publishable key encodes (`pk_test_<base64("host$")>`);
 * null when the key does not decode to a host.
 */
export function clerkFrontendApi(publishableKey: string | undefined): string | null {
  const encoded = publishableKey?.split("_")[2];
  if (!encoded) return null;
  try {
    const host = Buffer.from(encoded, "base64").toString("utf8").replace(/\$$/, "");
    return /^[a-z0-9.-]+$/i.test(host) ? host : null;
  } catch {
    return null;
  }
}

export function contentSecurityPolicy(env: CspEnv, nonce: string): string {
  const dev = env.NODE_ENV === "development";
  const script = ["'self'"];
  const connect = ["'self'", ...httpAndWs(env.CONVEX_URL)];
  const img = ["'self'", "data:", "blob:"];
  const frame = ["'self'"];
  if (dev) {
    // Vite's client, React refresh and HMR: inline and eval'd scripts, and its WebSocket.
    script.push("'unsafe-inline'", "'unsafe-eval'");
    connect.push("ws://localhost:*", "ws://127.0.0.1:*");
  } else {
    script.push(`'nonce-${nonce}'`);
  }
  if (env.SENTRY_DSN) connect.push(new URL(env.SENTRY_DSN).origin);
  const clerk = clerkFrontendApi(env.CLERK_PUBLISHABLE_KEY);
  if (clerk) {
    // Clerk's browser SDK, its API, avatars, and the bot-protection challenge it may show.
    script.push(`https://${clerk}`, "https://challenges.cloudflare.com");
    connect.push(`https://${clerk}`);
    img.push("https://img.clerk.com");
    frame.push("https://challenges.cloudflare.com");
  }
  const directives: Record<string, string[]> = {
    "default-src": ["'self'"],
    "script-src": script,
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": img,
    "font-src": ["'self'", "data:"],
    "connect-src": connect,
    "frame-src": frame,
    "worker-src": ["'self'", "blob:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
  };
  return Object.entries(directives)
    .map(([name, sources]) => `${name} ${sources.join(" ")}`)
    .join("; ");
}

/** Whether the request reached us over https (directly, through a proxy, or per APP_URL). */
export function servedOverHttps(request: Request, appUrl: string | undefined): boolean {
  if (new URL(request.url).protocol === "https:") return true;
  if (request.headers.get("x-forwarded-proto")?.split(",")[0]?.trim() === "https") return true;
  return appUrl?.startsWith("https://") ?? false;
}

/** Headers for every response the app renders (documents and data). */
export function baseSecurityHeaders(https: boolean): Record<string, string> {
  return {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()",
    ...(https ? { "Strict-Transport-Security": "max-age=31536000; includeSubDomains" } : {}),
  };
}

/** Every security header for an HTML document rendered with `nonce`. */
export function documentSecurityHeaders(
  env: CspEnv,
  request: Request,
  nonce: string,
): Record<string, string> {
  return {
    "Content-Security-Policy": contentSecurityPolicy(env, nonce),
    ...baseSecurityHeaders(servedOverHttps(request, env.APP_URL)),
  };
}
