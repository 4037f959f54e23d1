/** Tests JWT verification for the local Convex server against OIDC and custom-JWT providers served over real HTTP. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  SignJWT,
  UnsecuredJWT,
  exportJWK,
  generateKeyPair,
  type CryptoKey,
  type JWK,
  type JWTHeaderParameters,
  type JWTPayload,
} from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from "vitest";
import { AuthVerificationError, AuthVerifier } from "../../local/convex-server/auth";

type TestKey = { kid: string; alg: "RS256" | "ES256"; privateKey: CryptoKey; jwk: JWK };

const APP = "convex-app";
const OIDC_CLAIM_MESSAGE =
  "Could not verify OIDC token claim. Check that the token signature is valid and the token hasn't expired.";

let server: Server;
let base: string;
let oidcIssuer: string;
let customIssuer: string;
let rsa: TestKey;
let rsaRotated: TestKey;
let ec: TestKey;
let attackerRsa: TestKey;
let attackerEc: TestKey;
/** What the fake identity provider serves; tests change it to simulate key rotation. */
let oidcJwks: JWK[];
const hits = new Map<string, number>();

async function makeKey(alg: TestKey["alg"], kid: string): Promise<TestKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } };
}

function routes(): Record<string, { status?: number; type?: string; body: () => unknown }> {
  return {
    "/oidc/.well-known/openid-configuration": {
      body: () => ({
        issuer: oidcIssuer,
        jwks_uri: `${oidcIssuer}/jwks`,
        authorization_endpoint: `${oidcIssuer}/authorize`,
        response_types_supported: ["id_token"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256"],
      }),
    },
    "/oidc/jwks": { body: () => ({ keys: oidcJwks }) },
    // A provider whose discovery document names a different issuer than the token's.
    "/liar/.well-known/openid-configuration": {
      body: () => ({ issuer: oidcIssuer, jwks_uri: `${oidcIssuer}/jwks` }),
    },
    "/custom/jwks": { type: "application/jwk-set+json", body: () => ({ keys: [ec.jwk, rsa.jwk] }) },
    "/custom/html-jwks": { type: "text/html", body: () => ({ keys: [ec.jwk] }) },
  };
}

function startServer(): Promise<Server> {
  const srv = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const route = routes()[path];
    if (!route) {
      res.writeHead(404, { "content-type": "text/plain" }).end("nope");
      return;
    }
    res.writeHead(route.status ?? 200, { "content-type": route.type ?? "application/json" });
    res.end(JSON.stringify(route.body()));
  });
  return new Promise((resolve) => srv.listen(0, "127.0.0.1", () => resolve(srv)));
}

beforeAll(async () => {
  [rsa, rsaRotated, ec, attackerRsa, attackerEc] = await Promise.all([
    makeKey("RS256", "rsa-1"),
    makeKey("RS256", "rsa-2"),
    makeKey("ES256", "ec-1"),
    // Attackers reuse the genuine key ids so only the signature can give them away.
    makeKey("RS256", "rsa-1"),
    makeKey("ES256", "ec-1"),
  ]);
  server = await startServer();
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  oidcIssuer = `${base}/oidc`;
  customIssuer = `${base}/custom`;
  oidcJwks = [rsa.jwk];
});

