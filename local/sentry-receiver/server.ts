/**
 * A local receiver of Sentry envelopes: the endpoint the real Sentry SDKs post to
 * (`POST /api/<project>/envelope/`, and the older `/store/`), so error reporting can be proven
 * end to end without sending anything anywhere. It checks the DSN's public key, accepts gzip and
 * deflate bodies (the Node SDK compresses large envelopes), answers the browser's CORS preflight,
 * and keeps every event it received, readable at `GET /_events` or through `events`.
 *
 * Point an app at it with `SENTRY_DSN=http://<key>@127.0.0.1:<port>/<project>`.
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync, inflateSync } from "node:zlib";

/** One item of an envelope (an event, a transaction, a session…), parsed. */
export type ReceivedItem = {
  project: string;
  /** The item's type: `event`, `transaction`, `session`, `client_report`… */
  type: string;
  /** The JSON payload, or the raw text when it is not JSON (attachments). */
  payload: unknown;
  /** The envelope header (event_id, sent_at, sdk, dsn). */
  envelope: Record<string, unknown>;
  /** Who sent it: `node` or `browser` by the SDK name, for tests that tell them apart. */
  sdk: string;
  receivedAt: number;
};

export type SentryReceiverOptions = { port?: number; host?: string; publicKey?: string };

export type SentryReceiver = {
  url: string;
  /** The DSN for this receiver and `project`. */
  dsn(project?: string): string;
  items: ReceivedItem[];
  /** Error events only (type `event`), in arrival order. */
  events(): ReceivedItem[];
  /** Resolves with the first error event matching `match`, waiting up to `timeoutMs`. */
  waitForEvent(match: (item: ReceivedItem) => boolean, timeoutMs?: number): Promise<ReceivedItem>;
  clear(): void;
  /** Called with each error event as it arrives (for printing them). */
  onEvent?: (item: ReceivedItem) => void;
  close(): Promise<void>;
};

const MAX_BODY_BYTES = 20 * 1024 * 1024;
export const DEFAULT_PUBLIC_KEY = "localsentrykey";

/**
 * Parses an envelope: a header line, then items, each an item header line and a payload (of
 * `length` bytes when the header says so, else up to the next newline).
 */
export function parseEnvelope(body: Buffer): {
  header: Record<string, unknown>;
  items: { header: Record<string, unknown>; payload: unknown }[];
} {
  let offset = 0;
  const line = (): Buffer | null => {
    if (offset >= body.length) return null;
    const end = body.indexOf(0x0a, offset);
    const stop = end === -1 ? body.length : end;
    const out = body.subarray(offset, stop);
    offset = stop + 1;
    return out;
  };
  const headerLine = line();
  if (!headerLine) throw new Error("empty envelope");
  const header = JSON.parse(headerLine.toString("utf8")) as Record<string, unknown>;
  const items: { header: Record<string, unknown>; payload: unknown }[] = [];
  for (;;) {
    const itemHeaderLine = line();
    if (!itemHeaderLine) break;
    if (!itemHeaderLine.length) continue;
    const itemHeader = JSON.parse(itemHeaderLine.toString("utf8")) as Record<string, unknown>;
    let raw: Buffer;
    if (typeof itemHeader.length === "number") {
      raw = body.subarray(offset, offset + itemHeader.length);
      offset += itemHeader.length + 1;
    } else {
      raw = line() ?? Buffer.alloc(0);
    }
    const text = raw.toString("utf8");
    let payload: unknown = text;
    try {
      payload = JSON.parse(text);
    } catch {
      // An attachment or other non-JSON item: kept as text.
    }
    items.push({ header: itemHeader, payload });
  }
  return { header, items };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error("body too large"));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function decode(req: IncomingMessage, body: Buffer): Buffer {
  const encoding = (req.headers["content-encoding"] ?? "").toString().toLowerCase();
  if (encoding === "gzip") return gunzipSync(body);
  if (encoding === "deflate") return inflateSync(body);
  return body;
}

/** The key the SDK authenticated with: `X-Sentry-Auth: Sentry sentry_key=…` or `?sentry_key=`. */
function sentryKey(req: IncomingMessage, url: URL): string | null {
  const auth = req.headers["x-sentry-auth"];
  const fromHeader = typeof auth === "string" ? /sentry_key=([^,\s]+)/.exec(auth)?.[1] : undefined;
  return fromHeader ?? url.searchParams.get("sentry_key");
}

const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "POST, OPTIONS",
  "access-control-allow-headers": "content-type, x-sentry-auth",
  "access-control-expose-headers": "x-sentry-rate-limits, retry-after",
};

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { ...CORS, "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

export async function startSentryReceiver(options: SentryReceiverOptions = {}): Promise<SentryReceiver> {
  const publicKey = options.publicKey ?? DEFAULT_PUBLIC_KEY;
  const items: ReceivedItem[] = [];
  const waiters = new Set<() => void>();

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method === "OPTIONS") {
      res.writeHead(204, CORS);
      res.end();
      return;
    }
    if (req.method === "GET" && url.pathname === "/_events") return send(res, 200, items);
    if (req.method === "DELETE" && url.pathname === "/_events") {
      items.length = 0;
      return send(res, 200, { ok: true });
    }
    const route = /^\/api\/([^/]+)\/(envelope|store)\/?$/.exec(url.pathname);
    if (req.method !== "POST" || !route) return send(res, 404, { detail: "not found" });
    if (sentryKey(req, url) !== publicKey) return send(res, 401, { detail: "invalid api key" });
    const project = route[1]!;
    readBody(req)
      .then((raw) => {
        const body = decode(req, raw);
        const receivedAt = Date.now();
        const before = items.length;
        if (route[2] === "store") {
          const payload = JSON.parse(body.toString("utf8")) as Record<string, unknown>;
          const sdk = (payload.sdk as { name?: string } | undefined)?.name ?? "";
          items.push({ project, type: "event", payload, envelope: {}, sdk, receivedAt });
        } else {
          const envelope = parseEnvelope(body);
          const sdk = (envelope.header.sdk as { name?: string } | undefined)?.name ?? "";
          for (const item of envelope.items) {
            items.push({
              project,
              type: String(item.header.type ?? ""),
              payload: item.payload,
              envelope: envelope.header,
              sdk,
              receivedAt,
            });
          }
        }
        for (const item of items.slice(before)) if (item.type === "event") receiver.onEvent?.(item);
        for (const wake of waiters) wake();
        send(res, 200, { id: (items.at(-1)?.envelope.event_id as string | undefined) ?? null });
      })
      .catch((error: unknown) => {
        send(res, 400, { detail: error instanceof Error ? error.message : String(error) });
      });
  });

  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve),
  );
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const events = () => items.filter((item) => item.type === "event");

  const receiver: SentryReceiver = {
    url,
    dsn: (project = "1") => `http://${publicKey}@127.0.0.1:${port}/${project}`,
    items,
    events,
    waitForEvent(match, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events().find(match);
          if (!found) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(`no matching Sentry event within ${timeoutMs} ms (${events().length} events received)`),
          );
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
    clear: () => {
      items.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return receiver;
}
