// The configuration the browser is allowed to see, and how it reaches `window.ENV`.
// Shared by server and client code, so it must never import anything server-only.

export type PublicEnv = {
  CONVEX_URL: string;
  SENTRY_DSN?: string;
  SENTRY_ENVIRONMENT?: string;
  CLERK_PUBLISHABLE_KEY?: string;
};

declare global {
  interface Window {
    ENV: PublicEnv;
  }
}

/**
 * JSON that is safe to place inside an inline <script>: `<` is escaped so a value containing
 * `</script>` or `<!--` cannot end the script early, and U+2028/U+2029 are escaped because
 * older JavaScript engines treat them as line breaks inside string literals.
 */
export function serializeForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}
