// First paint for paginated lists: `usePaginatedQuery`, starting from the loader's read of the
// first page (lib/preload.server.ts) until the live query has its own. Like `usePreloaded`, the
// live subscription starts once the browser's sign-in is confirmed.
import {
  useConvexAuth,
  usePaginatedQuery,
  type PaginatedQueryArgs,
  type PaginatedQueryItem,
  type PaginatedQueryReference,
  type Preloaded,
  type UsePaginatedQueryResult,
} from "convex/react";
import { getFunctionName } from "convex/server";
import { convexToJson, jsonToConvex, type JSONValue, type Value } from "convex/values";
import { useMemo } from "react";

/** The arguments a loader preloads the first page with (the same the live query starts from). */
export function firstPageArgs<A extends object>(
  args: A,
  numItems: number,
): A & { paginationOpts: { numItems: number; cursor: null } } {
  return { ...args, paginationOpts: { numItems, cursor: null } };
}

/**
 * `ref(args)` as a growing live list. While the live query loads its first page, the loader's
 * page (when it was read with the same arguments) stands in: its status is "LoadingMore" (or
 * "Exhausted" when that page was all there is), so "Load more" waits for the live query.
 */
export function usePreloadedPaginated<Q extends PaginatedQueryReference>(
  ref: Q,
  args: PaginatedQueryArgs<Q> | "skip",
  preloaded: Preloaded<Q> | null | undefined,
  initialNumItems: number,
): UsePaginatedQueryResult<PaginatedQueryItem<Q>> {
  const { isAuthenticated } = useConvexAuth();
  const live = usePaginatedQuery(ref, isAuthenticated ? args : "skip", { initialNumItems });
  const argsKey =
    args === "skip" ? null : JSON.stringify(convexToJson(firstPageArgs(args, initialNumItems) as Value));
  const initial = useMemo(() => {
    if (!preloaded || argsKey === null) return undefined;
    if (preloaded._name !== getFunctionName(ref)) return undefined;
    if (JSON.stringify(preloaded._argsJSON) !== argsKey) return undefined;
    return jsonToConvex(preloaded._valueJSON as unknown as JSONValue) as {
      page: PaginatedQueryItem<Q>[];
      isDone: boolean;
    };
  }, [preloaded, ref, argsKey]);
  if (live.status !== "LoadingFirstPage" || !initial) return live;
  return initial.isDone
    ? { results: initial.page, status: "Exhausted", isLoading: false, loadMore: () => undefined }
    : { results: initial.page, status: "LoadingMore", isLoading: true, loadMore: () => undefined };
}
