import { v } from "convex/values";
import { internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import type { ActionCtx } from "./_generated/server";
import {
  internalAction,
  internalMutation,
  internalQuery,
  platformAdminMutation,
  tenantAction,
  tenantInput,
  tenantMutation,
  tenantQuery,
} from "./functions";
import { fail } from "./model/errors";
import * as Channels from "./model/whatsapp/channels";
import { readHealth, verifyWithProvider } from "./model/whatsapp/verify";

/** The workspace's WhatsApp channels with their health; secrets appear only as last-four hints. */
export const list = tenantQuery({
  role: "viewer",
  args: {},
  returns: v.array(Channels.vChannelView),
  handler: (ctx) => Channels.list(ctx, ctx.tenant._id),
});

/** One channel. Takes the id as a string because it comes from the page address. */
export const get = tenantQuery({
  role: "viewer",
  args: { channelId: v.string() },
  returns: Channels.vChannelView,
  handler: async (ctx, { channelId }) =>
    Channels.toView(await Channels.channelOf(ctx, ctx.tenant._id, channelId)),
});

/**
 * Connects a channel once its provider confirms the secrets open it (the Cloud API token reads
 * the phone number; the WAHA key reads the session), so nobody can claim a number they do not
 * hold. Checks the input first, asks the provider, then saves.
 */
export const create = tenantAction({
  role: "admin",
  args: { channel: Channels.vNewChannel },
  returns: v.id("channels"),
  handler: async (ctx, { channel }): Promise<Id<"channels">> => {
    const check = Channels.newChannelCheck(channel);
    const answer = await verifyWithProvider(check);
    return await ctx.runMutation(internal.channels.saveNew, {
      tenantId: ctx.actor.tenantId,
      channel,
      verified: check,
      answer,
    });
  },
});

export const saveNew = internalMutation({
  args: {
    tenantId: v.id("tenants"),
    channel: Channels.vNewChannel,
    verified: Channels.vProviderCheck,
    answer: Channels.vProviderAnswer,
  },
  returns: v.id("channels"),
  handler: async (ctx, { tenantId, channel, verified, answer }) => {
    const actor = await tenantInput(ctx, tenantId, "admin", true);
    return await Channels.create(ctx, actor, channel, verified, answer);
  },
});

/**
 * Changes a channel; a secret left blank keeps its stored value. A new Cloud number or token,
 * or a new WAHA server, session or API key, is confirmed with the provider first.
 */
export const update = tenantAction({
  role: "admin",
  args: { channelId: v.id("channels"), channel: Channels.vChannelChanges },
  returns: v.null(),
  handler: async (ctx, { channelId, channel }) => {
    const tenantId = ctx.actor.tenantId;
    const check = await ctx.runQuery(internal.channels.changeCheck, { tenantId, channelId, channel });
    const answer = check ? await verifyWithProvider(check) : {};
    await ctx.runMutation(internal.channels.saveChanges, {
      tenantId,
      channelId,
      channel,
      verified: check,
      answer,
    });
    return null;
  },
});

export const changeCheck = internalQuery({
  args: { tenantId: v.id("tenants"), channelId: v.id("channels"), channel: Channels.vChannelChanges },
  returns: v.union(v.null(), Channels.vProviderCheck),
  handler: async (ctx, { tenantId, channelId, channel }) => {
    await tenantInput(ctx, tenantId, "admin", true);
    return await Channels.changeCheck(ctx, tenantId, channelId, channel);
  },
});

export const saveChanges = internalMutation({
  args: {
    tenantId: v.id("tenants"),
    channelId: v.id("channels"),
    channel: Channels.vChannelChanges,
    verified: v.union(v.null(), Channels.vProviderCheck),
    answer: Channels.vProviderAnswer,
  },
  returns: v.null(),
  handler: async (ctx, { tenantId, channelId, channel, verified, answer }) => {
    const actor = await tenantInput(ctx, tenantId, "admin", true);
    await Channels.update(ctx, actor, channelId, channel, verified, answer);
    return null;
  },
});

export const setEnabled = tenantMutation({
  role: "admin",
  args: { channelId: v.id("channels"), enabled: v.boolean() },
  returns: v.null(),
  handler: async (ctx, { channelId, enabled }) => {
    await Channels.setEnabled(ctx, ctx, channelId, enabled);
    return null;
  },
});

/** The channel's latest 50 messages, newest first, for its live activity page. */
export const activity = tenantQuery({
  role: "viewer",
  args: { channelId: v.id("channels") },
  returns: v.array(Channels.vActivityItem),
  handler: (ctx, { channelId }) => Channels.activity(ctx, ctx.tenant._id, channelId),
});

/** The channel's latest 50 webhook events and their processing state (admins: errors may be technical). */
export const recentEvents = tenantQuery({
  role: "admin",
  args: { channelId: v.id("channels") },
  returns: v.array(Channels.vWebhookEventItem),
  handler: (ctx, { channelId }) => Channels.recentEvents(ctx, ctx.tenant._id, channelId),
});

// ---------------------------------------------------------------- health from the provider

const vRefreshResult = v.object({ ok: v.boolean(), message: v.union(v.string(), v.null()) });

/** Asks the channel's provider for its health now (WAHA session status; Cloud quality and tier) and stores it. */
async function refresh(
  ctx: ActionCtx,
  channelId: Id<"channels">,
  tenantId?: Id<"tenants">,
): Promise<{ ok: boolean; message: string | null }> {
  const check = await ctx.runQuery(internal.channels.healthCheck, { channelId, tenantId });
  if (!check) return { ok: false, message: "The channel's secrets cannot be read; enter them again" };
  const health = await readHealth(check);
  if (!health.ok) return { ok: false, message: health.message };
  await ctx.runMutation(internal.channels.recordHealth, { channelId, update: health.update });
  return { ok: true, message: null };
}

/** The channel page's "Refresh status": the provider's view of the channel, now. */
export const refreshStatus = tenantAction({
  role: "viewer",
  args: { channelId: v.id("channels") },
  returns: vRefreshResult,
  handler: (ctx, { channelId }) => refresh(ctx, channelId, ctx.actor.tenantId),
});

/** Scheduled when a channel is enabled. */
export const refreshHealth = internalAction({
  args: { channelId: v.id("channels") },
  returns: vRefreshResult,
  handler: (ctx, { channelId }) => refresh(ctx, channelId),
});

export const healthCheck = internalQuery({
  args: { channelId: v.id("channels"), tenantId: v.optional(v.id("tenants")) },
  returns: v.union(v.null(), Channels.vProviderCheck),
  handler: async (ctx, { channelId, tenantId }) => {
    const channel = tenantId
      ? await Channels.channelOf(ctx, tenantId, channelId)
      : await ctx.db.get("channels", channelId);
    return channel ? await Channels.healthCheckOf(channel) : null;
  },
});

export const recordHealth = internalMutation({
  args: { channelId: v.id("channels"), update: Channels.vHealthUpdate },
  returns: v.null(),
  handler: async (ctx, { channelId, update }) => {
    await Channels.recordHealth(ctx, channelId, update);
    return null;
  },
});

// ---------------------------------------------------------------- number conflicts (platform admins)

/**
 * Resolves a phone-number conflict (someone connected a number that is not theirs): the channels
 * holding it lose it and are disabled; the named channel gets it, or the real owner connects it.
 */
export const reassignPhoneNumber = platformAdminMutation({
  args: {
    phoneNumberId: v.string(),
    toChannelId: v.union(v.string(), v.null()),
    reason: v.string(),
  },
  returns: Channels.vReassignResult,
  handler: async (ctx, { phoneNumberId, toChannelId, reason }) => {
    const target = toChannelId?.trim() ? ctx.db.normalizeId("channels", toChannelId.trim()) : null;
    if (toChannelId?.trim() && !target) fail("NOT_FOUND", "No Cloud API channel has this id", "toChannelId");
    return await Channels.reassignPhoneNumber(ctx, ctx.user, { phoneNumberId, toChannelId: target, reason });
  },
});

// ---------------------------------------------------------------- key rotation (operators)

export const reencryptPage = internalMutation({
  args: { cursor: v.union(v.string(), v.null()), totals: Channels.vReencryptTotals },
  returns: v.object({ cursor: v.string(), isDone: v.boolean(), totals: Channels.vReencryptTotals }),
  handler: (ctx, { cursor, totals }) => Channels.reencryptPage(ctx, cursor, totals),
});

/**
 * Re-encrypts every channel's secrets under CHANNEL_SECRETS_KEY, reading old ones with
 * CHANNEL_SECRETS_KEY_PREVIOUS: `npx convex run channels:reencryptAll` (docs/operations.md).
 * Fails, naming the channels, when some secrets could be read with neither key: then the
 * previous key must stay until they are entered again.
 */
export const reencryptAll = internalAction({
  args: {},
  returns: Channels.vReencryptTotals,
  handler: async (ctx) => {
    let cursor: string | null = null;
    let totals: Channels.ReencryptTotals = { reencrypted: 0, alreadyCurrent: 0, failed: [] };
    for (;;) {
      const page: { cursor: string; isDone: boolean; totals: Channels.ReencryptTotals } =
        await ctx.runMutation(internal.channels.reencryptPage, { cursor, totals });
      totals = page.totals;
      if (page.isDone) break;
      cursor = page.cursor;
    }
    if (totals.failed.length > 0) {
      throw new Error(
        `Re-encrypted ${totals.reencrypted} channel(s) (${totals.alreadyCurrent} already current), but ` +
          `${totals.failed.length} could not be decrypted with either key: ${totals.failed.join(", ")}. ` +
          "Keep CHANNEL_SECRETS_KEY_PREVIOUS until their secrets are entered again.",
      );
    }
    return totals;
  },
});
