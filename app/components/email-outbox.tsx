// The sent-mail list shared by a workspace's outbox and the platform admin's: subject, recipient,
// time and delivery status, each row expandable to read the text body with working links (on the
// embedded default this is the mailbox: it is how an invitee opens their invitation).
import { useExpandedRows } from "../lib/use-expanded-rows";
import type { FunctionReturnType } from "convex/server";
import type { api } from "../../convex/_generated/api";
import { formatDateTime } from "../lib/format";
import { DataTable, type Column } from "./data-table";
import { EmptyState } from "./empty-state";
import { LinkifiedText } from "./linkified-text";

export type OutboxEmail = FunctionReturnType<typeof api.emails.listAll>[number];

const STATUS: Record<OutboxEmail["status"], { label: string; className: string }> = {
  stored: { label: "In outbox", className: "bg-slate-100 text-slate-700" },
  sent: { label: "Sent", className: "bg-brand-50 text-brand-700" },
  failed: { label: "Failed", className: "bg-red-50 text-red-700" },
};

export function EmailStatus({ email }: { email: OutboxEmail }) {
  const status = STATUS[email.status];
  return (
    <span className="inline-flex flex-col gap-1">
      <span className={`w-fit rounded-full px-2 py-0.5 text-xs font-medium ${status.className}`}>
        {status.label}
      </span>
      {email.error ? <span className="text-xs text-red-700">{email.error}</span> : null}
    </span>
  );
}

export function EmailOutbox({
  emails,
  timeZone,
  caption,
}: {
  emails: readonly OutboxEmail[];
  timeZone?: string;
  caption: string;
}) {
  const { isOpen, toggle, panelId } = useExpandedRows();
  const bodyId = (email: OutboxEmail) => panelId(email.emailId);

  const columns: Column<OutboxEmail>[] = [
    {
      header: "Subject",
      rowHeader: true,
      cell: (e) => (
        <button
          type="button"
          aria-expanded={isOpen(e.emailId)}
          aria-controls={bodyId(e)}
          onClick={() => toggle(e.emailId)}
          className="flex items-start gap-2 rounded text-left font-medium text-slate-900 hover:text-brand-700"
        >
          <svg
            aria-hidden="true"
            viewBox="0 0 20 20"
            className={`mt-0.5 size-4 shrink-0 text-slate-400 ${isOpen(e.emailId) ? "rotate-90" : ""}`}
          >
            <path
              fill="currentColor"
              d="M7.3 5.3a1 1 0 0 1 1.4 0l4 4a1 1 0 0 1 0 1.4l-4 4a1 1 0 1 1-1.4-1.4L10.6 10 7.3 6.7a1 1 0 0 1 0-1.4Z"
            />
          </svg>
          <span>{e.subject}</span>
        </button>
      ),
    },
    { header: "To", cell: (e) => <span className="break-words">{e.to}</span> },
    {
      header: "Time",
      className: "whitespace-nowrap",
      cell: (e) => (
        <time dateTime={new Date(e.createdAt).toISOString()}>{formatDateTime(e.createdAt, timeZone)}</time>
      ),
    },
    { header: "Status", cell: (e) => <EmailStatus email={e} /> },
  ];

  return (
    <DataTable
      caption={caption}
      columns={columns}
      rows={emails}
      rowKey={(e) => e.emailId}
      empty={
        <EmptyState
          title="No emails yet"
          description="Invitations and notices sent from here will be listed, newest first."
        />
      }
      renderAfterRow={(e) =>
        isOpen(e.emailId) ? (
          <div id={bodyId(e)} role="region" aria-label={`Body of “${e.subject}”`}>
            {e.text ? (
              <LinkifiedText text={e.text} />
            ) : (
              <p className="text-sm text-slate-600">
                The body of this email is not kept: it was handed to the email provider and may have held a
                secret link.
              </p>
            )}
          </div>
        ) : null
      }
    />
  );
}
