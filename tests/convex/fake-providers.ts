/**
 * Meta's Graph API and WAHA servers as the convex tests' `fetch`: the calls that check a channel
 * (`GET /{version}/{phone-number-id}`, `GET /api/sessions/{session}`), sends, and the templates
 * API (create, edit, get, list, delete), answering as the
 * real ones do (and as the simulator does: tests/local/whatsapp-providers.test.ts). The code
 * under test makes real HTTP-shaped calls; only the far end is replaced.
 */
import { vi } from "vitest";

type Number = { accessTokens: Set<string>; displayPhoneNumber: string; verifiedName: string };
type Session = { apiKeys: Set<string>; status: string };

export type FakeProviders = {
  /** Registers a number that `accessToken` may read (call again for more tokens). */
  number(phoneNumberId: string, accessToken: string, displayPhoneNumber?: string): void;
  /** Registers a WAHA session on the server at `baseUrl` (no trailing slash) and a key for it. */
  session(baseUrl: string, session: string, apiKey: string, status?: string): void;
  /** Every call made, as "GET <url>". */
  calls: string[];
  /** Bodies of sends (`POST /{v}/{phone-number-id}/messages`, `POST /api/sendText`), in order. */
  sent: { url: string; body: Record<string, unknown> }[];
  /**
   * Templates Meta holds, by id (the templates API: create, edit, get, list, delete). Tests change
   * `status` or `category` here to play Meta's review without a webhook.
   */
  templates: Map<string, FakeTemplate>;
  /** Bodies of template creations and edits, in order. */
  templateRequests: { method: string; path: string; body: Record<string, unknown> }[];
  /** The next sends answer with these failures, in order (then sends succeed again). */
  failNextSends(
    ...failures: { status: number; code?: number; message?: string; retryAfter?: number }[]
  ): void;
  /**
   * Sends answer `ms` after they were counted, as a provider busy after its count does: the
   * (fake) clock moves on by that much before the answer.
   */
  answerSendsAfter(ms: number): void;
};

export type FakeTemplate = {
  id: string;
  wabaId: string;
  name: string;
  language: string;
  category: string;
  status: string;
  parameter_format: string;
  components: unknown[];
  rejected_reason?: string;
  quality_score?: { score: string };
  correct_category?: string;
};

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

function graphError(status: number, code: number, message: string, subcode?: number) {
  return json(status, {
    error: {
      message,
      type: "OAuthException",
      code,
      ...(subcode !== undefined ? { error_subcode: subcode } : {}),
      fbtrace_id: "AFakeTraceId",
    },
  });
}

