/**
 * Starts the local Convex server: the engine, the client port (sync WebSocket, HTTP API,
 * storage, /_local tools) and the site port (HTTP actions). Used by the CLI, the stack and tests.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  existsSync,
  readFileSync,
  writeFileSync,
  watch as fsWatch,
  type FSWatcher,
} from "node:fs";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { WebSocketServer } from "ws";
import { convexToJson, jsonToConvex, type JSONValue, type Value } from "convex/values";
import { AuthVerifier, type AuthProviderConfig } from "./auth.js";
import { Engine, FunctionError, type Caller, type Identity, type UdfKind } from "./engine.js";
import { QueryCache } from "./subscriptions.js";
import { SessionRegistry, SyncSession, type Authenticator } from "./sync.js";

export type LocalConvexOptions = {
  functionsDir: string;
  dataDir: string;
  port?: number;
  sitePort?: number;
  host?: string;
  env?: Record<string, string>;
  watch?: boolean;
  /** With watch: regenerate `_generated/` (as `npx convex dev` does) before each reload. */
  codegen?: boolean;
  /** Where function logs and server messages go (default: stdout). */
  log?: (line: string) => void;
  /** Disable fsync for throwaway test data. Durability tests keep it on. */
  fsync?: boolean;
  functionTimeoutMs?: number;
};

export type LocalConvex = {
  url: string;
  siteUrl: string;
  adminKey: string;
  engine: Engine;
  close(): Promise<void>;
};

/** Convex's limit on HTTP action and API request bodies. */
export const MAX_BODY_BYTES = 20 * 1024 * 1024;
const UDF_FAILED = 560;

export async function startLocalConvex(options: LocalConvexOptions): Promise<LocalConvex> {
  const host = options.host ?? "127.0.0.1";
  // Straight to stdout: console.log is where function logs are captured.
  const log = options.log ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const clientServer = http.createServer();
  const siteServer = http.createServer();
  await listen(clientServer, options.port ?? 3210, host);
  await listen(siteServer, options.sitePort ?? 3211, host);
  const urlHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  const url = `http://${urlHost}:${(clientServer.address() as AddressInfo).port}`;
  const siteUrl = `http://${urlHost}:${(siteServer.address() as AddressInfo).port}`;

  const engine = new Engine({
    functionsDir: options.functionsDir,
    dataDir: options.dataDir,
    env: options.env,
    cloudUrl: url,
    siteUrl,
    log,
    fsync: options.fsync,
    functionTimeoutMs: options.functionTimeoutMs,
  });
  try {
    await engine.start();
  } catch (error) {
    clientServer.close();
    siteServer.close();
    throw error;
  }
  const adminKey = loadAdminKey(options.dataDir);
  const auth = makeAuthenticator(engine, adminKey);
  const cache = new QueryCache(engine);
  const registry = new SessionRegistry();
  const isLoopback = ["127.0.0.1", "::1", "localhost"].includes(host);

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 });
  clientServer.on("upgrade", (req, socket, head) => {
    const pathname = new URL(req.url ?? "/", url).pathname;
    if (!/^\/api\/[^/]+\/sync$/.test(pathname)) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => new SyncSession(ws, engine, cache, auth, registry));
  });
  clientServer.on("request", (req, res) => {
    handleClientRequest(req, res, { engine, auth, adminKey, url, isLoopback }).catch((error) => {
      log(`[ERROR] ${req.method} ${req.url}: ${(error as Error)?.stack ?? error}`);
      if (!res.headersSent) sendJson(res, 500, { code: "InternalServerError", message: String(error) });
    });
  });
  siteServer.on("request", (req, res) => {
    handleSiteRequest(req, res, engine, auth, siteUrl).catch((error) => {
      log(`[ERROR] ${req.method} ${req.url}: ${(error as Error)?.stack ?? error}`);
      if (!res.headersSent) sendJson(res, 500, { code: "InternalServerError", message: String(error) });
    });
  });

  let watcher: FSWatcher | null = null;
  if (options.watch) {
    watcher = watchFunctions(options.functionsDir, async () => {
      try {
        if (options.codegen) runCodegen(options.functionsDir, log);
        await engine.reload();
        cache.invalidateAll();
        log(`convex-local reloaded functions from ${options.functionsDir}`);
      } catch (error) {
        log(`[ERROR] convex-local kept the previous functions: ${(error as Error)?.message ?? error}`);
      }
    });
  }

  return {
    url,
    siteUrl,
    adminKey,
    engine,
    async close() {
      watcher?.close();
      for (const client of wss.clients) client.terminate();
      wss.close();
      await Promise.all([closeServer(clientServer), closeServer(siteServer)]);
      await engine.close();
    },
  };
}

