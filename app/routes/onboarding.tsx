// /onboarding: create a workspace (the first one, or another), with defaults from the browser.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useNavigate } from "@remix-run/react";
import { useMutation } from "convex/react";
import { useState } from "react";
import { api } from "../../convex/_generated/api";
import { buttonClass } from "../components/button";
import { DataRouteErrorView } from "../components/data-error-view";
import { PageHeader } from "../components/page-header";
import { SignedInGate, useMe } from "../components/signed-in-gate";
import { TenantSettingsForm } from "../components/tenant-settings-form";
import { requireUser } from "../lib/auth.server";
import { browserTimeZone, defaultTenantSettings } from "../lib/tenant-options";

export const meta: MetaFunction = () => [{ title: "Create your workspace — Switchboard" }];

export async function loader({ request }: LoaderFunctionArgs) {
  await requireUser(request);
  return null;
}

export default function Onboarding() {
  return (
    <SignedInGate>
      <CreateWorkspace />
    </SignedInGate>
  );
}

function CreateWorkspace() {
  const me = useMe();
  const create = useMutation(api.tenants.create);
  const navigate = useNavigate();
  // Rendered only in the browser (the gate waits for Convex), so the browser's settings are safe to read.
  const [initial] = useState(() =>
    defaultTenantSettings(navigator.languages ?? [navigator.language], browserTimeZone()),
  );
  const first = me.tenants.length === 0;

  return (
    <div className="mx-auto max-w-2xl">
      <PageHeader
        eyebrow={first ? `Welcome, ${me.name}` : undefined}
        title={first ? "Create your workspace" : "Create another workspace"}
        description="A workspace holds your WhatsApp numbers, contacts, campaigns and team. You can change these settings later."
      />
      <div className="rounded-2xl border border-slate-200 bg-white p-6 shadow-sm">
        <TenantSettingsForm
          initial={initial}
          submitLabel="Create workspace"
          busyLabel="Creating…"
          onSubmit={async (values) => {
            const { slug } = await create(values);
            navigate(`/t/${encodeURIComponent(slug)}`);
          }}
          secondaryAction={
            first ? null : (
              <Link to="/app" className={buttonClass("ghost")}>
                Cancel
              </Link>
            )
          }
        />
      </div>
    </div>
  );
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
