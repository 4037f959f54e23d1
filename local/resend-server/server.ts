/**
 * A local stand-in for Resend's HTTP API (the part the product uses): `POST /emails` and
 * `GET /emails/:id`, with Resend's authentication, validation and error shapes, so the real
 * `resend` SDK can be pointed at it (RESEND_BASE_URL) in tests and local development.
 */
import { randomUUID } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** An email Resend accepted, as it arrived. */
export type ReceivedEmail = {
  id: string;
  from: string;
  to: string[];
  subject: string;
  text?: string;
  html?: string;
  cc?: string[];
  bcc?: string[];
  replyTo?: string[];
  headers?: Record<string, string>;
  tags?: { name: string; value: string }[];
  /** The request's Authorization header and SDK user agent, for tests that check them. */
  authorization: string;
  userAgent: string;
  idempotencyKey?: string;
  createdAt: string;
};

/** Every POST /emails the server answered, accepted or not. */
export type Attempt = { status: number; body: unknown; response: unknown };

export type ResendServerOptions = {
  port?: number;
  host?: string;
  /** When set, only this key is accepted (others get 403 invalid_api_key); otherwise any key is. */
  apiKey?: string;
};

export type ResendServer = {
  /** Base URL for the SDK: `new Resend(key, { baseUrl: url })` or RESEND_BASE_URL. */
  url: string;
  received: ReceivedEmail[];
  attempts: Attempt[];
  /** The next POST /emails answers `status` with Resend's error shape instead of sending. */
  failNext(status: number, message?: string): void;
  /** Resolves once `count` emails were accepted (default: one more than now). */
  waitForEmails(count?: number, timeoutMs?: number): Promise<ReceivedEmail[]>;
  close(): Promise<void>;
};

type ResendError = { statusCode: number; name: string; message: string };

const ERROR_NAMES: Record<number, string> = {
  400: "validation_error",
  401: "missing_api_key",
  403: "invalid_api_key",
  404: "not_found",
  405: "method_not_allowed",
  409: "invalid_idempotent_request",
  422: "validation_error",
  429: "rate_limit_exceeded",
  500: "internal_server_error",
  503: "application_error",
};

function errorBody(statusCode: number, message: string, name = ERROR_NAMES[statusCode]): ResendError {
  return { statusCode, name: name ?? "application_error", message };
}

