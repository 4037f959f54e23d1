// Rate and size limits on the web server's public endpoints, counted in a real redis-server behind
// the local Upstash REST bridge: through the routes' own loaders and actions, and through Remix's
// request handler (status codes and headers as a client sees them).
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  createRequestHandler,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type ServerBuild,
} from "@remix-run/node";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { startRedisServer, type LocalRedis } from "../../local/redis-rest/redis-server";
import { startRedisRestBridge, type RedisRestBridge } from "../../local/redis-rest/server";

const ISSUER = "http://127.0.0.1:3000";
const TOKEN = "routes-token";
let redisServer: LocalRedis;
let bridge: RedisRestBridge;

beforeAll(async () => {
  redisServer = await startRedisServer();
  bridge = await startRedisRestBridge({ redisPort: redisServer.port, token: TOKEN });
});
afterAll(async () => {
  await bridge?.close();
  await redisServer?.stop();
});
afterEach(() => {
  vi.unstubAllEnvs();
});

/** Fresh modules reading an environment with Redis configured (a new data dir: new accounts). */
async function loadApp(env: Record<string, string> = {}) {
  vi.resetModules();
  const base: Record<string, string> = {
    CONVEX_URL: "http://127.0.0.1:1",
    CONVEX_SITE_URL: "http://127.0.0.1:2",
    APP_URL: ISSUER,
    AUTH_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), "switchboard-limits-")),
    LOG_LEVEL: "silent",
    NODE_ENV: "test",
    CLERK_PUBLISHABLE_KEY: "",
    CLERK_SECRET_KEY: "",
    SESSION_SECRET: "",
    LOCAL_SIGN_IN_IN_PRODUCTION: "",
    RESEND_API_KEY: "",
    UPSTASH_REDIS_REST_URL: bridge.url,
    UPSTASH_REDIS_REST_TOKEN: TOKEN,
  };
  for (const [key, value] of Object.entries({ ...base, ...env })) vi.stubEnv(key, value);
  // Each test counts under its own Redis keys: a fresh flush keeps tests independent.
  await fetch(bridge.url, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(["FLUSHALL"]),
  });
  return {
    limits: await import("../../app/lib/rate-limit.server"),
    signInRoute: await import("../../app/routes/sign-in.$"),
    tokenRoute: await import("../../app/routes/auth.token"),
    invitationRoute: await import("../../app/routes/invitations.$token"),
    accountRoute: await import("../../app/routes/account"),
    verifyRoute: await import("../../app/routes/verify-email"),
    healthz: await import("../../app/routes/healthz"),
    root: await import("../../app/root"),
    entry: await import("../../app/entry.server"),
  };
}

type App = Awaited<ReturnType<typeof loadApp>>;

const args = (request: Request, params: Record<string, string> = {}) =>
  ({ request, params, context: {} }) as unknown as LoaderFunctionArgs & ActionFunctionArgs;

async function signIn(app: App, email: string, headers: Record<string, string> = {}): Promise<string> {
  const result = await app.signInRoute.action(
    args(
      new Request(`${ISSUER}/sign-in`, {
        method: "POST",
        body: new URLSearchParams({ email, name: "Someone", password: "correct horse battery" }),
        headers,
      }),
    ),
  );
  if (!(result instanceof Response)) throw new Error(`sign-in failed: ${JSON.stringify(result)}`);
  return result.headers.get("set-cookie")!.split(";")[0]!;
}

/**
 * Tries again until a call throws (a Response), at most `limit` more times. A sliding window
 * refuses right after `limit` calls within one of its fixed windows; calls that straddle a window
 * boundary count the earlier window weighted down, so a few more may pass there.
 */
async function refusedWithin(limit: number, run: () => Promise<unknown>): Promise<Response> {
  for (let i = 0; i < limit; i++) {
    try {
      await run();
    } catch (error) {
      if (error instanceof Response) return error;
      throw error;
    }
  }
  throw new Error(`not refused within ${limit} more calls`);
}

/** What a loader or action threw (a Response), or a failure when it did not throw. */
async function thrown(run: () => Promise<unknown>): Promise<Response> {
  try {
    await run();
  } catch (error) {
    if (error instanceof Response) return error;
    throw error;
  }
  throw new Error("expected a thrown Response");
}

