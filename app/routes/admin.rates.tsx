// /admin/rates: the WhatsApp rate card and AI model prices, for platform admins. Filter one
// currency's rates by market and category, see which version is in force, load the published card
// into an empty deployment, add a rate from a quarter start, or upload many from a CSV file that is
// checked first and written whole or not at all. Every change is audited.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData, useSearchParams } from "@remix-run/react";
import { useMutation, useQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useMemo, useRef, useState, type ChangeEvent, type FormEvent } from "react";
import { api } from "../../convex/_generated/api";
import { RATE_CARD_CURRENCIES } from "../../convex/shared/currencies";
import { quarterStarts } from "../../convex/shared/quarters";
import { Button } from "../components/button";
import { ConfirmButton, ConfirmDialog } from "../components/confirm-dialog";
import { DataRouteErrorView } from "../components/data-error-view";
import { DataTable, type Column } from "../components/data-table";
import { EmptyState } from "../components/empty-state";
import { FormError, FormStatus, SelectField, TextField } from "../components/form-field";
import { PageHeader, Section } from "../components/page-header";
import { LoadingState } from "../components/spinner";
import { requireUser } from "../lib/auth.server";
import { categoryLabel, formatMoney, tryParseAmount } from "../lib/billing";
import { toAppError } from "../lib/convex-errors";
import {
  marketOptions,
  RATE_CSV_TEMPLATE,
  RATE_STATUS_LABELS,
  SEED_SOURCES,
  rateStatuses,
  type RateRow,
  type RateStatus,
} from "../lib/rates";
import { useFormSubmission } from "../lib/use-form-submission";

export const meta: MetaFunction = () => [{ title: "Rate card — Platform admin — Switchboard" }];

/** The day and clock rate statuses and quarter starts are judged by (UTC), read once per page load. */
export async function loader({ request }: LoaderFunctionArgs) {
  await requireUser(request);
  const now = Date.now();
  return { today: new Date(now).toISOString().slice(0, 10), now };
}

const CATEGORIES = [
  "marketing",
  "marketing_lite",
  "utility",
  "authentication",
  "authentication_international",
  "service",
  "general_purpose_ai",
] as const;

const STATUS_TONES: Record<RateStatus, string> = {
  in_force: "bg-emerald-50 text-emerald-800 ring-emerald-200",
  scheduled: "bg-sky-50 text-sky-800 ring-sky-200",
  replaced: "bg-slate-50 text-slate-500 ring-slate-200",
};

export default function AdminRates() {
  const [params, setParams] = useSearchParams();
  const currency = (RATE_CARD_CURRENCIES as readonly string[]).includes(params.get("currency") ?? "")
    ? params.get("currency")!
    : "USD";
  const market = params.get("market") ?? "";
  const category = params.get("category") ?? "";
  const set = (key: string, value: string) =>
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        if (value) next.set(key, value);
        else next.delete(key);
        if (key === "currency") next.delete("market");
        return next;
      },
      { replace: true, preventScrollReset: true },
    );
  const rates = useQuery(api.billing.rates, { currency });

  return (
    <div className="space-y-12">
      <PageHeader
        title="Rate card"
        description="What one delivered WhatsApp message costs, by currency, market and category, and the date each rate takes effect. Meta changes rates only at quarter starts; a rate in force never changes, a new version replaces it from its date."
      />
      <Section id="rates" title="Message rates">
        <div
          role="group"
          aria-label="Filter the rates"
          className="flex flex-col gap-4 rounded-2xl border border-slate-200 bg-white p-4 shadow-sm sm:flex-row sm:flex-wrap"
        >
          <SelectField
            label="Currency"
            value={currency}
            onChange={(e) => set("currency", e.target.value)}
            options={RATE_CARD_CURRENCIES.map((c) => ({ value: c, label: c }))}
            fieldClassName="sm:w-32"
          />
          <SelectField
            label="Market"
            value={market}
            onChange={(e) => set("market", e.target.value)}
            options={[{ value: "", label: "Every market" }, ...marketsIn(rates ?? [])]}
            fieldClassName="sm:w-72"
          />
          <SelectField
            label="Category"
            value={category}
            onChange={(e) => set("category", e.target.value)}
            options={[
              { value: "", label: "Every category" },
              ...CATEGORIES.map((c) => ({ value: c, label: categoryLabel(c) })),
            ]}
            fieldClassName="sm:w-64"
          />
        </div>
        {rates === undefined ? (
          <LoadingState label="Loading rates…" />
        ) : rates.length === 0 ? (
          <EmptyRateCard currency={currency} />
        ) : (
          <RateTable
            rates={rates.filter(
              (r) => (!market || r.market === market) && (!category || r.category === category),
            )}
            all={rates}
          />
        )}
      </Section>
      <AddRate currency={currency} rates={rates ?? []} />
      <UploadRates />
      <ModelPrices />
    </div>
  );
}

