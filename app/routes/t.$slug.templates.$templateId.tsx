// /t/<slug>/templates/<id> (or /new?channel=<id>): the template editor with its live lint and
// preview, and the template's review status as Meta moves it. Admins save, submit and delete;
// everyone else reads.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useNavigate, useParams, useSearchParams } from "@remix-run/react";
import { useAction, useMutation, useQuery } from "convex/react";
import { useEffect, useMemo, useState } from "react";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { Button } from "../components/button";
import { ConfirmButton } from "../components/confirm-dialog";
import { DataRouteErrorView } from "../components/data-error-view";
import { FormError, FormStatus } from "../components/form-field";
import { PageHeader } from "../components/page-header";
import { LoadingState } from "../components/spinner";
import { LintResults, StatusBadges, TemplateEditor, TemplatePreview } from "../components/template-editor";
import { requireUser } from "../lib/auth.server";
import { toAppError } from "../lib/convex-errors";
import { formatDateTime } from "../lib/format";
import { useTenant } from "../lib/tenant-context";
import {
  emptyState,
  fromTemplate,
  lintTemplate,
  reasonLabel,
  statusInfo,
  toRequest,
  type EditorState,
  type TemplateView,
} from "../lib/templates";

export const meta: MetaFunction = () => [{ title: "Template — Switchboard" }];

export async function loader({ request }: LoaderFunctionArgs) {
  await requireUser(request);
  return null;
}

export default function TemplatePage() {
  const tenant = useTenant();
  const { templateId: param } = useParams();
  const [search] = useSearchParams();
  const isNew = param === "new";
  const template = useQuery(
    api.templates.get,
    isNew || !param ? "skip" : { tenantId: tenant.tenantId, templateId: param },
  );
  const channelId = (isNew ? search.get("channel") : template?.channelId) ?? null;
  const base = `/t/${encodeURIComponent(tenant.slug)}/templates`;

  if (!isNew && template === undefined) return <LoadingState label="Loading template…" />;
  if (isNew && !channelId) {
    return <FormError message="Choose the number the template is for on the templates page first." />;
  }
  return (
    <Editor
      key={template?.templateId ?? "new"}
      template={template ?? null}
      channelId={channelId as Id<"channels">}
      base={base}
      canWrite={tenant.canAdminWrite}
      tenantId={tenant.tenantId}
    />
  );
}

