// /t/<slug>/campaigns/new: a campaign in one form — name, Cloud API number, approved template,
// where each {{n}} comes from, audience (a tag, a saved segment, everyone, contacts picked by
// search, or an uploaded CSV imported as contacts with a tag of its own) with its live count,
// a WhatsApp-style preview for the first few recipients, and when to send. Saves a draft, or
// launches after a confirmation that states how many contacts it goes to.
import type { MetaFunction } from "@remix-run/node";
import { Link, useNavigate } from "@remix-run/react";
import { useMutation, useQueries, useQuery } from "convex/react";
import { useEffect, useId, useMemo, useRef, useState } from "react";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { Button } from "../components/button";
import { ConfirmDialog } from "../components/confirm-dialog";
import { DataRouteErrorView } from "../components/data-error-view";
import { EmptyState } from "../components/empty-state";
import {
  FormError,
  SelectField,
  TextField,
  controlClass,
  useFocusFirstInvalid,
} from "../components/form-field";
import { NotAllowed } from "../components/not-allowed";
import { PageHeader } from "../components/page-header";
import { LoadingState } from "../components/spinner";
import {
  fillBody,
  hasNamedVariables,
  toVariables,
  valuesFor,
  variableCount,
  zonedDateTime,
  type Mapping,
} from "../lib/campaigns";
import type { FunctionReturnType } from "convex/server";
import { formatMoney } from "../lib/billing";
import { tierLabel } from "../lib/channels";
import { toAppError, toFormErrors, type FormErrors } from "../lib/convex-errors";
import { useTenant } from "../lib/tenant-context";
import { useContactUpload } from "../lib/use-contact-upload";

export const meta: MetaFunction = () => [{ title: "New campaign — Switchboard" }];

const FIELDS = ["name", "channelId", "templateId", "variables", "audience", "scheduledAt"] as const;
type Field = (typeof FIELDS)[number];
type AudienceKind = "tag" | "segment" | "all" | "contacts" | "upload";
/** Contacts a hand-picked audience can hold (the backend's limit too). */
const MAX_PICKED = 10_000;
type Picked = { contactId: Id<"contacts">; name: string | null; phone: string | null; optedOut: boolean };
const PREVIEW_COUNT = 3;

export default function NewCampaignPage() {
  const tenant = useTenant();
  if (!tenant.canAdminWrite)
    return <NotAllowed message="Only owners and admins of this workspace create campaigns." />;
  return <CampaignForm />;
}