function marketsIn(rates: readonly RateRow[]) {
  const seen = new Map<string, string>();
  for (const r of rates) seen.set(r.market, `${r.marketName} (${r.market})`);
  return [...seen].map(([value, label]) => ({ value, label })).sort((a, b) => a.label.localeCompare(b.label));
}

function RateTable({ rates: matching, all }: { rates: RateRow[]; all: RateRow[] }) {
  const { today } = useLoaderData<typeof loader>();
  const statuses = useMemo(() => rateStatuses(all, today), [all, today]);
  const [showReplaced, setShowReplaced] = useState(false);
  const replaced = matching.filter((r) => statuses.get(r.rateId) === "replaced").length;
  const rates = showReplaced ? matching : matching.filter((r) => statuses.get(r.rateId) !== "replaced");
  const columns: Column<RateRow>[] = [
    {
      header: "Market",
      rowHeader: true,
      cell: (r) => (
        <>
          {r.marketName}
          <span className="ml-1 font-mono text-xs font-normal text-slate-500">{r.market}</span>
        </>
      ),
    },
    { header: "Category", cell: (r) => categoryLabel(r.category) },
    {
      header: "Rate",
      className: "text-right tabular-nums whitespace-nowrap",
      cell: (r) => formatMoney(r.amount, r.currency, { precise: true }),
    },
    { header: "Effective from", className: "whitespace-nowrap tabular-nums", cell: (r) => r.effectiveFrom },
    {
      header: "Status",
      cell: (r) => {
        const status = statuses.get(r.rateId) ?? "replaced";
        return (
          <span className="flex flex-wrap gap-1">
            <span
              className={`rounded-md px-1.5 py-0.5 text-xs font-medium ring-1 ring-inset ${STATUS_TONES[status]}`}
            >
              {RATE_STATUS_LABELS[status]}
            </span>
            {r.estimate ? (
              <span
                title="Not verified for this date"
                className="rounded-md bg-amber-50 px-1.5 py-0.5 text-xs font-medium text-amber-800 ring-1 ring-amber-200 ring-inset"
              >
                Estimate
              </span>
            ) : null}
          </span>
        );
      },
    },
    {
      header: "Source",
      className: "min-w-32",
      cell: (r) => (
        <span className="break-words text-slate-600">
          {r.source}
          {r.note ? <span className="mt-0.5 block text-xs text-slate-500">{r.note}</span> : null}
        </span>
      ),
    },
  ];
  return (
    <>
      <div className="flex flex-col gap-2 text-sm text-slate-600 sm:flex-row sm:items-center sm:justify-between">
        <p>
          {rates.length} {rates.length === 1 ? "rate" : "rates"}
          {showReplaced ? "" : " in force or scheduled"}. An estimate is not verified for its date.
        </p>
        <label className="flex items-center gap-2 text-slate-800">
          <input type="checkbox" checked={showReplaced} onChange={(e) => setShowReplaced(e.target.checked)} />
          Show {replaced} replaced {replaced === 1 ? "version" : "versions"}
        </label>
      </div>
      <details className="text-sm text-slate-600">
        <summary className="cursor-pointer font-medium text-brand-700">What the source letters mean</summary>
        <dl className="mt-2 grid gap-x-4 gap-y-1 sm:grid-cols-[auto_1fr]">
          {Object.entries(SEED_SOURCES).map(([letter, text]) => (
            <div key={letter} className="contents">
              <dt className="font-mono font-medium text-slate-800">{letter}</dt>
              <dd>{text}</dd>
            </div>
          ))}
        </dl>
        <p className="mt-2">
          Rates added here carry the source typed with them, or the email of who added them.
        </p>
      </details>
      <DataTable
        caption="Message rates"
        columns={columns}
        rows={rates}
        rowKey={(r) => r.rateId}
        empty={
          <EmptyState title="No rates match these filters" description="Choose another market or category." />
        }
      />
    </>
  );
}

