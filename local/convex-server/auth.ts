/** Verifies client JWTs against the providers of `convex/auth.config.ts`, following the Convex backend's rules and error messages. */
import { STATUS_CODES } from "node:http";
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type FetchImplementation,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
} from "jose";

// Behaviour and wording follow get-convex/convex-backend: crates/authentication/src/lib.rs
// (validate_id_token, fetch_jwks), crates/common/src/auth.rs (AuthInfo::matches_token,
// deserialize_issuer_url) and crates/keybroker/src/broker.rs (UserIdentity::from_token /
// from_custom_jwt), plus the openidconnect fork Convex pins for OIDC discovery and ID-token rules.

export type AuthProviderConfig = {
  domain?: string;
  applicationID?: string;
  type?: "customJwt";
  issuer?: string;
  jwks?: string;
  algorithm?: string;
};

export type UserIdentity = Record<string, unknown> & {
  tokenIdentifier: string;
  subject: string;
  issuer: string;
};

/** A refused token. `message` is what a client sees; `code` is Convex's short error code. */
export class AuthVerificationError extends Error {
  readonly code: string;

  constructor(message: string, code = "Unauthenticated") {
    super(message);
    this.name = "AuthVerificationError";
    this.code = code;
  }
}

type OidcProvider = { kind: "oidc"; domain: string; applicationID: string };
type CustomJwtProvider = {
  kind: "customJwt";
  issuer: string;
  applicationID?: string;
  jwks: string;
  algorithm: "RS256" | "ES256";
};
type Provider = OidcProvider | CustomJwtProvider;
type Discovery = { issuer: string; jwksUri: string };

/** Convex's custom-JWT check allows 5 s of skew (biscuit epsilon); its OIDC check allows none. */
const DEFAULT_CLOCK_TOLERANCE_SECONDS = 5;
/** Convex re-discovers on every token; caching for as long as jose keeps a JWKS bounds staleness the same way. */
const DISCOVERY_CACHE_MS = 10 * 60 * 1000;
/** jose's default for its JWKS fetches, used for discovery too so one slow provider cannot hang a connection. */
const FETCH_TIMEOUT_MS = 5_000;
/** Convex's OIDC verifier accepts only these (RS256 for Clerk/Auth0, EdDSA for Ed25519). */
const OIDC_ALGORITHMS = ["RS256", "EdDSA"];
const JWKS_MEDIA_TYPES = ["application/json", "application/jwk-set+json"];

const MESSAGES = {
  unparsable:
    "Could not parse JWT payload. Check that the token is a valid JWT format with three base64-encoded parts separated by dots.",
  missingIssuer:
    "Missing issuer claim ('iss') in JWT payload. The JWT must include an 'iss' claim that matches one of your configured auth providers.",
  notOidc: "Could not parse as OIDC ID token. Token might not be an OIDC-compliant JWT.",
  oidcClaim:
    "Could not verify OIDC token claim. Check that the token signature is valid and the token hasn't expired.",
  customClaim:
    "Could not verify token claim. Check that the JWT contains valid claims and matches your auth provider configuration.",
  missingKid: "Could not decode token. JWT may be missing a 'kid' (key ID) header.",
  invalidDataUrl:
    "Invalid JWKS data URL. Check that the data URL is properly formatted and contains valid base64-encoded JSON.",
};

export class AuthVerifier {
  private readonly providers: Provider[];
  private readonly fetchImpl: typeof fetch;
  private readonly clockTolerance: number;
  private readonly discoveries = new Map<string, { expires: number; value: Promise<Discovery> }>();
  private readonly keySets = new Map<string, JWTVerifyGetKey>();

  constructor(
    providers: AuthProviderConfig[],
    options: { fetch?: typeof fetch; clockToleranceSeconds?: number } = {},
  ) {
    this.providers = providers.map(normalizeProvider);
    this.fetchImpl = options.fetch ?? fetch;
    this.clockTolerance = options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
  }

