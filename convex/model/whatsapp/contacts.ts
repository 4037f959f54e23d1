/**
 * Contacts under an internal id, found through aliases (E.164 phone, wa_id, WAHA chat id, @lid,
 * Cloud API business-scoped user id). A webhook that carries a phone and a BSUID links the two, so
 * a person who later writes with the BSUID alone (number hidden) stays the same contact.
 * WhatsApp identity is shifting to privacy ids, so one person may first appear as a @lid and
 * later with a phone: when one event's identifiers point at two contacts, they are merged into
 * the older one.
 *
 * A merge must fit in the mutation that stores the inbound message, whatever the contact's
 * history: that mutation only re-points the aliases and sets `mergedInto` on the newer contact
 * (lookups follow it, `resolveContact`), and schedules `moveHistory`, which moves conversations
 * and messages in bounded batches, one scheduled mutation after another, and deletes the merged
 * contact at the end.
 */
import { internal } from "../../_generated/api";
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../../_generated/server";
import { searchTextOf, setContactTags } from "../contactTags";
import { applySuppression } from "../privacy/suppression";
import type { WhatsAppParty } from "./events";
import { PermanentEventError } from "./payload";

type AliasKind = Doc<"contactAliases">["kind"];

export function aliasesOf(party: WhatsAppParty): { kind: AliasKind; value: string }[] {
  const out: { kind: AliasKind; value: string }[] = [];
  if (party.phone) out.push({ kind: "phone", value: party.phone });
  if (party.waId) out.push({ kind: "wa_id", value: party.waId });
  if (party.chatId) out.push({ kind: "waha_chat", value: party.chatId });
  if (party.lid) out.push({ kind: "lid", value: party.lid });
  if (party.bsuid) out.push({ kind: "bsuid", value: party.bsuid });
  return out;
}

/**
 * The contact for `party` in the tenant, created or updated. `at` is the event's time: the
 * profile name is taken only from events at least as recent as the last inbound one seen, so a
 * late, older message cannot bring back an old name. `inbound` marks the contact's last message.
 */
export async function upsertContact(
  ctx: MutationCtx,
  tenantId: Id<"tenants">,
  party: WhatsAppParty,
  at: number,
  options: { inbound: boolean },
): Promise<Id<"contacts">> {
  const aliases = aliasesOf(party);
  if (aliases.length === 0) throw new PermanentEventError("The event names no contact identifier");
  const found = new Map<Id<"contacts">, Doc<"contacts">>();
  const present = new Set<string>();
  for (const alias of aliases) {
    const row = await ctx.db
      .query("contactAliases")
      .withIndex("by_tenant_kind_value", (q) =>
        q.eq("tenantId", tenantId).eq("kind", alias.kind).eq("value", alias.value),
      )
      .first();
    if (!row) continue;
    present.add(`${alias.kind}:${alias.value}`);
    const contact = await resolveContact(ctx, row.contactId);
    if (contact && !found.has(contact._id)) found.set(contact._id, contact);
  }

  let contact: Doc<"contacts">;
  if (found.size === 0) {
    const id = await ctx.db.insert("contacts", {
      tenantId,
      name: party.name,
      phone: party.phone,
      createdAt: at,
      lastInboundAt: options.inbound ? at : undefined,
      searchText: searchTextOf(party.name, party.phone),
    });
    // An erased person who had opted out stays opted out when they write again.
    await applySuppression(ctx, tenantId, id, party.phone);
    contact = (await ctx.db.get("contacts", id))!;
  } else {
    const [survivor, ...others] = [...found.values()].sort(
      (a, b) => a.createdAt - b.createdAt || a._creationTime - b._creationTime,
    );
    contact = survivor;
    for (const other of others) contact = await merge(ctx, contact, other);
  }

  for (const alias of aliases) {
    if (present.has(`${alias.kind}:${alias.value}`)) continue;
    await ctx.db.insert("contactAliases", {
      tenantId,
      kind: alias.kind,
      value: alias.value,
      contactId: contact._id,
    });
  }

  const patch: Partial<Doc<"contacts">> = {};
  const newest = contact.lastInboundAt === undefined || at >= contact.lastInboundAt;
  if (party.name && party.name !== contact.name && (newest || !contact.name)) patch.name = party.name;
  if (party.phone && !contact.phone) patch.phone = party.phone;
  if (options.inbound && (contact.lastInboundAt === undefined || at > contact.lastInboundAt)) {
    patch.lastInboundAt = at;
  }
  if (patch.name || patch.phone) {
    patch.searchText = searchTextOf(patch.name ?? contact.name, patch.phone ?? contact.phone);
  }
  if (Object.keys(patch).length) await ctx.db.patch("contacts", contact._id, patch);
  if (patch.phone) await applySuppression(ctx, tenantId, contact._id, patch.phone);
  return contact._id;
}

