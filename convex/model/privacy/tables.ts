/**
 * Privacy tables (spread into convex/schema.ts): export and erasure jobs, the per-tenant salt and
 * the suppression hashes that keep an erased person's opt-out. See
 * docs/decisions/024-export-and-erasure.md.
 */
import { defineTable } from "convex/server";
import { v, type Infer } from "convex/values";

export const vPrivacyJobKind = v.union(
  v.literal("export_contact"),
  v.literal("export_tenant"),
  v.literal("erase_contact"),
  v.literal("erase_tenant"),
);
export type PrivacyJobKind = Infer<typeof vPrivacyJobKind>;

export const vPrivacyJobState = v.union(v.literal("running"), v.literal("done"), v.literal("failed"));

/**
 * What an erasure still has to find while it runs: the contacts' ids, their identifiers and name.
 * Kept on the job only until the erasure finishes (then removed with everything else).
 */
export const vErasureTargets = v.object({
  contactIds: v.array(v.id("contacts")),
  /** Phone numbers and WhatsApp identifiers: records holding one of these are the person's. */
  identifiers: v.array(v.string()),
  /** Names, redacted where text kept for other reasons mentions them (audit entries about customers, emails). */
  words: v.array(v.string()),
});
export type ErasureTargets = Infer<typeof vErasureTargets>;

export const privacyTables = {
  privacyJobs: defineTable({
    tenantId: v.id("tenants"),
    kind: vPrivacyJobKind,
    state: vPrivacyJobState,
    /** An opaque reference people quote (ERA-…/EXP-…); never the person's name or number. */
    reference: v.string(),
    requestedBy: v.id("users"),
    requestedByEmail: v.string(),
    /** Why: "On the customer's request", "Account closed", … */
    reason: v.string(),
    /** For a contact export, the contact; erasures keep no link to the person once done. */
    contactId: v.optional(v.id("contacts")),
    /** The step being worked on, its cursor, and how far it has come. */
    phase: v.string(),
    cursor: v.optional(v.union(v.string(), v.null())),
    /** A small state for steps that walk a list (e.g. the campaign or channel index). */
    position: v.optional(v.number()),
    phasesDone: v.number(),
    phasesTotal: v.number(),
    /** Records exported, or deleted and redacted, so far. */
    processed: v.number(),
    targets: v.optional(vErasureTargets),
    /** The export file, and when it (and the file) is deleted. */
    storageId: v.optional(v.id("_storage")),
    bytes: v.optional(v.number()),
    expiresAt: v.optional(v.number()),
    error: v.optional(v.string()),
    createdAt: v.number(),
    finishedAt: v.optional(v.number()),
  })
    .index("by_tenant_created", ["tenantId", "createdAt"])
    .index("by_expires", ["expiresAt"]),

  /** A tenant's secret salt for suppression hashes (created with its first erasure). */
  privacySalts: defineTable({
    tenantId: v.id("tenants"),
    salt: v.string(),
  }).index("by_tenant", ["tenantId"]),

  /**
   * An erased person who had opted out: HMAC-SHA-256 of their E.164 number under the tenant's
   * salt. A contact created again with that number (an import, a new message) starts opted out.
   */
  suppressions: defineTable({
    tenantId: v.id("tenants"),
    hash: v.string(),
    scope: v.union(v.literal("all"), v.literal("marketing")),
    at: v.number(),
  }).index("by_tenant_hash", ["tenantId", "hash"]),
};
