// Data exports and erasures (convex/privacy.ts): a live progress bar per job, the download link of
// a finished export, and the dialogs that start an erasure only after the person types what they
// are about to erase.
import { Link } from "@remix-run/react";
import { useMutation } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useState } from "react";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { toAppError } from "../lib/convex-errors";
import { Button, buttonClass } from "./button";
import { ConfirmDialog } from "./confirm-dialog";
import { FormError } from "./form-field";

export type PrivacyJob = FunctionReturnType<typeof api.privacy.jobs>[number];

const PHASES: Record<string, string> = {
  contact: "Reading the contact",
  tenant: "Reading the workspace",
  contacts: "Contacts",
  consent: "Consent history",
  conversations: "Conversations and messages",
  messages: "Messages",
  assistantTurns: "Assistant turns",
  campaigns: "Campaigns",
  campaignRecipients: "Campaign recipients",
  ledger: "Ledger entries",
  webhooks: "Webhook events and dead letters",
  emails: "Emails",
  imports: "Contact imports",
  exports: "Earlier exports",
  audit: "Audit log",
  finish: "Finishing",
  done: "Done",
};

const KIND_LABELS: Record<PrivacyJob["kind"], string> = {
  export_contact: "Contact export",
  export_tenant: "Workspace export",
  erase_contact: "Contact erasure",
  erase_tenant: "Workspace erasure",
};

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** One export or erasure: what, its progress while it runs, and its outcome. */
export function PrivacyJobCard({
  job,
  slug,
  tenantId,
}: {
  job: PrivacyJob;
  slug: string;
  tenantId: Id<"tenants">;
}) {
  const resume = useMutation(api.privacy.resumeErasure);
  const [error, setError] = useState<string | null>(null);
  const percent =
    job.state === "done" ? 100 : Math.floor((job.phasesDone / Math.max(1, job.phasesTotal)) * 100);
  const erasure = job.kind.startsWith("erase_");
  return (
    <div className="space-y-2 rounded-xl border border-slate-200 bg-white p-4" data-job={job.reference}>
      <p className="text-sm font-medium text-slate-900">
        {KIND_LABELS[job.kind]} <span className="tabular-nums text-slate-500">{job.reference}</span>
      </p>
      <div
        role="progressbar"
        aria-label={`${KIND_LABELS[job.kind]} progress`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
        className="h-2 w-full overflow-hidden rounded-full bg-slate-200"
      >
        <div
          className={`h-full transition-all ${job.state === "failed" ? "bg-red-500" : "bg-brand-600"}`}
          style={{ width: `${percent}%` }}
        />
      </div>
      <p className="text-sm text-slate-700" aria-live="polite">
        {job.state === "running"
          ? `${PHASES[job.phase] ?? job.phase}… step ${job.phasesDone + 1} of ${job.phasesTotal} · ${job.processed.toLocaleString("en-US")} records so far`
          : job.state === "done"
            ? erasure
              ? `Erased: ${job.processed.toLocaleString("en-US")} records deleted or redacted (${job.reason}).`
              : `Ready: ${job.processed.toLocaleString("en-US")} records${job.bytes !== null ? `, ${size(job.bytes)}` : ""}.`
            : `Stopped: ${job.error ?? "unknown error"}`}
      </p>
      <p className="text-xs text-slate-500">
        Requested by {job.requestedByEmail} on {new Date(job.createdAt).toLocaleString()}
        {job.expiresAt ? ` · available until ${new Date(job.expiresAt).toLocaleString()}` : ""}
      </p>
      {job.state === "done" && !erasure ? (
        <a
          href={`/t/${encodeURIComponent(slug)}/exports/${job.jobId}`}
          className={buttonClass("primary", "sm")}
          download
        >
          Download JSON
        </a>
      ) : null}
      {job.state === "failed" && erasure ? (
        <Button
          size="sm"
          onClick={async () => {
            setError(null);
            try {
              await resume({ tenantId, jobId: job.jobId });
            } catch (e) {
              setError(toAppError(e).message);
            }
          }}
        >
          Start again
        </Button>
      ) : null}
      <FormError message={error} />
    </div>
  );
}

/**
 * The erase dialog: nothing happens until the person types the contact's name or number; the
 * server checks it again.
 */
export function EraseContactDialog({
  open,
  onClose,
  expected,
  onConfirm,
}: {
  open: boolean;
  onClose: () => void;
  /** What to type, as shown (the name, or the number when there is no name). */
  expected: string;
  onConfirm: (typed: string) => Promise<unknown>;
}) {
  const [typed, setTyped] = useState("");
  const matches =
    typed.replace(/\s+/g, " ").trim().toLowerCase() === expected.replace(/\s+/g, " ").trim().toLowerCase();
  return (
    <ConfirmDialog
      open={open}
      onClose={() => {
        setTyped("");
        onClose();
      }}
      title="Erase this contact?"
      confirmLabel="Erase contact"
      busyLabel="Erasing…"
      confirmDisabled={!matches}
      onConfirm={() => onConfirm(typed)}
      description={
        <div className="space-y-3">
          <p>
            On the customer&apos;s request, everything about them is deleted: identifiers, conversations and
            messages with their media, the assistant&apos;s summaries, consent history, campaign recipient
            rows, webhook events, import rows and earlier exports. Their name and number are removed from the
            audit log. If they opted out, they stay opted out should they come back. This cannot be undone.
          </p>
          <label className="block text-sm font-medium text-slate-900">
            Type <span className="font-semibold">{expected}</span> to confirm
            <input
              className="mt-1 w-full rounded-lg border border-slate-300 px-3 py-2 text-sm"
              value={typed}
              onChange={(e) => setTyped(e.target.value)}
              autoComplete="off"
              aria-label="Type the contact's name or number to confirm"
            />
          </label>
        </div>
      }
    />
  );
}

/** After an erasure started from the contact's page: its progress, then the way back. */
export function ErasureProgress({
  job,
  slug,
  tenantId,
}: {
  job: PrivacyJob | null | undefined;
  slug: string;
  tenantId: Id<"tenants">;
}) {
  if (!job) return <p className="text-sm text-slate-600">Starting the erasure…</p>;
  return (
    <div className="max-w-2xl space-y-4">
      <PrivacyJobCard job={job} slug={slug} tenantId={tenantId} />
      {job.state === "done" ? (
        <p className="text-sm text-slate-700">
          The contact was erased. The audit log records it under {job.reference}.{" "}
          <Link to={`/t/${encodeURIComponent(slug)}/contacts`} className="text-brand-700 hover:underline">
            Back to contacts
          </Link>
        </p>
      ) : null}
    </div>
  );
}
