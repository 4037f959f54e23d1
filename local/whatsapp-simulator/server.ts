/**
 * The WhatsApp simulator: a local HTTP server speaking Meta's Cloud API
 * (`/{version}/{phone-number-id}/messages`, `/{version}/{waba-id}/message_templates`,
 * `/{version}/{id}`) and WAHA's (`/api/sendText`, `/api/sendImage`, `/api/sessions/{session}`),
 * sending statuses and user messages back as signed webhooks, with fault knobs, simulated users
 * and a phone page (`GET /`). Behaviour lives in simulator.ts; this file is HTTP only.
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fbtraceId } from "./meta";
import { PHONE_PAGE } from "./phone";
import {
  Simulator,
  type Answer,
  type MarketingPreferenceInput,
  type SimulatorOptions,
  type UserMessageInput,
} from "./simulator";
import type { InjectedError, Knobs, SimConfig } from "./types";

export type { Knobs, SimConfig, InjectedError, MarketingPreferenceInput, UserMessageInput };
export { Simulator };

export type WhatsAppSimulatorOptions = SimulatorOptions & {
  port?: number;
  host?: string;
  /** One line per API call and webhook (default: silent). */
  log?: (line: string) => void;
};

export type WhatsAppSimulator = {
  /** e.g. http://127.0.0.1:3220 */
  url: string;
  /** The Graph API base to configure (WHATSAPP_GRAPH_URL): `${url}/v23.0`. */
  graphUrl: string;
  /** Everything the simulator holds and does (messages, webhooks, templates, knobs, methods). */
  state: Simulator;
  close(): Promise<void>;
};

const MAX_BODY = 5 * 1024 * 1024;
const GRAPH_VERSION = /^v\d+\.\d+$/;

