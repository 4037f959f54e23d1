/** The message status state machine, pure: every order of the same statuses ends in one state. */
import { describe, expect, it } from "vitest";
import type { StatusEvent } from "../../convex/model/whatsapp/events";
import {
  advances,
  applyStatus,
  classifyErrorCode,
  cloudStatus,
  wahaAckStatus,
  type StatusFields,
} from "../../convex/model/whatsapp/status";

const pmp = { billable: true, model: "PMP", type: "regular", category: "marketing" };

function status(s: StatusEvent["status"], timestamp: number, extra: Partial<StatusEvent> = {}): StatusEvent {
  return {
    kind: "status",
    provider: "cloud",
    messageId: "wamid.1",
    status: s,
    timestamp,
    recipient: { waId: "1" },
    ...extra,
  };
}

const failed = status("failed", 15, {
  errors: [{ code: 131026, title: "Message undeliverable", details: "Message Undeliverable." }],
});

function run(events: StatusEvent[], start: StatusFields["status"] = "sending"): StatusFields {
  let message: StatusFields = { status: start, statusAt: 0, providerMessageId: "wamid.1" };
  for (const event of events) {
    const patch = applyStatus(message, event);
    if (patch) message = { ...message, ...patch };
  }
  return message;
}

function permutations<X>(items: X[]): X[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}

describe("status state machine", () => {
  it("orders sent < delivered < read < failed, and never moves back", () => {
    expect(advances("sending", "sent")).toBe(true);
    expect(advances("sent", "delivered")).toBe(true);
    expect(advances("delivered", "read")).toBe(true);
    expect(advances("read", "delivered")).toBe(false);
    expect(advances("read", "sent")).toBe(false);
    expect(advances("delivered", "delivered")).toBe(false);
    expect(advances("read", "failed")).toBe(true);
    expect(advances("failed", "read")).toBe(false);
    expect(advances("received", "sent")).toBe(true);
  });

  it("every order (with duplicates) of sent, delivered, read ends read, at read's time, with the pricing", () => {
    const events = [
      status("sent", 10, { pricing: pmp }),
      status("delivered", 12, { pricing: pmp }),
      status("read", 20),
      status("delivered", 12, { pricing: pmp }),
      status("read", 20),
    ];
    const outcomes = new Set(permutations(events).map((order) => JSON.stringify(run(order))));
    expect([...outcomes].map((o) => JSON.parse(o))).toEqual([
      { status: "read", statusAt: 20, providerMessageId: "wamid.1", pricing: pmp },
    ]);
  });

  it("the same status reported twice keeps the earlier time (WAHA READ then PLAYED, in any order)", () => {
    expect(run([status("read", 30), status("read", 20)])).toMatchObject({ status: "read", statusAt: 20 });
    expect(run([status("read", 20), status("read", 30)])).toMatchObject({ status: "read", statusAt: 20 });
  });

  it("a read without delivered still ends read", () => {
    expect(run([status("read", 20), status("sent", 10)])).toMatchObject({ status: "read", statusAt: 20 });
  });

  it("failed is terminal and keeps its error, in every order", () => {
    const outcomes = permutations([
      status("sent", 10, { pricing: pmp }),
      failed,
      status("delivered", 12),
    ]).map((order) => run(order));
    for (const outcome of outcomes) {
      expect(outcome).toMatchObject({
        status: "failed",
        statusAt: 15,
        errorCode: 131026,
        errorClass: "permanent",
        errorMessage: "Message undeliverable: Message Undeliverable.",
      });
    }
    expect(applyStatus(run([failed]), status("read", 30))).toBeNull();
  });

  it("a duplicate changes nothing", () => {
    const message = run([status("delivered", 12, { pricing: pmp })]);
    expect(applyStatus(message, status("delivered", 12, { pricing: pmp }))).toBeNull();
    expect(applyStatus(message, status("sent", 10, { pricing: pmp }))).toBeNull();
  });

  it("fills in pricing from a lower status when none is stored, and records the provider id", () => {
    const message = run([status("read", 20)]);
    expect(message.pricing).toBeUndefined();
    expect(applyStatus(message, status("sent", 10, { pricing: pmp }))).toEqual({ pricing: pmp });
    expect(applyStatus({ status: "sending", statusAt: 0 }, status("sent", 10))).toEqual({
      status: "sent",
      statusAt: 10,
      providerMessageId: "wamid.1",
    });
  });

  it("a failure without details is still classified", () => {
    expect(run([status("failed", 5)])).toMatchObject({
      status: "failed",
      errorClass: "permanent",
      errorMessage: "The provider reported the message as failed",
    });
  });
});

describe("provider statuses", () => {
  it("Cloud: played counts as read; unknown statuses are not ours", () => {
    expect(["sent", "delivered", "read", "played", "failed", "deleted"].map(cloudStatus)).toEqual([
      "sent",
      "delivered",
      "read",
      "read",
      "failed",
      null,
    ]);
  });

  it("WAHA acks: -1 failed, 0 pending, 1 sent, 2 delivered, 3 read, 4 played → read", () => {
    expect([-1, 0, 1, 2, 3, 4, 5].map(wahaAckStatus)).toEqual([
      "failed",
      "pending",
      "sent",
      "delivered",
      "read",
      "read",
      null,
    ]);
  });

  it("classifies failures with whatsapp.md's error table", () => {
    expect(
      Object.fromEntries(
        [
          130429, 131056, 131047, 131026, 131048, 131049, 132000, 132001, 131051, 368, 4, 80007, 190, 1, 2,
          131000, 131016, 131057, 999999,
        ].map((code) => [code, classifyErrorCode(code)]),
      ),
    ).toEqual({
      130429: "throttled",
      131056: "pair_limited",
      131047: "window_closed",
      131026: "permanent",
      131048: "throttled",
      131049: "pair_limited",
      132000: "template_invalid",
      132001: "template_invalid",
      131051: "permanent",
      368: "auth",
      4: "retryable",
      80007: "retryable",
      190: "auth",
      1: "retryable",
      2: "retryable",
      131000: "retryable",
      131016: "retryable",
      131057: "retryable",
      999999: "permanent",
    });
  });
});