  /** Returns the Convex UserIdentity for a valid token; throws AuthVerificationError otherwise. */
  async verify(token: string): Promise<UserIdentity> {
    const claims = decodeUnverified(token);
    const issuer = claims.iss;
    if (issuer === undefined) throw new AuthVerificationError(MESSAGES.missingIssuer, "InvalidAuthHeader");
    if (typeof issuer !== "string") throw new AuthVerificationError(MESSAGES.unparsable, "InvalidAuthHeader");
    const audiences = audiencesOf(claims.aud);
    // An unverified token can at worst route us to the wrong provider; verification then fails.
    const provider = this.providers.find((p) => matchesToken(p, audiences, issuer));
    if (!provider) throw new AuthVerificationError(noProviderMessage(this.providers), "NoAuthProvider");
    return provider.kind === "oidc"
      ? this.verifyOidc(token, claims, provider, issuer)
      : this.verifyCustomJwt(token, provider);
  }

  /** Seconds until the token expires (used to schedule expiry checks); null when no exp. */
  static expiresAt(token: string): number | null {
    let exp: unknown;
    try {
      exp = decodeJwt(token).exp;
    } catch {
      return null;
    }
    if (typeof exp !== "number" || !Number.isFinite(exp)) return null;
    return Math.max(0, exp - Date.now() / 1000);
  }

  private async verifyOidc(
    token: string,
    claims: JWTPayload,
    provider: OidcProvider,
    issuer: string,
  ): Promise<UserIdentity> {
    // Like Convex, discovery uses the token's `iss` (already matched to the provider), and the
    // discovered issuer must equal it exactly.
    const discovery = await this.discover(issuer);
    if (!isOidcShaped(claims)) throw new AuthVerificationError(MESSAGES.notOidc, "InvalidAuthHeader");
    const keys = this.remoteKeySet(discovery.jwksUri, oidcFetchError(issuer));
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        algorithms: OIDC_ALGORITHMS,
        issuer: discovery.issuer,
        audience: provider.applicationID,
        clockTolerance: this.clockTolerance,
      }));
    } catch (error) {
      // JWKS fetch failures keep their own (discovery) message; everything else reads alike in Convex.
      if (error instanceof AuthVerificationError) throw error;
      throw new AuthVerificationError(MESSAGES.oidcClaim);
    }
    if (!oidcHeaderAllowed(token) || !onlyTrustedAudience(payload.aud, provider.applicationID)) {
      throw new AuthVerificationError(MESSAGES.oidcClaim);
    }
    return oidcIdentity(payload);
  }

  private async verifyCustomJwt(token: string, provider: CustomJwtProvider): Promise<UserIdentity> {
    const keys = this.customKeySet(provider.jwks);
    const kid = keyIdOf(token);
    // Convex (biscuit) looks keys up by `kid` only, so a token without one cannot be verified.
    if (kid === undefined) throw new AuthVerificationError(MESSAGES.missingKid, "InvalidAuthHeader");
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        algorithms: [provider.algorithm],
        clockTolerance: this.clockTolerance,
      }));
    } catch (error) {
      throw customJwtFailure(error, kid);
    }
    // iss and aud were already compared while picking the provider (the same comparison Convex
    // repeats here), so only the claims the identity needs are left to check.
    if (typeof payload.sub !== "string" || typeof payload.exp !== "number") {
      throw new AuthVerificationError(MESSAGES.customClaim, "InvalidAuthHeader");
    }
    return customJwtIdentity(payload);
  }

  /** Keyed by issuer, not URL: `https://x` and `https://x/` share a URL but not the issuer check. */
  private discover(issuer: string): Promise<Discovery> {
    const cached = this.discoveries.get(issuer);
    if (cached && cached.expires > Date.now()) return cached.value;
    const value = this.fetchDiscovery(issuer);
    this.discoveries.set(issuer, { expires: Date.now() + DISCOVERY_CACHE_MS, value });
    // A failure is not cached: the next token retries, as Convex (which never caches) would.
    value.catch(() => {
      if (this.discoveries.get(issuer)?.value === value) this.discoveries.delete(issuer);
    });
    return value;
  }

  private async fetchDiscovery(issuer: string): Promise<Discovery> {
    const failed = `Auth provider discovery of ${issuer} failed`;
    let response: Response;
    try {
      response = await this.fetchImpl(discoveryUrl(issuer), {
        headers: { accept: "application/json" },
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      });
    } catch {
      throw new AuthVerificationError(failed, "AuthProviderDiscoveryFailed");
    }
    const body = await response.text().catch(() => "");
    if (response.status !== 200 || !mediaTypeAllowed(response, ["application/json"], false)) {
      throw new AuthVerificationError(
        `${failed}: ${statusLine(response.status)} ${body}`,
        "AuthProviderDiscoveryFailed",
      );
    }
    const discovery = parseDiscovery(body);
    if (!discovery || discovery.issuer !== issuer)
      throw new AuthVerificationError(failed, "AuthProviderDiscoveryFailed");
    return discovery;
  }

  private customKeySet(jwks: string): JWTVerifyGetKey {
    if (!/^data:/i.test(jwks)) {
      const onError = customJwtFetchError(jwks);
      // Config strings are only checked when first used, as in Convex; a bad one must still read as a fetch failure.
      if (!URL.canParse(jwks)) throw onError.unreachable(new TypeError("Invalid URL"));
      return this.remoteKeySet(jwks, onError);
    }
    const cached = this.keySets.get(jwks);
    if (cached) return cached;
    const keySet = createLocalJWKSet(parseJwks(decodeDataUrl(jwks), jwks));
    this.keySets.set(jwks, keySet);
    return keySet;
  }

  /** One jose remote set per URL: it caches keys and refetches when a token names an unknown `kid`. */
  private remoteKeySet(url: string, onError: JwksFetchErrors): JWTVerifyGetKey {
    const cacheKey = `${onError.label} ${url}`;
    const cached = this.keySets.get(cacheKey);
    if (cached) return cached;
    const keySet = createRemoteJWKSet(new URL(url), { [customFetch]: this.checkedJwksFetch(url, onError) });
    this.keySets.set(cacheKey, keySet);
    return keySet;
  }

  /** Wraps fetch so JWKS failures surface with Convex's wording instead of jose's. */
  private checkedJwksFetch(url: string, onError: JwksFetchErrors): FetchImplementation {
    return async (resource, init) => {
      let response: Response;
      try {
        response = await this.fetchImpl(resource, init);
      } catch (error) {
        throw onError.unreachable(error);
      }
      if (response.status !== 200)
        throw onError.status(response.status, await response.text().catch(() => ""));
      const body = await response.text();
      if (!mediaTypeAllowed(response, JWKS_MEDIA_TYPES, onError.strictContentType)) {
        throw onError.contentType(response.headers.get("content-type") ?? "unknown", body);
      }
      const jwks = parseJwks(body, url, onError);
      return new Response(JSON.stringify(jwks), {
        status: 200,
        headers: { "content-type": "application/json" },
      });
    };
  }
}