// ------------------------------------------------------------------ client port

type ClientDeps = { engine: Engine; auth: Authenticator; adminKey: string; url: string; isLoopback: boolean };

async function handleClientRequest(
  req: IncomingMessage,
  res: ServerResponse,
  deps: ClientDeps,
): Promise<void> {
  const { engine } = deps;
  const requestUrl = new URL(req.url ?? "/", deps.url);
  const pathname = requestUrl.pathname;
  // The developer tools answer no other origin: no CORS headers, and a preflight is refused, so
  // a web page the developer happens to visit cannot read tables (invitation tokens, channels).
  if (pathname === "/_local" || pathname.startsWith("/_local/")) {
    if (req.method === "OPTIONS") {
      sendJson(res, 405, {
        code: "MethodNotAllowed",
        message: "The /_local endpoints allow no cross-origin use",
      });
      return;
    }
    return handleDevtools(req, res, requestUrl, deps);
  }
  // Convex's client API: browsers call it from the app's origin.
  setCors(res);
  if (req.method === "OPTIONS") {
    res.writeHead(204).end();
    return;
  }
  if (req.method === "GET" && pathname.startsWith("/api/storage/")) {
    return serveFile(res, engine, decodeURIComponent(pathname.slice("/api/storage/".length)));
  }
  if (req.method === "GET" && (pathname === "/" || pathname === "/version")) {
    res
      .writeHead(200, { "content-type": "text/plain" })
      .end("This Convex deployment is running (convex-local).\n");
    return;
  }
  if (req.method !== "POST") {
    sendJson(res, 404, { code: "NotFound", message: `No route for ${req.method} ${pathname}` });
    return;
  }
  const body = await readBody(req, MAX_BODY_BYTES);
  if (body === null) {
    sendJson(res, 413, { code: "PayloadTooLarge", message: `Request body exceeds ${MAX_BODY_BYTES} bytes` });
    return;
  }
  if (pathname === "/api/storage/upload") {
    const storageId = await engine.storeFile(body, headerValue(req, "content-type"));
    sendJson(res, 200, { storageId });
    return;
  }
  if (pathname === "/api/query_ts") {
    sendJson(res, 200, { ts: engine.lastCommitTs.toString() });
    return;
  }
  const routes: Record<string, UdfKind | "any"> = {
    "/api/query": "query",
    "/api/query_at_ts": "query",
    "/api/mutation": "mutation",
    "/api/action": "action",
    "/api/function": "any",
  };
  const expect = routes[pathname];
  if (!expect) {
    sendJson(res, 404, { code: "NotFound", message: `No route for POST ${pathname}` });
    return;
  }
  let request: { path?: string; args?: JSONValue; format?: string };
  try {
    request = JSON.parse(Buffer.from(body).toString("utf8"));
  } catch {
    sendJson(res, 400, { code: "BadJsonBody", message: "The request body is not valid JSON" });
    return;
  }
  if (typeof request.path !== "string") {
    sendJson(res, 400, { code: "BadRequest", message: "Missing function path" });
    return;
  }
  let caller: Caller;
  try {
    caller = await callerFromHeader(req, deps.auth);
  } catch (error) {
    sendJson(res, 401, { code: "Unauthenticated", message: (error as Error).message });
    return;
  }
  const rawArgs =
    pathname === "/api/function"
      ? request.args
      : Array.isArray(request.args)
        ? request.args[0]
        : request.args;
  let args: Record<string, Value>;
  try {
    args = (jsonToConvex((rawArgs ?? {}) as JSONValue) ?? {}) as Record<string, Value>;
  } catch (error) {
    sendJson(res, 400, { code: "BadRequest", message: `Invalid arguments: ${(error as Error).message}` });
    return;
  }
  try {
    const result = await engine.call(request.path, args, { caller, expect });
    sendJson(res, 200, { status: "success", value: convexToJson(result.value), logLines: result.logLines });
  } catch (error) {
    const e = error as FunctionError;
    sendJson(res, UDF_FAILED, {
      status: "error",
      errorMessage: e.message,
      ...(e.data !== undefined ? { errorData: e.data } : {}),
      logLines: e.logLines ?? [],
    });
  }
}

