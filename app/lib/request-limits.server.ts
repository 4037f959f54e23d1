// Request body limits for the web server's actions. Every action reads its form through
// `readFormData`, which refuses a body over the limit with 413 before parsing it: first by the
// declared Content-Length, then by counting the bytes as they arrive (a chunked body declares none).
// Routes without an action answer POSTs with 405 without reading the body. Files are not uploaded
// through this server: contact imports and rate cards go straight to Convex file storage, which
// has its own 20 MB limit.
import { readBodyUpTo } from "../../convex/shared/body";

/** Forms on this server are a few fields: sign-in, account, verification. */
export const FORM_MAX_BYTES = 64 * 1024;

/** A 413 response saying what the limit is. */
export function payloadTooLarge(maxBytes: number, format: "json" | "page" = "page"): Response {
  const message = `The request is too large: at most ${describeBytes(maxBytes)} is accepted here.`;
  if (format === "json") {
    return Response.json({ error: "payload_too_large", message, maxBytes }, { status: 413 });
  }
  return new Response(message, {
    status: 413,
    statusText: "Payload Too Large",
    headers: { "content-type": "text/plain; charset=utf-8", connection: "close" },
  });
}

export function describeBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}

/** The body's bytes, or a thrown 413 once it passes `maxBytes` (the rest is not read). */
export async function readBodyLimited(
  request: Request,
  maxBytes: number,
  format: "json" | "page" = "page",
): Promise<Uint8Array<ArrayBuffer>> {
  const body = await readBodyUpTo(request, maxBytes);
  if (body === null) throw payloadTooLarge(maxBytes, format);
  return body;
}

/** `request.formData()` with a size limit (413 past it, 400 for a body that is not a form). */
export async function readFormData(request: Request, maxBytes = FORM_MAX_BYTES): Promise<FormData> {
  const body = await readBodyLimited(request, maxBytes);
  const contentType = request.headers.get("content-type") ?? "";
  try {
    return await new Response(body, { headers: { "content-type": contentType } }).formData();
  } catch {
    throw new Response("The request is not a form submission this page understands.", {
      status: 400,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  }
}