// ---------------------------------------------------------------- provider configuration

function normalizeProvider(config: AuthProviderConfig): Provider {
  if (config.type === "customJwt") {
    const { issuer, jwks, algorithm, applicationID } = config;
    if (typeof issuer !== "string" || typeof jwks !== "string") {
      throw new Error(
        'Invalid auth provider: a "customJwt" provider needs string "issuer" and "jwks" fields.',
      );
    }
    if (algorithm !== "RS256" && algorithm !== "ES256") {
      throw new Error(
        `Invalid signature algorithm (only RS256 and ES256 are supported): ${String(algorithm)}`,
      );
    }
    if (applicationID !== undefined && typeof applicationID !== "string") {
      throw new Error('Invalid auth provider: "applicationID" must be a string when given.');
    }
    return { kind: "customJwt", issuer: normalizeIssuerUrl(issuer), jwks, algorithm, applicationID };
  }
  const { domain, applicationID } = config;
  if (typeof domain !== "string" || typeof applicationID !== "string") {
    throw new Error(
      'Invalid auth provider: an OIDC provider needs string "domain" and "applicationID" fields.',
    );
  }
  return { kind: "oidc", domain: normalizeIssuerUrl(domain), applicationID };
}

/** Convex adds `https://` to a scheme-less domain/issuer and keeps the rest as written. */
function normalizeIssuerUrl(original: string): string {
  const invalid = (why: string) => new Error(`Invalid provider domain URL "${original}": ${why}`);
  if (original.startsWith('"')) throw invalid('starts with a double quote (")');
  const hadScheme = /^\w+:\/\//.test(original);
  const url = hadScheme ? original : `https://${original}`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw invalid(error instanceof Error ? error.message : String(error));
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
    throw invalid("scheme should be http or https");
  // Convex checks for a real top-level domain here; a dot (or localhost) catches the same typos.
  if (!hadScheme && !(parsed.hostname === "localhost" || parsed.hostname.includes("."))) {
    throw invalid("Does not look like a URL (must have a scheme or end with a top-level domain)");
  }
  return url;
}

