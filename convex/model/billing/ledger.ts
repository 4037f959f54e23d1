/**
 * The append-only ledger. Every change to a wallet is one entry written in the same mutation as
 * the wallet patch, under an idempotency key unique per tenant
 * (docs/decisions/012-billing-ledger.md).
 */
import type { PaginationOptions, PaginationResult } from "convex/server";
import { ConvexError } from "convex/values";
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../../_generated/server";
import { lowBalanceAfterEntry } from "./alerts";
import { add, assertMicros, type Micros } from "./money";
import { recordSpend } from "./spend";
import { campaignCostEntry } from "../campaigns/counters";
import type { Actor, ChargeDetail, LedgerKind, Reference } from "./tables";

export type NewEntry = {
  kind: LedgerKind;
  /** Change to the balance. */
  amount: Micros;
  /** Change to the reserved total. */
  reservedChange: Micros;
  key: string;
  reservationKey?: string;
  reference: Reference;
  actor: Actor;
  reason?: string;
  detail?: ChargeDetail;
};

/** The entry written under `key` for this tenant, if any. */
export async function entryByKey(
  ctx: QueryCtx,
  tenantId: Id<"tenants">,
  key: string,
): Promise<Doc<"ledgerEntries"> | null> {
  return await ctx.db
    .query("ledgerEntries")
    .withIndex("by_tenant_key", (q) => q.eq("tenantId", tenantId).eq("key", key))
    .first();
}

export function checkKey(key: string): string {
  const trimmed = key.trim();
  if (!trimmed || trimmed.length > 200) throw new Error("An idempotency key must be 1 to 200 characters");
  return trimmed;
}

/** A person's reason, trimmed; required whenever a person makes an entry. */
export function checkReason(actor: Actor, reason: string | undefined): string | undefined {
  const text = reason?.trim();
  if (actor.kind === "user" && (!text || text.length < 3)) {
    throw new ConvexError({
      code: "INVALID" as const,
      message: "Say why: a reason of at least 3 characters is required",
      field: "reason",
    });
  }
  if (text && text.length > 500) {
    throw new ConvexError({
      code: "INVALID" as const,
      message: "Keep the reason under 500 characters",
      field: "reason",
    });
  }
  return text || undefined;
}

/**
 * Writes one entry and moves the wallet by it, in the caller's mutation. The caller has already
 * looked the key up (`entryByKey`) and decided the entry is allowed; this checks the arithmetic.
 */
export async function appendEntry(
  ctx: MutationCtx,
  wallet: Doc<"wallets">,
  entry: NewEntry,
): Promise<{ entry: Doc<"ledgerEntries">; wallet: Doc<"wallets"> }> {
  assertMicros(entry.amount, "amount");
  assertMicros(entry.reservedChange, "reserved change");
  const balance = add(wallet.balance, entry.amount);
  const reserved = add(wallet.reserved, entry.reservedChange);
  if (reserved < 0) throw new Error(`The reserved total of a wallet cannot go below zero (${reserved})`);
  const now = Date.now();
  const seq = wallet.entryCount;
  const reason = checkReason(entry.actor, entry.reason);
  const id = await ctx.db.insert("ledgerEntries", {
    tenantId: wallet.tenantId,
    seq,
    kind: entry.kind,
    amount: entry.amount,
    reservedChange: entry.reservedChange,
    balanceAfter: balance,
    reservedAfter: reserved,
    key: checkKey(entry.key),
    ...(entry.reservationKey ? { reservationKey: entry.reservationKey } : {}),
    referenceKind: entry.reference.kind,
    referenceId: entry.reference.id,
    actor: entry.actor,
    ...(reason ? { reason } : {}),
    ...(entry.detail ? { detail: entry.detail } : {}),
    at: now,
  });
  const next = {
    balance,
    reserved,
    entryCount: seq + 1,
    updatedAt: now,
    ...(await lowBalanceAfterEntry(ctx, wallet, balance)),
  };
  await ctx.db.patch("wallets", wallet._id, next);
  const stored = (await ctx.db.get("ledgerEntries", id))!;
  // Charges and refunds also count in the day's spend rollup and, for a campaign's messages, in
  // the campaign's cost so far, in this same mutation.
  await recordSpend(ctx, stored);
  await campaignCostEntry(ctx, stored);
  return { entry: stored, wallet: { ...wallet, ...next } };
}

/** A tenant's entries, newest first, optionally of one kind. */
export async function listEntries(
  ctx: QueryCtx,
  tenantId: Id<"tenants">,
  { kind }: { kind?: LedgerKind },
  paginationOpts: PaginationOptions,
): Promise<PaginationResult<Doc<"ledgerEntries">>> {
  const entries = ctx.db.query("ledgerEntries");
  const query = kind
    ? entries.withIndex("by_tenant_kind_seq", (q) => q.eq("tenantId", tenantId).eq("kind", kind))
    : entries.withIndex("by_tenant_seq", (q) => q.eq("tenantId", tenantId));
  return await query.order("desc").paginate(paginationOpts);
}

/** Entries for one reference (a campaign, a message), oldest first, bounded. */
export async function entriesFor(
  ctx: QueryCtx,
  tenantId: Id<"tenants">,
  reference: Reference,
  limit = 500,
): Promise<Doc<"ledgerEntries">[]> {
  return await ctx.db
    .query("ledgerEntries")
    .withIndex("by_tenant_reference_seq", (q) =>
      q.eq("tenantId", tenantId).eq("referenceKind", reference.kind).eq("referenceId", reference.id),
    )
    .take(limit);
}
