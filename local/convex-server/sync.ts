/**
 * Convex's WebSocket sync protocol, one SyncSession per connection: query set and identity
 * versions, mutations resolved in order with read-your-writes, actions, auth, pings.
 * Everything a session sends goes through one serial queue, so versions always chain.
 */
import type { WebSocket } from "ws";
import { convexToJson, jsonToConvex, type JSONValue, type Value } from "convex/values";
import type { Caller, Engine } from "./engine.js";
import { FunctionError } from "./engine.js";
import type { QueryCache, QueryInstance, Subscriber } from "./subscriptions.js";

export type Authenticator = {
  /** Resolves a user token to a caller, or throws with the message a client should see. */
  user(token: string): Promise<Caller & { kind: "user" }>;
  /** Resolves an admin key (optionally "key:base64(identity)") or returns null if it is wrong. */
  admin(value: string, impersonating?: Record<string, unknown>): Caller | null;
  /** Seconds until a user token expires (0 once expired), or null when it has no expiry. */
  expiresAt(token: string): number | null;
};

type StoredResponse = Promise<Record<string, unknown>>;

/** Remembers mutation outcomes per client session so a resent mutation is not run twice. */
export class SessionRegistry {
  private sessions = new Map<string, { responses: Map<number, StoredResponse>; seen: number }>();

  responses(sessionId: string): Map<number, StoredResponse> {
    let s = this.sessions.get(sessionId);
    if (!s) {
      s = { responses: new Map(), seen: Date.now() };
      this.sessions.set(sessionId, s);
      this.prune();
    }
    s.seen = Date.now();
    return s.responses;
  }

  private prune(): void {
    const cutoff = Date.now() - 30 * 60_000;
    for (const [id, s] of this.sessions) if (s.seen < cutoff) this.sessions.delete(id);
  }
}

type Subscription = {
  udfPath: string;
  args: Record<string, Value>;
  journal: string | null;
  instance: QueryInstance;
  sentVersion: number;
};
type Version = { querySet: number; identity: number; ts: bigint };

const PING_INTERVAL_MS = 15_000;
const MAX_FLUSH_ROUNDS = 8;
const MAX_REMEMBERED_RESPONSES = 2_000;

/** A message from a Convex client, before its type is known. */
type ClientMessage = { type?: unknown; sessionId?: unknown } & Record<string, unknown>;

