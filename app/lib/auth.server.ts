// Who is signed in, for loaders and actions, whichever sign-in path is configured: Clerk when its
// keys are set, otherwise local sign-in (this app as a small OIDC provider). Convex verifies the
// tokens of both through convex/auth.config.ts, so a Convex call carries the same identity either way.
import { redirect } from "@remix-run/node";
import type { ConvexHttpClient } from "convex/browser";
import type { AuthMode, AuthUser } from "./auth-user";
import { getClerkConvexToken, getClerkUser } from "./clerk.server";
import { getConvexHttpClient, type ConvexHttpOptions } from "./convex.server";
import { getEnv } from "./env.server";
import { AccountStore, isEmailVerified, sessionEpochOf, type Account } from "./local-auth/accounts.server";
import { getSigningKey, issueToken } from "./local-auth/keys.server";
import { getSessionAccount } from "./local-auth/session.server";
import { signInPath } from "./safe-redirect";

export type { AuthUser } from "./auth-user";

export function getAuthMode(): AuthMode {
  return getEnv().AUTH_MODE;
}

/** Local sign-in's settings; throws in Clerk mode, where none of local sign-in is served. */
export function localAuthConfig(): { issuer: string; dataDir: string } {
  const env = getEnv();
  if (env.AUTH_MODE !== "local" || !env.APP_URL) throw new Error("Local sign-in is off: Clerk is configured");
  return { issuer: env.APP_URL, dataDir: env.AUTH_DATA_DIR };
}

let accounts: { dir: string; store: AccountStore } | undefined;

export function getAccountStore(): AccountStore {
  const { dataDir } = localAuthConfig();
  if (accounts?.dir !== dataDir) accounts = { dir: dataDir, store: new AccountStore(dataDir) };
  return accounts.store;
}

/** The signed-in user, or null. */
export async function getUser(request: Request): Promise<AuthUser | null> {
  if (getAuthMode() === "clerk") return await getClerkUser(request);
  const account = await getLocalAccount(request);
  return account ? localUser(account) : null;
}

/** Local sign-in: the signed-in account, or null (also in Clerk mode). */
export async function getLocalAccount(request: Request): Promise<Account | null> {
  if (getAuthMode() !== "local") return null;
  const session = await getSessionAccount(request);
  if (!session) return null;
  // A session for an account that no longer exists (accounts.json was reset) is no session, and
  // neither is one from before the account signed out everywhere.
  const account = await getAccountStore().findById(session.accountId);
  return account && sessionEpochOf(account) === session.epoch ? account : null;
}

export function localUser(account: Account): AuthUser {
  return {
    subject: account.id,
    email: account.email,
    name: account.name,
    local: { emailVerified: isEmailVerified(account), hasPassword: account.passwordHash !== null },
  };
}

/** The signed-in user; otherwise redirects to sign-in, which comes back here afterwards. */
export async function requireUser(request: Request): Promise<AuthUser> {
  const user = await getUser(request);
  if (user) return user;
  const url = new URL(request.url);
  throw redirect(signInPath(`${url.pathname}${url.search}`));
}

/** A fresh local token for `user` (local mode only): `{ token, expiresAt }`, expiresAt in ms. */
export async function issueLocalToken(user: AuthUser): Promise<{ token: string; expiresAt: number }> {
  const { issuer, dataDir } = localAuthConfig();
  return await issueToken(await getSigningKey(dataDir), issuer, {
    subject: user.subject,
    email: user.email ?? "",
    name: user.name ?? "",
    emailVerified: user.local?.emailVerified === true,
  });
}

/** The token Convex should see for this request's user, or null when nobody is signed in. */
export async function getConvexToken(request: Request): Promise<string | null> {
  if (getAuthMode() === "clerk") return await getClerkConvexToken(request);
  const user = await getUser(request);
  return user ? (await issueLocalToken(user)).token : null;
}

/**
 * A Convex HTTP client acting as this request's user (anonymous when nobody is signed in; call
 * `requireUser` first where a user is needed). A new client per request, so tokens never mix.
 */
export async function getConvexClientForRequest(
  request: Request,
  options?: ConvexHttpOptions,
): Promise<ConvexHttpClient> {
  const client = getConvexHttpClient(options);
  const token = await getConvexToken(request);
  if (token) client.setAuth(token);
  return client;
}

/**
 * Refuses form posts that a browser marks as coming from anywhere but this origin (Fetch
 * Metadata): `same-origin`, or `none` (typed or bookmarked by the user) only. `same-site` is
 * refused too, since a sibling subdomain is another site for us. Requests without the header
 * (older browsers, non-browser clients) pass; SameSite=Lax already keeps the cookie off
 * cross-site posts.
 */
export function rejectCrossSite(request: Request): void {
  const site = request.headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin" && site !== "none") {
    throw new Response("Requests from other sites are not accepted here", { status: 403 });
  }
}