function CampaignForm() {
  const tenant = useTenant();
  const tenantId = tenant.tenantId;
  const navigate = useNavigate();
  const base = `/t/${encodeURIComponent(tenant.slug)}/campaigns`;
  const formRef = useRef<HTMLFormElement>(null);
  const ids = { audience: useId(), schedule: useId(), body: useId() };

  const channels = useQuery(api.channels.list, { tenantId });
  const details = useQuery(api.tenants.get, { tenantId });
  const tags = useQuery(api.contacts.tags, { tenantId });
  const segments = useQuery(api.contacts.segments, { tenantId });
  const timeZone = details?.timeZone ?? "UTC";
  const cloud = useMemo(() => channels?.filter((c) => c.kind === "cloud") ?? [], [channels]);

  const [name, setName] = useState("");
  const [channelChoice, setChannelChoice] = useState<string>("");
  const channelId = (channelChoice || cloud[0]?.channelId || "") as Id<"channels"> | "";
  const templates = useQuery(api.templates.list, channelId ? { tenantId, channelId } : "skip");
  const approved = useMemo(
    () => templates?.filter((t) => t.status.toUpperCase() === "APPROVED") ?? [],
    [templates],
  );
  const [templateChoice, setTemplateChoice] = useState<string>("");
  const template = approved.find((t) => t.templateId === templateChoice) ?? approved[0];
  const count = template ? variableCount(template.body) : 0;
  const [mappingState, setMappingState] = useState<Mapping[]>([]);
  const mappings: Mapping[] = Array.from(
    { length: count },
    (_, i) => mappingState[i] ?? { source: "name", fallback: "" },
  );
  const setMapping = (i: number, m: Mapping) =>
    setMappingState(() => {
      const next = [...mappings];
      next[i] = m;
      return next;
    });

  const [audienceKind, setAudienceKind] = useState<AudienceKind>("tag");
  const [tagChoice, setTagChoice] = useState("");
  const [segmentChoice, setSegmentChoice] = useState("");
  const tag = tagChoice || tags?.[0]?.tag || "";
  const segment = segments?.find((s) => s.segmentId === segmentChoice) ?? segments?.[0];
  const [picked, setPicked] = useState<Picked[]>([]);
  const [uploadTag, setUploadTag] = useState<string | null>(null);
  const filter =
    audienceKind === "tag"
      ? tag
        ? { tag }
        : null
      : audienceKind === "segment"
        ? (segment?.filter ?? null)
        : audienceKind === "upload"
          ? uploadTag
            ? { tag: uploadTag }
            : null
          : audienceKind === "contacts"
            ? null
            : {};
  const audience =
    audienceKind === "contacts"
      ? picked.length
        ? { kind: "contacts" as const, contactIds: picked.map((p) => p.contactId) }
        : null
      : filter === null
        ? null
        : audienceKind === "segment" && segment
          ? { kind: "filter" as const, filter, segmentId: segment.segmentId }
          : { kind: "filter" as const, filter };
  const filterCount = useQuery(api.contacts.count, filter ? { tenantId, filter } : "skip");
  const audienceCount =
    audienceKind === "contacts"
      ? picked.length
        ? { count: picked.length, capped: false }
        : undefined
      : filterCount;
  const filterPreview = useQuery(
    api.contacts.list,
    filter ? { tenantId, filter, paginationOpts: { numItems: PREVIEW_COUNT, cursor: null } } : "skip",
  );
  const preview = audienceKind === "contacts" ? { page: picked.slice(0, PREVIEW_COUNT) } : filterPreview;

  const variables = toVariables(mappings);
  // The estimate is a help, not a must: when the server cannot answer it (a busy server, a huge
  // audience), the form stays and the estimate is left out.
  const estimateArgs =
    template && audience ? { tenantId, templateId: template.templateId, variables, audience } : null;
  const estimateKey = JSON.stringify(estimateArgs);
  const estimateQueries = useMemo(
    (): Parameters<typeof useQueries>[0] =>
      estimateArgs ? { estimate: { query: api.campaigns.estimate, args: estimateArgs } } : {},
    // Keyed by value, as useQuery does: the same arguments keep the same subscription.
    [estimateKey],
  );
  const estimateResult = useQueries(estimateQueries).estimate as
    FunctionReturnType<typeof api.campaigns.estimate> | Error | undefined;
  const estimate = estimateResult instanceof Error ? undefined : estimateResult;

  const [when, setWhen] = useState<"now" | "later">("now");
  const [at, setAt] = useState("");

  const [errors, setErrors] = useState<FormErrors<Field> | null>(null);
  const [saving, setSaving] = useState(false);
  const [confirming, setConfirming] = useState(false);
  useFocusFirstInvalid(formRef, errors);
  const create = useMutation(api.campaigns.create);
  const launch = useMutation(api.campaigns.launch);
  const fieldError = (f: Field) => errors?.fields[f] ?? null;

  /** The create arguments, or field errors found before asking the backend. */
  const build = () => {
    const local: Partial<Record<Field, string>> = {};
    if (!channelId) local.channelId = "Choose a Cloud API number";
    if (!template) local.templateId = "Choose an approved template";
    if (!audience)
      local.audience =
        audienceKind === "tag"
          ? "Choose a tag"
          : audienceKind === "segment"
            ? "Choose a saved segment"
            : audienceKind === "contacts"
              ? "Choose at least one contact"
              : "Upload a CSV file and wait until it is imported";
    let scheduledAt: number | undefined;
    if (when === "later") {
      const instant = at ? zonedDateTime(at, timeZone) : null;
      if (instant === null) local.scheduledAt = "Choose a date and time";
      else scheduledAt = instant;
    }
    if (Object.keys(local).length || !channelId || !template || !audience) {
      setErrors({ fields: local, form: null });
      return null;
    }
    return {
      tenantId,
      name,
      channelId,
      templateId: template.templateId,
      variables,
      audience,
      ...(scheduledAt !== undefined ? { scheduledAt } : {}),
    };
  };

  const saveDraft = async () => {
    const args = build();
    if (!args) return;
    setSaving(true);
    setErrors(null);
    try {
      const campaignId = await create(args);
      navigate(`${base}/${campaignId}`);
    } catch (e) {
      setErrors(toFormErrors(e, FIELDS));
    } finally {
      setSaving(false);
    }
  };

  const askLaunch = () => {
    if (!build()) return;
    setErrors(null);
    setConfirming(true);
  };

  const confirmLaunch = async () => {
    const args = build();
    if (!args) return;
    let campaignId: Id<"campaigns">;
    try {
      campaignId = await create(args);
    } catch (e) {
      setConfirming(false);
      setErrors(toFormErrors(e, FIELDS));
      return;
    }
    try {
      await launch({ tenantId, campaignId });
      navigate(`${base}/${campaignId}`);
    } catch (e) {
      // Saved as a draft: its page says why it did not start and can launch it later.
      navigate(`${base}/${campaignId}`, { state: { launchError: toAppError(e).message } });
    }
  };

  if (channels === undefined) return <LoadingState label="Loading…" />;
  if (cloud.length === 0)
    return (
      <div className="space-y-6">
        <PageHeader title="New campaign" />
        <EmptyState
          headingLevel="h2"
          title="No Cloud API number yet"
          description="Campaigns send approved templates, which only Cloud API numbers have. Connect one on the Channels page first."
          action={
            <Link
              to={`/t/${encodeURIComponent(tenant.slug)}/channels/new`}
              className="text-brand-700 underline"
            >
              Connect a number
            </Link>
          }
        />
      </div>
    );

  const recipients = audienceCount
    ? `${audienceCount.count.toLocaleString("en-US")}${audienceCount.capped ? "+" : ""}`
    : "…";

  return (
    <div className="space-y-6">
      <PageHeader
        title="New campaign"
        description="One approved template to many contacts. Opted-out contacts are skipped; the audience is fixed when the campaign starts."
      />
      <form
        ref={formRef}
        aria-label="New campaign"
        className="grid gap-8 lg:grid-cols-[minmax(0,1fr)_20rem]"
        onSubmit={(e) => {
          e.preventDefault();
          askLaunch();
        }}
      >
        <div className="min-w-0 space-y-6">
          <FormError message={errors?.form} />
          <TextField
            label="Name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            error={fieldError("name")}
            hint="For you; recipients never see it."
            autoComplete="off"
          />
          <SelectField
            label="Number"
            value={channelId}
            onChange={(e) => {
              setChannelChoice(e.target.value);
              setTemplateChoice("");
            }}
            options={cloud.map((c) => ({ value: c.channelId, label: c.name }))}
            error={fieldError("channelId")}
          />
          {templates === undefined ? (
            <LoadingState label="Loading templates…" />
          ) : approved.length === 0 ? (
            <div>
              <p className="text-sm font-medium text-slate-900">Template</p>
              <p className="mt-1.5 text-sm text-slate-600">
                This number has no approved template yet.{" "}
                <Link
                  to={`/t/${encodeURIComponent(tenant.slug)}/templates?channel=${channelId}`}
                  className="text-brand-700 underline"
                >
                  Write one on the Templates page
                </Link>
                .
              </p>
              {fieldError("templateId") ? (
                <p className="mt-1.5 text-sm font-medium text-red-700">{fieldError("templateId")}</p>
              ) : null}
            </div>
          ) : (
            <div>
              <SelectField
                label="Template"
                value={template?.templateId ?? ""}
                onChange={(e) => setTemplateChoice(e.target.value)}
                options={approved.map((t) => ({
                  value: t.templateId,
                  label: `${t.name} (${t.language}${t.category ? `, ${t.category.toLowerCase()}` : ""})`,
                }))}
                error={fieldError("templateId")}
                aria-describedby={ids.body}
              />
              {template ? (
                <p
                  id={ids.body}
                  className="mt-2 rounded-lg bg-slate-50 px-3 py-2 text-sm whitespace-pre-wrap text-slate-700"
                >
                  {template.body}
                </p>
              ) : null}
              {template && hasNamedVariables(template.body) ? (
                <p className="mt-2 text-sm text-amber-900">
                  This template uses named variables; campaigns fill numbered ones ({"{{1}}"}, {"{{2}}"}…).
                </p>
              ) : null}
            </div>
          )}

          {count > 0 ? (
            <fieldset className="space-y-3">
              <legend className="text-sm font-medium text-slate-900">Variables</legend>
              {mappings.map((m, i) => (
                <MappingRow key={i} index={i} mapping={m} onChange={(next) => setMapping(i, next)} />
              ))}
              {fieldError("variables") ? (
                <p className="text-sm font-medium text-red-700">{fieldError("variables")}</p>
              ) : null}
            </fieldset>
          ) : null}

          <fieldset className="space-y-3" aria-describedby={`${ids.audience}-count`}>
            <legend className="text-sm font-medium text-slate-900">Audience</legend>
            <div className="flex flex-wrap gap-x-6 gap-y-2">
              {(
                [
                  ["tag", "Contacts with a tag"],
                  ["segment", "A saved segment"],
                  ["all", "All contacts"],
                  ["contacts", "Chosen contacts"],
                  ["upload", "Upload a list (CSV)"],
                ] as const
              ).map(([k, label]) => (
                <label key={k} className="flex items-center gap-2 text-sm text-slate-800">
                  <input
                    type="radio"
                    name="audience"
                    value={k}
                    checked={audienceKind === k}
                    onChange={() => setAudienceKind(k)}
                    className="accent-brand-600"
                  />
                  {label}
                </label>
              ))}
            </div>
            {audienceKind === "tag" ? (
              tags && tags.length === 0 ? (
                <p className="text-sm text-slate-600">No contact has a tag yet.</p>
              ) : (
                <SelectField
                  label="Tag"
                  value={tag}
                  onChange={(e) => setTagChoice(e.target.value)}
                  options={(tags ?? []).map((t) => ({ value: t.tag, label: `${t.label} (${t.count})` }))}
                />
              )
            ) : audienceKind === "segment" ? (
              segments && segments.length === 0 ? (
                <p className="text-sm text-slate-600">
                  No saved segment yet: save one from the Contacts page's filters.
                </p>
              ) : (
                <SelectField
                  label="Segment"
                  value={segment?.segmentId ?? ""}
                  onChange={(e) => setSegmentChoice(e.target.value)}
                  options={(segments ?? []).map((s) => ({ value: s.segmentId, label: s.name }))}
                />
              )
            ) : audienceKind === "contacts" ? (
              <ContactPicker picked={picked} onChange={setPicked} />
            ) : audienceKind === "upload" ? (
              <UploadList campaignName={name} tag={uploadTag} onImported={setUploadTag} />
            ) : null}
            <p id={`${ids.audience}-count`} className="text-sm text-slate-700" aria-live="polite">
              {filter || (audienceKind === "contacts" && picked.length) ? (
                <>
                  <strong data-testid="audience-count">{recipients}</strong> contact
                  {audienceCount?.count === 1 ? "" : "s"}
                  {audienceKind === "contacts" ? " chosen" : " now"}
                </>
              ) : null}
            </p>
            {fieldError("audience") ? (
              <p className="text-sm font-medium text-red-700">{fieldError("audience")}</p>
            ) : null}
            {estimate && audienceCount ? (
              <EstimateSummary estimate={estimate} audienceCount={audienceCount.count} />
            ) : null}
          </fieldset>

          <fieldset className="space-y-3">
            <legend className="text-sm font-medium text-slate-900">When</legend>
            <div className="flex flex-wrap gap-x-6 gap-y-2">
              <label className="flex items-center gap-2 text-sm text-slate-800">
                <input
                  type="radio"
                  name="when"
                  checked={when === "now"}
                  onChange={() => setWhen("now")}
                  className="accent-brand-600"
                />
                Send now
              </label>
              <label className="flex items-center gap-2 text-sm text-slate-800">
                <input
                  type="radio"
                  name="when"
                  checked={when === "later"}
                  onChange={() => setWhen("later")}
                  className="accent-brand-600"
                />
                At a time
              </label>
            </div>
            {when === "later" ? (
              <TextField
                label={`Date and time (${timeZone})`}
                type="datetime-local"
                value={at}
                onChange={(e) => setAt(e.target.value)}
                error={fieldError("scheduledAt")}
                hint="In the workspace's time zone (Settings)."
              />
            ) : fieldError("scheduledAt") ? (
              <p className="text-sm font-medium text-red-700">{fieldError("scheduledAt")}</p>
            ) : null}
          </fieldset>

          <div className="flex flex-col gap-2 sm:flex-row">
            <Button type="submit" variant="primary">
              {when === "later" ? "Schedule…" : "Launch…"}
            </Button>
            <Button onClick={saveDraft} busy={saving} busyLabel="Saving…">
              Save draft
            </Button>
            <Link to={base} className="self-center px-2 text-sm text-slate-600 underline">
              Cancel
            </Link>
          </div>
        </div>

        <aside aria-label="Preview" className="space-y-3">
          <h2 className="text-sm font-medium text-slate-900">Preview</h2>
          {!template ? (
            <p className="text-sm text-slate-600">Choose a template to see the message.</p>
          ) : preview === undefined && (filter || audienceKind === "contacts") ? (
            <LoadingState label="Loading contacts…" />
          ) : !preview || preview.page.length === 0 ? (
            <p className="text-sm text-slate-600">
              {audienceCount && audienceCount.count > 0
                ? "No preview: the first contacts read did not match this audience."
                : "No contact in this audience yet."}
            </p>
          ) : (
            <ul className="space-y-3 rounded-2xl bg-[#e5ddd5] p-3">
              {preview.page.slice(0, PREVIEW_COUNT).map((c) => {
                const values = valuesFor(mappings, c);
                const missing = values.flatMap((v, i) => (v === null ? [i + 1] : []));
                return (
                  <li key={c.contactId}>
                    <p className="mb-1 text-xs font-medium text-slate-700">
                      To {c.name ?? c.phone ?? "a contact"}
                      {c.optedOut ? " · opted out, will be skipped" : ""}
                    </p>
                    <div className="max-w-full rounded-lg rounded-tl-none bg-white px-3 py-2 text-sm whitespace-pre-wrap text-slate-900 shadow-sm">
                      {fillBody(template.body, values)}
                    </div>
                    {missing.length ? (
                      <p role="note" className="mt-1 text-xs font-medium text-amber-900">
                        Missing a value for {missing.map((n) => `{{${n}}}`).join(", ")}: add a fallback or a
                        constant.
                      </p>
                    ) : null}
                  </li>
                );
              })}
            </ul>
          )}
        </aside>
      </form>

      <ConfirmDialog
        open={confirming}
        destructive={false}
        title={when === "later" ? "Schedule this campaign?" : "Launch this campaign?"}
        description={
          <p>
            It goes to <strong>{recipients}</strong> contact{audienceCount?.count === 1 ? "" : "s"}
            {template ? (
              <>
                {" "}
                with the template <span className="font-mono">{template.name}</span>
              </>
            ) : null}
            {when === "later" && at ? `, at ${at.replace("T", " ")} (${timeZone})` : ", starting now"}.
            Opted-out contacts are skipped.
            {estimate && estimate.sampled > 0 && audienceCount
              ? ` Estimated cost: ${audienceCount.count <= estimate.sampled ? "" : "about "}${formatMoney(
                  Math.round(
                    (estimate.cost * Math.max(audienceCount.count, estimate.sampled)) / estimate.sampled,
                  ),
                  estimate.currency,
                )}.`
              : ""}{" "}
            You can pause or cancel it while it runs.
          </p>
        }
        confirmLabel={when === "later" ? "Schedule" : `Launch to ${recipients}`}
        busyLabel="Launching…"
        onConfirm={confirmLaunch}
        onClose={() => setConfirming(false)}
      />
    </div>
  );
}

