/**
 * WhatsApp channels: a tenant's numbers on Meta's Cloud API or in a WAHA session. Checks what
 * admins type, keeps the secrets encrypted (secrets.ts) and out of every view (only their last
 * four characters are shown), and audits each change with the non-secret fields before and after
 * and the names — never the values — of the secrets that changed.
 */
import { v, type Infer, type Validator } from "convex/values";
import { internal } from "../../_generated/api";
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../../_generated/server";
import { allowPrivateProviderUrls, convexSiteUrl } from "../../env";
import { refusedTarget } from "../../providers/outboundUrls";
import { vChannelKind, vErrorClass, vMessageStatus, vWebhookState, type ChangeSummary } from "../../schema";
import * as Audit from "../audit";
import { fail } from "../errors";
import * as TenantDirectory from "../tenantDirectory";
import { wakeCampaigns } from "../campaigns/dispatch";
import {
  KIND_LABELS,
  SECRET_FIELDS,
  secretName,
  webhookPath as sharedWebhookPath,
} from "../../shared/channels";
import { LIMITS } from "../../shared/limits";
import { siteUrlOf } from "../../shared/site";
import { decryptSecrets, encryptSecrets, isUnderOldKey, secretHints, type ChannelSecrets } from "./secrets";

export { SECRET_FIELDS };

export type CloudSecrets = { accessToken: string };
export type WahaSecrets = { apiKey: string; webhookHmacKey: string };

/** A channel's decrypted secrets, for the code that calls the provider or checks its webhooks. */
export async function secretsOf(channel: Doc<"channels">): Promise<ChannelSecrets> {
  return await decryptSecrets(channel.secrets);
}

// ---------------------------------------------------------------- validators

const cloudFields = {
  name: v.string(),
  phoneNumberId: v.string(),
  wabaId: v.string(),
  displayNumber: v.string(),
};
const wahaFields = {
  name: v.string(),
  baseUrl: v.string(),
  session: v.string(),
};

/** What an admin enters to connect a channel. */
export const vNewChannel = v.union(
  v.object({ kind: v.literal("cloud"), ...cloudFields, accessToken: v.string() }),
  v.object({ kind: v.literal("waha"), ...wahaFields, apiKey: v.string(), webhookHmacKey: v.string() }),
);
export type NewChannel = Infer<typeof vNewChannel>;

/** What an admin may change; a secret left out or blank keeps its stored value. */
export const vChannelChanges = v.union(
  v.object({ kind: v.literal("cloud"), ...cloudFields, accessToken: v.optional(v.string()) }),
  v.object({
    kind: v.literal("waha"),
    ...wahaFields,
    apiKey: v.optional(v.string()),
    webhookHmacKey: v.optional(v.string()),
  }),
);
export type ChannelChanges = Infer<typeof vChannelChanges>;

const nullable = <V extends Validator<unknown, "required", string>>(validator: V) =>
  v.union(validator, v.null());

/** A channel as people may see it: no secret, only each secret's last four characters. */
export const vChannelView = v.object({
  channelId: v.id("channels"),
  kind: vChannelKind,
  name: v.string(),
  enabled: v.boolean(),
  createdAt: v.number(),
  phoneNumberId: nullable(v.string()),
  wabaId: nullable(v.string()),
  displayNumber: nullable(v.string()),
  baseUrl: nullable(v.string()),
  session: nullable(v.string()),
  secretHints: v.record(v.string(), v.string()),
  health: v.object({
    lastWebhookAt: nullable(v.number()),
    wahaStatus: nullable(v.string()),
    qualityRating: nullable(v.string()),
    messagingTier: nullable(v.string()),
  }),
  /** Where the provider must send this channel's webhooks; `url` is null when the site URL is unknown. */
  webhook: v.object({ path: v.string(), url: nullable(v.string()) }),
});
export type ChannelView = Infer<typeof vChannelView>;

export const vActivityItem = v.object({
  messageId: v.id("messages"),
  direction: v.union(v.literal("in"), v.literal("out")),
  type: v.string(),
  text: nullable(v.string()),
  status: vMessageStatus,
  statusAt: v.number(),
  createdAt: v.number(),
  errorCode: nullable(v.number()),
  errorClass: nullable(vErrorClass),
  errorMessage: nullable(v.string()),
  contact: v.object({ name: nullable(v.string()), phone: nullable(v.string()) }),
});

