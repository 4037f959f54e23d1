import { v } from "convex/values";
import { internal } from "./_generated/api";
import { internalAction, internalMutation, tenantMutation, tenantQuery } from "./functions";
import * as Channels from "./model/whatsapp/channels";

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

export const create = tenantMutation({
  role: "admin",
  args: { channel: Channels.vNewChannel },
  returns: v.id("channels"),
  handler: (ctx, { channel }) => Channels.create(ctx, ctx, channel),
});

/** Changes a channel; a secret left blank keeps its stored value. */
export const update = tenantMutation({
  role: "admin",
  args: { channelId: v.id("channels"), channel: Channels.vChannelChanges },
  returns: v.null(),
  handler: async (ctx, { channelId, channel }) => {
    await Channels.update(ctx, ctx, channelId, channel);
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
