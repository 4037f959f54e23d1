/**
 * Conformance: the developer tools a local Convex offers — the read-only table browser,
 * per-function metrics, function logs with the function's name, hot reload with --watch, and
 * precise reactivity (a write re-runs only the subscriptions whose index range it touches).
 * Fixture: tests/fixtures/devtools/convex (copied to a temp folder for the --watch test).
 */
import { cpSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { ConvexHttpClient } from "convex/browser";
import { anyApi } from "convex/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api } from "../fixtures/devtools/convex/_generated/api";
import {
  httpClient,
  removeDir,
  ROOT,
  spawnServer,
  startServer,
  tempDir,
  wsClient,
  type TestServer,
  sleep,
  until,
} from "./harness";

const FUNCTIONS = path.join(ROOT, "tests/fixtures/devtools/convex");

type FunctionMetrics = {
  kind: string;
  calls: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  documentsRead: number;
  documentsWritten: number;
};
type MetricsSnapshot = {
  functions: Record<string, FunctionMetrics>;
  reactivity: { commits: number; subscriptionRuns: number; transitionsSent: number };
};

describe("developer tools of the in-process server", () => {
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

  const getJson = async <T>(p: string): Promise<T> => {
    const res = await fetch(`${server.url}${p}`);
    expect(res.status, p).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    return (await res.json()) as T;
  };
  const metrics = () => getJson<MetricsSnapshot>("/_local/metrics");

  it("GET /_local/tables lists tables with document counts; /_local/tables/<name>?limit=N returns documents", async () => {
    const labels = ["first", "second", "third"];
    for (const [i, label] of labels.entries())
      await client.mutation(api.items.add, { category: "t", n: i, label });
    await client.mutation(api.items.addOther, { note: "élan\r\n" });

    const { tables } = await getJson<{ tables: Record<string, number> }>("/_local/tables");
    expect(tables.items).toBe(3);
    expect(tables.others).toBe(1);

    const all = await client.query(api.items.list, {});
    const two = await getJson<{ table: string; documents: Record<string, unknown>[] }>(
      "/_local/tables/items?limit=2",
    );
    expect(two.table).toBe("items");
    expect(two.documents).toHaveLength(2);
    // Plain JSON documents with their system fields, newest first.
    expect(two.documents).toEqual([all[2], all[1]].map((d) => ({ ...d })));
    const everything = await getJson<{ documents: Record<string, unknown>[] }>(
      "/_local/tables/items?limit=50",
    );
    expect(everything.documents.map((d) => d.label).sort()).toEqual([...labels].sort());
    const others = await getJson<{ documents: { note: string; _id: string; _creationTime: number }[] }>(
      "/_local/tables/others",
    );
    expect(others.documents.map((d) => d.note)).toEqual(["élan\r\n"]);
  });

  it("the table endpoints are read-only: writes are refused and change nothing", async () => {
    const before = await getJson<{ tables: Record<string, number> }>("/_local/tables");
    for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
      const res = await fetch(`${server.url}/_local/tables/items`, {
        method,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ category: "x", n: 1, label: "injected" }),
      });
      expect(res.status, method).toBeGreaterThanOrEqual(400);
      expect(res.status, method).toBeLessThan(500);
      await res.arrayBuffer();
    }
    expect(await getJson("/_local/tables")).toEqual(before);
    const docs = await getJson<{ documents: { label: string }[] }>("/_local/tables/items?limit=100");
    expect(docs.documents.map((d) => d.label)).not.toContain("injected");
  });

  it("another web page cannot read /_local/*: no CORS headers, and a preflight is refused", async () => {
    const evil = { origin: "https://evil.example" };
    for (const p of ["/_local/tables", "/_local/tables/items?limit=5", "/_local/metrics", "/_local/crons"]) {
      const res = await fetch(`${server.url}${p}`, { headers: evil });
      expect(res.status, p).toBe(200);
      await res.arrayBuffer();
      for (const header of [
        "access-control-allow-origin",
        "access-control-allow-headers",
        "access-control-allow-methods",
        "access-control-allow-credentials",
      ]) {
        expect(res.headers.get(header), `${p} ${header}`).toBeNull();
      }
      const preflight = await fetch(`${server.url}${p}`, {
        method: "OPTIONS",
        headers: { ...evil, "access-control-request-method": "GET" },
      });
      await preflight.arrayBuffer();
      expect(preflight.status).toBeGreaterThanOrEqual(400);
      expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    }
    // Convex's client API still answers browsers (the app calls it from its own origin).
    const api = await fetch(`${server.url}/api/query`, {
      method: "OPTIONS",
      headers: { origin: "http://127.0.0.1:3000", "access-control-request-method": "POST" },
    });
    expect(api.status).toBe(204);
    expect(api.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("GET /_local/metrics counts calls, errors, latency percentiles and documents read and written per function", async () => {
    const before = await metrics();
    const itemsBefore = (await client.query(api.items.list, {})).length;
    for (let i = 0; i < 3; i++) await client.mutation(api.items.add, { category: "m", n: i, label: `m${i}` });
    await client.query(api.items.list, {});
    await client.query(api.items.list, {});
    await expect(client.mutation(api.items.boom, {})).rejects.toThrow(/boom on purpose/);
    for (let i = 0; i < 9; i++) await client.query(api.items.slow, { ms: 0 });
    await client.query(api.items.slow, { ms: 150 });

    const after = await metrics();
    const delta = (name: string, field: keyof FunctionMetrics) =>
      ((after.functions[name]?.[field] as number) ?? 0) - ((before.functions[name]?.[field] as number) ?? 0);

    expect(after.functions["items:add"].kind).toBe("mutation");
    expect(delta("items:add", "calls")).toBe(3);
    expect(delta("items:add", "errors")).toBe(0);
    expect(delta("items:add", "documentsWritten")).toBe(3);

    expect(after.functions["items:list"].kind).toBe("query");
    // Three list calls since `before`: one over the old items, two after the three inserts.
    expect(delta("items:list", "calls")).toBe(3);
    expect(delta("items:list", "documentsRead")).toBe(itemsBefore + 2 * (itemsBefore + 3));
    expect(delta("items:list", "documentsWritten")).toBe(0);

    expect(delta("items:boom", "calls")).toBe(1);
    expect(delta("items:boom", "errors")).toBe(1);
    expect(delta("items:boom", "documentsWritten")).toBe(0);

    const slow = after.functions["items:slow"];
    expect(slow.calls).toBe(10);
    expect(slow.errors).toBe(0);
    expect(slow.p50Ms).toBeGreaterThanOrEqual(0);
    expect(slow.p50Ms).toBeLessThan(100);
    expect(slow.p99Ms).toBeGreaterThanOrEqual(140);
    expect(slow.p99Ms).toBeLessThan(2_000);
  });

  it("prints function logs with the function's name", async () => {
    await client.mutation(api.items.add, { category: "log", n: 1, label: "logged-label" });
    await expect(client.mutation(api.items.boom, {})).rejects.toThrow();
    const addLine = server.logs.find((l) => l.includes("adding item") && l.includes("logged-label"));
    expect(addLine).toBeDefined();
    expect(addLine).toContain("items:add");
    expect(addLine).toMatch(/log/i);
    const warnLine = server.logs.find((l) => l.includes("about to fail"));
    expect(warnLine).toBeDefined();
    expect(warnLine).toContain("items:boom");
    expect(warnLine).toMatch(/warn/i);
  });

  it("a write in one index range re-runs only the subscription on that range", async () => {
    await client.mutation(api.items.add, { category: "r", n: 5, label: "low-5" });
    await client.mutation(api.items.add, { category: "r", n: 105, label: "high-105" });
    const ws = wsClient(server.url);
    try {
      const low: string[][] = [];
      const high: string[][] = [];
      ws.onUpdate(api.items.inRange, { category: "r", min: 0, max: 10 }, (v) => low.push(v));
      ws.onUpdate(api.items.inRange, { category: "r", min: 100, max: 110 }, (v) => high.push(v));
      await until(async () => low.length > 0 && high.length > 0, Boolean);
      expect(low.at(-1)).toEqual(["low-5"]);
      expect(high.at(-1)).toEqual(["high-105"]);
      await sleep(300);

      const runsBefore = (await metrics()).reactivity.subscriptionRuns;
      await client.mutation(api.items.add, { category: "r", n: 7, label: "low-7" });
      await until(
        async () => low.at(-1)!.length,
        (n) => n === 2,
      );
      expect(low.at(-1)).toEqual(["low-5", "low-7"]);
      await sleep(300);
      expect((await metrics()).reactivity.subscriptionRuns - runsBefore).toBe(1);
      expect(high).toHaveLength(1);

      // Writes in neither range, in another category, or in another table re-run nothing.
      const runsBetween = (await metrics()).reactivity.subscriptionRuns;
      await client.mutation(api.items.add, { category: "r", n: 50, label: "mid-50" });
      await client.mutation(api.items.add, { category: "s", n: 5, label: "other-category" });
      await client.mutation(api.items.addOther, { note: "elsewhere" });
      await sleep(400);
      expect((await metrics()).reactivity.subscriptionRuns - runsBetween).toBe(0);
      expect(low.at(-1)).toEqual(["low-5", "low-7"]);
      expect(high).toHaveLength(1);

      // And the other range still reacts to its own writes.
      await client.mutation(api.items.add, { category: "r", n: 110, label: "high-110" });
      await until(
        async () => high.at(-1)!.length,
        (n) => n === 2,
      );
      expect(high.at(-1)).toEqual(["high-105", "high-110"]);
    } finally {
      await ws.close();
    }
  });
});

describe("the real CLI", () => {
  it("prints function logs with the function's name, and a function that logs still succeeds", async () => {
    const dir = tempDir("convex-local-logs-");
    const server = await spawnServer([
      "--functions",
      FUNCTIONS,
      "--data",
      path.join(dir, "data"),
      "--port",
      "0",
      "--site-port",
      "0",
    ]);
    try {
      // Raw fetch, reading only the status: a broken server can answer with a huge body.
      const res = await fetch(`${server.url}/api/mutation`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          path: "items:add",
          args: [{ category: "cli", n: 1, label: "cli-logged" }],
          format: "convex_encoded_json",
        }),
      });
      const status = res.status;
      await res.body?.cancel();
      expect(status).toBe(200);
      await until(
        async () => server.output(),
        (out) => out.includes("cli-logged"),
      );
      const line = server
        .output()
        .split("\n")
        .find((l) => l.includes("cli-logged"))!;
      expect(line).toContain("items:add");
      expect(line).toContain("adding item");
      expect(
        server
          .output()
          .split("\n")
          .filter((l) => l.includes("cli-logged")),
      ).toHaveLength(1);
    } finally {
      await server.kill("SIGTERM");
      removeDir(dir);
    }
  });

  it("does not print the admin key unless asked; the key is in <data>/admin-key with mode 0600", async () => {
    const dir = tempDir("convex-local-key-");
    const args = ["--functions", FUNCTIONS, "--port", "0", "--site-port", "0"];
    try {
      const quiet = await spawnServer([...args, "--data", path.join(dir, "data")]);
      const key = readFileSync(path.join(dir, "data", "admin-key"), "utf8").trim();
      expect(key).toMatch(/^convex-local-[0-9a-f]{48}$/);
      expect(statSync(path.join(dir, "data", "admin-key")).mode & 0o777).toBe(0o600);
      expect(quiet.adminKey).toBe(key);
      await until(
        async () => quiet.output(),
        (out) => out.includes("admin key is in"),
      );
      expect(quiet.output()).not.toContain(key);
      expect(quiet.output()).toContain(`admin key is in ${path.join(dir, "data", "admin-key")}`);
      expect(await quiet.kill("SIGTERM")).toBe(0);

      const loud = await spawnServer([...args, "--data", path.join(dir, "data"), "--print-admin-key"]);
      await until(
        async () => loud.output(),
        (out) => out.includes(`convex-local admin key: ${key}`),
      );
      expect(await loud.kill("SIGTERM")).toBe(0);
    } finally {
      removeDir(dir);
    }
  });

  it("--watch reloads changed function code, keeps data, and keeps the old code when the new code is broken", async () => {
    const dir = tempDir("convex-local-watch-");
    const functions = path.join(dir, "convex");
    cpSync(FUNCTIONS, functions, { recursive: true });
    const versionFile = path.join(functions, "version.ts");
    const original = readFileSync(versionFile, "utf8");
    const server = await spawnServer([
      "--functions",
      functions,
      "--data",
      path.join(dir, "data"),
      "--port",
      "0",
      "--site-port",
      "0",
      "--watch",
    ]);
    const ws = wsClient(server.url);
    try {
      const client = httpClient(server.url);
      const id = await client.mutation(api.items.addQuiet, { category: "w", n: 1, label: "before reload" });
      expect(await client.query(api.version.get, {})).toBe("version one");
      const seen: string[] = [];
      ws.onUpdate(api.version.get, {}, (v) => seen.push(v));
      await until(
        async () => seen.length,
        (n) => n > 0,
      );

      // Let the watcher settle before the first edit.
      await sleep(300);
      writeFileSync(
        versionFile,
        original.replace('"version one"', '"version two"') +
          '\nexport const added = query({ args: {}, handler: async () => "new function" });\n',
      );
      // A live subscription gets the new result, and new calls run the new code.
      await until(
        async () => seen.at(-1),
        (v) => v === "version two",
        15_000,
      );
      expect(await client.query(api.version.get, {})).toBe("version two");
      expect(await client.query(anyApi.version.added, {})).toBe("new function");
      // Data written before the change is still there.
      const items = await client.query(api.items.list, {});
      expect(items.map((i) => i._id)).toEqual([id]);
      expect(items[0].label).toBe("before reload");

      // A broken edit does not take the server down or replace working code.
      writeFileSync(versionFile, original.replace('"version one"', '"version three" +'));
      await sleep(1500);
      expect(server.process.exitCode).toBeNull();
      expect(await client.query(api.version.get, {})).toBe("version two");
      expect(server.output()).toMatch(/version\.ts/);

      // Fixing it loads it.
      writeFileSync(versionFile, original.replace('"version one"', '"version four"'));
      await until(
        () => client.query(api.version.get, {}),
        (v) => v === "version four",
        15_000,
      );
      expect((await client.query(api.items.list, {})).map((i) => i._id)).toEqual([id]);
    } finally {
      await ws.close();
      await server.kill("SIGTERM");
      removeDir(dir);
    }
  });
});