afterEach(() => {
  vi.useRealTimers();
  oidcJwks = [rsa.jwk];
  hits.clear();
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const now = () => Math.floor(Date.now() / 1000);

function sign(key: TestKey, claims: JWTPayload, header: Partial<JWTHeaderParameters> = {}): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT", ...header })
    .sign(key.privateKey);
}

function oidcClaims(extra: JWTPayload = {}): JWTPayload {
  return { iss: oidcIssuer, sub: "user-1", aud: APP, iat: now(), exp: now() + 3600, ...extra };
}

function customClaims(extra: JWTPayload = {}): JWTPayload {
  return { iss: customIssuer, sub: "user-2", aud: APP, iat: now(), exp: now() + 3600, ...extra };
}

function oidcVerifier(options?: ConstructorParameters<typeof AuthVerifier>[1]): AuthVerifier {
  return new AuthVerifier([{ domain: oidcIssuer, applicationID: APP }], options);
}

function customVerifier(options?: ConstructorParameters<typeof AuthVerifier>[1]): AuthVerifier {
  const provider = {
    type: "customJwt",
    issuer: customIssuer,
    jwks: `${base}/custom/jwks`,
    algorithm: "ES256",
  } as const;
  return new AuthVerifier([{ ...provider, applicationID: APP }], options);
}

function dataUrlJwks(keys: JWK[]): string {
  return `data:text/plain;charset=utf-8;base64,${Buffer.from(JSON.stringify({ keys })).toString("base64")}`;
}

/** A token with an arbitrary header and an empty signature, as an attacker would hand-craft it. */
function unsigned(header: Record<string, unknown>, claims: JWTPayload): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part(header)}.${part(claims)}.`;
}

async function refusal(promise: Promise<unknown>): Promise<AuthVerificationError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuthVerificationError);
  return error as AuthVerificationError;
}

describe("OIDC provider", () => {
  test("a valid token yields Convex's UserIdentity, standard claims camelCased", async () => {
    // Configured with a trailing slash the token's `iss` lacks: Convex tolerates that.
    const verifier = new AuthVerifier([{ domain: `${oidcIssuer}/`, applicationID: APP }]);
    const token = await sign(
      rsa,
      oidcClaims({
        name: "Ada Lovelace",
        given_name: "Ada",
        family_name: "Lovelace",
        middle_name: "Augusta",
        nickname: "ada",
        preferred_username: "ada.l",
        profile: "https://example.com/ada",
        picture: "https://example.com/ada.png",
        website: "https://ada.example.com",
        email: "ada@example.com",
        email_verified: true,
        gender: "female",
        birthdate: "1815-12-10",
        zoneinfo: "Europe/London",
        locale: "en-GB",
        phone_number: "+44 20 7946 0000",
        phone_number_verified: false,
        address: { formatted: "12 St James's Square, London", country: "UK" },
        updated_at: 1704164645,
        org: { id: 7, roles: ["admin"] },
        "https://example.com/plan": "pro",
        jti: "token-id",
        nbf: now() - 10,
        azp: "http://localhost:3000",
        fva: [1, -1],
      }),
    );

    expect(await verifier.verify(token)).toEqual({
      tokenIdentifier: `${oidcIssuer}|user-1`,
      subject: "user-1",
      issuer: oidcIssuer,
      name: "Ada Lovelace",
      givenName: "Ada",
      familyName: "Lovelace",
      nickname: "ada",
      preferredUsername: "ada.l",
      profileUrl: "https://example.com/ada",
      pictureUrl: "https://example.com/ada.png",
      websiteUrl: "https://ada.example.com",
      email: "ada@example.com",
      emailVerified: true,
      gender: "female",
      birthday: "1815-12-10",
      timezone: "Europe/London",
      language: "en-GB",
      phoneNumber: "+44 20 7946 0000",
      phoneNumberVerified: false,
      address: "12 St James's Square, London",
      updatedAt: "2024-01-02T03:04:05+00:00",
      // Custom claims pass through as they are; iss/aud/exp/iat/jti/nbf/azp/fva/middle_name do not.
      org: { id: 7, roles: ["admin"] },
      "https://example.com/plan": "pro",
    });
  });

  test("discovery and JWKS are fetched once and then served from cache", async () => {
    const verifier = oidcVerifier();
    await verifier.verify(await sign(rsa, oidcClaims()));
    await verifier.verify(await sign(rsa, oidcClaims({ sub: "user-9" })));
    expect(hits.get("/oidc/.well-known/openid-configuration")).toBe(1);
    expect(hits.get("/oidc/jwks")).toBe(1);
  });

  test("an expired token is refused", async () => {
    const verifier = oidcVerifier();
    const error = await refusal(verifier.verify(await sign(rsa, oidcClaims({ exp: now() - 60 }))));
    expect(error.message).toBe(OIDC_CLAIM_MESSAGE);
    expect(error.code).toBe("Unauthenticated");
  });

  test("a token without exp is not an OIDC ID token", async () => {
    const claims = oidcClaims();
    delete claims.exp;
    const error = await refusal(oidcVerifier().verify(await sign(rsa, claims)));
    expect(error.message).toBe("Could not parse as OIDC ID token. Token might not be an OIDC-compliant JWT.");
  });

  test("a token that is not valid yet (nbf in the future) is refused", async () => {
    const error = await refusal(oidcVerifier().verify(await sign(rsa, oidcClaims({ nbf: now() + 600 }))));
    expect(error.message).toBe(OIDC_CLAIM_MESSAGE);
  });

  test("a token signed with another key under the same kid is refused", async () => {
    const error = await refusal(oidcVerifier().verify(await sign(attackerRsa, oidcClaims())));
    expect(error.message).toBe(OIDC_CLAIM_MESSAGE);
  });

  test("an unsigned (alg: none) token is refused", async () => {
    const verifier = oidcVerifier();
    for (const token of [
      new UnsecuredJWT(oidcClaims()).encode(),
      unsigned({ alg: "none", kid: "rsa-1" }, oidcClaims()),
    ]) {
      const error = await refusal(verifier.verify(token));
      expect(error.message).toBe(OIDC_CLAIM_MESSAGE);
    }
  });

  test("only RS256 and EdDSA are accepted, as in Convex", async () => {
    oidcJwks = [rsa.jwk, ec.jwk];
    const error = await refusal(oidcVerifier().verify(await sign(ec, oidcClaims())));
    expect(error.message).toBe(OIDC_CLAIM_MESSAGE);
  });

  test("a token from another issuer matches no provider", async () => {
    const error = await refusal(
      oidcVerifier().verify(await sign(rsa, oidcClaims({ iss: `${base}/elsewhere` }))),
    );
    expect(error.code).toBe("NoAuthProvider");
    expect(error.message).toBe(
      "No auth provider found matching the given token. Check that your JWT's issuer and audience match one of " +
        `your configured providers: [OIDC(domain=${oidcIssuer}, app_id=${APP})]`,
    );
  });

  test("a token for another audience matches no provider; extra audiences are untrusted", async () => {
    const verifier = oidcVerifier();
    const wrong = await refusal(verifier.verify(await sign(rsa, oidcClaims({ aud: "someone-else" }))));
    expect(wrong.code).toBe("NoAuthProvider");
    const extra = await refusal(verifier.verify(await sign(rsa, oidcClaims({ aud: [APP, "someone-else"] }))));
    expect(extra.message).toBe(OIDC_CLAIM_MESSAGE);
    // The array form with only the application ID is fine.
    expect((await verifier.verify(await sign(rsa, oidcClaims({ aud: [APP] })))).subject).toBe("user-1");
  });

  test("a failed discovery says so, and is retried rather than cached", async () => {
    const issuer = `${base}/missing`;
    const verifier = new AuthVerifier([{ domain: issuer, applicationID: APP }]);
    const token = await sign(rsa, oidcClaims({ iss: issuer }));
    for (let attempt = 0; attempt < 2; attempt++) {
      const error = await refusal(verifier.verify(token));
      expect(error.message).toBe(`Auth provider discovery of ${issuer} failed: 404 Not Found nope`);
      expect(error.code).toBe("AuthProviderDiscoveryFailed");
    }
    expect(hits.get("/missing/.well-known/openid-configuration")).toBe(2);
  });

  test("the discovered issuer must equal the token's issuer", async () => {
    const issuer = `${base}/liar`;
    const verifier = new AuthVerifier([{ domain: issuer, applicationID: APP }]);
    const error = await refusal(verifier.verify(await sign(rsa, oidcClaims({ iss: issuer }))));
    expect(error.message).toBe(`Auth provider discovery of ${issuer} failed`);
  });

  test("a new kid in the JWKS is picked up after the cached set goes stale for that kid", async () => {
    const verifier = oidcVerifier();
    expect((await verifier.verify(await sign(rsa, oidcClaims()))).subject).toBe("user-1");
    expect(hits.get("/oidc/jwks")).toBe(1);

    oidcJwks = [rsaRotated.jwk];
    const rotatedToken = await sign(rsaRotated, oidcClaims({ sub: "user-rotated" }));
    // Within jose's 30 s cooldown an unknown kid does not trigger a refetch (no JWKS flooding)...
    expect((await refusal(verifier.verify(rotatedToken))).message).toBe(OIDC_CLAIM_MESSAGE);
    expect(hits.get("/oidc/jwks")).toBe(1);

    // ...after it, the unknown kid refetches the JWKS and the rotated key verifies.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 31_000);
    expect((await verifier.verify(rotatedToken)).subject).toBe("user-rotated");
    expect(hits.get("/oidc/jwks")).toBe(2);
    // The retired key is gone from the refreshed set.
    expect((await refusal(verifier.verify(await sign(rsa, oidcClaims())))).message).toBe(OIDC_CLAIM_MESSAGE);
  });
});

describe("customJwt provider", () => {
  test("a valid token (JWKS from a URL) yields Convex's custom-JWT identity", async () => {
    const token = await sign(
      ec,
      customClaims({
        email: "grace@example.com",
        email_verified: true,
        org: { id: 7, team: { name: "core" } },
        roles: ["admin"],
        jti: "abc",
        nbf: now() - 5,
        fva: [3, -1],
      }),
    );
    expect(await customVerifier().verify(token)).toEqual({
      tokenIdentifier: `${customIssuer}|user-2`,
      subject: "user-2",
      issuer: customIssuer,
      // Convex maps no standard claims for custom JWTs and flattens nested objects into dotted keys.
      email: "grace@example.com",
      email_verified: true,
      "org.id": 7,
      "org.team.name": "core",
      roles: ["admin"],
    });
    expect(hits.get("/custom/jwks")).toBe(1);
  });

  test("a valid token (JWKS in a data: URL) verifies, and aud is unchecked without applicationID", async () => {
    const verifier = new AuthVerifier([
      { type: "customJwt", issuer: customIssuer, jwks: dataUrlJwks([rsa.jwk]), algorithm: "RS256" },
    ]);
    const claims = customClaims();
    delete claims.aud;
    expect((await verifier.verify(await sign(rsa, claims))).tokenIdentifier).toBe(`${customIssuer}|user-2`);
    expect((await verifier.verify(await sign(rsa, customClaims({ aud: "anyone" })))).subject).toBe("user-2");
    // A percent-encoded (not base64) data: URL works too.
    const plain = new AuthVerifier([
      {
        type: "customJwt",
        issuer: customIssuer,
        jwks: `data:application/json,${encodeURIComponent(JSON.stringify({ keys: [rsa.jwk] }))}`,
        algorithm: "RS256",
      },
    ]);
    expect((await plain.verify(await sign(rsa, claims))).subject).toBe("user-2");
  });

  test("an expired token is refused, with a 5 s default tolerance that can be turned off", async () => {
    const expired = await sign(ec, customClaims({ exp: now() - 60 }));
    const error = await refusal(customVerifier().verify(expired));
    expect(error.message).toMatch(/^Could not validate token: Token expired (60|61) seconds ago$/);
    expect(error.code).toBe("InvalidAuthHeader");

    const justExpired = await sign(ec, customClaims({ exp: now() - 2 }));
    expect((await customVerifier().verify(justExpired)).subject).toBe("user-2");
    await refusal(customVerifier({ clockToleranceSeconds: 0 }).verify(justExpired));
  });

  test("a token without exp or sub is refused", async () => {
    const noExp = customClaims();
    delete noExp.exp;
    const noSub = customClaims();
    delete noSub.sub;
    const message =
      "Could not verify token claim. Check that the JWT contains valid claims and matches your auth provider configuration.";
    expect((await refusal(customVerifier().verify(await sign(ec, noExp)))).message).toBe(message);
    expect((await refusal(customVerifier().verify(await sign(ec, noSub)))).message).toBe(message);
  });

  test("a token that is not valid yet (nbf in the future) is refused", async () => {
    const error = await refusal(customVerifier().verify(await sign(ec, customClaims({ nbf: now() + 600 }))));
    expect(error.message).toMatch(/^Could not validate token: Token will be valid in (599|600) seconds$/);
  });

  test("a token signed with another key under the same kid is refused", async () => {
    const error = await refusal(customVerifier().verify(await sign(attackerEc, customClaims())));
    expect(error.message).toBe(
      "Could not decode token. The JWT's 'kid' (key ID) header is 'ec-1', does this key match any key in the provider's JWKS?",
    );
  });

  test("a token signed with a JWKS key but the wrong algorithm is refused", async () => {
    // rsa-1 is in the custom JWKS, but the provider is configured for ES256.
    const error = await refusal(customVerifier().verify(await sign(rsa, customClaims())));
    expect(error.message).toContain("The JWT's 'kid' (key ID) header is 'rsa-1'");
  });

  test("an unsigned (alg: none) token is refused", async () => {
    const verifier = customVerifier();
    const withoutKid = await refusal(verifier.verify(new UnsecuredJWT(customClaims()).encode()));
    expect(withoutKid.message).toBe("Could not decode token. JWT may be missing a 'kid' (key ID) header.");
    const withKid = await refusal(verifier.verify(unsigned({ alg: "none", kid: "ec-1" }, customClaims())));
    expect(withKid.message).toContain("The JWT's 'kid' (key ID) header is 'ec-1'");
  });

  test("a token from another issuer or for another audience matches no provider", async () => {
    const verifier = customVerifier();
    const described = `[CustomJWT(issuer=${customIssuer}, app_id=${APP})]`;
    for (const claims of [customClaims({ iss: `${base}/other` }), customClaims({ aud: "someone-else" })]) {
      const error = await refusal(verifier.verify(await sign(ec, claims)));
      expect(error.code).toBe("NoAuthProvider");
      expect(error.message).toContain(described);
    }
  });

  test("JWKS endpoint failures are reported with the URL", async () => {
    const missing = `${base}/custom/nowhere`;
    const notFound = new AuthVerifier([
      { type: "customJwt", issuer: customIssuer, jwks: missing, algorithm: "ES256" },
    ]);
    expect((await refusal(notFound.verify(await sign(ec, customClaims())))).message).toBe(
      `Could not fetch JWKS from URL '${missing}': HTTP 404 Not Found. Check that the URL is correct and accessible.`,
    );
    const garbled = new AuthVerifier([
      { type: "customJwt", issuer: customIssuer, jwks: "not a url", algorithm: "ES256" },
    ]);
    expect((await refusal(garbled.verify(await sign(ec, customClaims())))).message).toBe(
      "Could not fetch JWKS from URL 'not a url': Invalid URL. Check that the URL is correct and accessible.",
    );
    const html = `${base}/custom/html-jwks`;
    const wrongType = new AuthVerifier([
      { type: "customJwt", issuer: customIssuer, jwks: html, algorithm: "ES256" },
    ]);
    expect((await refusal(wrongType.verify(await sign(ec, customClaims())))).message).toBe(
      `Invalid Content-Type 'text/html' when fetching JWKS from '${html}'. Expected 'application/json' or 'application/jwk-set+json'.`,
    );
  });
});

describe("tokens no provider can take", () => {
  test("with no providers configured, the message points at auth.config.ts", async () => {
    const error = await refusal(new AuthVerifier([]).verify(await sign(rsa, oidcClaims())));
    expect(error.message).toBe(
      "No auth provider found matching the given token (no providers configured). Check convex/auth.config.ts.",
    );
    expect(error.code).toBe("NoAuthProvider");
  });

  test("garbage and issuer-less tokens are refused before any provider is tried", async () => {
    const verifier = oidcVerifier();
    expect((await refusal(verifier.verify("not-a-jwt"))).message).toMatch(/^Could not parse JWT payload\./);
    const noIss = oidcClaims();
    delete noIss.iss;
    expect((await refusal(verifier.verify(await sign(rsa, noIss)))).message).toMatch(
      /^Missing issuer claim \('iss'\)/,
    );
    expect(hits.size).toBe(0);
  });
});

describe("configuration", () => {
  test("a scheme-less domain gets https://, and unsupported algorithms are rejected up front", async () => {
    const verifier = new AuthVerifier([{ domain: "auth.example.com", applicationID: APP }]);
    expect((await refusal(verifier.verify(await sign(rsa, oidcClaims())))).message).toContain(
      "OIDC(domain=https://auth.example.com, app_id=convex-app)",
    );
    expect(
      () =>
        new AuthVerifier([
          { type: "customJwt", issuer: customIssuer, jwks: `${base}/custom/jwks`, algorithm: "HS256" },
        ]),
    ).toThrow("Invalid signature algorithm (only RS256 and ES256 are supported): HS256");
  });
});

describe("AuthVerifier.expiresAt", () => {
  test("returns the seconds left, 0 once expired, and null without a readable exp", async () => {
    expect(AuthVerifier.expiresAt(await sign(rsa, oidcClaims({ exp: now() + 120 })))).toBeCloseTo(120, -1);
    expect(AuthVerifier.expiresAt(await sign(rsa, oidcClaims({ exp: now() - 120 })))).toBe(0);
    const noExp = oidcClaims();
    delete noExp.exp;
    expect(AuthVerifier.expiresAt(await sign(rsa, noExp))).toBeNull();
    expect(AuthVerifier.expiresAt("not-a-jwt")).toBeNull();
  });
});
