// The reply box. Inside the 24-hour window: a textarea where Enter sends and Shift+Enter starts a
// new line, with built-in quick replies from a menu or by typing "/" (arrows pick, Enter or Tab
// puts one in, Escape closes). Outside it: the textarea is off, with the reason, and the
// number's approved templates are offered instead, with their parameters. What the backend
// refuses (outside the window, opted out) is shown above the box.
import { insertAtTop, useMutation, type Preloaded } from "convex/react";
import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { toAppError, type AppError } from "../lib/convex-errors";
import {
  PENDING_PREFIX,
  QUICK_REPLIES,
  insertQuickReply,
  quickReplyMatches,
  type Conversation,
  type QuickReply,
} from "../lib/inbox";
import type { TenantContext } from "../lib/tenant-context";
import { usePreloaded } from "../lib/use-preloaded";
import { Button } from "./button";
import { FormStatus } from "./form-field";

const ERROR_TITLES: Partial<Record<AppError["code"], string>> = {
  OUTSIDE_WINDOW: "Not sent: outside the 24-hour window",
  OPTED_OUT: "Not sent: the contact opted out",
  SENDING_PAUSED: "Not sent: sending is paused",
};

/** A refusal from the backend, with a title for the ones agents meet in the inbox. */
export function SendError({ error }: { error: AppError | null }) {
  if (!error) return null;
  const title = ERROR_TITLES[error.code];
  return (
    <div role="alert" className="rounded-lg border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
      {title ? <p className="font-semibold">{title}</p> : null}
      <p className={title ? undefined : "font-medium"}>{error.message}</p>
    </div>
  );
}

/** Numbers the replies shown before the backend has them (their keys in the thread). */
let pendingCount = 0;

export function ReplyBox({
  tenant,
  conversation,
  windowOpen,
  windowText,
  preloadedTemplates,
}: {
  tenant: TenantContext;
  conversation: Conversation;
  windowOpen: boolean;
  /** Why free-form replies are off, when the window is closed. */
  windowText: string;
  preloadedTemplates: Preloaded<typeof api.conversations.templates> | null;
}) {
  return (
    <div className="rounded-2xl border border-slate-200 bg-white p-3 shadow-sm">
      {windowOpen ? (
        <TextReply tenant={tenant} conversation={conversation} />
      ) : (
        <TemplateReply
          tenant={tenant}
          conversation={conversation}
          windowText={windowText}
          preloaded={preloadedTemplates}
        />
      )}
    </div>
  );
}

