// First paint for a paginated list (docs/decisions/011): the loader reads the first page as the
// signed-in user, the page shows it until the live paginated query has its own first page.
import { useConvexAuth, usePaginatedQuery, type Preloaded } from "convex/react";
import type {
  PaginatedQueryArgs,
  PaginatedQueryItem,
  PaginatedQueryReference,
  UsePaginatedQueryReturnType,
} from "convex/react";
import { getFunctionName } from "convex/server";
import { convexToJson, jsonToConvex, type JSONValue, type Value } from "convex/values";
import { useMemo } from "react";

/**
 * `ref(args)` live and paginated, starting from `preloaded` when it is the loader's read of the
 * first page with the same arguments (its page size aside). The live query starts once the
 * browser's sign-in is confirmed, as in `usePreloaded`.
 */
export function usePreloadedPages<Q extends PaginatedQueryReference>(
  ref: Q,
  args: PaginatedQueryArgs<Q>,
  preloaded: Preloaded<Q> | null | undefined,
  initialNumItems: number,
): UsePaginatedQueryReturnType<Q> {
  const { isAuthenticated } = useConvexAuth();
  const live = usePaginatedQuery(ref, isAuthenticated ? args : "skip", { initialNumItems });
  const argsKey = JSON.stringify(convexToJson(args as Value));
  const first = useMemo(() => {
    if (!preloaded || preloaded._name !== getFunctionName(ref)) return null;
    const { paginationOpts, ...preloadedArgs } = preloaded._argsJSON as unknown as Record<string, JSONValue>;
    void paginationOpts;
    if (JSON.stringify(preloadedArgs) !== argsKey) return null;
    return jsonToConvex(preloaded._valueJSON as unknown as JSONValue) as {
      page: PaginatedQueryItem<Q>[];
      isDone: boolean;
    };
  }, [preloaded, ref, argsKey]);
  if (live.status !== "LoadingFirstPage" || !first) return live;
  // Until the live query answers, "Load more" waits for it.
  return {
    results: first.page,
    status: first.isDone ? "Exhausted" : "LoadingMore",
    isLoading: !first.isDone,
    loadMore: live.loadMore,
  } as UsePaginatedQueryReturnType<Q>;
}
