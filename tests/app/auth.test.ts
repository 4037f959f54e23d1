// Local sign-in: the app as a small OIDC provider (key pair, discovery, JWKS, tokens), accounts
// with optional scrypt passwords, the session cookie, the sign-in form, and the Clerk branch
// staying unloaded without keys. Route modules are called as Remix calls them.
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import {
  createLocalJWKSet,
  decodeProtectedHeader,
  errors,
  generateKeyPair,
  jwtVerify,
  SignJWT,
  type JSONWebKeySet,
} from "jose";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { startResendServer } from "../../local/resend-server/server";
import { sendJson, startServer, type TestServer } from "./helpers";

// Spy on the constant-time comparison without changing it, to prove password checks use it.
vi.mock("node:crypto", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:crypto")>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

// Records whether anything imports Clerk's server package; in Clerk mode it stands in for it.
const clerk = vi.hoisted(() => ({ loaded: 0, rootAuthLoaderOptions: [] as unknown[] }));
vi.mock("@clerk/remix/ssr.server", () => {
  clerk.loaded++;
  return {
    rootAuthLoader: async (
      args: { request: Request },
      callback: (a: { request: Request }) => Record<string, unknown>,
      options: unknown,
    ) => {
      clerk.rootAuthLoaderOptions.push(options);
      const auth = { userId: "user_clerk_1", sessionClaims: { email: "grace@example.com", name: "Grace" } };
      const data = callback({ request: Object.assign(args.request, { auth }) });
      return Response.json({ ...data, clerkState: { __type: "clerkState" } });
    },
    getAuth: async () => ({ userId: null, sessionClaims: null, getToken: async () => null }),
  };
});

const ISSUER = "http://127.0.0.1:4555";
let dataDir: string;

beforeEach(() => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), "switchboard-auth-"));
  clerk.loaded = 0;
  clerk.rootAuthLoaderOptions = [];
});

afterEach(() => {
  vi.unstubAllEnvs();
});

/** Fresh modules reading a known environment (getEnv and the key/session caches are per module). */
async function loadApp(env: Record<string, string> = {}) {
  vi.resetModules();
  const base: Record<string, string> = {
    CONVEX_URL: "http://127.0.0.1:1",
    CONVEX_SITE_URL: "http://127.0.0.1:2",
    APP_URL: ISSUER,
    AUTH_DATA_DIR: dataDir,
    LOG_LEVEL: "silent",
    NODE_ENV: "test",
    CLERK_PUBLISHABLE_KEY: "",
    CLERK_SECRET_KEY: "",
    SESSION_SECRET: "",
    PORT: "",
    RESEND_API_KEY: "",
    RESEND_BASE_URL: "",
    LOCAL_SIGN_IN_IN_PRODUCTION: "",
  };
  for (const [key, value] of Object.entries({ ...base, ...env })) vi.stubEnv(key, value);
  return {
    keys: await import("../../app/lib/local-auth/keys.server"),
    accounts: await import("../../app/lib/local-auth/accounts.server"),
    auth: await import("../../app/lib/auth.server"),
    signInRoute: await import("../../app/routes/sign-in.$"),
    signUpRoute: await import("../../app/routes/sign-up.$"),
    signOutRoute: await import("../../app/routes/sign-out"),
    tokenRoute: await import("../../app/routes/auth.token"),
    accountRoute: await import("../../app/routes/account"),
    verifyRoute: await import("../../app/routes/verify-email"),
    discoveryRoute: await import("../../app/routes/[.well-known].openid-configuration"),
    jwksRoute: await import("../../app/routes/[.well-known].jwks[.]json"),
    root: await import("../../app/root"),
  };
}

type App = Awaited<ReturnType<typeof loadApp>>;

const args = (request: Request, params: Record<string, string> = {}) =>
  ({ request, params, context: {} }) as unknown as LoaderFunctionArgs & ActionFunctionArgs;

function signInRequest(fields: Record<string, string>, headers: Record<string, string> = {}): Request {
  return new Request(`${ISSUER}/sign-in`, { method: "POST", body: new URLSearchParams(fields), headers });
}

/** Runs the sign-in action; a Response on success (redirect), Remix `data()` on a form error. */
async function postSignIn(app: App, fields: Record<string, string>, headers?: Record<string, string>) {
  return await app.signInRoute.action(args(signInRequest(fields, headers)));
}

async function signIn(app: App, fields: Record<string, string>): Promise<string> {
  const result = await postSignIn(app, fields);
  if (!(result instanceof Response)) throw new Error(`sign-in failed: ${JSON.stringify(result)}`);
  return result.headers.get("set-cookie")!.split(";")[0]!;
}

function formErrors(result: unknown): { status: number; fieldErrors: Record<string, string> } {
  expect(result).not.toBeInstanceOf(Response);
  const value = result as {
    type: string;
    data: { fieldErrors: Record<string, string> };
    init: { status: number };
  };
  expect(value.type).toBe("DataWithResponseInit");
  return { status: value.init.status, fieldErrors: value.data.fieldErrors };
}

async function servedJwks(app: App): Promise<JSONWebKeySet> {
  const response = await app.jwksRoute.loader();
  return (await response.json()) as JSONWebKeySet;
}