function TextReply({ tenant, conversation }: { tenant: TenantContext; conversation: Conversation }) {
  const id = useId();
  const textarea = useRef<HTMLTextAreaElement>(null);
  const [draft, setDraft] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const [menuOpen, setMenuOpen] = useState(false);
  const [active, setActive] = useState(0);
  const me = tenant.me;
  const reply = useMutation(api.conversations.reply).withOptimisticUpdate((store, args) => {
    // The reply shows at once, queued; the live thread then follows its real status.
    insertAtTop({
      paginatedQuery: api.conversations.messages,
      argsToMatch: { tenantId: args.tenantId, conversationId: args.conversationId },
      localQueryStore: store,
      item: {
        messageId: `${PENDING_PREFIX}${++pendingCount}` as Id<"messages">,
        direction: "out",
        text: args.text.trim(),
        status: "queued",
        origin: "agent",
        authorName: me.name,
        errorMessage: null,
        createdAt: Date.now(),
      },
    });
  });

  // "/" commands open the menu by themselves; the menu button opens it with every reply.
  const command = quickReplyMatches(draft);
  const options: readonly QuickReply[] = command ?? (menuOpen ? QUICK_REPLIES : []);
  const showMenu = options.length > 0 && (command !== null || menuOpen);
  const listId = `${id}-quick-replies`;
  const optionId = (i: number) => `${id}-quick-reply-${i}`;
  useEffect(() => setActive(0), [draft, menuOpen]);

  const choose = (q: QuickReply) => {
    setDraft((current) => insertQuickReply(current, q));
    setMenuOpen(false);
    requestAnimationFrame(() => {
      const element = textarea.current;
      if (!element) return;
      element.focus();
      element.setSelectionRange(element.value.length, element.value.length);
    });
  };

  const send = async () => {
    if (busy) return;
    const text = draft.trim();
    if (!text) {
      setError({ code: "INVALID", message: "Write a message first" });
      textarea.current?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await reply({ tenantId: tenant.tenantId, conversationId: conversation.conversationId, text });
      setDraft("");
    } catch (e) {
      setError(toAppError(e));
    } finally {
      setBusy(false);
      textarea.current?.focus();
    }
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.nativeEvent.isComposing) return;
    if (showMenu) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const step = event.key === "ArrowDown" ? 1 : -1;
        setActive((i) => (i + step + options.length) % options.length);
        return;
      }
      if ((event.key === "Enter" && !event.shiftKey) || event.key === "Tab") {
        event.preventDefault();
        choose(options[Math.min(active, options.length - 1)]!);
        return;
      }
      if (event.key === "Escape") {
        event.preventDefault();
        setMenuOpen(false);
        if (command !== null) setDraft("");
        return;
      }
    }
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      void send();
    }
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void send();
  };

  return (
    <form aria-label="Reply" onSubmit={onSubmit} className="space-y-2">
      <SendError error={error} />
      <div className="relative">
        <label htmlFor={`${id}-text`} className="sr-only">
          Reply
        </label>
        <textarea
          ref={textarea}
          id={`${id}-text`}
          rows={2}
          value={draft}
          onChange={(event) => {
            setDraft(event.target.value);
            if (error?.code === "INVALID") setError(null);
          }}
          onKeyDown={onKeyDown}
          onBlur={() => setMenuOpen(false)}
          placeholder="Write a reply…"
          role="combobox"
          aria-expanded={showMenu}
          aria-controls={listId}
          aria-autocomplete="list"
          aria-activedescendant={showMenu ? optionId(Math.min(active, options.length - 1)) : undefined}
          aria-describedby={`${id}-hint`}
          className="block w-full resize-y rounded-lg border border-slate-300 bg-white px-3 py-2 text-sm text-slate-900 shadow-sm focus:border-brand-600"
        />
        <ul
          id={listId}
          role="listbox"
          aria-label="Quick replies"
          hidden={!showMenu}
          className="absolute bottom-full left-0 z-10 mb-1 max-h-64 w-full overflow-y-auto rounded-lg border border-slate-200 bg-white py-1 shadow-lg"
        >
          {options.map((q, i) => (
            <li
              key={q.key}
              id={optionId(i)}
              role="option"
              aria-selected={i === active}
              // mousedown, not click: the textarea must not lose focus (and close the menu) first.
              onMouseDown={(event) => {
                event.preventDefault();
                choose(q);
              }}
              className={`cursor-pointer px-3 py-2 text-sm ${i === active ? "bg-brand-50" : "hover:bg-slate-50"}`}
            >
              <span className="font-medium text-slate-900">
                /{q.key} · {q.title}
              </span>
              <span className="block text-xs break-words text-slate-600">{q.text}</span>
            </li>
          ))}
        </ul>
      </div>
      <div className="flex flex-wrap items-center justify-end gap-2 sm:justify-between">
        <p id={`${id}-hint`} className="text-xs text-slate-500 max-sm:sr-only">
          Enter sends, Shift+Enter starts a new line, “/” opens the quick replies.
        </p>
        <div className="flex gap-2">
          <Button
            size="sm"
            variant="ghost"
            aria-expanded={menuOpen}
            aria-controls={listId}
            onMouseDown={(event) => event.preventDefault()}
            onClick={() => {
              setMenuOpen((open) => !open);
              textarea.current?.focus();
            }}
          >
            Quick replies
          </Button>
          <Button type="submit" variant="primary" size="sm" busy={busy} busyLabel="Sending…">
            Send
          </Button>
        </div>
      </div>
    </form>
  );
}

