/**
 * The contact list (logic in convex/model/contacts.ts): viewers read, agents edit contacts,
 * tags, consent and segments, admins define fields, merge, delete, and export.
 */
import { paginationOptsValidator, paginationResultValidator } from "convex/server";
import { v } from "convex/values";
import { internal } from "./_generated/api";
import { internalMutation, tenantMutation, tenantQuery } from "./functions";
import { searchTextOf } from "./model/contactTags";
import * as Audit from "./model/audit";
import { recordConsent } from "./model/contactConsent";
import * as Contacts from "./model/contacts";
import { fail } from "./model/errors";
import { vContactFilter } from "./schema";

const vFieldType = v.union(v.literal("text"), v.literal("number"), v.literal("date"));

/** Contacts matching the filter, a page at a time (a page may be short: see model/contacts.ts). */
export const list = tenantQuery({
  role: "viewer",
  args: { filter: vContactFilter, paginationOpts: paginationOptsValidator },
  returns: paginationResultValidator(Contacts.vContactRow),
  handler: async (ctx, { filter, paginationOpts }) => {
    const page = await Contacts.listContacts(ctx, ctx.tenant._id, filter, paginationOpts);
    return { ...page, page: page.page.map(Contacts.rowOf) };
  },
});

/** How many contacts match; `capped` when more than the count could read. */
export const count = tenantQuery({
  role: "viewer",
  args: { filter: vContactFilter },
  returns: v.object({ count: v.number(), capped: v.boolean() }),
  handler: (ctx, { filter }) => Contacts.countContacts(ctx, ctx.tenant._id, filter),
});

/** The tenant's tags, most used first, with how many contacts carry each. */
export const tags = tenantQuery({
  role: "viewer",
  args: {},
  returns: v.array(v.object({ tag: v.string(), label: v.string(), count: v.number() })),
  handler: async (ctx) => {
    const rows = await ctx.db
      .query("contactTagCounts")
      .withIndex("by_tenant_tag", (q) => q.eq("tenantId", ctx.tenant._id))
      .take(500);
    return rows
      .sort((a, b) => b.count - a.count || a.label.localeCompare(b.label))
      .map((r) => ({ tag: r.tag, label: r.label, count: r.count }));
  },
});

/** One contact's page: aliases, conversations, consent history, tags and fields. */
export const get = tenantQuery({
  role: "viewer",
  args: { contactId: v.string() },
  returns: Contacts.vContactDetail,
  handler: async (ctx, { contactId }) => {
    const id = ctx.db.normalizeId("contacts", contactId);
    if (!id) fail("NOT_FOUND", "No such contact");
    return await Contacts.contactDetail(ctx, ctx.tenant._id, id);
  },
});

export const update = tenantMutation({
  role: "agent",
  args: {
    contactId: v.id("contacts"),
    name: v.optional(v.string()),
    phone: v.optional(v.string()),
    tags: v.optional(v.array(v.string())),
    fields: v.optional(v.array(v.object({ key: v.string(), value: v.string() }))),
  },
  returns: v.null(),
  handler: async (ctx, { contactId, ...edit }) => {
    const contact = await Contacts.updateContact(
      ctx,
      ctx.tenant._id,
      contactId,
      edit,
      ctx.tenant.defaultCountry,
    );
    await Audit.record(ctx, {
      tenantId: ctx.tenant._id,
      actor: ctx.user,
      action: "contact.updated",
      targetType: "contact",
      targetId: contact._id,
      summary: `${ctx.user.name} edited the contact ${contact.name ?? contact.phone ?? ""}`.trim(),
    });
    return null;
  },
});

