// The local Upstash REST bridge against a real redis-server, driven by the real @upstash/redis
// client (and by plain fetch where the wire format itself is the point).
import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedisServer, type LocalRedis } from "../../local/redis-rest/redis-server";
import { redisScript, startRedisRestBridge, type RedisRestBridge } from "../../local/redis-rest/server";
import { encodeCommand, parseReply, RedisReplyError } from "../../local/redis-rest/resp";

const TOKEN = "bridge-test-token";
let redisServer: LocalRedis;
let bridge: RedisRestBridge;
let redis: Redis;

beforeAll(async () => {
  redisServer = await startRedisServer();
  bridge = await startRedisRestBridge({ redisPort: redisServer.port, token: TOKEN });
  redis = new Redis({ url: bridge.url, token: TOKEN, retry: false, enableTelemetry: false });
});

afterAll(async () => {
  await bridge?.close();
  await redisServer?.stop();
});

/** A raw request to the bridge, as Upstash's REST API documents it. */
async function raw(path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${bridge.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as unknown };
}

describe("the RESP client's wire format", () => {
  it("encodes commands as arrays of bulk strings and parses every reply type, waiting for whole replies", () => {
    expect(encodeCommand(["SET", "k", "é"]).toString()).toBe("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\né\r\n");
    const reply = Buffer.from("*5\r\n+OK\r\n:42\r\n$-1\r\n$3\r\nabc\r\n*1\r\n-ERR no\r\n");
    const parsed = parseReply(reply)!;
    expect(parsed.next).toBe(reply.length);
    const [ok, n, nil, text, nested] = parsed.reply as unknown[];
    expect([ok, n, nil, text]).toEqual(["OK", 42, null, "abc"]);
    expect((nested as unknown[])[0]).toBeInstanceOf(RedisReplyError);
    // A reply cut anywhere is not parsed until the rest arrives.
    for (let cut = 1; cut < reply.length; cut++) expect(parseReply(reply.subarray(0, cut))).toBeNull();
  });
});