function EstimateSummary({
  estimate,
  audienceCount,
}: {
  estimate: FunctionReturnType<typeof api.campaigns.estimate>;
  audienceCount: number;
}) {
  if (estimate.sampled === 0) return null;
  const whole = audienceCount <= estimate.sampled;
  const scale = whole ? 1 : audienceCount / estimate.sampled;
  const cost = Math.round(estimate.cost * scale);
  return (
    <div
      data-testid="campaign-estimate"
      className="rounded-lg border border-slate-200 bg-white px-3 py-2 text-sm text-slate-700"
    >
      <p>
        {whole ? "Of these contacts" : `Of the first ${estimate.sampled} contacts`},{" "}
        <strong>{estimate.sendable}</strong> would be sent
        {estimate.excluded.length
          ? ` and ${estimate.sampled - estimate.sendable} skipped (${estimate.excluded
              .map((e) => `${e.reason.toLowerCase()}: ${e.count}`)
              .join("; ")})`
          : ""}
        .
      </p>
      <p className="mt-1">
        Estimated cost: {whole ? "" : "about "}
        <strong>{formatMoney(cost, estimate.currency)}</strong>
        {estimate.unpriced ? ` (plus ${estimate.unpriced} with no rate for their country yet)` : ""}, from the
        rate card; each message is charged when WhatsApp reports its price.
      </p>
      <LimitLine limit={estimate.messagingLimit} scale={scale} whole={whole} />
    </div>
  );
}