async function serveFile(res: ServerResponse, engine: Engine, storageId: string): Promise<void> {
  const file = await engine.getFile(storageId);
  if (!file) {
    sendJson(res, 404, { code: "FileNotFound", message: `File not found: ${storageId}` });
    return;
  }
  const bytes = Buffer.from(await file.blob.arrayBuffer());
  res.writeHead(200, {
    "content-type": file.contentType ?? "application/octet-stream",
    "content-length": String(bytes.length),
    "cache-control": "private, max-age=2592000",
  });
  res.end(bytes);
}

function handleDevtools(req: IncomingMessage, res: ServerResponse, url: URL, deps: ClientDeps): void {
  if (req.method !== "GET") {
    sendJson(res, 405, { code: "MethodNotAllowed", message: "The /_local endpoints are read-only" });
    return;
  }
  if (!deps.isLoopback) {
    const key = (headerValue(req, "authorization") ?? "").replace(/^Convex\s+/i, "");
    if (key !== deps.adminKey) {
      sendJson(res, 401, {
        code: "Unauthenticated",
        message: "Send the admin key as 'Authorization: Convex <key>'",
      });
      return;
    }
  }
  const { engine } = deps;
  const parts = url.pathname.split("/").filter(Boolean); // ["_local", ...]
  if (parts[1] === "tables" && parts.length === 2) {
    sendJson(res, 200, { tables: engine.listTables() });
  } else if (parts[1] === "tables" && parts.length === 3) {
    const limit = Math.min(Math.max(Number(url.searchParams.get("limit") ?? 100) || 100, 1), 10_000);
    sendJson(res, 200, {
      table: parts[2],
      documents: engine.tableDocuments(decodeURIComponent(parts[2]), limit),
    });
  } else if (parts[1] === "metrics") {
    sendJson(res, 200, engine.metrics.snapshot());
  } else if (parts[1] === "crons") {
    sendJson(res, 200, { crons: [...engine.scheduler.cronState.values()] });
  } else {
    sendJson(res, 404, { code: "NotFound", message: `Unknown endpoint ${url.pathname}` });
  }
}

// ------------------------------------------------------------------ site port

async function handleSiteRequest(
  req: IncomingMessage,
  res: ServerResponse,
  engine: Engine,
  auth: Authenticator,
  siteUrl: string,
): Promise<void> {
  const body =
    req.method === "GET" || req.method === "HEAD"
      ? new Uint8Array(new ArrayBuffer(0))
      : await readBody(req, MAX_BODY_BYTES);
  if (body === null) {
    sendJson(res, 413, { code: "PayloadTooLarge", message: `Request body exceeds ${MAX_BODY_BYTES} bytes` });
    return;
  }
  let caller: Caller = { kind: "anonymous" };
  if (headerValue(req, "authorization")?.startsWith("Bearer ")) {
    try {
      caller = await callerFromHeader(req, auth);
    } catch (error) {
      sendJson(res, 401, { code: "Unauthenticated", message: (error as Error).message });
      return;
    }
  }
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
  const response = await engine.fetchHttpAction(
    { method: req.method ?? "GET", url: new URL(req.url ?? "/", siteUrl), headers, body },
    caller,
  );
  const out: Record<string, string | string[]> = {};
  response.headers.forEach((value, key) => {
    if (key === "set-cookie") return;
    out[key] = value;
  });
  const cookies = response.headers.getSetCookie?.() ?? [];
  if (cookies.length) out["set-cookie"] = cookies;
  const bytes = Buffer.from(await response.arrayBuffer());
  res.writeHead(response.status, response.statusText, out);
  res.end(req.method === "HEAD" ? undefined : bytes);
}

// ------------------------------------------------------------------ auth

