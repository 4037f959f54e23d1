// The audit log view shared by a workspace's page and the platform admin's: filters by action
// and actor (kept in the URL), the events newest first with their before → after changes, and
// "Load more". The list is a live paginated query: new events appear on top without a reload.
import { useSearchParams } from "@remix-run/react";
import type { PaginationStatus } from "convex/react";
import { useEffect, useMemo, useState } from "react";
import type { Id } from "../../convex/_generated/dataModel";
import type { AuditEventView } from "../../convex/model/audit";
import { auditActionLabel, mergeActors, type ActorOption } from "../lib/audit-actions";
import { changeRows, formatDateTime } from "../lib/format";
import { Button, buttonClass } from "./button";
import { EmptyState } from "./empty-state";
import { SelectField } from "./form-field";
import { LoadingState } from "./spinner";

export type AuditEvent = AuditEventView;

/** How many events a page of the log loads (the first and each "Load more"). */
export const AUDIT_PAGE_SIZE = 25;

export type AuditFilterState = ReturnType<typeof useAuditFilters>;

type FilterKey = "action" | "actor" | "from" | "to" | "targetType" | "targetId";

/**
 * The filters in the URL (`?action=…&actor=…&from=YYYY-MM-DD&to=YYYY-MM-DD&targetType=…&targetId=…`),
 * and setters that keep the rest of the URL. Dates are days in UTC, `to` included.
 */
export function useAuditFilters() {
  const [params, setParams] = useSearchParams();
  const get = (key: FilterKey) => params.get(key) || undefined;
  const set = (key: FilterKey, value: string) =>
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        if (value) next.set(key, value);
        else next.delete(key);
        return next;
      },
      { replace: true, preventScrollReset: true },
    );
  return {
    action: get("action"),
    actor: get("actor"),
    from: get("from"),
    to: get("to"),
    targetType: get("targetType"),
    targetId: get("targetId"),
    setAction: (value: string) => set("action", value),
    setActor: (value: string) => set("actor", value),
    set,
    /** The filters as a query string, for the CSV/JSON download. */
    search: () => {
      const out = new URLSearchParams();
      for (const key of ["action", "actor", "from", "to", "targetType", "targetId"] as const) {
        const value = params.get(key);
        if (value) out.set(key, value);
      }
      return out;
    },
  };
}

function dayStart(day: string | undefined): number | undefined {
  if (!day || !/^\d{4}-\d{2}-\d{2}$/.test(day)) return undefined;
  const t = Date.parse(`${day}T00:00:00Z`);
  return Number.isNaN(t) ? undefined : t;
}

/** The filters as arguments of the audit queries. */
export function auditQueryFilters(filters: AuditFilterState) {
  const to = dayStart(filters.to);
  return {
    action: filters.action,
    actorId: filters.actor as Id<"users"> | undefined,
    from: dayStart(filters.from),
    to: to === undefined ? undefined : to + 86_400_000,
    targetType: filters.targetType,
    targetId: filters.targetType ? filters.targetId : undefined,
  };
}

/** Everyone offered in the actor filter: `base` (e.g. the members) plus whoever acted in `events`. */
export function useActorOptions(base: readonly ActorOption[], events: readonly AuditEvent[]): ActorOption[] {
  const [seen, setSeen] = useState<ActorOption[]>([]);
  useEffect(() => setSeen((known) => mergeActors(known, events)), [events]);
  return useMemo(() => {
    const ids = new Set(base.map((a) => a.value));
    return [...base, ...seen.filter((a) => !ids.has(a.value))].sort((a, b) => a.label.localeCompare(b.label));
  }, [base, seen]);
}

const NO_ACTORS: readonly ActorOption[] = [];

export type AuditLogProps = {
  filters: AuditFilterState;
  /** The actions offered in the filter (code → label). */
  actions: Record<string, string>;
  /** Actors to offer besides those seen in the events (e.g. the members). */
  knownActors?: readonly ActorOption[];
  /** The live paginated query of the events (filtered by `auditQueryFilters(filters)`). */
  page: { results: AuditEvent[]; status: PaginationStatus; loadMore: (numItems: number) => void };
  /** Where the filtered log downloads as CSV or JSON (`?format=csv|json&…filters`). */
  exportPath?: string;
} & Pick<AuditEventListProps, "timeZone" | "tenantName">;

