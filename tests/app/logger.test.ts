import { describe, expect, it } from "vitest";
import { createLogger, redactString } from "../../app/lib/logger.server";

/** One JSON log line; only the fields these tests look into are spelled out. */
type LogRecord = {
  msg?: string;
  err?: { stack?: string };
  channel?: { config: { webhook: unknown } };
  [key: string]: unknown;
};

/** A logger whose JSON lines land in an array, exactly as pino wrote them. */
function capture(level = "trace") {
  const lines: string[] = [];
  const logger = createLogger({ level, destination: { write: (line: string) => void lines.push(line) } });
  const records = () => lines.map((line) => JSON.parse(line) as LogRecord);
  return { logger, lines, records };
}

describe("redactString", () => {
  it("keeps only the last four digits of phone numbers", () => {
    expect(redactString("from +15551234567 to 4915112345678")).toBe("from +*******4567 to *********5678");
  });

  it("replaces bearer tokens", () => {
    expect(redactString("Authorization: Bearer eyJhbGciOi.abc-def_ghi")).toBe(
      "Authorization: Bearer [REDACTED]",
    );
    expect(redactString("bearer xyz, next")).toBe("bearer [REDACTED], next");
  });

  it("leaves short numbers, dates and ids with digits alone", () => {
    const text = "order 1234 at 2025-01-31T10:00:00Z id wamid.HBgL15551234567 port 3210";
    expect(redactString(text)).toBe(text);
  });
});

describe("logger", () => {
  it("masks tokens and phone numbers in the message and its arguments", () => {
    const { logger, lines, records } = capture();
    logger.info("sending to %s with Bearer %s", "+15551234567", "tok_abcdef");
    logger.info("to %s", "+447700900123");
    expect(lines.join("")).not.toContain("15551234567");
    expect(lines.join("")).not.toContain("447700900123");
    expect(lines.join("")).not.toContain("tok_abcdef");
    expect(records()[0].msg).toBe("sending to +*******4567 with Bearer [REDACTED]");
    expect(records()[1].msg).toBe("to +********0123");
  });

  it("censors secret keys at any depth and masks phone numbers in nested string fields", () => {
    const { logger, lines, records } = capture();
    logger.info(
      {
        headers: { authorization: "Bearer live_abc", cookie: "__session=xyz", "x-request-id": "r1" },
        channel: {
          accessToken: "EAAG-secret",
          appSecret: "s3cr3t",
          config: { webhook: { verifyToken: "vt-123", password: "hunter2" } },
        },
        contact: { wa_id: "15551234567", name: "Ada" },
        usage: { promptTokens: 1234, completionTokens: 99 },
      },
      "inbound",
    );
    const output = lines.join("");
    for (const secret of [
      "live_abc",
      "__session=xyz",
      "EAAG-secret",
      "s3cr3t",
      "vt-123",
      "hunter2",
      "15551234567",
    ]) {
      expect(output).not.toContain(secret);
    }
    const [record] = records();
    expect(record.headers).toEqual({
      authorization: "[REDACTED]",
      cookie: "[REDACTED]",
      "x-request-id": "r1",
    });
    expect(record.channel?.config.webhook).toEqual({ verifyToken: "[REDACTED]", password: "[REDACTED]" });
    expect(record.contact).toEqual({ wa_id: "*******4567", name: "Ada" });
    // Counters named like tokens are not secrets.
    expect(record.usage).toEqual({ promptTokens: 1234, completionTokens: 99 });
  });

  it("censors top-level secret keys", () => {
    const { logger, records } = capture();
    logger.warn({ token: "abc", apiKey: "k-1", secret: "s", ok: true });
    expect(records()[0]).toMatchObject({
      token: "[REDACTED]",
      apiKey: "[REDACTED]",
      secret: "[REDACTED]",
      ok: true,
    });
  });

  it("masks errors: message, stack and the message pino derives from them", () => {
    const { logger, lines, records } = capture();
    const error = Object.assign(new Error("send to +15551234567 failed: Bearer abc.def"), {
      token: "t-secret",
    });
    logger.error(error);
    logger.error({ err: error }, "with context");
    expect(lines.join("")).not.toMatch(/15551234567|abc\.def|t-secret/);
    const [first, second] = records();
    expect(first.msg).toBe("send to +*******4567 failed: Bearer [REDACTED]");
    expect(first.err).toMatchObject({
      type: "Error",
      message: "send to +*******4567 failed: Bearer [REDACTED]",
      token: "[REDACTED]",
    });
    expect(first.err?.stack).toMatch(/^Error: send to \+\*{7}4567/);
    expect(second.msg).toBe("with context");
  });

  it("masks child logger bindings", () => {
    const { logger, lines, records } = capture();
    logger.child({ phone: "+15551234567" }).child({ apiKey: "k" }).info("hi");
    expect(lines.join("")).not.toContain("15551234567");
    expect(records()[0]).toMatchObject({ phone: "+*******4567", apiKey: "[REDACTED]", msg: "hi" });
  });

  it("respects the level and tags lines with the service", () => {
    const { logger, records } = capture("warn");
    logger.info("hidden");
    logger.warn("shown");
    expect(records()).toEqual([expect.objectContaining({ level: "warn", service: "web", msg: "shown" })]);
  });
});