async function tokenFor(app: App, cookie: string | null): Promise<Response> {
  const headers: Record<string, string> = cookie ? { cookie } : {};
  return await app.tokenRoute.loader(args(new Request(`${ISSUER}/auth/token`, { headers })));
}

describe("signing key", () => {
  it("is generated once under AUTH_DATA_DIR, private to its owner, and reused after a restart", async () => {
    const first = await loadApp();
    const key = await first.keys.getSigningKey(dataDir);
    const file = path.join(dataDir, "signing-key.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, "utf8")).kid).toBe(key.kid);

    // A new process (fresh modules, no cache) reads the same key instead of making another.
    const second = await loadApp();
    const again = await second.keys.getSigningKey(dataDir);
    expect(again.kid).toBe(key.kid);
    expect(again.publicJwk).toEqual(key.publicJwk);
  });

  it("ends up as one key when two processes start at the same moment", async () => {
    const a = await loadApp();
    const b = await loadApp();
    const [ka, kb] = await Promise.all([a.keys.getSigningKey(dataDir), b.keys.getSigningKey(dataDir)]);
    expect(ka.kid).toBe(kb.kid);
  });

  it("creates the folder when it does not exist yet", async () => {
    const nested = path.join(dataDir, "does", "not", "exist");
    const app = await loadApp({ AUTH_DATA_DIR: nested });
    await app.keys.getSigningKey(nested);
    expect(statSync(path.join(nested, "signing-key.json")).isFile()).toBe(true);
  });
});

describe("discovery and JWKS", () => {
  it("serves an OpenID configuration whose issuer is APP_URL and whose jwks_uri is ours", async () => {
    const app = await loadApp();
    const response = app.discoveryRoute.loader();
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    const doc = await response.json();
    expect(doc).toMatchObject({
      issuer: ISSUER,
      jwks_uri: `${ISSUER}/.well-known/jwks.json`,
      id_token_signing_alg_values_supported: ["RS256"],
      response_types_supported: expect.arrayContaining(["id_token"]),
      subject_types_supported: ["public"],
    });
  });

  it("defaults the issuer to http://127.0.0.1:$PORT when APP_URL is unset", async () => {
    const app = await loadApp({ APP_URL: "", PORT: "4321" });
    expect((await app.discoveryRoute.loader().json()).issuer).toBe("http://127.0.0.1:4321");
  });

  it("publishes only the public key, with its kid", async () => {
    const app = await loadApp();
    const jwks = await servedJwks(app);
    const key = await app.keys.getSigningKey(dataDir);
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toEqual({
      kty: "RSA",
      n: expect.any(String),
      e: "AQAB",
      kid: key.kid,
      alg: "RS256",
      use: "sig",
    });
    for (const privateMember of ["d", "p", "q", "dp", "dq", "qi"])
      expect(jwks.keys[0]).not.toHaveProperty(privateMember);
    // The private key file does hold them: the JWKS is derived, not a copy of the file.
    expect(
      JSON.parse(readFileSync(path.join(dataDir, "signing-key.json"), "utf8")).privateJwk.d,
    ).toBeTruthy();
  });

  it("serves none of local sign-in when Clerk is configured, and never loads Clerk otherwise", async () => {
    const local = await loadApp();
    await servedJwks(local);
    await local.tokenRoute.loader(args(new Request(`${ISSUER}/auth/token`)));
    expect(clerk.loaded).toBe(0);

    const withClerk = await loadApp({ CLERK_PUBLISHABLE_KEY: "pk_test_x", CLERK_SECRET_KEY: "sk_test_x" });
    for (const call of [
      () => withClerk.discoveryRoute.loader(),
      () => withClerk.jwksRoute.loader(),
      () => withClerk.tokenRoute.loader(args(new Request(`${ISSUER}/auth/token`))),
    ]) {
      await expect(Promise.resolve().then(call)).rejects.toMatchObject({ status: 404 });
    }
  });
});

describe("tokens", () => {
  it("verify with jose against the served JWKS and carry the account's identity", async () => {
    const app = await loadApp();
    const cookie = await signIn(app, { email: "ada@example.com", name: "Ada Lovelace", password: "" });
    const response = await tokenFor(app, cookie);
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const { token, expiresAt } = await response.json();

    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(await servedJwks(app)), {
      issuer: ISSUER,
      audience: "convex",
      algorithms: ["RS256"],
    });
    expect(protectedHeader).toMatchObject({ alg: "RS256", kid: (await app.keys.getSigningKey(dataDir)).kid });
    // A new local account has not proved it owns the address.
    expect(payload).toMatchObject({ email: "ada@example.com", email_verified: false, name: "Ada Lovelace" });
    expect(payload.exp! - payload.iat!).toBe(300);
    expect(expiresAt).toBe(payload.exp! * 1000);
    // The subject is the account's random id, not its email.
    const account = await app.auth.getAccountStore().findByEmail("ada@example.com");
    expect(payload.sub).toBe(account!.id);
    // (A random UUID may hold the hex letters "ada"; it never holds "@" or a letter past f.)
    expect(payload.sub).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it("are refused once expired", async () => {
    const app = await loadApp();
    const key = await app.keys.getSigningKey(dataDir);
    const user = { subject: "s1", email: "a@example.com", name: "A", emailVerified: false };
    const { token } = await app.keys.issueToken(key, ISSUER, user, Date.now() - 6 * 60_000);
    await expect(
      jwtVerify(token, createLocalJWKSet(await servedJwks(app)), { issuer: ISSUER, audience: "convex" }),
    ).rejects.toBeInstanceOf(errors.JWTExpired);
  });

  it("are refused when signed by another key, even one claiming our kid", async () => {
    const app = await loadApp();
    const ours = await app.keys.getSigningKey(dataDir);
    const { privateKey } = await generateKeyPair("RS256");
    const forged = await new SignJWT({ email: "mallory@example.com", email_verified: true })
      .setProtectedHeader({ alg: "RS256", kid: ours.kid })
      .setIssuer(ISSUER)
      .setAudience("convex")
      .setSubject("someone-else")
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(privateKey);
    expect(decodeProtectedHeader(forged).kid).toBe(ours.kid);
    await expect(
      jwtVerify(forged, createLocalJWKSet(await servedJwks(app)), { issuer: ISSUER, audience: "convex" }),
    ).rejects.toBeInstanceOf(errors.JWSSignatureVerificationFailed);
  });

  it("GET /auth/token answers 401 JSON without a session, or with a tampered one", async () => {
    const app = await loadApp();
    const anonymous = await tokenFor(app, null);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: "unauthenticated" });

    const cookie = await signIn(app, { email: "ada@example.com", name: "Ada", password: "" });
    const [name, value] = cookie.split("=") as [string, string];
    const tampered = `${name}=${value.slice(0, -3)}AAA`;
    expect((await tokenFor(app, tampered)).status).toBe(401);
    expect((await tokenFor(app, cookie)).status).toBe(200);
  });

  it("loaders act as the user towards Convex through getConvexClientForRequest", async () => {
    const seen: (string | undefined)[] = [];
    const convex: TestServer = await startServer((req, res) => {
      seen.push(req.headers.authorization);
      sendJson(res, 200, { status: "success", value: null, logLines: [] });
    });
    try {
      const app = await loadApp({ CONVEX_URL: convex.url });
      const cookie = await signIn(app, { email: "ada@example.com", name: "Ada", password: "" });
      const signedIn = new Request(`${ISSUER}/inbox`, { headers: { cookie } });
      await (await app.auth.getConvexClientForRequest(signedIn)).query("system:status" as never, {});
      await (
        await app.auth.getConvexClientForRequest(new Request(`${ISSUER}/`))
      ).query("system:status" as never, {});

      expect(seen).toHaveLength(2);
      const token = seen[0]!.replace(/^Bearer /, "");
      const { payload } = await jwtVerify(token, createLocalJWKSet(await servedJwks(app)), {
        issuer: ISSUER,
        audience: "convex",
      });
      expect(payload.email).toBe("ada@example.com");
      expect(seen[1]).toBeUndefined();
    } finally {
      await convex.close();
    }
  });
});

