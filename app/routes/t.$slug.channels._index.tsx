// /t/<slug>/channels: the workspace's WhatsApp numbers with their health, live. Everyone sees
// them; admins connect new ones.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { api } from "../../convex/_generated/api";
import { buttonClass } from "../components/button";
import { ChannelHealthBadges, EnabledBadge } from "../components/channel-health";
import { DataRouteErrorView } from "../components/data-error-view";
import { DataTable, type Column } from "../components/data-table";
import { EmptyState } from "../components/empty-state";
import { PageHeader } from "../components/page-header";
import { LoadingState } from "../components/spinner";
import { requireUser } from "../lib/auth.server";
import { preload, preloadTenant } from "../lib/preload.server";
import { usePreloaded } from "../lib/use-preloaded";
import {
  KIND_LABELS,
  SECRET_FIELDS,
  SECRET_LABELS,
  channelAddress,
  secretMask,
  type Channel,
} from "../lib/channels";
import { useTenant } from "../lib/tenant-context";

export const meta: MetaFunction = () => [{ title: "Channels — Switchboard" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireUser(request);
  const { tenantId } = await preloadTenant(request, params.slug ?? "");
  return { channels: tenantId ? await preload(request, api.channels.list, { tenantId }) : null };
}

export default function ChannelsPage() {
  const tenant = useTenant();
  const preloaded = useLoaderData<typeof loader>();
  const channels = usePreloaded(api.channels.list, { tenantId: tenant.tenantId }, preloaded.channels);
  const base = `/t/${encodeURIComponent(tenant.slug)}/channels`;
  const addLink = tenant.canAdminWrite ? (
    <Link to={`${base}/new`} className={buttonClass("primary")}>
      Add channel
    </Link>
  ) : null;

  const columns: Column<Channel>[] = [
    {
      header: "Channel",
      rowHeader: true,
      cell: (c) => (
        <>
          <Link to={`${base}/${c.channelId}`} className="text-brand-700 underline-offset-2 hover:underline">
            {c.name}
          </Link>
          <span className="mt-0.5 block text-xs font-normal text-slate-500">{KIND_LABELS[c.kind]}</span>
        </>
      ),
    },
    {
      header: "Number or session",
      cell: (c) => <span className="break-words">{channelAddress(c)}</span>,
    },
    { header: "Status", cell: (c) => <EnabledBadge enabled={c.enabled} /> },
    { header: "Health", cell: (c) => <ChannelHealthBadges channel={c} /> },
    {
      header: "Credentials",
      cell: (c) => (
        <dl className="space-y-0.5 text-xs">
          {SECRET_FIELDS[c.kind].map((field) => (
            <div key={field}>
              <dt className="text-slate-500">{SECRET_LABELS[field]}</dt>
              <dd className="font-mono whitespace-nowrap text-slate-700">
                {secretMask(c.secretHints[field])}
              </dd>
            </div>
          ))}
        </dl>
      ),
    },
  ];

  return (
    <div className="space-y-6">
      <PageHeader
        title="Channels"
        description={`The WhatsApp numbers ${tenant.name} talks through, and whether their webhooks are arriving.`}
        actions={channels && channels.length > 0 ? addLink : null}
      />
      {channels === undefined ? (
        <LoadingState label="Loading channels…" />
      ) : (
        <DataTable
          caption={`WhatsApp channels of ${tenant.name}`}
          columns={columns}
          rows={channels}
          rowKey={(c) => c.channelId}
          empty={
            <EmptyState
              headingLevel="h2"
              title="No WhatsApp number connected yet"
              description={
                <>
                  Connect a number through Meta&apos;s <strong>Cloud API</strong> (you need its phone number
                  ID, WhatsApp Business Account ID and a permanent access token from Meta&apos;s App
                  Dashboard) or a session on your own <strong>WAHA</strong> server (its address, API key and
                  session name). Then paste the webhook URL the channel shows into Meta or WAHA.
                  {tenant.canAdminWrite ? null : " Ask an admin of this workspace to connect one."}
                </>
              }
              action={addLink}
            />
          }
        />
      )}
    </div>
  );
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
