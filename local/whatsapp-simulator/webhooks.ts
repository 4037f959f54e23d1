/**
 * Sends the simulator's webhooks: signs the exact bytes, applies the fault knobs (drop,
 * duplicate, reorder, delay), retries non-2xx answers and keeps a log of every delivery.
 */
import { randomUUID } from "node:crypto";
import { hubSignature, metaJson, ulid, wahaHmac } from "./meta";
import type { Knobs, WebhookDelivery } from "./types";

export type WebhookRequest = (
  | { provider: "cloud"; url: string; appSecret: string; kind: string; payload: unknown }
  | { provider: "waha"; url: string; hmacKey?: string; kind: string; payload: unknown }
) & {
  /** Drop this one whatever the drop share says (a knob that drops one kind of webhook). */
  drop?: boolean;
};

const MAX_LOG = 2_000;

export class WebhookDispatcher {
  readonly log: WebhookDelivery[] = [];
  private held: WebhookDelivery[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private timers = new Set<NodeJS.Timeout>();
  private inFlight = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly knobs: () => Knobs,
    private readonly random: () => number,
    private readonly onChange: () => void,
  ) {}

  /** Queues one webhook; returns its log entry (state moves on as it is delivered). */
  send(request: WebhookRequest): WebhookDelivery {
    const knobs = this.knobs();
    const delivery = this.prepare(request);
    this.record(delivery);
    if (request.drop || this.random() < knobs.drop) {
      delivery.state = "dropped";
      return delivery;
    }
    if (this.random() < knobs.duplicate) {
      // Same bytes, same signature, its own request: what Meta's at-least-once delivery does.
      const copy: WebhookDelivery = {
        ...delivery,
        id: randomUUID(),
        duplicate: true,
        headers: { ...delivery.headers },
      };
      if (copy.provider === "waha") copy.headers["x-webhook-request-id"] = ulid();
      this.record(copy);
      this.later(knobs.delayMs + 25, () => this.deliver(copy));
    }
    if (this.random() < knobs.reorder) {
      delivery.state = "held";
      this.held.push(delivery);
      this.flushTimer ??= this.later(knobs.reorderWindowMs, () => {
        this.flushTimer = null;
        // Reverse order of arrival, 20 ms apart so they also reach the receiver in that order.
        const batch = this.held.reverse();
        this.held = [];
        batch.forEach((d, i) => (i === 0 ? this.deliver(d) : this.later(20 * i, () => this.deliver(d))));
      });
      return delivery;
    }
    this.later(knobs.delayMs, () => this.deliver(delivery));
    return delivery;
  }

  private prepare(request: WebhookRequest): WebhookDelivery {
    const now = Date.now();
    const base = {
      id: randomUUID(),
      provider: request.provider,
      url: request.url,
      kind: request.kind,
      state: "pending" as const,
      attempts: 0,
      createdAt: now,
    };
    if (request.provider === "cloud") {
      const body = metaJson(request.payload);
      return {
        ...base,
        body,
        headers: {
          "content-type": "application/json",
          "user-agent": "facebookexternalua",
          "x-hub-signature-256": hubSignature(request.appSecret, body),
        },
      };
    }
    const body = JSON.stringify(request.payload);
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "x-webhook-request-id": ulid(now),
      "x-webhook-timestamp": String(now),
    };
    if (request.hmacKey) {
      headers["x-webhook-hmac"] = wahaHmac(request.hmacKey, body);
      headers["x-webhook-hmac-algorithm"] = "sha512";
    }
    return { ...base, body, headers };
  }

  private record(delivery: WebhookDelivery) {
    this.log.push(delivery);
    if (this.log.length > MAX_LOG) this.log.splice(0, this.log.length - MAX_LOG);
    this.onChange();
  }

  private later(ms: number, fn: () => void): NodeJS.Timeout {
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        fn();
      },
      Math.max(0, ms),
    );
    this.timers.add(timer);
    return timer;
  }

  private deliver(delivery: WebhookDelivery) {
    if (this.closed) return;
    const attempt = async () => {
      delivery.attempts += 1;
      delivery.state = "pending";
      try {
        const response = await fetch(delivery.url, {
          method: "POST",
          headers: delivery.headers,
          body: delivery.body,
          signal: AbortSignal.timeout(15_000),
        });
        await response.arrayBuffer().catch(() => undefined);
        delivery.responseStatus = response.status;
        delivery.error = undefined;
        if (response.ok) {
          delivery.state = "delivered";
          delivery.sentAt = Date.now();
        } else {
          delivery.state = "failed";
          delivery.error = `HTTP ${response.status}`;
        }
      } catch (error) {
        delivery.state = "failed";
        delivery.error = error instanceof Error ? error.message : String(error);
      }
      this.onChange();
      if (delivery.state === "failed" && delivery.attempts < this.knobs().webhookAttempts && !this.closed) {
        this.later(500 * 2 ** (delivery.attempts - 1), () => this.deliver(delivery));
      }
    };
    const run = attempt().finally(() => this.inFlight.delete(run));
    this.inFlight.add(run);
  }

  /** Resolves once nothing is queued, held or in flight. */
  async idle(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.timers.size > 0 || this.inFlight.size > 0 || this.held.length > 0) {
      if (Date.now() > deadline) throw new Error("Webhooks still pending after " + timeoutMs + " ms");
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  clear() {
    this.log.splice(0);
  }

  close() {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.held = [];
  }
}
