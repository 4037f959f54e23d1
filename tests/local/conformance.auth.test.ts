/**
 * Conformance: authentication with the real clients against auth.config.ts providers — a
 * customJwt provider and an OIDC provider, both served by a local identity provider started here.
 * Fixture: tests/fixtures/auth/convex (providers read from env vars).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { ConvexHttpClient } from "convex/browser";
import {
  SignJWT,
  UnsecuredJWT,
  exportJWK,
  generateKeyPair,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from "jose";
import type { FunctionReturnType } from "convex/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api } from "../fixtures/auth/convex/_generated/api";
import { httpClient, removeDir, ROOT, startServer, waitForValue, wsClient, type TestServer } from "./harness";

type Identity = FunctionReturnType<typeof api.me.identity>;
type Status = FunctionReturnType<typeof api.me.status>;

const FUNCTIONS = path.join(ROOT, "tests/fixtures/auth/convex");
const CUSTOM_AUD = "custom-audience";
const OIDC_APP = "oidc-app";

type Key = { kid: string; privateKey: CryptoKey; jwk: JWK };

async function makeKey(kid: string): Promise<Key> {
  const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" } };
}

let idp: Server;
let base: string;
let customIssuer: string;
let oidcIssuer: string;
let customKey: Key;
let oidcKey: Key;
let attackerKey: Key;
let server: TestServer;

const now = () => Math.floor(Date.now() / 1000);

type TokenOptions = {
  key?: Key;
  kid?: string;
  iat?: number;
  exp?: number;
  iss?: string;
  aud?: string;
  sub?: string;
  claims?: JWTPayload;
};

function customToken(o: TokenOptions = {}): Promise<string> {
  const key = o.key ?? customKey;
  return new SignJWT({ ...o.claims })
    .setProtectedHeader({ alg: "RS256", kid: o.kid ?? customKey.kid, typ: "JWT" })
    .setIssuer(o.iss ?? customIssuer)
    .setAudience(o.aud ?? CUSTOM_AUD)
    .setSubject(o.sub ?? "custom-user")
    .setIssuedAt(o.iat ?? now())
    .setExpirationTime(o.exp ?? now() + 3600)
    .sign(key.privateKey);
}

function oidcToken(o: TokenOptions = {}): Promise<string> {
  const key = o.key ?? oidcKey;
  return new SignJWT({ ...o.claims })
    .setProtectedHeader({ alg: "RS256", kid: o.kid ?? oidcKey.kid, typ: "JWT" })
    .setIssuer(o.iss ?? oidcIssuer)
    .setAudience(o.aud ?? OIDC_APP)
    .setSubject(o.sub ?? "oidc-user")
    .setIssuedAt(o.iat ?? now())
    .setExpirationTime(o.exp ?? now() + 3600)
    .sign(key.privateKey);
}

beforeAll(async () => {
  [customKey, oidcKey, attackerKey] = await Promise.all([
    makeKey("custom-key"),
    makeKey("oidc-key"),
    makeKey("custom-key"),
  ]);
  idp = createServer((req, res) => {
    const send = (body: unknown) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.url === "/custom/jwks") return send({ keys: [customKey.jwk] });
    if (req.url === "/oidc/.well-known/openid-configuration") {
      return send({
        issuer: oidcIssuer,
        jwks_uri: `${oidcIssuer}/jwks`,
        authorization_endpoint: `${oidcIssuer}/authorize`,
        response_types_supported: ["id_token"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256"],
      });
    }
    if (req.url === "/oidc/jwks") return send({ keys: [oidcKey.jwk] });
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => idp.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
  customIssuer = `${base}/custom`;
  oidcIssuer = `${base}/oidc`;
  server = await startServer({
    functionsDir: FUNCTIONS,
    env: {
      TEST_CUSTOM_ISSUER: customIssuer,
      TEST_CUSTOM_JWKS: `${base}/custom/jwks`,
      TEST_OIDC_DOMAIN: oidcIssuer,
    },
  });
});

afterAll(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
  idp?.closeAllConnections();
  await new Promise((r) => idp?.close(r));
});

function authedHttp(token: string): ConvexHttpClient {
  const client = httpClient(server.url);
  client.setAuth(token);
  return client;
}

/** The tokens a server must refuse, by name. */
async function badTokens(): Promise<Record<string, string>> {
  return {
    "unsigned (alg none)": new UnsecuredJWT({})
      .setIssuer(customIssuer)
      .setAudience(CUSTOM_AUD)
      .setSubject("custom-user")
      .setIssuedAt()
      .setExpirationTime(now() + 3600)
      .encode(),
    "signed with another key under the provider's kid": await customToken({ key: attackerKey }),
    "expired (custom JWT)": await customToken({ iat: now() - 600, exp: now() - 120 }),
    "from an issuer that is not configured": await customToken({ iss: `${base}/other`, key: attackerKey }),
    "OIDC, signed with another key": await oidcToken({ key: attackerKey, kid: oidcKey.kid }),
    "OIDC, expired": await oidcToken({ iat: now() - 600, exp: now() - 120 }),
    "OIDC, wrong audience": await oidcToken({ aud: "someone-else" }),
  };
}

