/**
 * Node's own timers and console, captured before the engine replaces anything, and a way to run
 * callbacks outside whatever function context is current. Shared by the engine and the scheduler
 * (so neither imports the other for them).
 */
import { AsyncLocalStorage } from "node:async_hooks";

export const realSetTimeout = globalThis.setTimeout.bind(globalThis);
export const realClearTimeout = globalThis.clearTimeout.bind(globalThis);
export const realConsole: Console = { ...console };
/** Runs callbacks outside whatever function context happens to be current. */
export const runDetached = AsyncLocalStorage.snapshot();
