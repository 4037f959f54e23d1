import type { Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import type { OutgoingEmail, SendResult } from "../providers/email";
import type { EmailRecord, Role } from "../schema";

export { vEmailRecord, type EmailRecord } from "../schema";

/**
 * What is kept of a sent email. In the outbox (no provider) the body is the message, so it is
 * kept; once a real provider delivered it, bodies carrying secret links are not kept.
 */
export function recordFor(
  tenantId: Id<"tenants"> | undefined,
  kind: string,
  email: OutgoingEmail,
  result: SendResult,
): EmailRecord {
  const base = { tenantId, to: email.to, subject: email.subject, kind };
  if (result.provider === "outbox")
    return { ...base, text: email.text, html: email.html, provider: "outbox", status: "stored" };
  return result.ok
    ? { ...base, provider: "resend", status: "sent", providerMessageId: result.id }
    : { ...base, provider: "resend", status: "failed", error: result.error };
}

export async function store(ctx: MutationCtx, email: EmailRecord) {
  return await ctx.db.insert("emails", { ...email, createdAt: Date.now() });
}

export async function listForTenant(ctx: QueryCtx, tenantId: Id<"tenants">, limit: number) {
  return await ctx.db
    .query("emails")
    .withIndex("by_tenant_created", (q) => q.eq("tenantId", tenantId))
    .order("desc")
    .take(limit);
}

export async function listAll(ctx: QueryCtx, limit: number) {
  return await ctx.db.query("emails").withIndex("by_created").order("desc").take(limit);
}

const ROLE_WORDS: Record<Role, string> = {
  owner: "an owner",
  admin: "an admin",
  agent: "an agent",
  viewer: "a viewer",
};

export function invitationEmail(input: {
  email: string;
  tenantName: string;
  inviterName: string;
  role: Role;
  expiresAt: number;
  link: string;
}): OutgoingEmail {
  const expires = new Date(input.expiresAt).toUTCString();
  const subject = `${input.inviterName} invited you to ${input.tenantName} on Switchboard`;
  const text = [
    `${input.inviterName} invited you to join ${input.tenantName} on Switchboard as ${ROLE_WORDS[input.role]}.`,
    "",
    `Accept or decline: ${input.link}`,
    "",
    `The link works until ${expires} and only for ${input.email}.`,
  ].join("\n");
  const html = `<p>${escapeHtml(input.inviterName)} invited you to join <strong>${escapeHtml(input.tenantName)}</strong> on Switchboard as ${ROLE_WORDS[input.role]}.</p><p><a href="${escapeHtml(input.link)}">Accept or decline the invitation</a></p><p>The link works until ${escapeHtml(expires)} and only for ${escapeHtml(input.email)}.</p>`;
  return { to: input.email, subject, text, html };
}

function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
}