export function fakeProviders(): FakeProviders {
  const numbers = new Map<string, Number>();
  const sessions = new Map<string, Session>();
  const calls: string[] = [];
  const sent: FakeProviders["sent"] = [];
  const failures: { status: number; code?: number; message?: string; retryAfter?: number }[] = [];
  const templates = new Map<string, FakeTemplate>();
  const templateRequests: FakeProviders["templateRequests"] = [];
  let sequence = 0;
  let answerAfterMs = 0;
  const fake = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = init?.method ?? "GET";
    calls.push(`${method} ${url.toString()}`);
    const headers = new Headers(init?.headers);
    const isSend =
      method === "POST" &&
      (/^\/v\d+\.\d+\/[^/]+\/messages$/.test(url.pathname) || url.pathname.endsWith("/api/sendText"));
    if (isSend) {
      const body = JSON.parse(String(init?.body ?? "{}")) as Record<string, unknown>;
      sent.push({ url: url.toString(), body });
      if (answerAfterMs > 0) vi.setSystemTime(Date.now() + answerAfterMs);
      const failure = failures.shift();
      if (failure) {
        const response = failure.code
          ? graphError(failure.status, failure.code, failure.message ?? "Failure")
          : json(failure.status, { message: failure.message ?? "Failure" });
        if (failure.retryAfter !== undefined) response.headers.set("retry-after", String(failure.retryAfter));
        return response;
      }
      sequence++;
      if (url.pathname.endsWith("/api/sendText"))
        return json(201, { id: { _serialized: `true_${String(body.chatId)}_FAKE${sequence}` } });
      return json(200, {
        messaging_product: "whatsapp",
        // A send to a business-scoped user id names it as `recipient` (no `to`).
        contacts: [
          body.recipient !== undefined
            ? { input: body.recipient, user_id: body.recipient }
            : { input: body.to, wa_id: body.to },
        ],
        messages: [{ id: `wamid.FAKE${sequence}`, message_status: "accepted" }],
      });
    }
    const templateAnswer = templatesApi(method, url, headers, init);
    if (templateAnswer) return templateAnswer;
    const waha = /^(.*)\/api\/sessions\/([^/]+)$/.exec(url.pathname);
    if (waha) {
      const key = `${url.origin}${waha[1]}|${decodeURIComponent(waha[2])}`;
      const known = [...sessions.keys()].some((k) => k.startsWith(`${url.origin}${waha[1]}|`));
      if (!known) throw new TypeError("fetch failed");
      const session = sessions.get(key);
      if (!session) return json(404, { statusCode: 404, message: "Session not found", error: "Not Found" });
      if (!session.apiKeys.has(headers.get("x-api-key") ?? ""))
        return json(401, { statusCode: 401, message: "Unauthorized" });
      return json(200, {
        name: decodeURIComponent(waha[2]),
        status: session.status,
        engine: { engine: "WEBJS" },
      });
    }
    const graph = /^\/v\d+\.\d+\/([^/]+)$/.exec(url.pathname);
    if (graph && method === "GET") {
      const token = /^Bearer\s+(\S+)$/i.exec(headers.get("authorization") ?? "")?.[1];
      if (!token) return graphError(401, 190, "An access token is required to request this resource.");
      const readable = [...numbers.values()].filter((n) => n.accessTokens.has(token));
      if (readable.length === 0)
        return graphError(401, 190, "Invalid OAuth access token - Cannot parse access token");
      const id = decodeURIComponent(graph[1]);
      const number = numbers.get(id);
      if (!number || !number.accessTokens.has(token)) {
        return graphError(
          400,
          100,
          `Unsupported get request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
          33,
        );
      }
      return json(200, {
        id,
        display_phone_number: number.displayPhoneNumber,
        verified_name: number.verifiedName,
        quality_rating: "GREEN",
        messaging_limit_tier: "TIER_1K",
      });
    }
    return json(404, { error: `No fake for ${method} ${url.pathname}` });
  };
  function templatesApi(method: string, url: URL, headers: Headers, init?: RequestInit): Response | null {
    const list = /^\/v\d+\.\d+\/([^/]+)\/message_templates$/.exec(url.pathname);
    const one = /^\/v\d+\.\d+\/([^/]+)$/.exec(url.pathname);
    const templateId = one ? decodeURIComponent(one[1]) : undefined;
    if (!list && !(templateId && templates.has(templateId))) return null;
    const token = /^Bearer\s+(\S+)$/i.exec(headers.get("authorization") ?? "")?.[1];
    if (!token || ![...numbers.values()].some((n) => n.accessTokens.has(token)))
      return graphError(401, 190, "Invalid OAuth access token - Cannot parse access token");
    const body = init?.body ? (JSON.parse(String(init.body)) as Record<string, unknown>) : {};
    if (method === "POST") templateRequests.push({ method, path: url.pathname, body });
    const fields = (t: FakeTemplate) => ({ ...t });
    if (list) {
      const wabaId = decodeURIComponent(list[1]);
      const mine = [...templates.values()].filter((t) => t.wabaId === wabaId);
      if (method === "GET") return json(200, { data: mine.map(fields), paging: { cursors: {} } });
      if (method === "DELETE") {
        const doomed = mine.filter(
          (t) =>
            t.name === url.searchParams.get("name") &&
            (!url.searchParams.get("hsm_id") || t.id === url.searchParams.get("hsm_id")),
        );
        if (!doomed.length) return graphError(400, 100, "Message template not found", 2593002);
        for (const t of doomed) templates.delete(t.id);
        return json(200, { success: true });
      }
      if (method === "POST") {
        if (mine.some((t) => t.name === body.name && t.language === body.language))
          return graphError(400, 100, "Message template already exists", 2388024);
        const id = String(594425479261000 + templates.size + 1);
        const t: FakeTemplate = {
          id,
          wabaId,
          name: String(body.name),
          language: String(body.language),
          category: String(body.category),
          status: "PENDING",
          parameter_format: String(body.parameter_format ?? "POSITIONAL"),
          components: body.components as unknown[],
        };
        templates.set(id, t);
        return json(200, { id, status: t.status, category: t.category });
      }
    }
    const t = templates.get(templateId!)!;
    if (method === "GET") return json(200, fields(t));
    if (method === "POST") {
      if (body.components) t.components = body.components as unknown[];
      if (body.category) t.category = String(body.category);
      t.status = "PENDING";
      delete t.rejected_reason;
      return json(200, { success: true });
    }
    return null;
  }

  vi.stubGlobal("fetch", fake);
  return {
    calls,
    sent,
    templates,
    templateRequests,
    failNextSends(...next) {
      failures.push(...next);
    },
    answerSendsAfter(ms) {
      answerAfterMs = ms;
    },
    number(phoneNumberId, accessToken, displayPhoneNumber = "+1 555-010-0001") {
      const known = numbers.get(phoneNumberId);
      if (known) known.accessTokens.add(accessToken);
      else
        numbers.set(phoneNumberId, {
          accessTokens: new Set([accessToken]),
          displayPhoneNumber,
          verifiedName: "Fake Business",
        });
    },
    session(baseUrl, session, apiKey, status = "WORKING") {
      const known = sessions.get(`${baseUrl}|${session}`);
      if (known) {
        known.apiKeys.add(apiKey);
        known.status = status;
      } else sessions.set(`${baseUrl}|${session}`, { apiKeys: new Set([apiKey]), status });
    },
  };
}
