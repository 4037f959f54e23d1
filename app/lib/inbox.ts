// The live inbox as people read it: its tabs and what each holds, who may work it, how a
// message's delivery, author and the 24-hour window are shown, and the built-in quick replies.
import type { FunctionReturnType } from "convex/server";
import type { api } from "../../convex/_generated/api";
import type { ConversationState, MessageStatus } from "../../convex/schema";
import { durationInWords, formatDateTime } from "./format";
import { hasRole, type Role } from "./roles";

export type ConversationRow = FunctionReturnType<typeof api.conversations.list>["page"][number];
export type Conversation = FunctionReturnType<typeof api.conversations.get>;
export type ThreadMessage = FunctionReturnType<typeof api.conversations.messages>["page"][number];
export type InboxTemplate = FunctionReturnType<typeof api.conversations.templates>[number];

/** How many conversations the list loads at first and on each "Load more". */
export const CONVERSATION_PAGE_SIZE = 25;
/** How many messages of a thread load at first and on each "Load older messages". */
export const MESSAGE_PAGE_SIZE = 30;
/** Starts the id of a reply shown before the backend has it. */
export const PENDING_PREFIX = "pending-";

export type InboxTab = "all" | ConversationState;

export type TabInfo = {
  tab: InboxTab;
  label: string;
  /** The list's query argument: no state for "all". */
  state: ConversationState | undefined;
  empty: { title: string; description: string };
};

export const INBOX_TABS: readonly TabInfo[] = [
  {
    tab: "all",
    label: "All",
    state: undefined,
    empty: {
      title: "No conversations yet",
      description:
        "When a customer writes to one of your WhatsApp numbers, the conversation appears here as it happens, newest first.",
    },
  },
  {
    tab: "waiting",
    label: "Waiting for a person",
    state: "waiting",
    empty: {
      title: "Nobody is waiting for a person",
      description:
        "When the assistant hands a conversation over (the customer asked for a person, or it could not help), it waits here, with the assistant's summary, until someone takes over.",
    },
  },
  {
    tab: "human",
    label: "Human",
    state: "human",
    empty: {
      title: "No conversations handled by a person",
      description:
        "Conversations someone took over or replied to appear here; the assistant stays quiet in them until they are handed back or closed.",
    },
  },
  {
    tab: "bot",
    label: "Bot",
    state: "bot",
    empty: {
      title: "The assistant is handling no conversations",
      description:
        "New conversations start here: the assistant answers them until it hands over to a person or someone takes over.",
    },
  },
  {
    tab: "closed",
    label: "Closed",
    state: "closed",
    empty: {
      title: "No closed conversations",
      description:
        "Conversations closed by your team appear here. A customer who writes again reopens theirs for the assistant.",
    },
  },
];

/** The tab named in the address (`?tab=`), "all" for anything else. */
export function tabFromSearch(value: string | null | undefined): TabInfo {
  return INBOX_TABS.find((t) => t.tab === value) ?? INBOX_TABS[0]!;
}

export const STATE_LABELS: Record<ConversationState, string> = {
  bot: "Bot",
  waiting: "Waiting for a person",
  human: "Human",
  closed: "Closed",
};

export const STATE_DESCRIPTIONS: Record<ConversationState, string> = {
  bot: "The assistant answers this conversation.",
  waiting: "The assistant handed this conversation over; nobody has taken it yet.",
  human: "A person answers this conversation; the assistant stays quiet.",
  closed: "This conversation is closed; it reopens for the assistant when the customer writes.",
};

/**
 * Who may open the inbox and who may work it: agents and above of the workspace; platform admins
 * who are not members (or have a lower role) read it without changing anything.
 */
export function inboxAccess(role: Role, isMember: boolean, isPlatformAdmin: boolean) {
  const canWrite = isMember && hasRole(role, "agent");
  return { canRead: canWrite || isPlatformAdmin, canWrite };
}

/** "Maria Lopez", else the phone number, else a neutral name. */
export function contactTitle(c: Pick<ConversationRow, "contactName" | "contactPhone">): string {
  return c.contactName ?? c.contactPhone ?? "Unknown contact";
}

export type WindowInfo = {
  open: boolean;
  /** Short, for the list: "Open · 23 hours left", "Window closed". */
  short: string;
  /** A sentence for the conversation's header and the reply box. */
  long: string;
};

/**
 * The 24-hour customer-service window by the viewer's clock; `fallbackOpen` (the server's answer)
 * while there is no clock yet (server rendering), so the markup hydrates unchanged.
 */
