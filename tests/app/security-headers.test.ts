import { describe, expect, it } from "vitest";
import {
  baseSecurityHeaders,
  clerkFrontendApi,
  contentSecurityPolicy,
  documentSecurityHeaders,
  newNonce,
  servedOverHttps,
} from "../../app/lib/security-headers.server";

const PRODUCTION = {
  NODE_ENV: "production" as const,
  CONVEX_URL: "https://happy-otter-123.convex.cloud",
  SENTRY_DSN: undefined,
  CLERK_PUBLISHABLE_KEY: undefined,
  APP_URL: "https://app.example.com",
};

/** The policy as a map of directive → sources. */
function directives(policy: string): Record<string, string[]> {
  return Object.fromEntries(
    policy.split(";").map((part) => {
      const [name, ...sources] = part.trim().split(/\s+/);
      return [name!, sources];
    }),
  );
}

describe("the Content-Security-Policy", () => {
  it("in production runs only this origin's scripts and inline ones carrying the request's nonce", () => {
    const nonce = newNonce();
    expect(nonce).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    expect(newNonce()).not.toBe(nonce);
    const csp = directives(contentSecurityPolicy(PRODUCTION, nonce));
    expect(csp["script-src"]).toEqual(["'self'", `'nonce-${nonce}'`]);
    expect(csp["frame-ancestors"]).toEqual(["'none'"]);
    expect(csp["object-src"]).toEqual(["'none'"]);
    expect(csp["base-uri"]).toEqual(["'self'"]);
    expect(csp["form-action"]).toEqual(["'self'"]);
    expect(csp["default-src"]).toEqual(["'self'"]);
    // The browser's Convex client: HTTPS and its WebSocket.
    expect(csp["connect-src"]).toEqual([
      "'self'",
      "https://happy-otter-123.convex.cloud",
      "wss://happy-otter-123.convex.cloud",
    ]);
    expect(Object.values(csp).flat().join(" ")).not.toMatch(/unsafe-eval|ws:\/\/localhost/);
  });

  it("allows a local Convex over http and ws", () => {
    const csp = directives(
      contentSecurityPolicy({ ...PRODUCTION, CONVEX_URL: "http://127.0.0.1:3210" }, "n"),
    );
    expect(csp["connect-src"]).toEqual(["'self'", "http://127.0.0.1:3210", "ws://127.0.0.1:3210"]);
  });

  it("relaxes only in development, for Vite's inline scripts and HMR WebSocket", () => {
    const csp = directives(contentSecurityPolicy({ ...PRODUCTION, NODE_ENV: "development" }, "n"));
    expect(csp["script-src"]).toEqual(["'self'", "'unsafe-inline'", "'unsafe-eval'"]);
    expect(csp["connect-src"]).toContain("ws://127.0.0.1:*");
    expect(csp["frame-ancestors"]).toEqual(["'none'"]);
    const test = directives(contentSecurityPolicy({ ...PRODUCTION, NODE_ENV: "test" }, "n"));
    expect(test["script-src"]).toEqual(["'self'", "'nonce-n'"]);
  });

  it("adds Sentry's ingest origin and Clerk's Frontend API when they are configured", () => {
    const clerkKey = `pk_test_${Buffer.from("clean-gull-12.clerk.accounts.dev$").toString("base64")}`;
    expect(clerkFrontendApi(clerkKey)).toBe("clean-gull-12.clerk.accounts.dev");
    expect(clerkFrontendApi("pk_test_%%%")).toBeNull();
    expect(clerkFrontendApi(undefined)).toBeNull();
    const csp = directives(
      contentSecurityPolicy(
        {
          ...PRODUCTION,
          SENTRY_DSN: "https://public@o1.ingest.sentry.io/1",
          CLERK_PUBLISHABLE_KEY: clerkKey,
        },
        "n",
      ),
    );
    expect(csp["connect-src"]).toEqual(
      expect.arrayContaining(["https://o1.ingest.sentry.io", "https://clean-gull-12.clerk.accounts.dev"]),
    );
    expect(csp["script-src"]).toEqual(
      expect.arrayContaining(["'nonce-n'", "https://clean-gull-12.clerk.accounts.dev"]),
    );
    expect(csp["img-src"]).toContain("https://img.clerk.com");
  });
});

describe("the other security headers", () => {
  it("forbid framing and sniffing, trim referrers and turn off powerful features", () => {
    expect(baseSecurityHeaders(false)).toEqual({
      "X-Frame-Options": "DENY",
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": "strict-origin-when-cross-origin",
      "Permissions-Policy": expect.stringContaining("camera=(), microphone=(), geolocation=()"),
    });
  });

  it("send HSTS only when the app is served over https", () => {
    const local = new Request("http://127.0.0.1:3000/");
    expect(servedOverHttps(local, "http://127.0.0.1:3000")).toBe(false);
    expect(servedOverHttps(new Request("https://app.example.com/"), undefined)).toBe(true);
    expect(
      servedOverHttps(
        new Request("http://10.0.0.5/", { headers: { "x-forwarded-proto": "https" } }),
        undefined,
      ),
    ).toBe(true);
    expect(servedOverHttps(local, "https://app.example.com")).toBe(true);

    const headers = documentSecurityHeaders(PRODUCTION, new Request("https://app.example.com/"), "n");
    expect(headers["Strict-Transport-Security"]).toBe("max-age=31536000; includeSubDomains");
    expect(headers["Content-Security-Policy"]).toContain("'nonce-n'");
    const plain = documentSecurityHeaders({ ...PRODUCTION, APP_URL: "http://127.0.0.1:3000" }, local, "n");
    expect(plain["Strict-Transport-Security"]).toBeUndefined();
    expect(plain["X-Frame-Options"]).toBe("DENY");
  });
});
