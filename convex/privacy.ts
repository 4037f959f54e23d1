/**
 * Data export and erasure (docs/decisions/024-export-and-erasure.md). Admins export a contact or
 * the whole workspace as JSON (made in the background, kept for a day, downloaded through the
 * app by the workspace's admins) and erase a contact on the customer's request; the owner (or a
 * platform admin) erases all the workspace's customer data after the account is closed. Every
 * request and completion is audited without the erased person's data.
 */
import { v } from "convex/values";
import { internal } from "./_generated/api";
import type { Doc, Id } from "./_generated/dataModel";
import type { MutationCtx, QueryCtx } from "./_generated/server";
import {
  internalAction,
  internalMutation,
  internalQuery,
  platformAdminMutation,
  tenantMutation,
  tenantQuery,
} from "./functions";
import * as Audit from "./model/audit";
import { contactOf } from "./model/contacts";
import { fail } from "./model/errors";
import { deleteExport, detachContact, eraseStep as runEraseStep, phasesOf } from "./model/privacy/erase";
import {
  CONTACT_SECTIONS,
  EXPORT_FORMAT,
  EXPORT_TTL_MS,
  TENANT_SECTIONS,
  exportPage as readExportPage,
  type Section,
} from "./model/privacy/export";
import { vPrivacyJobKind, vPrivacyJobState } from "./model/privacy/tables";

export const CUSTOMER_REQUEST = "On the customer's request";
export const ACCOUNT_CLOSED = "Account closed";

const vJobView = v.object({
  jobId: v.id("privacyJobs"),
  kind: vPrivacyJobKind,
  state: vPrivacyJobState,
  reference: v.string(),
  reason: v.string(),
  requestedByEmail: v.string(),
  contactId: v.union(v.id("contacts"), v.null()),
  phase: v.string(),
  phasesDone: v.number(),
  phasesTotal: v.number(),
  processed: v.number(),
  bytes: v.union(v.number(), v.null()),
  expiresAt: v.union(v.number(), v.null()),
  error: v.union(v.string(), v.null()),
  createdAt: v.number(),
  finishedAt: v.union(v.number(), v.null()),
});

function view(job: Doc<"privacyJobs">) {
  return {
    jobId: job._id,
    kind: job.kind,
    state: job.state,
    reference: job.reference,
    reason: job.reason,
    requestedByEmail: job.requestedByEmail,
    contactId: job.contactId ?? null,
    phase: job.phase,
    phasesDone: job.phasesDone,
    phasesTotal: job.phasesTotal,
    processed: job.processed,
    bytes: job.bytes ?? null,
    expiresAt: job.expiresAt ?? null,
    error: job.error ?? null,
    createdAt: job.createdAt,
    finishedAt: job.finishedAt ?? null,
  };
}

function newReference(prefix: "EXP" | "ERA"): string {
  const bytes = crypto.getRandomValues(new Uint8Array(5));
  return `${prefix}-${[...bytes]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("")
    .toUpperCase()}`;
}

async function jobOf(ctx: { db: QueryCtx["db"] }, tenantId: Id<"tenants">, jobId: Id<"privacyJobs">) {
  const job = await ctx.db.get("privacyJobs", jobId);
  if (!job || job.tenantId !== tenantId) fail("NOT_FOUND", "No such export or erasure");
  return job;
}

// ---------------------------------------------------------------- reading jobs

/** The workspace's recent exports and erasures, newest first (what the pages watch live). */
export const jobs = tenantQuery({
  role: "admin",
  args: { contactId: v.optional(v.id("contacts")) },
  returns: v.array(vJobView),
  handler: async (ctx, { contactId }) => {
    const rows = await ctx.db
      .query("privacyJobs")
      .withIndex("by_tenant_created", (q) => q.eq("tenantId", ctx.tenant._id))
      .order("desc")
      .take(contactId ? 200 : 20);
    return rows.filter((j) => !contactId || j.contactId === contactId).map(view);
  },
});

export const job = tenantQuery({
  role: "admin",
  args: { jobId: v.id("privacyJobs") },
  returns: v.union(vJobView, v.null()),
  handler: async (ctx, { jobId }) => {
    const row = await ctx.db.get("privacyJobs", jobId);
    return row && row.tenantId === ctx.tenant._id ? view(row) : null;
  },
});

