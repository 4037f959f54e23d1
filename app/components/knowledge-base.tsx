// The knowledge base the assistant answers from: live search, the entries (newest first, or best
// match first when searching) page by page, and for admins the entry form and deletion.
import { useMutation } from "convex/react";
import {
  useEffect,
  useId,
  useRef,
  useState,
  type FormEvent,
  type KeyboardEvent,
  type ReactNode,
} from "react";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { KNOWLEDGE_LIMITS, parseTags, type KnowledgeEntryView } from "../lib/assistant";
import { formatDateTime } from "../lib/format";
import { formatTimeAgo, useNow } from "../lib/relative-time";
import type { TenantContext } from "../lib/tenant-context";
import { useFormSubmission } from "../lib/use-form-submission";
import { Button } from "./button";
import { Badge } from "./channel-health";
import { ConfirmButton } from "./confirm-dialog";
import { EmptyState } from "./empty-state";
import { FormError, TextField } from "./form-field";
import { TextAreaField } from "./text-area-field";

/** Entries in the first page and in each "Load more". */
export const KNOWLEDGE_PAGE_SIZE = 20;

/** A long answer shows this much until opened. */
const PREVIEW_CHARS = 400;

// ---------------------------------------------------------------- search

/**
 * The search box: what is typed shows at once; the query follows a moment after the last
 * keystroke, so a word typed quickly is one search, not one per letter.
 */
export function useDebouncedSearch(delayMs = 200) {
  const [text, setText] = useState("");
  const [search, setSearch] = useState("");
  useEffect(() => {
    const id = window.setTimeout(() => setSearch(text.trim()), delayMs);
    return () => window.clearTimeout(id);
  }, [text, delayMs]);
  return { text, setText, search, clear: () => (setText(""), setSearch("")) };
}

export function KnowledgeSearch({
  text,
  onChange,
  onClear,
  busy,
}: {
  text: string;
  onChange: (text: string) => void;
  onClear: () => void;
  busy: boolean;
}) {
  const id = useId();
  return (
    <div role="search" className="flex flex-wrap items-end gap-2">
      <div className="min-w-0 flex-1">
        <label htmlFor={id} className="block text-sm font-medium text-slate-900">
          Search the knowledge base
        </label>
        <input
          id={id}
          type="search"
          value={text}
          onChange={(e) => onChange(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Escape" && text) {
              e.preventDefault();
              onClear();
            }
          }}
          aria-busy={busy || undefined}
          autoComplete="off"
          placeholder="Words from a title, tag or answer"
          className="mt-1.5 block w-full rounded-lg border border-slate-300 bg-white px-3 py-2 text-slate-900 shadow-sm focus:border-brand-600"
        />
      </div>
    </div>
  );
}

// ---------------------------------------------------------------- the list

export function KnowledgeList({
  tenant,
  entries,
  editingId,
  onEdit,
  onStatus,
  onDone,
  stale,
}: {
  tenant: TenantContext;
  entries: readonly KnowledgeEntryView[];
  editingId: Id<"knowledgeEntries"> | null;
  onEdit: (entryId: Id<"knowledgeEntries"> | null) => void;
  onStatus: (message: string) => void;
  onDone: (message: string) => void;
  /** The entries are the previous search's, while the new one loads. */
  stale: boolean;
}) {
  // Closing an entry's form puts focus back on its Edit button, where the keyboard left off.
  const [returnTo, setReturnTo] = useState<Id<"knowledgeEntries"> | null>(null);
  return (
    <ul
      aria-label="Knowledge entries"
      aria-busy={stale || undefined}
      className={`space-y-3 ${stale ? "opacity-60" : ""}`}
    >
      {entries.map((entry) => (
        <li key={entry.entryId}>
          {editingId === entry.entryId ? (
            <EntryForm
              tenant={tenant}
              entry={entry}
              onDone={(message) => {
                setReturnTo(entry.entryId);
                onDone(message);
              }}
              onCancel={() => {
                setReturnTo(entry.entryId);
                onEdit(null);
              }}
            />
          ) : (
            <EntryCard
              tenant={tenant}
              entry={entry}
              focusEdit={returnTo === entry.entryId}
              onEdit={() => onEdit(entry.entryId)}
              onStatus={onStatus}
            />
          )}
        </li>
      ))}
    </ul>
  );
}

