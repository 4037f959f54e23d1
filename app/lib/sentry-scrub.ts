// What leaves the platform in an error report: the error and where it happened, never a secret
// or a customer's details. Every Sentry event passes through `scrubEvent` on the server (an event
// processor, entry.server.tsx) and in the browser (`beforeSend`, entry.client.tsx):
// - request cookies and bodies are dropped; secret headers censored;
// - query parameters that carry credentials (token, code, key, secret, signature, ticket,
//   Clerk's handshake) are censored in URLs;
// - the user is reduced to their id (no email, name or IP address);
// - every other string (messages, exception values, breadcrumbs, extra, contexts, tags) is masked:
//   bearer tokens, phone numbers (last four digits kept) and email addresses (domain kept).
import { isSensitiveKey, REDACTED, redactPersonalData, sanitize } from "./redact";

const SECRET_PARAM = /token|code|key|secret|sig|ticket|password|session|clerk|state|otp/i;

/** A URL (absolute or a path) with credential-like query values censored and personal data masked. */
export function scrubUrl(url: string): string {
  const query = url.indexOf("?");
  if (query === -1) return redactPersonalData(url);
  const hash = url.indexOf("#", query);
  const base = url.slice(0, query);
  const search = url.slice(query + 1, hash === -1 ? undefined : hash);
  const params = new URLSearchParams(search);
  const out = new URLSearchParams();
  for (const [name, value] of params) {
    out.append(name, SECRET_PARAM.test(name) ? REDACTED : redactPersonalData(value));
  }
  return `${redactPersonalData(base)}?${out.toString()}`;
}

type SentryRequest = {
  url?: string;
  query_string?: unknown;
  headers?: Record<string, string>;
  cookies?: unknown;
  data?: unknown;
  [key: string]: unknown;
};

function scrubRequest(request: SentryRequest): SentryRequest {
  const out: SentryRequest = {};
  if (request.method) out.method = request.method;
  if (typeof request.url === "string") out.url = scrubUrl(request.url);
  if (typeof request.query_string === "string" && request.query_string)
    out.query_string = scrubUrl(`?${request.query_string}`).slice(1);
  if (request.headers) {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (/^(x-forwarded-for|x-real-ip|forwarded|cf-connecting-ip)$/i.test(name)) continue;
      headers[name] = isSensitiveKey(name) ? REDACTED : redactPersonalData(String(value));
    }
    out.headers = headers;
  }
  // Cookies and bodies (form posts, uploads) are never sent.
  return out;
}

/** A copy of a Sentry event with secrets and personal data removed (see the file comment). */
export function scrubEvent<E extends object>(event: E): E {
  const { request, user, breadcrumbs, ...rest } = event as {
    request?: SentryRequest;
    user?: { id?: unknown };
    breadcrumbs?: { data?: Record<string, unknown>; [key: string]: unknown }[];
  } & Record<string, unknown>;
  const out = sanitize(rest, 0, new WeakSet(), redactPersonalData) as Record<string, unknown>;
  if (request) out.request = scrubRequest(request);
  if (user?.id !== undefined) out.user = { id: String(user.id) };
  if (breadcrumbs) {
    out.breadcrumbs = breadcrumbs.map((crumb) => {
      const clean = sanitize(crumb, 0, new WeakSet(), redactPersonalData) as typeof crumb;
      if (typeof crumb.data?.url === "string") clean.data = { ...clean.data, url: scrubUrl(crumb.data.url) };
      if (typeof crumb.data?.from === "string")
        clean.data = { ...clean.data, from: scrubUrl(crumb.data.from) };
      if (typeof crumb.data?.to === "string") clean.data = { ...clean.data, to: scrubUrl(crumb.data.to) };
      return clean;
    });
  }
  return out as E;
}
