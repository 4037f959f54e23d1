/**
 * Webhook signatures, checked over the exact bytes received (a re-serialised body would not
 * match: bodies carry `\u` escapes). WebCrypto only, so this runs in HTTP actions; the HMAC is
 * compared by `crypto.subtle.verify`, which compares in constant time.
 */

export type HmacAlgorithm = "SHA-256" | "SHA-512";

const encoder = new TextEncoder();

function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

/** Lower- or upper-case hex of exactly `bytes` bytes → bytes; anything else → null. */
function fromHex(hex: string, bytes: number): Uint8Array<ArrayBuffer> | null {
  if (hex.length !== bytes * 2 || !/^[0-9a-fA-F]+$/.test(hex)) return null;
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

const DIGEST_BYTES: Record<HmacAlgorithm, number> = { "SHA-256": 32, "SHA-512": 64 };

/**
 * Verify keys already imported, by algorithm and secret: every webhook of a number is checked with
 * the same one (importing it each time was a third of the check's cost). Held per process, at most
 * KEPT_KEYS; the secret in the map is the one the caller already holds in memory.
 */
const verifyKeys = new Map<string, Promise<CryptoKey>>();
const KEPT_KEYS = 256;

function importKey(secret: string, algorithm: HmacAlgorithm, usage: "sign" | "verify") {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: algorithm }, false, [
    usage,
  ]);
}

async function hmacKey(secret: string, algorithm: HmacAlgorithm, usage: "sign" | "verify") {
  if (usage === "sign") return await importKey(secret, algorithm, usage);
  const id = `${algorithm}\u0000${secret}`;
  let key = verifyKeys.get(id);
  if (!key) {
    if (verifyKeys.size >= KEPT_KEYS) verifyKeys.clear();
    key = importKey(secret, algorithm, usage);
    verifyKeys.set(id, key);
    key.catch(() => verifyKeys.delete(id));
  }
  return await key;
}

/** Hex HMAC of `body` — what a provider sends; used by tests and the simulator-facing helpers. */
export async function hmacHex(algorithm: HmacAlgorithm, secret: string, body: Uint8Array<ArrayBuffer>) {
  const key = await hmacKey(secret, algorithm, "sign");
  return toHex(new Uint8Array(await crypto.subtle.sign("HMAC", key, body)));
}

/** True when `hex` is the HMAC of `body` under `secret`. Never throws for a bad header. */
export async function verifyHmacHex(
  algorithm: HmacAlgorithm,
  secret: string,
  body: Uint8Array<ArrayBuffer>,
  hex: string,
): Promise<boolean> {
  if (!secret) return false;
  const signature = fromHex(hex.trim(), DIGEST_BYTES[algorithm]);
  if (!signature) return false;
  const key = await hmacKey(secret, algorithm, "verify");
  return await crypto.subtle.verify("HMAC", key, signature, body);
}

/** Cloud API: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`. */
export async function verifyCloudSignature(
  appSecret: string,
  body: Uint8Array<ArrayBuffer>,
  header: string | null,
): Promise<boolean> {
  if (!header) return false;
  const match = /^sha256=(.+)$/i.exec(header.trim());
  if (!match) return false;
  return await verifyHmacHex("SHA-256", appSecret, body, match[1]);
}

/**
 * WAHA: `X-Webhook-Hmac: <hex HMAC-SHA512(key, raw body)>`, with `X-Webhook-Hmac-Algorithm:
 * sha512`. Another announced algorithm is refused rather than guessed at.
 */
export async function verifyWahaSignature(
  key: string,
  body: Uint8Array<ArrayBuffer>,
  header: string | null,
  algorithmHeader: string | null,
): Promise<boolean> {
  if (!header) return false;
  if (algorithmHeader && algorithmHeader.trim().toLowerCase() !== "sha512") return false;
  return await verifyHmacHex("SHA-512", key, body, header);
}

/** Constant-time comparison of two strings (the verify token), by their UTF-8 bytes. */
export function timingSafeEqualStrings(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  let diff = x.length ^ y.length;
  const n = Math.max(x.length, y.length);
  for (let i = 0; i < n; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}
