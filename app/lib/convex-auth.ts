// Local sign-in in the browser: hands Convex a token from GET /auth/token, cached until shortly
// before it expires. Who is signed in comes from the root loader, so there is no loading state.
import { useMemo } from "react";
import { useRootData } from "./root-data";

/** Fetch a new token this long before the cached one expires (tokens live 5 minutes). */
export const REFRESH_MARGIN_MS = 60_000;

type FetchAccessToken = (args: { forceRefreshToken: boolean }) => Promise<string | null>;

export type TokenFetcherOptions = { url?: string; fetch?: typeof fetch; now?: () => number };

/**
 * `fetchAccessToken` for ConvexProviderWithAuth: returns the cached token until REFRESH_MARGIN_MS
 * before it expires, fetches again when Convex asks for `forceRefreshToken`, and shares one
 * request between concurrent calls. Null when the server says nobody is signed in (401) or
 * cannot be reached; Convex then treats the client as signed out. Rate-limited (429), it keeps
 * the cached token while that has not expired.
 */
export function createTokenFetcher(options: TokenFetcherOptions = {}): FetchAccessToken {
  const url = options.url ?? "/auth/token";
  const now = options.now ?? Date.now;
  let cached: { token: string; expiresAt: number } | null = null;
  let inFlight: Promise<string | null> | null = null;

  const request = async (): Promise<string | null> => {
    try {
      const response = await (options.fetch ?? fetch)(url, {
        credentials: "same-origin",
        cache: "no-store",
        headers: { accept: "application/json" },
      });
      // Too many requests (429): keep using the token in hand while it is still valid.
      if (response.status === 429 && cached && cached.expiresAt > now()) return cached.token;
      if (!response.ok) {
        cached = null;
        return null;
      }
      const body = (await response.json()) as { token?: unknown; expiresAt?: unknown };
      if (typeof body.token !== "string" || typeof body.expiresAt !== "number") return null;
      cached = { token: body.token, expiresAt: body.expiresAt };
      return body.token;
    } catch {
      return null;
    } finally {
      inFlight = null;
    }
  };

  return async ({ forceRefreshToken }) => {
    if (!forceRefreshToken && cached && cached.expiresAt - REFRESH_MARGIN_MS > now()) return cached.token;
    inFlight ??= request();
    return await inFlight;
  };
}

const signedOut: FetchAccessToken = async () => null;

/** The `useAuth` hook for ConvexProviderWithAuth in local mode. */
export function useLocalConvexAuth() {
  const user = useRootData()?.auth.user;
  const subject = user?.subject ?? null;
  const verified = user?.local?.emailVerified === true;
  // A new fetcher (and an empty cache) whenever the signed-in user changes, or their email is
  // verified: the cached token still says `email_verified: false`.
  const fetchAccessToken = useMemo(
    () => (subject ? createTokenFetcher() : signedOut),
    // `verified` is not used inside: changing it only empties the cache.
    [subject, verified],
  );
  return useMemo(
    () => ({ isLoading: false, isAuthenticated: subject !== null, fetchAccessToken }),
    [subject, fetchAccessToken],
  );
}