describe("ConvexHttpClient.setAuth", () => {
  it("a valid custom JWT gives the identity with tokenIdentifier iss|sub and the token's claims", async () => {
    const token = await customToken({
      sub: "user-42",
      claims: { email: "ada@example.com", role: "admin", team: "blue" },
    });
    const client = authedHttp(token);
    const identity = await client.query(api.me.identity, {});
    expect(identity).toMatchObject({
      tokenIdentifier: `${customIssuer}|user-42`,
      subject: "user-42",
      issuer: customIssuer,
      email: "ada@example.com",
      role: "admin",
      team: "blue",
    });
    // The same identity reaches mutations and actions.
    expect(await client.mutation(api.me.ping, {})).toBe(`${customIssuer}|user-42`);
    expect(await client.action(api.me.identityInAction, {})).toMatchObject({
      tokenIdentifier: `${customIssuer}|user-42`,
    });
  });

  it("a valid OIDC token (discovery + JWKS) gives the identity with standard claims mapped", async () => {
    const token = await oidcToken({
      sub: "oidc-7",
      claims: {
        name: "Grace Hopper",
        email: "grace@example.com",
        email_verified: true,
        picture: "https://example.com/g.png",
        given_name: "Grace",
        org_role: "captain",
      },
    });
    const identity = await authedHttp(token).query(api.me.identity, {});
    expect(identity).toMatchObject({
      tokenIdentifier: `${oidcIssuer}|oidc-7`,
      subject: "oidc-7",
      issuer: oidcIssuer,
      name: "Grace Hopper",
      email: "grace@example.com",
      emailVerified: true,
      pictureUrl: "https://example.com/g.png",
      givenName: "Grace",
      org_role: "captain",
    });
  });

  it("without a token the identity is null", async () => {
    expect(await httpClient(server.url).query(api.me.identity, {})).toBeNull();
  });

  it("refuses bad tokens with an authentication error instead of running anonymously", async () => {
    for (const [name, token] of Object.entries(await badTokens())) {
      const outcome = await authedHttp(token)
        .query(api.me.identity, {})
        .then(
          (value) => ({ ok: true as const, value }),
          (error: Error) => ({ ok: false as const, message: error.message }),
        );
      expect(outcome, name).toMatchObject({ ok: false });
      // The raw HTTP API answers 401 with the reason.
      const res = await fetch(`${server.url}/api/query`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ path: "me:identity", args: [{}], format: "convex_encoded_json" }),
      });
      expect(res.status, name).toBe(401);
      await res.arrayBuffer();
    }
  });
});