describe("passwords", () => {
  it("are hashed with scrypt and a random salt, and checked in constant time", async () => {
    const app = await loadApp();
    const { hashPassword, verifyPassword } = app.accounts;
    const one = await hashPassword("correct horse battery");
    const two = await hashPassword("correct horse battery");
    expect(one).toMatch(/^scrypt\$\d+\$\d+\$\d+\$[\w-]+\$[\w-]+$/);
    expect(one).not.toBe(two);
    expect(one).not.toContain("correct");

    const crypto = await import("node:crypto");
    const timingSafeEqual = vi.mocked(crypto.timingSafeEqual);
    timingSafeEqual.mockClear();
    await expect(verifyPassword("correct horse battery", one)).resolves.toBe(true);
    await expect(verifyPassword("correct horse batterY", one)).resolves.toBe(false);
    expect(timingSafeEqual).toHaveBeenCalledTimes(2);
  });

  it("an account created with a password needs it from then on; a wrong or missing one is refused", async () => {
    const app = await loadApp();
    const cookie = await signIn(app, { email: "ada@example.com", name: "Ada", password: "correct horse" });
    expect(cookie).toMatch(/^switchboard_session=/);

    const wrong = formErrors(
      await postSignIn(app, { email: "ada@example.com", name: "Ada", password: "wrong horse" }),
    );
    expect(wrong.status).toBe(400);
    expect(wrong.fieldErrors.password).toMatch(/not right/);
    const missing = formErrors(
      await postSignIn(app, { email: "ada@example.com", name: "Ada", password: "" }),
    );
    expect(missing.fieldErrors.password).toMatch(/has a password/);

    // Same account whatever the case and spacing of the email.
    const again = await signIn(app, {
      email: "  ADA@Example.COM ",
      name: "Ada L.",
      password: "correct horse",
    });
    const token = await (await tokenFor(app, again)).json();
    const first = await (await tokenFor(app, cookie)).json();
    const sub = (t: string) => JSON.parse(Buffer.from(t.split(".")[1]!, "base64url").toString()).sub;
    expect(sub(token.token)).toBe(sub(first.token));

    const stored = readFileSync(path.join(dataDir, "accounts.json"), "utf8");
    expect(stored).not.toContain("correct horse");
    expect(JSON.parse(stored).accounts).toEqual([
      expect.objectContaining({
        email: "ada@example.com",
        name: "Ada",
        passwordHash: expect.stringMatching(/^scrypt\$/),
      }),
    ]);
  });

  it("signing in never renames an existing account, with or without a password", async () => {
    const app = await loadApp();
    const bob = await signIn(app, { email: "bob@example.com", name: "Bob Baker", password: "" });
    // Anyone may type a passwordless account's email (development only), but not rename it.
    const mallory = await signIn(app, { email: "BOB@example.com", name: "Mallory", password: "" });
    await signIn(app, { email: "ada@example.com", name: "Ada", password: "correct horse" });
    await signIn(app, { email: "ada@example.com", name: "Someone Else", password: "correct horse" });

    const store = app.auth.getAccountStore();
    expect((await store.findByEmail("bob@example.com"))?.name).toBe("Bob Baker");
    expect((await store.findByEmail("ada@example.com"))?.name).toBe("Ada");
    for (const cookie of [bob, mallory]) {
      const { token } = await (await tokenFor(app, cookie)).json();
      expect(JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString())).toMatchObject({
        name: "Bob Baker",
      });
    }
    const page = await app.root.loader(args(new Request(`${ISSUER}/`, { headers: { cookie: mallory } })));
    expect(page).toMatchObject({ auth: { user: { email: "bob@example.com", name: "Bob Baker" } } });
  });

  it("an account created without a password takes none, and new passwords must be long enough", async () => {
    const app = await loadApp();
    await signIn(app, { email: "bob@example.com", name: "Bob", password: "" });
    const withPassword = formErrors(
      await postSignIn(app, { email: "bob@example.com", name: "Bob", password: "something long" }),
    );
    expect(withPassword.fieldErrors.password).toMatch(/without a password/);

    const short = formErrors(
      await postSignIn(app, { email: "carol@example.com", name: "Carol", password: "short" }),
    );
    expect(short.fieldErrors.password).toMatch(/at least 8/);
    expect(await app.auth.getAccountStore().findByEmail("carol@example.com")).toBeNull();
  });
});

