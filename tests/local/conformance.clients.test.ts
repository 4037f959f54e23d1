/**
 * Conformance of the local Convex server with the real, unmodified clients from the `convex`
 * package (ConvexClient over WebSocket, ConvexHttpClient over HTTP), against a functions folder
 * that has nothing to do with this product (tests/fixtures/notes-app): the server is generic.
 */
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { ConvexClient } from "convex/browser";
import {
  getFunctionName,
  makeFunctionReference,
  type FunctionReference,
  type FunctionReturnType,
  type FunctionType,
  type FunctionVisibility,
  type UserIdentityAttributes,
} from "convex/server";
import { ConvexError } from "convex/values";
import { api, internal } from "../fixtures/notes-app/convex/_generated/api";
import { api as appApi } from "../../convex/_generated/api";
import { adminClient, httpClient, ROOT, startServer, wsClient, type TestServer } from "./harness";

const FIXTURE_FUNCTIONS = path.join(ROOT, "tests/fixtures/notes-app/convex");

let counter = 0;
/** A tag nobody else uses, so tests sharing the server don't see each other's rows. */
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}`;

type Note = { _id: string; _creationTime: number; author: string; body: string; tag: string };

/**
 * The same function addressed by name only, typed as a public function of kind `Type`: how a
 * client calls an internal function, or a function as a kind it is not, to see the server refuse.
 */
const byName = <Type extends FunctionType>(ref: FunctionReference<FunctionType, FunctionVisibility>) =>
  makeFunctionReference<Type>(getFunctionName(ref));

/** The admin-only part of the clients' API, which their type declarations leave out. */
type AdminAuth = { setAdminAuth(key: string, actingAs?: UserIdentityAttributes): void };

/** Resolves once `predicate` holds, re-checking whenever a notifier fires; times out readably. */
function until(
  notifiers: Set<() => void>,
  predicate: () => boolean,
  what: () => string,
  timeoutMs = 10_000,
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (predicate()) return resolve();
    const check = () => {
      if (!predicate()) return;
      clearTimeout(timer);
      notifiers.delete(check);
      resolve();
    };
    const timer = setTimeout(() => {
      notifiers.delete(check);
      reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what()}`));
    }, timeoutMs);
    notifiers.add(check);
  });
}

/** Subscribes with ConvexClient.onUpdate and records every value and error it delivers. */
function watch<T>(client: ConvexClient, query: FunctionReference<"query">, args: Record<string, unknown>) {
  const values: T[] = [];
  const errors: Error[] = [];
  const notifiers = new Set<() => void>();
  const notify = () => [...notifiers].forEach((n) => n());
  const unsubscribe = client.onUpdate(
    query,
    args as never,
    (value: T) => {
      values.push(value);
      notify();
    },
    (error: Error) => {
      errors.push(error);
      notify();
    },
  );
  return {
    values,
    errors,
    unsubscribe,
    current: () => unsubscribe.getCurrentValue() as T | undefined,
    get last(): T | undefined {
      return values[values.length - 1];
    },
    until: (predicate: (last: T | undefined) => boolean, what = "a value", timeoutMs?: number) =>
      until(
        notifiers,
        () => values.length > 0 && predicate(values[values.length - 1]),
        () =>
          `${what}; last value ${JSON.stringify(values[values.length - 1])}, errors ${errors.map((e) => e.message).join(" | ")}`,
        timeoutMs,
      ),
    untilError: (what = "an error") =>
      until(
        notifiers,
        () => errors.length > 0,
        () => `${what}; values ${JSON.stringify(values)}`,
      ),
  };
}

/** What a caller observed from a promise that should reject. */
async function rejection(promise: Promise<unknown>): Promise<Error & { data?: unknown }> {
  try {
    const value = await promise;
    throw new Error(`Expected a rejection, got ${JSON.stringify(value)}`);
  } catch (error) {
    if (error instanceof Error && error.message.startsWith("Expected a rejection")) throw error;
    return error as Error & { data?: unknown };
  }
}

function expectConvexError(error: Error & { data?: unknown }, data: unknown): void {
  expect(error).toBeInstanceOf(ConvexError);
  expect(error.data).toEqual(data);
}

function expectPlainError(error: Error & { data?: unknown }, message: string): void {
  expect(error).toBeInstanceOf(Error);
  expect(error).not.toBeInstanceOf(ConvexError);
  expect(error.data).toBeUndefined();
  expect(error.message).toContain(message);
}

