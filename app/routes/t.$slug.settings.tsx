// /t/<slug>/settings: the workspace's name, currency, time zone and default country (admins), and
// its sending switch (owners pause and resume; admins see it), the workspace's data export (admins)
// and, after the account is closed, the erasure of all its customer data (owners).
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useMutation, useQuery } from "convex/react";
import { useState } from "react";
import { api } from "../../convex/_generated/api";
import { currencyLockedMessage } from "../../convex/shared/currencies";
import { DataRouteErrorView } from "../components/data-error-view";
import { NotAllowed } from "../components/not-allowed";
import { Button } from "../components/button";
import { ConfirmDialog } from "../components/confirm-dialog";
import { FormError } from "../components/form-field";
import { PageHeader, Section } from "../components/page-header";
import { PrivacyJobCard } from "../components/privacy-jobs";
import { RetentionForm } from "../components/retention-form";
import { SendingSwitchCard } from "../components/sending-switch";
import { LoadingState } from "../components/spinner";
import { TenantSettingsForm } from "../components/tenant-settings-form";
import { requireUser } from "../lib/auth.server";
import { toAppError } from "../lib/convex-errors";
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
        <DataSection tenant={tenant} />
      </div>
      <div className="mt-8">
        <RetentionSection tenant={tenant} />
      </div>
    </div>
  );
}

/**
 * The workspace's data: a JSON export of every contact, conversation, message, campaign and
 * ledger entry (progress shown live), and for owners, closing the account and erasing its
 * customer data (typed confirmation).
 */
function DataSection({ tenant }: { tenant: TenantContext }) {
  const jobs = useQuery(api.privacy.jobs, { tenantId: tenant.tenantId });
  const exportTenant = useMutation(api.privacy.exportTenant);
  const eraseTenant = useMutation(api.privacy.eraseTenant);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState("");
  const isOwner = tenant.isMember && tenant.role === "owner";
  const workspaceJobs = (jobs ?? []).filter((j) => j.kind === "export_tenant" || j.kind === "erase_tenant");
  return (
    <section
      id="data"
      aria-labelledby="data-title"
      className="space-y-4 rounded-2xl border border-slate-200 bg-white p-6 shadow-sm"
    >
      <h2 id="data-title" className="text-lg font-semibold text-slate-900">
        Data export and erasure
      </h2>
      <p className="text-sm text-slate-600">
        Download everything {tenant.name} keeps about its customers as JSON: contacts with their identifiers
        and consent history, conversations, messages, the assistant&apos;s summaries, campaigns and ledger
        entries. The file is made in the background and kept for 24 hours.
      </p>
      <div className="flex flex-wrap gap-2">
        <Button
          className="w-full whitespace-normal sm:w-auto"
          busy={busy}
          busyLabel="Starting…"
          onClick={async () => {
            setBusy(true);
            setError(null);
            try {
              await exportTenant({ tenantId: tenant.tenantId });
            } catch (err) {
              setError(toAppError(err).message);
            } finally {
              setBusy(false);
            }
          }}
        >
          Export workspace data (JSON)
        </Button>
        {isOwner ? (
          <Button
            variant="danger"
            className="w-full whitespace-normal sm:w-auto"
            onClick={() => setOpen(true)}
          >
            Close account and erase customer data…
          </Button>
        ) : null}
      </div>
      <FormError message={error} />
      {jobs === undefined ? (
        <LoadingState label="Loading exports…" />
      ) : workspaceJobs.length === 0 ? (
        <p className="text-sm text-slate-500">No workspace exports yet.</p>
      ) : (
        <div className="grid gap-3">
          {workspaceJobs.map((job) => (
            <PrivacyJobCard key={job.jobId} job={job} slug={tenant.slug} tenantId={tenant.tenantId} />
          ))}
        </div>
      )}
      <ConfirmDialog
        open={open}
        onClose={() => {
          setOpen(false);
          setTyped("");
        }}
        title="Close the account and erase its customer data?"
        confirmLabel="Erase customer data"
        busyLabel="Starting…"
        confirmDisabled={typed.trim() !== tenant.slug}
        onConfirm={() => eraseTenant({ tenantId: tenant.tenantId, confirm: typed })}
        description={
          <div className="space-y-3">
            <p>
              Every channel is disabled and sending is paused. Then every contact, conversation, message,
              campaign recipient, import and webhook event of {tenant.name} is deleted, and customers&apos;
              names are removed from the audit log. The ledger stays. This cannot be undone.
            </p>
            <label className="block text-sm font-medium text-slate-900">
              Type <span className="font-semibold">{tenant.slug}</span> to confirm
              <input
                className="mt-1 w-full rounded-lg border border-slate-300 px-3 py-2 text-sm"
                value={typed}
                onChange={(e) => setTyped(e.target.value)}
                autoComplete="off"
              />
            </label>
          </div>
        }
      />
    </section>
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
      description="How long this workspace keeps its data. Every night, older messages (with their media files), assistant turns and conversation summaries, webhook events and email records are deleted for good; messages still being sent or billed are kept until they are done."
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
