/**
 * Channel secrets at rest: AES-256-GCM with a random 96-bit IV, key from CHANNEL_SECRETS_KEY.
 * Stored as "v1:<key id>:<iv>:<ciphertext>" (base64url), so keys can be rotated: the key id is
 * the first 8 hex digits of the key's SHA-256, and CHANNEL_SECRETS_KEY_PREVIOUS may hold the old
 * key while stored secrets are re-encrypted (docs/operations.md).
 */
import { channelSecretsKey } from "../../env";

export type ChannelSecrets = Record<string, string>;

const PREFIX = "v1";

function fromBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

function toBase64Url(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Imported keys by their base64 text: every delivery slice's provider check decrypts secrets. */
const imported = new Map<string, Promise<{ key: CryptoKey; id: string }>>();

function importKey(base64Key: string): Promise<{ key: CryptoKey; id: string }> {
  let key = imported.get(base64Key);
  if (!key) {
    key = importKeyNow(base64Key);
    // A failure is not kept: the next call reports it again.
    key.catch(() => imported.delete(base64Key));
    imported.set(base64Key, key);
  }
  return key;
}

async function importKeyNow(base64Key: string): Promise<{ key: CryptoKey; id: string }> {
  const raw = fromBase64(base64Key.trim());
  if (raw.length !== 32) throw new Error("A channel secrets key must be 32 bytes, base64-encoded");
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", raw));
  const id = [...digest.slice(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join("");
  const key = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
  return { key, id };
}

/** Keys that can decrypt: the current one, and the previous one during a rotation. */
async function keys(): Promise<{ key: CryptoKey; id: string }[]> {
  const list = [await importKey(channelSecretsKey())];
  // eslint-disable-next-line @convex-dev/no-process-env -- rotation is the only other reader of a key
  const previous = process.env.CHANNEL_SECRETS_KEY_PREVIOUS?.trim();
  if (previous) list.push(await importKey(previous));
  return list;
}

export async function encryptSecrets(secrets: ChannelSecrets): Promise<string> {
  const [{ key, id }] = await keys();
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const plaintext = new TextEncoder().encode(JSON.stringify(secrets));
  const ciphertext = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, plaintext));
  return [PREFIX, id, toBase64Url(iv), toBase64Url(ciphertext)].join(":");
}

export async function decryptSecrets(stored: string): Promise<ChannelSecrets> {
  const [prefix, id, iv, ciphertext] = stored.split(":");
  if (prefix !== PREFIX || !id || !iv || !ciphertext) throw new Error("Unrecognised channel secrets format");
  const match = (await keys()).find((k) => k.id === id);
  if (!match) throw new Error(`No CHANNEL_SECRETS_KEY with id ${id} is configured`);
  const plaintext = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: fromBase64(iv) },
    match.key,
    fromBase64(ciphertext),
  );
  return JSON.parse(new TextDecoder().decode(plaintext)) as ChannelSecrets;
}

/** True when `stored` was encrypted under a key other than the current one (rotation pending). */
export async function isUnderOldKey(stored: string): Promise<boolean> {
  const [{ id }] = await keys();
  return stored.split(":")[1] !== id;
}

/** The last four characters of each secret, for display. */
export function secretHints(secrets: ChannelSecrets): Record<string, string> {
  return Object.fromEntries(Object.entries(secrets).map(([k, v]) => [k, v.length > 4 ? v.slice(-4) : ""]));
}
