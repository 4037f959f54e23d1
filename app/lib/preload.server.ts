// First paint with data: loaders read a page's first Convex data as the signed-in user and hand
// it to the page as Convex's `Preloaded` payload (the shape `convex/nextjs`'s preloadQuery makes),
// so the server-rendered HTML already shows it; the page then stays live (lib/use-preloaded.ts).
import type { Preloaded } from "convex/react";
import {
  getFunctionName,
  type FunctionArgs,
  type FunctionReference,
  type FunctionReturnType,
} from "convex/server";
import { convexToJson, type Value } from "convex/values";
import { captureException } from "@sentry/remix";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { getConvexClientForRequest } from "./auth.server";
import { logger } from "./logger.server";

type Query = FunctionReference<"query">;

/**
 * One Convex client per request (its token minted once) and each query read once, even when the
 * layout's loader and the page's loader both need it.
 */
const perRequest = new WeakMap<
  Request,
  { client: ReturnType<typeof getConvexClientForRequest>; reads: Map<string, Promise<unknown>> }
>();

function stateFor(request: Request) {
  let state = perRequest.get(request);
  if (!state) {
    state = { client: getConvexClientForRequest(request), reads: new Map() };
    perRequest.set(request, state);
  }
  return state;
}

/** Answers that mean "not for you" or "no such thing" (bad ids in the address included), not trouble. */
const REFUSALS = /UNAUTHENTICATED|FORBIDDEN|NOT_FOUND|ArgumentValidationError/;

/**
 * Runs `ref(args)` as the request's user. Null when it fails for any reason: not signed in, no
 * access, a slow or unreachable backend. The page then loads the data itself and shows the
 * refusal or problem exactly as it would without preloading, so nothing leaks through here.
 */
async function read<Q extends Query>(request: Request, ref: Q, args: FunctionArgs<Q>) {
  const state = stateFor(request);
  const name = getFunctionName(ref);
  const argsJSON = convexToJson(args as Value);
  const key = `${name}:${JSON.stringify(argsJSON)}`;
  let pending = state.reads.get(key);
  if (!pending) {
    pending = state.client
      .then((client) => client.query(ref, args))
      .then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => {
          const message = error instanceof Error ? error.message : String(error);
          if (!REFUSALS.test(message)) {
            logger.warn({ query: name, err: message }, "preload failed");
            // The page still works (it loads the data itself), but a backend that fails first
            // paints is worth knowing about: reported as a warning, tagged with the query.
            captureException(error, {
              level: "warning",
              tags: { source: "convex-preload", convexFunction: name },
            });
          }
          return { ok: false as const };
        },
      );
    state.reads.set(key, pending);
  }
  const result = (await pending) as { ok: true; value: unknown } | { ok: false };
  return { name, argsJSON, result };
}

/**
 * `ref(args)` read as the request's user, as a `Preloaded` payload for the page; null if it
 * failed. Built exactly as `convex/nextjs`'s preloadQuery builds it (JSON values under the
 * `…JSON` keys), so Convex's own `usePreloadedQuery` reads it too.
 */
export async function preload<Q extends Query>(
  request: Request,
  ref: Q,
  args: FunctionArgs<Q>,
): Promise<Preloaded<Q> | null> {
  const { name, argsJSON, result } = await read(request, ref, args);
  if (!result.ok) return null;
  return {
    _name: name,
    _argsJSON: argsJSON,
    _valueJSON: convexToJson(result.value as Value),
  } as unknown as Preloaded<Q>;
}

/**
 * `ref(args)` as a `Preloaded` payload and its value, for a loader that needs the value to choose
 * its next reads (each query is still read once per request). Nulls when the read failed.
 */
export async function preloadWithValue<Q extends Query>(
  request: Request,
  ref: Q,
  args: FunctionArgs<Q>,
): Promise<{ preloaded: Preloaded<Q> | null; value: FunctionReturnType<Q> | null }> {
  const { result } = await read(request, ref, args);
  return {
    preloaded: await preload(request, ref, args),
    value: result.ok ? (result.value as FunctionReturnType<Q>) : null,
  };
}

/** The workspace at `slug` as the request's user sees it, and its id; nulls when they cannot. */
export async function preloadTenant(request: Request, slug: string) {
  const { result } = await read(request, api.tenants.bySlug, { slug });
  const tenant = result.ok ? (result.value as { tenantId: Id<"tenants"> } | null) : null;
  return {
    preloaded: await preload(request, api.tenants.bySlug, { slug }),
    tenantId: tenant?.tenantId ?? null,
  };
}
