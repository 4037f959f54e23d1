// /t/<slug>/contacts: the contact list, live, with search, filters (tag, consent, last message,
// custom field) kept in the address bar, tag chips, saved segments with live counts, export and
// import. Viewers read; agents save segments; admins import and export.
import type { MetaFunction } from "@remix-run/node";
import { Link, useSearchParams } from "@remix-run/react";
import { useConvexAuth, useMutation, usePaginatedQuery, useQuery } from "convex/react";
import { useEffect, useMemo, useState } from "react";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import type { ContactFilter } from "../../convex/schema";
import { Button, buttonClass } from "../components/button";
import { ConfirmButton } from "../components/confirm-dialog";
import { DataRouteErrorView } from "../components/data-error-view";
import { EmptyState } from "../components/empty-state";
import { FormError, FormStatus } from "../components/form-field";
import { PageHeader } from "../components/page-header";
import { LoadingState } from "../components/spinner";
import {
  CONSENT_OPTIONS,
  CONTACTS_PAGE_SIZE,
  LAST_SEEN_OPTIONS,
  describeFilter,
  filterFromParams,
  contactsCount,
  formatCount,
  paramsFromFilter,
} from "../lib/contacts";
import { toAppError } from "../lib/convex-errors";
import { hasRole } from "../lib/roles";
import { useTenant } from "../lib/tenant-context";

export const meta: MetaFunction = () => [{ title: "Contacts — Switchboard" }];

const selectClass = "rounded-lg border border-slate-300 bg-white px-3 py-2 text-sm";