describe("the sign-in form", () => {
  it("reports every invalid field inline and keeps what was typed (never the password)", async () => {
    const app = await loadApp();
    const empty = formErrors(await postSignIn(app, { email: "", name: "  ", password: "" }));
    expect(empty.status).toBe(400);
    expect(empty.fieldErrors).toEqual({ email: "Enter your email address", name: "Enter your name" });

    const result = await postSignIn(app, {
      email: "not-an-email",
      name: "x".repeat(101),
      password: "hunter22",
    });
    const bad = formErrors(result);
    expect(bad.fieldErrors.email).toMatch(/valid email/);
    expect(bad.fieldErrors.name).toMatch(/at most 100/);
    expect(JSON.stringify(result)).not.toContain("hunter22");
    expect((result as { data: { values: unknown } }).data.values).toEqual({
      email: "not-an-email",
      name: "x".repeat(101),
    });
    // Nothing was created by a failed attempt.
    expect(() => readFileSync(path.join(dataDir, "accounts.json"))).toThrow();
  });

  it("sets an httpOnly, SameSite=Lax session cookie, Secure in production", async () => {
    const app = await loadApp();
    const result = (await postSignIn(app, {
      email: "ada@example.com",
      name: "Ada",
      password: "",
    })) as Response;
    const setCookie = result.headers.get("set-cookie")!;
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Lax/);
    expect(setCookie).toMatch(/Path=\//);
    expect(setCookie).not.toMatch(/Secure/);

    const production = await loadApp({ NODE_ENV: "production", LOCAL_SIGN_IN_IN_PRODUCTION: "true" });
    const prod = (await postSignIn(production, {
      email: "grace@example.com",
      name: "Grace",
      password: "correct horse",
    })) as Response;
    expect(prod.headers.get("set-cookie")).toMatch(/; Secure/);
  });

  it("uses SESSION_SECRET when set, otherwise a secret generated once into AUTH_DATA_DIR", async () => {
    const generated = await loadApp();
    const cookie = await signIn(generated, { email: "ada@example.com", name: "Ada", password: "" });
    const secretFile = path.join(dataDir, "session-secret");
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    // After a restart the same secret is read back, so the session still holds.
    expect((await tokenFor(await loadApp(), cookie)).status).toBe(200);

    // A different secret: the old cookie no longer verifies.
    const configured = await loadApp({ SESSION_SECRET: "s".repeat(40) });
    expect((await tokenFor(configured, cookie)).status).toBe(401);
  });

  it("redirects back to redirectTo, but only to a path on this site", async () => {
    const app = await loadApp();
    const go = async (redirectTo: string) => {
      const response = (await postSignIn(app, {
        email: "ada@example.com",
        name: "Ada",
        password: "",
        redirectTo,
      })) as Response;
      expect(response.status).toBe(302);
      return response.headers.get("location");
    };
    expect(await go("/inbox?view=mine#top")).toBe("/inbox?view=mine#top");
    for (const evil of [
      "https://evil.example/",
      "//evil.example/x",
      "/\\evil.example",
      "javascript:alert(1)",
      "/\t/evil.example",
      "evil.example",
    ]) {
      expect(await go(evil), evil).toBe("/app");
    }
  });

  it("sends a signed-in visitor of /sign-in on to a safe redirectTo", async () => {
    const app = await loadApp();
    const cookie = await signIn(app, { email: "ada@example.com", name: "Ada", password: "" });
    const visit = (query: string) =>
      app.signInRoute.loader(args(new Request(`${ISSUER}/sign-in${query}`, { headers: { cookie } })));
    const location = async (query: string) => {
      const thrown = (await visit(query).catch((r: Response) => r)) as Response;
      expect(thrown.status).toBe(302);
      return thrown.headers.get("location");
    };
    expect(await location("?redirectTo=%2Fcampaigns")).toBe("/campaigns");
    expect(await location("?redirectTo=%2F%2Fevil.example")).toBe("/app");
    const anonymous = await app.signInRoute.loader(
      args(new Request(`${ISSUER}/sign-in?redirectTo=%2Fcampaigns`)),
    );
    expect(anonymous).toEqual({ mode: "local", redirectTo: "/campaigns", passwordRequired: false });
  });

  it("refuses form posts a browser marks as from anywhere but this origin, sibling subdomains included", async () => {
    const app = await loadApp();
    for (const site of ["cross-site", "same-site", "something-new"]) {
      await expect(
        postSignIn(app, { email: "ada@example.com", name: "Ada", password: "" }, { "sec-fetch-site": site }),
      ).rejects.toMatchObject({ status: 403 });
    }
    expect(await app.auth.getAccountStore().findByEmail("ada@example.com")).toBeNull();
    // This origin, or the user's own navigation (no initiator), or a client that sends no header.
    const allowed: Record<string, string>[] = [
      { "sec-fetch-site": "same-origin" },
      { "sec-fetch-site": "none" },
      {},
    ];
    for (const headers of allowed) {
      expect(
        await postSignIn(app, { email: "ada@example.com", name: "Ada", password: "" }, headers),
      ).toBeInstanceOf(Response);
    }
  });

  it("/sign-up sends local users to /sign-in, keeping redirectTo", async () => {
    const app = await loadApp();
    const thrown = await Promise.resolve()
      .then(() => app.signUpRoute.loader(args(new Request(`${ISSUER}/sign-up?redirectTo=%2Finbox`))))
      .catch((r: Response) => r);
    expect((thrown as Response).headers.get("location")).toBe("/sign-in?redirectTo=%2Finbox");
  });
});