/** The filters and the events under them, for a page that runs the query itself. */
export function AuditLog({
  filters,
  actions,
  knownActors = NO_ACTORS,
  page,
  timeZone,
  tenantName,
  exportPath,
}: AuditLogProps) {
  const actors = useActorOptions(knownActors, page.results);
  const download = (format: "csv" | "json") => {
    const search = filters.search();
    search.set("format", format);
    return `${exportPath}?${search.toString()}`;
  };
  return (
    <>
      <AuditFilters
        actions={actions}
        actors={actors}
        action={filters.action}
        actor={filters.actor}
        onAction={filters.setAction}
        onActor={filters.setActor}
      />
      <form
        role="search"
        aria-label="Narrow the audit log by date and target"
        onSubmit={(e) => e.preventDefault()}
        className="grid gap-4 sm:grid-cols-4"
      >
        <label className="text-sm font-medium text-slate-700">
          From (UTC)
          <input
            type="date"
            name="from"
            className="mt-1 block w-full rounded-lg border border-slate-300 px-3 py-2 text-sm"
            value={filters.from ?? ""}
            onChange={(e) => filters.set("from", e.target.value)}
          />
        </label>
        <label className="text-sm font-medium text-slate-700">
          To (UTC, included)
          <input
            type="date"
            name="to"
            className="mt-1 block w-full rounded-lg border border-slate-300 px-3 py-2 text-sm"
            value={filters.to ?? ""}
            onChange={(e) => filters.set("to", e.target.value)}
          />
        </label>
        <label className="text-sm font-medium text-slate-700">
          Target type
          <input
            name="targetType"
            placeholder="contact, channel, privacyJob…"
            className="mt-1 block w-full rounded-lg border border-slate-300 px-3 py-2 text-sm"
            value={filters.targetType ?? ""}
            onChange={(e) => filters.set("targetType", e.target.value.trim())}
          />
        </label>
        <label className="text-sm font-medium text-slate-700">
          Target id or reference
          <input
            name="targetId"
            disabled={!filters.targetType}
            className="mt-1 block w-full rounded-lg border border-slate-300 px-3 py-2 text-sm disabled:bg-slate-50"
            value={filters.targetId ?? ""}
            onChange={(e) => filters.set("targetId", e.target.value.trim())}
          />
        </label>
      </form>
      {exportPath ? (
        <p className="flex flex-wrap items-center gap-2 text-sm text-slate-600">
          Download the events matching these filters:
          <a className={buttonClass("secondary", "sm")} href={download("csv")} download>
            CSV
          </a>
          <a className={buttonClass("secondary", "sm")} href={download("json")} download>
            JSON
          </a>
        </p>
      ) : null}
      <AuditEventList
        events={page.results}
        status={page.status}
        loadMore={() => page.loadMore(AUDIT_PAGE_SIZE)}
        timeZone={timeZone}
        filtered={Boolean(
          filters.action || filters.actor || filters.from || filters.to || filters.targetType,
        )}
        tenantName={tenantName}
      />
    </>
  );
}

export type AuditFiltersProps = {
  actions: Record<string, string>;
  actors: readonly ActorOption[];
  action: string | undefined;
  actor: string | undefined;
  onAction: (value: string) => void;
  onActor: (value: string) => void;
};

export function AuditFilters({ actions, actors, action, actor, onAction, onActor }: AuditFiltersProps) {
  const actionOptions = [
    { value: "", label: "All actions" },
    ...Object.entries(actions).map(([value, label]) => ({ value, label })),
  ];
  if (action && !(action in actions)) actionOptions.push({ value: action, label: action });
  const actorOptions = [{ value: "", label: "Everyone" }, ...actors];
  if (actor && !actors.some((a) => a.value === actor))
    actorOptions.push({ value: actor, label: "Selected actor" });
  return (
    <form
      role="search"
      aria-label="Filter the audit log"
      onSubmit={(e) => e.preventDefault()}
      className="grid gap-4 sm:grid-cols-2"
    >
      <SelectField
        label="Action"
        name="action"
        value={action ?? ""}
        onChange={(e) => onAction(e.target.value)}
        options={actionOptions}
      />
      <SelectField
        label="Actor"
        name="actor"
        value={actor ?? ""}
        onChange={(e) => onActor(e.target.value)}
        options={actorOptions}
      />
    </form>
  );
}