function EmptyRateCard({ currency }: { currency: string }) {
  const load = useMutation(api.billing.loadPublishedCard);
  const [status, setStatus] = useState<string | null>(null);
  return (
    <EmptyState
      title={`No ${currency} rates yet`}
      description={
        <>
          Load the published rate card (Meta&apos;s cards for USD, EUR, INR and CLP as researched for
          Switchboard, with AI model prices), then add newer rates below. Loading twice adds nothing.
          {status ? <span className="mt-2 block font-medium text-brand-700">{status}</span> : null}
        </>
      }
      action={
        <ConfirmButton
          title="Load the published rate card?"
          description={
            <p>This adds every published rate that is not here yet. Nothing already here changes.</p>
          }
          confirmLabel="Load rate card"
          busyLabel="Loading…"
          destructive={false}
          buttonProps={{ variant: "primary", size: "md" }}
          onConfirm={async () => {
            const result = await load({});
            setStatus(
              `Loading ${result.total} published rates and ${result.modelPricesInserted} AI model prices; they appear here as they are added.`,
            );
          }}
        >
          Load the published rate card
        </ConfirmButton>
      }
    />
  );
}

const RATE_FIELDS = ["currency", "market", "category", "rate", "effectiveFrom", "source", "note"] as const;

function AddRate({ currency, rates }: { currency: string; rates: readonly RateRow[] }) {
  const add = useMutation(api.billing.addRate);
  const form = useFormSubmission(RATE_FIELDS);
  const { now } = useLoaderData<typeof loader>();
  const quarters = useMemo(() => quarterStarts(now, 5), [now]);
  const markets = useMemo(() => marketOptions(), []);
  const empty = {
    market: "",
    category: "marketing",
    rate: "",
    effectiveFrom: quarters[1],
    source: "",
    note: "",
  };
  const [values, setValues] = useState({ ...empty, currency });
  const [estimate, setEstimate] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const set = (field: keyof typeof values) => (e: { target: { value: string } }) => {
    setValues((v) => ({ ...v, [field]: e.target.value }));
    form.clearStatus();
  };
  const current =
    values.currency === currency
      ? rates.find(
          (r) =>
            r.market === values.market &&
            r.category === values.category &&
            r.effectiveFrom <= values.effectiveFrom,
        )
      : undefined;
  const existing = rates.find(
    (r) =>
      r.market === values.market &&
      r.category === values.category &&
      r.effectiveFrom === values.effectiveFrom,
  );

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!values.market) return form.invalid({ market: "Choose a market" });
    const micros = tryParseAmount(values.rate);
    if (micros === null || micros < 0)
      return form.invalid({ rate: "Enter a rate of zero or more, like 0.0618" });
    setConfirming(true);
  };
  const save = () =>
    form.submit(async () => {
      const result = await add({
        ...values,
        estimate,
        note: values.note || undefined,
        source: values.source || undefined,
      });
      setValues((v) => ({ ...v, rate: "", note: "" }));
      return result.action === "unchanged"
        ? "That rate is already on the card; nothing changed."
        : result.action === "replace"
          ? "Corrected the scheduled rate."
          : "Added the rate.";
    });
  const label = `the ${values.currency} ${categoryLabel(values.category).toLowerCase()} rate for ${
    markets.find((m) => m.value === values.market)?.label ?? values.market
  } from ${values.effectiveFrom}`;
  const amount = tryParseAmount(values.rate);

  return (
    <Section
      id="add-rate"
      title="Add a rate"
      description="A new version takes effect at a quarter start, the current one or later. A version that has not started yet can be corrected by adding it again."
    >
      <form
        ref={form.form}
        noValidate
        onSubmit={submit}
        aria-label="Add a rate"
        className="space-y-4 rounded-2xl border border-slate-200 bg-white p-6 shadow-sm"
      >
        <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
          <SelectField
            label="Currency"
            value={values.currency}
            onChange={set("currency")}
            options={RATE_CARD_CURRENCIES.map((c) => ({ value: c, label: c }))}
            error={form.fieldError("currency")}
          />
          <SelectField
            label="Market"
            value={values.market}
            onChange={set("market")}
            options={[{ value: "", label: "Choose a market" }, ...markets]}
            error={form.fieldError("market")}
          />
          <SelectField
            label="Category"
            value={values.category}
            onChange={set("category")}
            options={CATEGORIES.map((c) => ({ value: c, label: categoryLabel(c) }))}
            error={form.fieldError("category")}
          />
          <TextField
            label={`Rate per message (${values.currency})`}
            inputMode="decimal"
            value={values.rate}
            onChange={set("rate")}
            error={form.fieldError("rate")}
            hint="Up to six decimals, like 0.0618."
            autoComplete="off"
          />
          <SelectField
            label="Effective from"
            value={values.effectiveFrom}
            onChange={set("effectiveFrom")}
            options={quarters.map((q, i) => ({ value: q, label: i === 0 ? `${q} (this quarter)` : q }))}
            error={form.fieldError("effectiveFrom")}
          />
          <TextField
            label="Source (optional)"
            value={values.source}
            onChange={set("source")}
            error={form.fieldError("source")}
            hint="Where the rate comes from; your email when empty."
            autoComplete="off"
          />
        </div>
        <TextField
          label="Note (optional)"
          value={values.note}
          onChange={set("note")}
          error={form.fieldError("note")}
        />
        <label className="flex items-center gap-2 text-sm text-slate-800">
          <input type="checkbox" checked={estimate} onChange={(e) => setEstimate(e.target.checked)} />
          Estimate: not verified for this date
        </label>
        <FormError message={form.errors?.form} />
        <div className="flex flex-wrap items-center gap-3">
          <Button type="submit" variant="primary" busy={form.busy} busyLabel="Saving…">
            Add rate
          </Button>
          <FormStatus message={form.status} />
        </div>
      </form>
      <ConfirmDialog
        open={confirming}
        title="Change the rate card?"
        description={
          <div className="space-y-2">
            <p>
              {existing ? "Correct" : "Add"} {label}:{" "}
              <strong>
                {amount === null ? values.rate : formatMoney(amount, values.currency, { precise: true })}
              </strong>
              .
            </p>
            {existing ? (
              <p>
                It replaces the scheduled {formatMoney(existing.amount, existing.currency, { precise: true })}
                .
              </p>
            ) : current ? (
              <p>
                Until then {formatMoney(current.amount, current.currency, { precise: true })} (from{" "}
                {current.effectiveFrom}) applies.
              </p>
            ) : null}
            <p>
              Every workspace billing in {values.currency} is charged this rate for these messages from that
              date.
            </p>
          </div>
        }
        confirmLabel={existing ? "Correct the rate" : "Add the rate"}
        destructive={false}
        onConfirm={save}
        onClose={() => setConfirming(false)}
      />
    </Section>
  );
}

