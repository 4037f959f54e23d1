/**
 * Data export as JSON: one contact (their profile, identifiers, contacts merged into them,
 * consent history, conversations with the assistant's summaries, messages, assistant turns,
 * campaign participation and the ledger entries of their messages and turns), or a whole tenant
 * (the same for every contact, plus the ledger). An action reads it section by section, a page
 * per query (far below the 8,192 documents a query may read), and stores the file in Convex file
 * storage; see convex/privacy.ts.
 */
import type { Doc, Id } from "../../_generated/dataModel";
import type { QueryCtx } from "../../_generated/server";

export const EXPORT_FORMAT = "switchboard.export/1";
/** Exports are deleted (with their files) this long after they are made. */
export const EXPORT_TTL_MS = 24 * 60 * 60 * 1000;
export const PAGE = 500;

export const CONTACT_SECTIONS = [
  "contact",
  "consent",
  "conversations",
  "messages",
  "assistantTurns",
  "campaigns",
  "ledger",
] as const;
export const TENANT_SECTIONS = [
  "tenant",
  "contacts",
  "conversations",
  "messages",
  "assistantTurns",
  "campaigns",
  "campaignRecipients",
  "ledger",
] as const;
export type Section = (typeof CONTACT_SECTIONS)[number] | (typeof TENANT_SECTIONS)[number];

export type Page = { rows: unknown[]; cursor: string | null; isDone: boolean };

const done = (rows: unknown[]): Page => ({ rows, cursor: null, isDone: true });

/** Drops fields that are secrets or internal bookkeeping, never personal data. */
function clean<T extends object>(doc: T): T {
  const out = { ...doc } as Record<string, unknown>;
  delete out.searchText;
  return out as T;
}

async function ledgerOf(
  ctx: QueryCtx,
  tenantId: Id<"tenants">,
  kind: "message" | "assistant_turn",
  id: string,
) {
  return await ctx.db
    .query("ledgerEntries")
    .withIndex("by_tenant_reference_seq", (q) =>
      q.eq("tenantId", tenantId).eq("referenceKind", kind).eq("referenceId", id),
    )
    .take(20);
}

/** The tenant's conversation `parentId` names, or null (another tenant's, or not an id). */
async function conversationOf(ctx: QueryCtx, tenantId: Id<"tenants">, parentId: string | null) {
  const conversationId = ctx.db.normalizeId("conversations", parentId ?? "");
  const conversation = conversationId && (await ctx.db.get("conversations", conversationId));
  return conversation && conversation.tenantId === tenantId ? conversation : null;
}

/** A page of a query, as a section's page. */
function pageOf(page: { page: unknown[]; continueCursor: string; isDone: boolean }): Page {
  return { rows: page.page, cursor: page.continueCursor, isDone: page.isDone };
}

/**
 * One page of a section. `parentId` names the conversation (messages, turns) or campaign
 * (recipients) a section is read for; `contactIds` are the contact and those merged into it.
 */