/** WhatsApp's messaging limit: the tier, what is left of it, and how many would wait for it. */
function LimitLine({
  limit,
  scale,
  whole,
}: {
  limit: FunctionReturnType<typeof api.campaigns.estimate>["messagingLimit"];
  scale: number;
  whole: boolean;
}) {
  if (limit.limit === null) return null;
  const needed = Math.round(limit.needed * scale);
  const waiting = Math.max(0, needed - (limit.remaining ?? 0));
  return (
    <p className="mt-1" data-testid="campaign-estimate-limit">
      WhatsApp&apos;s messaging limit (people reached outside a conversation, shared by the account&apos;s
      numbers): {tierLabel(limit.tier)}
      {limit.tier ? "" : " (assumed 250 people / 24 h)"}, {limit.remaining?.toLocaleString("en-US")} left now.{" "}
      {waiting > 0 ? (
        <strong className="text-amber-800">
          {whole ? "" : "About "}
          {waiting.toLocaleString("en-US")} would wait
        </strong>
      ) : (
        "None would wait"
      )}
      {waiting > 0 ? " and go out as the limit frees up over the next 24 hours." : "."}
    </p>
  );
}

function MappingRow({
  index,
  mapping,
  onChange,
}: {
  index: number;
  mapping: Mapping;
  onChange: (m: Mapping) => void;
}) {
  const id = useId();
  const n = index + 1;
  return (
    <div className="grid gap-2 sm:grid-cols-[5rem_12rem_minmax(0,1fr)] sm:items-end">
      <label htmlFor={id} className="font-mono text-sm text-slate-800 sm:pb-2">
        {`{{${n}}}`}
      </label>
      <select
        id={id}
        aria-label={`Value of {{${n}}}`}
        className={controlClass()}
        value={mapping.source}
        onChange={(e) => {
          const source = e.target.value as Mapping["source"];
          onChange(
            source === "name"
              ? { source, fallback: "" }
              : source === "phone"
                ? { source }
                : { source, value: "" },
          );
        }}
      >
        <option value="name">Contact's first name</option>
        <option value="phone">Contact's phone</option>
        <option value="constant">Fixed text</option>
      </select>
      {mapping.source === "name" ? (
        <input
          aria-label={`Fallback for {{${n}}} when a contact has no name`}
          placeholder="Fallback, e.g. there"
          className={controlClass()}
          value={mapping.fallback}
          onChange={(e) => onChange({ source: "name", fallback: e.target.value })}
        />
      ) : mapping.source === "constant" ? (
        <input
          aria-label={`Text for {{${n}}}`}
          placeholder="Text for everyone"
          className={controlClass()}
          value={mapping.value}
          onChange={(e) => onChange({ source: "constant", value: e.target.value })}
        />
      ) : (
        <span />
      )}
    </div>
  );
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}

