/**
 * A webhook receiver for tests and scripts: a local HTTP server that keeps every request's
 * exact bytes and headers, answers with a status you choose, and lets you wait for requests.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export type ReceivedWebhook = {
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The exact bytes received (signatures are over these). */
  raw: Buffer;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed webhook bodies, read field by field by tests
  json: any;
  at: number;
};

export type WebhookReceiver = {
  url: string;
  received: ReceivedWebhook[];
  /** Status for the next requests, one per request (then 200 again). */
  answerNext(...statuses: number[]): void;
  /** Resolves once `count` requests matched `filter` (default: all), or rejects after timeoutMs. */
  waitFor(
    count: number,
    filter?: (w: ReceivedWebhook) => boolean,
    timeoutMs?: number,
  ): Promise<ReceivedWebhook[]>;
  clear(): void;
  close(): Promise<void>;
};

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const answers: number[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      let json: unknown = undefined;
      try {
        json = JSON.parse(raw.toString("utf8"));
      } catch {
        json = undefined;
      }
      const status = answers.shift() ?? 200;
      if (status < 300)
        received.push({ path: req.url ?? "/", headers: req.headers, raw, json, at: Date.now() });
      res.writeHead(status, { "content-type": "text/plain" });
      res.end(status < 300 ? "ok" : "no");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    answerNext: (...statuses) => void answers.push(...statuses),
    async waitFor(count, filter = () => true, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hits = received.filter(filter);
        if (hits.length >= count) return hits;
        if (Date.now() > deadline) {
          throw new Error(
            `Timed out waiting for ${count} webhooks; got ${hits.length} of ${received.length}`,
          );
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    clear: () => void received.splice(0),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