/**
 * Where the app's server fetches a finished export from, for a member of the workspace with the
 * admin role (platform admins read workspaces but do not take their customers' data home). A
 * mutation, so each download is audited.
 */
export const download = tenantMutation({
  role: "admin",
  args: { jobId: v.id("privacyJobs") },
  returns: v.object({ url: v.string(), fileName: v.string(), bytes: v.number() }),
  handler: async (ctx, { jobId }) => {
    const row = await jobOf(ctx, ctx.tenant._id, jobId);
    if (!row.kind.startsWith("export_")) fail("NOT_FOUND", "No such export");
    if (row.state !== "done" || !row.storageId) fail("CONFLICT", "This export is not ready yet");
    if ((row.expiresAt ?? 0) <= Date.now()) fail("NOT_FOUND", "This export has expired: make a new one");
    const url = await ctx.storage.getUrl(row.storageId);
    if (!url) fail("NOT_FOUND", "This export has expired: make a new one");
    await Audit.record(ctx, {
      tenantId: ctx.tenant._id,
      actor: ctx.user,
      action: "privacy.export_downloaded",
      targetType: "privacyJob",
      targetId: row.reference,
      summary: `${ctx.user.name} downloaded the export ${row.reference}`,
    });
    const what = row.kind === "export_tenant" ? "workspace" : "contact";
    return { url, fileName: `${ctx.tenant.slug}-${what}-${row.reference}.json`, bytes: row.bytes ?? 0 };
  },
});

// ---------------------------------------------------------------- export

async function startExport(
  ctx: MutationCtx,
  user: Doc<"users">,
  tenantId: Id<"tenants">,
  kind: "export_contact" | "export_tenant",
  contactId?: Id<"contacts">,
) {
  const sections = kind === "export_tenant" ? TENANT_SECTIONS : CONTACT_SECTIONS;
  const reference = newReference("EXP");
  const jobId = await ctx.db.insert("privacyJobs", {
    tenantId,
    kind,
    state: "running",
    reference,
    requestedBy: user._id,
    requestedByEmail: user.email,
    reason: kind === "export_tenant" ? "Workspace export" : "Contact export",
    ...(contactId ? { contactId } : {}),
    phase: sections[0],
    phasesDone: 0,
    phasesTotal: sections.length,
    processed: 0,
    createdAt: Date.now(),
  });
  await ctx.scheduler.runAfter(0, internal.privacy.runExport, { jobId });
  await Audit.record(ctx, {
    tenantId,
    actor: user,
    action: kind === "export_tenant" ? "tenant.exported" : "contact.exported",
    targetType: kind === "export_tenant" ? "tenant" : "contact",
    targetId: kind === "export_tenant" ? tenantId : contactId,
    summary:
      kind === "export_tenant"
        ? `${user.name} exported the workspace's data (reference ${reference})`
        : `${user.name} exported a contact's data (reference ${reference})`,
  });
  return jobId;
}

export const exportContact = tenantMutation({
  role: "admin",
  args: { contactId: v.id("contacts") },
  returns: v.id("privacyJobs"),
  handler: async (ctx, { contactId }) => {
    const contact = await contactOf(ctx, ctx.tenant._id, contactId);
    return await startExport(ctx, ctx.user, ctx.tenant._id, "export_contact", contact._id);
  },
});

export const exportTenant = tenantMutation({
  role: "admin",
  args: {},
  returns: v.id("privacyJobs"),
  handler: async (ctx) => {
    const running = await ctx.db
      .query("privacyJobs")
      .withIndex("by_tenant_created", (q) => q.eq("tenantId", ctx.tenant._id))
      .order("desc")
      .take(20);
    if (running.some((j) => j.kind === "export_tenant" && j.state === "running")) {
      fail("CONFLICT", "A workspace export is already being made: wait for it to finish");
    }
    return await startExport(ctx, ctx.user, ctx.tenant._id, "export_tenant");
  },
});

