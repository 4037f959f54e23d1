/**
 * The charging API other features call, inside their own mutations: reserve before sending,
 * settle from the provider's pricing, release what was not spent, meter AI tokens, and the
 * platform's top-ups and adjustments. Every call carries an idempotency key: the same key again
 * returns the first result and writes nothing (docs/decisions/012-billing-ledger.md, 013-…).
 */
import { ConvexError } from "convex/values";
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../../_generated/server";
import { modelPriceInForce, tokenCost } from "./aiPrices";
import { appendEntry, checkKey, entryByKey } from "./ledger";
import { add, assertMicros, sub, toDecimalString, type Micros } from "./money";
import { normaliseCategory, priceFor, type Recipient } from "./rates";
import type { Actor, Reference } from "./tables";
import { available, DEFAULT_DEBT_LIMIT, ensureWallet, getWallet } from "./wallet";

const SYSTEM: Actor = { kind: "system", name: "billing" };

type Base = { tenantId: Id<"tenants">; key: string; reference: Reference; actor?: Actor };

function insufficient(wallet: Pick<Doc<"wallets">, "currency">, shortBy: Micros): never {
  throw new ConvexError({
    code: "INSUFFICIENT_CREDITS" as const,
    message:
      `Not enough credits: this needs ${toDecimalString(shortBy, 2)} ${wallet.currency} more than ` +
      "the balance and debt limit allow. A platform admin can add credits.",
  });
}

function positive(amount: Micros, what: string): Micros {
  assertMicros(amount, what);
  if (amount <= 0)
    throw new ConvexError({ code: "INVALID" as const, message: `${what} must be more than zero` });
  return amount;
}

/** Whether spending `amount` now keeps `available` at or above −debtLimit. */
function fits(wallet: Pick<Doc<"wallets">, "balance" | "reserved" | "debtLimit">, amount: Micros): Micros {
  // How far past the limit the spend would go; ≤ 0 means it fits.
  return sub(-wallet.debtLimit, sub(available(wallet), amount));
}

/**
 * The credit guard before work that will cost money (an AI call, a send): throws
 * `INSUFFICIENT_CREDITS` unless `amount` fits within the balance and debt limit. Reads only.
 */
export async function assertCanSpend(
  ctx: QueryCtx,
  tenantId: Id<"tenants">,
  amount: Micros = 0,
): Promise<void> {
  const wallet = (await getWallet(ctx, tenantId)) ?? {
    balance: 0,
    reserved: 0,
    debtLimit: DEFAULT_DEBT_LIMIT,
    currency: (await ctx.db.get("tenants", tenantId))?.currency ?? "",
  };
  const over = fits(wallet, assertMicros(amount));
  if (over > 0 || (amount === 0 && available(wallet) < -wallet.debtLimit))
    insufficient(wallet, Math.max(over, 1));
}

export async function reservationByKey(
  ctx: QueryCtx,
  tenantId: Id<"tenants">,
  key: string,
): Promise<Doc<"reservations"> | null> {
  return await ctx.db
    .query("reservations")
    .withIndex("by_tenant_key", (q) => q.eq("tenantId", tenantId).eq("key", key))
    .first();
}

async function requireReservation(ctx: QueryCtx, tenantId: Id<"tenants">, key: string) {
  const reservation = await reservationByKey(ctx, tenantId, key);
  if (!reservation) throw new ConvexError({ code: "NOT_FOUND" as const, message: `No reservation "${key}"` });
  return reservation;
}

/**
 * Holds `amount` for sends not yet priced: one message, or a campaign's dispatch batch with
 * `perItem` set to one message's estimate. Refuses with `INSUFFICIENT_CREDITS`, writing nothing,
 * when `available` would fall below −debtLimit; exactly at −debtLimit passes. The key names the
 * reservation for `settle` and `release`.
 */