export async function exportPage(
  ctx: QueryCtx,
  job: Doc<"privacyJobs">,
  section: Section,
  cursor: string | null,
  parentId: string | null,
  contactIds: Id<"contacts">[],
): Promise<Page> {
  const tenantId = job.tenantId;
  const opts = { cursor, numItems: PAGE };
  switch (section) {
    case "tenant": {
      const tenant = await ctx.db.get("tenants", tenantId);
      const fields = await ctx.db
        .query("contactFields")
        .withIndex("by_tenant_key", (q) => q.eq("tenantId", tenantId))
        .take(100);
      return done([
        {
          name: tenant?.name,
          slug: tenant?.slug,
          currency: tenant?.currency,
          timeZone: tenant?.timeZone,
          defaultCountry: tenant?.defaultCountry,
          contactFields: fields.map((f) => ({ key: f.key, type: f.type })),
        },
      ]);
    }
    case "contact": {
      const rows = [];
      for (const id of contactIds) {
        const contact = await ctx.db.get("contacts", id);
        if (!contact || contact.tenantId !== tenantId) continue;
        const aliases = await ctx.db
          .query("contactAliases")
          .withIndex("by_contact", (q) => q.eq("contactId", id))
          .take(100);
        rows.push({
          ...clean(contact),
          aliases: aliases.map((a) => ({ kind: a.kind, value: a.value })),
        });
      }
      return done(rows);
    }
    case "contacts": {
      const page = await ctx.db
        .query("contacts")
        .withIndex("by_tenant_created", (q) => q.eq("tenantId", tenantId))
        .paginate({ cursor, numItems: 100 });
      const rows = [];
      for (const contact of page.page) {
        const aliases = await ctx.db
          .query("contactAliases")
          .withIndex("by_contact", (q) => q.eq("contactId", contact._id))
          .take(20);
        const consent = await ctx.db
          .query("consentEvents")
          .withIndex("by_contact_at", (q) => q.eq("contactId", contact._id))
          .take(50);
        rows.push({
          ...clean(contact),
          aliases: aliases.map((a) => ({ kind: a.kind, value: a.value })),
          consent,
        });
      }
      return { rows, cursor: page.continueCursor, isDone: page.isDone };
    }
    case "consent": {
      const rows = [];
      for (const id of contactIds) {
        rows.push(
          ...(await ctx.db
            .query("consentEvents")
            .withIndex("by_contact_at", (q) => q.eq("contactId", id))
            .take(1000)),
        );
      }
      return done(rows);
    }
    case "conversations": {
      if (job.kind === "export_tenant") {
        const page = await ctx.db
          .query("conversations")
          .withIndex("by_tenant_last", (q) => q.eq("tenantId", tenantId))
          .paginate(opts);
        return pageOf(page);
      }
      const rows = [];
      for (const id of contactIds) {
        rows.push(
          ...(await ctx.db
            .query("conversations")
            .withIndex("by_contact", (q) => q.eq("contactId", id))
            .take(100)),
        );
      }
      return done(rows.filter((c) => c.tenantId === tenantId));
    }
    case "messages":
    case "assistantTurns": {
      // One conversation's messages or turns (parentId), a page at a time.
      const conversation = await conversationOf(ctx, tenantId, parentId);
      if (!conversation) return done([]);
      const id = conversation._id;
      return pageOf(
        section === "messages"
          ? await ctx.db
              .query("messages")
              .withIndex("by_conversation_created", (q) => q.eq("conversationId", id))
              .paginate(opts)
          : await ctx.db
              .query("assistantTurns")
              .withIndex("by_conversation", (q) => q.eq("conversationId", id))
              .paginate(opts),
      );
    }
    case "campaigns": {
      const page = await ctx.db
        .query("campaigns")
        .withIndex("by_tenant_created", (q) => q.eq("tenantId", tenantId))
        .paginate({ cursor, numItems: 100 });
      if (job.kind === "export_tenant") {
        return pageOf(page);
      }
      const rows = [];
      for (const campaign of page.page) {
        for (const contactId of contactIds) {
          const recipients = await ctx.db
            .query("campaignRecipients")
            .withIndex("by_campaign_contact", (q) =>
              q.eq("campaignId", campaign._id).eq("contactId", contactId),
            )
            .take(10);
          for (const r of recipients) {
            rows.push({
              campaign: { id: campaign._id, name: campaign.name, template: campaign.template },
              ...r,
            });
          }
        }
      }
      return { rows, cursor: page.continueCursor, isDone: page.isDone };
    }
    case "campaignRecipients": {
      const campaignId = ctx.db.normalizeId("campaigns", parentId ?? "");
      const campaign = campaignId && (await ctx.db.get("campaigns", campaignId));
      if (!campaign || campaign.tenantId !== tenantId) return done([]);
      const page = await ctx.db
        .query("campaignRecipients")
        .withIndex("by_campaign_state_due", (q) => q.eq("campaignId", campaign._id))
        .paginate(opts);
      return pageOf(page);
    }
    case "ledger": {
      if (job.kind === "export_tenant") {
        const page = await ctx.db
          .query("ledgerEntries")
          .withIndex("by_tenant_seq", (q) => q.eq("tenantId", tenantId))
          .paginate(opts);
        return pageOf(page);
      }
      // A contact's: the entries of one conversation's messages and turns (parentId), a page at a time.
      const conversation = await conversationOf(ctx, tenantId, parentId);
      if (!conversation) return done([]);
      const page = await ctx.db
        .query("messages")
        .withIndex("by_conversation_created", (q) => q.eq("conversationId", conversation._id))
        .paginate({ cursor, numItems: 100 });
      const rows = [];
      for (const m of page.page) {
        if (m.direction === "out") rows.push(...(await ledgerOf(ctx, tenantId, "message", m._id)));
      }
      if (page.isDone) {
        const turns = await ctx.db
          .query("assistantTurns")
          .withIndex("by_conversation", (q) => q.eq("conversationId", conversation._id))
          .take(200);
        for (const t of turns) rows.push(...(await ledgerOf(ctx, tenantId, "assistant_turn", t._id)));
      }
      return { rows, cursor: page.continueCursor, isDone: page.isDone };
    }
  }
}
