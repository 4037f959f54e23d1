/**
 * Reconciliation of money: every wallet against its ledger (a mismatch is for a person: money is
 * never corrected silently), and reservations held past the deadline released with their entry.
 */
import type { Id } from "../../_generated/dataModel";
import type { MutationCtx } from "../../_generated/server";
import { reconciliationDeadlines } from "../../env";
import { release } from "../billing/charging";
import { checkWalletInvariant, type InvariantCarry } from "../billing/invariant";
import { toDecimalString } from "../billing/money";
import { Findings, type StepInput, type StepResult } from "./runs";

/** Ledger entries checked per batch (each also reads its key's index range). */
export const INVARIANT_PAGE = 500;
/** Reservations looked at per batch. */
export const RESERVATION_BATCH = 100;

type InvariantCursor = {
  /** The creation time of the last wallet finished; the next wallet comes after it. */
  after: number | null;
  current?: {
    tenantId: Id<"tenants">;
    created: number;
    page: string | null;
    carry: InvariantCarry;
    problems: string[];
  };
};

/**
 * One page of one wallet's ledger per batch (the check reads the ledger with one paginated query,
 * and a function may run only one), wallets in creation order; the running totals and the first
 * problems travel in the cursor. A wallet whose ledger does not add up is one finding for a person.
 */
export async function walletInvariantStep(ctx: MutationCtx, { cursor }: StepInput): Promise<StepResult> {
  const state: InvariantCursor = cursor ? (JSON.parse(cursor) as InvariantCursor) : { after: null };
  let current = state.current;
  if (!current) {
    const after = state.after;
    const wallet = await ctx.db
      .query("wallets")
      .withIndex("by_creation_time", (q) => (after === null ? q : q.gt("_creationTime", after)))
      .first();
    if (!wallet) return { findings: [], cursor: null };
    current = {
      tenantId: wallet.tenantId,
      created: wallet._creationTime,
      page: null,
      carry: { seq: 0, balance: 0, reserved: 0 },
      problems: [],
    };
  }
  const page = await checkWalletInvariant(ctx, current.tenantId, {
    cursor: current.page,
    carry: current.carry,
    pageSize: INVARIANT_PAGE,
  });
  const problems = [...current.problems, ...page.problems].slice(0, 5);
  if (!page.isDone) {
    const next: InvariantCursor = {
      after: state.after,
      current: { ...current, page: page.cursor, carry: page.carry, problems },
    };
    return { findings: [], cursor: JSON.stringify(next) };
  }
  const findings = new Findings();
  if (problems.length) {
    findings.add(
      `wallet of ${current.tenantId}`,
      "needs_person",
      `The ledger does not add up to the wallet (not corrected automatically): ${problems.join("; ")}`,
      current.tenantId,
    );
  }
  return {
    findings: findings.list,
    cursor: JSON.stringify({ after: current.created } satisfies InvariantCursor),
  };
}

/**
 * Open reservations older than the deadline (RECONCILE_RESERVATION_HOURS, default 48) are
 * released in full, with a `release` entry under `release-stale:<key>` (once per reservation).
 * Money is only ever freed here, never charged: a message of that reservation settled later is
 * charged without drawing on it (charges are never refused).
 */
export async function oldReservationsStep(ctx: MutationCtx, { cursor, now }: StepInput): Promise<StepResult> {
  const cutoff = now - reconciliationDeadlines().reservationMs;
  const page = await ctx.db
    .query("reservations")
    .withIndex("by_state_created", (q) => q.eq("state", "open").lt("createdAt", cutoff))
    .paginate({ cursor, numItems: RESERVATION_BATCH });
  const findings = new Findings();
  for (const reservation of page.page) {
    const age = Math.round((now - reservation.createdAt) / 3_600_000);
    const entry = await release(ctx, {
      tenantId: reservation.tenantId,
      reservationKey: reservation.key,
      key: `release-stale:${reservation.key}`,
      actor: { kind: "system", name: "reconciliation" },
    });
    const after = await ctx.db.get("reservations", reservation._id);
    if (entry && after?.state === "closed") {
      findings.add(
        reservation.key,
        "fixed",
        `Open for ${age} h (${reservation.referenceKind} ${reservation.referenceId}): released ${toDecimalString(-entry.reservedChange, 4)} of ${toDecimalString(reservation.amount, 4)}`,
        reservation.tenantId,
      );
    } else {
      findings.add(
        reservation.key,
        "needs_person",
        `Open for ${age} h with ${toDecimalString(reservation.remaining, 4)} remaining, and releasing it changed nothing (its release entry exists already)`,
        reservation.tenantId,
      );
    }
  }
  return { findings: findings.list, cursor: page.isDone ? null : page.continueCursor };
}
