// The ledger as people read it: newest first, what each entry was, its amount and the balance
// after; filters by kind and date range kept in the address, and a CSV export of every entry the
// filters match (not just the page shown).
import { useSearchParams } from "@remix-run/react";
import type { PaginationStatus } from "convex/react";
import { useState, type FormEvent, type ReactNode } from "react";
import {
  actorLabel,
  describeEntry,
  formatMoney,
  formatSignedMoney,
  LEDGER_KIND_LABELS,
  LEDGER_KINDS,
  ledgerFilterParams,
  type LedgerEntry,
  type LedgerFilterParams,
} from "../lib/billing";
import { formatDateTime } from "../lib/format";
import { Button, buttonClass } from "./button";
import { DataTable, type Column } from "./data-table";
import { EmptyState } from "./empty-state";
import { SelectField, TextField } from "./form-field";
import { LoadingState } from "./spinner";

/** How many entries a page of the ledger loads (the first and each "Load more"). */
export const LEDGER_PAGE_SIZE = 25;

const KIND_TONES: Record<LedgerEntry["kind"], string> = {
  top_up: "bg-emerald-50 text-emerald-800 ring-emerald-200",
  charge: "bg-slate-50 text-slate-700 ring-slate-200",
  refund: "bg-sky-50 text-sky-800 ring-sky-200",
  adjustment: "bg-amber-50 text-amber-800 ring-amber-200",
  reservation: "bg-white text-slate-600 ring-slate-200",
  release: "bg-white text-slate-600 ring-slate-200",
};

export function LedgerTable({
  entries,
  currency,
  timeZone,
  caption,
  empty,
}: {
  entries: readonly LedgerEntry[];
  currency: string;
  timeZone?: string;
  caption: string;
  empty?: ReactNode;
}) {
  const columns: Column<LedgerEntry>[] = [
    {
      header: "When",
      rowHeader: true,
      className: "min-w-32 font-normal",
      cell: (e) => (
        <time dateTime={new Date(e.at).toISOString()} className="text-slate-700">
          {formatDateTime(e.at, timeZone)}
        </time>
      ),
    },
    {
      header: "Entry",
      className: "min-w-56",
      cell: (e) => (
        <span className="flex flex-col gap-1">
          <span>
            <span
              className={`inline-block rounded-md px-1.5 py-0.5 text-xs font-medium ring-1 ring-inset ${KIND_TONES[e.kind]}`}
            >
              {LEDGER_KIND_LABELS[e.kind]}
            </span>
          </span>
          <span className="break-words text-slate-700">{describeEntry(e, currency)}</span>
          <span className="text-xs break-all text-slate-500">
            {/* An admin's entry is its own reference; a message's or campaign's id helps find it. */}
            {e.referenceKind === "admin" ? null : `${e.referenceKind.replace(/_/g, " ")} ${e.referenceId} · `}
            by {actorLabel(e)}
          </span>
        </span>
      ),
    },
    {
      header: "Amount",
      className: "text-right tabular-nums whitespace-nowrap",
      cell: (e) =>
        e.amount === 0 ? (
          <span className="text-slate-400">—</span>
        ) : (
          <span className={e.amount > 0 ? "text-emerald-700" : "text-slate-900"}>
            {formatSignedMoney(e.amount, currency, true)}
          </span>
        ),
    },
    {
      header: "Balance after",
      className: "text-right tabular-nums whitespace-nowrap",
      cell: (e) => formatMoney(e.balanceAfter, currency, { precise: true }),
    },
  ];
  return <DataTable caption={caption} columns={columns} rows={entries} rowKey={(e) => e._id} empty={empty} />;
}

/** The filters in the address, and a setter that keeps the rest of it. */
export function useLedgerFilters() {
  const [params, setParams] = useSearchParams();
  const filter = ledgerFilterParams(params);
  const apply = (next: LedgerFilterParams) =>
    setParams(
      (prev) => {
        const out = new URLSearchParams(prev);
        for (const key of ["kind", "from", "to"] as const) {
          const value = next[key];
          if (value) out.set(key, value);
          else out.delete(key);
        }
        return out;
      },
      { replace: true, preventScrollReset: true },
    );
  return { filter, apply };
}

