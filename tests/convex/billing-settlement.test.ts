/**
 * Status webhooks → ledger: the processing marks priced messages, the settlement job charges
 * them once, in batches, and low-balance alerts follow the balance.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { adjust, reserve, topUp } from "../../convex/model/billing/charging";
import { lowBalanceCrossing } from "../../convex/model/billing/alerts";
import { SETTLE_BATCH } from "../../convex/model/billing/settlement";
import { errorOf, setup, type T } from "./factories";
import { inTx, invariant, walletOf } from "./billing-helpers";
import {
  cloud,
  OUT_WAMID,
  outbound,
  postCloud,
  settle as drain,
  stubWhatsAppEnv,
  signedInAs,
  world,
  type World,
} from "./whatsapp-helpers";

/** 2026-08-15: the fixtures' 2024 times moved to a date the seeded rate card covers. */
const AUG = Date.parse("2026-08-15T10:00:00Z") / 1000;
const FIXTURE_T0 = 1717430500;

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2026-08-15T12:00:00Z"));
  stubWhatsAppEnv();
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

/** A Cloud status fixture with its times moved to 2026 and, if given, another wamid. */
function status(name: string, options: { wamid?: string; pricing?: string } = {}): string {
  let body = cloud(name).replace(/"timestamp": "(\d+)"/g, (_m, ts: string) => {
    return `"timestamp": "${AUG + (Number(ts) - FIXTURE_T0)}"`;
  });
  if (options.wamid) body = body.replaceAll(OUT_WAMID, options.wamid);
  if (options.pricing) body = body.replace(/"type": "regular"/, `"type": "${options.pricing}"`);
  return body;
}

async function fresh(): Promise<{ t: T; w: World }> {
  const { t } = setup();
  await t.mutation(internal.billing.seedRates, {});
  return { t, w: await world(t) };
}

const message = (t: T, id: Id<"messages">) => t.run((ctx) => ctx.db.get("messages", id));
const ledger = (t: T, tenantId: Id<"tenants">) =>
  t.run((ctx) =>
    ctx.db
      .query("ledgerEntries")
      .withIndex("by_tenant_seq", (q) => q.eq("tenantId", tenantId))
      .collect(),
  );
const runJob = (t: T) => t.mutation(internal.billing.settlePending, {});