function matchesToken(provider: Provider, audiences: string[], issuer: string): boolean {
  const applicationID = provider.applicationID;
  if (applicationID !== undefined && !audiences.includes(applicationID)) return false;
  // Some issuers (dynamic.xyz) omit the scheme in `iss`; Convex adds it as it does for the config.
  const withProtocol = /^https?:\/\//.test(issuer) ? issuer : `https://${issuer}`;
  // Providers disagree about a trailing slash between their docs and their tokens (Auth0).
  const configured = provider.kind === "oidc" ? provider.domain : provider.issuer;
  return trimSlashes(configured) === trimSlashes(withProtocol);
}

function noProviderMessage(providers: Provider[]): string {
  if (providers.length === 0) {
    return "No auth provider found matching the given token (no providers configured). Check convex/auth.config.ts.";
  }
  const described = providers.map((p) =>
    p.kind === "oidc"
      ? `OIDC(domain=${p.domain}, app_id=${p.applicationID})`
      : `CustomJWT(issuer=${p.issuer}, app_id=${p.applicationID ?? "none"})`,
  );
  return `No auth provider found matching the given token. Check that your JWT's issuer and audience match one of your configured providers: [${described.join(", ")}]`;
}

// ---------------------------------------------------------------- token decoding

function decodeUnverified(token: string): JWTPayload {
  try {
    return decodeJwt(token);
  } catch {
    throw new AuthVerificationError(MESSAGES.unparsable, "InvalidAuthHeader");
  }
}

function audiencesOf(aud: unknown): string[] {
  if (aud === undefined) return [];
  if (typeof aud === "string") return [aud];
  if (Array.isArray(aud) && aud.every((a) => typeof a === "string")) return aud;
  throw new AuthVerificationError(MESSAGES.unparsable, "InvalidAuthHeader");
}

function keyIdOf(token: string): string | undefined {
  try {
    const { kid } = decodeProtectedHeader(token);
    return typeof kid === "string" ? kid : undefined;
  } catch {
    return undefined;
  }
}

function trimSlashes(value: string): string {
  return value.replace(/\/+$/, "");
}

// ---------------------------------------------------------------- OIDC

function discoveryUrl(issuer: string): string {
  return `${issuer}${issuer.endsWith("/") ? "" : "/"}.well-known/openid-configuration`;
}

function parseDiscovery(body: string): Discovery | null {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    return null;
  }
  if (!isRecord(doc) || typeof doc.issuer !== "string" || typeof doc.jwks_uri !== "string") return null;
  if (!URL.canParse(doc.jwks_uri)) return null;
  return { issuer: doc.issuer, jwksUri: doc.jwks_uri };
}

/** openidconnect refuses `typ` values other than JWT/JOSE, and any `cty` (jose already refuses `crit`). */
function oidcHeaderAllowed(token: string): boolean {
  const header = decodeProtectedHeader(token);
  if (header.cty !== undefined) return false;
  if (header.typ === undefined) return true;
  const typ = typeof header.typ === "string" ? header.typ.toLowerCase() : "";
  const normalized = typ.includes("/") ? typ : `application/${typ}`;
  return normalized === "application/jwt" || normalized === "application/jose";
}

/** openidconnect's default: every audience other than the application ID is untrusted. */
function onlyTrustedAudience(aud: unknown, applicationID: string): boolean {
  return !Array.isArray(aud) || aud.every((a) => a === applicationID);
}

const isString = (v: unknown) => typeof v === "string";
const isBoolean = (v: unknown) => typeof v === "boolean";
const isStringArray = (v: unknown) => Array.isArray(v) && v.every(isString);
const isAddress = (v: unknown) => isRecord(v) && Object.values(v).every((x) => x === null || isString(x));

/** Claims an OIDC ID token must carry, and the types openidconnect insists on for optional ones. */
const OIDC_REQUIRED: Record<string, (v: unknown) => boolean> = {
  iss: (v) => isString(v) && URL.canParse(v as string),
  sub: isString,
  exp: isTimestamp,
  iat: isTimestamp,
};
const OIDC_OPTIONAL: Record<string, (v: unknown) => boolean> = {
  aud: (v) => isString(v) || isStringArray(v),
  auth_time: isTimestamp,
  nonce: isString,
  acr: isString,
  amr: isStringArray,
  azp: isString,
  at_hash: isString,
  c_hash: isString,
  middle_name: isString,
  birthday: isString,
  updated_at: isTimestamp,
  address: isAddress,
  email_verified: isBoolean,
  phone_number_verified: isBoolean,
};

