/**
 * Processing failures: a crash rolls back and is retried with backoff, nothing is lost; after
 * the last attempt the event waits in the dead-letter list, which platform admins see and
 * replay (audited).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { MAX_ATTEMPTS } from "../../convex/model/whatsapp/process";
import { expectCode, setup, signUp, type T } from "./factories";
import {
  cloud,
  OUT_WAMID,
  outbound,
  PHONE_NUMBER_ID,
  postCloud,
  rows,
  settle,
  stubWhatsAppEnv,
  world,
} from "./whatsapp-helpers";

/** Makes processing crash (after it has already written the contact) while `remaining` > 0. */
const fault = vi.hoisted(() => ({
  remaining: 0,
  crashes: 0,
  error: (): Error => new Error("simulated crash: the database went away"),
}));
vi.mock("../../convex/model/whatsapp/contacts", async (importOriginal) => {
  const original = await importOriginal<typeof import("../../convex/model/whatsapp/contacts")>();
  return {
    ...original,
    upsertConversation: async (...args: Parameters<typeof original.upsertConversation>) => {
      if (fault.remaining > 0) {
        fault.remaining -= 1;
        fault.crashes += 1;
        throw fault.error();
      }
      return await original.upsertConversation(...args);
    },
  };
});

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2024-06-03T16:00:00Z"));
  stubWhatsAppEnv();
  vi.stubEnv("PLATFORM_ADMIN_EMAILS", "root@platform.test");
  fault.remaining = 0;
  fault.crashes = 0;
  fault.error = () => new Error("simulated crash: the database went away");
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

/** Advances the clock by `ms` and runs what became due. */
async function runDue(t: T, ms = 0) {
  vi.advanceTimersByTime(ms);
  await t.finishInProgressScheduledFunctions();
}

/** Delays (ms from now) of the pending processing jobs. */
async function pendingDelays(t: T): Promise<number[]> {
  const now = Date.now();
  const jobs = await t.run((ctx) => ctx.db.system.query("_scheduled_functions").collect());
  return jobs
    .filter((j) => j.state.kind === "pending" && j.name.includes("whatsappWebhooks"))
    .map((j) => Math.round(j.scheduledTime - now));
}

async function only(t: T) {
  const events = await rows(t, "webhookEvents");
  expect(events).toHaveLength(1);
  return events[0];
}

describe("retrying only what retrying can fix", () => {
  it("dead-letters a bug at once, with the reason, and schedules no retry", async () => {
    const { t } = setup();
    await world(t);
    fault.remaining = 1;
    fault.error = () => new TypeError("Cannot read properties of undefined (reading 'waId')");
    await postCloud(t, cloud("message-text"));
    await runDue(t);
    const dead = await only(t);
    expect(dead).toMatchObject({ state: "dead", attempts: 1 });
    expect(dead.lastError).toMatch(
      /^not retried \(a bug in processing\): TypeError: Cannot read properties of undefined/,
    );
    expect(await pendingDelays(t)).toEqual([]);
    expect(await rows(t, "messages")).toHaveLength(0);
  });

  it("dead-letters an event whose channel was deleted while it waited for a retry, at once", async () => {
    const { t } = setup();
    const w = await world(t);
    fault.remaining = 1;
    await postCloud(t, cloud("message-text"));
    expect(await only(t)).toMatchObject({ state: "retrying", attempts: 1 });
    await t.run((ctx) => ctx.db.delete("channels", w.cloudChannelId));
    await runDue(t, 1_000);
    const dead = await only(t);
    expect(dead).toMatchObject({
      state: "dead",
      attempts: 2,
      lastError: `unrouted: channel ${w.cloudChannelId} no longer exists`,
    });
    expect(await pendingDelays(t)).toEqual([]);
  });

  it("dead-letters an event processing does not understand at once", async () => {
    const { t } = setup();
    const w = await world(t);
    const eventId = await t.run((ctx) =>
      ctx.db.insert("webhookEvents", {
        provider: "cloud",
        dedupeKey: "cloud:msg:wamid.NOBODY",
        channelId: w.cloudChannelId,
        tenantId: w.tenantId,
        kind: "message",
        event: {
          kind: "message",
          provider: "cloud",
          phoneNumberId: PHONE_NUMBER_ID,
          messageId: "wamid.NOBODY",
          from: {},
          timestamp: 1717430400000,
          type: "text",
          text: "From nobody",
        },
        state: "pending",
        attempts: 0,
        receivedAt: Date.now(),
      }),
    );
    await t.mutation(internal.whatsappWebhooks.process, { eventId });
    expect(await only(t)).toMatchObject({
      state: "dead",
      attempts: 1,
      lastError: "not retried (the event cannot be processed): The event names no contact identifier",
    });
    expect(await pendingDelays(t)).toEqual([]);
  });

  it("retries a transient failure (a write conflict) with backoff", async () => {
    const { t } = setup();
    await world(t);
    fault.remaining = 1;
    fault.error = () =>
      new Error(
        'Documents read from or written to the "conversations" table changed while this mutation was being run and on every subsequent retry.',
      );
    await postCloud(t, cloud("message-text"));
    await runDue(t);
    expect(await only(t)).toMatchObject({ state: "retrying", attempts: 1 });
    expect(await pendingDelays(t)).toEqual([1_000]);
    await runDue(t, 1_000);
    expect(await only(t)).toMatchObject({ state: "done" });
  });
});

