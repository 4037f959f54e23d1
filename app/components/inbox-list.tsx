// The inbox's conversation list: tabs by state (in the address, `?tab=`), then the conversations
// newest first, each with its contact, number, last message, unread count, 24-hour window,
// assignee and opt-out; "Load more" for older ones. The list is live: new messages move a
// conversation to the top without a reload.
import { Link } from "@remix-run/react";
import type { PaginationStatus } from "convex/react";
import type { ConversationState } from "../../convex/schema";
import { formatDateTime } from "../lib/format";
import {
  CONVERSATION_PAGE_SIZE,
  INBOX_TABS,
  STATE_DESCRIPTIONS,
  STATE_LABELS,
  contactTitle,
  tickFor,
  windowInfo,
  type ConversationRow,
  type TabInfo,
  type Tick,
} from "../lib/inbox";
import { formatTimeAgo, useNow } from "../lib/relative-time";
import { Button } from "./button";
import { Badge } from "./channel-health";
import { EmptyState } from "./empty-state";
import { LoadingState } from "./spinner";

/** The state tabs, with how many conversations wait for a person and are handled by one. */
export function InboxTabs({
  current,
  counts,
}: {
  current: TabInfo;
  counts: { waiting: number; human: number } | undefined;
}) {
  return (
    <nav aria-label="Conversation states" className="-mx-1">
      <ul className="flex flex-wrap gap-1 px-1">
        {INBOX_TABS.map((t) => {
          const count = t.tab === "waiting" ? counts?.waiting : t.tab === "human" ? counts?.human : undefined;
          const active = t.tab === current.tab;
          return (
            <li key={t.tab}>
              <Link
                to={{ search: t.tab === "all" ? "" : `?tab=${t.tab}` }}
                aria-current={active ? "page" : undefined}
                preventScrollReset
                className={`inline-flex items-center gap-1.5 rounded-lg px-2.5 py-1.5 text-sm font-medium whitespace-nowrap ${
                  active ? "bg-brand-50 text-brand-700" : "text-slate-700 hover:bg-slate-100"
                }`}
              >
                {t.label}
                {count ? (
                  <span className="rounded-full bg-slate-200 px-1.5 text-xs font-semibold text-slate-800 tabular-nums">
                    <span className="sr-only">(</span>
                    {count}
                    <span className="sr-only">)</span>
                  </span>
                ) : null}
              </Link>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}

export function StateBadge({ state }: { state: ConversationState }) {
  const tone = state === "waiting" ? "warning" : state === "human" ? "good" : "neutral";
  return (
    <span title={STATE_DESCRIPTIONS[state]}>
      <Badge tone={tone}>{STATE_LABELS[state]}</Badge>
    </span>
  );
}

export function WindowBadge({
  closesAt,
  fallbackOpen,
  now,
}: {
  closesAt: number | null;
  fallbackOpen: boolean;
  now: number | null;
}) {
  const info = windowInfo(closesAt, now, fallbackOpen);
  return (
    <span title={info.long}>
      <Badge tone={info.open ? "good" : "warning"}>{info.short}</Badge>
    </span>
  );
}

/** A delivery mark drawn as WhatsApp does (✓, ✓✓, blue ✓✓ when read); its meaning is in the tooltip. */
export function TickMark({ tick }: { tick: Tick }) {
  const tone =
    tick.tone === "read" ? "text-sky-600" : tick.tone === "bad" ? "text-red-700" : "text-slate-500";
  return (
    <span aria-hidden="true" title={tick.label} className={`font-semibold tracking-tighter ${tone}`}>
      {tick.symbol}
    </span>
  );
}

export function ConversationList({
  tab,
  rows,
  status,
  loadMore,
  hrefFor,
  selectedId,
}: {
  tab: TabInfo;
  rows: readonly ConversationRow[];
  status: PaginationStatus;
  loadMore: (numItems: number) => void;
  hrefFor: (row: ConversationRow) => string;
  selectedId: string | undefined;
}) {
  const now = useNow(30_000);
  if (status === "LoadingFirstPage") return <LoadingState label="Loading conversations…" />;
  if (rows.length === 0) {
    return <EmptyState title={tab.empty.title} description={tab.empty.description} />;
  }
  return (
    <div className="space-y-3">
      <ul
        aria-label={`Conversations: ${tab.label}, newest first`}
        className="divide-y divide-slate-100 overflow-hidden rounded-2xl border border-slate-200 bg-white shadow-sm"
      >
        {rows.map((row) => (
          <ConversationItem
            key={row.conversationId}
            row={row}
            href={hrefFor(row)}
            selected={row.conversationId === selectedId}
            showState={tab.state === undefined}
            now={now}
          />
        ))}
      </ul>
      {status === "Exhausted" ? null : (
        <div className="flex justify-center">
          <Button
            size="sm"
            onClick={() => loadMore(CONVERSATION_PAGE_SIZE)}
            busy={status === "LoadingMore"}
            busyLabel="Loading…"
          >
            Load more
          </Button>
        </div>
      )}
    </div>
  );
}

function ConversationItem({
  row,
  href,
  selected,
  showState,
  now,
}: {
  row: ConversationRow;
  href: string;
  selected: boolean;
  showState: boolean;
  now: number | null;
}) {
  const title = contactTitle(row);
  const last = row.lastMessage;
  const tick = last && last.direction === "out" ? tickFor(last.status) : null;
  return (
    <li>
      <Link
        to={href}
        aria-current={selected ? "page" : undefined}
        preventScrollReset
        className={`block px-4 py-3 ${selected ? "bg-brand-50" : "hover:bg-slate-50"}`}
      >
        <span className="flex items-baseline justify-between gap-2">
          <span
            className={`min-w-0 break-words ${row.unread > 0 ? "font-semibold" : "font-medium"} text-slate-900`}
          >
            {title}
          </span>
          <time
            dateTime={new Date(row.lastMessageAt).toISOString()}
            title={formatDateTime(row.lastMessageAt)}
            className="shrink-0 text-xs text-slate-500"
          >
            {now === null ? formatDateTime(row.lastMessageAt) : formatTimeAgo(row.lastMessageAt, now)}
          </time>
        </span>
        <span className="block text-xs break-words text-slate-500">
          {row.contactName && row.contactPhone ? `${row.contactPhone} · ` : ""}
          {row.channelName}
        </span>
        <span className="mt-1 flex items-start gap-2">
          <span className="line-clamp-2 min-w-0 flex-1 text-sm break-words text-slate-700">
            {last ? (
              <>
                {last.direction === "out" ? (
                  <>
                    <span className="sr-only">Sent{tick ? ` (${tick.label.toLowerCase()})` : ""}: </span>
                    {tick ? <TickMark tick={tick} /> : null}{" "}
                  </>
                ) : null}
                {last.text}
              </>
            ) : (
              <span className="text-slate-500 italic">No messages yet</span>
            )}
          </span>
          {row.unread > 0 ? (
            <span className="shrink-0 rounded-full bg-brand-600 px-2 py-0.5 text-xs font-semibold text-white tabular-nums">
              {row.unread}
              <span className="sr-only"> unread</span>
            </span>
          ) : null}
        </span>
        <span className="mt-2 flex flex-wrap gap-1">
          {showState ? <StateBadge state={row.state} /> : null}
          <WindowBadge closesAt={row.windowClosesAt} fallbackOpen={row.windowOpen} now={now} />
          {row.assigneeName ? <Badge tone="neutral">Assigned to {row.assigneeName}</Badge> : null}
          {row.optedOut ? (
            <Badge tone="bad">Opted out</Badge>
          ) : row.marketingOptedOut ? (
            <Badge tone="neutral">No marketing</Badge>
          ) : null}
        </span>
      </Link>
    </li>
  );
}
