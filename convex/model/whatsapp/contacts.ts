/**
 * Contacts under an internal id, found through aliases (E.164 phone, wa_id, WAHA chat id, @lid).
 * WhatsApp identity is shifting to privacy ids, so one person may first appear as a @lid and
 * later with a phone: when one event's identifiers point at two contacts, they are merged into
 * the older one (aliases, conversations and messages move; the newer contact row goes).
 */
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx } from "../../_generated/server";
import type { WhatsAppParty } from "./events";

type AliasKind = Doc<"contactAliases">["kind"];

export function aliasesOf(party: WhatsAppParty): { kind: AliasKind; value: string }[] {
  const out: { kind: AliasKind; value: string }[] = [];
  if (party.phone) out.push({ kind: "phone", value: party.phone });
  if (party.waId) out.push({ kind: "wa_id", value: party.waId });
  if (party.chatId) out.push({ kind: "waha_chat", value: party.chatId });
  if (party.lid) out.push({ kind: "lid", value: party.lid });
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
  if (aliases.length === 0) throw new Error("The event names no contact identifier");
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
    if (!found.has(row.contactId)) {
      const contact = await ctx.db.get("contacts", row.contactId);
      if (contact) found.set(row.contactId, contact);
    }
  }

  let contact: Doc<"contacts">;
  if (found.size === 0) {
    const id = await ctx.db.insert("contacts", {
      tenantId,
      name: party.name,
      phone: party.phone,
      createdAt: at,
      lastInboundAt: options.inbound ? at : undefined,
    });
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
  if (Object.keys(patch).length) await ctx.db.patch("contacts", contact._id, patch);
  return contact._id;
}

/** Moves everything of `other` onto `survivor` and deletes `other`. */
async function merge(ctx: MutationCtx, survivor: Doc<"contacts">, other: Doc<"contacts">) {
  const aliases = await ctx.db
    .query("contactAliases")
    .withIndex("by_contact", (q) => q.eq("contactId", other._id))
    .collect();
  for (const alias of aliases) await ctx.db.patch("contactAliases", alias._id, { contactId: survivor._id });

  const conversations = await ctx.db
    .query("conversations")
    .withIndex("by_contact", (q) => q.eq("contactId", other._id))
    .collect();
  for (const conversation of conversations) {
    const target = await ctx.db
      .query("conversations")
      .withIndex("by_channel_contact", (q) =>
        q.eq("channelId", conversation.channelId).eq("contactId", survivor._id),
      )
      .first();
    if (!target) {
      await ctx.db.patch("conversations", conversation._id, { contactId: survivor._id });
      await moveMessages(ctx, conversation._id, conversation._id, survivor._id);
      continue;
    }
    await moveMessages(ctx, conversation._id, target._id, survivor._id);
    await ctx.db.patch("conversations", target._id, {
      lastMessageAt: Math.max(target.lastMessageAt, conversation.lastMessageAt),
      lastInboundAt: maxDefined(target.lastInboundAt, conversation.lastInboundAt),
    });
    await ctx.db.delete("conversations", conversation._id);
  }

  const patch: Partial<Doc<"contacts">> = {
    lastInboundAt: maxDefined(survivor.lastInboundAt, other.lastInboundAt),
  };
  // The name seen most recently wins, whichever contact saw it.
  const otherIsNewer = (other.lastInboundAt ?? -Infinity) > (survivor.lastInboundAt ?? -Infinity);
  if (other.name && (!survivor.name || otherIsNewer)) patch.name = other.name;
  if (!survivor.phone && other.phone) patch.phone = other.phone;
  await ctx.db.patch("contacts", survivor._id, patch);
  await ctx.db.delete("contacts", other._id);
  return (await ctx.db.get("contacts", survivor._id))!;
}

async function moveMessages(
  ctx: MutationCtx,
  from: Id<"conversations">,
  to: Id<"conversations">,
  contactId: Id<"contacts">,
) {
  const messages = await ctx.db
    .query("messages")
    .withIndex("by_conversation_created", (q) => q.eq("conversationId", from))
    .collect();
  for (const message of messages)
    await ctx.db.patch("messages", message._id, { conversationId: to, contactId });
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
