/**
 * Conformance: HTTP actions from convex/http.ts, served on the site port as Convex serves them.
 * Fixture: tests/fixtures/http-actions/convex.
 */
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api } from "../fixtures/http-actions/convex/_generated/api";
import { httpClient, removeDir, ROOT, spawnServer, startServer, tempDir, type TestServer } from "./harness";

const FUNCTIONS = path.join(ROOT, "tests/fixtures/http-actions/convex");
const MiB = 1024 * 1024;

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

describe("HTTP actions on the site port", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ functionsDir: FUNCTIONS });
  });
  afterAll(async () => {
    await server?.stop();
    if (server) removeDir(server.dataDir);
  });

  it("hands the action the request body byte for byte", async () => {
    // A JSON text whose \u00e9 escapes must stay escapes, CRLF line ends, bytes that are not
    // UTF-8 (a lone 0xff, a truncated sequence), a NUL, and real UTF-8.
    const body = Buffer.concat([
      Buffer.from('{"name":"caf\\u00e9","note":"line1\\r\\nline2"}\r\n', "latin1"),
      Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc3, 0x0d, 0x0a, 0xe2, 0x82]),
      Buffer.from("\r\ncafé ✓\r\n", "utf8"),
    ]);
    const res = await fetch(`${server.siteUrl}/hash`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body,
    });
    expect(res.status).toBe(200);
    const out = (await res.json()) as { sha256: string; length: number; contentType: string };
    expect(out.length).toBe(body.length);
    expect(out.sha256).toBe(sha256(body));
    expect(out.contentType).toBe("application/octet-stream");
  });

  it("hands the action a text body without re-encoding it", async () => {
    const text = "caf\\u00e9 and café\r\n";
    const res = await fetch(`${server.siteUrl}/inspect`, { method: "PUT", body: text });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ method: "PUT", text });
  });

  it("gives the action a request URL on the site origin, with path and query intact, and the request headers", async () => {
    const res = await fetch(`${server.siteUrl}/inspect?a=1&b=two%20words`, {
      headers: { "x-fixture-header": "hello there", accept: "application/json" },
    });
    expect(res.status).toBe(200);
    const out = (await res.json()) as { method: string; url: string; headers: Record<string, string> };
    const url = new URL(out.url);
    expect(url.origin).toBe(server.siteUrl);
    expect(url.pathname).toBe("/inspect");
    expect(url.searchParams.get("a")).toBe("1");
    expect(url.searchParams.get("b")).toBe("two words");
    expect(out.method).toBe("GET");
    expect(out.headers["x-fixture-header"]).toBe("hello there");
    expect(out.headers.accept).toBe("application/json");
  });

  it("routes prefix routes with the rest of the path, and prefers an exact route", async () => {
    const res = await fetch(`${server.siteUrl}/users/u%20123/posts/7?x=1`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      route: "users-prefix",
      userId: "u 123",
      more: ["posts", "7"],
      query: "?x=1",
    });

    const me = await fetch(`${server.siteUrl}/users/me`);
    expect(await me.json()).toEqual({ route: "users-me" });
  });

  it("answers 404 for a path or method with no route", async () => {
    const unknownPath = await fetch(`${server.siteUrl}/no/such/route`);
    expect(unknownPath.status).toBe(404);
    await unknownPath.arrayBuffer();
    const wrongMethod = await fetch(`${server.siteUrl}/hash`, { method: "GET" });
    expect(wrongMethod.status).toBe(404);
    await wrongMethod.arrayBuffer();
  });

  it("propagates the action's status, headers and cookies", async () => {
    const res = await fetch(`${server.siteUrl}/respond?status=418`);
    expect(res.status).toBe(418);
    expect(res.headers.get("x-custom-header")).toBe("custom value");
    expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(res.headers.getSetCookie()).toEqual(["a=1; Path=/", "b=2; Path=/; HttpOnly"]);
    expect(await res.text()).toBe("status 418");

    const created = await fetch(`${server.siteUrl}/respond?status=201`);
    expect(created.status).toBe(201);
    await created.arrayBuffer();
  });

  it("accepts a body of exactly 20 MiB", async () => {
    const body = Buffer.alloc(20 * MiB, 0x61);
    body[body.length - 1] = 0xff;
    const res = await fetch(`${server.siteUrl}/hash`, { method: "POST", body });
    expect(res.status).toBe(200);
    const out = (await res.json()) as { sha256: string; length: number };
    expect(out.length).toBe(body.length);
    expect(out.sha256).toBe(sha256(body));
  });

  it("refuses a body above 20 MiB with 413, whether its length is declared or streamed", async () => {
    const body = Buffer.alloc(20 * MiB + 1, 0x62);
    const declared = await fetch(`${server.siteUrl}/hash`, { method: "POST", body });
    expect(declared.status).toBe(413);
    await declared.arrayBuffer();

    // Chunked: no content-length, so the server has to count.
    const chunk = Buffer.alloc(MiB, 0x63);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 21) return controller.close();
        sent += 1;
        controller.enqueue(new Uint8Array(chunk));
      },
    });
    const streamed = await fetch(`${server.siteUrl}/hash`, {
      method: "POST",
      body: stream,
      duplex: "half",
    } as RequestInit & { duplex: "half" });
    expect(streamed.status).toBe(413);
    await streamed.arrayBuffer();

    // The server still serves requests afterwards.
    const ok = await fetch(`${server.siteUrl}/hash`, { method: "POST", body: "still alive" });
    expect(((await ok.json()) as { sha256: string }).sha256).toBe(sha256(Buffer.from("still alive")));
  });

  it("runs what the handler asks of the deployment: a mutation, a query, the scheduler, storage, the identity", async () => {
    const label = "first call";
    const res = await fetch(`${server.siteUrl}/calls`, { method: "POST", body: label });
    expect(res.status).toBe(200);
    const out = (await res.json()) as Record<string, unknown>;
    expect(out).toMatchObject({ count: 1, labels: [label], storedText: `stored ${label}`, subject: null });
    expect(out.jobId).toEqual(expect.any(String));
    expect(out.storageUrl).toMatch(new RegExp(`^${server.url}/api/storage/`));
    // The file is served, and the scheduled mutation runs.
    const file = await fetch(out.storageUrl as string);
    expect(await file.text()).toBe(`stored ${label}`);
    const client = httpClient(server.url);
    await expect
      .poll(() => client.query(api.calls.hits, {}), { timeout: 5_000 })
      .toEqual([label, `${label} (scheduled)`]);
  });

  it("hands the handler a mutation's ConvexError with its data", async () => {
    const res = await fetch(`${server.siteUrl}/refused`);
    expect(await res.json()).toEqual({
      caught: { isConvexError: true, data: { code: "refused", detail: "not today" } },
    });
  });

  it("writes the handler's console lines to the server log as an HTTP action's", async () => {
    const res = await fetch(`${server.siteUrl}/log`);
    expect(await res.text()).toBe("logged");
    expect(server.logs).toContainEqual(
      expect.stringMatching(/ \[CONVEX H\(http\)\] \[LOG\] logged from an HTTP action \{ n: 1 \}$/),
    );
    expect(server.logs).toContainEqual(
      expect.stringMatching(/ \[CONVEX H\(http\)\] \[WARN\] warned from an HTTP action$/),
    );
  });

  it("answers 500 with the error when the handler throws, logs it, and goes on serving", async () => {
    const res = await fetch(`${server.siteUrl}/throw`);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ code: "InternalServerError", message: "the handler broke" });
    expect(server.logs).toContainEqual(
      expect.stringContaining("[ERROR] [H http:GET /throw] Error: the handler broke"),
    );
    const next = await fetch(`${server.siteUrl}/users/me`);
    expect(await next.json()).toEqual({ route: "users-me" });
  });

  // A transaction may not use timers or the network. Asked before and after an HTTP action
  // (which may use both) has run: the guard holds however functions of each kind take turns.
  it.each(["fetch", "setTimeout"] as const)(
    "refuses %s in a mutation, before and after an HTTP action ran",
    async (what) => {
      const client = httpClient(server.url);
      const refusal = `\`${what}\` is not supported in Convex queries or mutations`;
      await expect(client.mutation(api.calls.forbidden, { what })).rejects.toThrow(refusal);
      const res = await fetch(`${server.siteUrl}/users/me`);
      expect(await res.json()).toEqual({ route: "users-me" });
      await expect(client.mutation(api.calls.forbidden, { what })).rejects.toThrow(refusal);
    },
  );
});

describe("environment variables for functions (real CLI with --env-file)", () => {
  it("sees CONVEX_SITE_URL, CONVEX_CLOUD_URL and --env-file variables in actions and queries", async () => {
    const dir = tempDir();
    const envFile = path.join(dir, "fixture.env");
    writeFileSync(
      envFile,
      [
        "# comment line",
        "FIXTURE_GREETING=hello from env file",
        'FIXTURE_QUOTED="quoted # not a comment"',
        "",
      ].join("\n"),
    );
    const server = await spawnServer([
      "--functions",
      FUNCTIONS,
      "--data",
      path.join(dir, "data"),
      "--port",
      "0",
      "--site-port",
      "0",
      "--env-file",
      envFile,
    ]);
    try {
      const expected = {
        CONVEX_SITE_URL: server.siteUrl,
        CONVEX_CLOUD_URL: server.url,
        FIXTURE_GREETING: "hello from env file",
        FIXTURE_QUOTED: "quoted # not a comment",
      };
      const res = await fetch(`${server.siteUrl}/env`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ action: expected, query: expected });
      expect(await httpClient(server.url).query(api.env.get, {})).toEqual(expected);
    } finally {
      await server.kill("SIGTERM");
      removeDir(dir);
    }
  });
});
