/* eslint-disable */
/**
 * Generated `api` utility.
 *
 * THIS CODE IS AUTOMATICALLY GENERATED.
 *
 * To regenerate, run `npx convex dev`.
 * @module
 */

import type {
  ApiFromModules,
  FilterApi,
  FunctionReference,
} from "convex/server";
import type * as access from "../access.js";
import type * as admin from "../admin.js";
import type * as assistant from "../assistant.js";
import type * as audit from "../audit.js";
import type * as billing from "../billing.js";
import type * as billingAlerts from "../billingAlerts.js";
import type * as campaigns from "../campaigns.js";
import type * as channels from "../channels.js";
import type * as contactImports from "../contactImports.js";
import type * as contacts from "../contacts.js";
import type * as conversations from "../conversations.js";
import type * as crons from "../crons.js";
import type * as deadLetters from "../deadLetters.js";
import type * as emails from "../emails.js";
import type * as env from "../env.js";
import type * as functions from "../functions.js";
import type * as http from "../http.js";
import type * as invitations from "../invitations.js";
import type * as members from "../members.js";
import type * as model_assistant_model from "../model/assistant/model.js";
import type * as model_assistant_offline from "../model/assistant/offline.js";
import type * as model_assistant_settings from "../model/assistant/settings.js";
import type * as model_assistant_summary from "../model/assistant/summary.js";
import type * as model_assistant_turns from "../model/assistant/turns.js";
import type * as model_audit from "../model/audit.js";
import type * as model_billing_admin from "../model/billing/admin.js";
import type * as model_billing_aiPrices from "../model/billing/aiPrices.js";
import type * as model_billing_alerts from "../model/billing/alerts.js";
import type * as model_billing_callingCodes from "../model/billing/callingCodes.js";
import type * as model_billing_charging from "../model/billing/charging.js";
import type * as model_billing_currencies from "../model/billing/currencies.js";
import type * as model_billing_history from "../model/billing/history.js";
import type * as model_billing_invariant from "../model/billing/invariant.js";
import type * as model_billing_ledger from "../model/billing/ledger.js";
import type * as model_billing_markets from "../model/billing/markets.js";
import type * as model_billing_money from "../model/billing/money.js";
import type * as model_billing_published from "../model/billing/published.js";
import type * as model_billing_rateCardSeed from "../model/billing/rateCardSeed.js";
import type * as model_billing_rateEditor from "../model/billing/rateEditor.js";
import type * as model_billing_rates from "../model/billing/rates.js";
import type * as model_billing_settlement from "../model/billing/settlement.js";
import type * as model_billing_spend from "../model/billing/spend.js";
import type * as model_billing_tables from "../model/billing/tables.js";
import type * as model_billing_wallet from "../model/billing/wallet.js";
import type * as model_campaigns_counters from "../model/campaigns/counters.js";
import type * as model_campaigns_dispatch from "../model/campaigns/dispatch.js";
import type * as model_campaigns_estimate from "../model/campaigns/estimate.js";
import type * as model_campaigns_lifecycle from "../model/campaigns/lifecycle.js";
import type * as model_campaigns_limits from "../model/campaigns/limits.js";
import type * as model_campaigns_pacing from "../model/campaigns/pacing.js";
import type * as model_campaigns_progress from "../model/campaigns/progress.js";
import type * as model_campaigns_rate from "../model/campaigns/rate.js";
import type * as model_campaigns_tables from "../model/campaigns/tables.js";
import type * as model_consent from "../model/consent.js";
import type * as model_contactConsent from "../model/contactConsent.js";
import type * as model_contactFilter from "../model/contactFilter.js";
import type * as model_contactImport from "../model/contactImport.js";
import type * as model_contactTags from "../model/contactTags.js";
import type * as model_contacts from "../model/contacts.js";
import type * as model_contactsCsv from "../model/contactsCsv.js";
import type * as model_conversations from "../model/conversations.js";
import type * as model_emails from "../model/emails.js";
import type * as model_errors from "../model/errors.js";
import type * as model_handoff from "../model/handoff.js";
import type * as model_health from "../model/health.js";
import type * as model_invitationExpiry from "../model/invitationExpiry.js";
import type * as model_invitations from "../model/invitations.js";
import type * as model_knowledge from "../model/knowledge.js";
import type * as model_outbound from "../model/outbound.js";
import type * as model_phrases from "../model/phrases.js";
import type * as model_privacy_erase from "../model/privacy/erase.js";
import type * as model_privacy_export from "../model/privacy/export.js";
import type * as model_privacy_suppression from "../model/privacy/suppression.js";
import type * as model_privacy_tables from "../model/privacy/tables.js";
import type * as model_rateLimits from "../model/rateLimits.js";
import type * as model_reconciliation_campaignJobs from "../model/reconciliation/campaignJobs.js";
import type * as model_reconciliation_jobs from "../model/reconciliation/jobs.js";
import type * as model_reconciliation_messageJobs from "../model/reconciliation/messageJobs.js";
import type * as model_reconciliation_moneyJobs from "../model/reconciliation/moneyJobs.js";
import type * as model_reconciliation_retention from "../model/reconciliation/retention.js";
import type * as model_reconciliation_runs from "../model/reconciliation/runs.js";
import type * as model_reconciliation_stuckSending from "../model/reconciliation/stuckSending.js";
import type * as model_reconciliation_tables from "../model/reconciliation/tables.js";
import type * as model_sending from "../model/sending.js";
import type * as model_system from "../model/system.js";
import type * as model_templateLint from "../model/templateLint.js";
import type * as model_templateParams from "../model/templateParams.js";
import type * as model_templates from "../model/templates.js";
import type * as model_tenancy from "../model/tenancy.js";
import type * as model_tenantDirectory from "../model/tenantDirectory.js";
import type * as model_tenantSummaries from "../model/tenantSummaries.js";
import type * as model_users from "../model/users.js";
import type * as model_whatsapp_channels from "../model/whatsapp/channels.js";
import type * as model_whatsapp_cloudWebhook from "../model/whatsapp/cloudWebhook.js";
import type * as model_whatsapp_contacts from "../model/whatsapp/contacts.js";
import type * as model_whatsapp_events from "../model/whatsapp/events.js";
import type * as model_whatsapp_ingest from "../model/whatsapp/ingest.js";
import type * as model_whatsapp_payload from "../model/whatsapp/payload.js";
import type * as model_whatsapp_process from "../model/whatsapp/process.js";
import type * as model_whatsapp_secrets from "../model/whatsapp/secrets.js";
import type * as model_whatsapp_signatures from "../model/whatsapp/signatures.js";
import type * as model_whatsapp_status from "../model/whatsapp/status.js";
import type * as model_whatsapp_verify from "../model/whatsapp/verify.js";
import type * as model_whatsapp_wahaWebhook from "../model/whatsapp/wahaWebhook.js";
import type * as outbound from "../outbound.js";
import type * as privacy from "../privacy.js";
import type * as providers_email from "../providers/email.js";
import type * as providers_outboundUrls from "../providers/outboundUrls.js";
import type * as providers_waha from "../providers/waha.js";
import type * as providers_whatsappCloud from "../providers/whatsappCloud.js";
import type * as providers_whatsappErrors from "../providers/whatsappErrors.js";
import type * as reconciliation from "../reconciliation.js";
import type * as sending from "../sending.js";
import type * as shared_assistant from "../shared/assistant.js";
import type * as shared_body from "../shared/body.js";
import type * as shared_bsuid from "../shared/bsuid.js";
import type * as shared_businessHours from "../shared/businessHours.js";
import type * as shared_channels from "../shared/channels.js";
import type * as shared_csv from "../shared/csv.js";
import type * as shared_currencies from "../shared/currencies.js";
import type * as shared_limits from "../shared/limits.js";
import type * as shared_quarters from "../shared/quarters.js";
import type * as shared_roles from "../shared/roles.js";
import type * as shared_site from "../shared/site.js";
import type * as system from "../system.js";
import type * as templates from "../templates.js";
import type * as tenants from "../tenants.js";
import type * as users from "../users.js";
import type * as version from "../version.js";
import type * as whatsappHttp from "../whatsappHttp.js";
import type * as whatsappWebhooks from "../whatsappWebhooks.js";

