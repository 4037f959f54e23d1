// The top of an open conversation: the contact and number, its state, 24-hour window and
// consent; who it is assigned to; Take over, Hand back to the assistant and Close (asked first);
// an opt-out or opt-in recorded by the team (asked first); and, when the assistant handed the
// conversation over, its reason and summary.
import { Link } from "@remix-run/react";
import { useMutation } from "convex/react";
import { useId, useState } from "react";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { toAppError } from "../lib/convex-errors";
import { formatDateTime } from "../lib/format";
import { consentSourceLabel, contactTitle, type Conversation } from "../lib/inbox";
import type { Role } from "../lib/roles";
import type { TenantContext } from "../lib/tenant-context";
import { Button } from "./button";
import { Badge } from "./channel-health";
import { ConfirmButton } from "./confirm-dialog";
import { FormError, FormStatus } from "./form-field";
import { StateBadge, WindowBadge } from "./inbox-list";

export type AssignableMember = { userId: Id<"users">; name: string; role: Role };

export function ConversationHeader({
  tenant,
  conversation: c,
  members,
  canWrite,
  backTo,
  now,
}: {
  tenant: TenantContext;
  conversation: Conversation;
  /** The workspace's members, for the assignee select (viewers are left out). */
  members: readonly AssignableMember[] | undefined;
  canWrite: boolean;
  /** The list, for the phone layout's back link. */
  backTo: string;
  now: number | null;
}) {
  const headingId = useId();
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<"takeOver" | "handBack" | null>(null);
  const takeOver = useMutation(api.conversations.takeOver);
  const handBack = useMutation(api.conversations.handBack);
  const close = useMutation(api.conversations.close);
  const title = contactTitle(c);
  const args = { tenantId: tenant.tenantId, conversationId: c.conversationId };

  const run = async (which: "takeOver" | "handBack", done: string) => {
    setBusy(which);
    setError(null);
    setStatus(null);
    try {
      await (which === "takeOver" ? takeOver(args) : handBack(args));
      setStatus(done);
    } catch (e) {
      setError(toAppError(e).message);
    } finally {
      setBusy(null);
    }
  };

  return (
    <header aria-labelledby={headingId} className="@container space-y-3">
      <Link
        to={backTo}
        className="text-sm font-medium text-brand-700 underline-offset-2 hover:underline md:hidden"
      >
        ← All conversations
      </Link>
      <div className="flex flex-col gap-3 @xl:flex-row @xl:items-start @xl:justify-between">
        <div className="min-w-0">
          <h2 id={headingId} className="text-xl font-semibold break-words text-slate-900">
            {title}
          </h2>
          <p className="text-sm break-words text-slate-600">
            {c.contactName && c.contactPhone ? `${c.contactPhone} · ` : ""}
            on {c.channelName}
          </p>
          <div className="mt-2 flex flex-wrap gap-1">
            <StateBadge state={c.state} />
            <WindowBadge closesAt={c.windowClosesAt} fallbackOpen={c.windowOpen} now={now} />
            {c.optedOut ? <Badge tone="bad">Opted out</Badge> : null}
          </div>
        </div>
        {canWrite ? (
          <div className="flex shrink-0 flex-wrap gap-2">
            {c.state !== "human" ? (
              <Button
                size="sm"
                variant="primary"
                busy={busy === "takeOver"}
                busyLabel="Taking over…"
                onClick={() =>
                  run("takeOver", "You took over: the assistant stays quiet until you hand back.")
                }
              >
                Take over
              </Button>
            ) : null}
            {c.state === "human" || c.state === "waiting" ? (
              <Button
                size="sm"
                busy={busy === "handBack"}
                busyLabel="Handing back…"
                onClick={() => run("handBack", "Handed back: the assistant answers again.")}
              >
                Hand back to assistant
              </Button>
            ) : null}
            {c.state !== "closed" ? (
              <ConfirmButton
                title={`Close the conversation with ${title}?`}
                description={
                  <p>
                    It leaves the open tabs and the assistant stops answering it. If {title} writes again, the
                    conversation reopens for the assistant.
                  </p>
                }
                confirmLabel="Close conversation"
                busyLabel="Closing…"
                onConfirm={async () => {
                  await close(args);
                  setStatus("Conversation closed.");
                }}
              >
                Close
              </ConfirmButton>
            ) : null}
          </div>
        ) : null}
      </div>

      <div className="grid gap-3 @lg:grid-cols-2">
        <Assignee
          tenant={tenant}
          conversation={c}
          members={members}
          canWrite={canWrite}
          onStatus={setStatus}
        />
        <Consent tenant={tenant} conversation={c} canWrite={canWrite} onStatus={setStatus} />
      </div>
      <FormError message={error} />
      <FormStatus message={status} />

      {c.handoff ? (
        <section
          aria-label="Handoff from the assistant"
          className="rounded-xl border border-amber-200 bg-amber-50 px-4 py-3 text-sm text-amber-950"
        >
          <p className="font-semibold">
            The assistant handed this conversation over{" "}
            <time dateTime={new Date(c.handoff.at).toISOString()} className="font-normal">
              ({formatDateTime(c.handoff.at)})
            </time>
          </p>
          <p className="mt-1">
            <span className="font-medium">Reason:</span> {c.handoff.reason}
          </p>
          <p className="mt-1 break-words whitespace-pre-wrap">
            <span className="font-medium">Summary:</span> {c.handoff.summary}
          </p>
        </section>
      ) : null}
      {c.summary ? (
        <details className="rounded-xl border border-slate-200 bg-white px-4 py-2 text-sm text-slate-700">
          <summary className="cursor-pointer font-medium text-slate-900">What the assistant handled</summary>
          <ul aria-label="What the assistant handled, oldest first" className="mt-2 list-disc space-y-1 pl-5">
            {c.summary.split("\n").map((line, i) => (
              <li key={i} className="break-words">
                {line}
              </li>
            ))}
          </ul>
        </details>
      ) : null}
    </header>
  );
}

