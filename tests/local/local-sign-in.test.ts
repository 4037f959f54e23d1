/**
 * Local sign-in against our local Convex server: the server is given this repo's convex/ folder
 * (and so convex/auth.config.ts) with LOCAL_AUTH_ISSUER pointing at a real HTTP server that
 * serves the app's own discovery and JWKS routes. Tokens the app issues are accepted; tokens
 * signed by another key, from another issuer, or with the provider switched off are refused.
 * The fixture tests/fixtures/local-sign-in re-exports the same auth.config.ts and adds a query
 * returning the identity, which the app does not expose.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { api } from "../fixtures/local-sign-in/convex/_generated/api";
import { removeDir, ROOT, startServer, waitForValue, wsClient, type TestServer } from "./harness";

const FIXTURE = path.join(ROOT, "tests/fixtures/local-sign-in/convex");

let idp: Server;
let issuer: string;
let authDir: string;
let app: Awaited<ReturnType<typeof loadApp>>;
const servers: TestServer[] = [];

async function loadApp() {
  vi.resetModules();
  return {
    auth: await import("../../app/lib/auth.server"),
    keys: await import("../../app/lib/local-auth/keys.server"),
    signIn: await import("../../app/routes/sign-in.$"),
    token: await import("../../app/routes/auth.token"),
    discovery: await import("../../app/routes/[.well-known].openid-configuration"),
    jwks: await import("../../app/routes/[.well-known].jwks[.]json"),
  };
}

/** The app's discovery and JWKS routes behind a plain Node HTTP server, as remix-serve would run them. */
async function startIdentityProvider(): Promise<void> {
  idp = createServer((req, res) => {
    const respond = async () => {
      const url = req.url ?? "/";
      const response =
        url === "/.well-known/openid-configuration"
          ? app.discovery.loader()
          : url === "/.well-known/jwks.json"
            ? await app.jwks.loader()
            : new Response("Not found", { status: 404 });
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(Buffer.from(await response.arrayBuffer()));
    };
    respond().catch((error) => {
      res.writeHead(500);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => idp.listen(0, "127.0.0.1", resolve));
  issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
}

/** Signs in through the real form action and fetches a token from the real /auth/token loader. */
async function tokenFor(email: string, name: string): Promise<string> {
  const request = new Request(`${issuer}/sign-in`, {
    method: "POST",
    body: new URLSearchParams({ email, name, password: "" }),
  });
  const signedIn = (await app.signIn.action({
    request,
    params: {},
    context: {},
  } as ActionFunctionArgs)) as Response;
  const cookie = signedIn.headers.get("set-cookie")!.split(";")[0]!;
  const response = await app.token.loader({
    request: new Request(`${issuer}/auth/token`, { headers: { cookie } }),
    params: {},
    context: {},
  } as LoaderFunctionArgs);
  expect(response.status).toBe(200);
  return ((await response.json()) as { token: string }).token;
}

/** Calls a query over Convex's HTTP API with a bearer token: the raw wire, no client in between. */
async function rawQuery(server: TestServer, pathName: string, token: string) {
  const response = await fetch(`${server.url}/api/query`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ path: pathName, args: [{}], format: "json" }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function serve(functionsDir: string, env: Record<string, string>): Promise<TestServer> {
  const server = await startServer({ functionsDir, env });
  servers.push(server);
  return server;
}

beforeAll(async () => {
  await startIdentityProvider();
  authDir = mkdtempSync(path.join(os.tmpdir(), "switchboard-local-sign-in-"));
  vi.stubEnv("CONVEX_URL", "http://127.0.0.1:1");
  vi.stubEnv("CONVEX_SITE_URL", "http://127.0.0.1:2");
  vi.stubEnv("APP_URL", issuer);
  vi.stubEnv("AUTH_DATA_DIR", authDir);
  vi.stubEnv("CLERK_PUBLISHABLE_KEY", "");
  vi.stubEnv("CLERK_SECRET_KEY", "");
  vi.stubEnv("SESSION_SECRET", "");
  vi.stubEnv("LOG_LEVEL", "silent");
  app = await loadApp();
});

afterAll(async () => {
  for (const server of servers) {
    await server.stop();
    removeDir(server.dataDir);
  }
  await new Promise<void>((resolve) => idp?.close(() => resolve()));
  if (authDir) removeDir(authDir);
  vi.unstubAllEnvs();
});

describe("this repo's convex/ with LOCAL_AUTH_ISSUER", () => {
  it("accepts a token the app issued and refuses one signed by another key", async () => {
    const server = await serve(path.join(ROOT, "convex"), { LOCAL_AUTH_ISSUER: issuer });
    const token = await tokenFor("ada@example.com", "Ada Lovelace");
    const accepted = await rawQuery(server, "system:status", token);
    expect(accepted).toMatchObject({ status: 200, body: { status: "success" } });

    // Same issuer, audience and kid as ours, but another private key.
    const { privateKey } = await generateKeyPair("RS256");
    const kid = (await app.keys.getSigningKey(authDir)).kid;
    const forged = await new SignJWT({ email: "ada@example.com", email_verified: true, name: "Ada" })
      .setProtectedHeader({ alg: "RS256", kid, typ: "JWT" })
      .setIssuer(issuer)
      .setAudience("convex")
      .setSubject("someone")
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(privateKey);
    const refused = await rawQuery(server, "system:status", forged);
    expect(refused.status).toBe(401);
    expect(refused.body.message).toMatch(/Could not verify OIDC token claim/);
  });

  it("refuses the app's token when LOCAL_AUTH_ISSUER is unset or names another issuer", async () => {
    const token = await tokenFor("ada@example.com", "Ada Lovelace");
    const off = await serve(path.join(ROOT, "convex"), {});
    expect((await rawQuery(off, "system:status", token)).status).toBe(401);
    const other = await serve(path.join(ROOT, "convex"), { LOCAL_AUTH_ISSUER: "http://127.0.0.1:9" });
    const refused = await rawQuery(other, "system:status", token);
    expect(refused.status).toBe(401);
    expect(refused.body.message).toMatch(/No auth provider found/);
  });
});

describe("the identity Convex functions see", () => {
  it("is the account's subject, email and name, over HTTP and over the WebSocket client", async () => {
    const server = await serve(FIXTURE, { LOCAL_AUTH_ISSUER: issuer });
    const token = await tokenFor("grace@example.com", "Grace Hopper");
    const account = await app.auth.getAccountStore().findByEmail("grace@example.com");

    const viaHttp = await rawQuery(server, "me:identity", token);
    expect(viaHttp.status).toBe(200);
    expect(viaHttp.body.value).toMatchObject({
      subject: account!.id,
      issuer,
      tokenIdentifier: `${issuer}|${account!.id}`,
      email: "grace@example.com",
      // A new local account has not verified its email.
      emailVerified: false,
      name: "Grace Hopper",
    });

    const client = wsClient(server.url);
    try {
      client.setAuth(async () => token);
      const identity = await waitForValue<Record<string, unknown> | null>(
        (cb) => client.onUpdate(api.me.identity, {}, cb),
        (value) => value !== null,
      );
      expect(identity).toMatchObject({ subject: account!.id, email: "grace@example.com" });
    } finally {
      await client.close();
    }
  });
});
