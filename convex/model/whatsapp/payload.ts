/**
 * Reading provider JSON safely: typed field readers that fail with a clear MalformedPayloadError
 * (answered 400), stable hashes for dedupe keys, and making values storable in Convex.
 */

/** The body is not the provider's envelope: the sender gets 400 and nothing is stored. */
export class MalformedPayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MalformedPayloadError";
  }
}

/** Processing this event again cannot succeed (it is dead-lettered at once, see process.ts). */
export class PermanentEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PermanentEventError";
  }
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: unknown };

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function object(value: unknown, where: string): JsonObject {
  if (!isObject(value)) throw new MalformedPayloadError(`${where} must be an object`);
  return value;
}

export function array(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new MalformedPayloadError(`${where} must be an array`);
  return value;
}

export function optionalArray(value: unknown, where: string): unknown[] {
  return value === undefined || value === null ? [] : array(value, where);
}

export function string(value: unknown, where: string): string {
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  if (typeof value !== "string" || value.length === 0) {
    throw new MalformedPayloadError(`${where} must be a non-empty string`);
  }
  return value;
}

export function optionalString(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}

/** A number sent as a number or a numeric string (Meta does both). */
export function number(value: unknown, where: string): number {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isFinite(n)) {
    throw new MalformedPayloadError(`${where} must be a number`);
  }
  return n;
}

export function optionalNumber(value: unknown): number | undefined {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  return typeof n === "number" && Number.isFinite(n) ? n : undefined;
}

export function optionalBoolean(value: unknown): boolean | undefined {
  return typeof value === "boolean" ? value : undefined;
}

/** Unix seconds (number or string) → milliseconds. */
export function secondsToMs(value: unknown, where: string): number {
  return Math.round(number(value, where) * 1000);
}

/**
 * A timestamp that may be seconds or milliseconds → milliseconds. Anything below 10^11 is
 * seconds (10^11 ms is 1973; 10^11 s is the year 5138).
 */
export function toMs(value: unknown, where: string): number {
  const n = number(value, where);
  return Math.round(n < 1e11 ? n * 1000 : n);
}

/** Drops undefined fields (Convex values have no undefined), shallowly. */
export function compact<T extends Record<string, unknown>>(value: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = v;
  return out as T;
}

/**
 * A copy of provider data that Convex can store: field names starting with "$", or holding
 * characters outside printable ASCII, are escaped (Convex refuses them), undefined dropped,
 * nesting and size bounded.
 */
export function convexSafe(value: unknown, depth = 0): Json | undefined {
  if (value === null) return null;
  if (typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value);
  if (depth > 12) return JSON.stringify(value) ?? null;
  if (Array.isArray(value)) {
    return value.map((item) => convexSafe(item, depth + 1) ?? null);
  }
  if (isObject(value)) {
    const out: { [key: string]: Json } = {};
    for (const [key, item] of Object.entries(value)) {
      const safe = convexSafe(item, depth + 1);
      if (safe !== undefined) out[safeFieldName(key)] = safe;
    }
    return out;
  }
  return undefined;
}

function safeFieldName(key: string): string {
  let name = /^[\x20-\x7e]+$/.test(key) ? key : encodeURIComponent(key) || "_empty";
  if (name.startsWith("$")) name = `_${name}`;
  return name.length > 1024 ? name.slice(0, 1024) : name;
}

const RAW_LIMIT = 64 * 1024;

/** Provider data kept as-is for events we do not interpret: JSON text, bounded in size. */
export function rawForStorage(value: unknown): string {
  const text = JSON.stringify(value) ?? "null";
  return text.length > RAW_LIMIT
    ? `${text.slice(0, RAW_LIMIT)}… (${text.length} characters, truncated)`
    : text;
}

/** A stable 64-bit hash of a string (two 32-bit lanes), as 16 hex digits: dedupe keys for opaque events. */
export function stableHash(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (h2 >>> 0).toString(16).padStart(8, "0") + (h1 >>> 0).toString(16).padStart(8, "0");
}

/** Digits only, e.g. for "+1 555-078-3881" → "15550783881". */
export function digits(value: string): string {
  return value.replace(/\D/g, "");
}

/** E.164 from a WhatsApp number written with or without "+" and separators. */
export function e164(value: string): string | undefined {
  const d = digits(value);
  return d.length >= 6 && d.length <= 15 ? `+${d}` : undefined;
}
