// GET /auth/token: a 5-minute Convex token for the signed-in local user, `{ token, expiresAt }`
// (expiresAt in ms since the epoch). The browser's Convex client calls this; 401 without a session,
// 429 with Retry-After past the per-user and per-client-address limits.
import type { LoaderFunctionArgs } from "@remix-run/node";
import { getAuthMode, getUser, issueLocalToken } from "../lib/auth.server";
import { clientAddress } from "../lib/local-auth/sign-in-limits.server";
import { enforceRateLimits } from "../lib/rate-limit.server";

const NO_STORE = { "cache-control": "no-store", vary: "Cookie" };

export async function loader({ request }: LoaderFunctionArgs) {
  // With Clerk the browser gets its Convex token from Clerk itself.
  if (getAuthMode() !== "local") throw new Response("Not found", { status: 404 });
  const user = await getUser(request);
  await enforceRateLimits(
    [
      ["tokenPerClient", clientAddress(request)],
      ["tokenPerUser", user?.subject],
    ],
    "json",
  );
  if (!user) {
    return Response.json(
      { error: "unauthenticated", message: "Sign in to get a token" },
      { status: 401, headers: NO_STORE },
    );
  }
  return Response.json(await issueLocalToken(user), { headers: NO_STORE });
}
