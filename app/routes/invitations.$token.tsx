// /invitations/<token>: the page an invitation email links to. Signed-in only (the loader sends
// visitors to sign-in and back). Shows who invited whom to what, and lets the invitee accept or
// decline; explains invalid, used and expired links. Expiry is judged by the browser's clock.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData, useNavigate } from "@remix-run/react";
import { useMutation, useQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useState } from "react";
import { api } from "../../convex/_generated/api";
import { Button, buttonClass } from "../components/button";
import { ConfirmDialog } from "../components/confirm-dialog";
import { DataRouteErrorView } from "../components/data-error-view";
import { FormError } from "../components/form-field";
import { MessagePanel } from "../components/not-allowed";
import { RoleBadge } from "../components/role-badge";
import { SignedInGate, useMe } from "../components/signed-in-gate";
import { LoadingState } from "../components/spinner";
import { requireUser } from "../lib/auth.server";
import { clientAddress } from "../lib/local-auth/sign-in-limits.server";
import { enforceRateLimits } from "../lib/rate-limit.server";
import { orThrow, toAppError } from "../lib/convex-errors";
import { describeExpiry, formatDateTime } from "../lib/format";
import { invitationLifetime } from "../lib/invitation-messages";
import { useNow } from "../lib/relative-time";
import { useRootData } from "../lib/root-data";
import { ROLE_DESCRIPTIONS, withArticle } from "../lib/roles";

export const meta: MetaFunction = () => [
  { title: "Invitation — Switchboard" },
  // The token is a secret: keep it out of referrers to other sites.
  { name: "referrer", content: "same-origin" },
];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const user = await requireUser(request);
  // Opening links counts per user and per client address, so tokens cannot be tried at scale here.
  await enforceRateLimits([
    ["invitationPerUser", user.subject],
    ["invitationPerClient", clientAddress(request)],
  ]);
  return { token: params.token ?? "" };
}

export default function InvitationPage() {
  const { token } = useLoaderData<typeof loader>();
  return (
    <SignedInGate>
      <Invitation token={token} />
    </SignedInGate>
  );
}

type Preview = NonNullable<FunctionReturnType<typeof api.invitations.preview>>;

const USED: Record<Exclude<Preview["status"], "pending">, string> = {
  accepted: "This invitation has already been accepted.",
  declined: "This invitation was declined.",
  revoked: "This invitation was withdrawn by the workspace, or replaced by a newer one.",
};

function Invitation({ token }: { token: string }) {
  const me = useMe();
  const preview = useQuery(api.invitations.preview, { token });
  const now = useNow(30_000);
  if (preview === undefined || now === null) return <LoadingState label="Opening the invitation…" />;

  if (preview === null) {
    return (
      <MessagePanel
        eyebrow="Invitation"
        title="This invitation link is not valid"
        message="The link may be incomplete, or a newer invitation replaced it (sending an invitation again makes the old link stop working). Ask the person who invited you for a new one."
        alert
      >
        <HomeLink />
      </MessagePanel>
    );
  }

  const workspaceLink = preview.tenantSlug ? `/t/${encodeURIComponent(preview.tenantSlug)}` : null;
  if (preview.alreadyMember && preview.status !== "pending") {
    return (
      <MessagePanel
        eyebrow="Invitation"
        title={`You are a member of ${preview.tenantName}`}
        message={USED[preview.status]}
      >
        {workspaceLink ? (
          <Link to={workspaceLink} className={buttonClass("primary")}>
            Open {preview.tenantName}
          </Link>
        ) : (
          <HomeLink />
        )}
      </MessagePanel>
    );
  }
  if (preview.status !== "pending") {
    return (
      <MessagePanel
        eyebrow="Invitation"
        title="This invitation can no longer be used"
        message={`${USED[preview.status]} Ask the person who invited you for a new one if you still need access.`}
        alert
      >
        <HomeLink />
      </MessagePanel>
    );
  }
  const expiry = describeExpiry(preview.expiresAt, now);
  if (expiry.expired) {
    return (
      <MessagePanel
        eyebrow="Invitation"
        title="This invitation has expired"
        message={`Invitations work for ${invitationLifetime()}; this one ${expiry.text} (${formatDateTime(preview.expiresAt)}). Ask ${preview.invitedBy} to send a new one.`}
        alert
      >
        <HomeLink />
      </MessagePanel>
    );
  }
  return <PendingInvitation token={token} preview={preview} expiry={expiry.text} signedInAs={me.email} />;
}

