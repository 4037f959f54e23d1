/**
 * Settling outbound messages against the ledger, in batches (docs/decisions/013-billing-batch-reservations.md).
 *
 * Status processing never touches the wallet: when a status brings a message's pricing (or an
 * unbilled failure of a message sent under a reservation) it marks the message `pending`, which
 * writes only the message. A job drains pending messages in batches, so however fast statuses
 * arrive, each wallet takes one write per batch, and writes for different tenants never meet.
 * The ledger key is per message (`msg:<channel>:<wamid>`): a replayed or reordered status, or a
 * second run of the job over the same message, charges nothing more.
 */
import { ConvexError } from "convex/values";
import type { Doc } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../../_generated/server";
import { addressesOf } from "../whatsapp/contacts";
import { bsuidCountry } from "../../shared/bsuid";
import { refund, settle, type SettleResult } from "./charging";
import { entryByKey } from "./ledger";

/** Messages settled per run; a run over a full batch schedules the next one straight away. */
export const SETTLE_BATCH = 25;

/** Recipients whose country cannot be told are priced at the rest-of-world rate. */
export const UNKNOWN_COUNTRY = "ZZ";

type Settleable = Pick<Doc<"messages">, "direction" | "status" | "pricing" | "settlement" | "reservationKey">;

/**
 * What a status patch adds to make the message due for settlement, or nothing: outbound
 * messages with pricing, and failed ones that hold a reservation share to give back. A message
 * already pending or settled is left alone (its key would charge it once anyway). A message
 * reconciliation estimated (no status came in time) is due again when a real status brings
 * pricing or a failure: settling it then replaces the estimate by the real charge, once.
 */
export function settlementPatch(
  message: Settleable,
  patch: Partial<Pick<Doc<"messages">, "status" | "pricing">>,
  at: number,
): Partial<Pick<Doc<"messages">, "settlement" | "pricedAt">> {
  if (message.direction !== "out") return {};
  if (message.settlement === "estimated") {
    return patch.pricing || patch.status === "failed" ? { settlement: "pending", pricedAt: at } : {};
  }
  if (message.settlement !== undefined) return {};
  const pricing = patch.pricing ?? message.pricing;
  const status = patch.status ?? message.status;
  if (pricing || (status === "failed" && message.reservationKey))
    return { settlement: "pending", pricedAt: at };
  return {};
}

/** The ledger key of a message's charge: one per message, whatever statuses it gets. */
export function messageKey(
  message: Pick<Doc<"messages">, "_id" | "channelId" | "providerMessageId">,
): string {
  return `msg:${message.channelId}:${message.providerMessageId ?? message._id}`;
}

/**
 * Where the message went, for the rate: the contact's E.164 number, else the country its
 * business-scoped user id was issued in (a person who hides their number), else unknown.
 */
export async function recipientPlace(
  ctx: QueryCtx,
  message: Doc<"messages">,
): Promise<{ phoneE164: string } | { country: string }> {
  const { phone, waId, bsuid } = await addressesOf(ctx, message.contactId);
  const e164 = phone ?? (waId ? `+${waId.replace(/\D/g, "")}` : null);
  if (e164) return { phoneE164: e164 };
  return { country: (bsuid && bsuidCountry(bsuid)) || UNKNOWN_COUNTRY };
}

export type SettleRun = { settled: number; charged: number; errors: number; more: boolean };

/** The ledger key of the estimate reconciliation charged for a message that had no status in time. */
export function estimateKey(message: Pick<Doc<"messages">, "_id" | "channelId" | "providerMessageId">) {
  return `estimate:${messageKey(message)}`;
}

/**
 * Settles one message; a price that cannot be found marks it `error` instead of failing the batch.
 * A message reconciliation already estimated gets its estimate refunded and the real pricing
 * charged, in this one mutation and each under its own key, so the difference is settled
 * exactly once; its reservation share was freed by the estimate and is not freed again.
 */
export async function settleMessage(
  ctx: MutationCtx,
  message: Doc<"messages">,
): Promise<SettleResult | null> {
  const place = await recipientPlace(ctx, message);
  const estimated = message.estimatedAt !== undefined;
  try {
    const result = await settle(ctx, {
      tenantId: message.tenantId,
      key: messageKey(message),
      reference: { kind: "message", id: message._id },
      actor: { kind: "system", name: "settlement" },
      pricing: message.pricing ?? null,
      at: message.pricedAt ?? message.statusAt,
      ...(message.reservationKey && !estimated ? { reservationKey: message.reservationKey } : {}),
      ...place,
    });
    if (estimated) {
      const estimate = await entryByKey(ctx, message.tenantId, estimateKey(message));
      if (estimate?.kind === "charge") {
        await refund(ctx, {
          tenantId: message.tenantId,
          chargeKey: estimate.key,
          actor: { kind: "system", name: "settlement" },
          reason: "The real pricing arrived: it replaces the estimate",
        });
      }
    }
    await ctx.db.patch("messages", message._id, { settlement: "settled", settlementError: undefined });
    return result;
  } catch (error) {
    // settle looks prices and reservations up before it writes, so these leave nothing behind.
    const data = error instanceof ConvexError ? (error.data as { code?: string; message?: string }) : null;
    if (data?.code !== "NO_RATE" && data?.code !== "NOT_FOUND" && data?.code !== "INVALID") throw error;
    await ctx.db.patch("messages", message._id, {
      settlement: "error",
      settlementError: data.message ?? data.code,
    });
    return null;
  }
}

/** One run of the settlement job: up to `limit` pending messages, oldest first. */
export async function settlePending(ctx: MutationCtx, limit = SETTLE_BATCH): Promise<SettleRun> {
  const due = await ctx.db
    .query("messages")
    .withIndex("by_settlement", (q) => q.eq("settlement", "pending"))
    .take(limit);
  const run: SettleRun = { settled: 0, charged: 0, errors: 0, more: due.length === limit };
  for (const message of due) {
    const result = await settleMessage(ctx, message);
    if (!result) run.errors++;
    else {
      run.settled++;
      if (result.status === "charged") run.charged++;
    }
  }
  return run;
}
