/**
 * Live query results shared by every connection that asks for the same query, arguments,
 * identity and journal. A commit re-runs only the instances whose read set it touched.
 */
import { convexToJson, type JSONValue, type Value } from "convex/values";
import type { Caller, CommitEvent, Engine } from "./engine.js";
import { FunctionError } from "./engine.js";
import { ReadIndex, ReadSet } from "./readSet.js";

export type QueryOutcome =
  | { ok: true; value: JSONValue; logLines: string[]; journal: string | null }
  | { ok: false; message: string; data?: JSONValue; logLines: string[]; journal: string | null };

export interface Subscriber {
  /** Called synchronously when the instance's result may have changed. */
  invalidated(): void;
}

export class QueryInstance {
  outcome: QueryOutcome | null = null;
  /** Bumped each time the outcome changes, so connections send only what changed. */
  version = 0;
  readSet: ReadSet | null = null;
  dirty = true;
  /** The first commit that made the current outcome stale (null while it is current). */
  staleSince: bigint | null = null;
  running: Promise<void> | null = null;
  readonly subscribers = new Set<Subscriber>();
  /** Identifies the outcome's content, to tell whether two instances answer the same. */
  outcomeKey = "";

  constructor(
    readonly key: string,
    readonly udfPath: string,
    readonly args: Record<string, Value>,
    readonly caller: Caller,
    readonly journal: string | null,
  ) {}

  setOutcome(outcome: QueryOutcome): void {
    const key = JSON.stringify(
      outcome.ok ? [1, outcome.value, outcome.journal] : [0, outcome.message, outcome.data ?? null],
    );
    if (key !== this.outcomeKey || this.outcome === null) this.version += 1;
    this.outcomeKey = key;
    this.outcome = outcome;
  }
}

export class QueryCache {
  private instances = new Map<string, QueryInstance>();
  private readers = new ReadIndex<QueryInstance>();

  constructor(private readonly engine: Engine) {
    engine.onCommit((event) => this.onCommit(event));
  }

  get size(): number {
    return this.instances.size;
  }

  acquire(
    udfPath: string,
    args: Record<string, Value>,
    caller: Caller,
    callerKey: string,
    journal: string | null,
    subscriber: Subscriber,
  ): QueryInstance {
    const key = JSON.stringify([udfPath, convexToJson(args as Value), callerKey, journal]);
    let instance = this.instances.get(key);
    if (!instance) {
      instance = new QueryInstance(key, udfPath, args, caller, journal);
      this.instances.set(key, instance);
    }
    instance.subscribers.add(subscriber);
    return instance;
  }

  release(instance: QueryInstance, subscriber: Subscriber): void {
    instance.subscribers.delete(subscriber);
    if (instance.subscribers.size === 0) {
      this.instances.delete(instance.key);
      this.unindex(instance);
    }
  }

  /**
   * A query whose first run produced a journal (a paginated page's end cursor) continues as the
   * instance keyed by that journal, so later re-runs keep the page's end where it was, as Convex
   * does. The new instance starts from the old one's result when that result is current.
   */
  pin(instance: QueryInstance, journal: string, callerKey: string, subscriber: Subscriber): QueryInstance {
    const pinned = this.acquire(
      instance.udfPath,
      instance.args,
      instance.caller,
      callerKey,
      journal,
      subscriber,
    );
    if (pinned.outcome === null && instance.outcome && !instance.dirty) {
      pinned.setOutcome(instance.outcome);
      pinned.readSet = instance.readSet;
      pinned.dirty = false;
      this.index(pinned);
    }
    this.release(instance, subscriber);
    return pinned;
  }

  /** Re-runs the instance until its result is current; concurrent callers share one run. */
  async ensureFresh(instance: QueryInstance): Promise<void> {
    while (instance.dirty) {
      instance.running ??= this.compute(instance).finally(() => {
        instance.running = null;
      });
      await instance.running;
    }
  }

  /** Marks every instance stale, e.g. after new function code was loaded. */
  invalidateAll(): void {
    for (const instance of this.instances.values()) this.invalidate(instance, this.engine.lastCommitTs + 1n);
  }

  private async compute(instance: QueryInstance): Promise<void> {
    const readSet = new ReadSet();
    let settled = false;
    this.engine.metrics.counters.subscriptionRuns += 1;
    const settle = () => {
      if (settled) return;
      settled = true;
      // Runs inside the query's transaction: commits after this point re-mark it dirty.
      instance.dirty = false;
      instance.staleSince = null;
      this.unindex(instance);
      instance.readSet = readSet;
      if (this.instances.get(instance.key) === instance) this.index(instance);
    };
    let outcome: QueryOutcome;
    try {
      const result = await this.engine.call(instance.udfPath, instance.args, {
        caller: instance.caller,
        expect: "query",
        readSet,
        journal: instance.journal,
        onQueryEnd: settle,
      });
      outcome = {
        ok: true,
        value: convexToJson(result.value),
        logLines: result.logLines,
        journal: result.journal,
      };
    } catch (error) {
      const e = error instanceof FunctionError ? error : new FunctionError(String(error), undefined, []);
      outcome = {
        ok: false,
        message: e.message,
        data: e.data,
        logLines: e.logLines,
        journal: instance.journal,
      };
    }
    // A call that failed before its transaction began (unknown function, bad arguments)
    // read nothing; it stays as it is until the code or the arguments change.
    settle();
    instance.setOutcome(outcome);
  }

  private onCommit(event: CommitEvent): void {
    this.engine.metrics.counters.commits += 1;
    for (const write of event.writes) {
      for (const instance of this.readers.candidates(write.table, write.before, write.after)) {
        if (!instance.dirty && instance.readSet?.touchedBy(write.table, write.before, write.after)) {
          this.invalidate(instance, event.ts);
        }
      }
    }
  }

  private invalidate(instance: QueryInstance, staleSince: bigint): void {
    instance.dirty = true;
    instance.staleSince ??= staleSince;
    for (const s of instance.subscribers) s.invalidated();
  }

  private index(instance: QueryInstance): void {
    if (instance.readSet) this.readers.add(instance, instance.readSet);
  }

  private unindex(instance: QueryInstance): void {
    this.readers.remove(instance);
  }
}