type ImportReport = FunctionReturnType<typeof api.billing.importRates>;

function UploadRates() {
  const importRates = useMutation(api.billing.importRates);
  const input = useRef<HTMLInputElement>(null);
  const [file, setFile] = useState<{ name: string; text: string } | null>(null);
  const [report, setReport] = useState<ImportReport | null>(null);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);

  const choose = async (event: ChangeEvent<HTMLInputElement>) => {
    const chosen = event.target.files?.[0];
    setReport(null);
    setStatus(null);
    setProblem(null);
    setFile(null);
    if (!chosen) return;
    if (chosen.size > 1_000_000) return setProblem("The file is over 1 MB: split it into smaller files.");
    setFile({ name: chosen.name, text: await chosen.text() });
  };

  const check = async (event: FormEvent) => {
    event.preventDefault();
    if (!file) return setProblem("Choose a CSV file first.");
    setBusy(true);
    setProblem(null);
    setStatus(null);
    try {
      setReport(await importRates({ csv: file.text, dryRun: true, fileName: file.name }));
    } catch (error) {
      setProblem(toAppError(error).message);
    } finally {
      setBusy(false);
    }
  };

  const writable = report?.ok ? report.inserted + report.replaced : 0;

  return (
    <Section
      id="upload-rates"
      title="Upload rates from a CSV file"
      description={
        <>
          Columns: currency, market, category, rate, effective_from, and optionally source, estimate (yes or
          no) and note, with a header row. The file is checked first; if any row has a problem, nothing is
          written and every problem is listed by its row (the header is row 1).{" "}
          <a
            href={`data:text/csv;charset=utf-8,${encodeURIComponent(RATE_CSV_TEMPLATE)}`}
            download="rate-card-template.csv"
            className="font-medium text-brand-700 underline-offset-2 hover:underline"
          >
            Download a template
          </a>
          .
        </>
      }
    >
      <form
        onSubmit={check}
        aria-label="Upload rates"
        className="flex flex-col gap-4 rounded-2xl border border-slate-200 bg-white p-6 shadow-sm sm:flex-row sm:items-end"
      >
        <div className="min-w-0 flex-1">
          <label htmlFor="rates-file" className="block text-sm font-medium text-slate-900">
            CSV file
          </label>
          <input
            ref={input}
            id="rates-file"
            type="file"
            accept=".csv,text/csv"
            onChange={(e) => void choose(e)}
            className="mt-1.5 block w-full text-sm text-slate-700 file:mr-3 file:rounded-lg file:border file:border-slate-300 file:bg-white file:px-3 file:py-1.5 file:text-sm file:font-medium"
          />
        </div>
        <Button type="submit" busy={busy} busyLabel="Checking…">
          Check file
        </Button>
      </form>
      <FormError message={problem} />
      <FormStatus message={status} />
      {report ? (
        report.ok ? (
          <div className="space-y-4">
            <p role="status" className="text-sm text-slate-800">
              {file?.name}: {report.rows} {report.rows === 1 ? "row" : "rows"} checked, all valid —{" "}
              {report.inserted} new, {report.replaced} corrected, {report.unchanged} already on the card.
            </p>
            <ChangesTable report={report} />
            {writable > 0 ? (
              <ConfirmButton
                title={`Write ${writable} ${writable === 1 ? "rate" : "rates"}?`}
                description={
                  <p>
                    {report.inserted} new and {report.replaced} corrected rates take effect from their dates
                    for every workspace billing in their currency. The change is recorded in the platform
                    audit log.
                  </p>
                }
                confirmLabel={`Write ${writable} ${writable === 1 ? "rate" : "rates"}`}
                busyLabel="Writing…"
                destructive={false}
                buttonProps={{ variant: "primary", size: "md" }}
                onConfirm={async () => {
                  const result = await importRates({ csv: file!.text, dryRun: false, fileName: file!.name });
                  if (!result.ok) {
                    setReport(result);
                    return;
                  }
                  setReport(null);
                  setFile(null);
                  if (input.current) input.current.value = "";
                  setStatus(`Wrote ${result.inserted + result.replaced} rates from ${file!.name}.`);
                }}
              />
            ) : (
              <p className="text-sm text-slate-600">Nothing to write: every rate is already on the card.</p>
            )}
          </div>
        ) : (
          <ImportErrors report={report} fileName={file?.name} />
        )
      ) : null}
    </Section>
  );
}

