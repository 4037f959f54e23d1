/**
 * Many async-local stores on one AsyncLocalStorage.
 *
 * The engine keeps nine async-local values (convex-test's running function, transaction, auth,
 * request metadata and global overrides; the engine's own call record, job origin and engine). On
 * Node 20 every AsyncLocalStorage in use copies its value onto every promise the process creates,
 * so nine of them cost nine copies per promise: 4–5 % of the server's time at 80 sends/s.
 * `FrameStorage` has AsyncLocalStorage's `run`, `exit` and `getStore`, but keeps its value in a
 * frame (a map from storage to value) held by one shared AsyncLocalStorage: one copy per promise.
 * A frame is never changed once made; `run` and `exit` make a new one.
 */
import { AsyncLocalStorage } from "node:async_hooks";

type Frame = ReadonlyMap<object, unknown>;

const frames = new AsyncLocalStorage<Frame>();

export class FrameStorage<T> {
  getStore(): T | undefined {
    return frames.getStore()?.get(this) as T | undefined;
  }

  /** Runs `fn` with this storage's value set to `store` (and every other storage's unchanged). */
  run<R, A extends unknown[]>(store: T, fn: (...args: A) => R, ...args: A): R {
    const frame = new Map(frames.getStore());
    frame.set(this, store);
    return frames.run(frame, fn, ...args);
  }

  /** Runs `fn` with this storage's value unset (and every other storage's unchanged). */
  exit<R, A extends unknown[]>(fn: (...args: A) => R, ...args: A): R {
    const current = frames.getStore();
    if (!current?.has(this)) return fn(...args);
    const frame = new Map(current);
    frame.delete(this);
    return frames.run(frame, fn, ...args);
  }
}

/** Where the patched convex-test module finds `FrameStorage` (convexTestAdapter.ts). */
export const FRAME_STORAGE_GLOBAL = Symbol.for("switchboard.local-convex.FrameStorage");
(globalThis as Record<symbol, unknown>)[FRAME_STORAGE_GLOBAL] = FrameStorage;