function Assignee({
  tenant,
  conversation: c,
  members,
  canWrite,
  onStatus,
}: {
  tenant: TenantContext;
  conversation: Conversation;
  members: readonly AssignableMember[] | undefined;
  canWrite: boolean;
  onStatus: (message: string) => void;
}) {
  const id = useId();
  const assign = useMutation(api.conversations.assign);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const options = (members ?? []).filter((m) => m.role !== "viewer");
  // Someone no longer able to take conversations (removed, now a viewer) still shows as assigned.
  const missing = c.assigneeId && !options.some((m) => m.userId === c.assigneeId);
  return (
    <div>
      <label htmlFor={id} className="block text-xs font-semibold tracking-wide text-slate-500 uppercase">
        Assignee
      </label>
      <select
        id={id}
        value={c.assigneeId ?? ""}
        disabled={!canWrite || busy || members === undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        aria-invalid={error ? true : undefined}
        onChange={async (event) => {
          const userId = (event.target.value || null) as Id<"users"> | null;
          setBusy(true);
          setError(null);
          try {
            await assign({ tenantId: tenant.tenantId, conversationId: c.conversationId, userId });
            const name = options.find((m) => m.userId === userId)?.name;
            onStatus(name ? `Assigned to ${name}` : "Nobody is assigned now");
          } catch (e) {
            setError(toAppError(e).message);
          } finally {
            setBusy(false);
          }
        }}
        className="mt-1 block w-full rounded-lg border border-slate-300 bg-white px-3 py-1.5 text-sm text-slate-900 shadow-sm disabled:bg-slate-50"
      >
        <option value="">Nobody</option>
        {missing ? <option value={c.assigneeId!}>{c.assigneeName ?? "A former member"}</option> : null}
        {options.map((m) => (
          <option key={m.userId} value={m.userId}>
            {m.name}
            {m.userId === tenant.me.userId ? " (you)" : ""}
          </option>
        ))}
      </select>
      {error ? (
        <p id={`${id}-error`} className="mt-1 text-sm font-medium text-red-700">
          {error}
        </p>
      ) : null}
    </div>
  );
}

function Consent({
  tenant,
  conversation: c,
  canWrite,
  onStatus,
}: {
  tenant: TenantContext;
  conversation: Conversation;
  canWrite: boolean;
  onStatus: (message: string) => void;
}) {
  const setConsent = useMutation(api.conversations.setConsent);
  const latest = c.consent[0];
  const title = contactTitle(c);
  const optingOut = !c.optedOut;
  return (
    <div>
      <p className="text-xs font-semibold tracking-wide text-slate-500 uppercase">Consent</p>
      <div className="mt-1 flex flex-wrap items-center gap-2">
        <p className="min-w-0 flex-1 text-sm text-slate-700">
          {c.optedOut
            ? `Opted out${latest?.kind === "opt_out" ? ` on ${formatDateTime(latest.at)} (${consentSourceLabel(latest.source)})` : ""}`
            : c.marketingOptedOut
              ? `Stopped marketing messages in WhatsApp${latest?.kind === "opt_out" ? ` on ${formatDateTime(latest.at)} (${consentSourceLabel(latest.source)})` : ""}: replies and utility templates still go`
              : latest?.kind === "opt_in"
                ? `Opted in on ${formatDateTime(latest.at)} (${consentSourceLabel(latest.source)})`
                : "No opt-out recorded"}
        </p>
        {canWrite ? (
          <ConfirmButton
            title={optingOut ? `Record an opt-out for ${title}?` : `Record an opt-in for ${title}?`}
            description={
              optingOut ? (
                <p>
                  Nothing more is sent to {title} (replies, templates, campaigns) until they opt in again, for
                  example by sending START. Use this when they asked for it outside WhatsApp.
                </p>
              ) : (
                <p>
                  {title} can be sent messages and campaigns again. Record this only when they asked for it.
                </p>
              )
            }
            confirmLabel={optingOut ? "Record opt-out" : "Record opt-in"}
            busyLabel="Saving…"
            destructive={optingOut}
            onConfirm={async () => {
              await setConsent({
                tenantId: tenant.tenantId,
                conversationId: c.conversationId,
                kind: optingOut ? "opt_out" : "opt_in",
              });
              onStatus(optingOut ? `Recorded an opt-out for ${title}` : `Recorded an opt-in for ${title}`);
            }}
          >
            {optingOut ? "Record opt-out" : "Record opt-in"}
          </ConfirmButton>
        ) : null}
      </div>
      {c.consent.length > 1 ? (
        <details className="mt-1 text-xs text-slate-600">
          <summary className="cursor-pointer">Consent history</summary>
          <ul className="mt-1 space-y-0.5">
            {c.consent.map((e, i) => (
              <li key={i}>
                {e.kind === "opt_out" ? "Opted out" : "Opted in"}
                {e.scope === "marketing" ? " of marketing" : ""} {formatDateTime(e.at)} —{" "}
                {consentSourceLabel(e.source)}
              </li>
            ))}
          </ul>
        </details>
      ) : null}
    </div>
  );
}