// `email@example.com` or `Name <email@example.com>`, as Resend accepts them.
const ADDRESS = /^(?:[^<>]*<\s*[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+\s*>|[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+)$/;
const MAX_RECIPIENTS = 50;

type Validated = { ok: true; email: Omit<ReceivedEmail, "id" | "authorization" | "userAgent" | "createdAt"> };

/** Checks a send request the way Resend does; returns the email or the 422 answer. */
function validate(body: unknown): Validated | { ok: false; error: ResendError } {
  const invalid = (message: string, name = "validation_error") => ({
    ok: false as const,
    error: errorBody(422, message, name),
  });
  if (!body || typeof body !== "object" || Array.isArray(body)) {
    return invalid("The request body must be a JSON object.");
  }
  const b = body as Record<string, unknown>;
  for (const field of ["from", "to", "subject"]) {
    if (b[field] === undefined || b[field] === null || b[field] === "") {
      return invalid(`Missing \`${field}\` field.`, "missing_required_field");
    }
  }
  if (typeof b.from !== "string" || !ADDRESS.test(b.from.trim())) {
    return invalid(
      "Invalid `from` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.",
    );
  }
  const list = (field: string): string[] | null | undefined => {
    const value = b[field];
    if (value === undefined || value === null) return undefined;
    const items = typeof value === "string" ? [value] : Array.isArray(value) ? value : null;
    if (!items || !items.every((i) => typeof i === "string" && ADDRESS.test(i.trim()))) return null;
    return items as string[];
  };
  const to = list("to");
  if (!to || to.length === 0) {
    return invalid(
      "Invalid `to` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.",
    );
  }
  if (to.length > MAX_RECIPIENTS)
    return invalid(`Too many recipients: \`to\` takes at most ${MAX_RECIPIENTS}.`);
  const cc = list("cc");
  const bcc = list("bcc");
  const replyTo = list("reply_to");
  for (const [name, value] of [
    ["cc", cc],
    ["bcc", bcc],
    ["reply_to", replyTo],
  ] as const) {
    if (value === null) return invalid(`Invalid \`${name}\` field.`);
  }
  if (typeof b.subject !== "string") return invalid("Invalid `subject` field. It must be a string.");
  for (const field of ["text", "html"]) {
    if (b[field] !== undefined && b[field] !== null && typeof b[field] !== "string") {
      return invalid(`Invalid \`${field}\` field. It must be a string.`);
    }
  }
  if (b.text == null && b.html == null && b.template == null) {
    return invalid("Missing `html` or `text` field.", "missing_required_field");
  }
  return {
    ok: true,
    email: {
      from: b.from,
      to,
      subject: b.subject,
      text: (b.text as string | null | undefined) ?? undefined,
      html: (b.html as string | null | undefined) ?? undefined,
      cc: cc ?? undefined,
      bcc: bcc ?? undefined,
      replyTo: replyTo ?? undefined,
      headers: (b.headers as Record<string, string> | undefined) ?? undefined,
      tags: (b.tags as { name: string; value: string }[] | undefined) ?? undefined,
    },
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

export async function startResendServer(options: ResendServerOptions = {}): Promise<ResendServer> {
  const received: ReceivedEmail[] = [];
  const attempts: Attempt[] = [];
  const failures: { status: number; message?: string }[] = [];
  const byIdempotencyKey = new Map<string, { id: string; body: string }>();
  const waiters = new Set<() => void>();

  /** Checks the Bearer key; returns the error to answer with, or null when it is accepted. */
  function authError(req: IncomingMessage): ResendError | null {
    const header = req.headers.authorization ?? "";
    const match = /^Bearer\s+(\S+)$/.exec(header);
    if (!match) {
      return errorBody(
        401,
        "Missing API key in the authorization header. Include the following header in the request: Authorization: Bearer YOUR_API_KEY",
      );
    }
    if (options.apiKey !== undefined && match[1] !== options.apiKey)
      return errorBody(403, "API key is invalid");
    return null;
  }

  async function postEmail(req: IncomingMessage, res: ServerResponse) {
    const raw = await readBody(req);
    let body: unknown;
    const answer = (status: number, response: unknown) => {
      attempts.push({ status, body, response });
      send(res, status, response);
    };
    const denied = authError(req);
    if (denied) return answer(denied.statusCode, denied);
    try {
      body = JSON.parse(raw);
    } catch {
      return answer(422, errorBody(422, "The request body is not valid JSON."));
    }
    const failure = failures.shift();
    if (failure) {
      return answer(
        failure.status,
        errorBody(failure.status, failure.message ?? "An unexpected error occurred, please try again later."),
      );
    }
    const checked = validate(body);
    if (!checked.ok) return answer(checked.error.statusCode, checked.error);

    const idempotencyKey = headerValue(req, "idempotency-key");
    if (idempotencyKey) {
      const seen = byIdempotencyKey.get(idempotencyKey);
      if (seen && seen.body !== raw) {
        return answer(
          409,
          errorBody(409, "Same idempotency key used with a different request payload. Use a new key."),
        );
      }
      if (seen) return answer(200, { id: seen.id });
    }
    const id = randomUUID();
    received.push({
      id,
      ...checked.email,
      authorization: req.headers.authorization ?? "",
      userAgent: headerValue(req, "user-agent") ?? "",
      idempotencyKey,
      createdAt: new Date().toISOString(),
    });
    if (idempotencyKey) byIdempotencyKey.set(idempotencyKey, { id, body: raw });
    answer(200, { id });
    for (const wake of [...waiters]) wake();
  }

  function getEmail(req: IncomingMessage, res: ServerResponse, id: string) {
    const denied = authError(req);
    if (denied) return send(res, denied.statusCode, denied);
    const email = received.find((e) => e.id === id);
    if (!email) return send(res, 404, errorBody(404, "Email not found"));
    send(res, 200, {
      object: "email",
      id: email.id,
      to: email.to,
      from: email.from,
      created_at: email.createdAt,
      subject: email.subject,
      html: email.html ?? null,
      text: email.text ?? null,
      bcc: email.bcc ?? null,
      cc: email.cc ?? null,
      reply_to: email.replyTo ?? null,
      last_event: "delivered",
    });
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://resend.local");
    const path = url.pathname.replace(/\/+$/, "") || "/";
    const handle = async () => {
      if (path === "/emails") {
        if (req.method === "POST") return await postEmail(req, res);
        return send(res, 405, errorBody(405, "Method is not allowed for the requested path."));
      }
      const one = /^\/emails\/([^/]+)$/.exec(path);
      if (one && req.method === "GET") return getEmail(req, res, decodeURIComponent(one[1]));
      send(res, 404, errorBody(404, "The requested endpoint does not exist."));
    };
    handle().catch((error) => {
      if (!res.headersSent) send(res, 500, errorBody(500, String(error)));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    received,
    attempts,
    failNext(status, message) {
      failures.push({ status, message });
    },
    waitForEmails(count = received.length + 1, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (received.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(received.slice());
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`Timed out waiting for ${count} emails; received ${received.length}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      });
    },
  };
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
