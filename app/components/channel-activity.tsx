// A channel's live activity: its latest messages in and out with their delivery status, and
// the webhook events behind them with their processing state. Both are live queries, so new
// messages and status changes appear without a reload.
import type { Preloaded } from "convex/react";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import {
  EVENT_STATE_LABELS,
  MESSAGE_STATUS_LABELS,
  eventStateTone,
  messageStatusTone,
  type ActivityItem,
  type WebhookEventItem,
} from "../lib/channels";
import { formatDateTime } from "../lib/format";
import { formatTimeAgo, useNow } from "../lib/relative-time";
import { usePreloaded } from "../lib/use-preloaded";
import { Badge } from "./channel-health";
import { DataTable, type Column } from "./data-table";
import { EmptyState } from "./empty-state";
import { LoadingState } from "./spinner";

function When({ at, now }: { at: number; now: number | null }) {
  return (
    <time dateTime={new Date(at).toISOString()} title={formatDateTime(at)} className="whitespace-nowrap">
      {now === null ? formatDateTime(at) : formatTimeAgo(at, now)}
    </time>
  );
}

function contactLabel(item: ActivityItem): string {
  const { name, phone } = item.contact;
  if (name && phone) return `${name} (${phone})`;
  return name ?? phone ?? "Unknown contact";
}

export function MessageActivity({
  tenantId,
  channelId,
  channelName,
  preloaded,
}: {
  tenantId: Id<"tenants">;
  channelId: Id<"channels">;
  channelName: string;
  /** The loader's read, for the first paint. */
  preloaded?: Preloaded<typeof api.channels.activity> | null;
}) {
  const items = usePreloaded(api.channels.activity, { tenantId, channelId }, preloaded);
  const now = useNow(15_000);
  if (items === undefined) return <LoadingState label="Loading recent messages…" />;
  if (items.length === 0) {
    return (
      <EmptyState
        title="No messages yet"
        description="Messages people send to this number, and the ones sent from it, appear here as they happen, with their delivery status."
      />
    );
  }
  return (
    <>
      <p role="status" className="sr-only">
        {`${items.length} recent ${items.length === 1 ? "message" : "messages"}, the latest ${
          items[0].direction === "in" ? "from" : "to"
        } ${contactLabel(items[0])}`}
      </p>
      <ol
        aria-label={`Recent messages on ${channelName}, newest first`}
        className="divide-y divide-slate-100 overflow-hidden rounded-2xl border border-slate-200 bg-white shadow-sm"
      >
        {items.map((item) => (
          <li
            key={item.messageId}
            className="flex flex-col gap-1 px-4 py-3 sm:flex-row sm:items-start sm:gap-4"
          >
            <div className="flex shrink-0 items-center gap-2 sm:w-56">
              <span
                aria-hidden="true"
                className={`grid size-6 place-items-center rounded-full text-xs font-bold ${
                  item.direction === "in" ? "bg-sky-50 text-sky-700" : "bg-brand-50 text-brand-700"
                }`}
              >
                {item.direction === "in" ? "↓" : "↑"}
              </span>
              <span className="min-w-0 text-sm">
                <span className="sr-only">{item.direction === "in" ? "From" : "To"} </span>
                <span className="block truncate font-medium text-slate-900">{contactLabel(item)}</span>
              </span>
            </div>
            <div className="min-w-0 flex-1 text-sm text-slate-700">
              {item.text ? (
                <p className="break-words whitespace-pre-wrap">{item.text}</p>
              ) : (
                <p className="text-slate-500 italic">{item.type} message</p>
              )}
              {item.errorCode !== null || item.errorMessage ? (
                <p className="mt-1 text-xs font-medium text-red-700">
                  Error{item.errorCode !== null ? ` ${item.errorCode}` : ""}
                  {item.errorMessage ? `: ${item.errorMessage}` : ""}
                  {item.errorClass ? ` (${item.errorClass.replace(/_/g, " ")})` : ""}
                </p>
              ) : null}
            </div>
            <div className="flex shrink-0 items-center gap-2 text-xs text-slate-500">
              {item.type !== "text" && item.text ? <span>{item.type}</span> : null}
              <Badge tone={messageStatusTone(item.status)}>{MESSAGE_STATUS_LABELS[item.status]}</Badge>
              <When at={item.createdAt} now={now} />
            </div>
          </li>
        ))}
      </ol>
    </>
  );
}

export function WebhookEvents({
  tenantId,
  channelId,
  channelName,
  preloaded,
}: {
  tenantId: Id<"tenants">;
  channelId: Id<"channels">;
  channelName: string;
  /** The loader's read, for the first paint. */
  preloaded?: Preloaded<typeof api.channels.recentEvents> | null;
}) {
  const events = usePreloaded(api.channels.recentEvents, { tenantId, channelId }, preloaded);
  const now = useNow(15_000);
  const columns: Column<WebhookEventItem>[] = [
    { header: "Received", rowHeader: true, cell: (e) => <When at={e.receivedAt} now={now} /> },
    { header: "Event", cell: (e) => <span className="font-mono text-xs">{e.kind}</span> },
    {
      header: "State",
      cell: (e) => <Badge tone={eventStateTone(e.state)}>{EVENT_STATE_LABELS[e.state]}</Badge>,
    },
    { header: "Attempts", className: "tabular-nums", cell: (e) => e.attempts },
    {
      header: "Last error",
      cell: (e) =>
        e.lastError ? (
          <span className="break-words text-red-700">{e.lastError}</span>
        ) : (
          <span aria-label="none">—</span>
        ),
    },
  ];
  if (events === undefined) return <LoadingState label="Loading webhook events…" />;
  return (
    <DataTable
      caption={`Webhook events for ${channelName}, newest first`}
      columns={columns}
      rows={events}
      rowKey={(e) => e.eventId}
      empty={
        <EmptyState
          title="No webhook events yet"
          description="Each webhook the provider sends for this channel is stored, then processed; its state shows here."
        />
      }
    />
  );
}
