/**
 * How the Convex deployment's two addresses relate, for the web app (which is given the client
 * URL) and the Convex side (which is given its site URL). Pure: no Convex or Node imports.
 */

const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** A base URL without trailing slashes, so paths can be appended with `${base}${path}`. */
export function stripTrailingSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

/**
 * Where Convex serves HTTP actions, from the URL its clients use: a local backend serves them
 * on the next port (3210 → 3211), Convex cloud on `.convex.site`. Null when neither applies.
 */
export function convexSiteUrlFor(convexUrl: string): string | null {
  let url: URL;
  try {
    url = new URL(convexUrl);
  } catch {
    return null;
  }
  if (LOCAL_HOSTS.has(url.hostname)) {
    const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
    url.port = String(port + 1);
    return stripTrailingSlash(url.toString());
  }
  if (url.hostname.endsWith(".convex.cloud")) {
    url.hostname = url.hostname.slice(0, -".convex.cloud".length) + ".convex.site";
    return stripTrailingSlash(url.toString());
  }
  return null;
}

/** A webhook's full address, or null when the deployment's site URL is not known. */
export function siteUrlOf(siteUrl: string | undefined, path: string): string | null {
  return siteUrl ? `${stripTrailingSlash(siteUrl)}${path}` : null;
}
