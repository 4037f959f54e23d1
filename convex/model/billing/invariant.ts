/**
 * The wallet invariant, checked a page at a time so it works on ledgers of any length: entries are
 * numbered without gaps, each entry's totals follow from the one before, every key is unique, and
 * at the end the wallet equals the last totals and its reserved total equals the open reservations.
 */
import type { Id } from "../../_generated/dataModel";
import type { QueryCtx } from "../../_generated/server";
import { add } from "./money";

export type InvariantCarry = { seq: number; balance: number; reserved: number };

export type InvariantPage = {
  ok: boolean;
  problems: string[];
  isDone: boolean;
  cursor: string | null;
  carry: InvariantCarry;
};

export async function checkWalletInvariant(
  ctx: QueryCtx,
  tenantId: Id<"tenants">,
  {
    cursor = null,
    carry = { seq: 0, balance: 0, reserved: 0 },
    pageSize = 1000,
  }: {
    cursor?: string | null;
    carry?: InvariantCarry;
    pageSize?: number;
  } = {},
): Promise<InvariantPage> {
  const problems: string[] = [];
  const page = await ctx.db
    .query("ledgerEntries")
    .withIndex("by_tenant_seq", (q) => q.eq("tenantId", tenantId))
    .paginate({ cursor, numItems: pageSize });
  let { seq, balance, reserved } = carry;
  for (const entry of page.page) {
    if (entry.seq !== seq) problems.push(`entry ${entry._id} has seq ${entry.seq}, expected ${seq}`);
    balance = add(balance, entry.amount);
    reserved = add(reserved, entry.reservedChange);
    if (entry.balanceAfter !== balance) {
      problems.push(`entry ${entry.seq}: balance after ${entry.balanceAfter}, entries add up to ${balance}`);
    }
    if (entry.reservedAfter !== reserved) {
      problems.push(
        `entry ${entry.seq}: reserved after ${entry.reservedAfter}, entries add up to ${reserved}`,
      );
    }
    const sameKey = await ctx.db
      .query("ledgerEntries")
      .withIndex("by_tenant_key", (q) => q.eq("tenantId", tenantId).eq("key", entry.key))
      .take(2);
    if (sameKey.length > 1) problems.push(`key "${entry.key}" is used by more than one entry`);
    seq = entry.seq + 1;
  }
  if (page.isDone) {
    const wallet = await ctx.db
      .query("wallets")
      .withIndex("by_tenant", (q) => q.eq("tenantId", tenantId))
      .unique();
    const open = await ctx.db
      .query("reservations")
      .withIndex("by_tenant_state", (q) => q.eq("tenantId", tenantId).eq("state", "open"))
      .take(10_000);
    const held = open.reduce((total, r) => add(total, r.remaining), 0);
    if (!wallet) {
      if (seq > 0) problems.push("the ledger has entries but there is no wallet");
    } else {
      if (wallet.balance !== balance)
        problems.push(`wallet balance ${wallet.balance} ≠ sum of entries ${balance}`);
      if (wallet.reserved !== reserved) {
        problems.push(`wallet reserved ${wallet.reserved} ≠ sum of reservation entries ${reserved}`);
      }
      if (wallet.reserved !== held)
        problems.push(`wallet reserved ${wallet.reserved} ≠ open reservations ${held}`);
      if (wallet.entryCount !== seq)
        problems.push(`wallet counts ${wallet.entryCount} entries, ledger has ${seq}`);
    }
  }
  return {
    ok: problems.length === 0,
    problems,
    isDone: page.isDone,
    cursor: page.isDone ? null : page.continueCursor,
    carry: { seq, balance, reserved },
  };
}