export const vWebhookEventItem = v.object({
  eventId: v.id("webhookEvents"),
  kind: v.string(),
  state: vWebhookState,
  attempts: v.number(),
  lastError: nullable(v.string()),
  receivedAt: v.number(),
  processedAt: nullable(v.number()),
});

// ---------------------------------------------------------------- input rules

const { min: NAME_MIN, max: NAME_MAX } = LIMITS.channelName;
const { min: SECRET_MIN, max: SECRET_MAX } = LIMITS.channelSecret;

function cleanName(input: string): string {
  const name = input.trim().replace(/\s+/g, " ");
  if (name.length < NAME_MIN || name.length > NAME_MAX) {
    fail("INVALID", `Name must be ${NAME_MIN} to ${NAME_MAX} characters`, "name");
  }
  return name;
}

/** Meta's ids (phone number id, WABA id) are long strings of digits. */
function cleanMetaId(input: string, field: "phoneNumberId" | "wabaId", what: string): string {
  const id = input.replace(/\s+/g, "");
  if (!id) fail("INVALID", `Enter the ${what} from Meta's WhatsApp Manager`, field);
  if (!/^\d{5,25}$/.test(id)) fail("INVALID", `The ${what} is digits only, as Meta shows it`, field);
  return id;
}

/** "+34 600-111 222", "0034600111222" or "34600111222" → "+34600111222" (E.164). */
export function normalizeDisplayNumber(input: string): string {
  const compact = input.trim().replace(/[\s().-]/g, "");
  if (!compact) fail("INVALID", "Enter the number people message, like +34 600 111 222", "displayNumber");
  const digits = compact.startsWith("+")
    ? compact.slice(1)
    : compact.startsWith("00")
      ? compact.slice(2)
      : compact;
  if (!/^[1-9]\d{6,14}$/.test(digits)) {
    fail(
      "INVALID",
      "Use the full international number with its country code, like +34 600 111 222",
      "displayNumber",
    );
  }
  return `+${digits}`;
}

/** An http(s) address without credentials, query or fragment, without a trailing slash. */
export function normalizeBaseUrl(input: string): string {
  const raw = input.trim();
  if (!raw) fail("INVALID", "Enter the WAHA server's address, like https://waha.example.com", "baseUrl");
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    fail("INVALID", "Enter a full address starting with http:// or https://", "baseUrl");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    fail("INVALID", "The address must start with http:// or https://", "baseUrl");
  }
  if (url.username || url.password) {
    fail(
      "INVALID",
      "Leave the user name and password out of the address; the API key has its own field",
      "baseUrl",
    );
  }
  if (url.search || url.hash) fail("INVALID", "Leave out the ?query and #fragment", "baseUrl");
  const normalized = `${url.origin}${url.pathname}`.replace(/\/+$/, "");
  const refused = refusedTarget(normalized, { allowPrivate: allowPrivateProviderUrls() });
  if (refused) {
    fail(
      "INVALID",
      `Switchboard does not call this address: ${refused}. Enter the WAHA server's public address`,
      "baseUrl",
    );
  }
  return normalized;
}

function cleanSession(input: string): string {
  const session = input.trim();
  if (!session) fail("INVALID", "Enter the WAHA session name, like default", "session");
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(session)) {
    fail("INVALID", "A session name is up to 64 letters, digits, - and _", "session");
  }
  return session;
}

function cleanSecret(input: string, field: string): string {
  const what = secretName(field);
  const secret = input.trim();
  if (!secret) fail("INVALID", `Enter the ${what}`, field);
  if (/\s/.test(secret)) fail("INVALID", `The ${what} has no spaces; paste it again`, field);
  if (secret.length < SECRET_MIN)
    fail("INVALID", `The ${what} must be at least ${SECRET_MIN} characters`, field);
  if (secret.length > SECRET_MAX) fail("INVALID", `The ${what} is too long`, field);
  return secret;
}

