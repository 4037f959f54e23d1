// /t/<slug>/members: who is in the workspace and the invitations still open. Admins change roles,
// remove members and invite; everyone may leave. Destructive steps ask first.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData, useNavigate } from "@remix-run/react";
import { useMutation } from "convex/react";
import { useState, type FormEvent } from "react";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { Button } from "../components/button";
import { ConfirmButton } from "../components/confirm-dialog";
import { DataRouteErrorView } from "../components/data-error-view";
import { DataTable, type Column } from "../components/data-table";
import { EmptyState } from "../components/empty-state";
import { FormError, FormStatus, SelectField, TextField } from "../components/form-field";
import { PageHeader, Section } from "../components/page-header";
import { RoleBadge } from "../components/role-badge";
import { LoadingState } from "../components/spinner";
import { requireUser } from "../lib/auth.server";
import { preload, preloadTenant } from "../lib/preload.server";
import { usePreloaded } from "../lib/use-preloaded";
import { toAppError } from "../lib/convex-errors";
import { describeExpiry, formatDate, formatDateTime } from "../lib/format";
import { invitationLifetime, invitationSentMessage, samePendingAddress } from "../lib/invitation-messages";
import { useNow } from "../lib/relative-time";
import {
  assignableRoles,
  canManageMember,
  ROLE_DESCRIPTIONS,
  ROLE_LABELS,
  withArticle,
  type Role,
} from "../lib/roles";
import { useTenant, type TenantContext } from "../lib/tenant-context";
import { useFormSubmission } from "../lib/use-form-submission";

export const meta: MetaFunction = () => [{ title: "Members — Switchboard" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireUser(request);
  const { tenantId } = await preloadTenant(request, params.slug ?? "");
  if (!tenantId) return { members: null, invitations: null };
  const [members, invitations] = await Promise.all([
    preload(request, api.members.list, { tenantId }),
    preload(request, api.invitations.listPending, { tenantId }),
  ]);
  return { members, invitations };
}

export default function MembersPage() {
  const tenant = useTenant();
  const [status, setStatus] = useState<string | null>(null);
  return (
    <div className="space-y-12">
      <PageHeader
        title="Members"
        description={`Everyone in ${tenant.name} and what their role lets them do.`}
        actions={tenant.isMember ? <LeaveWorkspace tenant={tenant} /> : null}
      />
      <FormStatus message={status} />
      <MembersSection tenant={tenant} onStatus={setStatus} />
      {tenant.canAdminRead ? <InvitationsSection tenant={tenant} onStatus={setStatus} /> : null}
    </div>
  );
}

// ---------------------------------------------------------------- members

type Member = {
  membershipId: Id<"memberships">;
  userId: Id<"users">;
  name: string;
  email: string;
  role: Role;
  joinedAt: number;
};

type StatusProps = { tenant: TenantContext; onStatus: (message: string) => void };

function MembersSection({ tenant, onStatus }: StatusProps) {
  const preloaded = useLoaderData<typeof loader>();
  const members = usePreloaded(api.members.list, { tenantId: tenant.tenantId }, preloaded.members);
  const remove = useMutation(api.members.remove);
  const manage = (m: Member) =>
    tenant.canAdminWrite && canManageMember(tenant.role, m.role, m.userId === tenant.me.userId);

  const columns: Column<Member>[] = [
    {
      header: "Name",
      rowHeader: true,
      cell: (m) => (
        <>
          {m.name}
          {m.userId === tenant.me.userId ? (
            <span className="ml-1 font-normal text-slate-500">(you)</span>
          ) : null}
        </>
      ),
    },
    { header: "Email", cell: (m) => <span className="break-words">{m.email}</span> },
    {
      header: "Role",
      cell: (m) =>
        manage(m) ? (
          <RoleSelect tenant={tenant} member={m} onStatus={onStatus} />
        ) : (
          <RoleBadge role={m.role} />
        ),
    },
    { header: "Joined", className: "whitespace-nowrap", cell: (m) => formatDate(m.joinedAt) },
  ];
  if (tenant.canAdminWrite) {
    columns.push({
      header: <span className="sr-only">Actions</span>,
      className: "text-right",
      cell: (m) =>
        manage(m) ? (
          <ConfirmButton
            title={`Remove ${m.name}?`}
            description={
              <p>
                {m.name} ({m.email}) loses access to {tenant.name} right away. You can invite them again
                later.
              </p>
            }
            confirmLabel="Remove"
            busyLabel="Removing…"
            buttonProps={{ "aria-label": `Remove ${m.name}` }}
            onConfirm={async () => {
              await remove({ tenantId: tenant.tenantId, membershipId: m.membershipId });
              onStatus(`Removed ${m.name} from ${tenant.name}`);
            }}
          >
            Remove
          </ConfirmButton>
        ) : null,
    });
  }

  return (
    <Section
      id="members"
      title="People"
      description={members ? `${members.length} ${members.length === 1 ? "member" : "members"}` : undefined}
    >
      {members === undefined ? (
        <LoadingState label="Loading members…" />
      ) : (
        <DataTable
          caption={`Members of ${tenant.name}`}
          columns={columns}
          rows={members}
          rowKey={(m) => m.membershipId}
        />
      )}
    </Section>
  );
}

function RoleSelect({
  tenant,
  member,
  onStatus,
}: {
  tenant: TenantContext;
  member: Member;
  onStatus: (m: string) => void;
}) {
  const changeRole = useMutation(api.members.changeRole);
  // The chosen role shows while the change is saved; the live list takes over afterwards.
  const [pendingRole, setPendingRole] = useState<Role | null>(null);
  const [error, setError] = useState<string | null>(null);
  const options = assignableRoles(tenant.role);
  const busy = pendingRole !== null;
  const errorId = `role-error-${member.membershipId}`;

  const change = async (role: Role) => {
    if (busy) return;
    setPendingRole(role);
    setError(null);
    try {
      await changeRole({ tenantId: tenant.tenantId, membershipId: member.membershipId, role });
      onStatus(`${member.name} is now ${withArticle(role)}`);
    } catch (e) {
      setError(toAppError(e).message);
    } finally {
      setPendingRole(null);
    }
  };

  return (
    <div>
      <select
        aria-label={`Role for ${member.name}`}
        value={pendingRole ?? member.role}
        // Not disabled while saving: that would throw keyboard focus out of the table.
        aria-busy={busy || undefined}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? errorId : undefined}
        onChange={(e) => void change(e.target.value as Role)}
        className="rounded-lg border border-slate-300 bg-white px-2 py-1 text-sm shadow-sm focus:border-brand-600"
      >
        {options.map((role) => (
          <option key={role} value={role}>
            {ROLE_LABELS[role]}
          </option>
        ))}
      </select>
      {error ? (
        <p id={errorId} role="alert" className="mt-1 max-w-56 text-xs font-medium text-red-700">
          {error}
        </p>
      ) : null}
    </div>
  );
}

