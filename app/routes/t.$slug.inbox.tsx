// /t/<slug>/inbox: the live inbox (agents and above; platform admins read it). The conversation
// list stays on the left while a conversation is open on the right; on phones the list and the
// conversation are separate screens. The first page of the list is read by the loader.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Outlet, useLoaderData, useParams, useRouteLoaderData, useSearchParams } from "@remix-run/react";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { DataRouteErrorView } from "../components/data-error-view";
import { ConversationList, InboxTabs } from "../components/inbox-list";
import { NotAllowed } from "../components/not-allowed";
import { PageHeader } from "../components/page-header";
import { requireUser } from "../lib/auth.server";
import { CONVERSATION_PAGE_SIZE, inboxAccess, tabFromSearch, type TabInfo } from "../lib/inbox";
import { preload, preloadTenant } from "../lib/preload.server";
import { withArticle } from "../lib/roles";
import { useTenant } from "../lib/tenant-context";
import { usePreloaded } from "../lib/use-preloaded";
import { firstPageArgs, usePreloadedPaginated } from "../lib/use-preloaded-paginated";
import type { loader as tenantLoader } from "./t.$slug";

export const meta: MetaFunction = () => [{ title: "Inbox — Switchboard" }];

function listArgs(tenantId: Id<"tenants">, tab: TabInfo) {
  return tab.state ? { tenantId, state: tab.state } : { tenantId };
}

export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireUser(request);
  const tab = tabFromSearch(new URL(request.url).searchParams.get("tab"));
  const { tenantId } = await preloadTenant(request, params.slug ?? "");
  if (!tenantId) return { list: null };
  const args = firstPageArgs(listArgs(tenantId, tab), CONVERSATION_PAGE_SIZE);
  return { list: await preload(request, api.conversations.list, args) };
}

export default function InboxLayout() {
  const tenant = useTenant();
  const access = inboxAccess(tenant.role, tenant.isMember, tenant.me.isPlatformAdmin);
  if (!access.canRead) {
    return (
      <NotAllowed
        message={`The inbox is for agents, admins and owners. You are ${withArticle(tenant.role)} in ${tenant.name}; ask an owner or admin if you need to answer customers.`}
        backTo={{ to: `/t/${encodeURIComponent(tenant.slug)}`, label: "Back to the overview" }}
      />
    );
  }
  return <Inbox />;
}

function Inbox() {
  const tenant = useTenant();
  const preloaded = useLoaderData<typeof loader>();
  const layout = useRouteLoaderData<typeof tenantLoader>("routes/t.$slug");
  const [searchParams] = useSearchParams();
  const { conversationId } = useParams();
  const tab = tabFromSearch(searchParams.get("tab"));
  const counts = usePreloaded(
    api.conversations.counts,
    { tenantId: tenant.tenantId },
    layout?.inboxCounts ?? null,
  );
  const list = usePreloadedPaginated(
    api.conversations.list,
    listArgs(tenant.tenantId, tab),
    preloaded.list,
    CONVERSATION_PAGE_SIZE,
  );
  const base = `/t/${encodeURIComponent(tenant.slug)}/inbox`;
  const search = tab.tab === "all" ? "" : `?tab=${tab.tab}`;
  const open = conversationId !== undefined;

  return (
    <div>
      <PageHeader
        title="Inbox"
        description={
          // On phones an open conversation has the screen to itself.
          <span className={open ? "max-md:sr-only" : undefined}>
            Conversations with your customers, live. Take over from the assistant, reply, and hand back.
          </span>
        }
      />
      <div className="md:grid md:grid-cols-[17rem_minmax(0,1fr)] md:items-start md:gap-6">
        <div className={`space-y-4 ${open ? "max-md:hidden" : ""}`}>
          <InboxTabs current={tab} counts={counts} />
          <ConversationList
            tab={tab}
            rows={list.results}
            status={list.status}
            loadMore={list.loadMore}
            hrefFor={(row) => `${base}/${row.conversationId}${search}`}
            selectedId={conversationId}
          />
        </div>
        <div className={`min-w-0 ${open ? "" : "max-md:hidden"}`}>
          <Outlet context={tenant} />
        </div>
      </div>
    </div>
  );
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