describe("a processing crash", () => {
  it("rolls back what it wrote, retries after 1 s, and loses nothing", async () => {
    const { t } = setup();
    await world(t);
    fault.remaining = 1;
    expect((await postCloud(t, cloud("message-text"))).status).toBe(200);
    await runDue(t);
    expect(fault.crashes).toBe(1);
    const failed = await only(t);
    expect(failed).toMatchObject({
      state: "retrying",
      attempts: 1,
      lastError: "simulated crash: the database went away",
    });
    // The contact written before the crash was rolled back with it.
    expect(await rows(t, "contacts")).toHaveLength(0);
    expect(await rows(t, "messages")).toHaveLength(0);
    expect(await pendingDelays(t)).toEqual([1_000]);

    await runDue(t, 999);
    expect((await only(t)).state).toBe("retrying");
    await runDue(t, 1);
    const done = await only(t);
    expect(done).toMatchObject({ state: "done", attempts: 1 });
    expect(done.lastError).toBeUndefined();
    expect(await rows(t, "contacts")).toHaveLength(1);
    expect(await rows(t, "conversations")).toHaveLength(1);
    const [message] = await rows(t, "messages");
    expect(message).toMatchObject({ text: "Hi, do you have these shoes in size 42?" });
  });

  it("crashing on some events of a batch does not hold up or lose the others", async () => {
    const { t } = setup();
    const w = await world(t);
    await outbound(t, w, { providerMessageId: OUT_WAMID, status: "sending" });
    fault.remaining = 1;
    await postCloud(t, cloud("mixed"));
    await settle(t);
    expect(fault.crashes).toBe(1);
    const events = await rows(t, "webhookEvents");
    expect(events.every((e) => e.state === "done")).toBe(true);
    expect(events.filter((e) => e.attempts === 1)).toHaveLength(1);
    expect((await rows(t, "messages")).filter((m) => m.direction === "in")).toHaveLength(2);
    expect((await rows(t, "messages")).find((m) => m.direction === "out")).toMatchObject({ status: "read" });
  });
});

