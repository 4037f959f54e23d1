/**
 * Conformance: durability across restarts of the real CLI process (SIGTERM and kill -9), and
 * refusing to start on broken functions or on a schema that the stored data violates.
 * Fixture: tests/fixtures/persistence/convex (copied to a temp folder where a test edits it).
 */
import { randomBytes } from "node:crypto";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { api } from "../fixtures/persistence/convex/_generated/api";
import type { Id } from "../fixtures/persistence/convex/_generated/dataModel";
import {
  httpClient,
  removeDir,
  ROOT,
  spawnExpectingFailure,
  spawnOnEphemeralPorts,
  tempDir,
  wsClient,
  type SpawnedServer,
  sleep,
  until,
} from "./harness";

const FUNCTIONS = path.join(ROOT, "tests/fixtures/persistence/convex");

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Starts the CLI on ephemeral ports; the process is killed after the test if still running. */
function start(functionsDir: string, dataDir: string): Promise<SpawnedServer> {
  return spawnOnEphemeralPorts(functionsDir, dataDir, cleanups);
}

function workDir(): string {
  const dir = tempDir("convex-local-persist-");
  cleanups.push(() => removeDir(dir));
  return dir;
}

async function upload(
  server: SpawnedServer,
  bytes: Uint8Array,
  contentType: string,
): Promise<Id<"_storage">> {
  const client = httpClient(server.url);
  const uploadUrl = await client.mutation(api.notes.generateUploadUrl, {});
  const res = await fetch(uploadUrl, {
    method: "POST",
    headers: { "content-type": contentType },
    body: new Uint8Array(bytes),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { storageId: Id<"_storage"> }).storageId;
}

async function download(server: SpawnedServer, storageId: Id<"_storage">) {
  const url = await httpClient(server.url).query(api.notes.fileUrl, { storageId });
  expect(url).not.toBeNull();
  expect(new URL(url!).origin).toBe(server.url);
  const res = await fetch(url!);
  return {
    status: res.status,
    contentType: res.headers.get("content-type"),
    bytes: new Uint8Array(await res.arrayBuffer()),
  };
}

describe("persistence across restarts of the real server", () => {
  it("SIGTERM then start with the same --data keeps documents, ids, creation times, pending jobs and files", async () => {
    const data = path.join(workDir(), "data");
    const first = await start(FUNCTIONS, data);
    const c1 = httpClient(first.url);
    for (let i = 0; i < 3; i++) await c1.mutation(api.notes.add, { text: `note ${i} é ✓`, seq: i });
    const before = await c1.query(api.notes.list, {});
    expect(before).toHaveLength(3);

    const fileBytes = new Uint8Array(randomBytes(100_000));
    const storageId = await upload(first, fileBytes, "image/png");
    const metadataBefore = await c1.query(api.notes.fileMetadata, { storageId });

    const jobId = await c1.mutation(api.notes.scheduleRecord, { delayMs: 3000, tag: "survives restart" });
    expect(await c1.query(api.notes.job, { id: jobId })).toMatchObject({ state: { kind: "pending" } });

    expect(await first.kill("SIGTERM")).toBe(0);
    const stoppedAt = Date.now();

    const second = await start(FUNCTIONS, data);
    const c2 = httpClient(second.url);
    // Same documents, same ids and creation times, in the same order.
    expect(await c2.query(api.notes.list, {})).toEqual(before);
    // The file: same metadata, a URL on the new server, the same bytes and content type.
    expect(await c2.query(api.notes.fileMetadata, { storageId })).toEqual(metadataBefore);
    const file = await download(second, storageId);
    expect(file.status).toBe(200);
    expect(Buffer.from(file.bytes).equals(Buffer.from(fileBytes))).toBe(true);

    // The job scheduled before the restart still runs, once, at (or after) its time.
    const job = await c2.query(api.notes.job, { id: jobId });
    expect(job).not.toBeNull();
    const runs = await until(
      () => c2.query(api.notes.runs, {}),
      (r) => r.length > 0,
      15_000,
    );
    expect(runs.map((r) => r.tag)).toEqual(["survives restart"]);
    expect(runs[0].at).toBeGreaterThanOrEqual(job!.scheduledTime - 5);
    expect(
      (await until(
        () => c2.query(api.notes.job, { id: jobId }),
        (j) => j?.state.kind === "success",
        15_000,
      ))!.state.kind,
    ).toBe("success");
    expect(stoppedAt).toBeLessThan(job!.scheduledTime);
    await sleep(300);
    expect(await c2.query(api.notes.runs, {})).toHaveLength(1);

    // New documents get new ids and later creation times than anything restored.
    const added = await c2.mutation(api.notes.add, { text: "after restart" });
    expect(before.map((d) => d._id)).not.toContain(added._id);
    expect(added._creationTime).toBeGreaterThan(Math.max(...before.map((d) => d._creationTime)));

    // Checked last so a failure here does not hide the checks above.
    expect(file.contentType).toBe("image/png");
  });

  it("kill -9 right after the last mutation returns loses nothing that was acknowledged", async () => {
    const data = path.join(workDir(), "data");
    const first = await start(FUNCTIONS, data);
    const http = httpClient(first.url);
    const ws = wsClient(first.url);
    const N = 40;
    const acknowledged: { _id: string; _creationTime: number }[] = [];
    try {
      for (let i = 0; i < N; i++) {
        // Alternate the HTTP API and the WebSocket protocol; the last one is a WebSocket mutation.
        const client = i % 2 === 0 ? http : ws;
        acknowledged.push(await client.mutation(api.notes.add, { text: `acked ${i}`, seq: i }));
      }
      first.process.kill("SIGKILL");
    } finally {
      await ws.close();
    }
    expect(await first.kill("SIGKILL")).toBeNull();

    const second = await start(FUNCTIONS, data);
    const docs = await httpClient(second.url).query(api.notes.list, {});
    expect(docs).toHaveLength(N);
    expect(docs.map((d) => ({ _id: d._id, _creationTime: d._creationTime }))).toEqual(acknowledged);
    expect(docs.map((d) => d.seq)).toEqual([...Array(N).keys()]);
  });

  it("kill -9 right after an upload returns keeps the file", async () => {
    const data = path.join(workDir(), "data");
    const first = await start(FUNCTIONS, data);
    const bytes = new Uint8Array(randomBytes(2 * 1024 * 1024));
    const storageId = await upload(first, bytes, "application/x-test");
    first.process.kill("SIGKILL");
    await first.kill("SIGKILL");

    const second = await start(FUNCTIONS, data);
    const file = await download(second, storageId);
    expect(file.status).toBe(200);
    expect(Buffer.from(file.bytes).equals(Buffer.from(bytes))).toBe(true);
    expect(file.contentType).toBe("application/x-test");
  });

  it("refuses to start, naming the file, when a function file has a syntax error", async () => {
    const dir = workDir();
    const functions = path.join(dir, "convex");
    cpSync(FUNCTIONS, functions, { recursive: true });
    writeFileSync(
      path.join(functions, "broken.ts"),
      'import { query } from "./_generated/server";\nexport const x = query({ handler: async () => { return (1 + ; } });\n',
    );
    const { code, output } = await spawnExpectingFailure([
      "--functions",
      functions,
      "--data",
      path.join(dir, "data"),
      "--port",
      "0",
      "--site-port",
      "0",
    ]);
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect(output).toMatch(/broken\.ts/);
    expect(output).not.toMatch(/convex-local ready/);
  });

  it("refuses to start, naming the table and document, when stored data violates the schema", async () => {
    const dir = workDir();
    const functions = path.join(dir, "convex");
    const data = path.join(dir, "data");
    cpSync(FUNCTIONS, functions, { recursive: true });
    const schemaFile = path.join(functions, "schema.ts");
    const schemaA = readFileSync(schemaFile, "utf8");

    const first = await start(functions, data);
    const { _id } = await httpClient(first.url).mutation(api.notes.add, { text: "a string, not a number" });
    expect(await first.kill("SIGTERM")).toBe(0);

    // Schema B: `text` must now be a number, which the stored note is not.
    const schemaB = schemaA.replace("text: v.string()", "text: v.number()");
    expect(schemaB).not.toBe(schemaA);
    writeFileSync(schemaFile, schemaB);
    const { code, output } = await spawnExpectingFailure([
      "--functions",
      functions,
      "--data",
      data,
      "--port",
      "0",
      "--site-port",
      "0",
    ]);
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect(output).toContain("notes");
    expect(output).toContain(_id);
    expect(output).not.toMatch(/convex-local ready/);

    // The refused start did not damage the data: with schema A back, the note is there.
    writeFileSync(schemaFile, schemaA);
    const again = await start(functions, data);
    const notes = await httpClient(again.url).query(api.notes.list, {});
    expect(notes.map((n) => n._id)).toEqual([_id]);
  });
});