/**
 * A utility for referencing Convex functions in your app's API.
 *
 * Usage:
 * ```js
 * const myFunctionReference = api.myModule.myFunction;
 * ```
 */
declare const fullApi: ApiFromModules<{
  access: typeof access;
  admin: typeof admin;
  assistant: typeof assistant;
  audit: typeof audit;
  billing: typeof billing;
  billingAlerts: typeof billingAlerts;
  campaigns: typeof campaigns;
  channels: typeof channels;
  contactImports: typeof contactImports;
  contacts: typeof contacts;
  conversations: typeof conversations;
  crons: typeof crons;
  deadLetters: typeof deadLetters;
  emails: typeof emails;
  env: typeof env;
  functions: typeof functions;
  http: typeof http;
  invitations: typeof invitations;
  members: typeof members;
  "model/assistant/model": typeof model_assistant_model;
  "model/assistant/offline": typeof model_assistant_offline;
  "model/assistant/settings": typeof model_assistant_settings;
  "model/assistant/summary": typeof model_assistant_summary;
  "model/assistant/turns": typeof model_assistant_turns;
  "model/audit": typeof model_audit;
  "model/billing/admin": typeof model_billing_admin;
  "model/billing/aiPrices": typeof model_billing_aiPrices;
  "model/billing/alerts": typeof model_billing_alerts;
  "model/billing/callingCodes": typeof model_billing_callingCodes;
  "model/billing/charging": typeof model_billing_charging;
  "model/billing/currencies": typeof model_billing_currencies;
  "model/billing/history": typeof model_billing_history;
  "model/billing/invariant": typeof model_billing_invariant;
  "model/billing/ledger": typeof model_billing_ledger;
  "model/billing/markets": typeof model_billing_markets;
  "model/billing/money": typeof model_billing_money;
  "model/billing/published": typeof model_billing_published;
  "model/billing/rateCardSeed": typeof model_billing_rateCardSeed;
  "model/billing/rateEditor": typeof model_billing_rateEditor;
  "model/billing/rates": typeof model_billing_rates;
  "model/billing/settlement": typeof model_billing_settlement;
  "model/billing/spend": typeof model_billing_spend;
  "model/billing/tables": typeof model_billing_tables;
  "model/billing/wallet": typeof model_billing_wallet;
  "model/campaigns/counters": typeof model_campaigns_counters;
  "model/campaigns/dispatch": typeof model_campaigns_dispatch;
  "model/campaigns/estimate": typeof model_campaigns_estimate;
  "model/campaigns/lifecycle": typeof model_campaigns_lifecycle;
  "model/campaigns/limits": typeof model_campaigns_limits;
  "model/campaigns/pacing": typeof model_campaigns_pacing;
  "model/campaigns/progress": typeof model_campaigns_progress;
  "model/campaigns/rate": typeof model_campaigns_rate;
  "model/campaigns/tables": typeof model_campaigns_tables;
  "model/consent": typeof model_consent;
  "model/contactConsent": typeof model_contactConsent;
  "model/contactFilter": typeof model_contactFilter;
  "model/contactImport": typeof model_contactImport;
  "model/contactTags": typeof model_contactTags;
  "model/contacts": typeof model_contacts;
  "model/contactsCsv": typeof model_contactsCsv;
  "model/conversations": typeof model_conversations;
  "model/emails": typeof model_emails;
  "model/errors": typeof model_errors;
  "model/handoff": typeof model_handoff;
  "model/health": typeof model_health;
  "model/invitationExpiry": typeof model_invitationExpiry;
  "model/invitations": typeof model_invitations;
  "model/knowledge": typeof model_knowledge;
  "model/outbound": typeof model_outbound;
  "model/phrases": typeof model_phrases;
  "model/privacy/erase": typeof model_privacy_erase;
  "model/privacy/export": typeof model_privacy_export;
  "model/privacy/suppression": typeof model_privacy_suppression;
  "model/privacy/tables": typeof model_privacy_tables;
  "model/rateLimits": typeof model_rateLimits;
  "model/reconciliation/campaignJobs": typeof model_reconciliation_campaignJobs;
  "model/reconciliation/jobs": typeof model_reconciliation_jobs;
  "model/reconciliation/messageJobs": typeof model_reconciliation_messageJobs;
  "model/reconciliation/moneyJobs": typeof model_reconciliation_moneyJobs;
  "model/reconciliation/retention": typeof model_reconciliation_retention;
  "model/reconciliation/runs": typeof model_reconciliation_runs;
  "model/reconciliation/stuckSending": typeof model_reconciliation_stuckSending;
  "model/reconciliation/tables": typeof model_reconciliation_tables;
  "model/sending": typeof model_sending;
  "model/system": typeof model_system;
  "model/templateLint": typeof model_templateLint;
  "model/templateParams": typeof model_templateParams;
  "model/templates": typeof model_templates;
  "model/tenancy": typeof model_tenancy;
  "model/tenantDirectory": typeof model_tenantDirectory;
  "model/tenantSummaries": typeof model_tenantSummaries;
  "model/users": typeof model_users;
  "model/whatsapp/channels": typeof model_whatsapp_channels;
  "model/whatsapp/cloudWebhook": typeof model_whatsapp_cloudWebhook;
  "model/whatsapp/contacts": typeof model_whatsapp_contacts;
  "model/whatsapp/events": typeof model_whatsapp_events;
  "model/whatsapp/ingest": typeof model_whatsapp_ingest;
  "model/whatsapp/payload": typeof model_whatsapp_payload;
  "model/whatsapp/process": typeof model_whatsapp_process;
  "model/whatsapp/secrets": typeof model_whatsapp_secrets;
  "model/whatsapp/signatures": typeof model_whatsapp_signatures;
  "model/whatsapp/status": typeof model_whatsapp_status;
  "model/whatsapp/verify": typeof model_whatsapp_verify;
  "model/whatsapp/wahaWebhook": typeof model_whatsapp_wahaWebhook;
  outbound: typeof outbound;
  privacy: typeof privacy;
  "providers/email": typeof providers_email;
  "providers/outboundUrls": typeof providers_outboundUrls;
  "providers/waha": typeof providers_waha;
  "providers/whatsappCloud": typeof providers_whatsappCloud;
  "providers/whatsappErrors": typeof providers_whatsappErrors;
  reconciliation: typeof reconciliation;
  sending: typeof sending;
  "shared/assistant": typeof shared_assistant;
  "shared/body": typeof shared_body;
  "shared/bsuid": typeof shared_bsuid;
  "shared/businessHours": typeof shared_businessHours;
  "shared/channels": typeof shared_channels;
  "shared/csv": typeof shared_csv;
  "shared/currencies": typeof shared_currencies;
  "shared/limits": typeof shared_limits;
  "shared/quarters": typeof shared_quarters;
  "shared/roles": typeof shared_roles;
  "shared/site": typeof shared_site;
  system: typeof system;
  templates: typeof templates;
  tenants: typeof tenants;
  users: typeof users;
  version: typeof version;
  whatsappHttp: typeof whatsappHttp;
  whatsappWebhooks: typeof whatsappWebhooks;
}>;
export declare const api: FilterApi<
  typeof fullApi,
  FunctionReference<any, "public">
>;
export declare const internal: FilterApi<
  typeof fullApi,
  FunctionReference<any, "internal">
>;