export const exportJob = internalQuery({
  args: { jobId: v.id("privacyJobs") },
  returns: v.union(
    v.null(),
    v.object({ kind: vPrivacyJobKind, tenantId: v.id("tenants"), contactIds: v.array(v.id("contacts")) }),
  ),
  handler: async (ctx, { jobId }) => {
    const row = await ctx.db.get("privacyJobs", jobId);
    if (!row || row.state !== "running") return null;
    const contactIds: Id<"contacts">[] = [];
    if (row.contactId) {
      const contact = await ctx.db.get("contacts", row.contactId);
      if (contact && contact.tenantId === row.tenantId) {
        contactIds.push(contact._id);
        const merged = await ctx.db
          .query("contacts")
          .withIndex("by_merged_into", (q) => q.eq("mergedInto", contact._id))
          .take(50);
        contactIds.push(...merged.map((c) => c._id));
      }
    }
    return { kind: row.kind, tenantId: row.tenantId, contactIds };
  },
});

const vSection = v.union(
  ...[...new Set<string>([...CONTACT_SECTIONS, ...TENANT_SECTIONS])].map((s) => v.literal(s)),
);

export const exportPage = internalQuery({
  args: {
    jobId: v.id("privacyJobs"),
    section: vSection,
    cursor: v.union(v.string(), v.null()),
    parentId: v.union(v.string(), v.null()),
    contactIds: v.array(v.id("contacts")),
  },
  returns: v.object({ rows: v.array(v.any()), cursor: v.union(v.string(), v.null()), isDone: v.boolean() }),
  handler: async (ctx, { jobId, section, cursor, parentId, contactIds }) => {
    const row = await ctx.db.get("privacyJobs", jobId);
    if (!row) return { rows: [], cursor: null, isDone: true };
    return await readExportPage(ctx, row, section as Section, cursor, parentId, contactIds);
  },
});

export const exportProgress = internalMutation({
  args: { jobId: v.id("privacyJobs"), phase: v.string(), phasesDone: v.number(), processed: v.number() },
  returns: v.null(),
  handler: async (ctx, { jobId, ...progress }) => {
    const row = await ctx.db.get("privacyJobs", jobId);
    if (row && row.state === "running") await ctx.db.patch("privacyJobs", jobId, progress);
    return null;
  },
});

export const exportFinished = internalMutation({
  args: {
    jobId: v.id("privacyJobs"),
    storageId: v.optional(v.id("_storage")),
    bytes: v.optional(v.number()),
    processed: v.optional(v.number()),
    error: v.optional(v.string()),
  },
  returns: v.null(),
  handler: async (ctx, { jobId, storageId, bytes, processed, error }) => {
    const row = await ctx.db.get("privacyJobs", jobId);
    // Erased meanwhile (the export held the erased data): the file goes too.
    if (!row || row.state !== "running") {
      if (storageId) await ctx.storage.delete(storageId);
      return null;
    }
    await ctx.db.patch(
      "privacyJobs",
      jobId,
      error
        ? { state: "failed", error, finishedAt: Date.now() }
        : {
            state: "done",
            phase: "done",
            phasesDone: row.phasesTotal,
            storageId,
            bytes,
            processed: processed ?? row.processed,
            expiresAt: Date.now() + EXPORT_TTL_MS,
            finishedAt: Date.now(),
          },
    );
    return null;
  },
});

