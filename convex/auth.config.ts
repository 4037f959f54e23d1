/* eslint-disable @convex-dev/no-process-env -- Convex evaluates auth.config.ts itself with the deployment's environment variables (it is not a function module, so convex/env.ts does not apply); each provider is switched on by its variable. */
// Who Convex trusts to say who a caller is. Both sign-in paths issue RS256 OIDC tokens with
// audience "convex"; Convex finds their keys through `${domain}/.well-known/openid-configuration`.
import type { AuthConfig } from "convex/server";

const providers: AuthConfig["providers"] = [];

// Production: Clerk's issuer (the Frontend API URL, e.g. https://clerk.example.com), with a JWT
// template named "convex" so tokens carry aud "convex".
const clerkIssuer = process.env.CLERK_JWT_ISSUER_DOMAIN;
if (clerkIssuer) providers.push({ domain: clerkIssuer, applicationID: "convex" });

// The embedded default: the Remix app's own sign-in (its APP_URL). local/stack.ts sets this on
// the local Convex server; leave it unset in production unless you run local sign-in there.
const localIssuer = process.env.LOCAL_AUTH_ISSUER;
if (localIssuer) providers.push({ domain: localIssuer, applicationID: "convex" });

export default { providers } satisfies AuthConfig;