/** The token-level parse Convex does before verifying (missing exp/iat or mistyped claims fail it). */
function isOidcShaped(claims: JWTPayload): boolean {
  for (const [claim, check] of Object.entries(OIDC_REQUIRED)) {
    if (!check(claims[claim])) return false;
  }
  for (const [claim, value] of Object.entries(claims)) {
    if (value === null || claim in OIDC_REQUIRED) continue;
    const check = OIDC_OPTIONAL[claim] ?? (isStandardStringClaim(claim) ? isString : undefined);
    if (check && !check(value)) return false;
  }
  return true;
}

// ---------------------------------------------------------------- identities

/** OIDC standard claims Convex surfaces as string fields of UserIdentity. */
const OIDC_STRING_FIELDS: Record<string, string> = {
  name: "name",
  given_name: "givenName",
  family_name: "familyName",
  nickname: "nickname",
  preferred_username: "preferredUsername",
  profile: "profileUrl",
  picture: "pictureUrl",
  website: "websiteUrl",
  email: "email",
  gender: "gender",
  birthdate: "birthday",
  zoneinfo: "timezone",
  locale: "language",
  phone_number: "phoneNumber",
};
const OIDC_BOOLEAN_FIELDS: Record<string, string> = {
  email_verified: "emailVerified",
  phone_number_verified: "phoneNumberVerified",
};
/** Standard claims that may carry a `#lang` variant (e.g. `name#fr`); Convex only reads the untagged one. */
const LOCALIZED_CLAIMS = new Set([
  "name",
  "given_name",
  "family_name",
  "middle_name",
  "nickname",
  "profile",
  "picture",
  "website",
]);
/**
 * Never custom claims on an OIDC identity: registered and ID-token claims that openidconnect consumes,
 * standard claims (surfaced as fields, or dropped like middle_name), and jti/nbf/fva, which Convex
 * drops because they change on every refresh and would bust the query cache.
 */
const OIDC_NOT_CUSTOM = new Set([
  ...["iss", "sub", "aud", "exp", "iat", "nbf", "jti", "fva"],
  ...["auth_time", "nonce", "acr", "amr", "azp", "at_hash", "c_hash"],
  ...["middle_name", "birthday", "address", "updated_at"],
  ...Object.keys(OIDC_STRING_FIELDS),
  ...Object.keys(OIDC_BOOLEAN_FIELDS),
]);
const REGISTERED_CLAIMS = new Set(["iss", "sub", "aud", "exp", "iat", "nbf", "jti"]);

function isStandardStringClaim(claim: string): boolean {
  const base = claim.split("#")[0] ?? claim;
  return claim in OIDC_STRING_FIELDS || (claim.includes("#") && LOCALIZED_CLAIMS.has(base));
}

function isOidcCustomClaim(claim: string): boolean {
  if (OIDC_NOT_CUSTOM.has(claim)) return false;
  const hash = claim.indexOf("#");
  return hash < 0 || !LOCALIZED_CLAIMS.has(claim.slice(0, hash));
}

function oidcIdentity(payload: JWTPayload): UserIdentity {
  const custom = Object.fromEntries(Object.entries(payload).filter(([claim]) => isOidcCustomClaim(claim)));
  return { ...custom, ...baseIdentity(payload), ...standardFields(payload) };
}

function standardFields(payload: JWTPayload): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [claim, field] of Object.entries(OIDC_STRING_FIELDS)) {
    if (typeof payload[claim] === "string") fields[field] = payload[claim];
  }
  for (const [claim, field] of Object.entries(OIDC_BOOLEAN_FIELDS)) {
    if (typeof payload[claim] === "boolean") fields[field] = payload[claim];
  }
  // Convex keeps only the `formatted` member of the address claim.
  const address = payload.address;
  if (isRecord(address) && typeof address.formatted === "string") fields.address = address.formatted;
  const updatedAt = rfc3339(payload.updated_at);
  if (updatedAt !== undefined) fields.updatedAt = updatedAt;
  return fields;
}