/** The non-secret columns of a channel, checked and normalised. */
type ChannelFields =
  | { kind: "cloud"; name: string; phoneNumberId: string; wabaId: string; displayNumber: string }
  | { kind: "waha"; name: string; baseUrl: string; session: string };

function cleanFields(input: NewChannel | ChannelChanges): ChannelFields {
  const name = cleanName(input.name);
  if (input.kind === "cloud") {
    return {
      kind: "cloud",
      name,
      phoneNumberId: cleanMetaId(input.phoneNumberId, "phoneNumberId", "phone number ID"),
      wabaId: cleanMetaId(input.wabaId, "wabaId", "WhatsApp Business Account ID"),
      displayNumber: normalizeDisplayNumber(input.displayNumber),
    };
  }
  return {
    kind: "waha",
    name,
    baseUrl: normalizeBaseUrl(input.baseUrl),
    session: cleanSession(input.session),
  };
}

/** The secrets given in `input` (blank ones left out), checked. */
function givenSecrets(input: NewChannel | ChannelChanges): ChannelSecrets {
  const out: ChannelSecrets = {};
  const values = input as Record<string, unknown>;
  for (const field of SECRET_FIELDS[input.kind]) {
    const value = values[field];
    if (typeof value === "string" && value.trim()) out[field] = cleanSecret(value, field);
  }
  return out;
}

/**
 * Cloud API webhooks are routed by phone_number_id, so one id belongs to one channel on the whole
 * platform. Within a workspace, one WAHA session (server and name) is connected once.
 */
async function ensureUnique(
  ctx: QueryCtx,
  tenantId: Id<"tenants">,
  fields: ChannelFields,
  self?: Id<"channels">,
): Promise<void> {
  if (fields.kind === "cloud") {
    const holders = await ctx.db
      .query("channels")
      .withIndex("by_phone_number_id", (q) => q.eq("phoneNumberId", fields.phoneNumberId))
      .take(2);
    const other = holders.find((c) => c._id !== self);
    if (other) {
      fail(
        "CONFLICT",
        other.tenantId === tenantId
          ? `This number is already connected in this workspace as “${other.name}”`
          : "This phone number ID is already connected on Switchboard; a number can be connected only once",
        "phoneNumberId",
      );
    }
    return;
  }
  const channels = await ctx.db
    .query("channels")
    .withIndex("by_tenant", (q) => q.eq("tenantId", tenantId))
    .take(500);
  const other = channels.find(
    (c) =>
      c._id !== self && c.kind === "waha" && c.baseUrl === fields.baseUrl && c.session === fields.session,
  );
  if (other) {
    fail(
      "CONFLICT",
      `This WAHA session is already connected in this workspace as “${other.name}”`,
      "session",
    );
  }
}

// ---------------------------------------------------------------- reading

/** The channel, when it belongs to the tenant; the same NOT_FOUND otherwise. */
export async function channelOf(
  ctx: QueryCtx,
  tenantId: Id<"tenants">,
  channelId: Id<"channels"> | string,
): Promise<Doc<"channels">> {
  const id = ctx.db.normalizeId("channels", channelId);
  const channel = id ? await ctx.db.get("channels", id) : null;
  if (!channel || channel.tenantId !== tenantId)
    fail("NOT_FOUND", "This channel does not exist in this workspace");
  return channel;
}

/** The path of the webhook endpoint a channel's provider posts to (convex/http.ts). */
export function webhookPath(channel: Pick<Doc<"channels">, "_id" | "kind">): string {
  return sharedWebhookPath({ kind: channel.kind, channelId: channel._id });
}

export function toView(channel: Doc<"channels">): ChannelView {
  const path = webhookPath(channel);
  const site = convexSiteUrl();
  const hints: Record<string, string> = {};
  // Only the hints of the secrets this kind has, whatever else the stored record holds.
  for (const field of SECRET_FIELDS[channel.kind]) hints[field] = channel.secretHints[field] ?? "";
  return {
    channelId: channel._id,
    kind: channel.kind,
    name: channel.name,
    enabled: channel.enabled,
    createdAt: channel.createdAt,
    phoneNumberId: channel.phoneNumberId ?? null,
    wabaId: channel.wabaId ?? null,
    displayNumber: channel.displayNumber ?? null,
    baseUrl: channel.baseUrl ?? null,
    session: channel.session ?? null,
    secretHints: hints,
    health: {
      lastWebhookAt: channel.lastWebhookAt ?? null,
      wahaStatus: channel.wahaStatus ?? null,
      qualityRating: channel.qualityRating ?? null,
      messagingTier: channel.messagingTier ?? null,
    },
    webhook: { path, url: siteUrlOf(site, path) },
  };
}

