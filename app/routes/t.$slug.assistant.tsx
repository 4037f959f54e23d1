// /t/<slug>/assistant: the AI assistant's pages (agents and up read them; admins change them),
// under one heading with tabs: its settings, and the knowledge base it answers from.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Outlet } from "@remix-run/react";
import { DataRouteErrorView } from "../components/data-error-view";
import { NotAllowed } from "../components/not-allowed";
import { PageHeader } from "../components/page-header";
import { SectionNav } from "../components/section-nav";
import { canViewAssistant } from "../lib/assistant";
import { requireUser } from "../lib/auth.server";
import { withArticle } from "../lib/roles";
import { useTenant } from "../lib/tenant-context";

export const meta: MetaFunction = () => [{ title: "Assistant — Switchboard" }];

export async function loader({ request }: LoaderFunctionArgs) {
  await requireUser(request);
  return null;
}

export default function AssistantLayout() {
  const tenant = useTenant();
  if (!canViewAssistant(tenant)) {
    return (
      <NotAllowed
        message={`You need the agent role to see the assistant. You are ${withArticle(tenant.role)} in ${tenant.name}; ask an owner or admin if you need more access.`}
        backTo={{ to: `/t/${encodeURIComponent(tenant.slug)}`, label: "Back to the overview" }}
      />
    );
  }
  const base = `/t/${encodeURIComponent(tenant.slug)}/assistant`;
  return (
    <div>
      <PageHeader
        title="Assistant"
        description={`How ${tenant.name}'s assistant answers customers on WhatsApp, and what it knows.`}
      />
      <SectionNav
        aria-label="Assistant"
        className="-mt-4 mb-8"
        items={[
          { to: base, label: "Settings", end: true },
          { to: `${base}/knowledge`, label: "Knowledge base", end: false },
        ]}
      />
      <Outlet context={tenant} />
    </div>
  );
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