/** Convex maps no standard claims for custom JWTs: every non-registered claim is kept, nested objects as dotted keys. */
function customJwtIdentity(payload: JWTPayload): UserIdentity {
  const custom: Record<string, unknown> = {};
  for (const [claim, value] of Object.entries(payload)) {
    if (!REGISTERED_CLAIMS.has(claim)) flattenInto(custom, claim, value);
  }
  // Clerk's factor-verification age grows with time and would bust the query cache.
  delete custom.fva;
  return { ...custom, ...baseIdentity(payload) };
}

function flattenInto(target: Record<string, unknown>, key: string, value: unknown): void {
  if (!isRecord(value)) {
    target[key] = value;
    return;
  }
  for (const [nestedKey, nested] of Object.entries(value)) flattenInto(target, `${key}.${nestedKey}`, nested);
}

/** Spread last, so a custom claim can never impersonate these (in Convex a same-named custom claim would win). */
function baseIdentity(payload: JWTPayload): UserIdentity {
  const issuer = String(payload.iss);
  const subject = String(payload.sub);
  return { tokenIdentifier: `${issuer}|${subject}`, subject, issuer };
}

// ---------------------------------------------------------------- timestamps

const RFC3339 = /^(\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/;

/** openidconnect (as Convex builds it) accepts seconds since the epoch or an RFC 3339 string. */
function isTimestamp(value: unknown): boolean {
  return timestampParts(value) !== undefined;
}

/** Beyond this a JS Date (and chrono) cannot represent the instant. */
const MAX_TIMESTAMP_SECONDS = 8.64e12;

function timestampParts(value: unknown): { seconds: number; nanos: number } | undefined {
  if (typeof value === "number" && Math.abs(value) <= MAX_TIMESTAMP_SECONDS) {
    const seconds = Math.floor(value);
    return { seconds, nanos: Math.floor((value - seconds) * 1e9) };
  }
  if (typeof value !== "string") return undefined;
  const match = RFC3339.exec(value);
  if (!match) return undefined;
  const [, dateTime = "", fraction = "", offset = ""] = match;
  const ms = Date.parse(`${dateTime.replace(/[t ]/, "T")}${offset.toUpperCase()}`);
  if (Number.isNaN(ms)) return undefined;
  return { seconds: ms / 1000, nanos: Number(fraction.slice(0, 9).padEnd(9, "0")) };
}

/** chrono's `to_rfc3339()`, which Convex uses for `updatedAt`: `+00:00`, fraction only when non-zero. */
function rfc3339(value: unknown): string | undefined {
  const parts = timestampParts(value);
  if (!parts) return undefined;
  const base = new Date(parts.seconds * 1000).toISOString().slice(0, 19);
  const { nanos } = parts;
  const digits = nanos === 0 ? 0 : nanos % 1e6 === 0 ? 3 : nanos % 1e3 === 0 ? 6 : 9;
  const fraction = digits === 0 ? "" : `.${String(nanos).padStart(9, "0").slice(0, digits)}`;
  return `${base}${fraction}+00:00`;
}

// ---------------------------------------------------------------- JWKS

type JwksFetchErrors = {
  label: string;
  /** Convex's own JWKS fetch demands a JSON Content-Type in UTF-8; openidconnect's only rejects a wrong one. */
  strictContentType: boolean;
  unreachable(error: unknown): AuthVerificationError;
  status(status: number, body: string): AuthVerificationError;
  contentType(contentType: string, body: string): AuthVerificationError;
  invalidBody(): AuthVerificationError;
};

/** For OIDC the JWKS is part of discovery, so Convex reports its failures as discovery failures. */
function oidcFetchError(issuer: string): JwksFetchErrors {
  const failed = `Auth provider discovery of ${issuer} failed`;
  const error = (message: string) => new AuthVerificationError(message, "AuthProviderDiscoveryFailed");
  return {
    label: `oidc ${issuer}`,
    strictContentType: false,
    unreachable: () => error(failed),
    status: (status, body) => error(`${failed}: ${statusLine(status)} ${body}`),
    contentType: (_type, body) => error(`${failed}: ${statusLine(200)} ${body}`),
    invalidBody: () => error(failed),
  };
}

function customJwtFetchError(url: string): JwksFetchErrors {
  const error = (message: string) => new AuthVerificationError(message, "InvalidAuthHeader");
  const advice = "Check that the URL is correct and accessible.";
  return {
    label: "customJwt",
    strictContentType: true,
    unreachable: (cause) => error(`Could not fetch JWKS from URL '${url}': ${describe(cause)}. ${advice}`),
    status: (status) =>
      error(`Could not fetch JWKS from URL '${url}': HTTP ${statusLine(status)}. ${advice}`),
    contentType: (type) =>
      error(
        `Invalid Content-Type '${type}' when fetching JWKS from '${url}'. Expected 'application/json' or 'application/jwk-set+json'.`,
      ),
    invalidBody: () => invalidJwksBody(url),
  };
}

function invalidJwksBody(url: string): AuthVerificationError {
  return new AuthVerificationError(
    `Invalid JWKS response body from '${url}'. The response is not valid JSON or doesn't match the expected JWKS format.`,
    "InvalidAuthHeader",
  );
}

function parseJwks(body: string, url: string, onError?: JwksFetchErrors): JSONWebKeySet {
  let jwks: unknown;
  try {
    jwks = JSON.parse(body);
  } catch {
    throw onError?.invalidBody() ?? invalidJwksBody(url);
  }
  if (!isRecord(jwks) || !Array.isArray(jwks.keys) || !jwks.keys.every(isRecord)) {
    throw onError?.invalidBody() ?? invalidJwksBody(url);
  }
  return jwks as unknown as JSONWebKeySet;
}

/** Decodes `data:[<media type>][;base64],<data>`; Convex ignores the media type of data: URLs. */
function decodeDataUrl(url: string): string {
  const comma = url.indexOf(",");
  if (comma < 0) throw new AuthVerificationError(MESSAGES.invalidDataUrl, "InvalidAuthHeader");
  const meta = url.slice("data:".length, comma);
  let data: string;
  try {
    data = decodeURIComponent(url.slice(comma + 1));
  } catch {
    throw new AuthVerificationError(MESSAGES.invalidDataUrl, "InvalidAuthHeader");
  }
  if (!/;\s*base64\s*$/i.test(meta)) return data;
  const base64 = data.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64))
    throw new AuthVerificationError(MESSAGES.invalidDataUrl, "InvalidAuthHeader");
  return Buffer.from(base64, "base64").toString("utf8");
}