export async function list(ctx: QueryCtx, tenantId: Id<"tenants">): Promise<ChannelView[]> {
  const channels = await ctx.db
    .query("channels")
    .withIndex("by_tenant", (q) => q.eq("tenantId", tenantId))
    .take(500);
  return channels.map(toView);
}

const RECENT = 50;

/** The channel's latest messages, newest first, with who they were from or to. */
export async function activity(ctx: QueryCtx, tenantId: Id<"tenants">, channelId: Id<"channels">) {
  const channel = await channelOf(ctx, tenantId, channelId);
  const messages = await ctx.db
    .query("messages")
    .withIndex("by_channel_created", (q) => q.eq("channelId", channel._id))
    .order("desc")
    .take(RECENT);
  const contacts = new Map<Id<"contacts">, Doc<"contacts"> | null>();
  for (const m of messages) {
    if (!contacts.has(m.contactId)) contacts.set(m.contactId, await ctx.db.get("contacts", m.contactId));
  }
  return messages.map((m) => {
    const contact = contacts.get(m.contactId);
    return {
      messageId: m._id,
      direction: m.direction,
      type: m.type,
      text: m.text ?? null,
      status: m.status,
      statusAt: m.statusAt,
      createdAt: m.createdAt,
      errorCode: m.errorCode ?? null,
      errorClass: m.errorClass ?? null,
      errorMessage: m.errorMessage ?? null,
      contact: { name: contact?.name ?? null, phone: contact?.phone ?? null },
    };
  });
}

/** The webhook events stored for the channel, newest first, with their processing state. */
export async function recentEvents(ctx: QueryCtx, tenantId: Id<"tenants">, channelId: Id<"channels">) {
  const channel = await channelOf(ctx, tenantId, channelId);
  const events = await ctx.db
    .query("webhookEvents")
    .withIndex("by_channel_received", (q) => q.eq("channelId", channel._id))
    .order("desc")
    .take(RECENT);
  return events.map((e) => ({
    eventId: e._id,
    kind: e.kind,
    state: e.state,
    attempts: e.attempts,
    lastError: e.lastError ?? null,
    receivedAt: e.receivedAt,
    processedAt: e.processedAt ?? null,
  }));
}

// ---------------------------------------------------------------- changing

type Actor = { user: Doc<"users">; tenant: Doc<"tenants"> };

/** The audited (non-secret) columns of a channel. */
function audited(channel: ChannelFields & { enabled: boolean }): ChangeSummary {
  return channel.kind === "cloud"
    ? {
        kind: channel.kind,
        name: channel.name,
        enabled: channel.enabled,
        phoneNumberId: channel.phoneNumberId,
        wabaId: channel.wabaId,
        displayNumber: channel.displayNumber,
      }
    : {
        kind: channel.kind,
        name: channel.name,
        enabled: channel.enabled,
        baseUrl: channel.baseUrl,
        session: channel.session,
      };
}

function fieldsOf(channel: Doc<"channels">): ChannelFields & { enabled: boolean } {
  return channel.kind === "cloud"
    ? {
        kind: "cloud",
        name: channel.name,
        enabled: channel.enabled,
        phoneNumberId: channel.phoneNumberId ?? "",
        wabaId: channel.wabaId ?? "",
        displayNumber: channel.displayNumber ?? "",
      }
    : {
        kind: "waha",
        name: channel.name,
        enabled: channel.enabled,
        baseUrl: channel.baseUrl ?? "",
        session: channel.session ?? "",
      };
}

/** A new channel's fields and secrets, checked (every secret of its kind is required). */
export function prepareNew(input: NewChannel): { fields: ChannelFields; secrets: ChannelSecrets } {
  const fields = cleanFields(input);
  const secrets = givenSecrets(input);
  for (const field of SECRET_FIELDS[input.kind]) {
    if (!secrets[field]) cleanSecret("", field); // names the missing secret
  }
  return { fields, secrets };
}

