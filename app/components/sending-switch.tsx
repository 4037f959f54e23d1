// Kill switches on the pages (decision 021): the banner every page of a paused workspace shows,
// and the card that pauses or resumes sending, with a required reason (and, for the global switch,
// a phrase to type) in a confirmation dialog. The state is live: every open page sees a switch
// flip as soon as it commits.
import { Link } from "@remix-run/react";
import type { Preloaded } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useState, type ReactNode } from "react";
import { api } from "../../convex/_generated/api";
import { formatDateTime } from "../lib/format";
import type { TenantContext } from "../lib/tenant-context";
import { usePreloaded } from "../lib/use-preloaded";
import { ConfirmDialog } from "./confirm-dialog";
import { Button } from "./button";
import { TextField } from "./form-field";
import { TextAreaField } from "./text-area-field";

export type PauseView = NonNullable<FunctionReturnType<typeof api.sending.status>["tenant"]>;

/** What the global switch asks to be typed before it stops every message on the platform. */
export const STOP_ALL_PHRASE = "STOP ALL SENDING";

/** Who paused, since when and why, in one sentence. */
export function pauseSentence(scope: "global" | "tenant", pause: PauseView): string {
  const where = scope === "global" ? "on the whole platform" : "for this workspace";
  return `Sending is paused ${where} by ${pause.by} since ${formatDateTime(pause.since)}: ${pause.reason}`;
}

/**
 * The banner on every page of a workspace whose messages are not going out: in the first paint
 * from the layout's loader, then live.
 */
export function SendingBanner({
  tenant,
  preloaded,
}: {
  tenant: TenantContext;
  preloaded: Preloaded<typeof api.sending.status> | null;
}) {
  const status = usePreloaded(api.sending.status, { tenantId: tenant.tenantId }, preloaded);
  if (!status || (!status.global && !status.tenant)) return null;
  const canResume = tenant.isMember && tenant.role === "owner" && status.tenant && !status.tenant.byPlatform;
  const settings = `/t/${encodeURIComponent(tenant.slug)}/settings#sending`;
  return (
    <div
      role="status"
      aria-label="Sending is paused"
      data-testid="sending-banner"
      className="mb-6 space-y-1 rounded-lg border border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-950"
    >
      <p className="font-semibold">Sending is paused: no WhatsApp messages leave this workspace.</p>
      {status.global ? <p>{pauseSentence("global", status.global)}.</p> : null}
      {status.tenant ? (
        <p>
          {pauseSentence("tenant", status.tenant)}.{" "}
          {canResume ? (
            <Link to={settings} className="font-medium text-amber-900 underline underline-offset-2">
              Resume sending
            </Link>
          ) : status.tenant.byPlatform ? (
            "Only the platform team can resume it."
          ) : null}
        </p>
      ) : null}
      <p className="text-amber-900">
        Replies and templates are refused; messages already queued wait and go out when sending resumes.
      </p>
    </div>
  );
}

/**
 * The state of one switch and the button that flips it, asking for a reason first (and for
 * `phrase` to be typed before pausing, when given). `onSet` runs the mutation.
 */
export function SendingSwitchCard({
  id,
  title,
  description,
  pause,
  scope,
  canChange,
  cannotChange,
  phrase,
  onSet,
}: {
  id: string;
  title: string;
  description: ReactNode;
  pause: PauseView | null;
  scope: "global" | "tenant";
  canChange: boolean;
  /** Why the viewer may not flip it (shown instead of the button). */
  cannotChange?: ReactNode;
  phrase?: string;
  onSet: (paused: boolean, reason: string) => Promise<unknown>;
}) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const [typed, setTyped] = useState("");
  const paused = pause !== null;
  const needsPhrase = !paused && phrase !== undefined;
  return (
    <section
      id={id}
      aria-labelledby={`${id}-title`}
      className="rounded-2xl border border-slate-200 bg-white p-6 shadow-sm"
    >
      <div className="flex flex-col gap-3 sm:flex-row sm:items-start sm:justify-between">
        <div className="min-w-0">
          <h2 id={`${id}-title`} className="text-lg font-semibold text-slate-900">
            {title}
          </h2>
          <p className="mt-1 text-sm text-slate-600">{description}</p>
        </div>
        <span
          data-testid={`${id}-state`}
          className={`inline-flex shrink-0 items-center rounded-full px-2.5 py-0.5 text-sm font-medium ${
            paused ? "bg-red-100 text-red-800" : "bg-emerald-100 text-emerald-800"
          }`}
        >
          {paused ? "Paused" : "Sending"}
        </span>
      </div>
      {pause ? <p className="mt-4 text-sm text-slate-800">{pauseSentence(scope, pause)}.</p> : null}
      <div className="mt-4">
        {canChange ? (
          <Button
            variant={paused ? "primary" : "danger"}
            onClick={() => {
              setReason("");
              setTyped("");
              setOpen(true);
            }}
          >
            {paused ? "Resume sending" : "Pause sending"}
          </Button>
        ) : (
          <p className="text-sm text-slate-600">{cannotChange}</p>
        )}
      </div>
      <ConfirmDialog
        open={open}
        title={paused ? "Resume sending?" : scope === "global" ? "Stop all sending?" : "Pause sending?"}
        destructive={!paused}
        confirmLabel={paused ? "Resume sending" : "Pause sending"}
        busyLabel={paused ? "Resuming…" : "Pausing…"}
        confirmDisabled={reason.trim().length < 3 || (needsPhrase && typed.trim() !== phrase)}
        onConfirm={() => onSet(!paused, reason)}
        onClose={() => setOpen(false)}
        description={
          <div className="space-y-4">
            <p>
              {paused
                ? "Messages resume at once, and those held while sending was paused go out."
                : scope === "global"
                  ? "No WhatsApp message leaves any workspace until a platform admin resumes sending: replies, templates, campaigns, the assistant. Queued messages wait."
                  : "No WhatsApp message leaves this workspace until sending is resumed: replies, templates, campaigns, the assistant. Queued messages wait."}
            </p>
            <TextAreaField
              label="Reason"
              hint="Required; shown to the workspace and kept in the audit log."
              rows={2}
              value={reason}
              onChange={(e) => setReason(e.target.value)}
              name="reason"
            />
            {needsPhrase ? (
              <TextField
                label={
                  <>
                    Type <strong>{phrase}</strong> to confirm
                  </>
                }
                value={typed}
                onChange={(e) => setTyped(e.target.value)}
                name="confirmation"
                autoComplete="off"
              />
            ) : null}
          </div>
        }
      />
    </section>
  );
}