/** An agent records a contact's opt-out or opt-in. */
export const setConsent = tenantMutation({
  role: "agent",
  args: { contactId: v.id("contacts"), kind: v.union(v.literal("opt_out"), v.literal("opt_in")) },
  returns: v.boolean(),
  handler: async (ctx, { contactId, kind }) => {
    const contact = await Contacts.contactOf(ctx, ctx.tenant._id, contactId);
    const changed = await recordConsent(ctx, {
      tenantId: ctx.tenant._id,
      contactId: contact._id,
      kind,
      source: "agent",
      userId: ctx.user._id,
    });
    if (changed) {
      await Audit.record(ctx, {
        tenantId: ctx.tenant._id,
        actor: ctx.user,
        action: kind === "opt_out" ? "contact.opted_out" : "contact.opted_in",
        targetType: "contact",
        targetId: contact._id,
        summary: `${ctx.user.name} recorded an ${kind === "opt_out" ? "opt-out" : "opt-in"} for a contact`,
      });
    }
    return changed;
  },
});

/** Merges one contact into another: aliases, conversations, consent, tags and fields move over. */
export const merge = tenantMutation({
  role: "admin",
  args: { keepId: v.id("contacts"), mergeId: v.id("contacts") },
  returns: v.null(),
  handler: async (ctx, { keepId, mergeId }) => {
    const { keep, other } = await Contacts.mergeByHand(ctx, ctx.tenant._id, keepId, mergeId);
    await Audit.record(ctx, {
      tenantId: ctx.tenant._id,
      actor: ctx.user,
      action: "contact.merged",
      targetType: "contact",
      targetId: keep._id,
      summary: `${ctx.user.name} merged ${other.name ?? other.phone ?? "a contact"} into ${keep.name ?? keep.phone ?? "a contact"}`,
    });
    return null;
  },
});

export const remove = tenantMutation({
  role: "admin",
  args: { contactId: v.id("contacts") },
  returns: v.null(),
  handler: async (ctx, { contactId }) => {
    const contact = await Contacts.deleteContact(ctx, ctx.tenant._id, contactId);
    await Audit.record(ctx, {
      tenantId: ctx.tenant._id,
      actor: ctx.user,
      action: "contact.deleted",
      targetType: "contact",
      targetId: contact._id,
      summary: `${ctx.user.name} deleted the contact ${contact.name ?? contact.phone ?? ""}`.trim(),
    });
    return null;
  },
});

// ---------------------------------------------------------------- custom fields

export const fields = tenantQuery({
  role: "viewer",
  args: {},
  returns: v.array(v.object({ key: v.string(), type: vFieldType })),
  handler: async (ctx) =>
    (await Contacts.fieldDefinitions(ctx, ctx.tenant._id))
      .sort((a, b) => a.createdAt - b.createdAt)
      .map((d) => ({ key: d.key, type: d.type })),
});

export const defineField = tenantMutation({
  role: "admin",
  args: { key: v.string(), type: vFieldType },
  returns: v.null(),
  handler: async (ctx, { key, type }) => {
    await Contacts.defineField(ctx, ctx.tenant._id, key, type);
    await Audit.record(ctx, {
      tenantId: ctx.tenant._id,
      actor: ctx.user,
      action: "contact.field_defined",
      targetType: "contactField",
      summary: `${ctx.user.name} set the contact field “${Contacts.fieldKey(key)}” to ${type}`,
    });
    return null;
  },
});

// ---------------------------------------------------------------- segments

const vSegment = v.object({
  segmentId: v.id("contactSegments"),
  name: v.string(),
  filter: vContactFilter,
  createdAt: v.number(),
});

export const segments = tenantQuery({
  role: "viewer",
  args: {},
  returns: v.array(vSegment),
  handler: async (ctx) =>
    (
      await ctx.db
        .query("contactSegments")
        .withIndex("by_tenant_name", (q) => q.eq("tenantId", ctx.tenant._id))
        .take(200)
    ).map((s) => ({ segmentId: s._id, name: s.name, filter: s.filter, createdAt: s.createdAt })),
});

/** A segment's live count (one query per segment, so each stays within its read budget). */
export const segmentCount = tenantQuery({
  role: "viewer",
  args: { segmentId: v.id("contactSegments") },
  returns: v.object({ count: v.number(), capped: v.boolean() }),
  handler: async (ctx, { segmentId }) => {
    const segment = await ctx.db.get("contactSegments", segmentId);
    if (!segment || segment.tenantId !== ctx.tenant._id) fail("NOT_FOUND", "No such segment");
    return await Contacts.countContacts(ctx, ctx.tenant._id, segment.filter);
  },
});