describe("ConvexClient.setAuth", () => {
  it("a valid token: onChange(true) and queries see the identity", async () => {
    const client = wsClient(server.url);
    try {
      const token = await oidcToken({ sub: "ws-user" });
      const changes: boolean[] = [];
      client.setAuth(
        async () => token,
        (isAuthenticated) => changes.push(isAuthenticated),
      );
      const identity = await waitForValue<Identity>(
        (cb) => client.onUpdate(api.me.identity, {}, cb),
        (v) => v !== null,
      );
      expect(identity?.tokenIdentifier).toBe(`${oidcIssuer}|ws-user`);
      expect(await client.mutation(api.me.ping, {})).toBe(`${oidcIssuer}|ws-user`);
      expect(changes).toEqual([true]);
    } finally {
      await client.close();
    }
  });

  it("bad tokens: onChange(false) fires and the identity stays null", async () => {
    for (const [name, token] of Object.entries(await badTokens())) {
      const client = wsClient(server.url, { logger: false });
      try {
        const authState = new Promise<boolean>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`${name}: onChange was never called`)), 10_000);
          client.setAuth(
            async () => token,
            (isAuthenticated) => {
              clearTimeout(timer);
              resolve(isAuthenticated);
            },
          );
        });
        expect(await authState, name).toBe(false);
        const identity = await waitForValue<unknown>(
          (cb) => client.onUpdate(api.me.identity, {}, cb),
          () => true,
        );
        expect(identity, name).toBeNull();
      } finally {
        await client.close();
      }
    }
  });

  it("token refresh: queries keep working, authenticated, past the first token's expiry", async () => {
    const client = wsClient(server.url, { logger: false });
    const fetches: { forceRefreshToken: boolean; at: number }[] = [];
    try {
      const firstExp = now() + 3;
      // Back-dated iat: the client believes the token lives long and will not refresh it early,
      // so the server has to notice the expiry and ask for a new one.
      client.setAuth(async ({ forceRefreshToken }) => {
        fetches.push({ forceRefreshToken, at: Date.now() });
        const exp = fetches.length === 1 ? firstExp : now() + 3600;
        return await customToken({
          sub: "refreshing-user",
          iat: now() - 100,
          exp,
          claims: { n: fetches.length },
        });
      });
      const status = (cb: (v: Status) => void) => client.onUpdate(api.me.status, {}, cb);
      const first = await waitForValue(status, (v) => v.subject === "refreshing-user");
      // Wait until the first token is well past its expiry (and the 5 s clock tolerance).
      const waitMs = (firstExp + 6) * 1000 - Date.now();
      await new Promise((r) => setTimeout(r, waitMs));
      expect(fetches.length).toBeGreaterThanOrEqual(2);
      expect(fetches.some((f) => f.forceRefreshToken)).toBe(true);
      // A write by someone else reaches the live query, which still runs as the user.
      await httpClient(server.url).mutation(api.me.ping, {});
      const later = await waitForValue(status, (v) => v.pings > first.pings);
      expect(later.subject).toBe("refreshing-user");
      // And the client's own calls still carry the identity.
      expect(await client.mutation(api.me.ping, {})).toBe(`${customIssuer}|refreshing-user`);
    } finally {
      await client.close();
    }
  });

  it("a token that expires and cannot be refreshed stops authenticating the connection", async () => {
    const client = wsClient(server.url, { logger: false });
    try {
      const token = await customToken({ sub: "expiring-user", iat: now() - 100, exp: now() + 2 });
      const changes: boolean[] = [];
      client.setAuth(
        async () => token,
        (isAuthenticated) => changes.push(isAuthenticated),
      );
      const status = (cb: (v: Status) => void) => client.onUpdate(api.me.status, {}, cb);
      await waitForValue(status, (v) => v.subject === "expiring-user");
      const after = await waitForValue(status, (v) => v.subject === null, 15_000);
      expect(after.tokenIdentifier).toBeNull();
      expect(changes).toEqual([true, false]);
    } finally {
      await client.close();
    }
  });
});
