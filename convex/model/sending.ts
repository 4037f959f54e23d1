/**
 * Kill switches (decision 021): a global one for platform admins and one per workspace for its
 * owners (and platform admins). Either stops every message before it leaves:
 *
 * - `queueMessage` refuses new agent replies, templates, assistant replies and campaign sends
 *   with SENDING_PAUSED; consent confirmations are queued but held (the opt-out itself is
 *   recorded either way).
 * - `claim`, right before the provider call, holds a message queued before the switch flipped:
 *   it stays `queued` with `heldAt` set and a row in `heldMessages`, and goes out when sending
 *   resumes (`releaseHeld`), never failed.
 *
 * The global switch wins over the workspace's; a pause set by a platform admin on a workspace is
 * lifted only by a platform admin. Every change has a reason and is audited.
 */
import { internal } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import type { SendingPause } from "../schema";
import * as Audit from "./audit";
import { fail } from "./errors";

export type SendingBlock = {
  scope: "global" | "tenant";
  reason: string;
  since: number;
  /** Who turned it off: their email (pages for workspace members show "the platform team"). */
  by: string;
  byPlatform: boolean;
};

/** How many held messages one release run sends on (the rest follow in the next run). */
export const RELEASE_BATCH = 100;

const REASON_MIN = 3;
const REASON_MAX = 500;

async function platformSettings(ctx: QueryCtx): Promise<Doc<"platformSettings"> | null> {
  return await ctx.db
    .query("platformSettings")
    .withIndex("by_key", (q) => q.eq("key", "global"))
    .unique();
}

export async function globalPause(ctx: QueryCtx): Promise<SendingPause | null> {
  return (await platformSettings(ctx))?.sendingPause ?? null;
}

function toBlock(scope: SendingBlock["scope"], pause: SendingPause): SendingBlock {
  return { scope, reason: pause.reason, since: pause.since, by: pause.byEmail, byPlatform: pause.byPlatform };
}

/**
 * Why nothing may be sent for this workspace now, or null when sending is on. The global switch
 * comes first. The send pipeline and the campaign dispatcher call this before each send.
 */
export async function sendingBlock(ctx: QueryCtx, tenantId: Id<"tenants">): Promise<SendingBlock | null> {
  const global = await globalPause(ctx);
  if (global) return toBlock("global", global);
  const tenant = await ctx.db.get("tenants", tenantId);
  return tenant?.sendingPause ? toBlock("tenant", tenant.sendingPause) : null;
}

/** "2026-12-02 17:04 UTC" */
export function formatSince(at: number): string {
  return `${new Date(at).toISOString().replace("T", " ").slice(0, 16)} UTC`;
}

/** The sentence a person reads when a send is refused or held. */
export function describeBlock(block: SendingBlock): string {
  const since = formatSince(block.since);
  if (block.scope === "global")
    return `Sending is paused on the whole platform by the platform team since ${since}: ${block.reason}`;
  const who = block.byPlatform ? "the platform team" : block.by;
  const resume = block.byPlatform
    ? "only the platform team can resume it"
    : "an owner can resume it in Settings";
  return `Sending is paused for this workspace by ${who} since ${since}: ${block.reason} (${resume})`;
}

/** Refuses with SENDING_PAUSED while a switch is off for the workspace. */
export async function requireSending(ctx: QueryCtx, tenantId: Id<"tenants">): Promise<void> {
  const block = await sendingBlock(ctx, tenantId);
  if (block) fail("SENDING_PAUSED", describeBlock(block));
}

/**
 * Holds a queued message a switch stopped: it stays `queued`, marked with `heldAt` and the
 * reason, and is listed for release. Holding it twice lists it once.
 */
export async function holdMessage(ctx: MutationCtx, message: Doc<"messages">, block: SendingBlock) {
  if (message.heldAt !== undefined) return;
  const now = Date.now();
  await ctx.db.patch("messages", message._id, {
    heldAt: now,
    errorMessage: `Held: ${describeBlock(block)}. It goes out when sending resumes.`,
  });
  await ctx.db.insert("heldMessages", { tenantId: message.tenantId, messageId: message._id, heldAt: now });
}

export function noSuchWorkspace(): never {
  fail("NOT_FOUND", "No such workspace");
}

function checkReason(reason: string): string {
  const text = reason.trim();
  if (text.length < REASON_MIN)
    fail("INVALID", `Say why: a reason of at least ${REASON_MIN} characters is required`, "reason");
  if (text.length > REASON_MAX) fail("INVALID", `Keep the reason under ${REASON_MAX} characters`, "reason");
  return text;
}

/** Turns the global switch off (`paused`) or on again; platform admins only (the caller checks). */
export async function setGlobal(
  ctx: MutationCtx,
  user: Doc<"users">,
  args: { paused: boolean; reason: string },
): Promise<SendingPause | null> {
  const reason = checkReason(args.reason);
  const settings = await platformSettings(ctx);
  const current = settings?.sendingPause ?? null;
  if (args.paused === (current !== null)) return current;
  const pause: SendingPause | undefined = args.paused
    ? { reason, since: Date.now(), byUserId: user._id, byEmail: user.email, byPlatform: true }
    : undefined;
  if (settings) await ctx.db.patch("platformSettings", settings._id, { sendingPause: pause });
  else await ctx.db.insert("platformSettings", { key: "global", sendingPause: pause });
  await Audit.record(ctx, {
    actor: user,
    action: args.paused ? "sending.global_paused" : "sending.global_resumed",
    targetType: "platform",
    summary: args.paused
      ? `Paused sending on the whole platform: ${reason}`
      : `Resumed sending on the whole platform (paused since ${formatSince(current!.since)} by ${current!.byEmail}): ${reason}`,
    before: { paused: current !== null },
    after: { paused: args.paused, reason },
  });
  if (!args.paused) await ctx.scheduler.runAfter(0, internal.sending.releaseHeld, {});
  return pause ?? null;
}