export const saveSegment = tenantMutation({
  role: "agent",
  args: { name: v.string(), filter: vContactFilter },
  returns: v.id("contactSegments"),
  handler: async (ctx, { name, filter }) => {
    const clean = name.replace(/\s+/g, " ").trim();
    if (!clean) fail("INVALID", "Name the segment", "name");
    if (clean.length > 80) fail("INVALID", "A segment name can be at most 80 characters", "name");
    const taken = await ctx.db
      .query("contactSegments")
      .withIndex("by_tenant_name", (q) => q.eq("tenantId", ctx.tenant._id).eq("name", clean))
      .first();
    if (taken) fail("CONFLICT", `A segment is already called “${clean}”`, "name");
    const segmentId = await ctx.db.insert("contactSegments", {
      tenantId: ctx.tenant._id,
      name: clean,
      filter: Contacts.cleanFilter(filter),
      createdBy: ctx.user._id,
      createdAt: Date.now(),
    });
    await Audit.record(ctx, {
      tenantId: ctx.tenant._id,
      actor: ctx.user,
      action: "segment.saved",
      targetType: "contactSegment",
      targetId: segmentId,
      summary: `${ctx.user.name} saved the segment “${clean}”`,
    });
    return segmentId;
  },
});

export const removeSegment = tenantMutation({
  role: "agent",
  args: { segmentId: v.id("contactSegments") },
  returns: v.null(),
  handler: async (ctx, { segmentId }) => {
    const segment = await ctx.db.get("contactSegments", segmentId);
    if (!segment || segment.tenantId !== ctx.tenant._id) fail("NOT_FOUND", "No such segment");
    await ctx.db.delete("contactSegments", segmentId);
    await Audit.record(ctx, {
      tenantId: ctx.tenant._id,
      actor: ctx.user,
      action: "segment.removed",
      targetType: "contactSegment",
      targetId: segmentId,
      summary: `${ctx.user.name} removed the segment “${segment.name}”`,
    });
    return null;
  },
});

// ---------------------------------------------------------------- export

/** A page of the export (the CSV route reads page after page as the signed-in admin). */
export const exportPage = tenantQuery({
  role: "admin",
  args: {
    filter: v.optional(vContactFilter),
    segmentId: v.optional(v.id("contactSegments")),
    paginationOpts: paginationOptsValidator,
  },
  returns: paginationResultValidator(Contacts.vContactRow),
  handler: async (ctx, { filter, segmentId, paginationOpts }) => {
    let chosen = filter ?? {};
    if (segmentId) {
      const segment = await ctx.db.get("contactSegments", segmentId);
      if (!segment || segment.tenantId !== ctx.tenant._id) fail("NOT_FOUND", "No such segment");
      chosen = segment.filter;
    }
    const page = await Contacts.listContacts(ctx, ctx.tenant._id, chosen, paginationOpts, 1000);
    return { ...page, page: page.page.map(Contacts.rowOf) };
  },
});

// ---------------------------------------------------------------- maintenance

/**
 * Gives contacts stored before search existed their search text, 200 per run, then schedules
 * the next batch: `npx convex run contacts:backfillSearchText` (docs/operations.md). Safe to run
 * again: a contact whose text is already right is not written.
 */
export const backfillSearchText = internalMutation({
  args: { cursor: v.optional(v.union(v.string(), v.null())) },
  returns: v.object({ updated: v.number(), isDone: v.boolean() }),
  handler: async (ctx, { cursor }) => {
    const result = await ctx.db.query("contacts").paginate({ cursor: cursor ?? null, numItems: 200 });
    let updated = 0;
    for (const contact of result.page) {
      if (contact.mergedInto) continue;
      const searchText = searchTextOf(contact.name, contact.phone);
      if (contact.searchText === searchText) continue;
      await ctx.db.patch("contacts", contact._id, { searchText });
      updated++;
    }
    if (!result.isDone)
      await ctx.scheduler.runAfter(0, internal.contacts.backfillSearchText, {
        cursor: result.continueCursor,
      });
    return { updated, isDone: result.isDone };
  },
});