function Editor({
  template,
  channelId,
  base,
  canWrite,
  tenantId,
}: {
  template: TemplateView | null;
  channelId: Id<"channels">;
  base: string;
  canWrite: boolean;
  tenantId: Id<"tenants">;
}) {
  const navigate = useNavigate();
  const [state, setState] = useState<EditorState>(() => (template ? fromTemplate(template) : emptyState()));
  const [dirty, setDirty] = useState(false);
  const issues = useMemo(() => lintTemplate(toRequest(state)), [state]);
  const errors = issues.filter((i) => i.severity === "error").length;
  const saveDraft = useMutation(api.templates.saveDraft);
  const submit = useAction(api.templates.submit);
  const remove = useAction(api.templates.remove);
  const acknowledge = useMutation(api.templates.acknowledgeCategoryChange);
  const [busy, setBusy] = useState<"save" | "submit" | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const editable = template ? template.editable : true;
  const canEdit = canWrite && editable && !template?.submitting;

  // A status that leaves the editable ones (approved by a webhook, say) takes the page with it.
  const status = template?.status;
  useEffect(() => {
    if (!dirty && template) setState(fromTemplate(template));
    // Only when Meta moves the template on, not on every save.
  }, [status]);

  const change = (next: EditorState) => {
    setState(next);
    setDirty(true);
    setMessage(null);
  };

  const save = async (): Promise<Id<"templates"> | null> => {
    const request = toRequest(state);
    try {
      const id = await saveDraft({
        tenantId,
        channelId,
        ...(template ? { templateId: template.templateId } : {}),
        draft: {
          name: request.name.trim(),
          language: request.language,
          category: request.category,
          ...(request.parameter_format ? { parameterFormat: request.parameter_format } : {}),
          components: request.components,
        },
      });
      setDirty(false);
      return id;
    } catch (e) {
      setError(toAppError(e).message);
      return null;
    }
  };

  const onSave = async () => {
    setBusy("save");
    setError(null);
    const id = await save();
    setBusy(null);
    if (!id) return;
    setMessage("Draft saved.");
    if (!template) navigate(`${base}/${id}`, { replace: true });
  };

  const onSubmit = async () => {
    setBusy("submit");
    setError(null);
    setMessage(null);
    const id = await save();
    if (!id) return setBusy(null);
    try {
      const result = await submit({ tenantId, templateId: id });
      if (result.ok)
        setMessage("Submitted: Meta is reviewing it. This page shows the answer as soon as it comes.");
      else setError(`Meta refused it: ${result.message}`);
    } catch (e) {
      setError(toAppError(e).message);
    } finally {
      setBusy(null);
    }
    if (!template) navigate(`${base}/${id}`, { replace: true });
  };

  const info = template ? statusInfo(template.status) : statusInfo("DRAFT");
  const change_ = template?.categoryChange;

  return (
    <div className="space-y-6">
      <PageHeader
        eyebrow={
          <Link to={`${base}?channel=${channelId}`} className="underline-offset-2 hover:underline">
            ← Templates{template ? ` of ${template.channelName}` : ""}
          </Link>
        }
        title={template ? <span className="font-mono">{template.name}</span> : "New template"}
        description={
          template
            ? `${template.language} · ${info.help}`
            : "Write it, check the preview, then submit it for Meta's review."
        }
        actions={
          template && canWrite ? (
            <ConfirmButton
              title={`Delete template ${template.name}?`}
              description={
                template.providerTemplateId
                  ? "It is deleted at Meta too, for every number of this WhatsApp Business Account, and its name cannot be used again for 30 days."
                  : "The draft is deleted."
              }
              confirmLabel="Delete template"
              busyLabel="Deleting…"
              onConfirm={async () => {
                const result = await remove({ tenantId, templateId: template.templateId });
                if (!result.ok) throw new Error(result.message ?? "Meta refused to delete it");
                navigate(`${base}?channel=${channelId}`, { replace: true });
              }}
            />
          ) : null
        }
      />

      {template ? (
        <section
          aria-label="Review status"
          className="space-y-2 rounded-lg border border-slate-200 bg-white p-4"
          data-testid="template-status"
        >
          <div className="flex flex-wrap items-center gap-2 text-sm">
            <span className="font-medium text-slate-900">Status</span>
            <StatusBadges t={template} />
            {template.category ? (
              <span className="text-slate-600">Category: {template.category.toLowerCase()}</span>
            ) : null}
            {template.submittedAt ? (
              <span className="text-slate-500">Submitted {formatDateTime(template.submittedAt)}</span>
            ) : null}
          </div>
          {template.reason && ["REJECTED", "PAUSED", "DISABLED", "FLAGGED"].includes(template.status) ? (
            <p className="text-sm text-red-800">
              Reason: {reasonLabel(template.reason)}
              {template.recommendation ? ` — ${reasonLabel(template.recommendation)}` : ""}
            </p>
          ) : null}
          {template.lastError ? <p className="text-sm text-red-800">{template.lastError}</p> : null}
          {change_ && change_.acknowledgedAt === undefined ? (
            <div className="flex flex-wrap items-center gap-3 rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900">
              <p className="min-w-0 flex-1">
                {change_.state === "announced"
                  ? `Meta will move this template from ${change_.from.toLowerCase()} to ${change_.to.toLowerCase()}${change_.effectiveAt ? ` on ${formatDateTime(change_.effectiveAt)}` : ""}.`
                  : `Meta moved this template from ${change_.from.toLowerCase()} to ${change_.to.toLowerCase()}.`}{" "}
                Its messages are priced as {change_.to.toLowerCase()}; campaigns using it wait until an admin
                acknowledges this.
              </p>
              {canWrite ? (
                <Button
                  size="sm"
                  onClick={() => void acknowledge({ tenantId, templateId: template.templateId })}
                >
                  Acknowledge
                </Button>
              ) : null}
            </div>
          ) : null}
        </section>
      ) : null}

      <div className="grid gap-8 lg:grid-cols-[minmax(0,1fr)_20rem]">
        <form
          className="min-w-0 space-y-6"
          onSubmit={(e) => {
            e.preventDefault();
            void onSubmit();
          }}
        >
          {!canWrite ? (
            <p className="text-sm text-slate-600">Only admins of this workspace change templates.</p>
          ) : !editable ? (
            <p className="text-sm text-slate-600">
              {info.label} templates are not edited here: create a new template (or a new language) instead.
            </p>
          ) : null}
          <TemplateEditor
            state={state}
            onChange={change}
            nameLocked={!!template?.providerTemplateId}
            disabled={!canEdit}
          />
          {canEdit ? (
            <>
              <FormError message={error} />
              <FormStatus message={message} />
              <div className="flex flex-wrap gap-2">
                <Button
                  type="submit"
                  variant="primary"
                  disabled={errors > 0}
                  busy={busy === "submit"}
                  busyLabel="Submitting…"
                >
                  {template?.status === "REJECTED" || template?.status === "PAUSED"
                    ? "Resubmit for review"
                    : "Submit for review"}
                </Button>
                <Button
                  type="button"
                  onClick={() => void onSave()}
                  busy={busy === "save"}
                  busyLabel="Saving…"
                >
                  Save draft
                </Button>
              </div>
              {errors > 0 ? (
                <p className="text-xs text-slate-500">Fix the problems listed with the preview to submit.</p>
              ) : null}
            </>
          ) : (
            <>
              <FormError message={error} />
              <FormStatus message={message} />
            </>
          )}
        </form>
        <div className="lg:sticky lg:top-4 lg:self-start">
          <div className="space-y-4">
            <TemplatePreview state={state} />
            {/* Beside the preview, so the findings stay in sight while typing. */}
            {canEdit ? <LintResults issues={issues} /> : null}
          </div>
        </div>
      </div>
    </div>
  );
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