export function windowInfo(closesAt: number | null, now: number | null, fallbackOpen: boolean): WindowInfo {
  if (closesAt === null) {
    return {
      open: false,
      short: "Window closed",
      long: "The customer has not written yet: WhatsApp allows only an approved template until they do.",
    };
  }
  const open = now === null ? fallbackOpen : now < closesAt;
  if (open) {
    const left = now === null ? null : durationInWords(closesAt - now);
    return {
      open: true,
      short: left ? `Open · ${left} left` : "Window open",
      long: left
        ? `The 24-hour window is open for ${left} more: free-form replies are allowed until then.`
        : "The 24-hour window is open: free-form replies are allowed.",
    };
  }
  return {
    open: false,
    short: "Window closed",
    long: "The 24-hour window is closed: WhatsApp allows only an approved template until the customer writes again.",
  };
}

export type Tick = {
  /** What is drawn (hidden from screen readers). */
  symbol: string;
  /** What it means, in words (read out, and the tooltip). */
  label: string;
  tone: "muted" | "read" | "bad";
};

const TICKS: Record<Exclude<MessageStatus, "received">, Tick> = {
  queued: { symbol: "⏱", label: "Queued", tone: "muted" },
  sending: { symbol: "↑", label: "Sending", tone: "muted" },
  unknown: { symbol: "?", label: "Outcome unknown: not sent again", tone: "bad" },
  sent: { symbol: "✓", label: "Sent", tone: "muted" },
  delivered: { symbol: "✓✓", label: "Delivered", tone: "muted" },
  read: { symbol: "✓✓", label: "Read", tone: "read" },
  failed: { symbol: "!", label: "Failed", tone: "bad" },
};

/** The delivery mark of an outbound message; none for what the customer sent (or an unknown status). */
export function tickFor(status: MessageStatus | string): Tick | null {
  return Object.hasOwn(TICKS, status) ? TICKS[status as keyof typeof TICKS] : null;
}

/**
 * A message's time in the thread: the clock time for today's messages, the date too for older
 * ones (and always while there is no clock yet, so server and first render agree).
 */
export function messageTime(at: number, now: number | null, locale?: string): string {
  if (now !== null && new Date(at).toDateString() === new Date(now).toDateString())
    return new Intl.DateTimeFormat(locale, { timeStyle: "short" }).format(at);
  return formatDateTime(at, undefined, locale);
}

/** Who wrote a message, as the thread labels it. */
export function authorLabel(m: Pick<ThreadMessage, "direction" | "origin" | "authorName">): string {
  if (m.direction === "in") return "Customer";
  switch (m.origin) {
    case "agent":
      return m.authorName ?? "Agent";
    case "assistant":
      return "Assistant";
    case "campaign":
      return "Campaign";
    case "system":
      return "System";
    default:
      return "Business";
  }
}

export type QuickReply = { key: string; title: string; text: string };

/**
 * Built-in quick replies, inserted into the reply box from its menu or by typing "/" and a
 * word. They are a starting point only: they go out as typed, after the agent's edits.
 */
export const QUICK_REPLIES: readonly QuickReply[] = [
  { key: "hello", title: "Greeting", text: "Hi! Thanks for writing to us. How can I help you today?" },
  {
    key: "moment",
    title: "One moment",
    text: "Thanks for your patience: let me check that for you, it will only take a moment.",
  },
  {
    key: "details",
    title: "Ask for details",
    text: "Could you tell me a bit more, for example your order number, so I can look into it?",
  },
  { key: "else", title: "Anything else", text: "Is there anything else I can help you with?" },
  { key: "bye", title: "Goodbye", text: "Thanks for reaching out! Have a great day." },
];

/**
 * The quick replies a "/word" draft asks for: the draft must be a slash and the start of a
 * key or title (nothing else typed yet); null when the draft is not such a command.
 */
export function quickReplyMatches(draft: string): QuickReply[] | null {
  const command = /^\/(\S*)$/.exec(draft);
  if (!command) return null;
  const query = command[1]!.toLowerCase();
  return QUICK_REPLIES.filter((q) => q.key.startsWith(query) || q.title.toLowerCase().startsWith(query));
}

/** The draft with a quick reply put in: it replaces a "/word" command, else it is appended. */
export function insertQuickReply(draft: string, reply: QuickReply): string {
  if (quickReplyMatches(draft) !== null || !draft.trim()) return reply.text;
  return `${draft.replace(/\s+$/, "")} ${reply.text}`;
}

/** Where a consent change came from, as the conversation's header explains it. */
export const CONSENT_SOURCE_LABELS: Record<string, string> = {
  keyword: "the customer sent a keyword (STOP or START)",
  button: "the customer pressed a button",
  user_preferences: "the customer's WhatsApp marketing preferences",
  error_131050: "WhatsApp said the customer stopped marketing messages (131050)",
  agent: "recorded by your team",
};

export function consentSourceLabel(source: string): string {
  return CONSENT_SOURCE_LABELS[source] ?? source.replace(/_/g, " ");
}
