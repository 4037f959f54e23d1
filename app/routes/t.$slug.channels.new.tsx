// /t/<slug>/channels/new: connect a WhatsApp number (admins). First the kind — Meta's Cloud API
// or a WAHA session — then that kind's form; on success, the channel's page with its webhook URL.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useNavigate } from "@remix-run/react";
import { useAction } from "convex/react";
import { useId, useState } from "react";
import { api } from "../../convex/_generated/api";
import { buttonClass } from "../components/button";
import { ChannelForm } from "../components/channel-form";
import { DataRouteErrorView } from "../components/data-error-view";
import { NotAllowed } from "../components/not-allowed";
import { PageHeader } from "../components/page-header";
import { requireUser } from "../lib/auth.server";
import { KIND_DESCRIPTIONS, KIND_LABELS, type ChannelKind } from "../lib/channels";
import { withArticle } from "../lib/roles";
import { useTenant, type TenantContext } from "../lib/tenant-context";

export const meta: MetaFunction = () => [{ title: "Add a channel — Switchboard" }];

export async function loader({ request }: LoaderFunctionArgs) {
  await requireUser(request);
  return null;
}

export default function NewChannelPage() {
  const tenant = useTenant();
  const channels = `/t/${encodeURIComponent(tenant.slug)}/channels`;
  if (!tenant.canAdminWrite) {
    return (
      <NotAllowed
        message={
          tenant.isMember
            ? `You need the admin role to connect channels. You are ${withArticle(tenant.role)} in ${tenant.name}.`
            : "You need the admin role in this workspace to connect channels."
        }
        backTo={{ to: channels, label: "Back to channels" }}
      />
    );
  }
  return <NewChannel tenant={tenant} channelsPath={channels} />;
}

const KINDS: ChannelKind[] = ["cloud", "waha"];

function NewChannel({ tenant, channelsPath }: { tenant: TenantContext; channelsPath: string }) {
  const [kind, setKind] = useState<ChannelKind | null>(null);
  const create = useAction(api.channels.create);
  const navigate = useNavigate();
  const legendId = useId();

  return (
    <div className="max-w-2xl space-y-8">
      <PageHeader
        title="Add a channel"
        description="Connect a WhatsApp number so its messages reach this workspace. Secrets are encrypted and never shown again in full."
      />
      <fieldset className="space-y-3">
        <legend className="text-base font-semibold text-slate-900">How is the number connected?</legend>
        <div className="grid gap-3 sm:grid-cols-2">
          {KINDS.map((k) => (
            <label
              key={k}
              className={`flex cursor-pointer gap-3 rounded-2xl border bg-white p-4 shadow-sm has-[:focus-visible]:outline-2 has-[:focus-visible]:outline-brand-600 ${
                kind === k
                  ? "border-brand-600 ring-1 ring-brand-600"
                  : "border-slate-200 hover:border-slate-300"
              }`}
            >
              <input
                type="radio"
                name="kind"
                value={k}
                checked={kind === k}
                onChange={() => setKind(k)}
                className="mt-1 accent-brand-600"
                // The card's title names the option; its longer text describes it.
                aria-label={KIND_LABELS[k]}
                aria-describedby={`${legendId}-${k}`}
              />
              <span>
                <span className="block font-medium text-slate-900">{KIND_LABELS[k]}</span>
                <span id={`${legendId}-${k}`} className="mt-1 block text-sm text-slate-600">
                  {KIND_DESCRIPTIONS[k]}
                </span>
              </span>
            </label>
          ))}
        </div>
      </fieldset>

      {kind ? (
        <section
          aria-label={`${KIND_LABELS[kind]} details`}
          className="rounded-2xl border border-slate-200 bg-white p-6 shadow-sm"
        >
          <ChannelForm
            // A fresh form per kind: values typed for one kind never leak into the other.
            key={kind}
            kind={kind}
            aria-label={`Connect a ${KIND_LABELS[kind]} channel`}
            submitLabel="Connect channel"
            busyLabel="Connecting…"
            secondaryAction={
              <Link to={channelsPath} className={buttonClass("ghost")}>
                Cancel
              </Link>
            }
            onSubmit={async (values) => {
              const channelId =
                values.kind === "cloud"
                  ? await create({
                      tenantId: tenant.tenantId,
                      channel: { ...values, accessToken: values.accessToken ?? "" },
                    })
                  : await create({
                      tenantId: tenant.tenantId,
                      channel: {
                        ...values,
                        apiKey: values.apiKey ?? "",
                        webhookHmacKey: values.webhookHmacKey ?? "",
                      },
                    });
              navigate(`${channelsPath}/${channelId}`, { state: { connected: true } });
            }}
          />
        </section>
      ) : (
        <p className="text-sm text-slate-600">Choose one to see what to fill in.</p>
      )}
    </div>
  );
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