describe("rate limits on public endpoints, in Redis", () => {
  it("GET /auth/token: 429 JSON with Retry-After past the per-user limit; other users unaffected", async () => {
    const app = await loadApp();
    expect(app.limits.getRateLimitBackend().kind).toBe("redis");
    const ada = await signIn(app, "ada@example.com");
    const bob = await signIn(app, "bob@example.com");
    const token = (cookie: string) =>
      app.tokenRoute.loader(args(new Request(`${ISSUER}/auth/token`, { headers: { cookie } })));
    const { limit } = app.limits.RATE_LIMITS.tokenPerUser;
    for (let i = 0; i < limit; i++) expect((await token(ada)).status).toBe(200);
    const refused = await refusedWithin(limit, () => token(ada));
    expect(refused.status).toBe(429);
    const wait = Number(refused.headers.get("retry-after"));
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(60);
    expect(await refused.json()).toEqual({
      error: "rate_limited",
      message: expect.stringMatching(/^Too many requests\. Try again in \d+ seconds?\.$/),
      retryAfterSeconds: wait,
    });
    expect((await token(bob)).status).toBe(200);
  });

  it("GET /invitations/<token>: per user and per client address, as a page error with Retry-After", async () => {
    const app = await loadApp();
    const ada = await signIn(app, "ada@example.com");
    const open = (cookie: string, client: string) =>
      app.invitationRoute.loader(
        args(
          new Request(`${ISSUER}/invitations/guess`, {
            headers: { cookie, "x-forwarded-for": client },
          }),
          { token: "guess" },
        ),
      );
    const { limit } = app.limits.RATE_LIMITS.invitationPerUser;
    // One user across many addresses is still one user.
    for (let i = 0; i < limit; i++) await open(ada, `203.0.113.${i}`);
    const refused = await refusedWithin(limit, () => open(ada, "203.0.113.200"));
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(await refused.text()).toMatch(/^Too many requests\. Try again in \d+ (seconds?|minutes?)\.$/);
    // Another user from one of those addresses is not affected by Ada's count.
    const bob = await signIn(app, "bob@example.com");
    expect(await open(bob, "203.0.113.1")).toEqual({ token: "guess" });
  });

  it("POST /sign-in in production: per email, 429 with Retry-After and the form's message", async () => {
    const app = await loadApp({ NODE_ENV: "production", LOCAL_SIGN_IN_IN_PRODUCTION: "true" });
    const attempt = (password: string, client: string) =>
      app.signInRoute.action(
        args(
          new Request(`${ISSUER}/sign-in`, {
            method: "POST",
            body: new URLSearchParams({ email: "ada@example.com", name: "Ada", password }),
            headers: { "x-forwarded-for": client },
          }),
        ),
      );
    const { limit } = app.limits.RATE_LIMITS.signInPerEmail;
    for (let i = 0; i < limit; i++) await attempt(`guess number ${i}`, `198.51.100.${i}`);
    type Limited = {
      data: { fieldErrors: { password: string } };
      init: { status: number; headers: Record<string, string> };
    };
    let limited = (await attempt("another guess", "198.51.100.99")) as unknown as Limited;
    for (let i = 0; i < limit && limited.init.status !== 429; i++) {
      limited = (await attempt(`late guess ${i}`, "198.51.100.99")) as unknown as Limited;
    }
    expect(limited.init.status).toBe(429);
    expect(limited.init.headers["retry-after"]).toMatch(/^\d+$/);
    expect(limited.data.fieldErrors.password).toMatch(/^Too many sign-in attempts\. Try again in/);
  });

  it("POST /account send-verification: a few emails per account, then 429 with the reason", async () => {
    const app = await loadApp();
    const ada = await signIn(app, "ada@example.com");
    const send = () =>
      app.accountRoute.action(
        args(
          new Request(`${ISSUER}/account`, {
            method: "POST",
            body: new URLSearchParams({ intent: "send-verification" }),
            headers: { cookie: ada },
          }),
        ),
      );
    const { limit } = app.limits.RATE_LIMITS.verificationEmailPerAccount;
    for (let i = 0; i < limit; i++) {
      const ok = (await send()) as unknown as { init: { status?: number } | null };
      expect(ok.init?.status ?? 200).toBe(200);
    }
    const limited = (await send()) as unknown as {
      data: { error: string };
      init: { status: number; headers: Record<string, string> };
    };
    expect(limited.init.status).toBe(429);
    expect(limited.data.error).toMatch(/^Too many verification emails for this account\. Try again in/);
  });
});

