// GET /.well-known/jwks.json: the public half of local sign-in's signing key. Absent with Clerk.
import { getAuthMode, localAuthConfig } from "../lib/auth.server";
import { jsonWebKeySet } from "../lib/local-auth/keys.server";

export async function loader() {
  if (getAuthMode() !== "local") throw new Response("Not found", { status: 404 });
  return Response.json(await jsonWebKeySet(localAuthConfig().dataDir), {
    headers: { "cache-control": "public, max-age=300" },
  });
}