describe("sessions on the server", () => {
  it("requireUser redirects to sign-in with the current path; getUser returns the account", async () => {
    const app = await loadApp();
    const thrown = await app.auth
      .requireUser(new Request(`${ISSUER}/campaigns/42?tab=stats`))
      .catch((r: Response) => r);
    expect((thrown as Response).status).toBe(302);
    expect((thrown as Response).headers.get("location")).toBe(
      "/sign-in?redirectTo=%2Fcampaigns%2F42%3Ftab%3Dstats",
    );

    const cookie = await signIn(app, { email: "ada@example.com", name: "Ada Lovelace", password: "" });
    const user = await app.auth.requireUser(new Request(`${ISSUER}/`, { headers: { cookie } }));
    expect(user).toEqual({
      subject: expect.any(String),
      email: "ada@example.com",
      name: "Ada Lovelace",
      local: { emailVerified: false, hasPassword: false },
    });
  });

  it("POST /sign-out clears the cookie", async () => {
    const app = await loadApp();
    const cookie = await signIn(app, { email: "ada@example.com", name: "Ada", password: "" });
    const response = (await app.signOutRoute.action(
      args(new Request(`${ISSUER}/sign-out`, { method: "POST", headers: { cookie } })),
    )) as Response;
    expect(response.status).toBe(302);
    const cleared = response.headers.get("set-cookie")!;
    expect(cleared).toMatch(/^switchboard_session=;/);
    expect(cleared).toMatch(/Expires=Thu, 01 Jan 1970/);
    const afterwards = cleared.split(";")[0]!;
    expect((await tokenFor(app, afterwards)).status).toBe(401);
  });

  it("the root loader reports the signed-in user in local mode without loading Clerk", async () => {
    const app = await loadApp();
    const cookie = await signIn(app, { email: "ada@example.com", name: "Ada", password: "" });
    const data = await app.root.loader(args(new Request(`${ISSUER}/`, { headers: { cookie } })));
    expect(data).toMatchObject({ auth: { mode: "local", user: { email: "ada@example.com", name: "Ada" } } });
    const anonymous = await app.root.loader(args(new Request(`${ISSUER}/`)));
    expect(anonymous).toMatchObject({ auth: { mode: "local", user: null } });
    expect(clerk.loaded).toBe(0);
  });

  it("the root loader goes through Clerk's rootAuthLoader with our keys when Clerk is configured", async () => {
    const app = await loadApp({ CLERK_PUBLISHABLE_KEY: "pk_test_x", CLERK_SECRET_KEY: "sk_test_x" });
    const response = (await app.root.loader(args(new Request(`${ISSUER}/`)))) as Response;
    expect(clerk.loaded).toBe(1);
    expect(clerk.rootAuthLoaderOptions).toEqual([
      expect.objectContaining({ publishableKey: "pk_test_x", secretKey: "sk_test_x", signInUrl: "/sign-in" }),
    ]);
    expect(await response.json()).toMatchObject({
      auth: { mode: "clerk", user: { subject: "user_clerk_1", email: "grace@example.com", name: "Grace" } },
      clerkState: expect.anything(),
    });
  });
});

