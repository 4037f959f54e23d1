/**
 * A contact's consent: opt-outs and opt-ins from keywords, buttons, WhatsApp's own marketing
 * preferences, error 131050 and agents, each kept in `consentEvents`; the contact carries the
 * current state (`optedOutAt`), which the send pipeline and the campaign dispatcher enforce.
 */
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";

export type ConsentSource = Doc<"consentEvents">["source"];

/**
 * Records an opt-out or opt-in and updates the contact. Returns whether the state changed (a
 * second STOP changes nothing, and is not recorded again).
 */
export async function recordConsent(
  ctx: MutationCtx,
  args: {
    tenantId: Id<"tenants">;
    contactId: Id<"contacts">;
    kind: "opt_out" | "opt_in";
    source: ConsentSource;
    messageId?: Id<"messages">;
    userId?: Id<"users">;
    text?: string;
    at?: number;
  },
): Promise<boolean> {
  const contact = await ctx.db.get("contacts", args.contactId);
  if (!contact || contact.tenantId !== args.tenantId) return false;
  const optedOut = contact.optedOutAt !== undefined;
  if ((args.kind === "opt_out") === optedOut) return false;
  const at = args.at ?? Date.now();
  await ctx.db.patch("contacts", contact._id, { optedOutAt: args.kind === "opt_out" ? at : undefined });
  await ctx.db.insert("consentEvents", {
    tenantId: args.tenantId,
    contactId: contact._id,
    kind: args.kind,
    source: args.source,
    ...(args.messageId ? { messageId: args.messageId } : {}),
    ...(args.userId ? { userId: args.userId } : {}),
    ...(args.text ? { text: args.text.slice(0, 500) } : {}),
    at,
  });
  return true;
}

/**
 * Whether the contact's consent changed after `at` (its latest consent event is newer). Facts
 * reported late, such as a marketing stop or an error 131050 from before the person opted back
 * in, must not undo a newer change: callers skip them when this is true.
 */
export async function consentChangedAfter(
  ctx: QueryCtx,
  contactId: Id<"contacts">,
  at: number,
): Promise<boolean> {
  const latest = await ctx.db
    .query("consentEvents")
    .withIndex("by_contact_at", (q) => q.eq("contactId", contactId))
    .order("desc")
    .first();
  return latest !== null && latest.at > at;
}

/** A contact's consent history, newest first. */
export async function consentHistory(ctx: QueryCtx, contactId: Id<"contacts">, limit = 50) {
  return await ctx.db
    .query("consentEvents")
    .withIndex("by_contact_at", (q) => q.eq("contactId", contactId))
    .order("desc")
    .take(limit);
}
