// Verifying a local account's email: a signed, expiring link (a JWT signed with the app's own
// RS256 key, for an audience no Convex provider trusts) carrying the account, the email and a
// single-use nonce that the account store keeps until the link is used or replaced.
import { importJWK, jwtVerify, SignJWT } from "jose";
import { SIGNING_ALGORITHM, type SigningKey } from "./keys.server";

/** Never "convex": a verification link must not work as a sign-in token, nor the other way round. */
export const VERIFICATION_AUDIENCE = "switchboard:verify-email";
export const VERIFICATION_TTL_MS = 24 * 60 * 60 * 1000;
export const VERIFY_EMAIL_PATH = "/verify-email";

export type VerificationClaims = { accountId: string; email: string; nonce: string };

/** The link to put in the email: `${issuer}/verify-email?token=…`. */
export async function verificationLink(
  key: SigningKey,
  issuer: string,
  claims: VerificationClaims,
  expiresAt: Date,
): Promise<string> {
  const token = await new SignJWT({ email: claims.email, nonce: claims.nonce })
    .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid: key.kid, typ: "JWT" })
    .setIssuer(issuer)
    .setAudience(VERIFICATION_AUDIENCE)
    .setSubject(claims.accountId)
    .setIssuedAt()
    .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
    .sign(key.privateKey);
  const url = new URL(VERIFY_EMAIL_PATH, issuer);
  url.searchParams.set("token", token);
  return url.toString();
}

/** The claims of a genuine, unexpired verification token from this app; null otherwise. */
export async function readVerificationToken(
  key: SigningKey,
  issuer: string,
  token: string,
): Promise<VerificationClaims | null> {
  if (!token || token.length > 4096) return null;
  try {
    const publicKey = await importJWK(key.publicJwk, SIGNING_ALGORITHM);
    const { payload } = await jwtVerify(token, publicKey, {
      issuer,
      audience: VERIFICATION_AUDIENCE,
      algorithms: [SIGNING_ALGORITHM],
    });
    if (
      typeof payload.sub !== "string" ||
      typeof payload.email !== "string" ||
      typeof payload.nonce !== "string"
    )
      return null;
    return { accountId: payload.sub, email: payload.email, nonce: payload.nonce };
  } catch {
    return null;
  }
}