describe("the browser's token fetcher", () => {
  async function setup() {
    const { createTokenFetcher, REFRESH_MARGIN_MS } = await import("../../app/lib/convex-auth");
    let now = 1_000_000;
    let status = 200;
    let issued = 0;
    const fetchImpl = vi.fn(async () => {
      issued++;
      if (status !== 200) return Response.json({ error: "unauthenticated" }, { status });
      return Response.json({ token: `token-${issued}`, expiresAt: now + 5 * 60_000 });
    });
    const fetcher = createTokenFetcher({ fetch: fetchImpl as unknown as typeof fetch, now: () => now });
    return {
      fetcher,
      fetchImpl,
      margin: REFRESH_MARGIN_MS,
      advance: (ms: number) => (now += ms),
      setStatus: (s: number) => (status = s),
    };
  }

  it("caches the token until about a minute before it expires", async () => {
    const { fetcher, fetchImpl, margin, advance } = await setup();
    expect(await fetcher({ forceRefreshToken: false })).toBe("token-1");
    advance(5 * 60_000 - margin - 1_000);
    expect(await fetcher({ forceRefreshToken: false })).toBe("token-1");
    expect(fetchImpl).toHaveBeenCalledTimes(1);
    advance(2_000);
    expect(await fetcher({ forceRefreshToken: false })).toBe("token-2");
  });

  it("refetches when Convex forces a refresh, shares concurrent requests, and returns null on 401", async () => {
    const { fetcher, fetchImpl, setStatus } = await setup();
    const [a, b] = await Promise.all([
      fetcher({ forceRefreshToken: false }),
      fetcher({ forceRefreshToken: false }),
    ]);
    expect([a, b]).toEqual(["token-1", "token-1"]);
    expect(fetchImpl).toHaveBeenCalledTimes(1);
    expect(await fetcher({ forceRefreshToken: true })).toBe("token-2");
    setStatus(401);
    expect(await fetcher({ forceRefreshToken: true })).toBeNull();
    // And the stale token is not handed out afterwards.
    expect(await fetcher({ forceRefreshToken: false })).toBeNull();
  });

  it("keeps the token in hand while it is valid when the server answers 429, then gives up", async () => {
    const { fetcher, advance, setStatus } = await setup();
    expect(await fetcher({ forceRefreshToken: false })).toBe("token-1");
    setStatus(429);
    expect(await fetcher({ forceRefreshToken: true })).toBe("token-1");
    advance(5 * 60_000);
    expect(await fetcher({ forceRefreshToken: true })).toBeNull();
    setStatus(200);
    expect(await fetcher({ forceRefreshToken: false })).toMatch(/^token-/);
  });
});