function EntryCard({
  tenant,
  entry,
  focusEdit,
  onEdit,
  onStatus,
}: {
  tenant: TenantContext;
  entry: KnowledgeEntryView;
  /** Focus the Edit button when the card appears (its form was just closed). */
  focusEdit: boolean;
  onEdit: () => void;
  onStatus: (message: string) => void;
}) {
  const remove = useMutation(api.assistant.removeEntry);
  const editButton = useRef<HTMLButtonElement>(null);
  // Only when the card appears: later renders leave focus where it is.
  const focusOnMount = useRef(focusEdit);
  useEffect(() => {
    if (focusOnMount.current) editButton.current?.focus();
  }, []);
  const titleId = useId();
  const now = useNow(30_000);
  const [open, setOpen] = useState(false);
  const long = entry.body.length > PREVIEW_CHARS;
  const body = long && !open ? `${entry.body.slice(0, PREVIEW_CHARS).trimEnd()}…` : entry.body;
  return (
    <article
      aria-labelledby={titleId}
      className="rounded-2xl border border-slate-200 bg-white p-4 shadow-sm sm:p-5"
    >
      <div className="flex flex-wrap items-start justify-between gap-3">
        <h3 id={titleId} className="min-w-0 text-base font-semibold break-words text-slate-900">
          {entry.title}
        </h3>
        {tenant.canAdminWrite ? (
          <div className="flex shrink-0 gap-2">
            <Button ref={editButton} size="sm" onClick={onEdit} aria-label={`Edit ${entry.title}`}>
              Edit
            </Button>
            <ConfirmButton
              title={`Delete “${entry.title}”?`}
              description={
                <p>
                  The assistant stops using this answer right away. This cannot be undone; the audit log keeps
                  a record that it existed.
                </p>
              }
              confirmLabel="Delete entry"
              busyLabel="Deleting…"
              buttonProps={{ "aria-label": `Delete ${entry.title}` }}
              onConfirm={async () => {
                await remove({ tenantId: tenant.tenantId, entryId: entry.entryId });
                onStatus(`Deleted “${entry.title}”`);
              }}
            >
              Delete
            </ConfirmButton>
          </div>
        ) : null}
      </div>
      <p className="mt-2 text-sm break-words whitespace-pre-wrap text-slate-700">{body}</p>
      {long ? (
        <button
          type="button"
          aria-expanded={open}
          onClick={() => setOpen((o) => !o)}
          className="mt-1 text-sm font-medium text-brand-700 hover:underline"
        >
          {open ? "Show less" : "Show the whole answer"}
        </button>
      ) : null}
      <div className="mt-3 flex flex-wrap items-center gap-x-3 gap-y-2 text-xs text-slate-500">
        {entry.tags.length ? (
          <ul aria-label="Tags" className="flex flex-wrap gap-1.5">
            {entry.tags.map((tag) => (
              <li key={tag}>
                <Badge>{tag}</Badge>
              </li>
            ))}
          </ul>
        ) : null}
        <span title={formatDateTime(entry.updatedAt)}>
          Updated {now === null ? formatDateTime(entry.updatedAt) : formatTimeAgo(entry.updatedAt, now)}
        </span>
      </div>
    </article>
  );
}

// ---------------------------------------------------------------- the form (admins)

const FIELDS = ["title", "body", "tags"] as const;