describe("the Upstash REST bridge", () => {
  it("runs single commands for the real client: strings, numbers, JSON, missing keys", async () => {
    expect(await redis.set("greeting", "héllo wörld")).toBe("OK");
    expect(await redis.get("greeting")).toBe("héllo wörld");
    expect(await redis.incr("counter")).toBe(1);
    expect(await redis.incrby("counter", 41)).toBe(42);
    expect(await redis.get("missing")).toBeNull();
    await redis.set("json", { a: [1, 2], b: "c" }, { ex: 60 });
    expect(await redis.get("json")).toEqual({ a: [1, 2], b: "c" });
    expect(await redis.ttl("json")).toBeGreaterThan(0);
    expect(await redis.ping()).toBe("PONG");
  });

  it("runs pipelines, keeping each command's error apart", async () => {
    const pipeline = redis.pipeline();
    pipeline.set("p:a", "1");
    pipeline.incr("p:a");
    pipeline.hset("p:h", { field: "value" });
    pipeline.hgetall("p:h");
    pipeline.lpush("p:h", "x"); // WRONGTYPE: a hash is not a list
    const results = await pipeline.exec({ keepErrors: true });
    expect(results.map((r) => r.result).slice(0, 4)).toEqual(["OK", 2, 1, { field: "value" }]);
    expect(results[4]!.error).toMatch(/^WRONGTYPE/);
    // Without keepErrors the client turns the failed command into an exception.
    const failing = redis.pipeline();
    failing.get("p:a");
    failing.lpush("p:h", "x");
    await expect(failing.exec()).rejects.toThrow(/WRONGTYPE/);
  });

  it("runs MULTI/EXEC transactions atomically, and refuses one with a malformed command", async () => {
    const tx = redis.multi();
    tx.incr("tx:n");
    tx.incr("tx:n");
    tx.get("tx:n");
    expect(await tx.exec()).toEqual([1, 2, 2]);
    const broken = await raw("/multi-exec", [
      ["INCR", "tx:n"],
      ["SET", "tx:only-key"],
    ]);
    expect(broken.status).toBe(400);
    expect(broken.body).toEqual({ error: expect.stringMatching(/wrong number of arguments/) });
    expect(await redis.get("tx:n")).toBe(2);
  });

  it("runs EVAL, SCRIPT LOAD and EVALSHA; an unknown SHA answers NOSCRIPT", async () => {
    expect(await redis.eval("return {KEYS[1], ARGV[1], 3}", ["k"], ["v"])).toEqual(["k", "v", 3]);
    const sha = await redis.scriptLoad("return redis.call('INCRBY', KEYS[1], ARGV[1])");
    expect(await redis.evalsha(sha, ["script:n"], ["5"])).toBe(5);
    expect(await redis.evalsha(sha, ["script:n"], ["5"])).toBe(10);
    await expect(redis.evalsha("0".repeat(40), [], [])).rejects.toThrow(/NOSCRIPT/);
  });

  it("runs scripts with Upstash's own shebang flags under the SHA1 the client computed", async () => {
    const script = "#!lua flags=allow-key-locking,no-writes\nreturn ARGV[1]";
    expect(redisScript(script)).toBe("#!lua flags=no-writes\nreturn ARGV[1]");
    expect(redisScript("return 1")).toBe("return 1");
    const sha = await redis.scriptLoad(script);
    const { createHash } = await import("node:crypto");
    expect(sha).toBe(createHash("sha1").update(script).digest("hex"));
    expect(await redis.evalsha(sha, [], ["hello"])).toBe("hello");
    expect(await redis.scriptExists(sha)).toEqual([1]);
    expect(await redis.eval("#!lua flags=allow-key-locking\nreturn 7", [], [])).toBe(7);
  });

  it("speaks the wire format: base64 strings only when asked, errors as { error } with 400", async () => {
    await redis.set("wire", "plain");
    expect(await raw("/", ["GET", "wire"])).toEqual({ status: 200, body: { result: "plain" } });
    expect(await raw("/", ["GET", "wire"], { "upstash-encoding": "base64" })).toEqual({
      status: 200,
      body: { result: Buffer.from("plain").toString("base64") },
    });
    expect(await raw("/", ["SET", "wire", "x"], { "upstash-encoding": "base64" })).toEqual({
      status: 200,
      body: { result: "OK" },
    });
    expect(await raw("/pipeline", [["GET", "wire"], ["NOPE"]])).toEqual({
      status: 200,
      body: [{ result: "x" }, { error: expect.stringMatching(/unknown command/) }],
    });
    expect(await raw("/", ["INCR", "wire"])).toEqual({
      status: 400,
      body: { error: expect.stringMatching(/not an integer/) },
    });
    expect(await raw("/", { not: "an array" })).toEqual({
      status: 400,
      body: { error: expect.stringMatching(/non-empty JSON array/) },
    });
    expect(await raw("/", ["SUBSCRIBE", "c"])).toEqual({
      status: 400,
      body: { error: "ERR SUBSCRIBE is not supported over REST" },
    });
    // Path style, as Upstash's REST API also allows.
    const path = await fetch(`${bridge.url}/get/wire`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(await path.json()).toEqual({ result: "x" });
  });

  it("requires the bearer token", async () => {
    expect((await raw("/", ["PING"], { authorization: "Bearer wrong" })).status).toBe(401);
    expect((await raw("/", ["PING"], { authorization: "" })).status).toBe(401);
    const stranger = new Redis({ url: bridge.url, token: "wrong", retry: false, enableTelemetry: false });
    await expect(stranger.get("greeting")).rejects.toThrow(/Unauthorized/);
  });

  it("answers 502 while Redis is down and recovers when it is back", async () => {
    const own = await startRedisServer();
    const ownBridge = await startRedisRestBridge({ redisPort: own.port, token: TOKEN });
    try {
      const client = new Redis({ url: ownBridge.url, token: TOKEN, retry: false, enableTelemetry: false });
      expect(await client.set("k", "v")).toBe("OK");
      await own.stop();
      const down = await fetch(ownBridge.url, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify(["GET", "k"]),
      });
      expect(down.status).toBe(502);
      expect(await down.json()).toEqual({ error: expect.stringMatching(/unreachable/) });
      await expect(client.get("k")).rejects.toThrow(/unreachable/);
      // Back on the same port (empty: nothing is saved): the bridge reconnects by itself.
      const again = await startRedisServer({ port: own.port });
      try {
        expect(await client.get("k")).toBeNull();
        expect(await client.set("k", "w")).toBe("OK");
      } finally {
        await again.stop();
      }
    } finally {
      await ownBridge.close();
      await own.stop();
    }
  });
});
