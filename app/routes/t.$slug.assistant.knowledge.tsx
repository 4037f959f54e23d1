// /t/<slug>/assistant/knowledge: the entries the assistant answers from, live, with search as
// you type. Admins add, edit and delete entries; agents read them.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { useEffect, useRef, useState } from "react";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { Button } from "../components/button";
import { DataRouteErrorView } from "../components/data-error-view";
import { EmptyState } from "../components/empty-state";
import { FormStatus } from "../components/form-field";
import {
  EntryForm,
  KNOWLEDGE_PAGE_SIZE,
  KnowledgeEmpty,
  KnowledgeList,
  KnowledgeSearch,
  useDebouncedSearch,
} from "../components/knowledge-base";
import { Section } from "../components/page-header";
import { LoadingState } from "../components/spinner";
import type { KnowledgeEntryView } from "../lib/assistant";
import { requireUser } from "../lib/auth.server";
import { preload, preloadTenant } from "../lib/preload.server";
import { useTenant } from "../lib/tenant-context";
import { usePreloadedPages } from "../lib/use-preloaded-pages";

export const meta: MetaFunction = () => [{ title: "Knowledge base — Switchboard" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireUser(request);
  const { tenantId } = await preloadTenant(request, params.slug ?? "");
  return {
    knowledge: tenantId
      ? await preload(request, api.assistant.knowledge, {
          tenantId,
          paginationOpts: { numItems: KNOWLEDGE_PAGE_SIZE, cursor: null },
        })
      : null,
  };
}

export default function KnowledgePage() {
  const tenant = useTenant();
  const preloaded = useLoaderData<typeof loader>();
  const { text, setText, search, clear } = useDebouncedSearch();
  const { results, status, loadMore } = usePreloadedPages(
    api.assistant.knowledge,
    search ? { tenantId: tenant.tenantId, search } : { tenantId: tenant.tenantId },
    preloaded.knowledge,
    KNOWLEDGE_PAGE_SIZE,
  );
  const [editing, setEditing] = useState<"new" | Id<"knowledgeEntries"> | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  // While a new search loads, keep showing the last results (dimmed) rather than a spinner.
  const shown = useRef<{ entries: KnowledgeEntryView[]; search: string } | null>(null);
  const loading = status === "LoadingFirstPage";
  useEffect(() => {
    if (!loading) shown.current = { entries: results, search };
  }, [loading, results, search]);
  const entries = loading ? (shown.current?.entries ?? null) : results;
  const stale = loading && entries !== null;
  const searching = (loading ? (shown.current?.search ?? "") : search) !== "";

  // Closing the new-entry form puts focus back on "New entry".
  const focusNew = useRef(false);
  const closeNew = () => {
    focusNew.current = true;
    setEditing(null);
  };
  const done = (text: string) => {
    if (editing === "new") focusNew.current = true;
    setEditing(null);
    setMessage(text);
  };
  const newButton =
    tenant.canAdminWrite && editing !== "new" ? (
      <Button
        ref={(element) => {
          if (element && focusNew.current) {
            focusNew.current = false;
            element.focus();
          }
        }}
        variant="primary"
        onClick={() => {
          setEditing("new");
          setMessage(null);
        }}
      >
        New entry
      </Button>
    ) : null;
  const isEmpty = entries !== null && entries.length === 0 && !searching && !text.trim();

  return (
    <Section
      id="knowledge"
      title="Knowledge base"
      description="What the assistant may tell customers. It picks the entries that fit each question and hands over to your team when none does."
      actions={isEmpty ? null : newButton}
    >
      <FormStatus message={message} />
      {editing === "new" ? <EntryForm tenant={tenant} onDone={done} onCancel={closeNew} /> : null}
      {entries === null ? (
        <LoadingState label="Loading the knowledge base…" />
      ) : isEmpty ? (
        editing === "new" ? null : (
          <KnowledgeEmpty canWrite={tenant.canAdminWrite} action={newButton} />
        )
      ) : (
        <div className="space-y-4">
          <KnowledgeSearch text={text} onChange={setText} onClear={clear} busy={stale} />
          {entries.length === 0 ? (
            <EmptyState
              title={`Nothing matches “${search}”`}
              description="Search looks for whole words in titles, tags and answers. Try another word, or clear the search."
              action={<Button onClick={clear}>Clear the search</Button>}
            />
          ) : (
            <KnowledgeList
              tenant={tenant}
              entries={entries}
              editingId={editing === "new" ? null : editing}
              onEdit={(entryId) => {
                setEditing(entryId);
                setMessage(null);
              }}
              onStatus={setMessage}
              onDone={done}
              stale={stale}
            />
          )}
          {status === "CanLoadMore" || status === "LoadingMore" ? (
            <div className="flex justify-center">
              <Button
                onClick={() => loadMore(KNOWLEDGE_PAGE_SIZE)}
                busy={status === "LoadingMore"}
                busyLabel="Loading…"
              >
                Load more entries
              </Button>
            </div>
          ) : null}
        </div>
      )}
    </Section>
  );
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