function LeaveWorkspace({ tenant }: { tenant: TenantContext }) {
  const leave = useMutation(api.members.leave);
  const navigate = useNavigate();
  return (
    <ConfirmButton
      title={`Leave ${tenant.name}?`}
      description={
        <>
          <p>You lose access to this workspace right away; to come back you need a new invitation.</p>
          {tenant.role === "owner" ? (
            <p className="mt-2">
              A workspace needs an owner: if you are the last one, make someone else an owner first.
            </p>
          ) : null}
        </>
      }
      confirmLabel="Leave workspace"
      busyLabel="Leaving…"
      buttonProps={{ variant: "secondary", size: "md" }}
      onConfirm={async () => {
        await leave({ tenantId: tenant.tenantId });
        navigate("/app", { replace: true });
      }}
    />
  );
}

// ---------------------------------------------------------------- invitations

type Invitation = {
  invitationId: Id<"invitations">;
  email: string;
  role: Role;
  expiresAt: number;
  createdAt: number;
  invitedBy: string;
  delivered: boolean;
  deliveryError: string | null;
};

function InvitationsSection({ tenant, onStatus }: StatusProps) {
  const preloaded = useLoaderData<typeof loader>();
  const pending = usePreloaded(
    api.invitations.listPending,
    { tenantId: tenant.tenantId },
    preloaded.invitations,
  );
  const resend = useMutation(api.invitations.resend);
  const revoke = useMutation(api.invitations.revoke);
  const now = useNow(30_000);

  const columns: Column<Invitation>[] = [
    {
      header: "Email",
      rowHeader: true,
      cell: (i) => (
        <>
          <span className="break-words">{i.email}</span>
          {i.invitedBy ? (
            <span className="mt-0.5 block text-xs font-normal text-slate-500">Invited by {i.invitedBy}</span>
          ) : null}
        </>
      ),
    },
    { header: "Role", cell: (i) => <RoleBadge role={i.role} /> },
    {
      header: "Status",
      cell: (i) => {
        const expiry = now === null ? null : describeExpiry(i.expiresAt, now);
        return (
          <span className="flex flex-col gap-0.5">
            <DeliveryStatus invitation={i} />
            <time
              dateTime={new Date(i.expiresAt).toISOString()}
              title={formatDateTime(i.expiresAt)}
              className={`text-xs whitespace-nowrap ${expiry?.expired ? "font-medium text-amber-700" : "text-slate-500"}`}
            >
              {expiry ? expiry.text : `expires ${formatDate(i.expiresAt)}`}
            </time>
          </span>
        );
      },
    },
  ];
  if (tenant.canAdminWrite) {
    columns.push({
      header: <span className="sr-only">Actions</span>,
      className: "text-right",
      cell: (i) => (
        <div className="flex flex-wrap justify-end gap-2">
          <ResendButton
            label={`Resend the invitation to ${i.email}`}
            onResend={async () => {
              await resend({ tenantId: tenant.tenantId, invitationId: i.invitationId });
              onStatus(`A new link is on its way to ${i.email}; the previous link no longer works.`);
            }}
          />
          {i.role !== "owner" || tenant.role === "owner" ? (
            <ConfirmButton
              title={`Revoke the invitation for ${i.email}?`}
              description={<p>The link in their email stops working. You can invite them again later.</p>}
              confirmLabel="Revoke"
              busyLabel="Revoking…"
              buttonProps={{ "aria-label": `Revoke the invitation for ${i.email}` }}
              onConfirm={async () => {
                await revoke({ tenantId: tenant.tenantId, invitationId: i.invitationId });
                onStatus(`Revoked the invitation for ${i.email}`);
              }}
            >
              Revoke
            </ConfirmButton>
          ) : null}
        </div>
      ),
    });
  }

  return (
    <Section
      id="invitations"
      title="Invitations"
      description={`People invited by email who have not answered yet. Links work for ${invitationLifetime()}.`}
    >
      {tenant.canAdminWrite ? <InviteForm tenant={tenant} onStatus={onStatus} pending={pending} /> : null}
      {pending === undefined ? (
        <LoadingState label="Loading invitations…" />
      ) : (
        <DataTable
          caption="Pending invitations"
          columns={columns}
          rows={pending}
          rowKey={(i) => i.invitationId}
          empty={
            <EmptyState
              title="No pending invitations"
              description="Invitations you send appear here until they are accepted, declined or revoked."
            />
          }
        />
      )}
    </Section>
  );
}

