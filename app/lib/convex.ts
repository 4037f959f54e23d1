// The browser's one Convex connection, shared by every `useQuery` under root's ConvexProvider.
import { ConvexReactClient } from "convex/react";

let browserClient: ConvexReactClient | undefined;

/**
 * In the browser: the single client for `window.ENV.CONVEX_URL`. During server rendering the
 * provider still needs a client so `useQuery` can render its loading state; that one is built
 * from the same public URL and stays inert, because the client opens its WebSocket only when a
 * query subscribes, which happens in effects, and effects never run on the server.
 */
export function getConvexReactClient(serverRenderUrl: string, signedIn = false): ConvexReactClient {
  if (typeof window === "undefined") return new ConvexReactClient(serverRenderUrl);
  // Signed in when the document loaded: hold every query and mutation until the token is set,
  // so the pages that render preloaded data at once never call Convex without the user.
  browserClient ??= new ConvexReactClient(window.ENV.CONVEX_URL, { expectAuth: signedIn });
  return browserClient;
}