export default function ContactsPage() {
  const tenant = useTenant();
  const { isAuthenticated } = useConvexAuth();
  const [params, setParams] = useSearchParams();
  const filter = useMemo(() => filterFromParams(params), [params]);
  const [text, setText] = useState(filter.search ?? "");
  const canEdit = tenant.isMember && hasRole(tenant.role, "agent");
  const base = `/t/${tenant.slug}/contacts`;

  // Search as you type, a moment after the last key.
  useEffect(() => {
    const timer = setTimeout(() => {
      if ((filter.search ?? "") === text.trim()) return;
      setFilter({ ...filter, search: text.trim() || undefined });
    }, 300);
    return () => clearTimeout(timer);
  });

  const setFilter = (next: ContactFilter) => setParams(paramsFromFilter(next), { replace: true });
  const skip = !isAuthenticated;
  const { results, status, loadMore } = usePaginatedQuery(
    api.contacts.list,
    skip ? "skip" : { tenantId: tenant.tenantId, filter },
    { initialNumItems: CONTACTS_PAGE_SIZE },
  );
  const count = useQuery(api.contacts.count, skip ? "skip" : { tenantId: tenant.tenantId, filter });
  const tags = useQuery(api.contacts.tags, skip ? "skip" : { tenantId: tenant.tenantId });
  const fields = useQuery(api.contacts.fields, skip ? "skip" : { tenantId: tenant.tenantId });
  const filtered = Object.keys(filter).length > 0;
  const exportHref = `${base}/export.csv${params.toString() ? `?${params}` : ""}`;

  return (
    <div>
      <PageHeader
        title="Contacts"
        description="Everyone your workspace talks to, with their tags, custom fields and consent."
        actions={
          tenant.canAdminWrite ? (
            <>
              <Link to={`${base}/import`} className={buttonClass("primary")}>
                Import CSV
              </Link>
              <a href={exportHref} className={buttonClass("secondary")} download>
                Export {filtered ? "these" : "all"} as CSV
              </a>
            </>
          ) : null
        }
      />
      <div className="grid gap-6 2xl:grid-cols-[1fr_16rem]">
        <Segments canEdit={canEdit} onApply={(f) => (setText(f.search ?? ""), setFilter(f))} base={base} />
        <div className="min-w-0 space-y-4 2xl:order-first">
          <form role="search" className="flex flex-wrap gap-2" onSubmit={(e) => e.preventDefault()}>
            <label className="min-w-0 flex-1 basis-56">
              <span className="sr-only">Search contacts</span>
              <input
                type="search"
                value={text}
                onChange={(e) => setText(e.target.value)}
                placeholder="Search name or number"
                className="w-full rounded-lg border border-slate-300 px-3 py-2 text-sm"
              />
            </label>
            <label>
              <span className="sr-only">Tag</span>
              <select
                aria-label="Tag"
                className={selectClass}
                value={filter.tag ?? ""}
                onChange={(e) => setFilter({ ...filter, tag: e.target.value || undefined })}
              >
                <option value="">Any tag</option>
                {(tags ?? []).map((t) => (
                  <option key={t.tag} value={t.label}>
                    {t.label} ({t.count.toLocaleString("en-US")})
                  </option>
                ))}
                {filter.tag && !(tags ?? []).some((t) => t.tag === filter.tag!.toLowerCase()) ? (
                  <option value={filter.tag}>{filter.tag}</option>
                ) : null}
              </select>
            </label>
            <select
              aria-label="Consent"
              className={selectClass}
              value={filter.consent ?? ""}
              onChange={(e) =>
                setFilter({ ...filter, consent: (e.target.value || undefined) as ContactFilter["consent"] })
              }
            >
              {CONSENT_OPTIONS.map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label}
                </option>
              ))}
            </select>
            <select
              aria-label="Last message"
              className={selectClass}
              value={paramsFromFilter({ lastSeen: filter.lastSeen }).get("seen") ?? ""}
              onChange={(e) => {
                const next = new URLSearchParams(paramsFromFilter(filter));
                if (e.target.value) next.set("seen", e.target.value);
                else next.delete("seen");
                setParams(next, { replace: true });
              }}
            >
              {LAST_SEEN_OPTIONS.map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label}
                </option>
              ))}
            </select>
            {fields && fields.length ? (
              <FieldFilter
                fields={fields}
                value={filter.field}
                onChange={(field) => setFilter({ ...filter, field })}
              />
            ) : null}
          </form>
          {tags && tags.length ? (
            <ul aria-label="Tags" className="flex flex-wrap gap-2">
              {tags.slice(0, 20).map((t) => {
                const active = filter.tag?.toLowerCase() === t.tag;
                return (
                  <li key={t.tag}>
                    <button
                      type="button"
                      aria-pressed={active}
                      onClick={() => setFilter({ ...filter, tag: active ? undefined : t.label })}
                      className={`rounded-full border px-3 py-1 text-xs ${active ? "border-brand-600 bg-brand-50 text-brand-800" : "border-slate-300 bg-white text-slate-700"}`}
                    >
                      {t.label} · {t.count.toLocaleString("en-US")}
                    </button>
                  </li>
                );
              })}
            </ul>
          ) : null}
          <div className="flex flex-wrap items-center justify-between gap-2 text-sm text-slate-600">
            <p aria-live="polite">
              {describeFilter(filter)}: {count ? contactsCount(count) : "counting…"}
            </p>
            {filtered ? (
              <Button size="sm" variant="ghost" onClick={() => (setText(""), setFilter({}))}>
                Clear filters
              </Button>
            ) : null}
          </div>
          {canEdit && filtered ? <SaveSegment filter={filter} /> : null}
          {status === "LoadingFirstPage" ? (
            <LoadingState label="Loading contacts…" />
          ) : results.length === 0 && !filtered && status === "Exhausted" ? (
            <EmptyState
              title="No contacts yet"
              description="Contacts appear when customers write to your numbers, or import a list from a spreadsheet."
              action={
                tenant.canAdminWrite ? (
                  <Link to={`${base}/import`} className={buttonClass("primary")}>
                    Import a CSV
                  </Link>
                ) : null
              }
            />
          ) : (
            <ContactTable rows={results} base={base} />
          )}
          {status === "CanLoadMore" || status === "LoadingMore" ? (
            <div className="flex justify-center">
              <Button
                onClick={() => loadMore(CONTACTS_PAGE_SIZE)}
                busy={status === "LoadingMore"}
                busyLabel="Loading…"
              >
                Load more contacts
              </Button>
            </div>
          ) : null}
        </div>
      </div>
    </div>
  );
}

