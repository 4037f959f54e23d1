// Local sign-in as a tiny OpenID Connect provider: one RS256 key pair kept on disk, the discovery
// document and JWKS that Convex reads (exactly as it reads Clerk's), and the short-lived ID tokens
// the browser and loaders hand to Convex.
import path from "node:path";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from "jose";
import { createFileOnce, keepPrivate } from "./files.server";

export const SIGNING_ALGORITHM = "RS256";
/** Convex providers in convex/auth.config.ts trust tokens for this audience (`applicationID`). */
export const TOKEN_AUDIENCE = "convex";
/** Tokens are short-lived: the browser fetches a fresh one shortly before this runs out. */
export const TOKEN_TTL_SECONDS = 5 * 60;
export const SIGNING_KEY_FILE = "signing-key.json";

export type SigningKey = { kid: string; privateKey: CryptoKey; publicJwk: JWK };

type StoredKey = { kid: string; alg: typeof SIGNING_ALGORITHM; privateJwk: JWK; createdAt: string };

/** `emailVerified`: only what the account proved (accounts.server's `isEmailVerified`), never assumed. */
export type TokenSubject = { subject: string; email: string; name: string; emailVerified: boolean };

const keys = new Map<string, Promise<SigningKey>>();

/**
 * The signing key kept under `dataDir`, generated on first use and reused afterwards (also by
 * other processes: the file is created once and atomically). Cached per folder.
 */
export function getSigningKey(dataDir: string): Promise<SigningKey> {
  const file = path.join(path.resolve(dataDir), SIGNING_KEY_FILE);
  let key = keys.get(file);
  if (!key) {
    key = loadOrCreateKey(file);
    keys.set(file, key);
    key.catch(() => keys.delete(file));
  }
  return key;
}

async function loadOrCreateKey(file: string): Promise<SigningKey> {
  const text = await createFileOnce(file, newStoredKey);
  await keepPrivate(file);
  let stored: StoredKey;
  try {
    stored = JSON.parse(text) as StoredKey;
  } catch {
    throw new Error(`${file} is not valid JSON; delete it to generate a new signing key`);
  }
  if (
    stored.alg !== SIGNING_ALGORITHM ||
    typeof stored.kid !== "string" ||
    stored.privateJwk?.kty !== "RSA"
  ) {
    throw new Error(`${file} does not hold an RS256 signing key; delete it to generate a new one`);
  }
  const privateKey = (await importJWK(stored.privateJwk, SIGNING_ALGORITHM)) as CryptoKey;
  return { kid: stored.kid, privateKey, publicJwk: publicJwkOf(stored.privateJwk, stored.kid) };
}

async function newStoredKey(): Promise<string> {
  const { privateKey } = await generateKeyPair(SIGNING_ALGORITHM, { extractable: true, modulusLength: 2048 });
  const jwk = await exportJWK(privateKey);
  // The RFC 7638 thumbprint: stable for the key, and a new key can never reuse an old id.
  const kid = await calculateJwkThumbprint({ kty: "RSA", n: jwk.n!, e: jwk.e! });
  const stored: StoredKey = {
    kid,
    alg: SIGNING_ALGORITHM,
    privateJwk: { ...jwk, kid, alg: SIGNING_ALGORITHM, use: "sig" },
    createdAt: new Date().toISOString(),
  };
  return JSON.stringify(stored, null, 2) + "\n";
}

/** Only the public members, picked by name so no private parameter can ever slip through. */
function publicJwkOf(jwk: JWK, kid: string): JWK {
  return { kty: "RSA", n: jwk.n, e: jwk.e, kid, alg: SIGNING_ALGORITHM, use: "sig" };
}

/** `GET /.well-known/openid-configuration`: what Convex fetches to find the JWKS for `issuer`. */
export function openIdConfiguration(issuer: string) {
  return {
    issuer,
    authorization_endpoint: `${issuer}/sign-in`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    response_types_supported: ["id_token"],
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: [SIGNING_ALGORITHM],
    claims_supported: ["iss", "aud", "sub", "iat", "exp", "email", "email_verified", "name"],
  };
}

/** `GET /.well-known/jwks.json`: the public key only. */
export async function jsonWebKeySet(dataDir: string): Promise<{ keys: JWK[] }> {
  const { publicJwk } = await getSigningKey(dataDir);
  return { keys: [publicJwk] };
}

/**
 * An OIDC ID token for Convex: RS256 with the key's `kid`, `aud` "convex", valid for
 * TOKEN_TTL_SECONDS. `expiresAt` is in milliseconds since the epoch.
 */
export async function issueToken(
  key: SigningKey,
  issuer: string,
  user: TokenSubject,
  now = Date.now(),
): Promise<{ token: string; expiresAt: number }> {
  const issuedAt = Math.floor(now / 1000);
  const expiresAt = issuedAt + TOKEN_TTL_SECONDS;
  const token = await new SignJWT({ email: user.email, email_verified: user.emailVerified, name: user.name })
    .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid: key.kid, typ: "JWT" })
    .setIssuer(issuer)
    .setAudience(TOKEN_AUDIENCE)
    .setSubject(user.subject)
    .setIssuedAt(issuedAt)
    .setExpirationTime(expiresAt)
    .sign(key.privateKey);
  return { token, expiresAt: expiresAt * 1000 };
}
