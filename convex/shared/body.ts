/**
 * Reading a request body with a size limit, for Convex's HTTP actions (WhatsApp webhooks) and the
 * web server's forms alike: the declared Content-Length is checked first, so an honest oversized
 * request costs nothing, then the bytes are counted as they arrive (a chunked body declares none,
 * and a false Content-Length changes nothing). Past the limit the rest is not read. Pure.
 */

/** The body's bytes, or null once it passes `maxBytes`. */
export async function readBodyUpTo(
  request: Request,
  maxBytes: number,
): Promise<Uint8Array<ArrayBuffer> | null> {
  const declared = Number(request.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > maxBytes) return null;
  if (!request.body) return new Uint8Array(new ArrayBuffer(0));
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}
