// Convex over plain HTTP for loaders (Node 20 has no global WebSocket): reads for first paint.
import { ConvexHttpClient } from "convex/browser";
import { getEnv } from "./env.server";

export type ConvexHttpOptions = {
  /** Abort a request after this many milliseconds, so a slow backend cannot hold a page. */
  timeoutMs?: number;
};

/**
 * A fresh client per call: the HTTP client keeps auth state, so sharing one across requests
 * could carry one user's token into another's request once authenticated reads arrive.
 */
export function getConvexHttpClient({ timeoutMs = 2_000 }: ConvexHttpOptions = {}) {
  return new ConvexHttpClient(getEnv().CONVEX_URL, {
    logger: false,
    fetch: (input, init) =>
      fetch(input, {
        ...init,
        signal: init?.signal
          ? AbortSignal.any([init.signal, AbortSignal.timeout(timeoutMs)])
          : AbortSignal.timeout(timeoutMs),
      }),
  });
}