/** What the provider is asked before a channel is saved (model/whatsapp/verify.ts). */
export const vProviderCheck = v.union(
  v.object({ kind: v.literal("cloud"), phoneNumberId: v.string(), accessToken: v.string() }),
  v.object({ kind: v.literal("waha"), baseUrl: v.string(), session: v.string(), apiKey: v.string() }),
);
export type ProviderCheck = Infer<typeof vProviderCheck>;

/** What the provider answered: kept with the channel (the WAHA session's status). */
export const vProviderAnswer = v.object({ wahaStatus: v.optional(v.string()) });
export type ProviderAnswer = Infer<typeof vProviderAnswer>;

function checkOf(fields: ChannelFields, secrets: ChannelSecrets): ProviderCheck {
  return fields.kind === "cloud"
    ? { kind: "cloud", phoneNumberId: fields.phoneNumberId, accessToken: secrets.accessToken ?? "" }
    : { kind: "waha", baseUrl: fields.baseUrl, session: fields.session, apiKey: secrets.apiKey ?? "" };
}

/** The provider check a new channel needs. */
export function newChannelCheck(input: NewChannel): ProviderCheck {
  const { fields, secrets } = prepareNew(input);
  return checkOf(fields, secrets);
}

function sameCheck(a: ProviderCheck | null, b: ProviderCheck | null): boolean {
  if (a === null || b === null) return a === b;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => (a as Record<string, unknown>)[k] === (b as Record<string, unknown>)[k]);
}

/**
 * Saves a new channel. `verified` is the check the provider passed (an action asked it just
 * before); it must be exactly the check these inputs need.
 */
export async function create(
  ctx: MutationCtx,
  actor: Actor,
  input: NewChannel,
  verified: ProviderCheck,
  answer: ProviderAnswer = {},
): Promise<Id<"channels">> {
  const { fields, secrets } = prepareNew(input);
  if (!sameCheck(checkOf(fields, secrets), verified)) {
    throw new Error("channels.create: the provider check does not match the channel");
  }
  await ensureUnique(ctx, actor.tenant._id, fields);
  const channelId = await ctx.db.insert("channels", {
    ...fields,
    tenantId: actor.tenant._id,
    enabled: true,
    secrets: await encryptSecrets(secrets),
    secretHints: secretHints(secrets),
    ...(fields.kind === "waha" && answer.wahaStatus ? { wahaStatus: answer.wahaStatus } : {}),
    createdBy: actor.user._id,
    createdAt: Date.now(),
  });
  await TenantDirectory.adjustCounts(ctx, actor.tenant._id, { channels: 1 });
  // A Cloud number's quality and messaging tier, which campaigns are limited by, read at once.
  if (fields.kind === "cloud")
    await ctx.scheduler.runAfter(0, internal.channels.refreshHealth, { channelId });
  await Audit.record(ctx, {
    tenantId: actor.tenant._id,
    actor: actor.user,
    action: "channel.created",
    targetType: "channel",
    targetId: channelId,
    summary: `Connected ${KIND_LABELS[fields.kind]} channel ${fields.name}`,
    after: { ...audited({ ...fields, enabled: true }), secretsSet: Object.keys(secrets).join(", ") },
  });
  return channelId;
}

/**
 * The provider check these changes need, or null when nothing the provider vouches for changes
 * (a Cloud number or token; a WAHA server, session or API key).
 */
export async function changeCheck(
  ctx: QueryCtx,
  tenantId: Id<"tenants">,
  channelId: Id<"channels">,
  input: ChannelChanges,
): Promise<ProviderCheck | null> {
  const channel = await channelOf(ctx, tenantId, channelId);
  return await changeCheckOf(channel, input);
}