/** Search contacts by name or number and tick them; the chosen ones are listed, removable. */
function ContactPicker({ picked, onChange }: { picked: Picked[]; onChange: (p: Picked[]) => void }) {
  const tenant = useTenant();
  const searchId = useId();
  const [search, setSearch] = useState("");
  const query = search.trim();
  const results = useQuery(
    api.contacts.list,
    query
      ? {
          tenantId: tenant.tenantId,
          filter: { search: query },
          paginationOpts: { numItems: 20, cursor: null },
        }
      : "skip",
  );
  const chosen = new Set(picked.map((p) => p.contactId));
  const toggle = (c: Picked) =>
    onChange(
      chosen.has(c.contactId)
        ? picked.filter((p) => p.contactId !== c.contactId)
        : picked.length >= MAX_PICKED
          ? picked
          : [...picked, c],
    );
  return (
    <div className="space-y-3">
      <div>
        <label htmlFor={searchId} className="block text-sm font-medium text-slate-900">
          Find contacts
        </label>
        <input
          id={searchId}
          type="search"
          className={`mt-1.5 ${controlClass()}`}
          placeholder="Name or number"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          autoComplete="off"
        />
      </div>
      {query ? (
        results === undefined ? (
          <LoadingState label="Searching…" />
        ) : results.page.length === 0 ? (
          <p className="text-sm text-slate-600">No contact matches “{query}”.</p>
        ) : (
          <ul
            aria-label="Search results"
            className="max-h-64 divide-y divide-slate-100 overflow-y-auto rounded-lg border border-slate-200 bg-white"
          >
            {results.page.map((c) => (
              <li key={c.contactId}>
                <label className="flex cursor-pointer items-center gap-3 px-3 py-2 text-sm hover:bg-slate-50">
                  <input
                    type="checkbox"
                    className="accent-brand-600"
                    checked={chosen.has(c.contactId)}
                    onChange={() =>
                      toggle({ contactId: c.contactId, name: c.name, phone: c.phone, optedOut: c.optedOut })
                    }
                  />
                  <span className="min-w-0 flex-1 truncate text-slate-900">{c.name ?? "No name"}</span>
                  <span className="font-mono text-xs text-slate-600">{c.phone ?? "—"}</span>
                  {c.optedOut ? <span className="text-xs text-amber-800">opted out</span> : null}
                </label>
              </li>
            ))}
          </ul>
        )
      ) : (
        <p className="text-sm text-slate-600">Search by name or number, then tick the contacts to send to.</p>
      )}
      {picked.length ? (
        <div>
          <div className="flex items-center justify-between">
            <p className="text-sm font-medium text-slate-900">
              Chosen ({picked.length.toLocaleString("en-US")})
            </p>
            <button type="button" className="text-sm text-slate-600 underline" onClick={() => onChange([])}>
              Clear
            </button>
          </div>
          <ul aria-label="Chosen contacts" className="mt-2 flex flex-wrap gap-2">
            {picked.slice(0, 50).map((p) => (
              <li key={p.contactId}>
                <button
                  type="button"
                  onClick={() => toggle(p)}
                  aria-label={`Remove ${p.name ?? p.phone ?? "contact"}`}
                  className="rounded-full border border-slate-300 bg-white px-3 py-1 text-sm text-slate-800 hover:bg-slate-50"
                >
                  {p.name ?? p.phone ?? "Contact"} ×
                </button>
              </li>
            ))}
            {picked.length > 50 ? (
              <li className="self-center text-sm text-slate-600">and {picked.length - 50} more</li>
            ) : null}
          </ul>
        </div>
      ) : null}
    </div>
  );
}

