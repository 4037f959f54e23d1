/**
 * Consent from WhatsApp itself: the `user_preferences` webhook (a person stops or resumes
 * marketing messages from a number) and error 131050 on a failed status, through the real
 * webhook route and processing.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Id } from "../../convex/_generated/dataModel";
import { recordConsent } from "../../convex/model/contactConsent";
import { setup, type T } from "./factories";
import {
  cloud,
  outbound,
  postCloud,
  rows,
  settle,
  stubWhatsAppEnv,
  USER_WA_ID,
  world,
  type World,
} from "./whatsapp-helpers";

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2024-06-03T16:00:00Z"));
  stubWhatsAppEnv();
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

const STOP_AT = 1717431000_000;
const FAILED_AT = 1717431300_000;
const RESUME_AT = 1717434600_000;
const FAILED_WAMID = "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI4QjJGRDZDNEU1RDdGODlBMEIA";

async function fresh(): Promise<{ t: T; w: World }> {
  const { t } = setup();
  return { t, w: await world(t) };
}

/** A preference fixture with some of its fields changed. */
function preference(
  name: "user-preferences-stop" | "user-preferences-resume",
  change: { timestamp?: number; category?: string; phoneNumberId?: string } = {},
): string {
  const body = JSON.parse(cloud(name));
  const value = body.entry[0].changes[0].value;
  if (change.timestamp !== undefined) value.user_preferences[0].timestamp = change.timestamp / 1000;
  if (change.category !== undefined) value.user_preferences[0].category = change.category;
  if (change.phoneNumberId !== undefined) value.metadata.phone_number_id = change.phoneNumberId;
  return JSON.stringify(body);
}

async function consentEvents(t: T) {
  return await t.run((ctx) => ctx.db.query("consentEvents").collect());
}

/** The contact with this wa_id in the tenant. */
async function contactByWaId(t: T, tenantId: Id<"tenants">, waId = USER_WA_ID) {
  return await t.run(async (ctx) => {
    const alias = await ctx.db
      .query("contactAliases")
      .withIndex("by_tenant_kind_value", (q) =>
        q.eq("tenantId", tenantId).eq("kind", "wa_id").eq("value", waId),
      )
      .first();
    return alias ? await ctx.db.get("contacts", alias.contactId) : null;
  });
}

