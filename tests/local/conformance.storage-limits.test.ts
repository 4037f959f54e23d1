/**
 * Conformance: file storage (upload URLs, serving URLs, storage.get in actions, delete) and
 * Convex's per-function limits (documents written/read, 1 s of query and mutation execution).
 * Fixture: tests/fixtures/storage-limits/convex.
 */
import { createHash, randomBytes } from "node:crypto";
import path from "node:path";
import type { ConvexHttpClient } from "convex/browser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api } from "../fixtures/storage-limits/convex/_generated/api";
import type { Id } from "../fixtures/storage-limits/convex/_generated/dataModel";
import { httpClient, removeDir, ROOT, startServer, wsClient, type TestServer } from "./harness";

const FUNCTIONS = path.join(ROOT, "tests/fixtures/storage-limits/convex");

function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

let server: TestServer;
let client: ConvexHttpClient;
beforeAll(async () => {
  server = await startServer({ functionsDir: FUNCTIONS });
  client = httpClient(server.url);
});
afterAll(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
});

async function upload(
  bytes: Uint8Array,
  contentType: string,
): Promise<{ uploadUrl: string; storageId: Id<"_storage"> }> {
  const uploadUrl = await client.mutation(api.files.generateUploadUrl, {});
  const res = await fetch(uploadUrl, {
    method: "POST",
    headers: { "content-type": contentType },
    body: new Uint8Array(bytes),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { storageId: Id<"_storage"> };
  expect(Object.keys(body)).toEqual(["storageId"]);
  expect(typeof body.storageId).toBe("string");
  return { uploadUrl, storageId: body.storageId };
}

describe("file storage", () => {
  const bytes = new Uint8Array(randomBytes(300_000));
  let storageId: Id<"_storage">;

  it("generateUploadUrl returns a URL on this server that accepts a POST and returns {storageId}", async () => {
    const uploaded = await upload(bytes, "image/webp");
    expect(new URL(uploaded.uploadUrl).origin).toBe(server.url);
    storageId = uploaded.storageId;
  });

  it("getUrl returns a URL on this server that serves the exact bytes with the content type", async () => {
    const url = await client.query(api.files.getUrl, { storageId });
    expect(url).not.toBeNull();
    expect(new URL(url!).origin).toBe(server.url);
    const res = await fetch(url!);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/webp");
    expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);
  });

  it("storage.get in an action returns the bytes as a Blob", async () => {
    expect(await client.action(api.files.describe, { storageId })).toEqual({
      size: bytes.length,
      type: "image/webp",
      sha256: sha256Hex(bytes),
    });
  });

  it("the _storage document records size and content type", async () => {
    const meta = await client.query(api.files.metadata, { storageId });
    expect(meta).toMatchObject({ _id: storageId, size: bytes.length });
    expect(typeof meta!.sha256).toBe("string");
    expect(meta!.contentType).toBe("image/webp");
  });

  it("a file stored from an action is served with its content type", async () => {
    const { storageId: id, url } = await client.action(api.files.storeText, {
      text: "héllo\r\n",
      contentType: "text/csv",
    });
    expect(new URL(url!).origin).toBe(server.url);
    const res = await fetch(url!);
    expect(res.headers.get("content-type")).toBe("text/csv");
    expect(Buffer.from(await res.arrayBuffer()).toString("utf8")).toBe("héllo\r\n");
    expect(await client.query(api.files.getUrl, { storageId: id })).toBe(url);
  });

  it("delete makes getUrl return null, the old URL 404 and storage.get null", async () => {
    const { storageId: id } = await upload(new Uint8Array([1, 2, 3]), "application/octet-stream");
    const url = (await client.query(api.files.getUrl, { storageId: id }))!;
    expect((await fetch(url)).status).toBe(200);
    await client.mutation(api.files.remove, { storageId: id });
    expect(await client.query(api.files.getUrl, { storageId: id })).toBeNull();
    expect(await client.query(api.files.metadata, { storageId: id })).toBeNull();
    const gone = await fetch(url);
    expect(gone.status).toBe(404);
    await gone.arrayBuffer();
    expect(await client.action(api.files.describe, { storageId: id })).toBeNull();
    // Other files are untouched.
    expect((await fetch((await client.query(api.files.getUrl, { storageId }))!)).status).toBe(200);
  });
});

describe("transaction limits", () => {
  // Document limits on a server without the 1 s limit, so a loaded machine cannot turn them
  // into timeouts; the time limit itself is tested below on the 1 s server.
  let limitsServer: TestServer;
  let limitsClient: ConvexHttpClient;
  beforeAll(async () => {
    limitsServer = await startServer({ functionsDir: FUNCTIONS, functionTimeoutMs: 0 });
    limitsClient = httpClient(limitsServer.url);
  });
  afterAll(async () => {
    await limitsServer?.stop();
    if (limitsServer) removeDir(limitsServer.dataDir);
  });

  it("a mutation writing more than 16,000 documents fails with Convex's message and writes nothing", async () => {
    await expect(limitsClient.mutation(api.limits.writeMany, { count: 16_001 })).rejects.toThrow(
      "Wrote too many documents in a single function execution (limit: 16000).",
    );
    expect((await limitsClient.query(api.limits.counts, {})).written).toBe(0);
    // 16,000 is still allowed.
    expect(await limitsClient.mutation(api.limits.writeMany, { count: 16_000 })).toBe(16_000);
    expect((await limitsClient.query(api.limits.counts, {})).written).toBe(16_000);
  });

  const READ_LIMIT =
    "Too many documents read in a single function execution (limit: 32000). Consider using smaller limits in your queries, paginating your queries, or using indexed queries with a selective index range expressions.";

  it("a mutation reading more than 32,000 documents fails with Convex's message and writes nothing", async () => {
    // Seeded in chunks well below the write and time limits.
    for (let from = 0; from < 32_001; from += 4_000) {
      await limitsClient.mutation(api.limits.seedItems, { from, count: Math.min(4_000, 32_001 - from) });
    }
    expect(await limitsClient.query(api.limits.readSome, { limit: 30_000 })).toBe(30_000);
    await expect(
      limitsClient.mutation(api.limits.readAllThenMark, { name: "read-too-much" }),
    ).rejects.toThrow(READ_LIMIT);
    expect((await limitsClient.query(api.limits.counts, {})).markers).not.toContain("read-too-much");
  });

  it("a query reading more than 32,000 documents fails with Convex's message over HTTP and WebSocket", async () => {
    // Exactly as Convex reports an error thrown inside a function: request id, then the message.
    const expected = new RegExp(
      `^\\[Request ID: [0-9a-f]+\\] Server Error\\nUncaught Error: ${READ_LIMIT.replace(/[.()]/g, "\\$&")}$`,
    );
    const viaHttp = await limitsClient.query(api.limits.readSome, { limit: 33_000 }).catch((e: Error) => e);
    expect(viaHttp).toBeInstanceOf(Error);
    expect((viaHttp as Error).message).toMatch(expected);
    const ws = wsClient(limitsServer.url);
    try {
      const viaWs = await ws.query(api.limits.readSome, { limit: 33_000 }).catch((e: Error) => e);
      expect(viaWs).toBeInstanceOf(Error);
      expect((viaWs as Error).message).toContain(`Server Error\nUncaught Error: ${READ_LIMIT}`);
    } finally {
      await ws.close();
    }
  });

  it("a query running more than 1 s of user code fails with Convex's timeout message", async () => {
    expect(await client.query(api.limits.spinQuery, { ms: 100 })).toBe(true);
    await expect(client.query(api.limits.spinQuery, { ms: 1_300 })).rejects.toThrow(
      "Function execution timed out (maximum duration: 1s)",
    );
  });

  it("a mutation running more than 1 s of user code fails the same way and writes nothing", async () => {
    await expect(client.mutation(api.limits.spinMutation, { ms: 1_300, name: "too-slow" })).rejects.toThrow(
      "Function execution timed out (maximum duration: 1s)",
    );
    expect((await client.query(api.limits.counts, {})).markers).not.toContain("too-slow");
  });
});

describe("document size limit", () => {
  // A blob document is {_id, _creationTime, text}: about 80 bytes besides the text.
  const MiB = 1 << 20;
  const tooLarge =
    /^\[Request ID: [0-9a-f]+\] Server Error\nUncaught Error: Value is too large \(\d+(\.\d+)? MiB > maximum size 1 MiB\)/;

  it("an insert just under 1 MiB is stored; one over fails with Convex's message and stores nothing", async () => {
    const before = await client.query(api.limits.blobs, {});
    const id = await client.mutation(api.limits.insertSized, { length: MiB - 200 });
    const over = await client.mutation(api.limits.insertSized, { length: MiB }).catch((e: Error) => e);
    expect((over as Error).message).toMatch(tooLarge);
    const a2_9MB = await client
      .mutation(api.limits.insertSized, { length: 2_900_000 })
      .catch((e: Error) => e);
    expect((a2_9MB as Error).message).toMatch(/Value is too large \(2\.77 MiB > maximum size 1 MiB\)/);
    const after = await client.query(api.limits.blobs, {});
    expect(after).toEqual([...before, { id, length: MiB - 200, first: "x" }]);
  });

  it("a caught size error leaves nothing behind while the rest of the mutation commits", async () => {
    const before = await client.query(api.limits.blobs, {});
    const message = await client.mutation(api.limits.insertSizedCaught, { length: MiB + 1 });
    expect(message).toMatch(/^Value is too large/);
    expect(await client.query(api.limits.blobs, {})).toEqual(before);
    expect((await client.query(api.limits.counts, {})).markers).toContain("caught");
  });

  it("a patch or replace that makes a document too large fails and leaves it unchanged", async () => {
    const id = await client.mutation(api.limits.insertSized, { length: 10 });
    await expect(client.mutation(api.limits.patchSized, { id, length: MiB + 10 })).rejects.toThrow(
      "Value is too large",
    );
    await expect(client.mutation(api.limits.replaceSized, { id, length: MiB + 10 })).rejects.toThrow(
      "Value is too large",
    );
    await client.mutation(api.limits.patchSized, { id, length: MiB - 200 });
    const stored = (await client.query(api.limits.blobs, {})).find((b) => b.id === id);
    expect(stored).toEqual({ id, length: MiB - 200, first: "y" });
  });
});
