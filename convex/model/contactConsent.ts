/**
 * A contact's consent: opt-outs and opt-ins from keywords, buttons, WhatsApp's own marketing
 * preferences, error 131050 and agents, each kept in `consentEvents`; the contact carries the
 * current state, which the send pipeline and the campaign dispatcher enforce:
 *
 * - `optedOutAt` (scope "all"): STOP-like keywords and buttons, agents. Nothing is sent but
 *   replies to a message the person wrote after it.
 * - `marketingOptedOutAt` (scope "marketing"): the person stopped marketing messages in WhatsApp
 *   itself (the `user_preferences` webhook, or error 131050 on a send). Marketing templates are
 *   not sent; replies and utility templates are.
 *
 * An opt-in of scope "all" (START, an agent) clears both: if WhatsApp still blocks marketing, the
 * next marketing send fails with 131050 and records the stop again. A marketing resume clears
 * only the marketing stop, never a STOP the person sent.
 */
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";

export type ConsentSource = Doc<"consentEvents">["source"];
export type ConsentScope = "all" | "marketing";

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
    /** Default "all". */
    scope?: ConsentScope;
    messageId?: Id<"messages">;
    userId?: Id<"users">;
    text?: string;
    at?: number;
  },
): Promise<boolean> {
  const contact = await ctx.db.get("contacts", args.contactId);
  if (!contact || contact.tenantId !== args.tenantId) return false;
  const scope = args.scope ?? "all";
  const at = args.at ?? Date.now();
  const field = scope === "all" ? "optedOutAt" : "marketingOptedOutAt";
  let patch: Partial<Pick<Doc<"contacts">, "optedOutAt" | "marketingOptedOutAt">>;
  if (args.kind === "opt_out") {
    if (contact[field] !== undefined) return false;
    patch = { [field]: at };
  } else {
    const clears = scope === "all" ? (["optedOutAt", "marketingOptedOutAt"] as const) : ([field] as const);
    if (clears.every((f) => contact[f] === undefined)) return false;
    patch = Object.fromEntries(clears.map((f) => [f, undefined]));
  }
  await ctx.db.patch("contacts", contact._id, patch);
  await ctx.db.insert("consentEvents", {
    tenantId: args.tenantId,
    contactId: contact._id,
    kind: args.kind,
    source: args.source,
    ...(scope === "marketing" ? { scope } : {}),
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
