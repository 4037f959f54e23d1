import { defineSchema, defineTable } from "convex/server";
import { v, type Infer } from "convex/values";
import { vWhatsAppEvent } from "./model/whatsapp/events";
import { billingTables } from "./model/billing/tables";
import { campaignTables } from "./model/campaigns/tables";
import { limitTables } from "./model/campaigns/limits";
import { reconciliationTables } from "./model/reconciliation/tables";
import { vContactFilter } from "./model/contactFilter";
import { privacyTables } from "./model/privacy/tables";

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

/** A kill switch that is on: sending stopped, by whom, since when and why (model/sending.ts). */
export const vSendingPause = v.object({
  reason: v.string(),
  since: v.number(),
  byUserId: v.id("users"),
  byEmail: v.string(),
  /** Set by a platform admin (only a platform admin lifts it), or by the workspace's owner. */
  byPlatform: v.boolean(),
});
export type SendingPause = Infer<typeof vSendingPause>;

// ---------------------------------------------------------------- WhatsApp

export const vChannelKind = v.union(v.literal("cloud"), v.literal("waha"));
export type ChannelKind = Infer<typeof vChannelKind>;

/** Delivery state of a message; outbound states only move forward (see model/whatsapp/status.ts). */
export const vMessageStatus = v.union(
  v.literal("received"),
  v.literal("queued"),
  v.literal("sending"),
  /** Was `sending` past the deadline with no answer (the process died mid-call): never sent again. */
  v.literal("unknown"),
  v.literal("sent"),
  v.literal("delivered"),
  v.literal("read"),
  v.literal("failed"),
);
export type MessageStatus = Infer<typeof vMessageStatus>;

/** How a provider error should be handled (whatsapp.md's error table). */
export const vErrorClass = v.union(
  v.literal("retryable"),
  v.literal("throttled"),
  v.literal("pair_limited"),
  v.literal("window_closed"),
  v.literal("template_invalid"),
  v.literal("auth"),
  v.literal("permanent"),
);
export type ErrorClass = Infer<typeof vErrorClass>;

export const vWebhookState = v.union(
  v.literal("pending"),
  v.literal("done"),
  v.literal("retrying"),
  v.literal("dead"),
);

export const vPricing = v.object({
  billable: v.optional(v.boolean()),
  model: v.optional(v.string()),
  type: v.optional(v.string()),
  category: v.optional(v.string()),
});

export const vConversationState = v.union(
  v.literal("bot"),
  v.literal("waiting"),
  v.literal("human"),
  v.literal("closed"),
);
export type ConversationState = Infer<typeof vConversationState>;

export const vMessageOrigin = v.union(
  v.literal("agent"),
  v.literal("assistant"),
  v.literal("campaign"),
  v.literal("system"),
);
export type MessageOrigin = Infer<typeof vMessageOrigin>;

// ---------------------------------------------------------------- contacts

export { vContactFilter, type ContactFilter } from "./model/contactFilter";

export const vImportedContact = v.object({
  name: v.optional(v.string()),
  phone: v.string(),
  tags: v.optional(v.array(v.string())),
  fields: v.optional(v.array(v.object({ key: v.string(), value: v.string() }))),
});
export type ImportedContact = Infer<typeof vImportedContact>;

export const vContactImportStatus = v.union(
  v.literal("analyzing"),
  v.literal("mapping"),
  v.literal("parsing"),
  v.literal("importing"),
  v.literal("done"),
  v.literal("cancelled"),
  v.literal("failed"),
);
export type ContactImportStatus = Infer<typeof vContactImportStatus>;

