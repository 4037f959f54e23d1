// /t/<slug>/outbox: the workspace's sent mail (admins), live.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useQuery } from "convex/react";
import { api } from "../../convex/_generated/api";
import { DataRouteErrorView } from "../components/data-error-view";
import { EmailOutbox } from "../components/email-outbox";
import { NotAllowed } from "../components/not-allowed";
import { PageHeader } from "../components/page-header";
import { LoadingState } from "../components/spinner";
import { requireUser } from "../lib/auth.server";
import { useTenant, type TenantContext } from "../lib/tenant-context";

export const meta: MetaFunction = () => [{ title: "Outbox — Switchboard" }];

export async function loader({ request }: LoaderFunctionArgs) {
  await requireUser(request);
  return null;
}

export default function OutboxPage() {
  const tenant = useTenant();
  if (!tenant.canAdminRead) {
    return (
      <NotAllowed
        message="You need the admin role to read the workspace's outbox."
        backTo={{ to: `/t/${encodeURIComponent(tenant.slug)}`, label: "Back to the overview" }}
      />
    );
  }
  return <TenantOutbox tenant={tenant} />;
}

function TenantOutbox({ tenant }: { tenant: TenantContext }) {
  const emails = useQuery(api.emails.listForTenant, { tenantId: tenant.tenantId });
  const details = useQuery(api.tenants.get, { tenantId: tenant.tenantId });
  return (
    <div className="space-y-6">
      <PageHeader
        title="Outbox"
        description="Email sent from this workspace, newest first (the latest 100). Without an email provider configured, this is where the mail waits: open a message to read it."
      />
      {emails === undefined ? (
        <LoadingState label="Loading the outbox…" />
      ) : (
        <EmailOutbox
          emails={emails}
          timeZone={details?.timeZone}
          caption={`Email sent from ${tenant.name}`}
        />
      )}
    </div>
  );
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
