/**
 * Merging contacts with a long history: the mutation that stores the inbound message only
 * re-points aliases and marks the merged contact; conversations and messages move in scheduled
 * batches, each within Convex's per-transaction limits (enforced here).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { PaginationResult } from "convex/server";
import type { Doc, Id } from "../../convex/_generated/dataModel";
import { setup, type T } from "./factories";
import { postWaha, rows, settle, stubWhatsAppEnv, waha, world, type World } from "./whatsapp-helpers";

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2024-06-03T16:00:00Z"));
  stubWhatsAppEnv();
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

/** `count` messages from the contact in the conversation, inserted in chunks that fit a transaction. */
async function history(
  t: T,
  w: World,
  conversationId: Id<"conversations">,
  contactId: Id<"contacts">,
  channelId: Id<"channels">,
  count: number,
) {
  for (let start = 0; start < count; start += 2_000) {
    await t.run(async (ctx) => {
      for (let i = start; i < Math.min(count, start + 2_000); i++) {
        await ctx.db.insert("messages", {
          tenantId: w.tenantId,
          channelId,
          conversationId,
          contactId,
          direction: "in",
          providerMessageId: `history-${channelId}-${i}`,
          type: "text",
          text: `Old message ${i}`,
          status: "received",
          statusAt: 1_000 + i,
          createdAt: 1_000 + i,
        });
      }
    });
  }
}

describe("merging a contact with a long history", () => {
  it("stores the linking message at once and moves 20,000 messages in batches within the limits", async () => {
    const { t } = setup({ transactionLimits: true });
    const w = await world(t);
    await postWaha(t, w.wahaChannelId, waha("message-text")); // the phone contact (older)
    await postWaha(t, w.wahaChannelId, waha("message-lid")); // a @lid-only contact
    await settle(t);
    const [phoneContact, lidContact] = (await rows(t, "contacts")).sort((a, b) => a.createdAt - b.createdAt);
    const lidConversation = (await rows(t, "conversations")).find((c) => c.contactId === lidContact._id)!;
    // A long history on the WAHA channel (folded into the phone contact's conversation there) and
    // another on the Cloud channel, where the phone contact has no conversation (kept, re-pointed).
    await history(t, w, lidConversation._id, lidContact._id, w.wahaChannelId, 20_000);
    const cloudConversation = await t.run((ctx) =>
      ctx.db.insert("conversations", {
        tenantId: w.tenantId,
        channelId: w.cloudChannelId,
        contactId: lidContact._id,
        lastMessageAt: 5_000,
      }),
    );
    await history(t, w, cloudConversation, lidContact._id, w.cloudChannelId, 1_200);

    await postWaha(t, w.wahaChannelId, waha("message-lid-with-phone")); // links the two
    vi.runOnlyPendingTimers();
    await t.finishInProgressScheduledFunctions();
    // The message is stored, not dead-lettered; lookups already lead to the surviving contact.
    const events = await rows(t, "webhookEvents");
    expect(events.map((e) => e.state)).toEqual(["done", "done", "done"]);
    const linking = (await rows(t, "messages")).filter((m) => m.text === "Mi número es este");
    expect(linking.map((m) => m.contactId)).toEqual([phoneContact._id]);
    expect((await t.run((ctx) => ctx.db.get("contacts", lidContact._id)))?.mergedInto).toBe(phoneContact._id);
    expect(new Set((await rows(t, "contactAliases")).map((a) => a.contactId))).toEqual(
      new Set([phoneContact._id]),
    );

    await settle(t);
    expect((await rows(t, "contacts")).map((c) => c._id)).toEqual([phoneContact._id]);
    const conversations = await rows(t, "conversations");
    expect(conversations.map((c) => [c.channelId, c.contactId]).sort()).toEqual(
      [
        [w.wahaChannelId, phoneContact._id],
        [w.cloudChannelId, phoneContact._id],
      ].sort(),
    );
    const wahaConversation = conversations.find((c) => c.channelId === w.wahaChannelId)!;
    let onWaha = 0;
    let onCloud = 0;
    let cursor: string | null = null;
    for (;;) {
      const from: string | null = cursor;
      const page: PaginationResult<Doc<"messages">> = await t.run((ctx) =>
        ctx.db.query("messages").paginate({ cursor: from, numItems: 4_000 }),
      );
      for (const m of page.page) {
        expect(m.contactId).toBe(phoneContact._id);
        if (m.channelId === w.wahaChannelId) {
          expect(m.conversationId).toBe(wahaConversation._id);
          onWaha++;
        } else {
          expect(m.conversationId).toBe(cloudConversation);
          onCloud++;
        }
      }
      if (page.isDone) break;
      cursor = page.continueCursor;
    }
    expect(onWaha).toBe(20_003);
    expect(onCloud).toBe(1_200);
  }, 120_000);
});