class TooLarge extends Error {}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new TooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function parseJson(raw: string): { ok: true; value: unknown } | { ok: false; error: string } {
  if (!raw.trim()) return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

function send(res: ServerResponse, answer: Answer) {
  if (res.headersSent) return;
  res.writeHead(answer.status, { "content-type": "application/json; charset=utf-8", ...answer.headers });
  res.end(JSON.stringify(answer.body));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startWhatsAppSimulator(
  options: WhatsAppSimulatorOptions = {},
): Promise<WhatsAppSimulator> {
  const sim = new Simulator(options);
  const log = options.log ?? (() => {});
  const streams = new Set<ServerResponse>();

  /** Knobs that apply to every provider API call: latency and a share of 5xx answers. */
  async function beforeApi(provider: "cloud" | "waha"): Promise<Answer | null> {
    if (sim.knobs.apiLatencyMs > 0) await sleep(sim.knobs.apiLatencyMs);
    if (sim.random() >= sim.knobs.serverErrors) return null;
    const status = sim.knobs.serverErrorStatus;
    return provider === "cloud"
      ? {
          status,
          body: {
            error: {
              message: "An unexpected error has occurred. Please retry your request later.",
              type: "OAuthException",
              is_transient: true,
              code: 2,
              fbtrace_id: fbtraceId(),
            },
          },
        }
      : { status, body: { statusCode: status, message: "Internal server error" } };
  }

  async function cloudApi(req: IncomingMessage, path: string, url: URL): Promise<Answer> {
    const parts = path.split("/").filter(Boolean);
    const [version, id, edge] = parts;
    const auth = req.headers.authorization;
    const unknownPath = (): Answer => ({
      status: 400,
      body: {
        error: {
          message: `Unknown path components: /${parts.slice(2).join("/")}`,
          type: "OAuthException",
          code: 2500,
          fbtrace_id: fbtraceId(),
        },
      },
    });
    if (parts.length > 3 || !GRAPH_VERSION.test(version)) return unknownPath();
    const raw = req.method === "POST" ? await readBody(req) : "";
    const fault = await beforeApi("cloud");
    if (fault) return fault;
    // Graph treats an unreadable body as no parameters at all.
    const parsed = parseJson(raw);
    const body = parsed.ok ? parsed.value : undefined;
    if (edge === "messages" && req.method === "POST") {
      const answer = sim.cloudSend(version, id, auth, body);
      if (sim.knobs.sendAnswerDelayMs > 0) await sleep(sim.knobs.sendAnswerDelayMs);
      return answer;
    }
    if (edge === "message_templates" && req.method === "GET")
      return sim.cloudListTemplates(id, auth, url.searchParams);
    if (edge === "message_templates" && req.method === "POST") return sim.cloudCreateTemplate(id, auth, body);
    if (edge === "message_templates" && req.method === "DELETE")
      return sim.cloudDeleteTemplate(id, auth, url.searchParams);
    if (!edge && req.method === "GET" && id) return sim.cloudGetObject(id, auth, url.searchParams);
    if (!edge && req.method === "POST" && id) return sim.cloudEditTemplate(id, auth, body);
    return unknownPath();
  }

  async function wahaApi(req: IncomingMessage, path: string): Promise<Answer> {
    const apiKey = (req.headers["x-api-key"] as string | undefined) ?? undefined;
    const raw = req.method === "POST" ? await readBody(req) : "";
    const notFound: Answer = {
      status: 404,
      body: { message: `Cannot ${req.method} ${path}`, error: "Not Found", statusCode: 404 },
    };
    const fault = await beforeApi("waha");
    if (fault) return fault;
    const parsed = parseJson(raw);
    if (!parsed.ok)
      return { status: 400, body: { statusCode: 400, message: parsed.error, error: "Bad Request" } };
    if (req.method === "POST" && path === "/api/sendText") return sim.wahaSend("text", apiKey, parsed.value);
    if (req.method === "POST" && path === "/api/sendImage")
      return sim.wahaSend("image", apiKey, parsed.value);
    if (req.method === "GET" && path === "/api/sessions") return sim.wahaSessionList(apiKey);
    const session = /^\/api\/sessions\/([^/]+)$/.exec(path);
    if (req.method === "GET" && session) return sim.wahaSessionInfo(apiKey, decodeURIComponent(session[1]));
    return notFound;
  }

  async function simApi(req: IncomingMessage, res: ServerResponse, path: string): Promise<Answer | null> {
    const method = req.method ?? "GET";
    if (method === "GET" && path === "/_sim/state") return { status: 200, body: sim.snapshot() };
    if (method === "GET" && path === "/_sim/knobs") return { status: 200, body: sim.knobs };
    if (method === "GET" && path === "/_sim/counters") {
      const sentTo = Object.fromEntries(sim.counters.sentTo);
      const accepted = Object.values(sentTo).reduce((a, b) => a + b, 0);
      return { status: 200, body: { sentTo, accepted, throttled: sim.counters.throttled } };
    }
    if (method === "GET" && path === "/_sim/events") {
      res.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-store",
        connection: "keep-alive",
      });
      res.write(`data: ${JSON.stringify({ version: sim.version })}\n\n`);
      let pending: NodeJS.Timeout | null = null;
      const off = sim.onChange(() => {
        pending ??= setTimeout(() => {
          pending = null;
          res.write(`data: ${JSON.stringify({ version: sim.version })}\n\n`);
        }, 100);
      });
      const keepAlive = setInterval(() => res.write(": keep-alive\n\n"), 15_000);
      streams.add(res);
      req.on("close", () => {
        off();
        clearInterval(keepAlive);
        if (pending) clearTimeout(pending);
        streams.delete(res);
      });
      return null;
    }
    const limits = /^\/_sim\/cloud\/([^/]+)\/limits$/.exec(path);
    if (method === "GET" && limits) {
      const answer = sim.messagingLimit(decodeURIComponent(limits[1]));
      return answer
        ? { status: 200, body: answer }
        : { status: 404, body: { error: "No such Cloud number" } };
    }
    const media = /^\/_sim\/media\/([^/]+)$/.exec(path);
    if (method === "GET" && media) {
      const file = sim.mediaFile(decodeURIComponent(media[1]));
      if (!file) return { status: 404, body: { error: "No such media" } };
      res.writeHead(200, { "content-type": "image/png", "content-length": String(file.bytes.length) });
      res.end(file.bytes);
      return null;
    }
    if (method !== "POST") return { status: 404, body: { error: `No route ${method} ${path}` } };

    const parsed = parseJson(await readBody(req));
    if (!parsed.ok) return { status: 400, body: { error: `Invalid JSON: ${parsed.error}` } };
    const body = (parsed.value ?? {}) as Record<string, unknown>;
    const bad = (error: string): Answer => ({ status: 400, body: { error } });
    const missing = (what: string): Answer => ({ status: 404, body: { error: `No such ${what}` } });

    if (path === "/_sim/config") {
      try {
        sim.configure(body as Partial<SimConfig>, body.replace === true);
      } catch (error) {
        return bad(error instanceof Error ? error.message : String(error));
      }
      return { status: 200, body: sim.snapshot().config };
    }
    if (path === "/_sim/knobs") return { status: 200, body: sim.setKnobs(body as Partial<Knobs>) };
    if (path === "/_sim/inject") {
      const errors = (Array.isArray(body.errors) ? body.errors : [body]) as InjectedError[];
      if (!errors.every((e) => typeof e?.code === "number"))
        return bad("Each injected error needs a numeric code");
      sim.inject(errors);
      return { status: 200, body: { queued: sim.injected.length } };
    }
    if (path === "/_sim/reset") {
      sim.reset(body.all === true);
      return { status: 200, body: { ok: true } };
    }
    if (path === "/_sim/templates") {
      if (!body.wabaId || !body.name || !body.language || !body.category || !Array.isArray(body.components)) {
        return bad("A template needs wabaId, name, language, category and components");
      }
      return { status: 200, body: sim.addTemplate(body as never) };
    }
    const userMessage = /^\/_sim\/users\/([^/]+)\/messages$/.exec(path);
    if (userMessage) return sim.userWrites(decodeURIComponent(userMessage[1]), body as UserMessageInput);
    const marketing = /^\/_sim\/users\/([^/]+)\/marketing$/.exec(path);
    if (marketing) {
      return sim.setMarketingPreference(decodeURIComponent(marketing[1]), body as MarketingPreferenceInput);
    }
    const templateStatus = /^\/_sim\/templates\/([^/]+)\/status$/.exec(path);
    if (templateStatus) {
      if (typeof body.event !== "string") return bad("event is required (APPROVED, REJECTED, PAUSED, …)");
      const t = sim.setTemplateStatus(
        decodeURIComponent(templateStatus[1]),
        body.event,
        body.reason as string,
      );
      return t ? { status: 200, body: t } : missing("template");
    }
    const templateCategory = /^\/_sim\/templates\/([^/]+)\/category$/.exec(path);
    if (templateCategory) {
      if (typeof body.category !== "string") return bad("category is required (MARKETING, UTILITY, …)");
      const t = sim.setTemplateCategory(
        decodeURIComponent(templateCategory[1]),
        body.category,
        body.announce === true,
      );
      return t ? { status: 200, body: t } : missing("template");
    }
    const templateQuality = /^\/_sim\/templates\/([^/]+)\/quality$/.exec(path);
    if (templateQuality) {
      if (typeof body.score !== "string") return bad("score is required (GREEN, YELLOW, RED, UNKNOWN)");
      const t = sim.setTemplateQuality(decodeURIComponent(templateQuality[1]), body.score);
      return t ? { status: 200, body: t } : missing("template");
    }
    const quality = /^\/_sim\/cloud\/([^/]+)\/quality$/.exec(path);
    if (quality) {
      const n = sim.qualityUpdate(decodeURIComponent(quality[1]), body as never);
      return n ? { status: 200, body: n } : missing("Cloud number");
    }
    const expire = /^\/_sim\/cloud\/([^/]+)\/expire-token$/.exec(path);
    if (expire) {
      const n = sim.cloud.get(decodeURIComponent(expire[1]));
      if (!n) return missing("Cloud number");
      n.tokenExpiresAt = typeof body.at === "number" ? body.at : Date.now();
      return { status: 200, body: n };
    }
    const wahaStatus = /^\/_sim\/waha\/([^/]+)\/status$/.exec(path);
    if (wahaStatus) {
      if (typeof body.status !== "string")
        return bad("status is required (WORKING, SCAN_QR_CODE, STOPPED, …)");
      const s = sim.setWahaStatus(decodeURIComponent(wahaStatus[1]), body.status);
      return s ? { status: 200, body: s } : missing("WAHA session");
    }
    const read = /^\/_sim\/messages\/([^/]+)\/read$/.exec(path);
    if (read) return { status: 200, body: { ok: sim.markRead(decodeURIComponent(read[1])) } };
    return { status: 404, body: { error: `No route POST ${path}` } };
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://simulator.local");
    const path = url.pathname.replace(/\/+$/, "") || "/";
    const handle = async () => {
      if (req.method === "GET" && path === "/") {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
        res.end(PHONE_PAGE);
        return;
      }
      if (path.startsWith("/_sim/")) {
        const answer = await simApi(req, res, path);
        if (answer) send(res, answer);
        return;
      }
      const file = /^\/api\/files\/[^/]+\/([^/]+)$/.exec(path);
      if (req.method === "GET" && file) {
        const media = sim.mediaFile(decodeURIComponent(file[1]));
        if (!media) return send(res, { status: 404, body: { statusCode: 404, message: "File not found" } });
        res.writeHead(200, { "content-type": media.mimeType });
        res.end(media.bytes);
        return;
      }
      const provider = path.startsWith("/api/") ? "waha" : "cloud";
      const answer = provider === "waha" ? await wahaApi(req, path) : await cloudApi(req, path, url);
      sim.recordCall(provider, req.method ?? "GET", path, answer);
      log(`${req.method} ${path} → ${answer.status}`);
      send(res, answer);
    };
    handle().catch((error) => {
      if (error instanceof TooLarge) {
        send(res, { status: 413, body: { error: { message: "Request entity too large", code: 1 } } });
        return;
      }
      log(`error ${req.method} ${path}: ${error instanceof Error ? error.stack : String(error)}`);
      send(res, {
        status: 500,
        body: { error: { message: String(error), type: "SimulatorError", code: 1 } },
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  sim.baseUrl = url;

  return {
    url,
    graphUrl: `${url}/v23.0`,
    state: sim,
    close() {
      sim.close();
      for (const stream of streams) stream.end();
      return new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      });
    },
  };
}