async function changeCheckOf(channel: Doc<"channels">, input: ChannelChanges): Promise<ProviderCheck | null> {
  if (input.kind !== channel.kind) {
    fail("INVALID", "A channel's kind cannot change; connect a new channel instead", "kind");
  }
  const fields = cleanFields(input);
  const given = givenSecrets(input);
  const changed =
    fields.kind === "cloud"
      ? fields.phoneNumberId !== channel.phoneNumberId || given.accessToken !== undefined
      : fields.baseUrl !== channel.baseUrl ||
        fields.session !== channel.session ||
        given.apiKey !== undefined;
  if (!changed) return null;
  const secrets = { ...(await currentSecrets(channel, given)), ...given };
  return checkOf(fields, secrets);
}

export async function update(
  ctx: MutationCtx,
  actor: Actor,
  channelId: Id<"channels">,
  input: ChannelChanges,
  verified: ProviderCheck | null,
  answer: ProviderAnswer = {},
): Promise<void> {
  const channel = await channelOf(ctx, actor.tenant._id, channelId);
  if (!sameCheck(await changeCheckOf(channel, input), verified)) {
    // The channel changed between the provider check and now: the caller checks again.
    fail("CONFLICT", "This channel was changed meanwhile; reload and try again");
  }
  const fields = cleanFields(input);
  const given = givenSecrets(input);
  await ensureUnique(ctx, actor.tenant._id, fields, channel._id);

  let secretsPatch: Pick<Doc<"channels">, "secrets" | "secretHints"> | null = null;
  const changedSecrets: string[] = [];
  if (Object.keys(given).length > 0) {
    const current = await currentSecrets(channel, given);
    const next = { ...current, ...given };
    for (const field of SECRET_FIELDS[channel.kind]) {
      if (current[field] !== next[field]) changedSecrets.push(field);
    }
    if (changedSecrets.length > 0) {
      secretsPatch = { secrets: await encryptSecrets(next), secretHints: secretHints(next) };
    }
  }

  const before = fieldsOf(channel);
  const changes = Audit.diff(audited(before), audited({ ...fields, enabled: channel.enabled }));
  const statusPatch =
    fields.kind === "waha" && answer.wahaStatus && answer.wahaStatus !== channel.wahaStatus
      ? { wahaStatus: answer.wahaStatus }
      : {};
  if (!changes && !secretsPatch) {
    if (Object.keys(statusPatch).length) await ctx.db.patch("channels", channel._id, statusPatch);
    return;
  }
  await ctx.db.patch("channels", channel._id, { ...fields, ...secretsPatch, ...statusPatch });
  const summaryParts = [...Object.keys(changes?.after ?? {}), ...changedSecrets];
  await Audit.record(ctx, {
    tenantId: actor.tenant._id,
    actor: actor.user,
    action: "channel.updated",
    targetType: "channel",
    targetId: channel._id,
    summary: `Changed ${summaryParts.join(", ")} of channel ${fields.name}`,
    before: changes?.before ?? {},
    after: {
      ...changes?.after,
      ...(changedSecrets.length ? { secretsChanged: changedSecrets.join(", ") } : {}),
    },
  });
}

/**
 * The stored secrets, to merge the new ones into. When they cannot be read (a lost key) the
 * change is still possible if every secret is given again.
 */
async function currentSecrets(channel: Doc<"channels">, given: ChannelSecrets): Promise<ChannelSecrets> {
  try {
    return await decryptSecrets(channel.secrets);
  } catch (error) {
    const missing = SECRET_FIELDS[channel.kind].find((f) => !given[f]);
    if (!missing) return {};
    console.error(`Channel ${channel._id}: stored secrets cannot be decrypted`, error);
    fail(
      "INVALID",
      `The stored secrets of this channel cannot be read with the configured key; enter the ${secretName(missing)} again too`,
      missing,
    );
  }
}

export async function setEnabled(
  ctx: MutationCtx,
  actor: Actor,
  channelId: Id<"channels">,
  enabled: boolean,
): Promise<void> {
  const channel = await channelOf(ctx, actor.tenant._id, channelId);
  if (channel.enabled === enabled) return;
  await ctx.db.patch("channels", channel._id, { enabled });
  // Whatever happened to the session or number while it was off, the page shows it now.
  if (enabled) await ctx.scheduler.runAfter(0, internal.channels.refreshHealth, { channelId: channel._id });
  await Audit.record(ctx, {
    tenantId: actor.tenant._id,
    actor: actor.user,
    action: enabled ? "channel.enabled" : "channel.disabled",
    targetType: "channel",
    targetId: channel._id,
    summary: `${enabled ? "Enabled" : "Disabled"} channel ${channel.name}`,
    before: { enabled: channel.enabled },
    after: { enabled },
  });
}

