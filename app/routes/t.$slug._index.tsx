// /t/<slug>: the workspace overview — what it is, your place in it, and where each part lives.
import type { LoaderFunctionArgs } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { useId, type ReactNode } from "react";
import { api } from "../../convex/_generated/api";
import { buttonClass } from "../components/button";
import { DataRouteErrorView } from "../components/data-error-view";
import { PageHeader, Section } from "../components/page-header";
import { RoleBadge } from "../components/role-badge";
import { requireUser } from "../lib/auth.server";
import { preload, preloadTenant } from "../lib/preload.server";
import { usePreloaded } from "../lib/use-preloaded";
import { formatDate } from "../lib/format";
import { ROLE_DESCRIPTIONS } from "../lib/roles";
import { useTenant } from "../lib/tenant-context";

export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireUser(request);
  const { tenantId } = await preloadTenant(request, params.slug ?? "");
  if (!tenantId) return { details: null, members: null };
  const [details, members] = await Promise.all([
    preload(request, api.tenants.get, { tenantId }),
    preload(request, api.members.list, { tenantId }),
  ]);
  return { details, members };
}

/** The workspace's main places, in the order a new workspace sets them up. */
const PLACES = [
  {
    path: "channels",
    title: "Channels",
    description: "Connect a WhatsApp number (Cloud API or WAHA); messages to it arrive in the inbox.",
  },
  {
    path: "inbox",
    title: "Inbox",
    description:
      "Conversations from your numbers, answered by your assistant and handed to your team when needed.",
  },
  {
    path: "contacts",
    title: "Contacts",
    description: "Import a CSV, tag people and save segments to send campaigns to.",
  },
  {
    path: "campaigns",
    title: "Campaigns",
    description: "Send an approved template to many contacts and watch delivery live.",
  },
  {
    path: "billing",
    title: "Billing",
    description: "Your credits, top-ups and what each message cost, in your workspace's currency.",
  },
];

export default function TenantOverview() {
  const tenant = useTenant();
  const preloaded = useLoaderData<typeof loader>();
  const details = usePreloaded(api.tenants.get, { tenantId: tenant.tenantId }, preloaded.details);
  const members = usePreloaded(api.members.list, { tenantId: tenant.tenantId }, preloaded.members);
  const base = `/t/${encodeURIComponent(tenant.slug)}`;

  return (
    <div className="space-y-10">
      <PageHeader
        eyebrow="Overview"
        title={tenant.name}
        description={ROLE_DESCRIPTIONS[tenant.role] + " — that is what your role lets you do here."}
      />

      <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
        <Stat label="Your role">
          <RoleBadge role={tenant.role} />
        </Stat>
        <Stat label="Members">
          {members === undefined ? <Pending /> : <span className="tabular-nums">{members.length}</span>}
        </Stat>
        <Stat label="Currency">{details ? details.currency : <Pending />}</Stat>
        <Stat label="Time zone">{details ? details.timeZone.replace(/_/g, " ") : <Pending />}</Stat>
        <Stat label="Default country">{details ? details.defaultCountry : <Pending />}</Stat>
        <Stat label="Created">{details ? formatDate(details.createdAt, details.timeZone) : <Pending />}</Stat>
      </div>

      {tenant.canAdminWrite && members?.length === 1 ? (
        <Section
          id="get-started"
          title="Get started"
          description="Bring your team in: invite agents to work the inbox and admins to help run the workspace."
        >
          <Link to={`${base}/members`} className={buttonClass("primary")}>
            Invite your team
          </Link>
        </Section>
      ) : null}

      <Section id="places" title="Your workspace" description="Where each part of Switchboard lives.">
        <ul className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
          {PLACES.map((place) => (
            <li key={place.path}>
              <Link
                to={`${base}/${place.path}`}
                className="block h-full rounded-2xl border border-slate-200 bg-white p-5 shadow-sm hover:border-brand-300 focus-visible:outline focus-visible:outline-2 focus-visible:outline-brand-600"
              >
                <span className="font-semibold text-slate-900">{place.title}</span>
                <span className="mt-1 block text-sm text-slate-600">{place.description}</span>
              </Link>
            </li>
          ))}
        </ul>
      </Section>
    </div>
  );
}

/** A labelled fact: a group named after its label, so it reads "Your role, Owner". */
function Stat({ label, children }: { label: string; children: ReactNode }) {
  const id = useId();
  return (
    <div
      role="group"
      aria-labelledby={id}
      className="rounded-2xl border border-slate-200 bg-white p-5 shadow-sm"
    >
      <p id={id} className="text-sm font-medium text-slate-500">
        {label}
      </p>
      <p className="mt-2 text-lg font-semibold text-slate-900">{children}</p>
    </div>
  );
}

function Pending() {
  return <span aria-label="Loading" className="inline-block h-5 w-16 animate-pulse rounded bg-slate-200" />;
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