function ChangesTable({ report }: { report: ImportReport }) {
  const rows = report.changes.slice(0, 50);
  const columns: Column<ImportReport["changes"][number]>[] = [
    { header: "Row", rowHeader: true, className: "tabular-nums", cell: (c) => c.row },
    {
      header: "Change",
      cell: (c) => ({ insert: "New", replace: "Correction", unchanged: "Already on the card" })[c.action],
    },
    {
      header: "Rate",
      cell: (c) => `${c.currency} ${c.market} ${categoryLabel(c.category)} from ${c.effectiveFrom}`,
    },
    {
      header: "Amount",
      className: "text-right tabular-nums whitespace-nowrap",
      cell: (c) =>
        `${c.previous !== null ? `${formatMoney(c.previous, c.currency, { precise: true })} → ` : ""}${formatMoney(c.amount, c.currency, { precise: true })}`,
    },
  ];
  return (
    <>
      <DataTable caption="Rates in the file" columns={columns} rows={rows} rowKey={(c) => String(c.row)} />
      {report.changes.length > rows.length ? (
        <p className="text-sm text-slate-500">The first {rows.length} rows are shown.</p>
      ) : null}
    </>
  );
}

function ImportErrors({ report, fileName }: { report: ImportReport; fileName?: string }) {
  const columns: Column<ImportReport["errors"][number]>[] = [
    { header: "Row", rowHeader: true, className: "tabular-nums", cell: (e) => e.row },
    { header: "Column", cell: (e) => (e.field ? (COLUMN_NAMES[e.field] ?? e.field) : "—") },
    {
      header: "Problem",
      className: "min-w-56",
      cell: (e) => <span className="break-words">{e.message}</span>,
    },
  ];
  return (
    <div className="space-y-3">
      <p
        role="alert"
        className="rounded-lg border border-red-200 bg-red-50 px-3 py-2 text-sm font-medium text-red-800"
      >
        {fileName ?? "The file"} has {report.errorCount} {report.errorCount === 1 ? "problem" : "problems"}:
        nothing was written. Fix {report.errorCount === 1 ? "it" : "them"} and upload the file again.
      </p>
      <DataTable
        caption="Problems in the file"
        columns={columns}
        rows={report.errors}
        rowKey={(e) => `${e.row}-${e.field ?? ""}-${e.message}`}
      />
      {report.errorCount > report.errors.length ? (
        <p className="text-sm text-slate-500">The first {report.errors.length} problems are shown.</p>
      ) : null}
    </div>
  );
}