/** Maps jose's failure for a custom JWT to the message Convex's biscuit-based check gives. */
function customJwtFailure(error: unknown, kid: string): AuthVerificationError {
  if (error instanceof AuthVerificationError) return error;
  const now = Math.floor(Date.now() / 1000);
  if (error instanceof errors.JWTExpired && typeof error.payload.exp === "number") {
    return invalidToken(`Could not validate token: Token expired ${now - error.payload.exp} seconds ago`);
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    const nbf = error.payload.nbf;
    if (error.claim === "nbf" && typeof nbf === "number") {
      return invalidToken(`Could not validate token: Token will be valid in ${nbf - now} seconds`);
    }
    return invalidToken(`Could not validate token: ${error.message}`);
  }
  // Signature, algorithm and key-lookup failures all read the same in Convex.
  return invalidToken(
    `Could not decode token. The JWT's 'kid' (key ID) header is '${kid}', does this key match any key in the provider's JWKS?`,
  );
}

function invalidToken(message: string): AuthVerificationError {
  return new AuthVerificationError(message, "InvalidAuthHeader");
}

// ---------------------------------------------------------------- small helpers

function mediaTypeAllowed(response: Response, allowed: string[], strict: boolean): boolean {
  const header = response.headers.get("content-type");
  if (header === null) return !strict;
  const [essence = "", ...params] = header.split(";").map((part) => part.trim().toLowerCase());
  if (!allowed.includes(essence)) return false;
  if (!strict) return true;
  const charset = params.find((p) => p.startsWith("charset="));
  return charset === undefined || charset.replace(/^charset=/, "").replace(/"/g, "") === "utf-8";
}

/** Formats a status the way Rust's http::StatusCode displays it, e.g. `404 Not Found`. */
function statusLine(status: number): string {
  return `${status} ${STATUS_CODES[status] ?? "Unknown"}`;
}

function describe(error: unknown): string {
  if (error instanceof Error)
    return error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message;
  return String(error);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
