import type { MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { useQuery } from "convex/react";
import { api } from "../../convex/_generated/api";
import { buttonClass } from "../components/button";
import { RouteErrorView } from "../components/error-view";
import { SystemStatusCard, type SystemStatus } from "../components/system-status-card";
import { getConvexHttpClient } from "../lib/convex.server";
import { logger } from "../lib/logger.server";
import { useRootData } from "../lib/root-data";

export const meta: MetaFunction = () => [{ title: "Switchboard — WhatsApp for teams" }];

/** Preloads the status for first paint; the page renders without it when Convex is slow or down. */
export async function loader() {
  let status: SystemStatus | null = null;
  try {
    status = await getConvexHttpClient({ timeoutMs: 1_500 }).query(api.system.status, {});
  } catch (error) {
    // Expected while Convex is down; the live subscription takes over once it is back.
    const cause = (error as { cause?: { code?: string } } | null)?.cause?.code;
    const message = error instanceof Error ? error.message : String(error);
    logger.warn({ error: cause ? `${message} (${cause})` : message }, "could not preload system status");
  }
  return { status };
}

export default function Index() {
  const { status: preloaded } = useLoaderData<typeof loader>();
  // Undefined until the live subscription delivers; the preloaded snapshot fills the gap.
  const live = useQuery(api.system.status);
  const status = live ?? preloaded ?? undefined;
  const signedIn = Boolean(useRootData()?.auth.user);

  return (
    <div className="space-y-12">
      <section aria-labelledby="pitch-title" className="max-w-2xl">
        <h1 id="pitch-title" className="text-4xl font-bold tracking-tight text-slate-900 sm:text-5xl">
          Switchboard
        </h1>
        <p className="mt-4 text-lg text-slate-600">
          WhatsApp for every team you serve: a live shared inbox, an AI assistant that answers around the
          clock, and campaigns with credits you can account for.
        </p>
        {signedIn ? (
          <Link to="/app" className={`mt-6 ${buttonClass("primary")}`}>
            Open your workspace
          </Link>
        ) : null}
      </section>
      <SystemStatusCard status={status} live={live !== undefined} />
    </div>
  );
}

export function ErrorBoundary() {
  return <RouteErrorView compact />;
}
