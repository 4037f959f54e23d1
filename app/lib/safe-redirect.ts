// Where to send someone after signing in: only a path on this site, never another origin.

const BASE = "http://same-site.invalid";

/**
 * Returns `to` if it is a path on this site (`/inbox?x=1#y`), otherwise `fallback`. Refuses
 * absolute URLs, protocol-relative `//host` and `/\host` (which browsers treat as `//host`),
 * and anything with control characters.
 */
export function safeRedirect(to: FormDataEntryValue | string | null | undefined, fallback = "/"): string {
  if (typeof to !== "string" || to.length === 0 || to.length > 2048) return fallback;
  if (!to.startsWith("/") || to.startsWith("//") || to.startsWith("/\\")) return fallback;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(to)) return fallback;
  let url: URL;
  try {
    url = new URL(to, BASE);
  } catch {
    return fallback;
  }
  if (url.origin !== BASE) return fallback;
  return `${url.pathname}${url.search}${url.hash}`;
}

/** `/sign-in`, remembering where to come back to (omitted when that is the home page). */
export function signInPath(redirectTo: string): string {
  const target = safeRedirect(redirectTo);
  return target === "/" ? "/sign-in" : `/sign-in?${new URLSearchParams({ redirectTo: target })}`;
}
