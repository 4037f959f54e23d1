// Loaded before the server build (NODE_OPTIONS='--import ./instrument.server.mjs') so Sentry can
// instrument modules as they load. It cannot use app/lib/env.server.ts (TypeScript, inside the
// build), so it reads its two variables directly; the app validates them again at boot.
const dsn = process.env.SENTRY_DSN?.trim();

if (dsn) {
  const Sentry = await import("@sentry/remix");
  Sentry.init({
    dsn,
    environment: process.env.SENTRY_ENVIRONMENT?.trim() || process.env.NODE_ENV || "development",
    sendDefaultPii: false,
  });
}