/** A contact's number (E.164) and WhatsApp identifiers, as stored: what sends and billing use. */
export async function addressesOf(
  ctx: QueryCtx,
  contactId: Id<"contacts">,
): Promise<{
  phone: string | null;
  waId: string | null;
  wahaChat: string | null;
  lid: string | null;
  bsuid: string | null;
}> {
  const [contact, aliases] = await Promise.all([
    ctx.db.get("contacts", contactId),
    ctx.db
      .query("contactAliases")
      .withIndex("by_contact", (q) => q.eq("contactId", contactId))
      .take(20),
  ]);
  const of = (kind: AliasKind) => aliases.find((a) => a.kind === kind)?.value ?? null;
  return {
    phone: contact?.phone ?? null,
    waId: of("wa_id"),
    wahaChat: of("waha_chat"),
    lid: of("lid"),
    bsuid: of("bsuid"),
  };
}

/** The contact, following `mergedInto` to the one it was merged into; null when gone. */
export async function resolveContact(ctx: QueryCtx, id: Id<"contacts">): Promise<Doc<"contacts"> | null> {
  let contact = await ctx.db.get("contacts", id);
  for (let hops = 0; contact?.mergedInto && hops < 20; hops++) {
    contact = await ctx.db.get("contacts", contact.mergedInto);
  }
  return contact;
}

/** How many aliases one merge re-points in the mutation that finds the link (a person has a few). */
const ALIASES_PER_MERGE = 200;
/** Messages moved per scheduled mutation: far below Convex's per-transaction limits. */
export const MESSAGES_PER_BATCH = 500;

/**
 * Merges `other` into `survivor` at once where it matters for lookups (aliases, `mergedInto`,
 * the profile fields, tags, custom fields, consent) and schedules moving its conversations,
 * messages and consent history (`moveHistory`). An opt-out of either contact stands: honouring
 * it costs a promotion, ignoring it breaks the person's trust.
 */
export async function merge(ctx: MutationCtx, survivor: Doc<"contacts">, other: Doc<"contacts">) {
  const aliases = await ctx.db
    .query("contactAliases")
    .withIndex("by_contact", (q) => q.eq("contactId", other._id))
    .take(ALIASES_PER_MERGE);
  for (const alias of aliases) await ctx.db.patch("contactAliases", alias._id, { contactId: survivor._id });

  const patch: Partial<Doc<"contacts">> = {
    lastInboundAt: maxDefined(survivor.lastInboundAt, other.lastInboundAt),
  };
  // The name seen most recently wins, whichever contact saw it.
  const otherIsNewer = (other.lastInboundAt ?? -Infinity) > (survivor.lastInboundAt ?? -Infinity);
  if (other.name && (!survivor.name || otherIsNewer)) patch.name = other.name;
  if (!survivor.phone && other.phone) patch.phone = other.phone;
  if (patch.name !== undefined || patch.phone !== undefined) {
    patch.searchText = searchTextOf(patch.name ?? survivor.name, patch.phone ?? survivor.phone);
  }
  if ((other.optedOutAt === undefined) !== (survivor.optedOutAt === undefined)) {
    // The newer consent change of the two wins; without history, the opt-out does.
    const latest = async (id: Id<"contacts">) =>
      await ctx.db
        .query("consentEvents")
        .withIndex("by_contact_at", (q) => q.eq("contactId", id))
        .order("desc")
        .first();
    const [a, b] = [await latest(survivor._id), await latest(other._id)];
    const newest = a && b ? (a.at >= b.at ? a : b) : (a ?? b);
    const optedOut = newest ? newest.kind === "opt_out" : true;
    patch.optedOutAt = optedOut ? (survivor.optedOutAt ?? other.optedOutAt) : undefined;
  }
  if (other.fields?.length) {
    const fields = [...(survivor.fields ?? [])];
    for (const f of other.fields) if (!fields.some((g) => g.key === f.key)) fields.push(f);
    patch.fields = fields;
  }
  await ctx.db.patch("contacts", survivor._id, patch);
  if (other.tags?.length) {
    const updated = (await ctx.db.get("contacts", survivor._id))!;
    await setContactTags(ctx, updated, [...(survivor.tags ?? []), ...other.tags]);
    await setContactTags(ctx, other, []);
  }
  await ctx.db.patch("contacts", other._id, { mergedInto: survivor._id, searchText: undefined });
  await ctx.scheduler.runAfter(0, internal.whatsappWebhooks.moveContactHistory, {
    from: other._id,
    to: survivor._id,
  });
  return (await ctx.db.get("contacts", survivor._id))!;
}

export type MoveStep = {
  from: Id<"contacts">;
  to: Id<"contacts">;
  /** The conversation being moved, and how: folded into the survivor's, or kept and re-pointed. */
  conversationId?: Id<"conversations">;
  cursor?: string | null;
};

/**
 * One bounded step of moving a merged contact's history to the contact it was merged into.
 * Returns the next step, or null when everything has moved and the merged contact is gone.
 *
 * A conversation the survivor has no counterpart of (on that channel) is re-pointed at once and
 * its messages page by page; one it has is folded in: its messages move into the survivor's
 * conversation a batch at a time, then it is deleted.
 */