function DeliveryStatus({ invitation }: { invitation: Invitation }) {
  if (invitation.deliveryError) {
    return (
      <span className="text-red-700">
        <span className="font-medium">Not delivered:</span> {invitation.deliveryError}
      </span>
    );
  }
  return invitation.delivered ? (
    <span className="text-brand-700">Sent</span>
  ) : (
    <span className="text-slate-500">Sending…</span>
  );
}

function ResendButton({ label, onResend }: { label: string; onResend: () => Promise<void> }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <span className="inline-flex flex-col items-end">
      <Button
        size="sm"
        aria-label={label}
        busy={busy}
        busyLabel="Sending…"
        onClick={async () => {
          setBusy(true);
          setError(null);
          try {
            await onResend();
          } catch (e) {
            setError(toAppError(e).message);
          } finally {
            setBusy(false);
          }
        }}
      >
        Resend
      </Button>
      {error ? (
        <span role="alert" className="mt-1 text-xs font-medium text-red-700">
          {error}
        </span>
      ) : null}
    </span>
  );
}

const INVITE_FIELDS = ["email", "role"] as const;
type InviteField = (typeof INVITE_FIELDS)[number];

function InviteForm({ tenant, onStatus, pending }: StatusProps & { pending: Invitation[] | undefined }) {
  const create = useMutation(api.invitations.create);
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("agent");
  const { form, busy, errors, submit: send, invalid } = useFormSubmission<InviteField>(INVITE_FIELDS);
  const roles = assignableRoles(tenant.role).map((r) => ({
    value: r,
    label: `${ROLE_LABELS[r]} — ${ROLE_DESCRIPTIONS[r]}`,
  }));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    const address = email.trim();
    if (!address) return invalid({ email: "Enter the email address to invite" });
    const resent = samePendingAddress(pending, address);
    await send(async () => {
      await create({ tenantId: tenant.tenantId, email: address, role });
      // Clear the field unless the user already typed the next address.
      setEmail((current) => (current.trim() === address ? "" : current));
      onStatus(invitationSentMessage(address, resent));
    });
  };

  return (
    <form
      ref={form}
      noValidate
      onSubmit={submit}
      aria-label="Invite someone"
      className="rounded-2xl border border-slate-200 bg-white p-5 shadow-sm"
    >
      <div className="grid gap-4 sm:grid-cols-[1fr_16rem_auto] sm:items-start">
        <TextField
          label="Email address"
          type="email"
          name="email"
          autoComplete="off"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={errors?.fields.email}
          required
        />
        <SelectField
          label="Role"
          name="role"
          value={role}
          onChange={(e) => setRole(e.target.value as Role)}
          options={roles}
          error={errors?.fields.role}
        />
        <Button type="submit" variant="primary" busy={busy} busyLabel="Sending…" className="sm:mt-7">
          Send invitation
        </Button>
      </div>
      <div className="mt-3">
        <FormError message={errors?.form} />
      </div>
    </form>
  );
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