type Row = {
  contactId: Id<"contacts">;
  name: string | null;
  phone: string | null;
  tags: string[];
  optedOut: boolean;
  lastInboundAt: number | null;
};

function ContactTable({ rows, base }: { rows: Row[]; base: string }) {
  if (rows.length === 0) {
    return <EmptyState title="No contact matches" description="Change or clear the filters to see more." />;
  }
  // Below 640 px the phone, consent and last message go under the name instead of in columns.
  const wide = "hidden px-4 py-2 sm:table-cell";
  return (
    <div className="overflow-x-auto rounded-2xl border border-slate-200 bg-white">
      <table className="w-full text-left text-sm" aria-label="Contacts">
        <thead className="bg-slate-50 text-xs uppercase text-slate-500">
          <tr>
            <th className="px-4 py-2">Name</th>
            <th className={wide}>Phone</th>
            <th className="px-4 py-2">Tags</th>
            <th className={wide}>Consent</th>
            <th className={`${wide} whitespace-nowrap`}>Last message</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((c) => (
            <tr key={c.contactId} className="border-t border-slate-100 align-top">
              <td className="px-4 py-2">
                <Link
                  to={`${base}/${c.contactId}`}
                  className="font-medium text-brand-700 hover:underline sm:whitespace-nowrap"
                >
                  {c.name || c.phone || "Unnamed contact"}
                </Link>
                <span className="block text-xs text-slate-600 sm:hidden">
                  <span className="tabular-nums">{c.phone ?? "No number"}</span>
                  {c.optedOut ? <span className="text-red-700"> · Opted out</span> : null}
                  {" · "}
                  {c.lastInboundAt
                    ? `wrote ${new Date(c.lastInboundAt).toLocaleDateString()}`
                    : "never wrote"}
                </span>
              </td>
              <td className={`${wide} whitespace-nowrap tabular-nums`}>{c.phone ?? "—"}</td>
              <td className="px-4 py-2">
                <span className="flex flex-wrap gap-1">
                  {c.tags.map((t) => (
                    <span
                      key={t}
                      className="whitespace-nowrap rounded-full bg-slate-100 px-2 py-0.5 text-xs text-slate-700"
                    >
                      {t}
                    </span>
                  ))}
                </span>
              </td>
              <td className={`${wide} whitespace-nowrap`}>
                {c.optedOut ? <span className="text-red-700">Opted out</span> : "Subscribed"}
              </td>
              <td className={`${wide} whitespace-nowrap`}>
                {c.lastInboundAt ? new Date(c.lastInboundAt).toLocaleDateString() : "Never"}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A custom field to filter on and the text its value contains; applied a moment after typing. */
function FieldFilter({
  fields,
  value,
  onChange,
}: {
  fields: { key: string; type: string }[];
  value: ContactFilter["field"];
  onChange: (field: ContactFilter["field"]) => void;
}) {
  const [key, setKey] = useState(value?.key ?? fields[0]!.key);
  const [text, setText] = useState(value?.value ?? "");
  useEffect(() => {
    if (value) {
      setKey(value.key);
      setText(value.value);
    } else setText("");
  }, [value]);
  useEffect(() => {
    const timer = setTimeout(() => {
      const next = text.trim() ? { key, value: text.trim() } : undefined;
      if (next?.key === value?.key && next?.value === value?.value) return;
      onChange(next);
    }, 300);
    return () => clearTimeout(timer);
  });
  return (
    <span className="flex min-w-0 basis-full gap-2 sm:basis-auto">
      <select
        aria-label="Custom field"
        className={selectClass}
        value={key}
        onChange={(e) => setKey(e.target.value)}
      >
        {fields.map((f) => (
          <option key={f.key} value={f.key}>
            {f.key}
          </option>
        ))}
      </select>
      <input
        type="search"
        aria-label={`${key} contains`}
        placeholder="contains…"
        value={text}
        onChange={(e) => setText(e.target.value)}
        className="min-w-0 flex-1 rounded-lg border border-slate-300 px-3 py-2 text-sm sm:w-36"
      />
    </span>
  );
}

function SaveSegment({ filter }: { filter: ContactFilter }) {
  const tenant = useTenant();
  const save = useMutation(api.contacts.saveSegment);
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <form
      className="flex flex-wrap items-end gap-2"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        try {
          await save({ tenantId: tenant.tenantId, name, filter });
          setStatus(`Saved the segment “${name.trim()}”`);
          setName("");
        } catch (err) {
          setError(toAppError(err).message);
        } finally {
          setBusy(false);
        }
      }}
    >
      <label className="text-sm">
        <span className="block text-slate-700">Segment name</span>
        <input
          value={name}
          onChange={(e) => setName(e.target.value)}
          required
          maxLength={80}
          className="rounded-lg border border-slate-300 px-3 py-2 text-sm"
        />
      </label>
      <Button type="submit" size="sm" busy={busy} busyLabel="Saving…">
        Save as segment
      </Button>
      <FormError message={error} />
      <FormStatus message={status} />
    </form>
  );
}

function Segments({
  canEdit,
  onApply,
  base,
}: {
  canEdit: boolean;
  onApply: (f: ContactFilter) => void;
  base: string;
}) {
  const tenant = useTenant();
  const { isAuthenticated } = useConvexAuth();
  const segments = useQuery(api.contacts.segments, isAuthenticated ? { tenantId: tenant.tenantId } : "skip");
  return (
    <aside aria-labelledby="segments-title" className="space-y-3">
      <h2 id="segments-title" className="text-base font-semibold text-slate-900">
        Segments
      </h2>
      {segments === undefined ? (
        <LoadingState label="Loading segments…" />
      ) : segments.length === 0 ? (
        <p className="text-sm text-slate-600">
          Filter the list, then save the filter as a segment for campaigns.
        </p>
      ) : (
        <ul className="grid gap-2 sm:grid-cols-2 xl:grid-cols-3 2xl:grid-cols-1">
          {segments.map((s) => (
            <SegmentRow key={s.segmentId} segment={s} canEdit={canEdit} onApply={onApply} base={base} />
          ))}
        </ul>
      )}
    </aside>
  );
}

function SegmentRow({
  segment,
  canEdit,
  onApply,
  base,
}: {
  segment: { segmentId: Id<"contactSegments">; name: string; filter: ContactFilter };
  canEdit: boolean;
  onApply: (f: ContactFilter) => void;
  base: string;
}) {
  const tenant = useTenant();
  const count = useQuery(api.contacts.segmentCount, {
    tenantId: tenant.tenantId,
    segmentId: segment.segmentId,
  });
  const remove = useMutation(api.contacts.removeSegment);
  return (
    <li className="rounded-xl border border-slate-200 bg-white p-3 text-sm" data-segment={segment.name}>
      <button
        type="button"
        className="font-medium text-brand-700 hover:underline"
        onClick={() => onApply(segment.filter)}
      >
        {segment.name}
      </button>
      <p className="text-slate-600">
        <span data-testid="segment-count">{count ? formatCount(count) : "…"}</span>{" "}
        {count && count.count === 1 && !count.capped ? "contact" : "contacts"} ·{" "}
        {describeFilter(segment.filter)}
      </p>
      <div className="mt-2 flex flex-wrap gap-2">
        {tenant.canAdminWrite ? (
          <a
            href={`${base}/export.csv?segment=${segment.segmentId}`}
            className={buttonClass("ghost", "sm")}
            download
          >
            Export
          </a>
        ) : null}
        {canEdit ? (
          <ConfirmButton
            title={`Remove the segment “${segment.name}”?`}
            description="The contacts stay; only the saved filter goes."
            confirmLabel="Remove"
            buttonProps={{ variant: "ghost" }}
            onConfirm={() => remove({ tenantId: tenant.tenantId, segmentId: segment.segmentId })}
          />
        ) : null}
      </div>
    </li>
  );
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