export default defineSchema({
  jobStatus: defineTable(vJobStatus.fields).index("by_job", ["job"]),

  /** Platform-wide settings: one row, key "global" (the global sending switch lives here). */
  platformSettings: defineTable({
    key: v.literal("global"),
    sendingPause: v.optional(vSendingPause),
  }).index("by_key", ["key"]),

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
    /** Kept in step with memberships and channels (model/tenantDirectory.ts); unset until backfilled. */
    memberCount: v.optional(v.number()),
    channelCount: v.optional(v.number()),
    /** The workspace's sending switch is off (model/sending.ts); absent while sending is on. */
    sendingPause: v.optional(vSendingPause),
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

  // ---------------------------------------------------------------- WhatsApp
  /** A WhatsApp number connected through Meta's Cloud API or a WAHA session. */
  channels: defineTable({
    tenantId: v.id("tenants"),
    kind: vChannelKind,
    name: v.string(),
    enabled: v.boolean(),
    // Cloud API
    phoneNumberId: v.optional(v.string()),
    wabaId: v.optional(v.string()),
    displayNumber: v.optional(v.string()),
    // WAHA
    baseUrl: v.optional(v.string()),
    session: v.optional(v.string()),
    /** AES-256-GCM ciphertext of the channel's secrets (model/whatsapp/secrets.ts); never sent to browsers. */
    secrets: v.string(),
    /** Last four characters of each secret, for people to recognise them. */
    secretHints: v.record(v.string(), v.string()),
    // Health
    lastWebhookAt: v.optional(v.number()),
    wahaStatus: v.optional(v.string()),
    qualityRating: v.optional(v.string()),
    messagingTier: v.optional(v.string()),
    createdBy: v.id("users"),
    createdAt: v.number(),
  })
    .index("by_tenant", ["tenantId"])
    .index("by_phone_number_id", ["phoneNumberId"])
    // Template and quality webhooks name the WABA, not the number.
    .index("by_waba_id", ["wabaId"]),

  /**
   * Every webhook event accepted, stored before it is acknowledged, once per channel and dedupe key.
   * Processing is scheduled and idempotent; failures retry with backoff and finally wait in
   * the dead-letter list (state "dead") for a platform admin to replay.
   */
  webhookEvents: defineTable({
    provider: vChannelKind,
    dedupeKey: v.string(),
    channelId: v.optional(v.id("channels")),
    tenantId: v.optional(v.id("tenants")),
    /** The normalised event (model/whatsapp/events.ts), and its kind for indexes. */
    kind: v.string(),
    event: vWhatsAppEvent,
    state: vWebhookState,
    attempts: v.number(),
    lastError: v.optional(v.string()),
    receivedAt: v.number(),
    processedAt: v.optional(v.number()),
  })
    // Dedupe keys are unique per channel (unrouted events: channelId undefined), never globally:
    // one tenant's webhooks must not be able to mark another tenant's events as duplicates.
    .index("by_channel_dedupe", ["channelId", "dedupeKey"])
    .index("by_state_received", ["state", "receivedAt"])
    .index("by_channel_received", ["channelId", "receivedAt"])
    // Latest-wins checks for template, quality and session events that arrive out of order.
    .index("by_channel_kind_received", ["channelId", "kind", "receivedAt"]),

  /** A person the tenant talks to, under an internal id; identifiers live in contactAliases. */
  contacts: defineTable({
    tenantId: v.id("tenants"),
    name: v.optional(v.string()),
    /** E.164, when known. */
    phone: v.optional(v.string()),
    createdAt: v.number(),
    lastInboundAt: v.optional(v.number()),
    /**
     * Set when this contact was merged into another: lookups follow it while its history moves
     * over in the background (model/whatsapp/contacts.ts); the row goes once everything moved.
     */
    mergedInto: v.optional(v.id("contacts")),
    /** Set while the contact has opted out of messages (model/consent.ts keeps the history). */
    optedOutAt: v.optional(v.number()),
    /**
     * Set while the person has stopped marketing messages in WhatsApp itself (user_preferences,
     * error 131050): marketing templates are not sent; replies and utility templates still are.
     */
    marketingOptedOutAt: v.optional(v.number()),
    /** Tags as people wrote them; `contactTags` indexes them (model/contacts.ts). */
    tags: v.optional(v.array(v.string())),
    /** Custom field values, keyed by the tenant's field definitions (`contactFields`). */
    fields: v.optional(v.array(v.object({ key: v.string(), value: v.string() }))),
    /** Name and phone digits, lowercased, for the search index (model/contacts.ts). */
    searchText: v.optional(v.string()),
  })
    .index("by_tenant_phone", ["tenantId", "phone"])
    .index("by_tenant_created", ["tenantId", "createdAt"])
    .index("by_tenant_last_inbound", ["tenantId", "lastInboundAt"])
    .index("by_tenant_opted_out", ["tenantId", "optedOutAt"])
    // Export and erasure find contacts merged into one whose history is still moving.
    .index("by_merged_into", ["mergedInto"])
    .searchIndex("search_contacts", { searchField: "searchText", filterFields: ["tenantId"] }),

  /** One row per tag of a contact, so a tag filter reads only its contacts. `tag` is lowercased. */
  contactTags: defineTable({
    tenantId: v.id("tenants"),
    tag: v.string(),
    contactId: v.id("contacts"),
  })
    .index("by_tenant_tag", ["tenantId", "tag", "contactId"])
    .index("by_contact", ["contactId"]),

  /** A tenant's tags with how many contacts carry each: the tag chips and exact tag counts. */
  contactTagCounts: defineTable({
    tenantId: v.id("tenants"),
    tag: v.string(),
    label: v.string(),
    count: v.number(),
  }).index("by_tenant_tag", ["tenantId", "tag"]),

  /** A tenant's custom contact fields and their types. */
  contactFields: defineTable({
    tenantId: v.id("tenants"),
    key: v.string(),
    type: v.union(v.literal("text"), v.literal("number"), v.literal("date")),
    createdAt: v.number(),
  }).index("by_tenant_key", ["tenantId", "key"]),

  /** A saved contact filter; its count is computed live (model/contacts.ts). */
  contactSegments: defineTable({
    tenantId: v.id("tenants"),
    name: v.string(),
    filter: vContactFilter,
    createdBy: v.id("users"),
    createdAt: v.number(),
  }).index("by_tenant_name", ["tenantId", "name"]),

  /**
   * A CSV import (model/contactImport.ts): the uploaded file, the column mapping, and progress,
   * which the page reads live so it survives a reload. Its contacts wait in
   * `contactImportChunks` and are written a chunk per scheduled mutation.
   */
  contactImports: defineTable({
    tenantId: v.id("tenants"),
    createdBy: v.id("users"),
    fileName: v.string(),
    storageId: v.optional(v.id("_storage")),
    status: vContactImportStatus,
    encoding: v.optional(v.string()),
    delimiter: v.optional(v.string()),
    headers: v.optional(v.array(v.string())),
    columns: v.optional(v.array(v.string())),
    sample: v.optional(v.array(v.array(v.string()))),
    /** Records after the header (blank lines aside). */
    totalRows: v.optional(v.number()),
    chunksTotal: v.optional(v.number()),
    chunksDone: v.number(),
    /** Contacts in the file after in-file duplicates were merged. */
    contactsTotal: v.optional(v.number()),
    contactsDone: v.number(),
    created: v.number(),
    /** Contacts of the file that matched an existing contact by phone. */
    merged: v.number(),
    /** Rows merged into an earlier row of the same file. */
    duplicatesInFile: v.number(),
    errorCount: v.number(),
    failure: v.optional(v.string()),
    createdAt: v.number(),
    finishedAt: v.optional(v.number()),
  }).index("by_tenant_created", ["tenantId", "createdAt"]),

  contactImportChunks: defineTable({
    importId: v.id("contactImports"),
    index: v.number(),
    contacts: v.array(vImportedContact),
  }).index("by_import_index", ["importId", "index"]),

  /** Rows of an import that could not be read: row number (header = 1) and why. */
  contactImportErrors: defineTable({
    importId: v.id("contactImports"),
    row: v.number(),
    reason: v.string(),
  }).index("by_import_row", ["importId", "row"]),

  /** Every opt-out and opt-in of a contact: what, how, when, and the message or person behind it. */
  consentEvents: defineTable({
    tenantId: v.id("tenants"),
    contactId: v.id("contacts"),
    kind: v.union(v.literal("opt_out"), v.literal("opt_in")),
    source: v.union(
      v.literal("keyword"),
      v.literal("button"),
      v.literal("user_preferences"),
      v.literal("error_131050"),
      v.literal("agent"),
      // A contact created again with the number of an erased person who had opted out.
      v.literal("suppression"),
    ),
    /** What it covers: every message (absent means this too), or marketing messages only. */
    scope: v.optional(v.union(v.literal("all"), v.literal("marketing"))),
    messageId: v.optional(v.id("messages")),
    userId: v.optional(v.id("users")),
    text: v.optional(v.string()),
    at: v.number(),
  }).index("by_contact_at", ["contactId", "at"]),

  contactAliases: defineTable({
    tenantId: v.id("tenants"),
    kind: v.union(
      v.literal("phone"),
      v.literal("wa_id"),
      v.literal("waha_chat"),
      v.literal("lid"),
      v.literal("bsuid"),
    ),
    value: v.string(),
    contactId: v.id("contacts"),
  })
    .index("by_tenant_kind_value", ["tenantId", "kind", "value"])
    .index("by_contact", ["contactId"]),

  conversations: defineTable({
    tenantId: v.id("tenants"),
    channelId: v.id("channels"),
    contactId: v.id("contacts"),
    lastMessageAt: v.number(),
    /** The customer-service window: 24 h from the contact's last message. */
    lastInboundAt: v.optional(v.number()),
    /**
     * Who answers (model/conversations.ts): the assistant ("bot", also when absent), nobody yet
     * after a handoff ("waiting"), a person ("human"), or nobody ("closed").
     */
    state: v.optional(vConversationState),
    assigneeId: v.optional(v.id("users")),
    /** Inbound messages since an agent last opened the conversation. */
    unread: v.optional(v.number()),
    /** Why and when the assistant handed off, with its summary for the agent. */
    handoff: v.optional(v.object({ reason: v.string(), summary: v.string(), at: v.number() })),
    /** When a person last wrote or took over: the bot stays quiet until hand-back or idle timeout. */
    humanAt: v.optional(v.number()),
    /**
     * When the assistant last got the conversation back (hand-back, idle timeout, close): what
     * the customer wrote before it (e.g. an answered request for a person) does not count again.
     */
    botSince: v.optional(v.number()),
    /** The assistant's rolling summary of the conversation before its recent turns. */
    summary: v.optional(v.string()),
    /** The next assistant turn: due after a short quiet period, so a burst gets one answer. */
    turnDueAt: v.optional(v.number()),
    /** Set while a turn runs: one turn at a time per conversation. */
    turnStartedAt: v.optional(v.number()),
    /** Start times of recent assistant turns, for the per-customer throttle. */
    recentTurns: v.optional(v.array(v.number())),
  })
    .index("by_tenant_state_last", ["tenantId", "state", "lastMessageAt"])
    .index("by_channel_contact", ["channelId", "contactId"])
    // Merging two contacts moves the conversations of one to the other.
    .index("by_contact", ["contactId"])
    .index("by_tenant_last", ["tenantId", "lastMessageAt"])
    .index("by_channel_last", ["channelId", "lastMessageAt"]),

  messages: defineTable({
    tenantId: v.id("tenants"),
    channelId: v.id("channels"),
    conversationId: v.id("conversations"),
    contactId: v.id("contacts"),
    direction: v.union(v.literal("in"), v.literal("out")),
    /** wamid (Cloud API) or WAHA message id. */
    providerMessageId: v.optional(v.string()),
    type: v.string(),
    text: v.optional(v.string()),
    /** The type-specific body (media, location, interactive reply, reaction…), normalised. */
    content: v.optional(v.any()),
    status: vMessageStatus,
    statusAt: v.number(),
    errorCode: v.optional(v.number()),
    errorClass: v.optional(vErrorClass),
    errorMessage: v.optional(v.string()),
    pricing: v.optional(vPricing),
    /** Who an outbound message is from: an agent, the assistant, a campaign, or the system. */
    origin: v.optional(vMessageOrigin),
    authorId: v.optional(v.id("users")),
    /** A template message's template (free-form messages have `text`). */
    template: v.optional(
      v.object({
        name: v.string(),
        language: v.string(),
        category: v.optional(v.string()),
        parameters: v.optional(v.array(v.string())),
        /** Named templates: the body variable each parameter fills, in the same order. */
        parameterNames: v.optional(v.array(v.string())),
      }),
    ),
    /** Provider calls made for this message (model/outbound.ts); retries back off between them. */
    attempts: v.optional(v.number()),
    /** Still `queued`, held by a kill switch since then; released when sending resumes. */
    heldAt: v.optional(v.number()),
    /**
     * Billing of an outbound message (model/billing/settlement.ts): "pending" once its pricing
     * (or its unbilled failure) is known, "settled" once the ledger has its entry, "error" when
     * it could not be priced (`settlementError` says why; reconciliation shows it to a person).
     */
    settlement: v.optional(
      v.union(v.literal("pending"), v.literal("settled"), v.literal("error"), v.literal("estimated")),
    ),
    /**
     * Set when reconciliation charged the rate card's estimate (or released the reservation)
     * because no status came within the deadline; a later real status settles the difference.
     */
    estimatedAt: v.optional(v.number()),
    settlementError: v.optional(v.string()),
    /** When the pricing arrived: the rate in force then applies. */
    pricedAt: v.optional(v.number()),
    /** The reservation the send was made under (a campaign batch, or the message's own). */
    reservationKey: v.optional(v.string()),
    providerTimestamp: v.optional(v.number()),
    createdAt: v.number(),
  })
    .index("by_settlement", ["settlement"])
    .index("by_conversation_created", ["conversationId", "createdAt"])
    .index("by_channel_provider_id", ["channelId", "providerMessageId"])
    .index("by_channel_created", ["channelId", "createdAt"])
    /** Messages stuck in `sending` past the deadline (model/outbound.ts resolveStuckSending). */
    .index("by_status_at", ["status", "statusAt"])
    // Reconciliation: sends with no status, and stuck sends, past their deadlines.
    .index("by_status_settlement_status_at", ["status", "settlement", "statusAt"])
    // Reconciliation: what Meta billed per day against what the rate card expected.
    .index("by_priced_at", ["pricedAt"]),

  /** Queued messages a kill switch stopped at claim time, to release when sending resumes. */
  heldMessages: defineTable({
    tenantId: v.id("tenants"),
    messageId: v.id("messages"),
    heldAt: v.number(),
  })
    .index("by_tenant", ["tenantId", "heldAt"])
    .index("by_held_at", ["heldAt"]),

  /**
   * A message template of a Cloud API channel (model/templates.ts): a tenant's draft (status
   * DRAFT) or a template Meta knows (PENDING, APPROVED, REJECTED, PAUSED, DISABLED, FLAGGED, …),
   * kept in step by template webhooks and, when those stay silent, by polling.
   */
  templates: defineTable({
    tenantId: v.id("tenants"),
    channelId: v.id("channels"),
    name: v.string(),
    language: v.string(),
    /** The category Meta gives it (it may differ from the one asked for: see categoryChange). */
    category: v.optional(v.string()),
    status: v.string(),
    providerTemplateId: v.optional(v.string()),
    /** Why it was rejected, paused or disabled, as Meta says it (INVALID_FORMAT, PROMOTIONAL, …). */
    reason: v.optional(v.string()),
    updatedAt: v.number(),
    /** Meta's component objects (HEADER, BODY, FOOTER, BUTTONS with examples), as submitted. */
    components: v.optional(v.array(v.any())),
    parameterFormat: v.optional(v.union(v.literal("POSITIONAL"), v.literal("NAMED"))),
    /** The category the tenant asked for when it was submitted. */
    requestedCategory: v.optional(v.string()),
    /** rejection_info.recommendation, or other_info.title of a pause. */
    recommendation: v.optional(v.string()),
    /** GREEN, YELLOW, RED, UNKNOWN. */
    qualityScore: v.optional(v.string()),
    /**
     * Meta moving the template to another category (it changes the price): announced ahead
     * (`correct_category`), or done. Campaigns pause sends of a template whose change is not
     * acknowledged; an admin acknowledges it on the templates page.
     */
    categoryChange: v.optional(
      v.object({
        from: v.string(),
        to: v.string(),
        state: v.union(v.literal("announced"), v.literal("changed")),
        at: v.number(),
        effectiveAt: v.optional(v.number()),
        acknowledgedAt: v.optional(v.number()),
        acknowledgedBy: v.optional(v.id("users")),
      }),
    ),
    /** When Meta last changed its category (for campaigns: sends after this cost the new price). */
    recategorisedAt: v.optional(v.number()),
    createdAt: v.optional(v.number()),
    createdBy: v.optional(v.id("users")),
    submittedAt: v.optional(v.number()),
    submittedBy: v.optional(v.id("users")),
    /** Set while a submission is with the provider, so two clicks never submit twice. */
    submittingAt: v.optional(v.number()),
    /** The provider's refusal of the last submission or poll, for people to read. */
    lastError: v.optional(v.string()),
    /** When to ask Meta for the status (pending too long, or a re-categorisation due); unset: never. */
    pollAt: v.optional(v.number()),
    pollAttempts: v.optional(v.number()),
    /** When a poll last read Meta's state: webhook events older than this change nothing. */
    polledAt: v.optional(v.number()),
  })
    .index("by_channel_name_language", ["channelId", "name", "language"])
    .index("by_provider_template_id", ["providerTemplateId"])
    .index("by_poll_at", ["pollAt"])
    // Campaigns find templates whose category changed.
    .index("by_tenant_recategorised", ["tenantId", "recategorisedAt"]),

  // ---------------------------------------------------------------- assistant

  /** A tenant's AI assistant (model/assistant/settings.ts); absent means the defaults. */
  assistants: defineTable({
    tenantId: v.id("tenants"),
    enabled: v.boolean(),
    name: v.string(),
    persona: v.string(),
    instructions: v.string(),
    languages: v.array(v.string()),
    businessHours: v.string(),
    handoffRules: v.string(),
    model: v.string(),
    fallbackModel: v.string(),
    disabledChannels: v.array(v.id("channels")),
    turnsPerMinute: v.number(),
    /** A conversation a person left idle this long goes back to the assistant; 0 = never. */
    idleHandBackMinutes: v.number(),
    /** Quiet time after a customer's last message before the assistant answers (a burst gets one answer). */
    replyDelayMs: v.optional(v.number()),
    /** The model's circuit breaker: opens after repeated failures, probes again after a pause. */
    breaker: v.object({
      state: v.union(v.literal("closed"), v.literal("open"), v.literal("half_open")),
      failures: v.number(),
      openedAt: v.optional(v.number()),
      lastError: v.optional(v.string()),
    }),
    updatedAt: v.number(),
  }).index("by_tenant", ["tenantId"]),

  /** What the assistant answers from: entries a tenant writes, found by full-text search. */
  knowledgeEntries: defineTable({
    tenantId: v.id("tenants"),
    title: v.string(),
    body: v.string(),
    tags: v.array(v.string()),
    /** Title, tags and body together, for the search index. */
    searchText: v.string(),
    updatedAt: v.number(),
  })
    .index("by_tenant_updated", ["tenantId", "updatedAt"])
    .searchIndex("search_text", { searchField: "searchText", filterFields: ["tenantId"] }),

  /** One assistant turn: what ran, what it cost, how it ended. */
  assistantTurns: defineTable({
    tenantId: v.id("tenants"),
    conversationId: v.id("conversations"),
    startedAt: v.number(),
    finishedAt: v.optional(v.number()),
    engine: v.optional(v.union(v.literal("offline"), v.literal("model"))),
    model: v.optional(v.string()),
    outcome: v.optional(
      v.union(v.literal("answered"), v.literal("handoff"), v.literal("skipped"), v.literal("failed")),
    ),
    reason: v.optional(v.string()),
    inputTokens: v.optional(v.number()),
    outputTokens: v.optional(v.number()),
    knowledgeIds: v.optional(v.array(v.string())),
    /** What the customer asked in this turn (their messages since the business last answered). */
    asked: v.optional(v.string()),
    replyMessageId: v.optional(v.id("messages")),
  })
    .index("by_conversation", ["conversationId", "startedAt"])
    .index("by_tenant", ["tenantId", "startedAt"]),

  // ---------------------------------------------------------------- billing
  ...billingTables,

  // ---------------------------------------------------------------- campaigns
  ...campaignTables,

  // ---------------------------------------------------------------- messaging limits
  ...limitTables,

  // ---------------------------------------------------------------- privacy (export, erasure)
  ...privacyTables,
  // ---------------------------------------------------------------- reconciliation and retention
  ...reconciliationTables,

  // ---------------------------------------------------------------- platform overview
  /**
   * What the platform's list of workspaces shows beyond the tenant row, one row per tenant, kept
   * where the events happen (model/tenantSummaries.ts): a search text over name and address, and
   * the spend of the current month. Apart from the tenant row so that charges, which update it,
   * never touch the document every tenant function reads.
   */
  tenantSummaries: defineTable({
    tenantId: v.id("tenants"),
    /** Folded name and address ("acme shoes acme shoes"), for the search index. */
    searchText: v.string(),
    /** "YYYY-MM" (UTC) that `monthSpend` is for; an older month reads as nothing spent. */
    month: v.string(),
    /** Charges minus refunds in `month`, micro-units of the wallet's currency. */
    monthSpend: v.number(),
    /** The last charge or refund. */
    lastSpendAt: v.optional(v.number()),
  })
    .index("by_tenant", ["tenantId"])
    .searchIndex("search_tenants", { searchField: "searchText" }),
});
