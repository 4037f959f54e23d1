// /t/<slug>/settings: the workspace's name, currency, time zone and default country (admins), and
// its sending switch (owners pause and resume; admins see it).
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useMutation, useQuery } from "convex/react";
import { api } from "../../convex/_generated/api";
import { currencyLockedMessage } from "../../convex/shared/currencies";
import { DataRouteErrorView } from "../components/data-error-view";
import { NotAllowed } from "../components/not-allowed";
import { PageHeader, Section } from "../components/page-header";
import { RetentionForm } from "../components/retention-form";
import { SendingSwitchCard } from "../components/sending-switch";
import { LoadingState } from "../components/spinner";
import { TenantSettingsForm } from "../components/tenant-settings-form";
import { requireUser } from "../lib/auth.server";
import { withArticle } from "../lib/roles";
import { useTenant, type TenantContext } from "../lib/tenant-context";

export const meta: MetaFunction = () => [{ title: "Settings — Switchboard" }];

export async function loader({ request }: LoaderFunctionArgs) {
  await requireUser(request);
  return null;
}

export default function SettingsPage() {
  const tenant = useTenant();
  if (!tenant.canAdminWrite) {
    return (
      <NotAllowed
        message={
          tenant.isMember
            ? `You need the admin role to change settings. You are ${withArticle(tenant.role)} in ${tenant.name}; ask an owner or admin if you need more access.`
            : "You need the admin role in this workspace to change its settings."
        }
        backTo={{ to: `/t/${encodeURIComponent(tenant.slug)}`, label: "Back to the overview" }}
      />
    );
  }
  return <SettingsEditor tenant={tenant} />;
}

function SettingsEditor({ tenant }: { tenant: TenantContext }) {
  const current = useQuery(api.tenants.get, { tenantId: tenant.tenantId });
  const wallet = useQuery(api.billing.wallet, { tenantId: tenant.tenantId });
  const update = useMutation(api.tenants.updateSettings);
  return (
    <div className="max-w-2xl">
      <PageHeader
        title="Settings"
        description={`How ${tenant.name} works: its name, money, time and phone numbers.`}
      />
      {current === undefined || wallet === undefined ? (
        <LoadingState label="Loading settings…" />
      ) : (
        <div className="rounded-2xl border border-slate-200 bg-white p-6 shadow-sm">
          <TenantSettingsForm
            initial={{
              name: current.name,
              currency: current.currency,
              timeZone: current.timeZone,
              defaultCountry: current.defaultCountry,
            }}
            currencyLocked={wallet.currencyLocked ? currencyLockedMessage(wallet.currency) : null}
            submitLabel="Save settings"
            busyLabel="Saving…"
            onSubmit={async (values) => {
              await update({ tenantId: tenant.tenantId, ...values });
              return "Settings saved";
            }}
          />
        </div>
      )}
      <div className="mt-8">
        <SendingSection tenant={tenant} />
      </div>
      <div className="mt-8">
        <RetentionSection tenant={tenant} />
      </div>
    </div>
  );
}

/** How long the workspace's data is kept; the nightly retention job deletes what is older. */
function RetentionSection({ tenant }: { tenant: TenantContext }) {
  const current = useQuery(api.reconciliation.retention, { tenantId: tenant.tenantId });
  const save = useMutation(api.reconciliation.setWorkspaceRetention);
  return (
    <Section
      id="retention"
      title="Data retention"
      description="How long this workspace keeps its data. Every night, older messages, webhook events and email records are deleted for good; messages still being sent or billed are kept until they are done."
    >
      {current === undefined ? (
        <LoadingState label="Loading retention…" />
      ) : (
        <div className="rounded-2xl border border-slate-200 bg-white p-6 shadow-sm">
          <RetentionForm
            initial={current}
            defaults={current.defaults}
            onSubmit={async (values) => {
              await save({ tenantId: tenant.tenantId, ...values });
              return "Retention saved";
            }}
          />
        </div>
      )}
    </Section>
  );
}

/** The workspace's kill switch: owners pause and resume sending, with a reason. */
function SendingSection({ tenant }: { tenant: TenantContext }) {
  const status = useQuery(api.sending.status, { tenantId: tenant.tenantId });
  const setPaused = useMutation(api.sending.setPaused);
  if (status === undefined) return <LoadingState label="Loading sending…" />;
  const pause = status.tenant;
  const isOwner = tenant.isMember && tenant.role === "owner";
  return (
    <SendingSwitchCard
      id="sending"
      title="Sending"
      scope="tenant"
      description="Pause every WhatsApp message this workspace sends (replies, templates, campaigns, the assistant) at once, for example when a campaign went out wrong. Queued messages wait and go out when you resume."
      pause={pause}
      canChange={isOwner && !pause?.byPlatform}
      cannotChange={
        pause?.byPlatform
          ? "The platform team paused sending for this workspace; only they can resume it. Contact support."
          : "Only owners can pause or resume sending."
      }
      onSet={(paused, reason) => setPaused({ tenantId: tenant.tenantId, paused, reason })}
    />
  );
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