describe("settling messages from status webhooks", () => {
  it("charges a message once, at the reported category's rate, however often and in whatever order its statuses come", async () => {
    const { t, w } = await fresh();
    const id = await outbound(t, w, { providerMessageId: OUT_WAMID, status: "sending" });
    // delivered (with pricing) before sent, then replays of both, then read.
    await postCloud(t, status("status-delivered"));
    await postCloud(t, status("status-sent"));
    await postCloud(t, status("status-sent"));
    await postCloud(t, status("status-delivered"));
    await drain(t);
    // Processing wrote only the message: no wallet, no entry yet.
    expect(await ledger(t, w.tenantId)).toEqual([]);
    expect(await t.run((ctx) => ctx.db.query("wallets").collect())).toEqual([]);
    expect(await message(t, id)).toMatchObject({ status: "delivered", settlement: "pending" });

    expect(await runJob(t)).toEqual({ settled: 1, charged: 1, errors: 0, more: false });
    const [charge] = await ledger(t, w.tenantId);
    // +1 650… is in North America; EUR marketing there from 2026-07-01 is 0.0207.
    expect(charge).toMatchObject({
      kind: "charge",
      amount: -20_700,
      key: `msg:${w.cloudChannelId}:${OUT_WAMID}`,
      referenceKind: "message",
      referenceId: id,
      actor: { kind: "system", name: "settlement" },
      detail: { category: "marketing", country: "US", market: "north_america" },
    });
    expect(await message(t, id)).toMatchObject({ settlement: "settled" });

    // Later statuses and replays, and another run of the job, charge nothing more.
    await postCloud(t, status("status-read"));
    await postCloud(t, status("status-sent"));
    await drain(t);
    expect(await runJob(t)).toEqual({ settled: 0, charged: 0, errors: 0, more: false });
    expect(await ledger(t, w.tenantId)).toHaveLength(1);
    expect((await walletOf(t, w.tenantId)).balance).toBe(-20_700);
    expect((await invariant(t, w.tenantId)).ok).toBe(true);
  });

  it("settles a free message without an entry, and gives an unbilled failure's reservation share back", async () => {
    const { t, w } = await fresh();
    const free = OUT_WAMID.replace("ARG", "ARH");
    const failedWamid = OUT_WAMID.replace("ARG", "ARF");
    const freeId = await outbound(t, w, { providerMessageId: free, status: "sending" });
    const failedId = await outbound(t, w, { providerMessageId: failedWamid, status: "sending" });
    await inTx(t, async (ctx) => {
      await topUp(ctx, { tenantId: w.tenantId, amount: 1_000_000, key: "grant" });
      await reserve(ctx, {
        tenantId: w.tenantId,
        amount: 100_000,
        perItem: 50_000,
        key: "batch:camp-1:0",
        reference: { kind: "campaign", id: "camp-1" },
      });
      await ctx.db.patch("messages", failedId, { reservationKey: "batch:camp-1:0" });
    });
    await postCloud(t, status("status-sent", { wamid: free, pricing: "free_customer_service" }));
    await postCloud(t, status("status-failed", { wamid: failedWamid }));
    await drain(t);
    expect(await runJob(t)).toEqual({ settled: 2, charged: 0, errors: 0, more: false });
    expect(await message(t, freeId)).toMatchObject({ settlement: "settled" });
    expect(await message(t, failedId)).toMatchObject({ status: "failed", settlement: "settled" });
    const entries = await ledger(t, w.tenantId);
    expect(entries.map((e) => [e.kind, e.amount, e.reservedChange])).toEqual([
      ["top_up", 1_000_000, 0],
      ["reservation", 0, 100_000],
      ["release", 0, -50_000],
    ]);
    expect(await walletOf(t, w.tenantId)).toMatchObject({ balance: 1_000_000, reserved: 50_000 });
    expect((await invariant(t, w.tenantId)).ok).toBe(true);
  });

  it("marks a message it cannot price as needing a person, and still settles the rest of the batch", async () => {
    const { t, w } = await fresh();
    const lite = OUT_WAMID.replace("ARG", "ARL");
    const liteId = await outbound(t, w, { providerMessageId: lite, status: "sending" });
    const okId = await outbound(t, w, { providerMessageId: OUT_WAMID, status: "sending" });
    // marketing_lite has no seeded rate.
    await postCloud(
      t,
      status("status-sent", { wamid: lite }).replace(
        '"category": "marketing"',
        '"category": "marketing_lite"',
      ),
    );
    await postCloud(t, status("status-sent"));
    await drain(t);
    expect(await runJob(t)).toEqual({ settled: 1, charged: 1, errors: 1, more: false });
    expect(await message(t, liteId)).toMatchObject({
      settlement: "error",
      settlementError: expect.stringMatching(/No EUR rate for marketing lite messages/),
    });
    expect(await message(t, okId)).toMatchObject({ settlement: "settled" });
    // An errored message is not retried by every run (reconciliation shows it to a person).
    expect(await runJob(t)).toEqual({ settled: 0, charged: 0, errors: 0, more: false });
  });

  it("drains more than one batch: a full run schedules the next one at once", async () => {
    const { t, w } = await fresh();
    const n = 230;
    await t.run(async (ctx) => {
      const contactId = await ctx.db.insert("contacts", {
        tenantId: w.tenantId,
        phone: "+34600111222",
        createdAt: 1,
      });
      const conversationId = await ctx.db.insert("conversations", {
        tenantId: w.tenantId,
        channelId: w.cloudChannelId,
        contactId,
        lastMessageAt: 1,
      });
      for (let i = 0; i < n; i++) {
        await ctx.db.insert("messages", {
          tenantId: w.tenantId,
          channelId: w.cloudChannelId,
          conversationId,
          contactId,
          direction: "out",
          providerMessageId: `wamid.bulk-${i}`,
          type: "template",
          status: "sent",
          statusAt: AUG * 1000,
          pricing: { type: "regular", category: "utility" },
          settlement: "pending",
          pricedAt: AUG * 1000,
          createdAt: AUG * 1000,
        });
      }
    });
    expect(await runJob(t)).toMatchObject({ settled: SETTLE_BATCH, more: true });
    await drain(t);
    const entries = await ledger(t, w.tenantId);
    expect(entries).toHaveLength(n);
    expect(new Set(entries.map((e) => e.key)).size).toBe(n);
    expect((await invariant(t, w.tenantId)).ok).toBe(true);
    expect(
      await t.run((ctx) =>
        ctx.db
          .query("messages")
          .withIndex("by_settlement", (q) => q.eq("settlement", "pending"))
          .collect(),
      ),
    ).toEqual([]);
  });

  it("leaves inbound messages and unpriced outbound ones alone", async () => {
    const { t, w } = await fresh();
    const id = await outbound(t, w, { providerMessageId: OUT_WAMID, status: "sending" });
    await postCloud(t, status("status-sent").replace(/,\s*"pricing": \{[^}]*\}/, ""));
    await postCloud(t, status("message-text"));
    await drain(t);
    expect(await message(t, id)).toMatchObject({ status: "sent" });
    expect((await message(t, id))?.settlement).toBeUndefined();
    const inbound = await t.run((ctx) => ctx.db.query("messages").collect());
    expect(inbound.filter((m) => m.settlement !== undefined)).toEqual([]);
  });
});