/**
 * Turns one workspace's switch off or on again, as its owner (`asPlatform` false; the caller
 * checked the role) or as a platform admin. An owner cannot lift a platform admin's pause.
 * Audited with the workspace's id: it shows in the workspace's log and in the platform's.
 */
export async function setTenant(
  ctx: MutationCtx,
  user: Doc<"users">,
  tenant: Doc<"tenants">,
  args: { paused: boolean; reason: string; asPlatform: boolean },
): Promise<SendingPause | null> {
  const reason = checkReason(args.reason);
  const current = tenant.sendingPause ?? null;
  if (!args.paused && current?.byPlatform && !args.asPlatform)
    fail(
      "FORBIDDEN",
      `Sending was paused by the platform team (${current.reason}): only they can resume it; contact support`,
    );
  if (args.paused === (current !== null)) return current;
  const pause: SendingPause | undefined = args.paused
    ? { reason, since: Date.now(), byUserId: user._id, byEmail: user.email, byPlatform: args.asPlatform }
    : undefined;
  await ctx.db.patch("tenants", tenant._id, { sendingPause: pause });
  const who = args.asPlatform ? " (platform admin)" : "";
  await Audit.record(ctx, {
    tenantId: tenant._id,
    actor: user,
    action: args.paused ? "sending.paused" : "sending.resumed",
    targetType: "tenant",
    targetId: tenant._id,
    summary: args.paused
      ? `Paused sending for the workspace${who}: ${reason}`
      : `Resumed sending for the workspace${who} (paused since ${formatSince(current!.since)} by ${current!.byEmail}): ${reason}`,
    before: { paused: current !== null },
    after: { paused: args.paused, reason },
  });
  if (!args.paused) await ctx.scheduler.runAfter(0, internal.sending.releaseHeld, { tenantId: tenant._id });
  return pause ?? null;
}

/** Sends a held message on: back to the pipeline as an ordinary queued message. */
async function release(ctx: MutationCtx, row: Doc<"heldMessages">): Promise<boolean> {
  await ctx.db.delete("heldMessages", row._id);
  const message = await ctx.db.get("messages", row.messageId);
  if (!message || message.status !== "queued" || message.heldAt === undefined) return false;
  await ctx.db.patch("messages", message._id, { heldAt: undefined, errorMessage: undefined });
  await ctx.scheduler.runAfter(0, internal.outbound.deliver, { messageId: message._id });
  return true;
}

/**
 * Releases held messages once sending resumes, a batch per run: one workspace's (after its switch
 * went back on), or every workspace's whose own switch is on (after the global one did). Does
 * nothing while a switch that applies is still off; those messages wait for that one.
 */
export async function releaseHeld(
  ctx: MutationCtx,
  args: { tenantId?: Id<"tenants">; cursor?: string | null },
): Promise<{ released: number; isDone: boolean }> {
  if (args.tenantId) {
    const tenantId = args.tenantId;
    if (await sendingBlock(ctx, tenantId)) return { released: 0, isDone: true };
    const rows = await ctx.db
      .query("heldMessages")
      .withIndex("by_tenant", (q) => q.eq("tenantId", tenantId))
      .take(RELEASE_BATCH);
    let released = 0;
    for (const row of rows) if (await release(ctx, row)) released++;
    const isDone = rows.length < RELEASE_BATCH;
    if (!isDone) await ctx.scheduler.runAfter(0, internal.sending.releaseHeld, { tenantId });
    return { released, isDone };
  }
  if (await globalPause(ctx)) return { released: 0, isDone: true };
  const page = await ctx.db
    .query("heldMessages")
    .withIndex("by_held_at")
    .paginate({ cursor: args.cursor ?? null, numItems: RELEASE_BATCH });
  const paused = new Map<Id<"tenants">, boolean>();
  let released = 0;
  for (const row of page.page) {
    if (!paused.has(row.tenantId))
      paused.set(row.tenantId, Boolean((await ctx.db.get("tenants", row.tenantId))?.sendingPause));
    if (paused.get(row.tenantId)) continue;
    if (await release(ctx, row)) released++;
  }
  if (!page.isDone)
    await ctx.scheduler.runAfter(0, internal.sending.releaseHeld, { cursor: page.continueCursor });
  return { released, isDone: page.isDone };
}

/** A switch as pages show it. Workspace members see "the platform team", never an admin's email. */
export function pauseView(pause: SendingPause | null | undefined, forPlatform: boolean) {
  if (!pause) return null;
  return {
    reason: pause.reason,
    since: pause.since,
    by: pause.byPlatform && !forPlatform ? "the platform team" : pause.byEmail,
    byPlatform: pause.byPlatform,
  };
}
