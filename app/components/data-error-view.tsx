// The error boundary content for routes that read Convex live: a ConvexError thrown by a query
// (no access, not found, signed out) gets its own words; anything else is the shared error view.
import { Link, useLocation, useRouteError } from "@remix-run/react";
import { useId } from "react";
import { toAppError } from "../lib/convex-errors";
import { signInPath } from "../lib/safe-redirect";
import { buttonClass } from "./button";
import { RouteErrorView } from "./error-view";

const TITLES: Record<string, string> = {
  UNAUTHENTICATED: "Please sign in again",
  FORBIDDEN: "Not allowed",
  NOT_FOUND: "Not found",
  EXPIRED: "This has expired",
};

export function DataRouteErrorView() {
  const error = useRouteError();
  const location = useLocation();
  const titleId = useId();
  const appError = toAppError(error);
  if (appError.code === "UNKNOWN") return <RouteErrorView compact />;
  const signIn = appError.code === "UNAUTHENTICATED";
  return (
    <section
      role="alert"
      aria-labelledby={titleId}
      className="mx-auto max-w-xl rounded-2xl border border-slate-200 bg-white p-8 text-center shadow-sm"
    >
      <h2 id={titleId} className="text-2xl font-semibold tracking-tight text-slate-900">
        {TITLES[appError.code] ?? "We could not complete that request"}
      </h2>
      <p className="mt-3 text-slate-600">{appError.message}</p>
      <div className="mt-6 flex flex-wrap justify-center gap-3">
        {signIn ? (
          <Link to={signInPath(`${location.pathname}${location.search}`)} className={buttonClass("primary")}>
            Sign in
          </Link>
        ) : (
          <Link to="/app" className={buttonClass("primary")}>
            Go to your workspaces
          </Link>
        )}
        <button type="button" onClick={() => window.location.reload()} className={buttonClass("secondary")}>
          Try again
        </button>
      </div>
    </section>
  );
}
