// The production sign-in path: Clerk. Only used when CLERK_PUBLISHABLE_KEY and CLERK_SECRET_KEY
// are both set; the package is imported lazily, so without the keys it is never loaded
// (@clerk/remix's loaders throw without a secret key, and importing it logs a notice).
import type { AppLoadContext, LoaderFunctionArgs } from "@remix-run/node";
import type { AuthUser } from "./auth-user";
import { getEnv } from "./env.server";

/** Clerk's options from our validated env, so nothing reads process.env behind our back. */
function clerkOptions() {
  const env = getEnv();
  if (env.AUTH_MODE !== "clerk") throw new Error("Clerk is not configured (set both Clerk keys)");
  return {
    publishableKey: env.CLERK_PUBLISHABLE_KEY,
    secretKey: env.CLERK_SECRET_KEY,
    signInUrl: "/sign-in",
    signUpUrl: "/sign-up",
  };
}

type ClerkAuth = {
  userId: string | null;
  sessionClaims: Record<string, unknown> | null;
};

/**
 * The user from Clerk's auth object. Clerk's default session token carries no email or name:
 * add `email` and `name` claims to the session token in the Clerk dashboard to show them
 * (docs/deployment.md); without them the header falls back to Clerk's client-side user.
 */
function userFromClerk(auth: ClerkAuth): AuthUser | null {
  if (!auth.userId) return null;
  const claim = (name: string) => {
    const value = auth.sessionClaims?.[name];
    return typeof value === "string" && value.length > 0 ? value : null;
  };
  return { subject: auth.userId, email: claim("email"), name: claim("name") };
}

/** Root loader in Clerk mode: `rootAuthLoader` adds Clerk's state (read by `ClerkApp`) to `data`. */
export async function clerkRootLoader(
  args: LoaderFunctionArgs,
  data: (user: AuthUser | null) => Record<string, unknown>,
): Promise<Response> {
  const { rootAuthLoader } = await import("@clerk/remix/ssr.server");
  const response = await rootAuthLoader(
    args,
    ({ request }) => data(userFromClerk(request.auth as ClerkAuth)),
    clerkOptions(),
  );
  // Typed as the callback's result, but at run time it is a JSON Response carrying `clerkState`.
  return response as unknown as Response;
}

async function clerkAuth(request: Request) {
  const { getAuth } = await import("@clerk/remix/ssr.server");
  const { secretKey } = clerkOptions();
  return await getAuth({ request, context: {} as AppLoadContext, params: {} }, { secretKey });
}

export async function getClerkUser(request: Request): Promise<AuthUser | null> {
  return userFromClerk((await clerkAuth(request)) as ClerkAuth);
}

/** A Convex token from Clerk's "convex" JWT template, or null when signed out. */
export async function getClerkConvexToken(request: Request): Promise<string | null> {
  const auth = await clerkAuth(request);
  if (!auth.userId) return null;
  return await auth.getToken({ template: "convex" });
}