describe("email verification", () => {
  async function tokenClaims(app: App, cookie: string) {
    const { token } = await (await tokenFor(app, cookie)).json();
    return JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as Record<string, unknown>;
  }

  function accountPost(cookie: string, fields: Record<string, string>) {
    return new Request(`${ISSUER}/account`, {
      method: "POST",
      body: new URLSearchParams(fields),
      headers: { cookie },
    });
  }

  /** Runs the account page's action; the data it returns (Remix `data()`). */
  async function postAccount(app: App, cookie: string, fields: Record<string, string>) {
    const result = (await app.accountRoute.action(args(accountPost(cookie, fields)))) as unknown as {
      data: Record<string, unknown>;
      init: { status?: number } | null;
    };
    return { ...result.data, status: result.init?.status ?? 200 } as Record<string, unknown>;
  }

  async function openLink(app: App, link: string): Promise<Response | { error: string }> {
    const url = new URL(link);
    expect(url.origin + url.pathname).toBe(`${ISSUER}/verify-email`);
    const page = await app.verifyRoute.loader(args(new Request(link)));
    const form = new URLSearchParams({ token: page.token, next: page.next });
    const result = await app.verifyRoute.action(
      args(new Request(`${ISSUER}/verify-email`, { method: "POST", body: form })),
    );
    if (result instanceof Response) return result;
    return (result as unknown as { data: { error: string } }).data;
  }

  it("tokens say email_verified: false until the link shown in development is opened, then true", async () => {
    const app = await loadApp({ NODE_ENV: "development" });
    const cookie = await signIn(app, { email: "ada@example.com", name: "Ada", password: "correct horse" });
    expect(await tokenClaims(app, cookie)).toMatchObject({ email_verified: false });

    const sent = await postAccount(app, cookie, { intent: "send-verification", next: "/invitations/abc" });
    expect(sent).toMatchObject({
      intent: "send-verification",
      link: expect.stringContaining("/verify-email?token="),
    });
    const link = sent.link as string;
    // The link is a JWT for its own audience: Convex (audience "convex") would never accept it.
    const token = new URL(link).searchParams.get("token")!;
    expect(JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString())).toMatchObject({
      aud: "switchboard:verify-email",
      email: "ada@example.com",
    });

    const page = await app.verifyRoute.loader(args(new Request(link)));
    expect(page).toMatchObject({ email: "ada@example.com", next: "/invitations/abc" });
    const opened = (await openLink(app, link)) as Response;
    expect(opened.status).toBe(302);
    expect(opened.headers.get("location")).toBe("/invitations/abc");
    expect(await tokenClaims(app, cookie)).toMatchObject({ email_verified: true });
    const data = await app.root.loader(args(new Request(`${ISSUER}/`, { headers: { cookie } })));
    expect(data).toMatchObject({ auth: { user: { local: { emailVerified: true, hasPassword: true } } } });

    // Single use.
    expect(await openLink(app, link)).toEqual({ error: expect.stringMatching(/already used/) });
  });

  it("only the newest link works, and expired, forged or wrong-audience links do nothing", async () => {
    const app = await loadApp({ NODE_ENV: "development" });
    const cookie = await signIn(app, { email: "ada@example.com", name: "Ada", password: "correct horse" });
    const first = (await postAccount(app, cookie, { intent: "send-verification" })).link as string;
    const second = (await postAccount(app, cookie, { intent: "send-verification" })).link as string;
    expect(await openLink(app, first)).toEqual({ error: expect.stringMatching(/newer link replaced it/) });

    // A sign-in token (audience "convex", same key) is not a verification link.
    const { token } = await (await tokenFor(app, cookie)).json();
    expect(await openLink(app, `${ISSUER}/verify-email?token=${token}`)).toEqual({
      error: expect.stringMatching(/not valid/),
    });
    const tampered = second.slice(0, -4) + "AAAA";
    expect(await openLink(app, tampered)).toEqual({ error: expect.stringMatching(/not valid/) });
    expect(await tokenClaims(app, cookie)).toMatchObject({ email_verified: false });

    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.now() + 25 * 60 * 60 * 1000);
      expect(await openLink(app, second)).toEqual({ error: expect.stringMatching(/not valid/) });
    } finally {
      vi.useRealTimers();
    }
    expect(await tokenClaims(app, cookie)).toMatchObject({ email_verified: false });
    expect((await openLink(app, second)) as Response).toBeInstanceOf(Response);
  });

  it("a passwordless account cannot be verified until it sets a password", async () => {
    const app = await loadApp({ NODE_ENV: "development" });
    const cookie = await signIn(app, { email: "bob@example.com", name: "Bob", password: "" });
    expect(await postAccount(app, cookie, { intent: "send-verification" })).toMatchObject({
      status: 400,
      error: expect.stringMatching(/Set a password first/),
    });
    expect(await postAccount(app, cookie, { intent: "set-password", password: "short" })).toMatchObject({
      status: 400,
      error: expect.stringMatching(/at least 8/),
    });
    expect(
      await postAccount(app, cookie, { intent: "set-password", password: "long enough now" }),
    ).toMatchObject({
      done: true,
    });
    // From now on the password is needed to sign in.
    const missing = formErrors(
      await postSignIn(app, { email: "bob@example.com", name: "Bob", password: "" }),
    );
    expect(missing.fieldErrors.password).toMatch(/has a password/);
    const link = (await postAccount(app, cookie, { intent: "send-verification" })).link as string;
    await openLink(app, link);
    expect(await tokenClaims(app, cookie)).toMatchObject({ email_verified: true });
  });

  it("is emailed through the Resend SDK when RESEND_API_KEY is set, and refused in production without it", async () => {
    const resend = await startResendServer({ apiKey: "re_app" });
    try {
      const app = await loadApp({
        NODE_ENV: "production",
        LOCAL_SIGN_IN_IN_PRODUCTION: "true",
        RESEND_API_KEY: "re_app",
        RESEND_BASE_URL: resend.url,
      });
      const cookie = await signIn(app, { email: "ada@example.com", name: "Ada", password: "correct horse" });
      const sent = await postAccount(app, cookie, { intent: "send-verification" });
      expect(sent).toEqual({ intent: "send-verification", sent: true, status: 200 });
      expect(resend.received).toHaveLength(1);
      const email = resend.received[0]!;
      expect(email).toMatchObject({
        to: ["ada@example.com"],
        subject: "Verify your email address for Switchboard",
      });
      const link = /http\S+\/verify-email\?token=\S+/.exec(email.text!)![0];
      await openLink(app, link);
      expect(await tokenClaims(app, cookie)).toMatchObject({ email_verified: true });
    } finally {
      await resend.close();
    }

    const noMail = await loadApp({ NODE_ENV: "production", LOCAL_SIGN_IN_IN_PRODUCTION: "true" });
    const cookie = await signIn(noMail, { email: "eve@example.com", name: "Eve", password: "correct horse" });
    expect(await postAccount(noMail, cookie, { intent: "send-verification" })).toMatchObject({
      status: 503,
      error: expect.stringMatching(/cannot send email/),
    });
  });
});

