// /t/<slug>/channels/<id>: one channel. The webhook URL to paste into Meta or WAHA, its
// details with secret hints, its health, live activity (messages and their statuses as they
// happen) and, for admins, the webhook events behind them, the edit form and enable/disable.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData, useLocation } from "@remix-run/react";
import { useAction, useMutation } from "convex/react";
import { useState, type ReactNode } from "react";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { MessageActivity, WebhookEvents } from "../components/channel-activity";
import { Button } from "../components/button";
import { ChannelForm } from "../components/channel-form";
import { EnabledBadge, LastWebhook, Badge } from "../components/channel-health";
import { ConfirmButton } from "../components/confirm-dialog";
import { CopyField } from "../components/copy-field";
import { DataRouteErrorView } from "../components/data-error-view";
import { FormStatus } from "../components/form-field";
import { toAppError } from "../lib/convex-errors";
import { PageHeader, Section } from "../components/page-header";
import { LoadingState } from "../components/spinner";
import { requireUser } from "../lib/auth.server";
import { preload, preloadTenant } from "../lib/preload.server";
import { usePreloaded } from "../lib/use-preloaded";
import {
  KIND_LABELS,
  SECRET_FIELDS,
  SECRET_LABELS,
  channelAddress,
  qualityInfo,
  secretMask,
  tierLabel,
  wahaStatusInfo,
  type Channel,
} from "../lib/channels";
import { formatDateTime } from "../lib/format";
import { useTenant, type TenantContext } from "../lib/tenant-context";