export async function reserve(
  ctx: MutationCtx,
  args: Base & { amount: Micros; perItem?: Micros },
): Promise<{ entry: Doc<"ledgerEntries">; reservation: Doc<"reservations">; duplicate: boolean }> {
  const key = checkKey(args.key);
  const existing = await entryByKey(ctx, args.tenantId, key);
  if (existing) {
    const reservation = await requireReservation(ctx, args.tenantId, existing.reservationKey ?? key);
    return { entry: existing, reservation, duplicate: true };
  }
  const amount = positive(args.amount, "A reservation");
  if (args.perItem !== undefined) positive(args.perItem, "A batch's amount per message");
  const wallet = await ensureWallet(ctx, args.tenantId);
  const over = fits(wallet, amount);
  if (over > 0) insufficient(wallet, over);
  const now = Date.now();
  const id = await ctx.db.insert("reservations", {
    tenantId: args.tenantId,
    key,
    amount,
    remaining: amount,
    ...(args.perItem !== undefined ? { perItem: args.perItem } : {}),
    referenceKind: args.reference.kind,
    referenceId: args.reference.id,
    state: "open",
    createdAt: now,
  });
  const { entry } = await appendEntry(ctx, wallet, {
    kind: "reservation",
    amount: 0,
    reservedChange: amount,
    key,
    reservationKey: key,
    reference: args.reference,
    actor: args.actor ?? SYSTEM,
  });
  return { entry, reservation: (await ctx.db.get("reservations", id))!, duplicate: false };
}

/** Takes `amount` off a reservation, closing it when nothing remains. */
async function drawDown(ctx: MutationCtx, reservation: Doc<"reservations">, amount: Micros) {
  if (amount === 0) return;
  const remaining = sub(reservation.remaining, amount);
  await ctx.db.patch("reservations", reservation._id, {
    remaining,
    ...(remaining === 0 ? { state: "closed" as const, closedAt: Date.now() } : {}),
  });
}

/** How much of a reservation one settled message frees: its share of a batch, or all of a single one. */
function shareOf(reservation: Doc<"reservations"> | null, share: Micros | undefined): Micros {
  if (!reservation || reservation.state === "closed") return 0;
  const wanted = share ?? reservation.perItem ?? reservation.remaining;
  return Math.min(assertMicros(wanted, "share"), reservation.remaining);
}

/**
 * Releases what is left of a reservation (or `amount` of it) back to `available`. Releasing a
 * closed or empty reservation writes nothing. The key defaults to one per reservation, so a
 * full release happens once.
 */
export async function release(
  ctx: MutationCtx,
  args: Omit<Base, "reference" | "key"> & { reservationKey: string; amount?: Micros; key?: string },
): Promise<Doc<"ledgerEntries"> | null> {
  if (args.amount !== undefined && args.key === undefined) {
    throw new Error("A partial release needs its own idempotency key");
  }
  const key = checkKey(args.key ?? `release:${args.reservationKey}`);
  const existing = await entryByKey(ctx, args.tenantId, key);
  if (existing) return existing;
  const reservation = await requireReservation(ctx, args.tenantId, args.reservationKey);
  const amount = shareOf(reservation, args.amount ?? reservation.remaining);
  if (amount === 0) return null;
  const wallet = await ensureWallet(ctx, args.tenantId);
  const { entry } = await appendEntry(ctx, wallet, {
    kind: "release",
    amount: 0,
    reservedChange: -amount,
    key,
    reservationKey: reservation.key,
    reference: { kind: reservation.referenceKind, id: reservation.referenceId },
    actor: args.actor ?? SYSTEM,
  });
  await drawDown(ctx, reservation, amount);
  return entry;
}

/** The pricing object of a status webhook (whatsapp.md): `type` + `category`; `billable` is deprecated. */
export type ProviderPricing = { type?: string; category?: string; billable?: boolean; model?: string };

/**
 * The category to charge, or null when the message is free. `type` decides when present
 * ("regular" is charged, "free_customer_service" and "free_entry_point" are not); `billable` is
 * read only when a provider sends no `type`.
 */
export function chargedCategory(pricing: ProviderPricing | null | undefined): string | null {
  if (!pricing) return null;
  const type = pricing.type?.trim().toLowerCase();
  const charged = type ? type === "regular" || type === "paid" : pricing.billable !== false;
  if (!charged) return null;
  return pricing.category ?? "unknown";
}

