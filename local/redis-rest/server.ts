/**
 * A local bridge that speaks Upstash's Redis REST protocol in front of a real redis-server, so
 * the real @upstash/redis and @upstash/ratelimit clients run against a real Redis on this
 * machine:
 *
 * - `POST /` with a JSON array (`["SET", "k", "v"]`) runs one command: `{ result }`, or
 *   `{ error }` with HTTP 400 when Redis answers with an error.
 * - `POST /pipeline` with an array of commands: an array of `{ result }` / `{ error }`, one each.
 * - `POST /multi-exec` with an array of commands: the same, run as one MULTI … EXEC transaction.
 * - `GET|POST /<command>/<arg>/…` (path style; a POST body is appended as the last argument).
 * - `Authorization: Bearer <token>` is required (401 otherwise).
 * - `Upstash-Encoding: base64`: strings in results are base64 (except "OK"), as Upstash does.
 *
 * Scripts (EVAL, EVALSHA, SCRIPT LOAD/EXISTS) pass through, except that shebang flags Redis does
 * not know (Upstash's `#!lua flags=allow-key-locking`, which @upstash/ratelimit's scripts carry)
 * are dropped before Redis sees the script; clients keep using the SHA1 of the script they sent.
 * Commands that hold a connection (SUBSCRIBE, blocking pops, MONITOR) are refused.
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createHash, timingSafeEqual } from "node:crypto";
import { RedisConnectionError, RedisReplyError, RespClient, type RedisReply } from "./resp";

export type RedisRestBridgeOptions = {
  /** The redis-server to talk to. */
  redisHost?: string;
  redisPort: number;
  redisPassword?: string;
  /** The bearer token clients must send (UPSTASH_REDIS_REST_TOKEN). */
  token: string;
  port?: number;
  host?: string;
};

export type RedisRestBridge = {
  url: string;
  token: string;
  close(): Promise<void>;
};

const MAX_BODY_BYTES = 1024 * 1024;

/** Commands that need a connection of their own, which one shared connection cannot give. */
const REFUSED = new Set([
  "SUBSCRIBE",
  "PSUBSCRIBE",
  "SSUBSCRIBE",
  "UNSUBSCRIBE",
  "PUNSUBSCRIBE",
  "MONITOR",
  "BLPOP",
  "BRPOP",
  "BLMOVE",
  "BRPOPLPUSH",
  "BZPOPMIN",
  "BZPOPMAX",
  "BLMPOP",
  "BZMPOP",
  "XREAD",
  "XREADGROUP",
  "WAIT",
  "MULTI",
  "EXEC",
  "DISCARD",
  "WATCH",
  "UNWATCH",
  "SELECT",
  "QUIT",
  "RESET",
  "AUTH",
  "HELLO",
  "CLIENT",
  "SHUTDOWN",
]);

/** The shebang flags redis-server 7 accepts; others are Upstash's own and are dropped here. */
const REDIS_SCRIPT_FLAGS = new Set([
  "no-writes",
  "allow-oom",
  "allow-stale",
  "no-cluster",
  "allow-cross-slot-keys",
]);

const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");

/** The script with unknown shebang flags removed (unchanged when it has none). */
export function redisScript(script: string): string {
  const match = /^#!lua([^\n]*)\n/.exec(script);
  if (!match) return script;
  const flags = /\bflags=(\S*)/.exec(match[1]!)?.[1];
  if (flags === undefined) return script;
  const kept = flags.split(",").filter((f) => REDIS_SCRIPT_FLAGS.has(f));
  const header = kept.length ? `#!lua flags=${kept.join(",")}` : "#!lua";
  return header + "\n" + script.slice(match[0].length);
}

/**
 * Rewrites scripting commands so that Redis runs the script without Upstash's flags while the
 * client keeps the SHA1 of what it sent: EVAL and SCRIPT LOAD remember the client's SHA1 → the
 * rewritten script's, EVALSHA and SCRIPT EXISTS translate through it. A SHA1 this bridge has not
 * seen (after a restart) is passed on as is, Redis answers NOSCRIPT, and clients fall back to EVAL.
 */
class ScriptTable {
  private readonly shas = new Map<string, string>();

  rewrite(command: Command): Command {
    const name = command[0]!.toUpperCase();
    if ((name === "EVAL" || name === "EVAL_RO") && command[1] !== undefined) {
      const script = redisScript(command[1]);
      if (script !== command[1]) this.shas.set(sha1(command[1]), sha1(script));
      return [command[0]!, script, ...command.slice(2)];
    }
    if ((name === "EVALSHA" || name === "EVALSHA_RO") && command[1] !== undefined) {
      return [command[0]!, this.shas.get(command[1].toLowerCase()) ?? command[1], ...command.slice(2)];
    }
    if (name === "SCRIPT" && command[1]?.toUpperCase() === "LOAD" && command[2] !== undefined) {
      const script = redisScript(command[2]);
      if (script !== command[2]) this.shas.set(sha1(command[2]), sha1(script));
      return [command[0]!, command[1], script];
    }
    if (name === "SCRIPT" && command[1]?.toUpperCase() === "EXISTS") {
      return [command[0]!, command[1], ...command.slice(2).map((s) => this.shas.get(s.toLowerCase()) ?? s)];
    }
    return command;
  }