/** Writes a new entry, or changes `entry`. Escape cancels. */
export function EntryForm({
  tenant,
  entry,
  onDone,
  onCancel,
}: {
  tenant: TenantContext;
  entry?: KnowledgeEntryView;
  onDone: (message: string) => void;
  onCancel: () => void;
}) {
  const save = useMutation(api.assistant.saveEntry);
  const [title, setTitle] = useState(entry?.title ?? "");
  const [body, setBody] = useState(entry?.body ?? "");
  const [tags, setTags] = useState(entry?.tags.join(", ") ?? "");
  const { form, busy, errors, fieldError, submit, invalid } = useFormSubmission(FIELDS);
  const titleInput = useRef<HTMLInputElement>(null);
  const headingId = useId();
  const tagList = parseTags(tags);

  useEffect(() => titleInput.current?.focus(), []);

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    const problems: Partial<Record<(typeof FIELDS)[number], string>> = {};
    const t = title.trim();
    const b = body.trim();
    if (!t) problems.title = "Give the entry a title";
    else if (t.length > KNOWLEDGE_LIMITS.title.max)
      problems.title = `A title can be at most ${KNOWLEDGE_LIMITS.title.max} characters`;
    if (!b) problems.body = "Write the answer";
    else if (b.length > KNOWLEDGE_LIMITS.body.max)
      problems.body = `An answer can be at most ${KNOWLEDGE_LIMITS.body.max} characters (${b.length} now)`;
    if (tagList.length > KNOWLEDGE_LIMITS.tags) problems.tags = `At most ${KNOWLEDGE_LIMITS.tags} tags`;
    if (Object.keys(problems).length) return invalid(problems);
    const saved = await submit(async () => {
      await save({ tenantId: tenant.tenantId, entryId: entry?.entryId, title: t, body: b, tags: tagList });
    });
    if (saved) onDone(entry ? `Saved “${t}”` : `Added “${t}”`);
  };

  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === "Escape" && !busy) {
      event.preventDefault();
      onCancel();
    }
  };

  const overTags = tagList.length > KNOWLEDGE_LIMITS.tags;
  return (
    <form
      ref={form}
      noValidate
      onSubmit={onSubmit}
      onKeyDown={onKeyDown}
      aria-labelledby={headingId}
      className="space-y-5 rounded-2xl border border-brand-200 bg-white p-4 shadow-sm sm:p-5"
    >
      <h3 id={headingId} className="text-base font-semibold break-words text-slate-900">
        {entry ? `Edit “${entry.title}”` : "New knowledge entry"}
      </h3>
      <TextField
        ref={titleInput}
        label="Title"
        name="title"
        value={title}
        onChange={(e) => setTitle(e.target.value)}
        limit={KNOWLEDGE_LIMITS.title}
        required
        autoComplete="off"
        error={fieldError("title")}
        hint="The question or topic, as customers would put it."
      />
      <TextAreaField
        label="Answer"
        name="body"
        value={body}
        onChange={(e) => setBody(e.target.value)}
        limit={KNOWLEDGE_LIMITS.body}
        rows={6}
        required
        error={fieldError("body")}
        hint="What the assistant may tell customers, in your words."
      />
      <TextField
        label="Tags"
        name="tags"
        value={tags}
        onChange={(e) => setTags(e.target.value)}
        autoComplete="off"
        error={fieldError("tags")}
        hint={
          <>
            Other words customers use for this, separated by commas.{" "}
            <span className={overTags ? "font-medium text-red-700" : undefined}>
              {tagList.length} / {KNOWLEDGE_LIMITS.tags} tags
            </span>
          </>
        }
      />
      <FormError message={errors?.form} />
      <div className="flex flex-wrap items-center gap-3">
        <Button type="submit" variant="primary" busy={busy} busyLabel="Saving…">
          {entry ? "Save entry" : "Add entry"}
        </Button>
        <Button onClick={onCancel} disabled={busy}>
          Cancel
        </Button>
      </div>
    </form>
  );
}

// ---------------------------------------------------------------- empty

export function KnowledgeEmpty({ canWrite, action }: { canWrite: boolean; action: ReactNode }) {
  return (
    <EmptyState
      headingLevel="h3"
      title="No knowledge entries yet"
      description={
        <>
          The assistant answers customers only from these entries, and hands the conversation to your team
          when none fits. Write one entry per thing customers ask, in your own words. For example: title{" "}
          <strong>Opening hours</strong>, answer{" "}
          <em>
            “We are open Monday to Saturday from 9:00 to 19:00, and closed on Sundays and public holidays.”
          </em>
          , tags <strong>hours, open, closed</strong>.{canWrite ? null : " Owners and admins write them."}
        </>
      }
      action={action}
    />
  );
}