describe("conformance: real Convex clients against a generic functions folder", () => {
  let server: TestServer;
  const open: ConvexClient[] = [];
  const client = (options: Record<string, unknown> = {}) => {
    const c = wsClient(server.url, options);
    open.push(c);
    return c;
  };

  beforeAll(async () => {
    server = await startServer({ functionsDir: FIXTURE_FUNCTIONS });
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("pushes the initial value, then writes by an HTTP client and by another WebSocket client", async () => {
    const tag = unique("live");
    const reader = client();
    const writer = client();
    const http = httpClient(server.url);

    const list = watch<Note[]>(reader, api.notes.listByTag, { tag });
    await list.until((v) => Array.isArray(v) && v.length === 0, "the initial empty list");

    const fromHttp = await http.mutation(api.notes.add, { author: "ann", body: "from http", tag });
    await list.until((v) => v?.length === 1, "the HTTP client's insert");
    expect(list.last!.map((n) => n.body)).toEqual(["from http"]);

    const one = watch<Note | null>(reader, api.notes.get, { id: fromHttp });
    await one.until((v) => v?.body === "from http", "get by id");

    await writer.mutation(api.notes.add, { author: "bob", body: "from ws", tag });
    await list.until((v) => v?.length === 2, "the other WebSocket client's insert");
    expect(list.last!.map((n) => n.body)).toEqual(["from http", "from ws"]);

    await writer.mutation(api.notes.rename, { id: fromHttp as never, body: "renamed" });
    await one.until((v) => v?.body === "renamed", "the patched document by id");
    await list.until((v) => v?.[0]?.body === "renamed", "the patched document in the list");

    await http.mutation(api.notes.remove, { id: fromHttp as never });
    await one.until((v) => v === null, "the deleted document to read as null");
    await list.until((v) => v?.length === 1, "the deletion in the list");
    expect(list.errors).toEqual([]);
  });

  it("shows a client its own write in its subscriptions by the time the mutation resolves", async () => {
    const tag = unique("ryw");
    const c = client();
    const list = watch<Note[]>(c, api.notes.listByTag, { tag });
    await list.until((v) => v?.length === 0, "the initial empty list");
    for (let i = 0; i < 5; i++) {
      const id = await c.mutation(api.notes.add, { author: "me", body: `write ${i}`, tag });
      // No waiting: the transition that resolved the mutation already carried the new result.
      expect(list.current()!.map((n) => n._id)).toContain(id);
      expect(list.last!.map((n) => n._id)).toContain(id);
      expect(list.last).toHaveLength(i + 1);
    }
  });

  it("applies unawaited mutations from one client in the order they were sent", async () => {
    const name = unique("order");
    const c = client();
    const value = watch<number>(c, api.counters.get, { name });
    await value.until((v) => v === 0, "the initial counter");
    const pending = Array.from({ length: 20 }, () => c.mutation(api.counters.increment, { name }));
    const results = await Promise.all(pending);
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(value.current()).toBe(20);
    // Every value the subscription showed is a prefix of the sequence, never out of order.
    for (let i = 1; i < value.values.length; i++)
      expect(value.values[i]).toBeGreaterThanOrEqual(value.values[i - 1]);
    expect(value.last).toBe(20);
  });

  it("runs actions over WebSocket and HTTP, including ones that call internal functions", async () => {
    const c = client();
    const http = httpClient(server.url);
    expect(await c.action(api.notes.echo, { text: "hi" })).toEqual({ echoed: "hi", at: "number" });
    expect(await http.action(api.notes.echo, { text: "yo" })).toEqual({ echoed: "yo", at: "number" });

    const author = unique("actor");
    const first = await c.action(api.notes.addViaInternal, { author, body: "one", tag: "actions" });
    expect(first.countForAuthor).toBe(1);
    const second = await http.action(api.notes.addViaInternal, { author, body: "two", tag: "actions" });
    expect(second.countForAuthor).toBe(2);
    expect(await http.query(api.notes.get, { id: first.id as never })).toMatchObject({ author, body: "one" });
    expect(await c.query(api.notes.get, { id: second.id as never })).toMatchObject({ author, body: "two" });
  });

  it("delivers ConvexError data to a WebSocket client for mutations, queries and actions", async () => {
    const c = client();
    const id = unique("missing");
    const expected = { code: "NOT_FOUND", message: `No note ${id}` };

    const fromMutation = await rejection(c.mutation(api.notes.failWithData, { id }));
    expectConvexError(fromMutation, expected);
    // The failed mutation's insert was rolled back.
    expect(await c.query(api.notes.listByTag, { tag: "rollback" })).toEqual([]);

    expectConvexError(await rejection(c.query(api.notes.queryFailWithData, { id })), expected);
    const sub = watch(c, api.notes.queryFailWithData, { id });
    await sub.untilError("the subscription's error");
    expectConvexError(sub.errors[0], expected);

    expectConvexError(await rejection(c.action(api.notes.actionFailWithData, { id })), expected);
  });

  it("delivers ConvexError data to an HTTP client for mutations, queries and actions", async () => {
    const http = httpClient(server.url);
    const id = unique("missing");
    const expected = { code: "NOT_FOUND", message: `No note ${id}` };
    expectConvexError(await rejection(http.mutation(api.notes.failWithData, { id })), expected);
    expectConvexError(await rejection(http.query(api.notes.queryFailWithData, { id })), expected);
    expectConvexError(await rejection(http.action(api.notes.actionFailWithData, { id })), expected);
    // Also the ConvexError a real mutation throws after reading: a missing document.
    const noteId = await http.mutation(api.notes.add, { author: "x", body: "x", tag: unique("gone") });
    await http.mutation(api.notes.remove, { id: noteId as never });
    expectConvexError(await rejection(http.mutation(api.notes.rename, { id: noteId as never, body: "y" })), {
      code: "NOT_FOUND",
      message: `No note ${noteId}`,
    });
  });

  it("moves a live subscription from a value to a ConvexError and back as data changes", async () => {
    const c = client();
    const http = httpClient(server.url);
    const sub = watch<string>(c, api.notes.failsWhilePoisoned, {});
    await sub.until((v) => v === "healthy", "the healthy value");
    const poison = await http.mutation(api.notes.add, { author: "p", body: "bad apple", tag: "poison" });
    await sub.untilError("the subscription to fail");
    expectConvexError(sub.errors[0], { code: "POISONED", message: "bad apple" });
    const before = sub.values.length;
    await http.mutation(api.notes.remove, { id: poison as never });
    await sub.until(() => sub.values.length > before, "the subscription to recover");
    expect(sub.last).toBe("healthy");
  });

  it("delivers plain Error messages without data, over WebSocket and HTTP", async () => {
    const c = client();
    const http = httpClient(server.url);
    expectPlainError(await rejection(c.mutation(api.notes.failPlain, {})), "plain mutation failure");
    expectPlainError(await rejection(c.query(api.notes.queryFailPlain, {})), "plain query failure");
    expectPlainError(await rejection(c.action(api.notes.actionFailPlain, {})), "plain action failure");
    expectPlainError(await rejection(http.mutation(api.notes.failPlain, {})), "plain mutation failure");
    expectPlainError(await rejection(http.query(api.notes.queryFailPlain, {})), "plain query failure");
    expectPlainError(await rejection(http.action(api.notes.actionFailPlain, {})), "plain action failure");
  });

  // Each page's end cursor is pinned by the journal of its first run, so pages never skip or repeat rows.
  it("paginates without skipping or repeating rows while another client inserts concurrently", async () => {
    const p = unique("pg");
    const from = `${p}-`;
    const to = `${p}.`; // "." sorts right after "-"
    const author = (n: number) => `${p}-${String(n).padStart(4, "0")}`;
    const http = httpClient(server.url);
    const other = client();
    const c = client();
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        http.mutation(api.notes.add, { author: author((i + 1) * 10), body: "seed", tag: p }),
      ),
    );

    type Page = { results: Note[]; status: string; loadMore: (n: number) => boolean };
    const seen: Page[] = [];
    const notifiers = new Set<() => void>();
    const unsubscribe = c.onPaginatedUpdate_experimental(
      api.notes.paginateByAuthor,
      { from, to } as never,
      { initialNumItems: 5 },
      // The client passes its paginated-query state ({ results, status, loadMore }), not the
      // server page its type declaration names.
      (result: unknown) => {
        const page = result as Page;
        seen.push({ ...page, results: [...page.results] });
        [...notifiers].forEach((n) => n());
      },
      (error: Error) => {
        throw error;
      },
    );
    const current = () => unsubscribe.getCurrentValue() as unknown as Page;
    const settled = (count: number) =>
      until(
        notifiers,
        () => current()?.status === "CanLoadMore" && current().results.length >= count,
        () =>
          `${count} loaded rows; have ${JSON.stringify(current()?.results.map((n) => n.author))} (${current()?.status})`,
      );
    const insert = (n: number, via: "http" | "ws") =>
      via === "http"
        ? http.mutation(api.notes.add, { author: author(n), body: "inserted", tag: p })
        : other.mutation(api.notes.add, { author: author(n), body: "inserted", tag: p });

    await settled(5);
    expect(current().results.map((n) => n.author)).toEqual([10, 20, 30, 40, 50].map(author));

    // Page 2 loads while rows land before page 1, inside it, at its boundary and beyond.
    expect(current().loadMore(5)).toBe(true);
    const wave1 = [
      insert(5, "http"),
      insert(45, "ws"),
      insert(51, "http"),
      insert(55, "ws"),
      insert(95, "http"),
      insert(205, "ws"),
    ];
    await Promise.all(wave1);
    await settled(10);

    // Page 3 loads while rows land in every loaded page and after them.
    expect(current().loadMore(5)).toBe(true);
    const wave2 = [
      insert(15, "ws"),
      insert(1, "http"),
      insert(65, "ws"),
      insert(101, "http"),
      insert(125, "ws"),
      insert(305, "http"),
    ];
    await Promise.all(wave2);
    await settled(15);
    const wave3 = [
      insert(2, "http"),
      insert(46, "ws"),
      insert(135, "http"),
      insert(155, "ws"),
      insert(3000, "http"),
    ];
    await Promise.all(wave3);

    // Barrier: once the client's own mutation resolved, its subscriptions reflect every insert above.
    await c.mutation(api.notes.add, { author: `${p}/barrier`, body: "outside the range", tag: "barrier" });
    await settled(15);
    const all = (await http.query(api.notes.listByTag, { tag: p })) as Note[];
    const sorted = all.map((n) => n.author).sort();
    const loaded = current().results.map((n) => n.author);
    const lastLoaded = loaded[loaded.length - 1];
    // The loaded pages are exactly the rows of the range up to the last loaded row, in order.
    expect(loaded).toEqual(sorted.filter((a) => a <= lastLoaded));
    // Every row inserted inside the first three pages is there, and the pages did not grow past where they ended.
    for (const n of [1, 2, 5, 15, 45, 46, 51, 55, 65, 95, 101, 125, 135]) expect(loaded).toContain(author(n));
    expect(loaded).not.toContain(author(155));

    // Loading the rest ends with every row exactly once.
    expect(current().loadMore(100)).toBe(true);
    await until(
      notifiers,
      () => current()?.status === "Exhausted",
      () => `the last page; status ${current()?.status}`,
    );
    expect(current().results.map((n) => n.author)).toEqual(sorted);

    // No update the client ever showed had a duplicate or was out of order.
    for (const page of seen) {
      const authors = page.results.map((n) => n.author);
      expect(new Set(authors).size).toBe(authors.length);
      expect(authors).toEqual([...authors].sort());
    }
    unsubscribe();
  });

  describe("reconnecting without running a mutation twice", () => {
    type Mode = "socket drops as the mutation is sent" | "response is lost" | "confirming transition is lost";
    const modes: Mode[] = [
      "socket drops as the mutation is sent",
      "response is lost",
      "confirming transition is lost",
    ];

    it.each(modes)("when the %s", async (mode) => {
      const tag = unique("once");
      const sockets: WebSocket[] = [];
      const sentMutations: { socket: number; requestId: number }[] = [];
      let targetRequestId: number | null = null;
      /** The connection the test dropped (at most one). */
      const killed = new Set<WebSocket>();
      let responseSeen = false;
      const messageDescriptor = Object.getOwnPropertyDescriptor(WebSocket.prototype, "onmessage")!;

      /** The real `ws` class with a tap on what the Convex client sends and receives. */
      class TappedWebSocket extends WebSocket {
        constructor(address: string, protocols?: string | string[]) {
          super(address, protocols);
          sockets.push(this);
          Object.defineProperty(this, "onmessage", {
            configurable: true,
            get: () => messageDescriptor.get!.call(this),
            set: (handler: ((event: WebSocket.MessageEvent) => void) | null) =>
              messageDescriptor.set!.call(
                this,
                handler &&
                  ((event: WebSocket.MessageEvent) => {
                    if (killed.has(this)) return; // nothing more arrives on a dropped connection
                    const message = JSON.parse(String(event.data));
                    const isTarget =
                      message.type === "MutationResponse" && message.requestId === targetRequestId;
                    if (isTarget) responseSeen = true;
                    if (isTarget && killed.size === 0 && mode === "response is lost") {
                      killed.add(this);
                      this.terminate();
                      return;
                    }
                    handler.call(this, event);
                    if (isTarget && killed.size === 0 && mode === "confirming transition is lost") {
                      killed.add(this);
                      this.terminate();
                    }
                  }),
              ),
          });
        }

        override send(data: Parameters<WebSocket["send"]>[0], ...rest: unknown[]): void {
          const message = JSON.parse(String(data));
          if (message.type === "Mutation" && message.udfPath.startsWith("notes:add")) {
            targetRequestId ??= message.requestId;
            sentMutations.push({ socket: sockets.indexOf(this), requestId: message.requestId });
            if (killed.size === 0 && mode === "socket drops as the mutation is sent") {
              killed.add(this);
              super.send(data, () => this.terminate());
              return;
            }
          }
          (super.send as (...a: unknown[]) => void)(data, ...rest);
        }
      }

      const c = client({ webSocketConstructor: TappedWebSocket });
      const list = watch<Note[]>(c, api.notes.listByTag, { tag });
      await list.until((v) => v?.length === 0, "the initial empty list");

      const id = await c.mutation(api.notes.add, { author: "once", body: mode, tag });

      // The connection really dropped and the client sent the same request again on a new one.
      expect(killed.size).toBe(1);
      expect(sockets.length).toBeGreaterThanOrEqual(2);
      const resent = sentMutations.filter((m) => m.requestId === targetRequestId);
      expect(new Set(resent.map((m) => m.socket)).size).toBeGreaterThanOrEqual(2);
      if (mode !== "socket drops as the mutation is sent") expect(responseSeen).toBe(true);

      // It ran exactly once, the promise resolved with that row, and the client is live again.
      const rows = (await httpClient(server.url).query(api.notes.listByTag, { tag })) as Note[];
      expect(rows.map((r) => r._id)).toEqual([id]);
      expect(list.current()!.map((r) => r._id)).toEqual([id]);
      await httpClient(server.url).mutation(api.notes.add, { author: "after", body: "after", tag });
      await list.until((v) => v?.length === 2, "an update after the reconnect");
    });
  });

  it("keeps internal functions away from clients but lets the admin key call them", async () => {
    const http = httpClient(server.url);
    const c = client();
    const notFound = (name: string) => new RegExp(`Could not find public function for '${name}'`);
    const args = { author: unique("int"), body: "b", tag: "internal" };

    await expect(http.mutation(byName<"mutation">(internal.notes.insertInternal), args)).rejects.toThrow(
      notFound("notes:insertInternal"),
    );
    await expect(
      http.query(byName<"query">(internal.notes.countByAuthorInternal), { author: args.author }),
    ).rejects.toThrow(notFound("notes:countByAuthorInternal"));
    await expect(c.mutation(byName<"mutation">(internal.notes.insertInternal), args)).rejects.toThrow(
      notFound("notes:insertInternal"),
    );
    await expect(
      c.query(byName<"query">(internal.notes.countByAuthorInternal), { author: args.author }),
    ).rejects.toThrow(notFound("notes:countByAuthorInternal"));
    // Nothing was written by the refused calls.
    expect(await http.query(api.notes.listByTag, { tag: "internal" })).toEqual([]);
    // Not even through the generic endpoint.
    const viaFunction = await fetch(`${server.url}/api/function`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ path: "notes:insertInternal", format: "convex_encoded_json", args }),
    });
    expect(viaFunction.status).toBe(560);
    expect((await viaFunction.json()).errorMessage).toMatch(notFound("notes:insertInternal"));

    const admin = adminClient(server);
    await admin.mutation(byName<"mutation">(internal.notes.insertInternal), args);
    expect(
      await admin.query(byName<"query">(internal.notes.countByAuthorInternal), { author: args.author }),
    ).toBe(1);

    const adminWs = client();
    (adminWs.client as unknown as AdminAuth).setAdminAuth(server.adminKey);
    expect(
      await adminWs.query(byName<"query">(internal.notes.countByAuthorInternal), { author: args.author }),
    ).toBe(1);
    await adminWs.mutation(byName<"mutation">(internal.notes.insertInternal), args);
    expect(
      await admin.query(byName<"query">(internal.notes.countByAuthorInternal), { author: args.author }),
    ).toBe(2);
  });

  it("refuses to run a function as a kind it is not", async () => {
    const http = httpClient(server.url);
    const c = client();
    await expect(c.mutation(byName<"mutation">(api.notes.list), {})).rejects.toThrow(
      /notes:list.*as Mutation.*defined as Query/s,
    );
    await expect(http.mutation(byName<"mutation">(api.notes.list), {})).rejects.toThrow(
      /notes:list.*as Mutation.*defined as Query/s,
    );
    await expect(http.query(byName<"query">(api.notes.add), {})).rejects.toThrow(
      /notes:add.*as Query.*defined as Mutation/s,
    );
    await expect(c.action(byName<"action">(api.notes.list), {})).rejects.toThrow(
      /notes:list.*as Action.*defined as Query/s,
    );
    await expect(c.query(byName<"query">(api.notes.echo), { text: "x" })).rejects.toThrow(
      /notes:echo.*as Query.*defined as Action/s,
    );
  });

  it("gives functions the caller's identity: none for anonymous clients, the acting identity for admins", async () => {
    expect(await httpClient(server.url).query(api.notes.whoami, {})).toBeNull();
    expect(await client().query(api.notes.whoami, {})).toBeNull();
    const admin = httpClient(server.url);
    (admin as unknown as AdminAuth).setAdminAuth(server.adminKey, {
      subject: "user-7",
      issuer: "https://issuer.example",
    });
    expect(await admin.query(api.notes.whoami, {})).toEqual({
      subject: "user-7",
      tokenIdentifier: "https://issuer.example|user-7",
    });
  });

  describe("alongside a server hosting this product's functions in the same process", () => {
    let appServer: TestServer;
    beforeAll(async () => {
      appServer = await startServer();
    });
    afterAll(async () => {
      await appServer?.stop();
    });

    it("each server sees only its own functions and data", async () => {
      const fixtureHttp = httpClient(server.url);
      const appHttp = httpClient(appServer.url);
      expect(appServer.url).not.toBe(server.url);

      const tag = unique("iso");
      const fixtureWs = client();
      const appWs = wsClient(appServer.url);
      open.push(appWs);
      const notes = watch<Note[]>(fixtureWs, api.notes.listByTag, { tag });
      const status = watch<FunctionReturnType<typeof appApi.system.status>>(appWs, appApi.system.status, {});
      await notes.until((v) => v?.length === 0, "the fixture's empty list");
      await status.until((v) => v !== undefined, "the app's status");

      await fixtureHttp.mutation(api.notes.add, { author: "iso", body: "fixture only", tag });
      await notes.until((v) => v?.length === 1, "the fixture's insert");

      await expect(appHttp.query(api.notes.listByTag, { tag })).rejects.toThrow(
        /Could not find public function for 'notes:listByTag'/,
      );
      await expect(fixtureHttp.query(appApi.system.status, {})).rejects.toThrow(
        /Could not find public function for 'system:status'/,
      );
      await expect(appWs.query(api.notes.list, {})).rejects.toThrow(
        /Could not find public function for 'notes:list'/,
      );

      const tables = async (url: string) =>
        ((await (await fetch(`${url}/_local/tables`)).json()) as { tables: Record<string, number> }).tables;
      const fixtureTables = await tables(server.url);
      const appTables = await tables(appServer.url);
      expect(fixtureTables.notes).toBeGreaterThan(0);
      expect(Object.keys(fixtureTables)).not.toContain("jobStatus");
      expect(Object.keys(appTables)).toContain("jobStatus");
      expect(Object.keys(appTables)).not.toContain("notes");

      // The other server's admin key is not this one's.
      expect(appServer.adminKey).not.toBe(server.adminKey);
      await expect(
        adminClient({ url: server.url, adminKey: appServer.adminKey }).query(
          byName<"query">(internal.notes.countByAuthorInternal),
          { author: "iso" },
        ),
      ).rejects.toThrow();
    });

    // Environment variables are per deployment even when several servers share a process.
    it("each server tells its functions its own deployment URL (process.env.CONVEX_CLOUD_URL)", async () => {
      expect(await httpClient(server.url).query(api.notes.deploymentUrl, {})).toBe(server.url);
    });
  });
});