// ---------------------------------------------------------------- key rotation

export const vReencryptTotals = v.object({
  reencrypted: v.number(),
  alreadyCurrent: v.number(),
  failed: v.array(v.id("channels")),
});
export type ReencryptTotals = Infer<typeof vReencryptTotals>;

/**
 * Re-encrypts one page of channels under the current CHANNEL_SECRETS_KEY (decrypting with
 * CHANNEL_SECRETS_KEY_PREVIOUS where needed). Channels already under the current key are left
 * alone, so running it again is harmless; ones neither key opens are counted as failed. After
 * the last page, one platform audit event records the totals.
 */
export async function reencryptPage(
  ctx: MutationCtx,
  cursor: string | null,
  totals: ReencryptTotals,
  numItems = 50,
): Promise<{ cursor: string; isDone: boolean; totals: ReencryptTotals }> {
  const page = await ctx.db.query("channels").paginate({ cursor, numItems });
  const next = { ...totals, failed: [...totals.failed] };
  for (const channel of page.page) {
    if (!(await isUnderOldKey(channel.secrets))) {
      next.alreadyCurrent++;
      continue;
    }
    let secrets: ChannelSecrets;
    try {
      secrets = await decryptSecrets(channel.secrets);
    } catch (error) {
      console.error(`Channel ${channel._id}: secrets cannot be decrypted with any configured key`, error);
      next.failed.push(channel._id);
      continue;
    }
    await ctx.db.patch("channels", channel._id, {
      secrets: await encryptSecrets(secrets),
      secretHints: secretHints(secrets),
    });
    next.reencrypted++;
  }
  if (page.isDone) {
    await Audit.record(ctx, {
      actor: { system: "channels.reencryptAll" },
      action: "channel.secrets_reencrypted",
      targetType: "channel",
      summary:
        `Re-encrypted the secrets of ${next.reencrypted} channel(s) with the current key; ` +
        `${next.alreadyCurrent} already current, ${next.failed.length} unreadable`,
      after: {
        reencrypted: next.reencrypted,
        alreadyCurrent: next.alreadyCurrent,
        failed: next.failed.length,
      },
    });
  }
  return { cursor: page.continueCursor, isDone: page.isDone, totals: next };
}

// ---------------------------------------------------------------- number conflicts (platform admins)

export const vReassignResult = v.object({
  phoneNumberId: v.string(),
  /** The channels that held the number and lost it (disabled). */
  released: v.array(v.object({ channelId: v.id("channels"), tenantId: v.id("tenants"), name: v.string() })),
  /** The channel that holds it now, or null when it was only released. */
  assignedTo: v.union(
    v.null(),
    v.object({ channelId: v.id("channels"), tenantId: v.id("tenants"), name: v.string() }),
  ),
});
export type ReassignResult = Infer<typeof vReassignResult>;

/**
 * Resolves a phone-number conflict: every other channel holding `phoneNumberId` loses it and is
 * disabled; `toChannelId` (a Cloud API channel) gets it, or, without one, the number is free for
 * its real owner to connect (the provider then confirms their token). Audited in the log of every
 * workspace involved and in the platform's.
 */
