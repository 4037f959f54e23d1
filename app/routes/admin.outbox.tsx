// /admin/outbox: all email the platform sent (the latest 200), live.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useQuery } from "convex/react";
import { api } from "../../convex/_generated/api";
import { DataRouteErrorView } from "../components/data-error-view";
import { EmailOutbox } from "../components/email-outbox";
import { PageHeader } from "../components/page-header";
import { LoadingState } from "../components/spinner";
import { requireUser } from "../lib/auth.server";

export const meta: MetaFunction = () => [{ title: "Outbox — Platform admin — Switchboard" }];

export async function loader({ request }: LoaderFunctionArgs) {
  await requireUser(request);
  return null;
}

export default function AdminOutbox() {
  const emails = useQuery(api.emails.listAll, {});
  return (
    <div className="space-y-6">
      <PageHeader
        title="Outbox"
        description="All email the platform sent, newest first (the latest 200). Times are in your time zone."
      />
      {emails === undefined ? (
        <LoadingState label="Loading the outbox…" />
      ) : (
        <EmailOutbox emails={emails} caption="All email sent" />
      )}
    </div>
  );
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