export type SettleArgs = Base &
  Recipient & {
    /** The reservation this message was sent under, if any. */
    reservationKey?: string;
    /** How much of the reservation this message frees (default: its per-message share, or all). */
    share?: Micros;
    /** The provider's pricing; absent for a failed message that was not billed. */
    pricing?: ProviderPricing | null;
    /** When the message was sent or delivered: the rate in force then applies. */
    at: number;
    /** Charged from the rate card's guess, not from pricing the provider reported (reconciliation). */
    estimated?: boolean;
  };

export type SettleResult = {
  status: "charged" | "released" | "free" | "duplicate";
  entry: Doc<"ledgerEntries"> | null;
};

/**
 * Settles one message from the pricing its status webhook reports: charged at the reported
 * category's rate (plus the tenant's markup), freeing the message's share of its reservation in
 * the same entry; free or failed-unbilled messages only free their share. A charge is never
 * refused (the message has been sent); prices are looked up before anything is written, so a
 * `NO_RATE` error leaves no trace. Call it with one key per message (e.g. `msg:<wamid>`): every
 * later status of the same message, replays and reorderings included, then changes nothing.
 */
export async function settle(ctx: MutationCtx, args: SettleArgs): Promise<SettleResult> {
  const key = checkKey(args.key);
  const existing = await entryByKey(ctx, args.tenantId, key);
  if (existing) return { status: "duplicate", entry: existing };
  const category = chargedCategory(args.pricing);
  const reservation = args.reservationKey
    ? await requireReservation(ctx, args.tenantId, args.reservationKey)
    : null;
  const freed = shareOf(reservation, args.share);
  const wallet = await ensureWallet(ctx, args.tenantId);
  const actor = args.actor ?? SYSTEM;
  const common = {
    key,
    ...(reservation ? { reservationKey: reservation.key } : {}),
    reference: args.reference,
    actor,
  };

  if (category === null) {
    if (freed === 0) return { status: "free", entry: null };
    const { entry } = await appendEntry(ctx, wallet, {
      kind: "release",
      amount: 0,
      reservedChange: -freed,
      ...common,
    });
    await drawDown(ctx, reservation!, freed);
    return { status: "released", entry };
  }

  const recipient: Recipient =
    args.phoneE164 !== undefined ? { phoneE164: args.phoneE164 } : { country: args.country! };
  const quote = await priceFor(ctx, {
    ...recipient,
    currency: wallet.currency,
    category,
    at: args.at,
    markupBps: wallet.markupBps,
  });
  const { entry } = await appendEntry(ctx, wallet, {
    kind: "charge",
    amount: -quote.amount,
    reservedChange: -freed,
    ...common,
    detail: {
      category: normaliseCategory(category) ?? category,
      country: quote.country,
      market: quote.market,
      rateId: quote.rate._id,
      rateMarket: quote.rate.market,
      base: quote.base,
      markupBps: quote.markupBps,
      source: args.estimated ? `estimate without status; ${quote.rate.source}` : quote.rate.source,
      estimate: quote.estimate || args.estimated === true,
    },
  });
  if (reservation) await drawDown(ctx, reservation, freed);
  return { status: "charged", entry };
}

/**
 * Settles many messages in one mutation: one wallet write for the whole batch instead of one
 * per message, which is what keeps a campaign's status storm off the wallet document.
 */
export async function settleMany(ctx: MutationCtx, items: SettleArgs[]): Promise<SettleResult[]> {
  const results: SettleResult[] = [];
  for (const item of items) results.push(await settle(ctx, item));
  return results;
}

/** Charges an AI turn's tokens at the model's price in force at `at`. Never refused (see assertCanSpend). */
export async function meter(
  ctx: MutationCtx,
  args: Base & { model: string; inputTokens: number; outputTokens: number; at: number },
): Promise<Doc<"ledgerEntries">> {
  const key = checkKey(args.key);
  const existing = await entryByKey(ctx, args.tenantId, key);
  if (existing) return existing;
  const wallet = await ensureWallet(ctx, args.tenantId);
  const price = await modelPriceInForce(ctx, wallet.currency, args.model, args.at);
  const cost = tokenCost(price, args.inputTokens, args.outputTokens);
  const { entry } = await appendEntry(ctx, wallet, {
    kind: "charge",
    amount: -cost,
    reservedChange: 0,
    key,
    reference: args.reference,
    actor: args.actor ?? SYSTEM,
    detail: {
      model: args.model,
      inputTokens: args.inputTokens,
      outputTokens: args.outputTokens,
      source: price.source,
      estimate: price.estimate,
    },
  });
  return entry;
}

