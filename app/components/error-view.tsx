// What a person sees when a route fails: a clear title, what they can do next, and details
// only where they help (the status text of an expected response; the message in development).
import { captureRemixErrorBoundaryError } from "@sentry/remix";
import { isRouteErrorResponse, Link, useRouteError } from "@remix-run/react";
import { useEffect, useId } from "react";

type Described = { status: number | null; title: string; detail: string };

function describe(error: unknown): Described {
  if (isRouteErrorResponse(error)) {
    if (error.status === 404) {
      return {
        status: 404,
        title: "Page not found",
        detail: "The page you asked for does not exist or has moved.",
      };
    }
    const message = typeof error.data === "string" && error.data.length > 0 ? error.data : error.statusText;
    const titles: Record<number, string> = {
      413: "That request is too large",
      429: "Too many requests",
    };
    return {
      status: error.status,
      title:
        titles[error.status] ??
        (error.status >= 500 ? "Something went wrong" : "We could not complete that request"),
      detail: message || "Please try again.",
    };
  }
  return {
    status: null,
    title: "Something went wrong",
    detail:
      import.meta.env.DEV && error instanceof Error
        ? error.message
        : "An unexpected error occurred. It has been reported; please try again in a moment.",
  };
}

/** Reads the route error; reports unexpected ones to Sentry from the browser (a no-op without a DSN). */
export function RouteErrorView({ compact = false }: { compact?: boolean }) {
  const error = useRouteError();
  useEffect(() => {
    if (!isRouteErrorResponse(error)) captureRemixErrorBoundaryError(error);
  }, [error]);
  const { status, title, detail } = describe(error);
  const HeadingTag = compact ? "h2" : "h1";
  const titleId = useId();

  return (
    <section
      role="alert"
      aria-labelledby={titleId}
      className="mx-auto max-w-xl rounded-2xl border border-slate-200 bg-white p-8 text-center shadow-sm"
    >
      {status ? (
        <p className="text-sm font-semibold tracking-wide text-brand-700 uppercase">Error {status}</p>
      ) : null}
      <HeadingTag id={titleId} className="mt-2 text-2xl font-semibold tracking-tight text-slate-900">
        {title}
      </HeadingTag>
      <p className="mt-3 text-slate-600">{detail}</p>
      <div className="mt-6 flex flex-wrap items-center justify-center gap-3">
        <Link
          to="/"
          className="rounded-lg bg-brand-600 px-4 py-2 text-sm font-medium text-white hover:bg-brand-700"
        >
          Go to the home page
        </Link>
        {status === 404 ? null : (
          <button
            type="button"
            onClick={() => window.location.reload()}
            className="rounded-lg border border-slate-300 bg-white px-4 py-2 text-sm font-medium text-slate-700 hover:bg-slate-50"
          >
            Try again
          </button>
        )}
      </div>
    </section>
  );
}