describe("dead letters", () => {
  it("after every attempt (1 s, 4 s, 16 s, 64 s, 256 s apart) the event is dead with its error", async () => {
    const { t } = setup();
    await world(t);
    fault.remaining = 1_000;
    await postCloud(t, cloud("message-text"));
    const delays = [1_000, 4_000, 16_000, 64_000, 256_000];
    await runDue(t);
    for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
      expect(await only(t)).toMatchObject({ state: "retrying", attempts: attempt });
      expect(await pendingDelays(t)).toEqual([delays[attempt - 1]]);
      await runDue(t, delays[attempt - 1]);
    }
    expect(await only(t)).toMatchObject({
      state: "dead",
      attempts: MAX_ATTEMPTS,
      lastError: "simulated crash: the database went away",
    });
    expect(fault.crashes).toBe(MAX_ATTEMPTS);
    expect(await pendingDelays(t)).toEqual([]);
    await settle(t);
    expect(fault.crashes).toBe(MAX_ATTEMPTS);
    expect(await rows(t, "messages")).toHaveLength(0);
  });

  it("platform admins list them (live, paginated) and replay them, audited; the replay processes", async () => {
    const { t, as } = setup();
    await world(t);
    const root = await signUp(as, "root@platform.test");
    fault.remaining = 1_000;
    await postCloud(t, cloud("message-text"));
    await settle(t);
    const dead = await only(t);
    expect(dead.state).toBe("dead");

    const page = await root.client.query(api.deadLetters.list, {
      paginationOpts: { numItems: 10, cursor: null },
    });
    expect(page.page).toEqual([
      expect.objectContaining({
        eventId: dead._id,
        provider: "cloud",
        kind: "message",
        attempts: MAX_ATTEMPTS,
        lastError: "simulated crash: the database went away",
        event: expect.objectContaining({ text: "Hi, do you have these shoes in size 42?" }),
      }),
    ]);

    fault.remaining = 0;
    await root.client.mutation(api.deadLetters.replay, { eventId: dead._id });
    expect(await only(t)).toMatchObject({ state: "pending", attempts: 0 });
    const audit = await t.run((ctx) =>
      ctx.db
        .query("auditEvents")
        .withIndex("by_action_at", (q) => q.eq("action", "webhook.replay"))
        .collect(),
    );
    expect(audit).toEqual([
      // The event is a workspace's: the replay shows in its audit log as well as the platform's.
      expect.objectContaining({
        scope: "tenant",
        tenantId: dead.tenantId,
        actorId: root.userId,
        actorEmail: "root@platform.test",
        targetType: "webhookEvent",
        targetId: dead._id,
        before: {
          state: "dead",
          attempts: MAX_ATTEMPTS,
          lastError: "simulated crash: the database went away",
        },
        after: { state: "pending", attempts: 0 },
      }),
    ]);
    await settle(t);
    expect(await only(t)).toMatchObject({ state: "done" });
    expect(await rows(t, "messages")).toHaveLength(1);
    const after = await root.client.query(api.deadLetters.list, {
      paginationOpts: { numItems: 10, cursor: null },
    });
    expect(after.page).toEqual([]);
  });

  it("paginates, newest first", async () => {
    const { t, as } = setup();
    await world(t);
    const root = await signUp(as, "root@platform.test");
    for (const n of [1, 2, 3]) {
      await postCloud(t, cloud("unknown-number").replace("UNKNN01=", `UNKNN0${n}=`));
      vi.advanceTimersByTime(1_000);
    }
    const first = await root.client.query(api.deadLetters.list, {
      paginationOpts: { numItems: 2, cursor: null },
    });
    expect(first.page.map((d) => d.dedupeKey.slice(-8))).toEqual(["UNKNN03=", "UNKNN02="]);
    expect(first.isDone).toBe(false);
    const second = await root.client.query(api.deadLetters.list, {
      paginationOpts: { numItems: 2, cursor: first.continueCursor },
    });
    expect(second.page.map((d) => d.dedupeKey.slice(-8))).toEqual(["UNKNN01="]);
    expect(second.isDone).toBe(true);
  });

  it("only platform admins may list or replay", async () => {
    const { t, as } = setup();
    await world(t);
    const someone = await signUp(as, "owner@acme.test");
    await postCloud(t, cloud("unknown-number"));
    const [dead] = await rows(t, "webhookEvents");
    await expectCode(
      someone.client.query(api.deadLetters.list, { paginationOpts: { numItems: 10, cursor: null } }),
      "FORBIDDEN",
    );
    await expectCode(someone.client.mutation(api.deadLetters.replay, { eventId: dead._id }), "FORBIDDEN");
    await expectCode(
      t.query(api.deadLetters.list, { paginationOpts: { numItems: 10, cursor: null } }),
      "UNAUTHENTICATED",
    );
    expect((await only(t)).state).toBe("dead");
  });

  it("refuses to replay an event that is not dead", async () => {
    const { t, as } = setup();
    await world(t);
    const root = await signUp(as, "root@platform.test");
    await postCloud(t, cloud("message-text"));
    await settle(t);
    const done = await only(t);
    await expectCode(root.client.mutation(api.deadLetters.replay, { eventId: done._id }), "CONFLICT");
  });

  it("an event for a number no channel has is replayed once the channel exists", async () => {
    const { t, as } = setup();
    const w = await world(t);
    const root = await signUp(as, "root@platform.test");
    await postCloud(t, cloud("unknown-number"));
    const dead = await only(t);
    expect(dead.lastError).toMatch(/^unrouted: /);
    const channelId = await t.run(async (ctx) => {
      const { _id, _creationTime, ...fields } = (await ctx.db.get("channels", w.cloudChannelId))!;
      return await ctx.db.insert("channels", {
        ...fields,
        name: "New number",
        phoneNumberId: "999999999999999",
      });
    });
    await root.client.mutation(api.deadLetters.replay, { eventId: dead._id });
    await settle(t);
    expect(await only(t)).toMatchObject({ state: "done", channelId, tenantId: w.tenantId });
    expect(await rows(t, "messages")).toEqual([expect.objectContaining({ channelId, text: "Hello?" })]);
  });

  it("an orphan status is retried, then dead-lettered, and applied on replay once the message exists", async () => {
    const { t, as } = setup();
    const w = await world(t);
    const root = await signUp(as, "root@platform.test");
    await postCloud(t, cloud("status-read"));
    await settle(t);
    const dead = await only(t);
    expect(dead).toMatchObject({ state: "dead", attempts: MAX_ATTEMPTS });
    expect(dead.lastError).toMatch(/^orphan status: no message wamid\./);
    const messageId = await outbound(t, w, { providerMessageId: OUT_WAMID });
    await root.client.mutation(api.deadLetters.replay, { eventId: dead._id });
    await settle(t);
    expect(await t.run((ctx) => ctx.db.get("messages", messageId))).toMatchObject({ status: "read" });
  });

  it("a poison event (stored but unprocessable) dies with its error; fixed and replayed, it goes through", async () => {
    const { t, as } = setup();
    const w = await world(t);
    const root = await signUp(as, "root@platform.test");
    const poison = {
      kind: "message" as const,
      provider: "cloud" as const,
      phoneNumberId: PHONE_NUMBER_ID,
      messageId: "wamid.POISON",
      from: {},
      timestamp: 1717430400000,
      type: "text" as const,
      text: "who am I?",
    };
    await t.mutation(internal.whatsappWebhooks.ingest, {
      provider: "cloud",
      events: [{ dedupeKey: "cloud:msg:wamid.POISON", event: poison }],
    });
    await settle(t);
    const dead = await only(t);
    expect(dead).toMatchObject({
      state: "dead",
      attempts: 1,
      lastError: "not retried (the event cannot be processed): The event names no contact identifier",
    });
    await t.run((ctx) =>
      ctx.db.patch("webhookEvents", dead._id, {
        event: { ...poison, from: { waId: "34600000001", phone: "+34600000001" } },
      }),
    );
    await root.client.mutation(api.deadLetters.replay, { eventId: dead._id as Id<"webhookEvents"> });
    await settle(t);
    expect(await only(t)).toMatchObject({ state: "done", channelId: w.cloudChannelId });
    expect(await rows(t, "messages")).toEqual([
      expect.objectContaining({ providerMessageId: "wamid.POISON" }),
    ]);
  });
});

