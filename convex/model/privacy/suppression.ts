/**
 * Suppression of erased people who had opted out. Erasure removes the person's number with
 * everything else, but their "stop" must outlive it: the erasure keeps an HMAC-SHA-256 of the
 * E.164 number under a secret salt of the tenant (so the hash cannot be matched across tenants or
 * reversed by trying every number without the salt). When a contact is created again with that
 * number — an import, a new message, an agent typing it — it starts opted out, with a consent
 * event saying why. An explicit opt-in afterwards (START, an agent) counts as usual.
 */
import type { Id } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../../_generated/server";

function toHex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The number as hashed: E.164 digits with a leading "+" (WhatsApp ids are the same digits). */
export function normalisedNumber(phone: string): string | null {
  const digits = phone.replace(/[^\d]/g, "");
  return digits.length >= 6 ? `+${digits}` : null;
}

export async function suppressionHash(salt: string, phone: string): Promise<string | null> {
  const number = normalisedNumber(phone);
  if (!number) return null;
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(salt),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return toHex(new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(number))));
}

async function saltOf(ctx: QueryCtx, tenantId: Id<"tenants">): Promise<string | null> {
  const row = await ctx.db
    .query("privacySalts")
    .withIndex("by_tenant", (q) => q.eq("tenantId", tenantId))
    .first();
  return row?.salt ?? null;
}

async function ensureSalt(ctx: MutationCtx, tenantId: Id<"tenants">): Promise<string> {
  const existing = await saltOf(ctx, tenantId);
  if (existing) return existing;
  const salt = toHex(crypto.getRandomValues(new Uint8Array(32)));
  await ctx.db.insert("privacySalts", { tenantId, salt });
  return salt;
}

/** The suppression for this number in the tenant, if an erased person with it had opted out. */
export async function findSuppression(ctx: QueryCtx, tenantId: Id<"tenants">, phone: string) {
  const salt = await saltOf(ctx, tenantId);
  // A tenant that never erased anyone has no salt and nothing to find: no hashing on hot paths.
  if (!salt) return null;
  const hash = await suppressionHash(salt, phone);
  if (!hash) return null;
  return await ctx.db
    .query("suppressions")
    .withIndex("by_tenant_hash", (q) => q.eq("tenantId", tenantId).eq("hash", hash))
    .first();
}

/**
 * Records (or, when the person was subscribed, lifts) the suppression of a number being erased.
 * Returns whether a suppression now stands.
 */
export async function keepSuppression(
  ctx: MutationCtx,
  tenantId: Id<"tenants">,
  phone: string,
  scope: "all" | "marketing" | null,
): Promise<boolean> {
  if (!normalisedNumber(phone)) return false;
  const salt = await ensureSalt(ctx, tenantId);
  const hash = (await suppressionHash(salt, phone))!;
  const existing = await ctx.db
    .query("suppressions")
    .withIndex("by_tenant_hash", (q) => q.eq("tenantId", tenantId).eq("hash", hash))
    .first();
  if (!scope) {
    if (existing) await ctx.db.delete("suppressions", existing._id);
    return false;
  }
  if (existing) await ctx.db.patch("suppressions", existing._id, { scope, at: Date.now() });
  else await ctx.db.insert("suppressions", { tenantId, hash, scope, at: Date.now() });
  return true;
}

/**
 * Applies a standing suppression to a contact that has just got this number (created by an
 * import or a message, or edited by a person): it becomes opted out, with a consent event. A
 * contact already opted out is left as it is.
 */
export async function applySuppression(
  ctx: MutationCtx,
  tenantId: Id<"tenants">,
  contactId: Id<"contacts">,
  phone: string | undefined,
): Promise<boolean> {
  if (!phone) return false;
  const suppression = await findSuppression(ctx, tenantId, phone);
  if (!suppression) return false;
  const contact = await ctx.db.get("contacts", contactId);
  if (!contact || contact.tenantId !== tenantId) return false;
  const field = suppression.scope === "all" ? "optedOutAt" : "marketingOptedOutAt";
  if (contact[field] !== undefined) return false;
  const at = Date.now();
  await ctx.db.patch("contacts", contactId, { [field]: at });
  await ctx.db.insert("consentEvents", {
    tenantId,
    contactId,
    kind: "opt_out",
    source: "suppression",
    ...(suppression.scope === "marketing" ? { scope: "marketing" as const } : {}),
    at,
  });
  return true;
}