export const meta: MetaFunction = () => [{ title: "Channel — Switchboard" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireUser(request);
  const channelId = params.channelId ?? "";
  const { tenantId } = await preloadTenant(request, params.slug ?? "");
  if (!tenantId) return { channelId, channel: null, activity: null, events: null };
  const [channel, activity, events] = await Promise.all([
    preload(request, api.channels.get, { tenantId, channelId }),
    preload(request, api.channels.activity, { tenantId, channelId: channelId as Id<"channels"> }),
    preload(request, api.channels.recentEvents, { tenantId, channelId: channelId as Id<"channels"> }),
  ]);
  return { channelId, channel, activity, events };
}

export default function ChannelPage() {
  const { channelId, ...preloaded } = useLoaderData<typeof loader>();
  const tenant = useTenant();
  // Throws NOT_FOUND for an address that is no channel of this workspace: the boundary says so.
  const channel = usePreloaded(api.channels.get, { tenantId: tenant.tenantId, channelId }, preloaded.channel);
  if (channel === undefined) return <LoadingState label="Loading channel…" />;
  return <ChannelDetails key={channel.channelId} tenant={tenant} channel={channel} preloaded={preloaded} />;
}

type PreloadedActivity = Pick<ReturnType<typeof useLoaderData<typeof loader>>, "activity" | "events">;

function ChannelDetails({
  tenant,
  channel,
  preloaded,
}: {
  tenant: TenantContext;
  channel: Channel;
  preloaded: PreloadedActivity;
}) {
  const location = useLocation();
  const connected = (location.state as { connected?: boolean } | null)?.connected === true;
  const [status, setStatus] = useState<string | null>(
    connected
      ? `Connected ${channel.name}. Now paste the webhook URL below into ${providerName(channel)}.`
      : null,
  );
  const channels = `/t/${encodeURIComponent(tenant.slug)}/channels`;

  return (
    <div className="space-y-10">
      <div>
        <Link to={channels} className="text-sm font-medium text-brand-700 underline-offset-2 hover:underline">
          ← All channels
        </Link>
        <div className="mt-2">
          <PageHeader
            eyebrow={`${KIND_LABELS[channel.kind]} channel`}
            title={channel.name}
            description={
              <span className="flex flex-wrap items-center gap-2">
                <span>{channelAddress(channel)}</span>
                <EnabledBadge enabled={channel.enabled} />
              </span>
            }
            actions={
              tenant.canAdminWrite ? (
                <EnableToggle tenant={tenant} channel={channel} onStatus={setStatus} />
              ) : null
            }
          />
        </div>
        <FormStatus message={status} />
      </div>

      <ConnectSection channel={channel} />
      <HealthSection tenant={tenant} channel={channel} />
      <DetailsSection channel={channel} />

      <Section
        id="activity"
        title="Live activity"
        description="The latest 50 messages in and out, with their delivery status. This list updates by itself."
      >
        <MessageActivity
          tenantId={tenant.tenantId}
          channelId={channel.channelId}
          channelName={channel.name}
          preloaded={preloaded.activity}
        />
      </Section>

      {tenant.canAdminRead ? (
        <Section
          id="webhook-events"
          title="Webhook events"
          description="The latest 50 webhooks received for this channel and whether processing them worked. Failed ones are retried, then kept as dead letters."
        >
          <WebhookEvents
            tenantId={tenant.tenantId}
            channelId={channel.channelId}
            channelName={channel.name}
            preloaded={preloaded.events}
          />
        </Section>
      ) : null}

      {tenant.canAdminWrite ? (
        <Section id="edit" title="Edit channel" description="Change the details or replace a secret.">
          <div className="rounded-2xl border border-slate-200 bg-white p-6 shadow-sm">
            <EditForm tenant={tenant} channel={channel} />
          </div>
        </Section>
      ) : null}
    </div>
  );
}

function providerName(channel: Channel): string {
  return channel.kind === "cloud" ? "Meta's App Dashboard" : "your WAHA session's webhook settings";
}

function ConnectSection({ channel }: { channel: Channel }) {
  const { url, path } = channel.webhook;
  return (
    <Section
      id="connect"
      title="Webhook"
      description={`Where ${channel.kind === "cloud" ? "Meta" : "WAHA"} must send this number's events.`}
    >
      <div className="space-y-4 rounded-2xl border border-slate-200 bg-white p-6 shadow-sm">
        {url ? (
          <CopyField label="Webhook URL" value={url} />
        ) : (
          <p className="text-sm text-amber-800">
            This deployment does not know its public address (CONVEX_SITE_URL), so only the path is known:{" "}
            <code className="font-mono">{path}</code> on the Convex HTTP actions URL.
          </p>
        )}
        {channel.kind === "cloud" ? (
          <ol className="list-decimal space-y-1 pl-5 text-sm text-slate-600">
            <li>In Meta&apos;s App Dashboard open WhatsApp → Configuration and edit the webhook.</li>
            <li>
              Paste this URL as the callback URL and enter the verify token your platform operator set
              (WHATSAPP_VERIFY_TOKEN).
            </li>
            <li>
              Subscribe to the <code className="font-mono">messages</code> field (and{" "}
              <code className="font-mono">message_template_status_update</code>,{" "}
              <code className="font-mono">phone_number_quality_update</code> for health).
            </li>
          </ol>
        ) : (
          <ol className="list-decimal space-y-1 pl-5 text-sm text-slate-600">
            <li>
              In the WAHA session <code className="font-mono">{channel.session}</code>, add a webhook with
              this URL.
            </li>
            <li>
              Subscribe it to <code className="font-mono">message</code>,{" "}
              <code className="font-mono">message.ack</code> and{" "}
              <code className="font-mono">session.status</code>.
            </li>
            <li>Set its HMAC key to the webhook HMAC key of this channel; unsigned webhooks are refused.</li>
          </ol>
        )}
      </div>
    </Section>
  );
}

function Item({ term, children }: { term: string; children: ReactNode }) {
  return (
    <div className="py-2 sm:grid sm:grid-cols-3 sm:gap-4">
      <dt className="text-sm font-medium text-slate-500">{term}</dt>
      <dd className="mt-1 text-sm text-slate-900 sm:col-span-2 sm:mt-0">{children}</dd>
    </div>
  );
}

function HealthSection({ tenant, channel }: { tenant: TenantContext; channel: Channel }) {
  const { health } = channel;
  const refreshStatus = useAction(api.channels.refreshStatus);
  const [refreshing, setRefreshing] = useState(false);
  const [result, setResult] = useState<string | null>(null);
  const refresh = async () => {
    setRefreshing(true);
    setResult(null);
    try {
      const answer = await refreshStatus({ tenantId: tenant.tenantId, channelId: channel.channelId });
      setResult(answer.ok ? `Asked ${providerName(channel)} just now` : answer.message);
    } catch (error) {
      setResult(toAppError(error).message);
    } finally {
      setRefreshing(false);
    }
  };
  return (
    <Section id="health" title="Health">
      <div className="mb-3 flex flex-wrap items-center gap-3">
        <Button size="sm" onClick={refresh} busy={refreshing} busyLabel="Asking…">
          {channel.kind === "waha" ? "Refresh session status" : "Refresh quality and tier"}
        </Button>
        <FormStatus message={result} />
      </div>
      <dl className="divide-y divide-slate-100 rounded-2xl border border-slate-200 bg-white px-6 py-2 shadow-sm">
        <Item term="Last webhook received">
          <LastWebhook at={health.lastWebhookAt} />
        </Item>
        {channel.kind === "waha" ? (
          <Item term="WAHA session status">
            <Badge tone={wahaStatusInfo(health.wahaStatus).tone}>
              {wahaStatusInfo(health.wahaStatus).label}
            </Badge>
          </Item>
        ) : (
          <>
            <Item term="Quality rating">
              <Badge tone={qualityInfo(health.qualityRating).tone}>
                {qualityInfo(health.qualityRating).label}
              </Badge>
            </Item>
            <Item term="Messaging tier">{tierLabel(health.messagingTier)}</Item>
          </>
        )}
      </dl>
    </Section>
  );
}

function DetailsSection({ channel }: { channel: Channel }) {
  return (
    <Section id="details" title="Details">
      <dl className="divide-y divide-slate-100 rounded-2xl border border-slate-200 bg-white px-6 py-2 shadow-sm">
        <Item term="Kind">{KIND_LABELS[channel.kind]}</Item>
        {channel.kind === "cloud" ? (
          <>
            <Item term="Display number">{channel.displayNumber}</Item>
            <Item term="Phone number ID">
              <span className="font-mono">{channel.phoneNumberId}</span>
            </Item>
            <Item term="WhatsApp Business Account ID">
              <span className="font-mono">{channel.wabaId}</span>
            </Item>
          </>
        ) : (
          <>
            <Item term="Server address">
              <span className="font-mono break-all">{channel.baseUrl}</span>
            </Item>
            <Item term="Session">
              <span className="font-mono">{channel.session}</span>
            </Item>
          </>
        )}
        {SECRET_FIELDS[channel.kind].map((field) => (
          <Item key={field} term={SECRET_LABELS[field]}>
            <span className="font-mono">{secretMask(channel.secretHints[field])}</span>
          </Item>
        ))}
        <Item term="Connected">{formatDateTime(channel.createdAt)}</Item>
      </dl>
    </Section>
  );
}

function EnableToggle({
  tenant,
  channel,
  onStatus,
}: {
  tenant: TenantContext;
  channel: Channel;
  onStatus: (message: string) => void;
}) {
  const setEnabled = useMutation(api.channels.setEnabled);
  const enabling = !channel.enabled;
  return (
    <ConfirmButton
      title={`${enabling ? "Enable" : "Disable"} ${channel.name}?`}
      description={
        enabling ? (
          <p>Messages on this number are handled again: the assistant answers and campaigns may send.</p>
        ) : (
          <p>
            {channel.kind === "waha"
              ? "Nothing is sent from this session while it is disabled, and WAHA's webhooks to it are refused."
              : "Nothing is sent from this number while it is disabled."}{" "}
            You can enable it again at any time.
          </p>
        )
      }
      confirmLabel={enabling ? "Enable channel" : "Disable channel"}
      busyLabel={enabling ? "Enabling…" : "Disabling…"}
      destructive={!enabling}
      buttonProps={{ variant: enabling ? "primary" : "secondary", size: "md" }}
      onConfirm={async () => {
        await setEnabled({ tenantId: tenant.tenantId, channelId: channel.channelId, enabled: enabling });
        onStatus(`${channel.name} is ${enabling ? "enabled" : "disabled"}`);
      }}
    />
  );
}

function EditForm({ tenant, channel }: { tenant: TenantContext; channel: Channel }) {
  const update = useAction(api.channels.update);
  return (
    <ChannelForm
      kind={channel.kind}
      channel={channel}
      aria-label={`Edit ${channel.name}`}
      submitLabel="Save changes"
      busyLabel="Saving…"
      onSubmit={async (values) => {
        await update({ tenantId: tenant.tenantId, channelId: channel.channelId, channel: values });
        return "Changes saved";
      }}
    />
  );
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