describe("retention of webhook events", () => {
  const DAY = 24 * 60 * 60 * 1000;

  async function seed(t: T, w: { cloudChannelId: Id<"channels"> }, receivedAt: number, state: string, n = 1) {
    await t.run(async (ctx) => {
      for (let i = 0; i < n; i++) {
        await ctx.db.insert("webhookEvents", {
          provider: "cloud",
          dedupeKey: `cloud:unhandled:${state}:${receivedAt}:${i}`,
          channelId: w.cloudChannelId,
          kind: "unhandled",
          event: { kind: "unhandled", provider: "cloud", field: "x", timestamp: receivedAt, raw: "{}" },
          state: state as "done" | "dead" | "pending" | "retrying",
          attempts: 0,
          receivedAt,
        });
      }
    });
  }

  it("deletes processed events older than the retention period in bounded batches, and keeps dead letters", async () => {
    const { t } = setup();
    const w = await world(t);
    const now = Date.UTC(2024, 6, 1);
    await seed(t, w, now - 31 * DAY, "done", 1_200); // more than two batches
    await seed(t, w, now - 29 * DAY, "done");
    await seed(t, w, now - 90 * DAY, "dead");
    await seed(t, w, now - 90 * DAY, "retrying");

    const first = await t.mutation(internal.whatsappWebhooks.pruneEvents, { now });
    expect(first).toEqual({ deleted: 500, more: true });
    await settle(t); // the following batches were scheduled
    const left = await rows(t, "webhookEvents");
    expect(left.map((e) => [e.state, Math.round((now - e.receivedAt) / DAY)]).sort()).toEqual([
      ["dead", 90],
      ["done", 29],
      ["retrying", 90],
    ]);
  });

  it("reads the period from WEBHOOK_EVENT_RETENTION_DAYS and refuses a nonsensical one", async () => {
    const { t } = setup();
    const w = await world(t);
    const now = Date.UTC(2024, 6, 1);
    await seed(t, w, now - 8 * DAY, "done");
    await seed(t, w, now - 6 * DAY, "done");
    vi.stubEnv("WEBHOOK_EVENT_RETENTION_DAYS", "7");
    expect(await t.mutation(internal.whatsappWebhooks.pruneEvents, { now })).toEqual({
      deleted: 1,
      more: false,
    });
    vi.stubEnv("WEBHOOK_EVENT_RETENTION_DAYS", "0");
    await expect(t.mutation(internal.whatsappWebhooks.pruneEvents, { now })).rejects.toThrow(
      /WEBHOOK_EVENT_RETENTION_DAYS must be a number of days/,
    );
    expect(await rows(t, "webhookEvents")).toHaveLength(1);
  });
});
