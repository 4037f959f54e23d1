// The local sign-in session: a signed, httpOnly cookie holding the account id (the token `sub`).
import { randomBytes } from "node:crypto";
import path from "node:path";
import { createCookieSessionStorage, type SessionStorage } from "@remix-run/node";
import { getEnv } from "../env.server";
import { createFileOnce, keepPrivate } from "./files.server";

export const SESSION_COOKIE = "switchboard_session";
export const SESSION_SECRET_FILE = "session-secret";
const SESSION_MAX_AGE_SECONDS = 30 * 24 * 60 * 60;

/** `epoch`: the account's session epoch when signing in (see `sessionEpoch` in accounts.server). */
type SessionData = { accountId: string; epoch: number };

let storage: Promise<SessionStorage<SessionData>> | undefined;

/** SESSION_SECRET, or a secret generated once into AUTH_DATA_DIR so sessions survive restarts. */
async function sessionSecret(): Promise<string> {
  const env = getEnv();
  if (env.SESSION_SECRET) return env.SESSION_SECRET;
  const file = path.join(path.resolve(env.AUTH_DATA_DIR), SESSION_SECRET_FILE);
  const secret = (await createFileOnce(file, () => randomBytes(32).toString("base64url") + "\n")).trim();
  await keepPrivate(file);
  if (secret.length < 32)
    throw new Error(`${file} holds too short a secret; delete it to generate a new one`);
  return secret;
}

function getStorage(): Promise<SessionStorage<SessionData>> {
  storage ??= sessionSecret().then((secret) =>
    createCookieSessionStorage<SessionData>({
      cookie: {
        name: SESSION_COOKIE,
        httpOnly: true,
        sameSite: "lax",
        secure: getEnv().NODE_ENV === "production",
        path: "/",
        maxAge: SESSION_MAX_AGE_SECONDS,
        secrets: [secret],
      },
    }),
  );
  storage.catch(() => (storage = undefined));
  return storage;
}

/** The signed-in account id and session epoch from the request's cookie, or null. */
export async function getSessionAccount(
  request: Request,
): Promise<{ accountId: string; epoch: number } | null> {
  const session = await (await getStorage()).getSession(request.headers.get("Cookie"));
  const accountId = session.get("accountId");
  if (!accountId) return null;
  const epoch = session.get("epoch");
  return { accountId, epoch: typeof epoch === "number" ? epoch : 0 };
}

/** A Set-Cookie value for a brand-new session (never reuses an old one, against session fixation). */
export async function commitNewSession(accountId: string, epoch: number): Promise<string> {
  const sessions = await getStorage();
  const session = await sessions.getSession();
  session.set("accountId", accountId);
  session.set("epoch", epoch);
  return await sessions.commitSession(session);
}

/** A Set-Cookie value that clears the session cookie. */
export async function destroySession(request: Request): Promise<string> {
  const sessions = await getStorage();
  return await sessions.destroySession(await sessions.getSession(request.headers.get("Cookie")));
}
