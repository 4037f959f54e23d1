// GET /.well-known/openid-configuration: local sign-in's OIDC discovery document, which Convex
// fetches to find the signing keys (LOCAL_AUTH_ISSUER in convex/auth.config.ts). Absent with Clerk.
import { getAuthMode, localAuthConfig } from "../lib/auth.server";
import { openIdConfiguration } from "../lib/local-auth/keys.server";

export function loader() {
  if (getAuthMode() !== "local") throw new Response("Not found", { status: 404 });
  return Response.json(openIdConfiguration(localAuthConfig().issuer), {
    headers: { "cache-control": "public, max-age=300" },
  });
}
