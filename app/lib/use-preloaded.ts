// The browser half of first paint with data (lib/preload.server.ts): a page shows what its
// loader read, then follows the live query. This is Convex's `usePreloadedQuery`, with one
// difference: the live subscription starts once the browser's Convex connection has confirmed
// the sign-in, so a query that needs the user never runs without one while the token is fetched.
import { useConvexAuth, useQuery, type Preloaded } from "convex/react";
import {
  getFunctionName,
  type FunctionArgs,
  type FunctionReference,
  type FunctionReturnType,
} from "convex/server";
import { convexToJson, jsonToConvex, type JSONValue, type Value } from "convex/values";
import { useMemo } from "react";

type Query = FunctionReference<"query">;

/**
 * `ref(args)` live, starting from `preloaded` when it is the loader's read of the same query
 * with the same arguments. Undefined while neither has a value (no preload: loading as usual).
 */
export function usePreloaded<Q extends Query>(
  ref: Q,
  args: FunctionArgs<Q> | "skip",
  preloaded: Preloaded<Q> | null | undefined,
): FunctionReturnType<Q> | undefined {
  const { isAuthenticated } = useConvexAuth();
  const live = useQuery(ref, isAuthenticated ? args : "skip");
  const initial = usePreloadedValue(ref, args, preloaded);
  return live === undefined ? initial : live;
}

/**
 * The value a loader preloaded for `ref(args)`, without subscribing: for a page whose live data
 * comes from another hook (a paginated query) and shows the loader's read until that answers.
 */
export function usePreloadedValue<Q extends Query>(
  ref: Q,
  args: FunctionArgs<Q> | "skip",
  preloaded: Preloaded<Q> | null | undefined,
): FunctionReturnType<Q> | undefined {
  const argsKey = args === "skip" ? null : JSON.stringify(convexToJson(args as Value));
  return useMemo(() => {
    if (!preloaded || argsKey === null) return undefined;
    if (preloaded._name !== getFunctionName(ref)) return undefined;
    if (JSON.stringify(preloaded._argsJSON) !== argsKey) return undefined;
    return jsonToConvex(preloaded._valueJSON as unknown as JSONValue) as FunctionReturnType<Q>;
  }, [preloaded, ref, argsKey]);
}
