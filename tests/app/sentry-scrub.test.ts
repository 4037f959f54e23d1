// What an error report may carry: scrubEvent on events shaped as the Sentry SDKs make them, and
// the local receiver's envelope parsing (plain and gzip-compressed, as the Node SDK sends).
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scrubEvent, scrubUrl } from "../../app/lib/sentry-scrub";
import { parseEnvelope, startSentryReceiver, type SentryReceiver } from "../../local/sentry-receiver/server";

describe("scrubEvent", () => {
  const event = {
    event_id: "0123456789abcdef0123456789abcdef",
    level: "error",
    message: "Send to +34600111222 failed",
    exception: {
      values: [
        {
          type: "Error",
          value: "Provider said 401 for Bearer EAAG123secret, customer ana@example.com",
          stacktrace: { frames: [{ filename: "app/routes/inbox.tsx", lineno: 12, function: "send" }] },
        },
      ],
    },
    request: {
      method: "POST",
      url: "https://app.example.com/invitations/abc?token=inv_secret&ref=34600111222",
      query_string: "token=inv_secret&page=2",
      headers: {
        cookie: "__session=s3cret",
        authorization: "Bearer t0k",
        "user-agent": "Chrome",
        "x-forwarded-for": "1.2.3.4",
      },
      cookies: { __session: "s3cret" },
      data: { phone: "+34600111222", text: "my order" },
    },
    user: { id: "user_1", email: "ana@example.com", ip_address: "1.2.3.4", username: "ana" },
    breadcrumbs: [
      { category: "navigation", data: { from: "/verify-email?token=abc", to: "/t/shop" } },
      {
        category: "fetch",
        message: "call for 34600111222",
        data: { url: "https://api.example.com/x?key=k1&q=1" },
      },
    ],
    extra: { apiKey: "sk_live_1", note: "write to ana@example.com" },
    tags: { tenant: "shop" },
  };
  const scrubbed = scrubEvent(event);
  const text = JSON.stringify(scrubbed);

  it("keeps what a developer needs", () => {
    expect(scrubbed.event_id).toBe(event.event_id);
    expect(scrubbed.exception.values[0]!.stacktrace.frames[0]).toEqual(
      event.exception.values[0]!.stacktrace.frames[0],
    );
    expect(scrubbed.tags).toEqual({ tenant: "shop" });
    expect(scrubbed.request.method).toBe("POST");
    expect(scrubbed.request.headers["user-agent"]).toBe("Chrome");
    expect(scrubbed.user).toEqual({ id: "user_1" });
  });

  it("drops cookies, bodies, client addresses and secret headers", () => {
    expect(scrubbed.request.cookies).toBeUndefined();
    expect(scrubbed.request.data).toBeUndefined();
    expect(scrubbed.request.headers.cookie).toBe("[REDACTED]");
    expect(scrubbed.request.headers.authorization).toBe("[REDACTED]");
    expect(scrubbed.request.headers["x-forwarded-for"]).toBeUndefined();
    expect(text).not.toContain("1.2.3.4");
  });

  it("masks phone numbers, emails, tokens and credential query values everywhere", () => {
    for (const secret of [
      "34600111222",
      "ana@example.com",
      "EAAG123secret",
      "inv_secret",
      "s3cret",
      "t0k",
      "sk_live_1",
      "k1",
    ])
      expect(text).not.toContain(secret);
    expect(scrubbed.message).toBe("Send to +*******1222 failed");
    expect(scrubbed.exception.values[0]!.value).toContain("[REDACTED]@example.com");
    expect(scrubbed.request.url).toBe(
      "https://app.example.com/invitations/abc?token=%5BREDACTED%5D&ref=*******1222",
    );
    expect(scrubbed.request.query_string).toBe("token=%5BREDACTED%5D&page=2");
    expect(scrubbed.breadcrumbs[0]!.data.from).toBe("/verify-email?token=%5BREDACTED%5D");
    expect(scrubbed.breadcrumbs[1]!.data.url).toBe("https://api.example.com/x?key=%5BREDACTED%5D&q=1");
  });

  it("leaves a URL without a query alone apart from personal data", () => {
    expect(scrubUrl("/t/shop/inbox")).toBe("/t/shop/inbox");
  });
});

describe("local Sentry receiver", () => {
  let receiver: SentryReceiver;
  beforeAll(async () => {
    receiver = await startSentryReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
  });

  const envelope = (payload: string) =>
    [
      JSON.stringify({ event_id: "e1", sdk: { name: "sentry.javascript.node" } }),
      JSON.stringify({ type: "event", length: Buffer.byteLength(payload) }),
      payload,
      JSON.stringify({ type: "client_report" }),
      JSON.stringify({ discarded_events: [] }),
    ].join("\n");

  it("parses items with and without a length", () => {
    const parsed = parseEnvelope(Buffer.from(envelope('{"message":"a\\nb"}')));
    expect(parsed.header.event_id).toBe("e1");
    expect(parsed.items.map((i) => i.header.type)).toEqual(["event", "client_report"]);
    expect(parsed.items[0]!.payload).toEqual({ message: "a\nb" });
  });

  it("accepts gzip envelopes with the DSN's key and refuses other keys", async () => {
    const url = new URL(receiver.dsn());
    const endpoint = `${receiver.url}/api/1/envelope/`;
    const refused = await fetch(`${endpoint}?sentry_key=wrong`, { method: "POST", body: envelope("{}") });
    expect(refused.status).toBe(401);
    const accepted = await fetch(endpoint, {
      method: "POST",
      headers: {
        "x-sentry-auth": `Sentry sentry_version=7, sentry_key=${url.username}`,
        "content-encoding": "gzip",
      },
      body: gzipSync(envelope('{"message":"zipped"}')),
    });
    expect(accepted.status).toBe(200);
    const event = await receiver.waitForEvent(
      (item) => (item.payload as { message?: string }).message === "zipped",
    );
    expect(event.sdk).toBe("sentry.javascript.node");
    const listed = (await (await fetch(`${receiver.url}/_events`)).json()) as unknown[];
    expect(listed).toHaveLength(2);
  });
});
