/**
 * Reconciliation of sends against status webhooks: sends WhatsApp accepted with no status by the
 * deadline (charged at the estimate, or their reservation released), sends stuck without a
 * provider answer (reported; see stuckSending.ts), and what Meta billed per day against what the
 * rate card expected.
 */
import { ConvexError } from "convex/values";
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx } from "../../_generated/server";
import { outboundUnknownAfterMs, reconciliationDeadlines } from "../../env";
import { chargedCategory, settle } from "../billing/charging";
import { toDecimalString } from "../billing/money";
import { dayStart, isoDay, normaliseCategory } from "../billing/rates";
import { estimateKey, recipientPlace } from "../billing/settlement";
import { Findings, type StepInput, type StepResult } from "./runs";
import { resolveStuckSending, unknownReason } from "../outbound";
import { providerNote } from "./stuckSending";

/** Messages looked at per batch by the two send jobs. */
export const SEND_BATCH = 100;
/** Priced messages read per batch by the pricing check. */
export const PRICING_BATCH = 500;

const DAY_MS = 24 * 60 * 60 * 1000;

/** Outbound messages in `status`, with nothing settled, whose last change is before `cutoff`. */
async function unsettledBefore(
  ctx: MutationCtx,
  status: "sending" | "unknown",
  cutoff: number,
  cursor: string | null,
  numItems: number,
) {
  return await ctx.db
    .query("messages")
    .withIndex("by_status_settlement_status_at", (q) =>
      q.eq("status", status).eq("settlement", undefined).lt("statusAt", cutoff),
    )
    .paginate({ cursor, numItems });
}

function when(ms: number): string {
  return `${new Date(ms).toISOString().replace("T", " ").slice(0, 16)} UTC`;
}

/** The no-status job walks `unknown` sends first, then any still `sending` (one query per batch). */
type NoStatusCursor = { status: "sending" | "unknown"; page: string | null };

/**
 * The rule for a send WhatsApp accepted (it has a provider id) that got no status within the
 * deadline (its outcome is `unknown` by now, or it is still `sending`): a Cloud API template is
 * charged at the rate card's price for its category (the template's, else marketing) under
 * `estimate:<message key>`, marked estimated, freeing its reservation share; a free-form message
 * (free inside the customer-service window) and any WAHA message (Meta does not bill them) only
 * free their reservation share. A later real status settles the difference once
 * (model/billing/settlement.ts).
 */
export async function noStatusStep(ctx: MutationCtx, { cursor, now }: StepInput): Promise<StepResult> {
  const cutoff = now - reconciliationDeadlines().noStatusMs;
  const state: NoStatusCursor = cursor
    ? (JSON.parse(cursor) as NoStatusCursor)
    : { status: "unknown", page: null };
  const page = await unsettledBefore(ctx, state.status, cutoff, state.page, SEND_BATCH);
  const findings = new Findings();
  for (const message of page.page) {
    // Never accepted by the provider: nothing was billed, and the stuck-send job reports it.
    if (message.direction !== "out" || !message.providerMessageId) continue;
    const channel = await ctx.db.get("channels", message.channelId);
    const category =
      channel?.kind === "cloud" && message.type === "template"
        ? (normaliseCategory(message.template?.category) ?? "marketing")
        : null;
    const place = await recipientPlace(ctx, message);
    try {
      const result = await settle(ctx, {
        tenantId: message.tenantId,
        key: estimateKey(message),
        reference: { kind: "message", id: message._id },
        actor: { kind: "system", name: "reconciliation" },
        pricing: category ? { type: "regular", category } : null,
        at: message.statusAt,
        estimated: true,
        ...(message.reservationKey ? { reservationKey: message.reservationKey } : {}),
        ...place,
      });
      await ctx.db.patch("messages", message._id, { settlement: "estimated", estimatedAt: now });
      const wallet = await ctx.db
        .query("wallets")
        .withIndex("by_tenant", (q) => q.eq("tenantId", message.tenantId))
        .unique();
      const what =
        result.status === "charged" && result.entry
          ? `charged the estimate ${toDecimalString(-result.entry.amount, 4)} ${wallet?.currency ?? ""} (${category})`
          : result.status === "released"
            ? "released its reservation share (not billed by Meta)"
            : result.status === "duplicate"
              ? "its estimate was already in the ledger; marked estimated"
              : "nothing to charge (not billed by Meta)";
      findings.add(
        message._id,
        "fixed",
        `Accepted by WhatsApp, no status since (${message.status} since ${when(message.statusAt)}): ${what}`,
        message.tenantId,
      );
    } catch (error) {
      const data = error instanceof ConvexError ? (error.data as { code?: string; message?: string }) : null;
      if (data?.code !== "NO_RATE" && data?.code !== "NOT_FOUND" && data?.code !== "INVALID") throw error;
      findings.add(
        message._id,
        "needs_person",
        `Accepted by WhatsApp, no status since ${when(message.statusAt)}, and no estimate could be charged: ${data.message ?? data.code}`,
        message.tenantId,
      );
    }
  }
  const next: NoStatusCursor | null = !page.isDone
    ? { status: state.status, page: page.continueCursor }
    : state.status === "unknown"
      ? { status: "sending", page: null }
      : null;
  return { findings: findings.list, cursor: next ? JSON.stringify(next) : null };
}

