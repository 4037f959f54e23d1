// A conversation's messages, oldest first, as a live paginated query: new messages and their
// delivery marks (⏱ queued, ↑ sending, ✓ sent, ✓✓ delivered, blue ✓✓ read, failed with the
// reason) appear without a reload; "Load older messages" fetches the page before. The view stays
// at the newest message while it is there, and keeps its place when older ones load above.
import type { PaginationStatus } from "convex/react";
import { useEffect, useLayoutEffect, useRef } from "react";
import { formatDateTime } from "../lib/format";
import {
  MESSAGE_PAGE_SIZE,
  PENDING_PREFIX,
  authorLabel,
  messageTime,
  tickFor,
  type ThreadMessage,
} from "../lib/inbox";
import { useNow } from "../lib/relative-time";
import { Button } from "./button";
import { TickMark } from "./inbox-list";
import { LoadingState } from "./spinner";

// Layout effects do nothing on the server; this keeps React from warning about it there.
const useIsomorphicLayoutEffect = typeof window === "undefined" ? useEffect : useLayoutEffect;

/** How close to the bottom (px) still counts as "at the newest message". */
const STICK_DISTANCE = 120;

export function Thread({
  title,
  messages,
  status,
  loadMore,
}: {
  /** The contact, for the list's name. */
  title: string;
  /** Newest first, as the query returns them. */
  messages: readonly ThreadMessage[];
  status: PaginationStatus;
  loadMore: (numItems: number) => void;
}) {
  const now = useNow(60_000);
  const scroller = useRef<HTMLDivElement>(null);
  const newestId = messages[0]?.messageId;
  const oldestId = messages[messages.length - 1]?.messageId;
  const seen = useRef<{ newest?: string; oldest?: string; height: number; atEnd: boolean }>({
    height: 0,
    atEnd: true,
  });

  // Remember, before each change, whether the view is at the newest message.
  useEffect(() => {
    const element = scroller.current;
    if (!element) return;
    const onScroll = () => {
      seen.current.atEnd = isAtEnd(element);
    };
    element.addEventListener("scroll", onScroll, { passive: true });
    window.addEventListener("scroll", onScroll, { passive: true });
    return () => {
      element.removeEventListener("scroll", onScroll);
      window.removeEventListener("scroll", onScroll);
    };
  }, []);

  useIsomorphicLayoutEffect(() => {
    const element = scroller.current;
    if (!element) return;
    const before = seen.current;
    const first = before.newest === undefined;
    // A reply of one's own (shown before the backend has it) always brings the view down to it.
    const ownReply = newestId?.startsWith(PENDING_PREFIX) === true;
    if (first || (newestId !== before.newest && (before.atEnd || ownReply))) {
      scrollToEnd(element);
    } else if (oldestId !== before.oldest && newestId === before.newest && scrolls(element)) {
      // Older messages came in above: keep the same messages in view.
      element.scrollTop += element.scrollHeight - before.height;
    }
    seen.current = {
      newest: newestId,
      oldest: oldestId,
      height: element.scrollHeight,
      atEnd: isAtEnd(element),
    };
  }, [newestId, oldestId]);

  const latest = messages[0];
  return (
    <div
      ref={scroller}
      className="rounded-2xl border border-slate-200 bg-slate-100/60 p-3 md:max-h-[calc(100dvh-22rem)] md:min-h-64 md:overflow-y-auto"
    >
      <p role="status" className="sr-only">
        {latest
          ? `${messages.length} ${messages.length === 1 ? "message" : "messages"}; the latest from ${authorLabel(latest).toLowerCase() === "customer" ? "the customer" : authorLabel(latest)}`
          : ""}
      </p>
      {status === "LoadingFirstPage" ? (
        <LoadingState label="Loading messages…" />
      ) : (
        <>
          {status === "Exhausted" ? (
            messages.length ? (
              <p className="mb-3 text-center text-xs text-slate-500">
                This is the start of the conversation.
              </p>
            ) : null
          ) : (
            <div className="mb-3 flex justify-center">
              <Button
                size="sm"
                onClick={() => loadMore(MESSAGE_PAGE_SIZE)}
                busy={status === "LoadingMore"}
                busyLabel="Loading…"
              >
                Load older messages
              </Button>
            </div>
          )}
          {messages.length === 0 ? (
            <p className="py-10 text-center text-sm text-slate-600">
              No messages yet. Messages the customer sends and replies to them appear here as they happen.
            </p>
          ) : (
            <ol aria-label={`Messages with ${title}, oldest first`} className="space-y-2">
              {[...messages].reverse().map((m) => (
                <MessageBubble key={m.messageId} message={m} now={now} />
              ))}
            </ol>
          )}
        </>
      )}
    </div>
  );
}

function scrolls(element: HTMLElement): boolean {
  return getComputedStyle(element).overflowY === "auto" && element.scrollHeight > element.clientHeight;
}

function isAtEnd(element: HTMLElement): boolean {
  if (scrolls(element))
    return element.scrollHeight - element.scrollTop - element.clientHeight < STICK_DISTANCE;
  // On phones the page scrolls, not the thread.
  return document.documentElement.scrollHeight - window.scrollY - window.innerHeight < STICK_DISTANCE;
}

function scrollToEnd(element: HTMLElement) {
  if (getComputedStyle(element).overflowY === "auto") element.scrollTop = element.scrollHeight;
  // On phones the page scrolls: its end shows the newest messages above the reply box.
  else window.scrollTo({ top: document.documentElement.scrollHeight });
}

function MessageBubble({ message: m, now }: { message: ThreadMessage; now: number | null }) {
  const inbound = m.direction === "in";
  const tick = tickFor(m.status);
  const author = authorLabel(m);
  return (
    <li className={`flex ${inbound ? "justify-start" : "justify-end"}`}>
      <div
        className={`max-w-[85%] min-w-0 rounded-2xl px-3 py-2 shadow-sm ${
          inbound ? "rounded-tl-sm bg-white" : "rounded-tr-sm bg-brand-50"
        } ${m.status === "failed" ? "ring-1 ring-red-300" : ""}`}
      >
        <p
          className={`text-xs font-semibold ${
            inbound ? "text-sky-800" : m.origin === "assistant" ? "text-violet-800" : "text-brand-700"
          }`}
        >
          {author}
        </p>
        <p className="text-sm break-words whitespace-pre-wrap text-slate-900">{m.text}</p>
        <p className="mt-1 flex items-center justify-end gap-1.5 text-xs text-slate-500">
          <time dateTime={new Date(m.createdAt).toISOString()} title={formatDateTime(m.createdAt)}>
            {messageTime(m.createdAt, now)}
          </time>
          {tick ? (
            <>
              <TickMark tick={tick} />
              <span className="sr-only">{tick.label}</span>
            </>
          ) : null}
        </p>
        {m.status === "failed" ? (
          <p className="mt-1 text-xs font-medium break-words text-red-700">
            Not delivered{m.errorMessage ? `: ${m.errorMessage}` : ""}
          </p>
        ) : m.errorMessage && (m.status === "queued" || m.status === "sending") ? (
          <p className="mt-1 text-xs break-words text-amber-800">{m.errorMessage}</p>
        ) : null}
      </div>
    </li>
  );
}
