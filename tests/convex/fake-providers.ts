/**
 * Meta's Graph API and WAHA servers as the convex tests' `fetch`: only the calls that check a
 * channel (`GET /{version}/{phone-number-id}`, `GET /api/sessions/{session}`), answering as the
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
  /** The next sends answer with these failures, in order (then sends succeed again). */
  failNextSends(
    ...failures: { status: number; code?: number; message?: string; retryAfter?: number }[]
  ): void;
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
  let sequence = 0;
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
  vi.stubGlobal("fetch", fake);
  return {
    calls,
    sent,
    failNextSends(...next) {
      failures.push(...next);
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