/** Adds credits (a platform admin's grant; payment gateways are out of scope). */
export async function topUp(
  ctx: MutationCtx,
  args: Omit<Base, "reference"> & { amount: Micros; reason?: string; reference?: Reference },
): Promise<{ entry: Doc<"ledgerEntries">; duplicate: boolean }> {
  const key = checkKey(args.key);
  const existing = await entryByKey(ctx, args.tenantId, key);
  if (existing) return { entry: existing, duplicate: true };
  const amount = positive(args.amount, "A top-up");
  const wallet = await ensureWallet(ctx, args.tenantId);
  const { entry } = await appendEntry(ctx, wallet, {
    kind: "top_up",
    amount,
    reservedChange: 0,
    key,
    reference: args.reference ?? { kind: "admin", id: key },
    actor: args.actor ?? SYSTEM,
    reason: args.reason,
  });
  return { entry, duplicate: false };
}

/** Corrects a balance up or down, with a reason (platform admins). Not limited by the debt limit. */
export async function adjust(
  ctx: MutationCtx,
  args: Omit<Base, "reference" | "actor"> & {
    amount: Micros;
    actor: Actor;
    reason: string;
    reference?: Reference;
  },
): Promise<{ entry: Doc<"ledgerEntries">; duplicate: boolean }> {
  const key = checkKey(args.key);
  const existing = await entryByKey(ctx, args.tenantId, key);
  if (existing) return { entry: existing, duplicate: true };
  assertMicros(args.amount, "An adjustment");
  if (args.amount === 0)
    throw new ConvexError({ code: "INVALID" as const, message: "An adjustment cannot be zero" });
  const wallet = await ensureWallet(ctx, args.tenantId);
  const { entry } = await appendEntry(ctx, wallet, {
    kind: "adjustment",
    amount: args.amount,
    reservedChange: 0,
    key,
    reference: args.reference ?? { kind: "admin", id: key },
    actor: args.actor,
    reason: args.reason,
  });
  return { entry, duplicate: false };
}

/**
 * Gives back all or part of an earlier charge, once per key (by default one refund per charge).
 * The refund never exceeds the charge.
 */
export async function refund(
  ctx: MutationCtx,
  args: Omit<Base, "reference" | "key"> & {
    chargeKey: string;
    amount?: Micros;
    key?: string;
    reason?: string;
  },
): Promise<Doc<"ledgerEntries">> {
  const key = checkKey(args.key ?? `refund:${args.chargeKey}`);
  const existing = await entryByKey(ctx, args.tenantId, key);
  if (existing) return existing;
  const charge = await entryByKey(ctx, args.tenantId, args.chargeKey);
  if (!charge || charge.kind !== "charge") {
    throw new ConvexError({ code: "NOT_FOUND" as const, message: `No charge "${args.chargeKey}" to refund` });
  }
  const amount = positive(args.amount ?? -charge.amount, "A refund");
  if (amount > -charge.amount) {
    throw new ConvexError({ code: "INVALID" as const, message: "A refund cannot exceed the charge" });
  }
  const wallet = await ensureWallet(ctx, args.tenantId);
  const { entry } = await appendEntry(ctx, wallet, {
    kind: "refund",
    amount,
    reservedChange: 0,
    key,
    reference: { kind: charge.referenceKind, id: charge.referenceId },
    actor: args.actor ?? SYSTEM,
    reason: args.reason,
    detail: { refundOf: charge.key },
  });
  return entry;
}

/** What a reference (a campaign, a message, a turn) has cost so far, net of refunds. */
export function netCost(entries: Pick<Doc<"ledgerEntries">, "kind" | "amount">[]): Micros {
  let total = 0;
  for (const e of entries) if (e.kind === "charge" || e.kind === "refund") total = add(total, -e.amount);
  return total;
}