describe("local sign-in in production (LOCAL_SIGN_IN_IN_PRODUCTION=true)", () => {
  const PRODUCTION = { NODE_ENV: "production", LOCAL_SIGN_IN_IN_PRODUCTION: "true" };

  it("will not start without it: the env check names Clerk's keys and the opt-in", async () => {
    const app = await loadApp({ NODE_ENV: "production" });
    const { getEnv } = await import("../../app/lib/env.server");
    expect(() => getEnv()).toThrowError(
      /No identity provider for production.*LOCAL_SIGN_IN_IN_PRODUCTION=true/s,
    );
    expect(app).toBeDefined();
  });

  it("requires a password for every account, new and existing", async () => {
    const development = await loadApp();
    await signIn(development, { email: "old@example.com", name: "Old", password: "" });

    const app = await loadApp(PRODUCTION);
    const page = await app.signInRoute.loader(args(new Request(`${ISSUER}/sign-in`)));
    expect(page).toMatchObject({ passwordRequired: true });
    const newWithout = formErrors(
      await postSignIn(app, { email: "new@example.com", name: "New", password: "" }),
    );
    expect(newWithout.fieldErrors.password).toMatch(/requires one/);
    expect(await app.auth.getAccountStore().findByEmail("new@example.com")).toBeNull();
    const oldWithout = formErrors(
      await postSignIn(app, { email: "old@example.com", name: "Old", password: "" }),
    );
    expect(oldWithout.fieldErrors.password).toMatch(/requires one/);
    const oldWith = formErrors(
      await postSignIn(app, { email: "old@example.com", name: "Old", password: "now a password" }),
    );
    expect(oldWith.fieldErrors.password).toMatch(/created without a password.*cannot sign in here/);
    expect(await signIn(app, { email: "new@example.com", name: "New", password: "correct horse" })).toMatch(
      /^switchboard_session=/,
    );
  });

  it("limits attempts per email and per client address, with 429 and when to try again", async () => {
    const app = await loadApp(PRODUCTION);
    const limits = await import("../../app/lib/local-auth/sign-in-limits.server");
    const { MemoryRateLimiter } = await import("../../app/lib/rate-limit.server");
    limits.setSignInLimiters({
      perEmail: new MemoryRateLimiter({ limit: 3, windowMs: 60_000 }),
      perClient: new MemoryRateLimiter({ limit: 4, windowMs: 60_000 }),
    });
    await signIn(app, { email: "ada@example.com", name: "Ada", password: "correct horse" });
    const guess = (password: string, client = "203.0.113.7") =>
      postSignIn(
        app,
        { email: "ada@example.com", name: "Ada", password },
        { "x-forwarded-for": `198.51.100.1, ${client}` },
      );
    expect(formErrors(await guess("wrong one")).status).toBe(400);
    expect(formErrors(await guess("wrong two")).status).toBe(400);
    // The third attempt for this email (the first sign-in counted) is refused, even with the right password.
    const limited = formErrors(await guess("correct horse"));
    expect(limited.status).toBe(429);
    expect(limited.fieldErrors.password).toMatch(
      /Too many sign-in attempts\. Try again in (\d+ seconds|1 minute)\./,
    );

    // Per client address: other emails from the same address count against it (3 so far).
    const from = (client: Record<string, string>, email: string) =>
      postSignIn(app, { email, name: "Someone", password: "correct horse" }, client);
    expect(await from({ "x-forwarded-for": "203.0.113.7" }, "b@example.com")).toBeInstanceOf(Response);
    expect(await from({ "x-real-ip": "192.0.2.9" }, "c@example.com")).toBeInstanceOf(Response);
    const tooMany = formErrors(await from({ "x-forwarded-for": "203.0.113.7" }, "d@example.com"));
    expect(tooMany.status).toBe(429);
    expect(await app.auth.getAccountStore().findByEmail("d@example.com")).toBeNull();
  });

  it("shows a banner on every page", async () => {
    const app = await loadApp(PRODUCTION);
    expect(await app.root.loader(args(new Request(`${ISSUER}/`)))).toMatchObject({
      localSignInInProduction: true,
    });
    const development = await loadApp();
    expect(await development.root.loader(args(new Request(`${ISSUER}/`)))).toMatchObject({
      localSignInInProduction: false,
    });
  });
});

describe("sign out everywhere", () => {
  it("ends every session of the account, on every request and token, and a new sign-in works", async () => {
    const app = await loadApp();
    const laptop = await signIn(app, { email: "ada@example.com", name: "Ada", password: "correct horse" });
    const phone = await signIn(app, { email: "ada@example.com", name: "Ada", password: "correct horse" });
    const other = await signIn(app, { email: "bob@example.com", name: "Bob", password: "correct horse" });
    expect((await tokenFor(app, phone)).status).toBe(200);

    const response = (await app.accountRoute.action(
      args(
        new Request(`${ISSUER}/account`, {
          method: "POST",
          body: new URLSearchParams({ intent: "sign-out-everywhere" }),
          headers: { cookie: laptop },
        }),
      ),
    )) as Response;
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe("/sign-in");
    expect(response.headers.get("set-cookie")).toMatch(/^switchboard_session=;/);

    for (const cookie of [laptop, phone]) {
      expect((await tokenFor(app, cookie)).status).toBe(401);
      expect(await app.auth.getUser(new Request(`${ISSUER}/`, { headers: { cookie } }))).toBeNull();
    }
    // Someone else's sessions are untouched; signing in again gives a working session.
    expect((await tokenFor(app, other)).status).toBe(200);
    const fresh = await signIn(app, { email: "ada@example.com", name: "Ada", password: "correct horse" });
    expect((await tokenFor(app, fresh)).status).toBe(200);
  });
});