/**
 * Sends still `sending` past OUTBOUND_UNKNOWN_AFTER_MS: the outcome-unknown resolution
 * (`resolveStuckSending`, model/outbound.ts) marks them `unknown`, never to be sent again; this
 * job runs it and reports each message it resolved. The resolution's own cron usually gets there
 * first; the job is the safety net and the record.
 */
export async function stuckSendingStep(ctx: MutationCtx, { now }: StepInput): Promise<StepResult> {
  const afterMs = outboundUnknownAfterMs();
  const stuck = await ctx.db
    .query("messages")
    .withIndex("by_status_at", (q) => q.eq("status", "sending").lt("statusAt", now - afterMs))
    .take(SEND_BATCH);
  const channels = new Map<string, Doc<"channels"> | null>();
  for (const m of stuck)
    if (!channels.has(m.channelId)) channels.set(m.channelId, await ctx.db.get("channels", m.channelId));
  // The resolution takes the same oldest-first batch from the same index, in this transaction.
  const result = await resolveStuckSending(ctx, { now, afterMs, batch: SEND_BATCH });
  const findings = new Findings();
  for (const message of stuck.slice(0, result.resolved)) {
    const channel = channels.get(message.channelId) ?? null;
    findings.add(
      message._id,
      "fixed",
      `Marked unknown: ${unknownReason(message, afterMs)} ${providerNote(channel)}`,
      message.tenantId,
    );
  }
  return { findings: findings.list, cursor: result.remaining > 0 ? "more" : null };
}

/** One kind of unexpected billing on a day: a tenant, what Meta billed, what we expected. */
type PricingGroup = {
  tenantId: Id<"tenants">;
  billed: string;
  expected: string;
  model: string | null;
  count: number;
  example: Id<"messages">;
  why: string;
};
type PricingCursor = { page: string | null; groups: Record<string, PricingGroup> };

/** Keeps the cursor small: at most this many distinct groups are told apart per run. */
const MAX_GROUPS = 100;

/** Meta's pricing model since 2025-07-01 (per message); before, conversation-based. */
const PMP_FROM = Date.parse("2025-07-01T00:00:00Z");

/** What the rate card expected a message to be billed as: its template's category; free-form is free. */
function expectedCategory(message: Doc<"messages">): string | null {
  if (message.type !== "template") return null;
  return normaliseCategory(message.template?.category) ?? message.template?.category ?? "unknown";
}

function sameCharge(billed: string, expected: string | null): boolean {
  if (expected === null) return false;
  const b = normaliseCategory(billed) ?? billed;
  // International authentication is how Meta bills authentication in some markets: expected.
  if (expected === "authentication" && b === "authentication_international") return true;
  return b === expected;
}

/**
 * The pricing check for one UTC day (the run's scope, by default yesterday): every outbound
 * message priced that day whose billed category (pricing.category when pricing.type is regular)
 * differs from what the rate card expected (its template's category; free-form messages are
 * free), whose pricing model is not per-message, or that could not be priced (no rate), counted
 * per tenant and kind. Each group is one finding for a person; nothing is changed.
 */
export async function pricingDriftStep(
  ctx: MutationCtx,
  { cursor, scope, now }: StepInput,
): Promise<StepResult> {
  const day = scope ?? isoDay(now - DAY_MS);
  const from = dayStart(day);
  const state: PricingCursor = cursor ? (JSON.parse(cursor) as PricingCursor) : { page: null, groups: {} };
  const page = await ctx.db
    .query("messages")
    .withIndex("by_priced_at", (q) => q.gte("pricedAt", from).lt("pricedAt", from + DAY_MS))
    .paginate({ cursor: state.page, numItems: PRICING_BATCH });
  for (const message of page.page) {
    if (message.direction !== "out") continue;
    const billed = chargedCategory(message.pricing);
    const expected = expectedCategory(message);
    const model = message.pricing?.model ?? null;
    let why: string | null = null;
    if (message.settlement === "error") why = `could not be priced: ${message.settlementError ?? "no rate"}`;
    else if (billed !== null && !sameCharge(billed, expected))
      why =
        expected === null
          ? "a free-form message billed (the rate card expected it free)"
          : `billed as ${billed}, the template's category is ${expected}`;
    else if (
      billed !== null &&
      model !== null &&
      model.toUpperCase() !== "PMP" &&
      (message.pricedAt ?? 0) >= PMP_FROM
    )
      why = `pricing model ${model} (per-message pricing expected since 2025-07-01)`;
    if (!why) continue;
    const key = `${message.tenantId}|${billed ?? "free"}|${expected ?? "free"}|${why}`;
    const group = state.groups[key];
    if (group) group.count++;
    else if (Object.keys(state.groups).length < MAX_GROUPS)
      state.groups[key] = {
        tenantId: message.tenantId,
        billed: billed ?? "free",
        expected: expected ?? "free",
        model,
        count: 1,
        example: message._id,
        why,
      };
  }
  if (!page.isDone)
    return { findings: [], cursor: JSON.stringify({ page: page.continueCursor, groups: state.groups }) };
  const findings = new Findings();
  for (const group of Object.values(state.groups)) {
    findings.add(
      `${day}/${group.billed}`,
      "needs_person",
      `${group.count} ${group.count === 1 ? "message" : "messages"} on ${day}: ${group.why} (for example message ${group.example})`,
      group.tenantId,
    );
  }
  return { findings: findings.list, cursor: null };
}