export class SyncSession implements Subscriber {
  private sessionId = "";
  private caller: Caller = { kind: "anonymous" };
  private callerKey = "anonymous";
  private queries = new Map<number, Subscription>();
  private removed: number[] = [];
  private querySetVersion = 0;
  private identityVersion = 0;
  private sent: Version = { querySet: 0, identity: 0, ts: 0n };
  private queue: Promise<void> = Promise.resolve();
  private flushQueued = false;
  private needsTransition = false;
  private closed = false;
  private ping: ReturnType<typeof setInterval>;
  private expiryTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly ws: WebSocket,
    private readonly engine: Engine,
    private readonly cache: QueryCache,
    private readonly auth: Authenticator,
    private readonly registry: SessionRegistry,
  ) {
    this.ping = setInterval(() => this.send({ type: "Ping" }), PING_INTERVAL_MS);
    ws.on("message", (data) => this.onMessage(String(data)));
    ws.on("close", () => this.close());
    ws.on("error", () => this.close());
  }

  invalidated(): void {
    this.scheduleFlush();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.ping);
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    for (const sub of this.queries.values()) this.cache.release(sub.instance, this);
    this.queries.clear();
  }

  private onMessage(raw: string): void {
    let message: ClientMessage;
    try {
      message = JSON.parse(raw);
    } catch {
      return this.fatal("Invalid message: not JSON");
    }
    if (typeof message !== "object" || message === null) return this.fatal("Invalid message: not an object");
    switch (message.type) {
      case "Connect":
        this.sessionId = String(message.sessionId ?? "");
        return;
      case "Action":
        // Actions run concurrently; their responses don't take part in versioning.
        void this.runAction(message as Parameters<SyncSession["runAction"]>[0]);
        return;
      case "Event":
        return;
      case "ModifyQuerySet":
      case "Authenticate":
      case "Mutation":
        this.enqueue(() => this.handle(message));
        return;
      default:
        return this.fatal(`Unknown message type ${String(message.type)}`);
    }
  }

  private handle(message: ClientMessage): Promise<void> {
    // The shapes are the Convex client's; each handler reads only the fields it knows.
    if (message.type === "ModifyQuerySet")
      return this.modifyQuerySet(message as Parameters<SyncSession["modifyQuerySet"]>[0]);
    if (message.type === "Authenticate")
      return this.authenticate(message as Parameters<SyncSession["authenticate"]>[0]);
    return this.runMutation(message as Parameters<SyncSession["runMutation"]>[0]);
  }

  private enqueue(task: () => Promise<void>): void {
    this.queue = this.queue.then(async () => {
      if (this.closed) return;
      try {
        await task();
      } catch (error) {
        this.engine.logLine(`[ERROR] sync session: ${(error as Error)?.stack ?? error}`);
        this.fatal(`Internal error: ${(error as Error)?.message ?? error}`);
      }
    });
  }

  private scheduleFlush(): void {
    if (this.flushQueued || this.closed) return;
    this.flushQueued = true;
    this.enqueue(async () => {
      this.flushQueued = false;
      await this.flush();
    });
  }

  private async modifyQuerySet(message: {
    baseVersion: number;
    newVersion: number;
    modifications: {
      type: "Add" | "Remove";
      queryId: number;
      udfPath?: string;
      args?: JSONValue[];
      journal?: string | null;
    }[];
  }): Promise<void> {
    if (message.baseVersion !== this.querySetVersion) {
      return this.fatal(
        `Invalid query set base version ${message.baseVersion}, expected ${this.querySetVersion}`,
      );
    }
    for (const mod of message.modifications) {
      if (mod.type === "Add") {
        const args = (jsonToConvex((mod.args ?? [{}])[0] ?? {}) ?? {}) as Record<string, Value>;
        const journal = mod.journal ?? null;
        const instance = this.cache.acquire(mod.udfPath!, args, this.caller, this.callerKey, journal, this);
        this.queries.set(mod.queryId, { udfPath: mod.udfPath!, args, journal, instance, sentVersion: 0 });
      } else {
        const sub = this.queries.get(mod.queryId);
        if (sub) {
          this.cache.release(sub.instance, this);
          this.queries.delete(mod.queryId);
          this.removed.push(mod.queryId);
        }
      }
    }
    this.querySetVersion = message.newVersion;
    await this.flush();
  }

  private async authenticate(message: {
    tokenType: "User" | "Admin" | "None";
    value?: string;
    baseVersion: number;
    impersonating?: Record<string, unknown>;
  }): Promise<void> {
    if (message.baseVersion !== this.identityVersion) {
      return this.fatal(
        `Invalid identity base version ${message.baseVersion}, expected ${this.identityVersion}`,
      );
    }
    let caller: Caller;
    try {
      if (message.tokenType === "User") {
        caller = await this.auth.user(message.value ?? "");
      } else if (message.tokenType === "Admin") {
        const admin = this.auth.admin(message.value ?? "", message.impersonating);
        if (!admin) throw new Error("Invalid admin key");
        caller = admin;
      } else {
        caller = { kind: "anonymous" };
      }
    } catch (error) {
      this.send({
        type: "AuthError",
        error: (error as Error)?.message ?? String(error),
        baseVersion: message.baseVersion,
        authUpdateAttempted: true,
      });
      return;
    }
    this.setCaller(caller, message.tokenType === "User" ? message.value! : null);
    this.identityVersion = message.baseVersion + 1;
    await this.flush();
  }

  private setCaller(caller: Caller, token: string | null): void {
    this.caller = caller;
    this.callerKey =
      caller.kind === "user"
        ? `user:${caller.identity.tokenIdentifier}:${token}`
        : caller.kind === "admin"
          ? `admin:${JSON.stringify(caller.identity ?? null)}`
          : "anonymous";
    for (const sub of this.queries.values()) {
      const next = this.cache.acquire(sub.udfPath, sub.args, caller, this.callerKey, sub.journal, this);
      if (next !== sub.instance) {
        this.cache.release(sub.instance, this);
        sub.instance = next;
        sub.sentVersion = 0;
      }
    }
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    const secondsLeft = token ? this.auth.expiresAt(token) : null;
    if (secondsLeft !== null) {
      const delay = Math.max(0, secondsLeft * 1000);
      if (delay < 2 ** 31 - 1) {
        const version = this.identityVersion;
        this.expiryTimer = setTimeout(() => {
          // The client refreshes tokens before they expire; one that did not is told so.
          if (!this.closed && this.identityVersion === version + 1) {
            this.send({
              type: "AuthError",
              error: "Token expired",
              baseVersion: this.identityVersion,
              authUpdateAttempted: false,
            });
          }
        }, delay);
      }
    }
  }

  private async runMutation(message: {
    requestId: number;
    udfPath: string;
    args: JSONValue[];
  }): Promise<void> {
    const remembered = this.sessionId ? this.registry.responses(this.sessionId) : null;
    let response = remembered?.get(message.requestId);
    if (!response) {
      response = this.executeMutation(message);
      if (remembered) {
        remembered.set(message.requestId, response);
        if (remembered.size > MAX_REMEMBERED_RESPONSES) remembered.delete(remembered.keys().next().value!);
      }
    }
    this.send(await response);
    // The client resolves the mutation only after a transition at or past its timestamp.
    this.needsTransition = true;
    await this.flush();
  }

  private async executeMutation(message: { requestId: number; udfPath: string; args: JSONValue[] }) {
    const args = (jsonToConvex(message.args?.[0] ?? {}) ?? {}) as Record<string, Value>;
    try {
      const result = await this.engine.call(message.udfPath, args, {
        caller: this.caller,
        expect: "mutation",
      });
      return {
        type: "MutationResponse",
        requestId: message.requestId,
        success: true,
        result: convexResult(result.value),
        ts: encodeTs(result.ts ?? this.engine.lastCommitTs),
        logLines: result.logLines,
      };
    } catch (error) {
      return failure("MutationResponse", message.requestId, error);
    }
  }

  private async runAction(message: { requestId: number; udfPath: string; args: JSONValue[] }): Promise<void> {
    const args = (jsonToConvex(message.args?.[0] ?? {}) ?? {}) as Record<string, Value>;
    try {
      const result = await this.engine.call(message.udfPath, args, { caller: this.caller, expect: "action" });
      this.send({
        type: "ActionResponse",
        requestId: message.requestId,
        success: true,
        result: convexResult(result.value),
        logLines: result.logLines,
      });
    } catch (error) {
      this.send(failure("ActionResponse", message.requestId, error));
    }
  }

  /**
   * Brings every subscribed query up to date and sends one Transition. Results are consistent:
   * the transition's timestamp is the latest commit, and no query it carries is stale at it.
   */
  private async flush(): Promise<void> {
    let ts = this.engine.lastCommitTs;
    for (let round = 0; round < MAX_FLUSH_ROUNDS; round++) {
      const stale = [...this.queries.values()].filter((s) => s.instance.dirty);
      if (stale.length === 0) break;
      await Promise.all(stale.map((s) => this.cache.ensureFresh(s.instance)));
      ts = this.engine.lastCommitTs;
    }
    if (this.closed) return;
    this.pinJournals();
    const modifications: Record<string, unknown>[] = [];
    for (const queryId of this.removed) modifications.push({ type: "QueryRemoved", queryId });
    this.removed = [];
    for (const [queryId, sub] of this.queries) {
      const outcome = sub.instance.outcome;
      if (!outcome || sub.instance.version === sub.sentVersion) continue;
      sub.sentVersion = sub.instance.version;
      modifications.push(
        outcome.ok
          ? {
              type: "QueryUpdated",
              queryId,
              value: outcome.value,
              logLines: outcome.logLines,
              journal: outcome.journal,
            }
          : {
              type: "QueryFailed",
              queryId,
              errorMessage: outcome.message,
              errorData: outcome.data,
              logLines: outcome.logLines,
              journal: outcome.journal,
            },
      );
    }
    // Under a steady stream of writes a query may still be stale after the last round; the
    // transition then claims only the timestamp at which everything it carries was current.
    for (const sub of this.queries.values()) {
      const since = sub.instance.dirty ? sub.instance.staleSince : null;
      if (since !== null && since - 1n < ts) ts = since - 1n;
    }
    const end: Version = {
      querySet: this.querySetVersion,
      identity: this.identityVersion,
      ts: ts > this.sent.ts ? ts : this.sent.ts,
    };
    const versionChanged =
      end.querySet !== this.sent.querySet || end.identity !== this.sent.identity || end.ts !== this.sent.ts;
    if (modifications.length === 0 && !versionChanged && !this.needsTransition) return;
    this.needsTransition = false;
    this.send({
      type: "Transition",
      startVersion: encodeVersion(this.sent),
      endVersion: encodeVersion(end),
      modifications,
      serverTs: Number(end.ts),
    });
    this.sent = end;
    this.engine.metrics.counters.transitionsSent += 1;
  }

  /** Moves subscriptions whose result carries a new journal onto the instance pinned by it. */
  private pinJournals(): void {
    for (const sub of this.queries.values()) {
      const outcome = sub.instance.outcome;
      if (!outcome?.ok || !outcome.journal || outcome.journal === sub.journal) continue;
      const previous = sub.instance;
      const alreadySent = sub.sentVersion === previous.version;
      const pinned = this.cache.pin(previous, outcome.journal, this.callerKey, this);
      sub.instance = pinned;
      sub.journal = outcome.journal;
      sub.sentVersion = alreadySent && pinned.outcomeKey === previous.outcomeKey ? pinned.version : 0;
    }
  }

  private send(message: Record<string, unknown>): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(JSON.stringify(message));
  }

  private fatal(error: string): void {
    this.send({ type: "FatalError", error });
    this.ws.close(1011, error.slice(0, 120));
    this.close();
  }
}

function convexResult(value: Value): JSONValue {
  return convexToJson(value === undefined ? null : value);
}

function failure(type: "MutationResponse" | "ActionResponse", requestId: number, error: unknown) {
  const e =
    error instanceof FunctionError
      ? error
      : new FunctionError(String((error as Error)?.message ?? error), undefined, []);
  return {
    type,
    requestId,
    success: false,
    result: e.message,
    logLines: e.logLines,
    ...(e.data !== undefined ? { errorData: e.data } : {}),
  };
}

/** Timestamps travel as base64 of a little-endian u64. */
export function encodeTs(ts: bigint): string {
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64LE(ts);
  return buf.toString("base64");
}

function encodeVersion(v: Version) {
  return { querySet: v.querySet, identity: v.identity, ts: encodeTs(v.ts) };
}
