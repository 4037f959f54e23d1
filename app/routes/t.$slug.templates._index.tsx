// /t/<slug>/templates: a Cloud API number's message templates and their review status, live.
// Everyone reads them; admins write, submit, read templates from Meta and delete.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData, useSearchParams } from "@remix-run/react";
import { useAction, useConvexAuth, useQuery } from "convex/react";
import { useId, useState } from "react";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { Button, buttonClass } from "../components/button";
import { DataRouteErrorView } from "../components/data-error-view";
import { DataTable, type Column } from "../components/data-table";
import { EmptyState } from "../components/empty-state";
import { FormError, FormStatus } from "../components/form-field";
import { PageHeader } from "../components/page-header";
import { LoadingState } from "../components/spinner";
import { requireUser } from "../lib/auth.server";
import { toAppError } from "../lib/convex-errors";
import { preload, preloadTenant } from "../lib/preload.server";
import { useTenant } from "../lib/tenant-context";
import { CATEGORY_LABELS, reasonLabel, type TemplateSummary } from "../lib/templates";
import { StatusBadges } from "../components/template-editor";
import { usePreloaded } from "../lib/use-preloaded";

export const meta: MetaFunction = () => [{ title: "Templates — Switchboard" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireUser(request);
  const { tenantId } = await preloadTenant(request, params.slug ?? "");
  return { channels: tenantId ? await preload(request, api.channels.list, { tenantId }) : null };
}

export default function TemplatesPage() {
  const tenant = useTenant();
  const preloaded = useLoaderData<typeof loader>();
  const channels = usePreloaded(api.channels.list, { tenantId: tenant.tenantId }, preloaded.channels);
  const [params, setParams] = useSearchParams();
  const selectId = useId();
  const cloud = channels?.filter((c) => c.kind === "cloud") ?? [];
  const requested = params.get("channel");
  const channel = channels?.find((c) => c.channelId === requested) ?? cloud[0] ?? channels?.[0];
  const isCloud = channel?.kind === "cloud";
  const templates = useQuery(
    api.templates.list,
    channel && isCloud
      ? { tenantId: tenant.tenantId, channelId: channel.channelId as Id<"channels"> }
      : "skip",
  );
  const sync = useAction(api.templates.sync);
  // The page is drawn on the server; an action sent before the client has its session would be
  // refused as signed out, so the button waits for it.
  const { isAuthenticated } = useConvexAuth();
  const [syncing, setSyncing] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const base = `/t/${encodeURIComponent(tenant.slug)}/templates`;

  const newLink =
    tenant.canAdminWrite && channel && isCloud ? (
      <Link to={`${base}/new?channel=${channel.channelId}`} className={buttonClass("primary")}>
        New template
      </Link>
    ) : null;

  const runSync = async () => {
    if (!channel) return;
    setSyncing(true);
    setMessage(null);
    setError(null);
    try {
      const result = await sync({
        tenantId: tenant.tenantId,
        channelId: channel.channelId as Id<"channels">,
      });
      if (result.ok) setMessage(`Read from Meta: ${result.added} new, ${result.updated} updated.`);
      else setError(result.message);
    } catch (e) {
      setError(toAppError(e).message);
    } finally {
      setSyncing(false);
    }
  };

  const columns: Column<TemplateSummary>[] = [
    {
      header: "Template",
      rowHeader: true,
      cell: (t) => (
        <>
          <Link
            to={`${base}/${t.templateId}`}
            className="font-mono text-brand-700 underline-offset-2 hover:underline"
          >
            {t.name}
          </Link>
          <span className="mt-0.5 block text-xs font-normal text-slate-500">
            {t.language}
            {t.category
              ? ` · ${CATEGORY_LABELS[t.category as keyof typeof CATEGORY_LABELS] ?? t.category}`
              : ""}
          </span>
        </>
      ),
    },
    {
      header: "Status",
      cell: (t) => (
        <div>
          <StatusBadges t={t} />
          {t.reason && ["REJECTED", "PAUSED", "DISABLED"].includes(t.status) ? (
            <p className="mt-1 text-xs text-red-800">{reasonLabel(t.reason)}</p>
          ) : null}
        </div>
      ),
    },
    {
      header: "Message",
      cell: (t) => <p className="line-clamp-2 max-w-md text-sm text-slate-700">{t.body}</p>,
    },
  ];

  return (
    <div className="space-y-6">
      <PageHeader
        title="Templates"
        description="Messages WhatsApp lets you send at any time, once Meta approved them: for campaigns and for replies after the 24-hour window."
        actions={
          <>
            {tenant.canAdminWrite && isCloud ? (
              <Button onClick={runSync} busy={syncing} busyLabel="Reading…" disabled={!isAuthenticated}>
                Read from Meta
              </Button>
            ) : null}
            {newLink}
          </>
        }
      />
      {channels === undefined ? (
        <LoadingState label="Loading channels…" />
      ) : channels.length === 0 ? (
        <EmptyState
          headingLevel="h2"
          title="No WhatsApp number connected yet"
          description="Templates belong to a Cloud API number: connect one on the Channels page first."
        />
      ) : (
        <>
          <div className="max-w-sm">
            <label htmlFor={selectId} className="block text-sm font-medium text-slate-900">
              Number
            </label>
            <select
              id={selectId}
              className="mt-1 block w-full rounded-lg border border-slate-300 px-3 py-2 text-sm shadow-sm"
              value={channel?.channelId ?? ""}
              onChange={(e) => setParams({ channel: e.target.value }, { replace: true })}
            >
              {channels.map((c) => (
                <option key={c.channelId} value={c.channelId}>
                  {c.name} {c.kind === "waha" ? "(WAHA)" : ""}
                </option>
              ))}
            </select>
          </div>
          <FormStatus message={message} />
          <FormError message={error} />
          {!isCloud ? (
            <EmptyState
              headingLevel="h2"
              title="WAHA numbers have no templates"
              description="WhatsApp templates exist only on Meta's Cloud API. A WAHA number can send free-form messages inside the 24-hour window; to reach customers outside it, connect a Cloud API number."
            />
          ) : templates === undefined ? (
            <LoadingState label="Loading templates…" />
          ) : (
            <DataTable
              caption={`Templates of ${channel?.name ?? ""}`}
              columns={columns}
              rows={templates}
              rowKey={(t) => t.templateId}
              empty={
                <EmptyState
                  headingLevel="h2"
                  title="No templates yet"
                  description={
                    tenant.canAdminWrite
                      ? "Write one, or read the templates this number already has at Meta."
                      : "An admin of this workspace writes them."
                  }
                  action={newLink}
                />
              }
            />
          )}
        </>
      )}
    </div>
  );
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
