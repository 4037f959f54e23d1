// /t/<slug>/inbox/<id>: one conversation, live. Its header (contact, state, assignee, take over,
// hand back, close, consent, the assistant's handoff), the thread oldest first with delivery
// marks, and the reply box. Opening it marks it read, and so does each new customer message
// while it is open. The loader reads the first paint: header, newest messages, templates,
// members.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData, useSearchParams } from "@remix-run/react";
import { useMutation } from "convex/react";
import { useEffect, useRef } from "react";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { DataRouteErrorView } from "../components/data-error-view";
import { ConversationHeader } from "../components/inbox-conversation";
import { ReplyBox } from "../components/inbox-reply";
import { Thread } from "../components/inbox-thread";
import { LoadingState } from "../components/spinner";
import { requireUser } from "../lib/auth.server";
import { MESSAGE_PAGE_SIZE, contactTitle, inboxAccess, windowInfo, type Conversation } from "../lib/inbox";
import { preload, preloadTenant } from "../lib/preload.server";
import { useNow } from "../lib/relative-time";
import { useTenant, type TenantContext } from "../lib/tenant-context";
import { usePreloaded } from "../lib/use-preloaded";
import { firstPageArgs, usePreloadedPaginated } from "../lib/use-preloaded-paginated";

export const meta: MetaFunction = () => [{ title: "Conversation — Switchboard" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireUser(request);
  const conversationId = params.conversationId ?? "";
  const { tenantId } = await preloadTenant(request, params.slug ?? "");
  if (!tenantId)
    return { conversationId, conversation: null, messages: null, templates: null, members: null };
  // An address that is no conversation id fails these reads, and the page then says "not found".
  const id = conversationId as Id<"conversations">;
  const [conversation, messages, templates, members] = await Promise.all([
    preload(request, api.conversations.get, { tenantId, conversationId }),
    preload(
      request,
      api.conversations.messages,
      firstPageArgs({ tenantId, conversationId: id }, MESSAGE_PAGE_SIZE),
    ),
    preload(request, api.conversations.templates, { tenantId, conversationId: id }),
    preload(request, api.members.list, { tenantId }),
  ]);
  return { conversationId, conversation, messages, templates, members };
}

type LoaderData = ReturnType<typeof useLoaderData<typeof loader>>;

export default function ConversationPage() {
  const { conversationId, ...preloaded } = useLoaderData<typeof loader>();
  const tenant = useTenant();
  // Throws NOT_FOUND for an address that is no conversation of this workspace: the boundary says so.
  const conversation = usePreloaded(
    api.conversations.get,
    { tenantId: tenant.tenantId, conversationId },
    preloaded.conversation,
  );
  if (conversation === undefined) return <LoadingState label="Loading conversation…" />;
  return (
    <ConversationView
      key={conversation.conversationId}
      tenant={tenant}
      conversation={conversation}
      preloaded={preloaded}
    />
  );
}

function ConversationView({
  tenant,
  conversation,
  preloaded,
}: {
  tenant: TenantContext;
  conversation: Conversation;
  preloaded: Omit<LoaderData, "conversationId">;
}) {
  const [searchParams] = useSearchParams();
  const now = useNow(30_000);
  const { canWrite } = inboxAccess(tenant.role, tenant.isMember, tenant.me.isPlatformAdmin);
  const args = { tenantId: tenant.tenantId, conversationId: conversation.conversationId };
  const messages = usePreloadedPaginated(
    api.conversations.messages,
    args,
    preloaded.messages,
    MESSAGE_PAGE_SIZE,
  );
  const members = usePreloaded(api.members.list, { tenantId: tenant.tenantId }, preloaded.members);
  useMarkRead(tenant, conversation, canWrite);
  const window = windowInfo(conversation.windowClosesAt, now, conversation.windowOpen);
  const tab = searchParams.get("tab");
  const backTo = `/t/${encodeURIComponent(tenant.slug)}/inbox${tab ? `?tab=${encodeURIComponent(tab)}` : ""}`;

  return (
    <section aria-label={`Conversation with ${contactTitle(conversation)}`} className="space-y-4">
      <ConversationHeader
        tenant={tenant}
        conversation={conversation}
        members={members}
        canWrite={canWrite}
        backTo={backTo}
        now={now}
      />
      <Thread
        title={contactTitle(conversation)}
        messages={messages.results}
        status={messages.status}
        loadMore={messages.loadMore}
      />
      {canWrite ? (
        <div className="sticky bottom-0 z-10 -mx-1 bg-slate-50/95 px-1 pt-1 pb-2 md:static md:mx-0 md:bg-transparent md:p-0">
          <ReplyBox
            tenant={tenant}
            conversation={conversation}
            windowOpen={window.open}
            windowText={window.long}
            preloadedTemplates={preloaded.templates}
          />
        </div>
      ) : (
        <p className="rounded-lg border border-sky-200 bg-sky-50 px-4 py-2 text-sm text-sky-900">
          You are reading this conversation as a platform admin; replying and changing it take the agent role
          in this workspace.
        </p>
      )}
    </section>
  );
}

/**
 * Marks the conversation read when it opens and whenever a new customer message arrives while
 * it is open and the tab is in view (unread goes above zero again).
 */
function useMarkRead(tenant: TenantContext, conversation: Conversation, canWrite: boolean) {
  const markRead = useMutation(api.conversations.markRead);
  const pending = useRef(false);
  const { tenantId } = tenant;
  const { conversationId, unread } = conversation;
  useEffect(() => {
    if (!canWrite || unread === 0) return;
    const mark = () => {
      if (pending.current || document.visibilityState !== "visible") return;
      pending.current = true;
      markRead({ tenantId, conversationId })
        // Only a convenience: a failure leaves the count up, and the next change tries again.
        .catch(() => undefined)
        .finally(() => {
          pending.current = false;
        });
    };
    mark();
    document.addEventListener("visibilitychange", mark);
    return () => document.removeEventListener("visibilitychange", mark);
  }, [canWrite, unread, tenantId, conversationId, markRead]);
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