/** Reads the export section by section, a page per query, and stores it as one JSON file. */
export const runExport = internalAction({
  args: { jobId: v.id("privacyJobs") },
  returns: v.null(),
  handler: async (ctx, { jobId }) => {
    const job = await ctx.runQuery(internal.privacy.exportJob, { jobId });
    if (!job) return null;
    const sections: readonly Section[] = job.kind === "export_tenant" ? TENANT_SECTIONS : CONTACT_SECTIONS;
    try {
      if (job.kind === "export_contact" && job.contactIds.length === 0) {
        throw new Error("The contact no longer exists");
      }
      const out: Record<string, unknown[]> = {};
      let processed = 0;
      const readAll = async (section: Section, parentId: string | null) => {
        const rows: unknown[] = [];
        let cursor: string | null = null;
        for (;;) {
          const page: { rows: unknown[]; cursor: string | null; isDone: boolean } = await ctx.runQuery(
            internal.privacy.exportPage,
            { jobId, section, cursor, parentId, contactIds: job.contactIds },
          );
          rows.push(...page.rows);
          processed += page.rows.length;
          if (page.isDone) return rows;
          cursor = page.cursor;
        }
      };
      for (const [index, section] of sections.entries()) {
        await ctx.runMutation(internal.privacy.exportProgress, {
          jobId,
          phase: section,
          phasesDone: index,
          processed,
        });
        if (
          section === "messages" ||
          section === "assistantTurns" ||
          (section === "ledger" && job.kind === "export_contact")
        ) {
          const rows: unknown[] = [];
          for (const c of out.conversations as { _id: string }[])
            rows.push(...(await readAll(section, c._id)));
          out[section] = rows;
        } else if (section === "campaignRecipients") {
          const rows: unknown[] = [];
          for (const c of out.campaigns as { _id: string }[]) rows.push(...(await readAll(section, c._id)));
          out[section] = rows;
        } else {
          out[section] = await readAll(section, null);
        }
      }
      const document = {
        format: EXPORT_FORMAT,
        kind: job.kind === "export_tenant" ? "workspace" : "contact",
        exportedAt: new Date().toISOString(),
        ...(job.kind === "export_contact"
          ? {
              contact: out.contact[0] ?? null,
              mergedContacts: out.contact.slice(1),
              ...Object.fromEntries(Object.entries(out).filter(([k]) => k !== "contact")),
            }
          : out),
      };
      const json = JSON.stringify(document, null, 2);
      const blob = new Blob([json], { type: "application/json" });
      const storageId = await ctx.storage.store(blob);
      await ctx.runMutation(internal.privacy.exportFinished, {
        jobId,
        storageId,
        bytes: blob.size,
        processed,
      });
    } catch (error) {
      await ctx.runMutation(internal.privacy.exportFinished, {
        jobId,
        error: `The export could not be made: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
    return null;
  },
});

/** Deletes expired exports and their files, a batch per run (a cron calls it hourly). */
export const pruneExports = internalMutation({
  args: { now: v.optional(v.number()) },
  returns: v.object({ deleted: v.number() }),
  handler: async (ctx, { now }) => {
    const at = now ?? Date.now();
    const expired = await ctx.db
      .query("privacyJobs")
      .withIndex("by_expires", (q) => q.gt("expiresAt", 0).lte("expiresAt", at))
      .take(100);
    for (const row of expired) await deleteExport(ctx, row);
    if (expired.length === 100) await ctx.scheduler.runAfter(0, internal.privacy.pruneExports, { now: at });
    return { deleted: expired.length };
  },
});

// ---------------------------------------------------------------- erasure

function matchesConfirmation(typed: string, ...accepted: (string | undefined)[]): boolean {
  const norm = (s: string) => s.replace(/\s+/g, " ").trim().toLowerCase();
  const digits = (s: string) => s.replace(/[^\d]/g, "");
  const t = norm(typed);
  if (!t) return false;
  return accepted.some((a) => a && (norm(a) === t || (digits(a).length >= 6 && digits(a) === digits(t))));
}

/**
 * Erases a contact on the customer's request. The caller types the contact's name or number to
 * confirm. The person is cut off at once; the rest runs in steps the returned job shows.
 */
export const eraseContact = tenantMutation({
  role: "admin",
  args: { contactId: v.id("contacts"), confirm: v.string() },
  returns: v.object({ jobId: v.id("privacyJobs"), reference: v.string() }),
  handler: async (ctx, { contactId, confirm }) => {
    const contact = await contactOf(ctx, ctx.tenant._id, contactId);
    if (!matchesConfirmation(confirm, contact.name, contact.phone, contact._id)) {
      fail("INVALID", "Type the contact's name or number exactly as shown to confirm", "confirm");
    }
    const targets = await detachContact(ctx, contact);
    const reference = newReference("ERA");
    const phases = phasesOf("erase_contact");
    const jobId = await ctx.db.insert("privacyJobs", {
      tenantId: ctx.tenant._id,
      kind: "erase_contact",
      state: "running",
      reference,
      requestedBy: ctx.user._id,
      requestedByEmail: ctx.user.email,
      reason: CUSTOMER_REQUEST,
      phase: phases[0],
      phasesDone: 0,
      phasesTotal: phases.length,
      processed: 0,
      targets,
      createdAt: Date.now(),
    });
    await Audit.record(ctx, {
      tenantId: ctx.tenant._id,
      actor: ctx.user,
      action: "contact.erasure_started",
      targetType: "privacyJob",
      targetId: reference,
      summary: `${ctx.user.name} started erasing a contact (${CUSTOMER_REQUEST}; reference ${reference})`,
    });
    await ctx.scheduler.runAfter(0, internal.privacy.eraseStep, { jobId });
    return { jobId, reference };
  },
});

async function startTenantErasure(
  ctx: MutationCtx,
  user: Doc<"users">,
  tenant: Doc<"tenants">,
  confirm: string,
) {
  if (confirm.trim() !== tenant.slug) {
    fail("INVALID", `Type the workspace's address (${tenant.slug}) to confirm`, "confirm");
  }
  const recent = await ctx.db
    .query("privacyJobs")
    .withIndex("by_tenant_created", (q) => q.eq("tenantId", tenant._id))
    .order("desc")
    .take(50);
  if (recent.some((j) => j.kind === "erase_tenant" && j.state === "running")) {
    fail("CONFLICT", "The workspace's customer data is already being erased");
  }
  // The account is closed: nothing new comes in or goes out while (and after) its data goes.
  for (const channel of await ctx.db
    .query("channels")
    .withIndex("by_tenant", (q) => q.eq("tenantId", tenant._id))
    .take(100)) {
    if (channel.enabled) await ctx.db.patch("channels", channel._id, { enabled: false });
  }
  if (!tenant.sendingPause) {
    await ctx.db.patch("tenants", tenant._id, {
      sendingPause: {
        reason: ACCOUNT_CLOSED,
        since: Date.now(),
        byUserId: user._id,
        byEmail: user.email,
        byPlatform: user.isPlatformAdmin,
      },
    });
  }
  const reference = newReference("ERA");
  const phases = phasesOf("erase_tenant");
  const jobId = await ctx.db.insert("privacyJobs", {
    tenantId: tenant._id,
    kind: "erase_tenant",
    state: "running",
    reference,
    requestedBy: user._id,
    requestedByEmail: user.email,
    reason: ACCOUNT_CLOSED,
    phase: phases[0],
    phasesDone: 0,
    phasesTotal: phases.length,
    processed: 0,
    createdAt: Date.now(),
  });
  await Audit.record(ctx, {
    tenantId: tenant._id,
    actor: user,
    action: "tenant.erasure_started",
    targetType: "privacyJob",
    targetId: reference,
    summary: `${user.name} closed the account and started erasing the workspace's customer data (reference ${reference}); its channels are disabled and sending is paused`,
  });
  await ctx.scheduler.runAfter(0, internal.privacy.eraseStep, { jobId });
  return { jobId, reference };
}

/** The owner closes the account and erases every contact and conversation of the workspace. */
export const eraseTenant = tenantMutation({
  role: "owner",
  args: { confirm: v.string() },
  returns: v.object({ jobId: v.id("privacyJobs"), reference: v.string() }),
  handler: async (ctx, { confirm }) => await startTenantErasure(ctx, ctx.user, ctx.tenant, confirm),
});

/** A platform admin does the same for a closed account. */
export const eraseTenantAsPlatform = platformAdminMutation({
  args: { tenantId: v.id("tenants"), confirm: v.string() },
  returns: v.object({ jobId: v.id("privacyJobs"), reference: v.string() }),
  handler: async (ctx, { tenantId, confirm }) => {
    const tenant = await ctx.db.get("tenants", tenantId);
    if (!tenant) fail("NOT_FOUND", "No such workspace");
    return await startTenantErasure(ctx, ctx.user, tenant, confirm);
  },
});

/** Starts a failed erasure again where it stopped. */
export const resumeErasure = tenantMutation({
  role: "admin",
  args: { jobId: v.id("privacyJobs") },
  returns: v.null(),
  handler: async (ctx, { jobId }) => {
    const row = await jobOf(ctx, ctx.tenant._id, jobId);
    if (!row.kind.startsWith("erase_")) fail("INVALID", "Only an erasure can be started again");
    if (row.kind === "erase_tenant" && ctx.role !== "owner") {
      fail("FORBIDDEN", "Only the owner can erase the workspace's data");
    }
    if (row.state !== "failed") return null;
    await ctx.db.patch("privacyJobs", jobId, { state: "running", error: undefined, finishedAt: undefined });
    await ctx.scheduler.runAfter(0, internal.privacy.eraseStep, { jobId });
    return null;
  },
});

export const eraseStep = internalMutation({
  args: { jobId: v.id("privacyJobs") },
  returns: v.null(),
  handler: async (ctx, { jobId }) => {
    await runEraseStep(ctx, jobId);
    return null;
  },
});