export function LedgerFilters({
  filter,
  onApply,
  exportHref,
}: {
  filter: LedgerFilterParams;
  onApply: (next: LedgerFilterParams) => void;
  /** The CSV export of what the filters match. */
  exportHref: string;
}) {
  const [from, setFrom] = useState(filter.from ?? "");
  const [to, setTo] = useState(filter.to ?? "");
  const [error, setError] = useState<string | null>(null);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (from && to && to < from) return setError("The last day is before the first");
    setError(null);
    onApply({ ...filter, from: from || null, to: to || null });
  };
  return (
    <form
      aria-label="Filter the ledger"
      onSubmit={submit}
      className="flex flex-col gap-4 rounded-2xl border border-slate-200 bg-white p-4 shadow-sm sm:flex-row sm:flex-wrap sm:items-end"
    >
      <SelectField
        label="Kind"
        name="kind"
        value={filter.kind ?? ""}
        onChange={(e) => onApply({ ...filter, kind: (e.target.value || null) as LedgerFilterParams["kind"] })}
        options={[
          { value: "", label: "Every kind" },
          ...LEDGER_KINDS.map((k) => ({ value: k, label: LEDGER_KIND_LABELS[k] })),
        ]}
        fieldClassName="sm:w-48"
      />
      <TextField
        label="From"
        name="from"
        type="date"
        value={from}
        onChange={(e) => setFrom(e.target.value)}
        fieldClassName="sm:w-44"
      />
      <TextField
        label="To (included)"
        name="to"
        type="date"
        value={to}
        onChange={(e) => setTo(e.target.value)}
        error={error}
        fieldClassName="sm:w-44"
      />
      <div className="flex flex-wrap gap-2">
        <Button type="submit">Apply dates</Button>
        {filter.from || filter.to || filter.kind ? (
          <Button
            variant="ghost"
            onClick={() => {
              setFrom("");
              setTo("");
              setError(null);
              onApply({ kind: null, from: null, to: null });
            }}
          >
            Clear filters
          </Button>
        ) : null}
        <a href={exportHref} download className={buttonClass("secondary")}>
          Export CSV
        </a>
      </div>
    </form>
  );
}

/** The list below the filters: loading, the entries, and "Load more" until the oldest. */
export function LedgerList({
  page,
  preloaded,
  currency,
  timeZone,
  filtered,
}: {
  page: { results: LedgerEntry[]; status: PaginationStatus; loadMore: (n: number) => void };
  /** The loader's first page, shown until the live query answers. */
  preloaded: LedgerEntry[] | null;
  currency: string;
  timeZone?: string;
  filtered: boolean;
}) {
  const first = page.status === "LoadingFirstPage";
  if (first && !preloaded) return <LoadingState label="Loading the ledger…" />;
  const entries = first ? preloaded! : page.results;
  return (
    <>
      <LedgerTable
        entries={entries}
        currency={currency}
        timeZone={timeZone}
        caption="Ledger entries, newest first"
        empty={
          <EmptyState
            title={filtered ? "No entries match these filters" : "No entries yet"}
            description={
              filtered
                ? "Try another kind or a wider date range."
                : "Credits added, messages charged and refunds appear here as they happen."
            }
          />
        }
      />
      {entries.length > 0 ? (
        <div className="flex items-center justify-center">
          {page.status === "Exhausted" ? (
            <p className="text-sm text-slate-500">That is the oldest entry.</p>
          ) : first ? null : (
            <Button
              onClick={() => page.loadMore(LEDGER_PAGE_SIZE)}
              busy={page.status === "LoadingMore"}
              busyLabel="Loading…"
            >
              Load more
            </Button>
          )}
        </div>
      ) : null}
    </>
  );
}
