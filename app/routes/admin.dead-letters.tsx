// /admin/dead-letters: webhook events that could not be processed (their retries ran out, or no
// channel has their number), live and paginated, each with its normalised event and a Replay
// (audited) that puts it back in the queue. A replayed event leaves the dead state, so its row
// disappears from the live list by itself.
import { useExpandedRows } from "../lib/use-expanded-rows";
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link } from "@remix-run/react";
import { useMutation, usePaginatedQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useState, type ReactNode } from "react";
import { api } from "../../convex/_generated/api";
import { Button } from "../components/button";
import { ConfirmButton } from "../components/confirm-dialog";
import { DataRouteErrorView } from "../components/data-error-view";
import { DataTable, type Column } from "../components/data-table";
import { EmptyState } from "../components/empty-state";
import { PageHeader } from "../components/page-header";
import { NumberConflictForm } from "../components/number-conflict-form";
import { LoadingState } from "../components/spinner";
import { requireUser } from "../lib/auth.server";
import { KIND_LABELS } from "../lib/channels";
import { formatDateTime } from "../lib/format";

export const meta: MetaFunction = () => [{ title: "Dead letters — Platform admin — Switchboard" }];

export async function loader({ request }: LoaderFunctionArgs) {
  await requireUser(request);
  return null;
}

/** How many dead letters a page loads (the first and each "Load more"). */
export const DEAD_LETTER_PAGE_SIZE = 25;

type DeadLetter = FunctionReturnType<typeof api.deadLetters.list>["page"][number];

const UNROUTED = /^unrouted: /;

export default function AdminDeadLetters() {
  const { results, status, loadMore } = usePaginatedQuery(
    api.deadLetters.list,
    {},
    { initialNumItems: DEAD_LETTER_PAGE_SIZE },
  );
  const replay = useMutation(api.deadLetters.replay);
  const [announcement, setAnnouncement] = useState("");
  const { isOpen, toggle, panelId } = useExpandedRows();
  const detailId = (d: DeadLetter) => panelId(d.eventId);

  const columns: Column<DeadLetter>[] = [
    {
      header: "Received",
      rowHeader: true,
      className: "min-w-32",
      cell: (d) => (
        <time dateTime={new Date(d.receivedAt).toISOString()} className="font-normal text-slate-700">
          {formatDateTime(d.receivedAt)}
        </time>
      ),
    },
    { header: "Provider", className: "whitespace-nowrap", cell: (d) => KIND_LABELS[d.provider] },
    { header: "Kind", cell: (d) => <span className="font-mono text-xs">{d.kind}</span> },
    {
      header: "Channel",
      // `relative` keeps the sr-only labels inside from widening the page when the table scrolls.
      className: "relative",
      cell: (d) => <RoutedTo letter={d} />,
    },
    { header: "Attempts", className: "text-right tabular-nums", cell: (d) => d.attempts },
    {
      header: "Last error",
      className: "min-w-56",
      cell: (d) =>
        d.lastError ? (
          <span className="block break-words whitespace-pre-wrap text-red-700">
            {UNROUTED.test(d.lastError) ? (
              <span className="mr-1 inline-block rounded-md bg-amber-50 px-1.5 py-0.5 text-xs font-medium text-amber-800 ring-1 ring-amber-200 ring-inset">
                Not routed
              </span>
            ) : null}
            {d.lastError}
          </span>
        ) : (
          <span className="text-slate-500">No error recorded</span>
        ),
    },
    {
      // No whitespace-nowrap here: the confirmation dialog lives inside this cell and would inherit it.
      header: <span className="sr-only">Actions</span>,
      className: "relative",
      cell: (d) => (
        <div className="flex flex-col items-stretch gap-2">
          <Button
            size="sm"
            variant="ghost"
            aria-expanded={isOpen(d.eventId)}
            aria-controls={detailId(d)}
            onClick={() => toggle(d.eventId)}
          >
            {isOpen(d.eventId) ? "Hide event" : "Show event"}
            <span className="sr-only"> {d.dedupeKey}</span>
          </Button>
          <ConfirmButton
            title="Replay this webhook event?"
            confirmLabel="Replay event"
            busyLabel="Replaying…"
            destructive={false}
            description={<ReplayExplanation letter={d} />}
            onConfirm={async () => {
              await replay({ eventId: d.eventId });
              setAnnouncement(
                `Replayed ${d.kind} event ${d.dedupeKey}. It is being processed; if it fails again it returns here after its retries.`,
              );
            }}
          >
            Replay
            <span className="sr-only">
              {" "}
              {d.kind} event {d.dedupeKey}
            </span>
          </ConfirmButton>
        </div>
      ),
    },
  ];

  if (status === "LoadingFirstPage")
    return (
      <Page>
        <LoadingState label="Loading dead letters…" />
      </Page>
    );

  return (
    <Page>
      <p role="status" className="text-sm text-slate-700 empty:hidden">
        {announcement}
      </p>
      <DataTable
        caption="Dead letters, newest first"
        columns={columns}
        rows={results}
        rowKey={(d) => d.eventId}
        empty={
          status === "Exhausted" ? (
            <EmptyState
              title="No dead letters — every webhook event was processed."
              description="Webhook events that cannot be processed after every retry, or that arrive for a number no channel has, wait here until you replay them."
            />
          ) : undefined
        }
        renderAfterRow={(d) =>
          isOpen(d.eventId) ? (
            <div id={detailId(d)} role="region" aria-label={`Event ${d.dedupeKey}`} className="space-y-2">
              <p className="text-xs text-slate-600">
                Dedupe key <code className="font-mono break-all text-slate-800">{d.dedupeKey}</code> · event
                id <code className="font-mono break-all text-slate-800">{d.eventId}</code>
              </p>
              <pre
                // Scrollable, so it must be reachable by keyboard.
                tabIndex={0}
                aria-label={`Normalised event ${d.dedupeKey} (JSON)`}
                className="max-h-96 overflow-auto rounded-lg border border-slate-200 bg-white p-3 font-mono text-xs break-all whitespace-pre-wrap text-slate-800"
              >
                {JSON.stringify(d.event, null, 2)}
              </pre>
            </div>
          ) : null
        }
      />
      <div className="flex items-center justify-center">
        {status === "Exhausted" ? (
          results.length > 0 ? (
            <p className="text-sm text-slate-500">That is the oldest dead letter.</p>
          ) : null
        ) : (
          <Button
            onClick={() => loadMore(DEAD_LETTER_PAGE_SIZE)}
            busy={status === "LoadingMore"}
            busyLabel="Loading…"
          >
            Load more
          </Button>
        )}
      </div>
    </Page>
  );
}