export type AuditEventListProps = {
  events: readonly AuditEvent[];
  status: PaginationStatus;
  loadMore: () => void;
  /** Show times in this zone (the workspace's); the viewer's own when omitted. */
  timeZone?: string;
  filtered: boolean;
  /** Show each event's workspace column (platform view). */
  tenantName?: (event: AuditEvent) => string | null;
};

export function AuditEventList({
  events,
  status,
  loadMore,
  timeZone,
  filtered,
  tenantName,
}: AuditEventListProps) {
  if (status === "LoadingFirstPage") return <LoadingState label="Loading the audit log…" />;
  return (
    <div className="space-y-4">
      {events.length === 0 ? (
        <EmptyState
          title={filtered ? "No events match these filters" : "Nothing recorded yet"}
          description={
            filtered
              ? status === "CanLoadMore"
                ? "None on this page; load more to look further back, or clear a filter."
                : "Try another action or actor."
              : "Sensitive changes (settings, members, invitations) are recorded here as they happen."
          }
        />
      ) : (
        <ol
          aria-label="Audit events, newest first"
          className="divide-y divide-slate-100 overflow-hidden rounded-2xl border border-slate-200 bg-white shadow-sm"
        >
          {events.map((event) => (
            <AuditEventRow
              key={event.eventId}
              event={event}
              timeZone={timeZone}
              tenantName={tenantName?.(event) ?? null}
            />
          ))}
        </ol>
      )}
      <div className="flex items-center justify-center">
        {status === "Exhausted" ? (
          events.length > 0 ? (
            <p className="text-sm text-slate-500">That is the beginning of the log.</p>
          ) : null
        ) : (
          <Button onClick={loadMore} busy={status === "LoadingMore"} busyLabel="Loading…">
            Load more
          </Button>
        )}
      </div>
    </div>
  );
}

function AuditEventRow({
  event,
  timeZone,
  tenantName,
}: {
  event: AuditEvent;
  timeZone?: string;
  tenantName: string | null;
}) {
  const changes = changeRows(event.before, event.after, { timeZone });
  return (
    <li className="grid gap-2 px-4 py-4 sm:grid-cols-[11rem_1fr] sm:gap-6">
      <div className="text-sm text-slate-500">
        <time dateTime={new Date(event.at).toISOString()}>{formatDateTime(event.at, timeZone)}</time>
        {tenantName ? <p className="mt-1 truncate text-xs text-slate-500">{tenantName}</p> : null}
      </div>
      <div className="min-w-0">
        <p className="flex flex-wrap items-center gap-x-2 gap-y-1 text-sm">
          <span className="rounded-md bg-slate-100 px-1.5 py-0.5 text-xs font-medium text-slate-700">
            {auditActionLabel(event.action)}
          </span>
          <span className="font-medium break-words text-slate-900">{event.actorEmail}</span>
        </p>
        <p className="mt-1 text-sm text-slate-700">{event.summary}</p>
        {changes.length > 0 ? (
          <dl className="mt-2 space-y-1 text-xs">
            {changes.map((c) => (
              <div key={c.field} className="flex flex-wrap items-baseline gap-x-2">
                <dt className="font-medium text-slate-600">{c.field}</dt>
                <dd className="font-mono break-all text-slate-800">
                  <span
                    className={
                      c.before === null ? "text-slate-400" : "text-red-700 line-through decoration-red-300"
                    }
                  >
                    {c.before ?? "—"}
                  </span>
                  <span aria-hidden="true" className="mx-1 text-slate-400">
                    →
                  </span>
                  <span className="sr-only"> changed to </span>
                  <span className={c.after === null ? "text-slate-400" : "text-brand-700"}>
                    {c.after ?? "—"}
                  </span>
                </dd>
              </div>
            ))}
          </dl>
        ) : null}
      </div>
    </li>
  );
}