export async function moveHistory(ctx: MutationCtx, step: MoveStep): Promise<MoveStep | null> {
  const survivor = await resolveContact(ctx, step.to);
  const from = await ctx.db.get("contacts", step.from);
  if (!survivor || !from) return null;
  const to = survivor._id;
  let conversation = step.conversationId ? await ctx.db.get("conversations", step.conversationId) : null;
  if (!conversation) {
    conversation = await ctx.db
      .query("conversations")
      .withIndex("by_contact", (q) => q.eq("contactId", from._id))
      .first();
    if (!conversation) {
      // Aliases added to the merged contact meanwhile (there should be none) follow it too.
      const late = await ctx.db
        .query("contactAliases")
        .withIndex("by_contact", (q) => q.eq("contactId", from._id))
        .take(ALIASES_PER_MERGE);
      for (const alias of late) await ctx.db.patch("contactAliases", alias._id, { contactId: to });
      if (late.length === ALIASES_PER_MERGE) return { from: from._id, to };
      // Its consent history follows it, so the survivor's page shows every opt-out and opt-in.
      const consent = await ctx.db
        .query("consentEvents")
        .withIndex("by_contact_at", (q) => q.eq("contactId", from._id))
        .take(ALIASES_PER_MERGE);
      for (const event of consent) await ctx.db.patch("consentEvents", event._id, { contactId: to });
      if (consent.length === ALIASES_PER_MERGE) return { from: from._id, to };
      await ctx.db.delete("contacts", from._id);
      return null;
    }
    const counterpart = await ctx.db
      .query("conversations")
      .withIndex("by_channel_contact", (q) => q.eq("channelId", conversation!.channelId).eq("contactId", to))
      .first();
    // Nothing to fold into: the conversation becomes the survivor's now; its messages follow.
    if (!counterpart) await ctx.db.patch("conversations", conversation._id, { contactId: to });
    return { from: from._id, to, conversationId: conversation._id, cursor: null };
  }

  if (conversation.contactId === to) {
    // Kept: re-point its messages, page by page.
    const page = await ctx.db
      .query("messages")
      .withIndex("by_conversation_created", (q) => q.eq("conversationId", conversation!._id))
      .paginate({ cursor: step.cursor ?? null, numItems: MESSAGES_PER_BATCH });
    for (const message of page.page) {
      if (message.contactId !== to) await ctx.db.patch("messages", message._id, { contactId: to });
    }
    return page.isDone
      ? { from: from._id, to }
      : { from: from._id, to, conversationId: conversation._id, cursor: page.continueCursor };
  }

  // Folded: move a batch of messages into the survivor's conversation on the same channel.
  const target = await ctx.db
    .query("conversations")
    .withIndex("by_channel_contact", (q) => q.eq("channelId", conversation!.channelId).eq("contactId", to))
    .first();
  if (!target) {
    await ctx.db.patch("conversations", conversation._id, { contactId: to });
    return { from: from._id, to, conversationId: conversation._id, cursor: null };
  }
  const messages = await ctx.db
    .query("messages")
    .withIndex("by_conversation_created", (q) => q.eq("conversationId", conversation!._id))
    .take(MESSAGES_PER_BATCH);
  for (const message of messages) {
    await ctx.db.patch("messages", message._id, { conversationId: target._id, contactId: to });
  }
  if (messages.length === MESSAGES_PER_BATCH) {
    return { from: from._id, to, conversationId: conversation._id, cursor: null };
  }
  await ctx.db.patch("conversations", target._id, {
    lastMessageAt: Math.max(target.lastMessageAt, conversation.lastMessageAt),
    lastInboundAt: maxDefined(target.lastInboundAt, conversation.lastInboundAt),
  });
  await ctx.db.delete("conversations", conversation._id);
  return { from: from._id, to };
}

function maxDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}

/**
 * The conversation of a contact on a channel, created on first contact. `inbound` messages also
 * move `lastInboundAt`, which opens the 24-hour customer-service window. Times only move forward.
 */
export async function upsertConversation(
  ctx: MutationCtx,
  channel: Doc<"channels">,
  contactId: Id<"contacts">,
  at: number,
  options: { inbound: boolean },
): Promise<Id<"conversations">> {
  const existing = await ctx.db
    .query("conversations")
    .withIndex("by_channel_contact", (q) => q.eq("channelId", channel._id).eq("contactId", contactId))
    .first();
  if (!existing) {
    return await ctx.db.insert("conversations", {
      tenantId: channel.tenantId,
      channelId: channel._id,
      contactId,
      lastMessageAt: at,
      lastInboundAt: options.inbound ? at : undefined,
      state: "bot",
    });
  }
  const patch: Partial<Doc<"conversations">> = {};
  if (at > existing.lastMessageAt) patch.lastMessageAt = at;
  if (options.inbound && (existing.lastInboundAt === undefined || at > existing.lastInboundAt)) {
    patch.lastInboundAt = at;
  }
  if (Object.keys(patch).length) await ctx.db.patch("conversations", existing._id, patch);
  return existing._id;
}