describe("request size limits", () => {
  it("refuses a form over 64 KB with 413, by Content-Length and by counting a chunked body", async () => {
    const app = await loadApp();
    const big = "x".repeat(70 * 1024);
    const declared = await thrown(() =>
      app.signInRoute.action(
        args(
          new Request(`${ISSUER}/sign-in`, {
            method: "POST",
            body: new URLSearchParams({ email: "ada@example.com", name: big }),
          }),
        ),
      ),
    );
    expect(declared.status).toBe(413);
    expect(await declared.text()).toBe("The request is too large: at most 64 KB is accepted here.");

    // No Content-Length: the body arrives in chunks and is cut off past the limit.
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > 1024 * 1024) return controller.close();
        sent += 16 * 1024;
        controller.enqueue(new TextEncoder().encode("a".repeat(16 * 1024)));
      },
    });
    const chunked = await thrown(() =>
      app.verifyRoute.action(
        args(
          new Request(`${ISSUER}/verify-email`, {
            method: "POST",
            body: stream,
            headers: { "content-type": "application/x-www-form-urlencoded" },
            duplex: "half",
          } as RequestInit),
        ),
      ),
    );
    expect(chunked.status).toBe(413);
    expect(sent).toBeLessThan(1024 * 1024);
  });
});

describe("through Remix's request handler", () => {
  /** The app's real entry and routes, assembled as the build would (resource and data requests). */
  function handlerFor(app: App) {
    const build = {
      mode: "production",
      entry: { module: app.entry },
      routes: {
        root: { id: "root", path: "", module: app.root },
        "routes/auth.token": {
          id: "routes/auth.token",
          parentId: "root",
          path: "auth/token",
          module: app.tokenRoute,
        },
        "routes/sign-in.$": {
          id: "routes/sign-in.$",
          parentId: "root",
          path: "sign-in/*",
          module: app.signInRoute,
        },
        "routes/healthz": { id: "routes/healthz", parentId: "root", path: "healthz", module: app.healthz },
      },
      assets: {
        entry: { module: "/assets/entry.js", imports: [] },
        routes: {},
        url: "/assets/m.js",
        version: "t",
      },
      publicPath: "/assets/",
      assetsBuildDirectory: "build/client",
      future: {},
      isSpaMode: false,
    } as unknown as ServerBuild;
    return createRequestHandler(build, "production");
  }

  it("answers 429 with Retry-After, 413 for a large form, and reports Redis on /healthz", async () => {
    const app = await loadApp();
    const handle = handlerFor(app);
    const client = { "x-forwarded-for": "192.0.2.44" };
    const { limit } = app.limits.RATE_LIMITS.tokenPerClient;
    // Signed out: 401 each time, counted per client address.
    const statuses: number[] = [];
    let refused: Response | undefined;
    // The first `limit` pass; a refusal follows (at once, or a few later across a window boundary).
    for (let i = 0; i < 2 * limit && !refused; i++) {
      const response = await handle(new Request(`${ISSUER}/auth/token`, { headers: client }));
      statuses.push(response.status);
      if (response.status === 429) refused = response;
    }
    expect(statuses.slice(0, limit).every((status) => status === 401)).toBe(true);
    expect(refused?.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(refused?.headers.get("content-type")).toMatch(/application\/json/);
    // Another address is not limited.
    expect(
      (await handle(new Request(`${ISSUER}/auth/token`, { headers: { "x-forwarded-for": "192.0.2.45" } })))
        .status,
    ).toBe(401);

    const tooLarge = await handle(
      new Request(`${ISSUER}/sign-in?_data=${encodeURIComponent("routes/sign-in.$")}`, {
        method: "POST",
        body: new URLSearchParams({ email: "a@example.com", name: "x".repeat(100 * 1024) }),
      }),
    );
    expect(tooLarge.status).toBe(413);

    const health = await handle(new Request(`${ISSUER}/healthz`));
    const body = (await health.json()) as { checks: { rateLimits: { status: string; store: string } } };
    expect(body.checks.rateLimits).toMatchObject({ status: "ok", store: "redis" });
  });
});