function PendingInvitation({
  token,
  preview,
  expiry,
  signedInAs,
}: {
  token: string;
  preview: Preview;
  expiry: string;
  signedInAs: string;
}) {
  const accept = useMutation(api.invitations.accept);
  const decline = useMutation(api.invitations.decline);
  const navigate = useNavigate();
  const [accepting, setAccepting] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [confirmDecline, setConfirmDecline] = useState(false);
  const canAnswer = preview.forYou && preview.emailVerified;

  const onAccept = async () => {
    setAccepting(true);
    setError(null);
    try {
      const { slug } = orThrow(await accept({ token }));
      navigate(`/t/${encodeURIComponent(slug)}`, { replace: true });
    } catch (e) {
      setError(toAppError(e).message);
      setAccepting(false);
    }
  };

  return (
    <section
      aria-labelledby="invitation-title"
      className="mx-auto max-w-xl rounded-2xl border border-slate-200 bg-white p-8 shadow-sm"
    >
      <p className="text-sm font-semibold tracking-wide text-brand-700 uppercase">Invitation</p>
      <h1 id="invitation-title" className="mt-2 text-2xl font-semibold tracking-tight text-slate-900">
        Join {preview.tenantName}
      </h1>
      <p className="mt-3 text-slate-600">
        {preview.invitedBy} invited you to join {preview.tenantName} on Switchboard as{" "}
        {withArticle(preview.role)}.
      </p>
      <dl className="mt-6 grid gap-4 text-sm sm:grid-cols-2">
        <div>
          <dt className="font-medium text-slate-500">Role</dt>
          <dd className="mt-1">
            <RoleBadge role={preview.role} />{" "}
            <span className="text-slate-600">{ROLE_DESCRIPTIONS[preview.role]}</span>
          </dd>
        </div>
        <div>
          <dt className="font-medium text-slate-500">Link</dt>
          <dd className="mt-1 text-slate-900">
            <time
              dateTime={new Date(preview.expiresAt).toISOString()}
              title={formatDateTime(preview.expiresAt)}
            >
              {expiry.charAt(0).toUpperCase() + expiry.slice(1)}
            </time>
          </dd>
        </div>
      </dl>

      {preview.forYou ? null : (
        <div
          role="alert"
          className="mt-6 rounded-lg border border-amber-200 bg-amber-50 px-4 py-3 text-sm text-amber-900"
        >
          <p>
            This invitation is for <strong>{preview.email}</strong>, but you are signed in as{" "}
            <strong>{signedInAs}</strong>. Sign in as {preview.email} to accept it.
          </p>
          <Form method="post" action="/sign-out" className="mt-2">
            <button type="submit" className="font-medium underline">
              Sign out
            </button>
          </Form>
        </div>
      )}
      {preview.forYou && !preview.emailVerified ? (
        <UnverifiedEmail email={preview.email} token={token} />
      ) : null}
      {preview.alreadyMember ? (
        <p className="mt-6 rounded-lg bg-slate-50 px-4 py-3 text-sm text-slate-700">
          You are already a member of {preview.tenantName}; accepting keeps your current role.
        </p>
      ) : null}

      <div className="mt-6">
        <FormError message={error} />
      </div>
      <div className="mt-6 flex flex-col-reverse gap-3 sm:flex-row sm:justify-end">
        <Button onClick={() => setConfirmDecline(true)} disabled={!canAnswer || accepting}>
          Decline
        </Button>
        <Button
          variant="primary"
          onClick={onAccept}
          busy={accepting}
          busyLabel="Joining…"
          disabled={!canAnswer}
        >
          Accept invitation
        </Button>
      </div>
      <ConfirmDialog
        open={confirmDecline}
        title={`Decline the invitation to ${preview.tenantName}?`}
        description={<p>The link stops working. To join later you will need a new invitation.</p>}
        confirmLabel="Decline invitation"
        busyLabel="Declining…"
        onConfirm={async () => orThrow(await decline({ token }))}
        onClose={() => setConfirmDecline(false)}
      />
    </section>
  );
}

/** Answering needs a verified email; local accounts verify theirs on the account page. */
function UnverifiedEmail({ email, token }: { email: string; token: string }) {
  const local = useRootData()?.auth.mode === "local";
  const next = `/invitations/${encodeURIComponent(token)}`;
  return (
    <div
      role="alert"
      className="mt-6 rounded-lg border border-amber-200 bg-amber-50 px-4 py-3 text-sm text-amber-900"
    >
      <p>
        <strong>Your email address is not verified yet.</strong> An invitation can only be accepted from an
        account that has proved it owns {email}.
      </p>
      {local ? (
        <p className="mt-2">
          Accounts on this server&apos;s own sign-in are unverified until you open a link sent to the address.{" "}
          <Link to={`/account?${new URLSearchParams({ next })}`} className="font-medium underline">
            Verify your email address
          </Link>
          , then come back to this page.
        </p>
      ) : (
        <p className="mt-2">Verify the address with your sign-in provider, then sign in again.</p>
      )}
    </div>
  );
}

function HomeLink() {
  return (
    <Link to="/app" className={buttonClass("primary")}>
      Go to your workspaces
    </Link>
  );
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