  /** SCRIPT LOAD answers with the SHA1 of the script the client sent, not the rewritten one. */
  reply(command: Command, reply: RedisReply): RedisReply {
    if (
      command[0]!.toUpperCase() === "SCRIPT" &&
      command[1]?.toUpperCase() === "LOAD" &&
      typeof reply === "string" &&
      command[2] !== undefined
    ) {
      return sha1(command[2]);
    }
    return reply;
  }
}

class BadRequest extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

type Command = string[];

function toCommand(value: unknown, where = "The body"): Command {
  if (!Array.isArray(value) || value.length === 0) {
    throw new BadRequest(`${where} must be a non-empty JSON array, like ["SET", "key", "value"]`);
  }
  const command = value.map((part) => {
    if (typeof part === "string") return part;
    if (typeof part === "number" || typeof part === "boolean") return String(part);
    throw new BadRequest(`${where} may hold only strings, numbers and booleans`);
  });
  const name = command[0]!.toUpperCase();
  if (REFUSED.has(name)) throw new BadRequest(`ERR ${name} is not supported over REST`);
  return command;
}

function toCommands(value: unknown): Command[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new BadRequest('The body must be a non-empty JSON array of commands, like [["GET", "key"]]');
  }
  return value.map((c, i) => toCommand(c, `Command ${i + 1}`));
}

/** A reply as Upstash writes it: strings base64-encoded when asked (except "OK"), errors apart. */
function encode(reply: RedisReply, base64: boolean): unknown {
  if (reply instanceof RedisReplyError) return reply.message;
  if (Array.isArray(reply)) return reply.map((r) => encode(r, base64));
  if (typeof reply === "string" && base64 && reply !== "OK") return Buffer.from(reply).toString("base64");
  return reply;
}

function entry(reply: RedisReply, base64: boolean): { result: unknown } | { error: string } {
  return reply instanceof RedisReplyError ? { error: reply.message } : { result: encode(reply, base64) };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BadRequest(`The body is larger than ${MAX_BODY_BYTES} bytes`, 413));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequest("The body is not valid JSON");
  }
}

function authorized(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? "";
  const match = /^Bearer\s+(.+)$/i.exec(header);
  if (!match) return false;
  const given = Buffer.from(match[1]!.trim());
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export async function startRedisRestBridge(options: RedisRestBridgeOptions): Promise<RedisRestBridge> {
  if (!options.token) throw new Error("The bridge needs a token");
  const redis = new RespClient({
    host: options.redisHost,
    port: options.redisPort,
    password: options.redisPassword,
  });

  const scripts = new ScriptTable();
  /** Runs commands (rewritten for scripts) in one write; replies in order. */
  const run = async (commands: Command[], wrap = false): Promise<RedisReply[]> => {
    const sent = commands.map((c) => scripts.rewrite(c));
    const replies = await redis.send(wrap ? [["MULTI"], ...sent, ["EXEC"]] : sent);
    if (wrap) {
      const exec = replies.at(-1)!;
      if (Array.isArray(exec))
        replies[replies.length - 1] = exec.map((r, i) => scripts.reply(commands[i]!, r));
      return replies;
    }
    return replies.map((r, i) => scripts.reply(commands[i]!, r));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (!authorized(req, options.token)) {
      return send(res, 401, { error: "Unauthorized: send Authorization: Bearer <UPSTASH_REDIS_REST_TOKEN>" });
    }
    const base64 = String(req.headers["upstash-encoding"] ?? "").toLowerCase() === "base64";
    const url = new URL(req.url ?? "/", "http://bridge");
    const path = url.pathname.replace(/\/+$/, "");
    const body = req.method === "POST" ? await readBody(req) : "";

    if (path === "/pipeline" || path === "/multi-exec") {
      if (req.method !== "POST") throw new BadRequest(`Use POST for ${path}`, 405);
      const commands = toCommands(parseJson(body));
      if (path === "/pipeline") {
        const replies = await run(commands);
        return send(
          res,
          200,
          replies.map((r) => entry(r, base64)),
        );
      }
      const replies = await run(commands, true);
      const exec = replies.at(-1)!;
      if (exec instanceof RedisReplyError) {
        // EXECABORT: a command was refused while queueing; report the first refusal.
        const refused = replies.slice(1, -1).find((r) => r instanceof RedisReplyError) as
          RedisReplyError | undefined;
        return send(res, 400, { error: refused?.message ?? exec.message });
      }
      if (!Array.isArray(exec)) return send(res, 400, { error: "ERR the transaction was aborted" });
      return send(
        res,
        200,
        exec.map((r) => entry(r, base64)),
      );
    }

    let command: Command;
    if (path === "") {
      if (req.method !== "POST") throw new BadRequest("Send a command: POST / with a JSON array body", 405);
      command = toCommand(parseJson(body));
    } else {
      const parts = path.slice(1).split("/").map(decodeURIComponent);
      if (body) parts.push(body);
      command = toCommand(parts, "The command");
    }
    const [reply] = await run([command]);
    if (reply instanceof RedisReplyError) return send(res, 400, { error: reply.message });
    return send(res, 200, { result: encode(reply!, base64) });
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) return res.destroy();
      if (error instanceof BadRequest) return send(res, error.status, { error: error.message });
      if (error instanceof RedisConnectionError) return send(res, 502, { error: error.message });
      send(res, 500, { error: error instanceof Error ? error.message : String(error) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? "127.0.0.1"}:${port}`,
    token: options.token,
    close: () =>
      new Promise<void>((resolve) => {
        redis.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