describe("user_preferences: WhatsApp's own marketing stop and resume", () => {
  it("a stop opts out the contact with that wa_id (created when new); a resume opts them in", async () => {
    const { t, w } = await fresh();
    expect((await postCloud(t, cloud("user-preferences-stop"))).status).toBe(200);
    await settle(t);
    const contact = await contactByWaId(t, w.tenantId);
    expect(contact).toMatchObject({
      tenantId: w.tenantId,
      name: "Kerry Fisher",
      phone: `+${USER_WA_ID}`,
      marketingOptedOutAt: STOP_AT,
    });
    expect(contact?.lastInboundAt).toBeUndefined();
    expect(await consentEvents(t)).toMatchObject([
      {
        contactId: contact!._id,
        kind: "opt_out",
        source: "user_preferences",
        text: "User requested to stop marketing messages",
        at: STOP_AT,
      },
    ]);

    await postCloud(t, cloud("user-preferences-resume"));
    await settle(t);
    expect((await contactByWaId(t, w.tenantId))?.marketingOptedOutAt).toBeUndefined();
    expect((await consentEvents(t)).map((e) => [e.kind, e.source, e.at])).toEqual([
      ["opt_out", "user_preferences", STOP_AT],
      ["opt_in", "user_preferences", RESUME_AT],
    ]);
    expect(await rows(t, "contacts")).toHaveLength(1);
    expect((await rows(t, "webhookEvents")).map((e) => [e.kind, e.state])).toEqual([
      ["user_preference", "done"],
      ["user_preference", "done"],
    ]);
  });

  it("finds the contact who wrote before by wa_id, and only in the channel's tenant", async () => {
    const { t, w } = await fresh();
    await postCloud(t, cloud("message-text"));
    await settle(t);
    // Another workspace knows the same person; its consent is its own.
    const other = await t.run(async (ctx) => {
      const tenantId = await ctx.db.insert("tenants", {
        name: "Other Shop",
        currency: "EUR",
        timeZone: "Europe/Madrid",
        defaultCountry: "ES",
        slug: "other-shop",
        createdBy: w.userId,
        createdAt: 1,
      });
      const contactId = await ctx.db.insert("contacts", { tenantId, createdAt: 1 });
      await ctx.db.insert("contactAliases", { tenantId, kind: "wa_id", value: USER_WA_ID, contactId });
      return { tenantId, contactId };
    });
    const before = await contactByWaId(t, w.tenantId);
    await postCloud(t, cloud("user-preferences-stop"));
    await settle(t);
    expect(await contactByWaId(t, w.tenantId)).toMatchObject({
      _id: before!._id,
      marketingOptedOutAt: STOP_AT,
    });
    expect(await t.run((ctx) => ctx.db.get("contacts", other.contactId))).not.toHaveProperty(
      "marketingOptedOutAt",
    );
    expect((await rows(t, "contacts")).filter((c) => c.tenantId === w.tenantId)).toHaveLength(1);
  });

  it("a redelivered preference is stored and recorded once", async () => {
    const { t, w } = await fresh();
    await postCloud(t, cloud("user-preferences-stop"));
    const again = await postCloud(t, cloud("user-preferences-stop"));
    expect(await again.json()).toMatchObject({ received: 1, stored: 0, duplicates: 1 });
    await settle(t);
    expect(await rows(t, "webhookEvents")).toHaveLength(1);
    expect(await consentEvents(t)).toHaveLength(1);
    expect((await contactByWaId(t, w.tenantId))?.marketingOptedOutAt).toBe(STOP_AT);
  });

  for (const order of [
    ["user-preferences-stop", "user-preferences-resume"],
    ["user-preferences-resume", "user-preferences-stop"],
  ] as const) {
    it(`the later preference wins whatever the arrival order (${order.join(", ")})`, async () => {
      const { t, w } = await fresh();
      for (const name of order) {
        await postCloud(t, cloud(name));
        await settle(t);
      }
      // The resume is the later one: the person gets marketing again.
      expect((await contactByWaId(t, w.tenantId))?.marketingOptedOutAt).toBeUndefined();
      // And the other way round: a stop after a resume opts them out, in either order.
      const { t: t2, w: w2 } = await fresh();
      const laterStop = preference("user-preferences-stop", { timestamp: RESUME_AT + 60_000 });
      const bodies =
        order[0] === "user-preferences-stop" ? [laterStop, cloud(order[1])] : [cloud(order[0]), laterStop];
      for (const body of bodies) {
        await postCloud(t2, body);
        await settle(t2);
      }
      expect((await contactByWaId(t2, w2.tenantId))?.marketingOptedOutAt).toBe(RESUME_AT + 60_000);
    });
  }

  it("a stop older than the contact's latest consent change changes nothing", async () => {
    const { t, w } = await fresh();
    await postCloud(t, cloud("message-text"));
    await settle(t);
    const contact = await contactByWaId(t, w.tenantId);
    // An agent recorded an opt-out and then, after the stop happened, an opt-in.
    await t.run(async (ctx) => {
      const base = { tenantId: w.tenantId, contactId: contact!._id, source: "agent" as const };
      await recordConsent(ctx, { ...base, kind: "opt_out", at: STOP_AT - 60_000 });
      await recordConsent(ctx, { ...base, kind: "opt_in", at: STOP_AT + 60_000 });
    });
    await postCloud(t, cloud("user-preferences-stop"));
    await settle(t);
    expect((await contactByWaId(t, w.tenantId))?.marketingOptedOutAt).toBeUndefined();
    expect((await consentEvents(t)).map((e) => e.source)).toEqual(["agent", "agent"]);
    // A newer stop still counts.
    await postCloud(t, preference("user-preferences-stop", { timestamp: STOP_AT + 120_000 }));
    await settle(t);
    expect((await contactByWaId(t, w.tenantId))?.marketingOptedOutAt).toBe(STOP_AT + 120_000);
  });

  it("other categories are stored and change nothing", async () => {
    const { t } = await fresh();
    await postCloud(t, preference("user-preferences-stop", { category: "utility_messages" }));
    await settle(t);
    expect((await rows(t, "webhookEvents")).map((e) => [e.kind, e.state])).toEqual([
      ["user_preference", "done"],
    ]);
    expect(await rows(t, "contacts")).toEqual([]);
    expect(await consentEvents(t)).toEqual([]);
  });

  it("a preference for a number no channel has waits as a dead letter", async () => {
    const { t } = await fresh();
    await postCloud(t, preference("user-preferences-stop", { phoneNumberId: "999999999999999" }));
    await settle(t);
    const [event] = await rows(t, "webhookEvents");
    expect(event).toMatchObject({ kind: "user_preference", state: "dead" });
    expect(event.lastError).toMatch(/^unrouted: no channel has phone_number_id 999999999999999/);
    expect(await consentEvents(t)).toEqual([]);
  });
});

describe("error 131050 on a failed status", () => {
  it("fails the message and records the recipient's opt-out (source error_131050) at the status's time", async () => {
    const { t, w } = await fresh();
    const messageId = await outbound(t, w, { providerMessageId: FAILED_WAMID });
    await postCloud(t, cloud("status-failed-marketing-stopped"));
    await settle(t);
    const message = await t.run((ctx) => ctx.db.get("messages", messageId));
    expect(message).toMatchObject({ status: "failed", errorCode: 131050 });
    expect(await t.run((ctx) => ctx.db.get("contacts", message!.contactId))).toMatchObject({
      marketingOptedOutAt: FAILED_AT,
    });
    expect(await consentEvents(t)).toMatchObject([
      { contactId: message!.contactId, kind: "opt_out", source: "error_131050", messageId, at: FAILED_AT },
    ]);
  });

  it("records nothing when the person resumed marketing after the failure", async () => {
    const { t, w } = await fresh();
    const messageId = await outbound(t, w, { providerMessageId: FAILED_WAMID });
    // The resume (later) is processed first; the contact was not opted out, so it records nothing itself.
    await postCloud(t, cloud("user-preferences-resume"));
    await settle(t);
    expect(await rows(t, "contacts")).toHaveLength(1);
    await postCloud(t, cloud("status-failed-marketing-stopped"));
    await settle(t);
    const message = await t.run((ctx) => ctx.db.get("messages", messageId));
    expect(message).toMatchObject({ status: "failed", errorCode: 131050 });
    expect(await t.run((ctx) => ctx.db.get("contacts", message!.contactId))).not.toHaveProperty(
      "marketingOptedOutAt",
    );
    expect(await consentEvents(t)).toEqual([]);
  });

  it("other failures record no consent", async () => {
    const { t, w } = await fresh();
    const messageId = await outbound(t, w, {
      providerMessageId: "wamid.HBgLMTY1MDU1NTEyMzQVAgARFBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA",
    });
    await postCloud(t, cloud("status-failed"));
    await settle(t);
    expect(await t.run((ctx) => ctx.db.get("messages", messageId))).toMatchObject({
      status: "failed",
      errorCode: 131026,
    });
    expect(await consentEvents(t)).toEqual([]);
  });
});