function makeAuthenticator(engine: Engine, adminKey: string): Authenticator {
  let verifier: AuthVerifier | null = null;
  let verifierFor = "";
  const current = () => {
    const key = JSON.stringify(engine.authConfig.providers ?? []);
    if (!verifier || key !== verifierFor) {
      verifier = new AuthVerifier((engine.authConfig.providers ?? []) as AuthProviderConfig[]);
      verifierFor = key;
    }
    return verifier;
  };
  return {
    async user(token) {
      const identity = (await current().verify(token)) as Identity;
      return { kind: "user", identity, token };
    },
    admin(value, impersonating) {
      const [key, encodedIdentity] = value.split(":");
      if (key !== adminKey) return null;
      const acting = impersonating ?? (encodedIdentity ? decodeIdentity(encodedIdentity) : undefined);
      return { kind: "admin", identity: acting ? completeIdentity(acting) : undefined };
    },
    expiresAt: (token) => AuthVerifier.expiresAt(token),
  };
}

async function callerFromHeader(req: IncomingMessage, auth: Authenticator): Promise<Caller> {
  const header = headerValue(req, "authorization");
  if (!header) return { kind: "anonymous" };
  if (header.startsWith("Bearer ")) return await auth.user(header.slice("Bearer ".length).trim());
  if (header.startsWith("Convex ")) {
    const admin = auth.admin(header.slice("Convex ".length).trim());
    if (!admin) throw new Error("The provided admin key was invalid for this instance");
    return admin;
  }
  throw new Error("Unsupported Authorization header; use 'Bearer <token>' or 'Convex <admin key>'");
}

function decodeIdentity(encoded: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(encoded, "base64").toString("utf8"));
}

function completeIdentity(identity: Record<string, unknown>): Identity {
  const subject = String(identity.subject ?? "admin");
  const issuer = String(identity.issuer ?? "convex-local");
  return {
    ...identity,
    subject,
    issuer,
    tokenIdentifier: String(identity.tokenIdentifier ?? `${issuer}|${subject}`),
  };
}

/** The admin key file of a data folder (mode 0600); the CLI prints the key only when asked. */
export function adminKeyFile(dataDir: string): string {
  return path.join(dataDir, "admin-key");
}

function loadAdminKey(dataDir: string): string {
  const file = adminKeyFile(dataDir);
  if (existsSync(file)) {
    chmodSync(file, 0o600);
    return readFileSync(file, "utf8").trim();
  }
  const key = `convex-local-${randomBytes(24).toString("hex")}`;
  writeFileSync(file, key + "\n", { mode: 0o600 });
  return key;
}

// ------------------------------------------------------------------ plumbing

function watchFunctions(dir: string, onChange: () => Promise<void>): FSWatcher {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let running = Promise.resolve();
  return fsWatch(dir, { recursive: true }, (_event, file) => {
    if (file && (String(file).startsWith("_generated") || String(file).includes("node_modules"))) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      running = running.then(onChange);
    }, 150);
  });
}

/** Regenerates `_generated/` for the functions folder, offline, like `npx convex dev` does on push. */
function runCodegen(functionsDir: string, log: (line: string) => void): void {
  const cwd = path.dirname(path.resolve(functionsDir));
  const bin = path.join(cwd, "node_modules", ".bin", "convex");
  const result = spawnSync(
    existsSync(bin) ? bin : "npx",
    [...(existsSync(bin) ? [] : ["convex"]), "codegen", "--system-udfs", "--typecheck", "disable"],
    {
      cwd,
      encoding: "utf8",
    },
  );
  if (result.status !== 0) log(`[WARN] convex codegen failed: ${(result.stderr || result.stdout).trim()}`);
}

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve());
  });
}

/** Reads a request body, or returns null once it exceeds `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array<ArrayBuffer> | null> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > limit) {
    req.resume();
    return Promise.resolve(null);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on("end", () => resolve(tooLarge ? null : new Uint8Array(Buffer.concat(chunks))));
    req.on("error", reject);
  });
}

function headerValue(req: IncomingMessage, name: string): string | null {
  const v = req.headers[name];
  return Array.isArray(v) ? (v[0] ?? null) : (v ?? null);
}

function setCors(res: ServerResponse): void {
  res.setHeader("access-control-allow-origin", "*");
  res.setHeader("access-control-allow-headers", "authorization, content-type, convex-client");
  res.setHeader("access-control-allow-methods", "GET, POST, OPTIONS");
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(text)),
  });
  res.end(text);
}