describe("low-balance alerts", () => {
  it("crosses, stays quiet while below, and re-arms once the balance is back up", () => {
    const thresholds = [10_000_000, 2_000_000];
    expect(lowBalanceCrossing(thresholds, [], 12_000_000)).toEqual({ alert: null, alerted: [] });
    expect(lowBalanceCrossing(thresholds, [], 9_000_000)).toEqual({
      alert: 10_000_000,
      alerted: [10_000_000],
    });
    expect(lowBalanceCrossing(thresholds, [10_000_000], 8_000_000)).toEqual({
      alert: null,
      alerted: [10_000_000],
    });
    // Past both at once: one email, naming the lower.
    expect(lowBalanceCrossing(thresholds, [], 1_000_000)).toEqual({
      alert: 2_000_000,
      alerted: [10_000_000, 2_000_000],
    });
    // Exactly at a threshold is not below it: re-armed.
    expect(lowBalanceCrossing(thresholds, [10_000_000], 10_000_000)).toEqual({ alert: null, alerted: [] });
  });

  async function alertWorld() {
    const { t, w } = await fresh();
    const owner = await signedInAs(t, w, "owner");
    const lowEmails = () =>
      t.run(async (ctx) => (await ctx.db.query("emails").collect()).filter((e) => e.kind === "low_balance"));
    const move = async (amount: number, key: string) => {
      await inTx(t, (ctx) =>
        amount > 0
          ? topUp(ctx, { tenantId: w.tenantId, amount, key })
          : adjust(ctx, {
              tenantId: w.tenantId,
              amount,
              key,
              reason: "spending in a test",
              actor: { kind: "system", name: "test" },
            }),
      );
      await drain(t);
    };
    return { t, w, owner, lowEmails, move };
  }

  it("emails the owners once per crossing of a threshold, through the outbox", async () => {
    const { t, w, lowEmails, move } = await alertWorld();
    await move(12_000_000, "grant-1");
    expect(await lowEmails()).toEqual([]);
    // New wallets warn at 10.00; spending takes the balance to 9.50.
    await move(-2_500_000, "spend-1");
    await drain(t);
    const first = await lowEmails();
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({
      to: "owner@acme.test",
      tenantId: w.tenantId,
      provider: "outbox",
      subject: "Acme Shoes: credit balance below €10.00",
    });
    expect(first[0].text).toContain("€9.50");
    // Further spending below the threshold: no second email.
    await move(-1_000_000, "spend-2");
    expect(await lowEmails()).toHaveLength(1);
    // Back above, then below again: one more.
    await move(5_000_000, "grant-2");
    await move(-4_000_000, "spend-3");
    expect(await lowEmails()).toHaveLength(2);
  });

  it("lets tenant admins set thresholds, validated and audited, without an email for a balance already below", async () => {
    const { t, w, owner, lowEmails } = await alertWorld();
    await owner.mutation(api.users.ensure, {});
    expect(
      await owner.mutation(api.billing.setLowBalanceThresholds, {
        tenantId: w.tenantId,
        thresholds: ["25", "5.5"],
      }),
    ).toEqual([25_000_000, 5_500_000]);
    await drain(t);
    expect(await lowEmails()).toEqual([]);
    expect((await walletOf(t, w.tenantId)).alertedThresholds).toEqual([25_000_000, 5_500_000]);
    const audit = await t.run((ctx) => ctx.db.query("auditEvents").collect());
    expect(audit.at(-1)).toMatchObject({ action: "billing.low_balance_thresholds_changed" });
    for (const bad of [["-1"], ["0"], ["abc"], ["1", "2", "3", "4", "5", "6"]]) {
      expect(
        (
          await errorOf(
            owner.mutation(api.billing.setLowBalanceThresholds, { tenantId: w.tenantId, thresholds: bad }),
          )
        ).code,
      ).toBe("INVALID");
    }
  });
});