export async function reassignPhoneNumber(
  ctx: MutationCtx,
  admin: Doc<"users">,
  input: { phoneNumberId: string; toChannelId: Id<"channels"> | null; reason: string },
): Promise<ReassignResult> {
  const phoneNumberId = cleanMetaId(input.phoneNumberId, "phoneNumberId", "phone number ID");
  const reason = input.reason.trim().replace(/\s+/g, " ");
  if (reason.length < 3 || reason.length > 500) {
    fail("INVALID", "Say in a few words why the number moves (3 to 500 characters)", "reason");
  }
  const target = input.toChannelId ? await ctx.db.get("channels", input.toChannelId) : null;
  if (input.toChannelId && (!target || target.kind !== "cloud")) {
    fail("NOT_FOUND", "No Cloud API channel has this id", "toChannelId");
  }
  const holders = (
    await ctx.db
      .query("channels")
      .withIndex("by_phone_number_id", (q) => q.eq("phoneNumberId", phoneNumberId))
      .take(10)
  ).filter((c) => c._id !== target?._id);
  if (holders.length === 0 && (!target || target.phoneNumberId === phoneNumberId)) {
    fail(
      "NOT_FOUND",
      "No other channel holds this phone number ID; there is nothing to resolve",
      "phoneNumberId",
    );
  }
  const released: ReassignResult["released"] = [];
  for (const holder of holders) {
    await ctx.db.patch("channels", holder._id, { phoneNumberId: undefined, enabled: false });
    released.push({ channelId: holder._id, tenantId: holder.tenantId, name: holder.name });
    await Audit.record(ctx, {
      tenantId: holder.tenantId,
      actor: admin,
      action: "channel.number_released",
      targetType: "channel",
      targetId: holder._id,
      summary: `A platform admin removed phone number ID ${phoneNumberId} from channel ${holder.name} and disabled it: ${reason}`,
      before: { phoneNumberId, enabled: holder.enabled },
      after: { phoneNumberId: null, enabled: false },
    });
  }
  let assignedTo: ReassignResult["assignedTo"] = null;
  if (target) {
    await ctx.db.patch("channels", target._id, { phoneNumberId });
    assignedTo = { channelId: target._id, tenantId: target.tenantId, name: target.name };
    await Audit.record(ctx, {
      tenantId: target.tenantId,
      actor: admin,
      action: "channel.number_assigned",
      targetType: "channel",
      targetId: target._id,
      summary: `A platform admin gave phone number ID ${phoneNumberId} to channel ${target.name}: ${reason}`,
      before: { phoneNumberId: target.phoneNumberId ?? null },
      after: { phoneNumberId },
    });
  }
  await Audit.record(ctx, {
    actor: admin,
    action: "channel.number_reassigned",
    targetType: "phoneNumberId",
    targetId: phoneNumberId,
    summary:
      `Phone number ID ${phoneNumberId}: released from ${released.length} channel(s)` +
      (target ? `, given to channel ${target._id}` : ", free to connect") +
      `: ${reason}`,
    after: {
      released: released.map((r) => r.channelId).join(", "),
      assignedTo: target?._id ?? null,
    },
  });
  return { phoneNumberId, released, assignedTo };
}

// ---------------------------------------------------------------- health from the provider

/** What a channel's provider is asked for its health, with the channel's own secrets. */
export async function healthCheckOf(channel: Doc<"channels">): Promise<ProviderCheck | null> {
  let secrets: ChannelSecrets;
  try {
    secrets = await decryptSecrets(channel.secrets);
  } catch {
    return null;
  }
  return checkOf(fieldsOf(channel), secrets);
}

export const vHealthUpdate = v.object({
  wahaStatus: v.optional(v.string()),
  qualityRating: v.optional(v.string()),
  messagingTier: v.optional(v.string()),
});
export type HealthUpdate = Infer<typeof vHealthUpdate>;

/** Stores what the provider said about the channel's health (only fields of its kind, only changes). */
export async function recordHealth(ctx: MutationCtx, channelId: Id<"channels">, update: HealthUpdate) {
  const channel = await ctx.db.get("channels", channelId);
  if (!channel) return;
  const patch: Partial<Doc<"channels">> = {};
  if (channel.kind === "waha" && update.wahaStatus && update.wahaStatus !== channel.wahaStatus)
    patch.wahaStatus = update.wahaStatus;
  if (channel.kind === "cloud" && update.qualityRating && update.qualityRating !== channel.qualityRating)
    patch.qualityRating = update.qualityRating;
  if (channel.kind === "cloud" && update.messagingTier && update.messagingTier !== channel.messagingTier)
    patch.messagingTier = update.messagingTier;
  if (Object.keys(patch).length) {
    await ctx.db.patch("channels", channel._id, patch);
    // Waiting campaigns look again: a higher tier may let recipients go now.
    if (patch.messagingTier) await wakeCampaigns(ctx, channel._id);
  }
}
