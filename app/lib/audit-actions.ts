// The audit actions the backend records (convex/model/*: `Audit.record` calls), for the filter
// and for readable labels. An action missing here still shows, under its raw name.

export const TENANT_AUDIT_ACTIONS = {
  "tenant.created": "Workspace created",
  "tenant.settings_updated": "Settings changed",
  "member.role_changed": "Role changed",
  "member.removed": "Member removed",
  "member.left": "Member left",
  "invitation.created": "Invitation sent",
  "invitation.resent": "Invitation resent",
  "invitation.revoked": "Invitation revoked",
  "invitation.accepted": "Invitation accepted",
  "invitation.declined": "Invitation declined",
  "channel.created": "Channel connected",
  "channel.updated": "Channel changed",
  "channel.enabled": "Channel enabled",
  "channel.disabled": "Channel disabled",
  "billing.credits_added": "Credits added",
  "billing.balance_adjusted": "Balance adjusted",
  "billing.debt_limit_changed": "Debt limit changed",
  "billing.markup_changed": "Markup changed",
  "assistant.settings_changed": "Assistant settings changed",
  "knowledge.saved": "Knowledge entry saved",
  "knowledge.removed": "Knowledge entry deleted",
  "billing.low_balance_thresholds_changed": "Low-balance alerts changed",
  "conversation.taken_over": "Conversation taken over",
  "conversation.handed_back": "Conversation handed back",
  "conversation.assigned": "Conversation assigned",
  "conversation.closed": "Conversation closed",
  "contact.opted_out": "Contact opted out",
  "contact.opted_in": "Contact opted in",
  "template.submitted": "Template submitted",
  "template.status_changed": "Template status changed",
  "template.recategorised": "Template re-categorised",
  "template.recategorisation_announced": "Template re-categorisation announced",
  "template.recategorisation_acknowledged": "Template re-categorisation acknowledged",
  "template.synced": "Templates read from Meta",
  "template.deleted": "Template deleted",
  "contact.updated": "Contact edited",
  "contact.merged": "Contacts merged",
  "contact.deleted": "Contact deleted",
  "contact.field_defined": "Contact field defined",
  "segment.saved": "Segment saved",
  "segment.removed": "Segment removed",
  "contacts.import_started": "Contact import started",
  "contacts.import_cancelled": "Contact import cancelled",
  "sending.paused": "Sending paused",
  "sending.resumed": "Sending resumed",
  "campaign.created": "Campaign created",
  "campaign.duplicated": "Campaign duplicated",
  "campaign.launched": "Campaign launched",
  "campaign.paused": "Campaign paused",
  "campaign.resumed": "Campaign resumed",
  "campaign.cancelled": "Campaign cancelled",
  "campaign.retried": "Campaign's failed recipients retried",
  "tenant.retention_changed": "Data retention changed",
  "webhook.replay": "Webhook replayed",
} as const;

export const PLATFORM_AUDIT_ACTIONS = {
  ...TENANT_AUDIT_ACTIONS,
  "platform_admin.granted": "Platform admin granted",
  "platform_admin.revoked": "Platform admin revoked",
  "channel.secrets_reencrypted": "Channel secrets re-encrypted",
  "billing.rates_changed": "Rate card changed",
  "billing.rates_seeded": "Rate card loaded",
  "sending.global_paused": "Sending paused on the platform",
  "sending.global_resumed": "Sending resumed on the platform",
  "reconciliation.run_requested": "Reconciliation run started",
} as const;

export function auditActionLabel(action: string): string {
  return (PLATFORM_AUDIT_ACTIONS as Record<string, string>)[action] ?? action;
}

export type ActorOption = { value: string; label: string };

/**
 * Adds the actors of `events` to `known` (by id, keeping the first label seen), sorted by label.
 * The actor filter offers who has acted so far; system actors (no id) cannot be filtered on.
 */
export function mergeActors(
  known: readonly ActorOption[],
  events: readonly { actorId?: string; actorEmail: string }[],
): ActorOption[] {
  const byId = new Map(known.map((a) => [a.value, a]));
  let changed = false;
  for (const e of events) {
    if (!e.actorId || byId.has(e.actorId)) continue;
    byId.set(e.actorId, { value: e.actorId, label: e.actorEmail });
    changed = true;
  }
  if (!changed) return known as ActorOption[];
  return [...byId.values()].sort((a, b) => a.label.localeCompare(b.label));
}
