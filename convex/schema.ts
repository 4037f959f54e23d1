import { defineSchema, defineTable } from "convex/server";
import { v, type Infer } from "convex/values";

// ---------------------------------------------------------------- shared validators

/** Roles in a tenant, from most to least powerful. */
export const vRole = v.union(v.literal("owner"), v.literal("admin"), v.literal("agent"), v.literal("viewer"));
export type Role = Infer<typeof vRole>;

export const vInvitationStatus = v.union(
  v.literal("pending"),
  v.literal("accepted"),
  v.literal("declined"),
  v.literal("revoked"),
);
export type InvitationStatus = Infer<typeof vInvitationStatus>;

export const vAuditScope = v.union(v.literal("tenant"), v.literal("platform"));

/** A small before/after summary of a change: field → value. */
export const vChangeSummary = v.record(v.string(), v.union(v.string(), v.number(), v.boolean(), v.null()));
export type ChangeSummary = Infer<typeof vChangeSummary>;

/** The outcome of a scheduled job's latest run, one row per job name. */
export const vJobStatus = v.object({
  job: v.string(),
  runs: v.number(),
  lastRunAt: v.number(),
  lastOk: v.boolean(),
  lastDetail: v.optional(v.string()),
});

/** An email as kept in the `emails` table (without its creation time). */
export const vEmailRecord = v.object({
  tenantId: v.optional(v.id("tenants")),
  to: v.string(),
  subject: v.string(),
  text: v.optional(v.string()),
  html: v.optional(v.string()),
  kind: v.string(),
  provider: v.union(v.literal("outbox"), v.literal("resend")),
  status: v.union(v.literal("stored"), v.literal("sent"), v.literal("failed")),
  providerMessageId: v.optional(v.string()),
  error: v.optional(v.string()),
});
export type EmailRecord = Infer<typeof vEmailRecord>;

export const vTenantSettings = v.object({
  name: v.string(),
  currency: v.string(),
  timeZone: v.string(),
  /** ISO 3166-1 alpha-2 country whose calling code applies to numbers written without one. */
  defaultCountry: v.string(),
});
export type TenantSettings = Infer<typeof vTenantSettings>;

export default defineSchema({
  jobStatus: defineTable(vJobStatus.fields).index("by_job", ["job"]),

  // ---------------------------------------------------------------- identity and tenancy
  users: defineTable({
    /** `iss|sub` of the verified token: the only key identity is looked up by. */
    tokenIdentifier: v.string(),
    email: v.string(),
    name: v.string(),
    isPlatformAdmin: v.boolean(),
    lastTenantId: v.optional(v.id("tenants")),
    createdAt: v.number(),
    lastSeenAt: v.number(),
  })
    .index("by_token", ["tokenIdentifier"])
    .index("by_email", ["email"]),

  tenants: defineTable({
    ...vTenantSettings.fields,
    slug: v.string(),
    createdBy: v.id("users"),
    createdAt: v.number(),
  }).index("by_slug", ["slug"]),

  memberships: defineTable({
    tenantId: v.id("tenants"),
    userId: v.id("users"),
    role: vRole,
    createdAt: v.number(),
  })
    .index("by_tenant_user", ["tenantId", "userId"])
    .index("by_tenant_role", ["tenantId", "role"])
    .index("by_user", ["userId"]),

  invitations: defineTable({
    tenantId: v.id("tenants"),
    email: v.string(),
    role: vRole,
    status: vInvitationStatus,
    /** SHA-256 of the token in the emailed link; the token itself is never stored. */
    tokenHash: v.optional(v.string()),
    expiresAt: v.number(),
    invitedBy: v.id("users"),
    createdAt: v.number(),
    respondedAt: v.optional(v.number()),
    respondedBy: v.optional(v.id("users")),
    /** Set when the email could not be sent. */
    deliveryError: v.optional(v.string()),
  })
    .index("by_tenant_status", ["tenantId", "status"])
    .index("by_token_hash", ["tokenHash"])
    .index("by_tenant_email_status", ["tenantId", "email", "status"]),

  /**
   * Every email the product sends. Without a Resend key this table is the mailbox (the embedded
   * default); with one it is the delivery log, and bodies holding secrets are not kept.
   */
  emails: defineTable({ ...vEmailRecord.fields, createdAt: v.number() })
    .index("by_tenant_created", ["tenantId", "createdAt"])
    .index("by_created", ["createdAt"]),

  // ---------------------------------------------------------------- audit
  auditEvents: defineTable({
    scope: vAuditScope,
    tenantId: v.optional(v.id("tenants")),
    actorId: v.optional(v.id("users")),
    actorEmail: v.string(),
    action: v.string(),
    targetType: v.string(),
    targetId: v.optional(v.string()),
    summary: v.string(),
    before: v.optional(vChangeSummary),
    after: v.optional(vChangeSummary),
    at: v.number(),
  })
    .index("by_tenant_at", ["tenantId", "at"])
    .index("by_tenant_action_at", ["tenantId", "action", "at"])
    .index("by_tenant_actor_at", ["tenantId", "actorId", "at"])
    .index("by_tenant_action_actor_at", ["tenantId", "action", "actorId", "at"])
    .index("by_at", ["at"])
    .index("by_action_at", ["action", "at"])
    .index("by_actor_at", ["actorId", "at"])
    .index("by_action_actor_at", ["action", "actorId", "at"]),
});