/** A tag for an uploaded list's contacts: the campaign's name (if any) and the upload's time. */
function uploadTagFor(campaignName: string, at: Date): string {
  const stamp = at.toISOString().slice(0, 16).replace("T", " ");
  const base = campaignName.trim().slice(0, 28);
  return `${base ? `${base} ` : ""}list ${stamp}`;
}

/**
 * Uploads a CSV through the contact import (numbers matched to existing contacts, new ones
 * created), tagging every contact of the file; the campaign then goes to that tag.
 */
function UploadList({
  campaignName,
  tag,
  onImported,
}: {
  campaignName: string;
  tag: string | null;
  onImported: (tag: string | null) => void;
}) {
  const tenant = useTenant();
  const fileId = useId();
  const uploadContacts = useContactUpload();
  const start = useMutation(api.contactImports.start);
  const [file, setFile] = useState<File | null>(null);
  const [job, setJob] = useState<{ importId: Id<"contactImports">; tag: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [started, setStarted] = useState(false);
  const row = useQuery(
    api.contactImports.get,
    job ? { tenantId: tenant.tenantId, importId: job.importId } : "skip",
  );
  // Once the file is read, import it with the columns detected (a phone column is needed).
  useEffect(() => {
    if (!job || !row || started || row.status !== "mapping") return;
    if (!row.columns.includes("phone")) {
      setError(
        "No column of phone numbers was found in the file. Import it on the Contacts page, where you can say which column holds them.",
      );
      return;
    }
    setStarted(true);
    start({ tenantId: tenant.tenantId, importId: job.importId, columns: row.columns, tag: job.tag }).catch(
      (e: unknown) => setError(toAppError(e).message),
    );
  }, [job, row, started, start, tenant.tenantId]);
  useEffect(() => {
    if (job && row?.status === "done" && tag !== job.tag) onImported(job.tag);
  }, [job, row?.status, tag, onImported]);

  const upload = async () => {
    if (!file) return setError("Choose a CSV file");
    setBusy(true);
    setError(null);
    setStarted(false);
    onImported(null);
    try {
      const importId = await uploadContacts(tenant.tenantId, file);
      setJob({ importId, tag: uploadTagFor(campaignName, new Date()) });
    } catch (e) {
      setError(toAppError(e).message);
    } finally {
      setBusy(false);
    }
  };

  const total = row?.contactsTotal ?? null;
  const percent = total ? Math.floor((row!.contactsDone * 100) / total) : 0;
  return (
    <div className="space-y-3" data-testid="upload-list">
      <div>
        <label htmlFor={fileId} className="block text-sm font-medium text-slate-900">
          List file (CSV)
        </label>
        <input
          id={fileId}
          type="file"
          accept=".csv,.txt,.tsv,text/csv,text/plain"
          onChange={(e) => setFile(e.target.files?.[0] ?? null)}
          className="mt-1.5 block w-full text-sm text-slate-700 file:mr-3 file:rounded-lg file:border file:border-slate-300 file:bg-white file:px-3 file:py-2 file:text-sm file:font-medium file:text-slate-800 hover:file:bg-slate-50"
        />
        <p className="mt-1 text-xs text-slate-600">
          A header row and a column of phone numbers (names and tags too, if you have them). The numbers
          become contacts (or are matched to yours), tagged so the campaign goes to exactly this list.
        </p>
      </div>
      <Button onClick={upload} busy={busy} busyLabel="Uploading…" disabled={!file}>
        Upload and import
      </Button>
      <FormError
        message={error ?? (row?.status === "failed" ? (row.failure ?? "The import failed") : null)}
      />
      {job && row && !error ? (
        row.status === "done" ? (
          <p role="status" className="text-sm text-emerald-800" data-testid="upload-status">
            Imported {row.contactsDone.toLocaleString("en-US")} contact{row.contactsDone === 1 ? "" : "s"}
            {row.errorCount ? ` (${row.errorCount} rows could not be read)` : ""}, tagged “{job.tag}”.
          </p>
        ) : (
          <div className="space-y-1" data-testid="upload-status">
            <p className="text-sm text-slate-700">
              {row.status === "analyzing"
                ? "Reading the file…"
                : row.status === "importing" && total
                  ? `Importing ${row.contactsDone.toLocaleString("en-US")} of ${total.toLocaleString("en-US")}…`
                  : "Importing…"}
            </p>
            <div
              role="progressbar"
              aria-label="Import progress"
              aria-valuemin={0}
              aria-valuemax={100}
              aria-valuenow={percent}
              className="h-2 w-full overflow-hidden rounded-full bg-slate-200"
            >
              <div
                className="h-full rounded-full bg-brand-600 transition-all"
                style={{ width: `${percent}%` }}
              />
            </div>
          </div>
        )
      ) : null}
    </div>
  );
}