function Page({ children }: { children: ReactNode }) {
  return (
    <div className="space-y-6">
      <PageHeader
        title="Dead letters"
        description="Webhook events that could not be processed: their retries ran out, or no channel has the number they are for. Newest first; times are in your time zone. Fix the cause, then replay."
      />
      {children}
      <NumberConflictForm />
    </div>
  );
}

function RoutedTo({ letter }: { letter: DeadLetter }) {
  const tenant = letter.tenant;
  if (!letter.channelId) return <span className="text-slate-500 italic">Not routed</span>;
  const channelPath = tenant
    ? `/t/${encodeURIComponent(tenant.slug)}/channels/${encodeURIComponent(letter.channelId)}`
    : null;
  return (
    <dl className="space-y-1 text-xs">
      <div>
        <dt className="sr-only">Channel</dt>
        <dd className="font-mono break-all">
          {channelPath ? (
            <Link to={channelPath} className="text-brand-700 underline-offset-2 hover:underline">
              {letter.channelId}
            </Link>
          ) : (
            letter.channelId
          )}
        </dd>
      </div>
      <div>
        <dt className="sr-only">Workspace</dt>
        <dd className="break-all text-slate-600">
          {tenant ? `${tenant.name} · ` : null}
          <span className="font-mono">{letter.tenantId ?? "no workspace"}</span>
        </dd>
      </div>
    </dl>
  );
}

function ReplayExplanation({ letter }: { letter: DeadLetter }) {
  return (
    <div className="space-y-2">
      <p>
        Replay puts this {letter.kind} event back in the queue with a fresh set of attempts and processes it
        now, as if it had just arrived. It is routed again, so an event no channel had goes to the channel
        that now has its number; applying it twice changes nothing (a message already stored is not stored
        again).
      </p>
      <p>
        If it still fails, it is retried on the usual backoff and returns to this list after its last attempt.
        The replay is recorded in the platform audit log.
      </p>
    </div>
  );
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