function TemplateReply({
  tenant,
  conversation,
  windowText,
  preloaded,
}: {
  tenant: TenantContext;
  conversation: Conversation;
  windowText: string;
  preloaded: Preloaded<typeof api.conversations.templates> | null;
}) {
  const id = useId();
  const templates = usePreloaded(
    api.conversations.templates,
    { tenantId: tenant.tenantId, conversationId: conversation.conversationId },
    preloaded,
  );
  const sendTemplate = useMutation(api.conversations.sendTemplate);
  const [templateId, setTemplateId] = useState("");
  const [parameters, setParameters] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const chosen = templates?.find((t) => t.templateId === templateId) ?? templates?.[0];

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy || !chosen) return;
    setBusy(true);
    setError(null);
    setStatus(null);
    try {
      await sendTemplate({
        tenantId: tenant.tenantId,
        conversationId: conversation.conversationId,
        templateId: chosen.templateId,
        parameters: parameters.map((p) => p.trim()),
      });
      setParameters([]);
      setStatus(`Template ${chosen.name} queued`);
    } catch (e) {
      setError(toAppError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="space-y-3">
      <div>
        <label htmlFor={`${id}-off`} className="sr-only">
          Reply
        </label>
        <textarea
          id={`${id}-off`}
          rows={2}
          disabled
          aria-describedby={`${id}-why`}
          placeholder="Free-form replies are off"
          className="block w-full resize-none rounded-lg border border-slate-200 bg-slate-50 px-3 py-2 text-sm text-slate-500"
        />
        <p id={`${id}-why`} className="mt-1.5 text-sm text-amber-800">
          {windowText}
        </p>
      </div>
      {templates === undefined ? (
        <p className="text-sm text-slate-600">Loading templates…</p>
      ) : templates.length === 0 ? (
        <p className="text-sm text-slate-600">
          This number has no approved templates yet. Templates are created in Meta&apos;s WhatsApp Manager and
          appear here once Meta approves them.
        </p>
      ) : (
        <form aria-label="Send a template" onSubmit={onSubmit} className="space-y-3">
          <SendError error={error} />
          <div>
            <label htmlFor={`${id}-template`} className="block text-sm font-medium text-slate-900">
              Approved template
            </label>
            <select
              id={`${id}-template`}
              value={chosen?.templateId ?? ""}
              onChange={(event) => setTemplateId(event.target.value)}
              className="mt-1.5 block w-full rounded-lg border border-slate-300 bg-white px-3 py-2 text-sm text-slate-900 shadow-sm"
            >
              {templates.map((t) => (
                <option key={t.templateId} value={t.templateId}>
                  {t.name} ({t.language}
                  {t.category ? `, ${t.category.toLowerCase()}` : ""})
                </option>
              ))}
            </select>
          </div>
          <fieldset className="space-y-2">
            <legend className="text-sm font-medium text-slate-900">Parameters</legend>
            <p className="text-xs text-slate-500">
              One value per placeholder of the template, in order: the first fills {"{{1}}"}, the second{" "}
              {"{{2}}"}, and so on. WhatsApp refuses the message if the count does not match.
            </p>
            {parameters.map((value, i) => (
              <div key={i} className="flex items-end gap-2">
                <div className="min-w-0 flex-1">
                  <label htmlFor={`${id}-p${i}`} className="block text-xs font-medium text-slate-700">
                    {`Parameter {{${i + 1}}}`}
                  </label>
                  <input
                    id={`${id}-p${i}`}
                    value={value}
                    onChange={(event) =>
                      setParameters((all) => all.map((p, j) => (j === i ? event.target.value : p)))
                    }
                    className="mt-1 block w-full rounded-lg border border-slate-300 bg-white px-3 py-1.5 text-sm text-slate-900 shadow-sm"
                  />
                </div>
                <Button
                  size="sm"
                  variant="ghost"
                  aria-label={`Remove parameter ${i + 1}`}
                  onClick={() => setParameters((all) => all.filter((_, j) => j !== i))}
                >
                  Remove
                </Button>
              </div>
            ))}
            <Button size="sm" onClick={() => setParameters((all) => [...all, ""])}>
              Add parameter
            </Button>
          </fieldset>
          <div className="flex flex-wrap items-center justify-end gap-3">
            <FormStatus message={status} />
            <Button type="submit" variant="primary" size="sm" busy={busy} busyLabel="Sending…">
              Send template
            </Button>
          </div>
        </form>
      )}
    </div>
  );
}