const COLUMN_NAMES: Record<string, string> = {
  currency: "currency",
  market: "market",
  category: "category",
  rate: "rate",
  effectiveFrom: "effective_from",
  source: "source",
  estimate: "estimate",
  note: "note",
};

type ModelPrice = FunctionReturnType<typeof api.billing.modelPrices>[number];

function ModelPrices() {
  const prices = useQuery(api.billing.modelPrices, {});
  const columns: Column<ModelPrice>[] = [
    {
      header: "Model",
      rowHeader: true,
      className: "whitespace-nowrap",
      cell: (p) => <span className="font-mono text-xs">{p.model}</span>,
    },
    { header: "Currency", cell: (p) => p.currency },
    { header: "From", className: "whitespace-nowrap tabular-nums", cell: (p) => p.effectiveFrom },
    {
      header: "Input, per 1M tokens",
      className: "text-right tabular-nums whitespace-nowrap",
      cell: (p) => formatMoney(p.inputPerMillion, p.currency, { precise: true }),
    },
    {
      header: "Output, per 1M tokens",
      className: "text-right tabular-nums whitespace-nowrap",
      cell: (p) => formatMoney(p.outputPerMillion, p.currency, { precise: true }),
    },
    {
      header: "Source",
      className: "min-w-40",
      cell: (p) => (
        <span className="break-words text-slate-600">
          {p.source}
          {p.estimate ? " (estimate)" : ""}
        </span>
      ),
    },
  ];
  return (
    <Section
      id="model-prices"
      title="AI model prices"
      description="What the assistant's tokens cost, per million, charged once per turn."
    >
      {prices === undefined ? (
        <LoadingState label="Loading model prices…" />
      ) : (
        <DataTable
          caption="AI model prices"
          columns={columns}
          rows={prices}
          rowKey={(p) => p.priceId}
          empty={
            <EmptyState
              title="No model prices yet"
              description="Loading the published rate card adds the prices of the models the assistant uses."
            />
          }
        />
      )}
    </Section>
  );
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
