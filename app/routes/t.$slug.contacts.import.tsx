// /t/<slug>/contacts/import: the CSV import wizard for admins. Choose a file (uploaded to Convex
// file storage) → check the detected columns against a preview and change any → import, with a
// progress bar read live from the import's row (so it survives a reload: the import's id is in
// the address) → a row-level error report, shown and downloadable.
import type { MetaFunction } from "@remix-run/node";
import { Link, useSearchParams } from "@remix-run/react";
import { useConvex, useConvexAuth, useMutation, usePaginatedQuery, useQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useEffect, useState } from "react";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { CSV_BOM, toCsv } from "../../convex/shared/csv";
import { Button } from "../components/button";
import { ConfirmButton } from "../components/confirm-dialog";
import { DataRouteErrorView } from "../components/data-error-view";
import { FormError } from "../components/form-field";
import { NotAllowed } from "../components/not-allowed";
import { PageHeader } from "../components/page-header";
import { LoadingState } from "../components/spinner";
import { COLUMN_ROLE_LABELS, IMPORT_STATUS_LABELS } from "../lib/contacts";
import { toAppError } from "../lib/convex-errors";
import { useTenant } from "../lib/tenant-context";
import { useContactUpload } from "../lib/use-contact-upload";

export const meta: MetaFunction = () => [{ title: "Import contacts — Switchboard" }];

export default function ImportPage() {
  const tenant = useTenant();
  const [params, setParams] = useSearchParams();
  const importId = params.get("id") as Id<"contactImports"> | null;
  const base = `/t/${tenant.slug}/contacts`;
  if (!tenant.canAdminWrite) {
    return (
      <NotAllowed
        title="Only admins can import contacts"
        message="Ask an admin of this workspace to import the list, or to make you an admin."
        backTo={{ to: base, label: "Back to contacts" }}
      />
    );
  }
  return (
    <div>
      <PageHeader
        eyebrow={<Link to={base}>← Contacts</Link>}
        title="Import contacts"
        description="A CSV from a spreadsheet, phone or CRM: commas, semicolons or tabs, any common encoding, headers in English, Spanish, Portuguese, French or German. Numbers without a country code use the workspace's default country."
      />
      {importId ? (
        <ImportView importId={importId} onRestart={() => setParams({})} />
      ) : (
        <ChooseFile onCreated={(id) => setParams({ id })} />
      )}
    </div>
  );
}

function ChooseFile({ onCreated }: { onCreated: (id: Id<"contactImports">) => void }) {
  const tenant = useTenant();
  const { isAuthenticated } = useConvexAuth();
  const uploadContacts = useContactUpload();
  const recent = useQuery(api.contactImports.list, isAuthenticated ? { tenantId: tenant.tenantId } : "skip");
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <div className="space-y-8">
      <form
        className="space-y-4 rounded-2xl border border-slate-200 bg-white p-6"
        onSubmit={async (e) => {
          e.preventDefault();
          if (!file) return setError("Choose a CSV file");
          setBusy(true);
          setError(null);
          try {
            onCreated(await uploadContacts(tenant.tenantId, file));
          } catch (err) {
            setError(toAppError(err).message);
          } finally {
            setBusy(false);
          }
        }}
      >
        <label className="block text-sm font-medium text-slate-800">
          CSV file
          <input
            type="file"
            name="file"
            accept=".csv,.txt,.tsv,text/csv,text/plain"
            onChange={(e) => setFile(e.target.files?.[0] ?? null)}
            className="mt-2 block w-full text-sm text-slate-700 file:mr-3 file:rounded-lg file:border file:border-slate-300 file:bg-white file:px-3 file:py-2 file:text-sm file:font-medium file:text-slate-800 hover:file:bg-slate-50"
          />
          <span className="mt-1 block text-xs font-normal text-slate-500">
            One contact per row under a header row, with a column of phone numbers. Up to 20 MB (about 100,000
            rows).
          </span>
        </label>
        <FormError message={error} />
        <Button type="submit" variant="primary" busy={busy} busyLabel="Uploading…">
          Upload and preview
        </Button>
      </form>
      {recent && recent.length ? (
        <section aria-labelledby="recent-title">
          <h2 id="recent-title" className="mb-2 text-base font-semibold">
            Recent imports
          </h2>
          <ul className="space-y-1 text-sm">
            {recent.map((r) => (
              <li key={r.importId}>
                <Link to={`?id=${r.importId}`} className="text-brand-700 hover:underline">
                  {r.fileName}
                </Link>{" "}
                — {IMPORT_STATUS_LABELS[r.status]}
                {r.status === "done"
                  ? `: ${r.created} new, ${r.merged} merged, ${r.errorCount} rows with errors`
                  : ""}
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </div>
  );
}

function ImportView({ importId, onRestart }: { importId: Id<"contactImports">; onRestart: () => void }) {
  const tenant = useTenant();
  const { isAuthenticated } = useConvexAuth();
  const job = useQuery(
    api.contactImports.get,
    isAuthenticated ? { tenantId: tenant.tenantId, importId } : "skip",
  );
  if (job === undefined) return <LoadingState label="Loading the import…" />;
  const status = IMPORT_STATUS_LABELS[job.status];
  return (
    <div className="space-y-6">
      <p className="text-sm text-slate-600">
        <span className="font-medium text-slate-900">{job.fileName}</span> ·{" "}
        <span data-testid="import-status">{status}</span>
        {job.encoding
          ? ` · ${job.encoding}, ${job.delimiter === "\t" ? "tab" : `“${job.delimiter}”`}-separated`
          : ""}
        {job.totalRows !== null ? ` · ${job.totalRows.toLocaleString("en-US")} rows` : ""}
      </p>
      {job.status === "analyzing" ? <LoadingState label="Reading the file…" /> : null}
      {job.status === "mapping" ? <Mapping job={job} /> : null}
      {job.status === "parsing" || job.status === "importing" ? <Progress job={job} /> : null}
      {job.status === "failed" ? (
        <div role="alert" className="rounded-xl border border-red-200 bg-red-50 p-4 text-sm text-red-800">
          {job.failure}
        </div>
      ) : null}
      {job.status === "done" || job.status === "cancelled" ? (
        <>
          <Summary job={job} />
          <ErrorReport importId={importId} fileName={job.fileName} errorCount={job.errorCount} />
          <Button onClick={onRestart}>Import another file</Button>
        </>
      ) : null}
    </div>
  );
}

type Job = NonNullable<ReturnType<typeof useQuery<typeof api.contactImports.get>>>;

function Mapping({ job }: { job: Job }) {
  const tenant = useTenant();
  const start = useMutation(api.contactImports.start);
  const [columns, setColumns] = useState<string[]>(job.columns);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => setColumns(job.columns), [job.columns]);
  const noPhone = !columns.includes("phone");
  return (
    <form
      className="space-y-4"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        try {
          await start({ tenantId: tenant.tenantId, importId: job.importId, columns });
        } catch (err) {
          setError(toAppError(err).message);
          setBusy(false);
        }
      }}
    >
      <p className="text-sm text-slate-700">
        Check what each column holds and change any that was guessed wrong. Columns marked “Custom field” are
        kept under their header name; “Don't import” leaves a column out.
      </p>
      <div className="overflow-x-auto rounded-2xl border border-slate-200 bg-white">
        <table className="text-left text-sm" aria-label="Column mapping">
          <thead className="bg-slate-50">
            <tr>
              {job.headers.map((h, i) => (
                <th key={i} scope="col" className="min-w-44 px-3 py-2 align-top">
                  <span className="block font-semibold text-slate-900">{h}</span>
                  <select
                    aria-label={`Column “${h}”`}
                    value={columns[i]}
                    onChange={(e) => setColumns(columns.map((c, k) => (k === i ? e.target.value : c)))}
                    className="mt-1 w-full rounded-lg border border-slate-300 px-2 py-1 text-sm font-normal"
                  >
                    {Object.entries(COLUMN_ROLE_LABELS).map(([value, label]) => (
                      <option key={value} value={value}>
                        {label}
                      </option>
                    ))}
                  </select>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {job.sample.map((row, r) => (
              <tr key={r} className="border-t border-slate-100">
                {row.map((cell, c) => (
                  <td
                    key={c}
                    title={cell}
                    className={`max-w-64 truncate px-3 py-2 ${columns[c] === "ignore" ? "text-slate-400 line-through" : ""}`}
                  >
                    {cell}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p className="text-xs text-slate-500">
        {job.headers.length > 3 ? "Scroll sideways to see every column. " : ""}
        The first {job.sample.length.toLocaleString("en-US")} of {job.totalRows?.toLocaleString("en-US")}{" "}
        rows.
      </p>
      {noPhone ? (
        <p role="alert" className="text-sm text-red-700">
          No column is marked “Phone number”: choose the column that holds the numbers.
        </p>
      ) : null}
      <FormError message={error} />
      <Button type="submit" variant="primary" disabled={noPhone} busy={busy} busyLabel="Starting…">
        Import {job.totalRows?.toLocaleString("en-US")} rows
      </Button>
    </form>
  );
}

function Progress({ job }: { job: Job }) {
  const tenant = useTenant();
  const cancel = useMutation(api.contactImports.cancel);
  const total = job.contactsTotal ?? 0;
  const percent = total ? Math.floor((job.contactsDone / total) * 100) : 0;
  return (
    <div className="space-y-3">
      <div
        role="progressbar"
        aria-label="Import progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
        className="h-3 w-full overflow-hidden rounded-full bg-slate-200"
      >
        <div className="h-full bg-brand-600 transition-all" style={{ width: `${percent}%` }} />
      </div>
      <p className="text-sm text-slate-700" aria-live="polite">
        {job.status === "parsing"
          ? "Checking every row…"
          : `${job.contactsDone.toLocaleString("en-US")} of ${total.toLocaleString("en-US")} contacts (${percent}%) · ${job.created} new · ${job.merged} merged`}
      </p>
      <p className="text-sm text-slate-600">
        You can leave this page: the import goes on and this page shows where it is.
      </p>
      <ConfirmButton
        title="Cancel the import?"
        description="Contacts imported so far stay; the rest of the file is not imported."
        confirmLabel="Cancel import"
        busyLabel="Cancelling…"
        onConfirm={() => cancel({ tenantId: tenant.tenantId, importId: job.importId })}
      />
    </div>
  );
}

function Summary({ job }: { job: Job }) {
  const n = (x: number) => x.toLocaleString("en-US");
  return (
    <dl className="grid grid-cols-2 gap-4 sm:grid-cols-4" data-testid="import-summary">
      {[
        ["New contacts", job.created],
        ["Merged with existing", job.merged],
        ["Repeats in the file", job.duplicatesInFile],
        ["Rows with errors", job.errorCount],
      ].map(([label, value]) => (
        <div key={label as string} className="rounded-xl border border-slate-200 bg-white p-4">
          <dt className="text-xs text-slate-500">{label}</dt>
          <dd className="text-xl font-semibold tabular-nums">{n(value as number)}</dd>
        </div>
      ))}
      {job.status === "cancelled" ? (
        <p className="col-span-full text-sm text-slate-700">
          Cancelled after {n(job.contactsDone)} contacts.
        </p>
      ) : null}
    </dl>
  );
}

function ErrorReport({
  importId,
  fileName,
  errorCount,
}: {
  importId: Id<"contactImports">;
  fileName: string;
  errorCount: number;
}) {
  const tenant = useTenant();
  const convex = useConvex();
  const { results, status, loadMore } = usePaginatedQuery(
    api.contactImports.errors,
    { tenantId: tenant.tenantId, importId },
    { initialNumItems: 20 },
  );
  const [downloading, setDownloading] = useState(false);
  const [downloadError, setDownloadError] = useState<string | null>(null);
  if (errorCount === 0) return <p className="text-sm text-slate-700">Every row was read.</p>;
  // The whole report, page by page (the table shows only the first rows).
  const download = async () => {
    setDownloading(true);
    setDownloadError(null);
    try {
      const rows: [number, string][] = [];
      let cursor: string | null = null;
      for (;;) {
        const page: FunctionReturnType<typeof api.contactImports.errors> = await convex.query(
          api.contactImports.errors,
          { tenantId: tenant.tenantId, importId, paginationOpts: { numItems: 1000, cursor } },
        );
        for (const e of page.page) rows.push([e.row, e.reason]);
        if (page.isDone) break;
        cursor = page.continueCursor;
      }
      const csv = CSV_BOM + toCsv([["Row", "Reason"], ...rows]);
      const url = URL.createObjectURL(new Blob([csv], { type: "text/csv;charset=utf-8" }));
      const a = document.createElement("a");
      a.href = url;
      a.download = `${fileName.replace(/\.\w+$/, "")}-errors.csv`;
      a.click();
      URL.revokeObjectURL(url);
    } catch (err) {
      setDownloadError(toAppError(err).message);
    } finally {
      setDownloading(false);
    }
  };
  return (
    <section aria-labelledby="errors-title" className="space-y-3">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h2 id="errors-title" className="text-base font-semibold">
          Rows not imported ({errorCount.toLocaleString("en-US")})
        </h2>
        <Button size="sm" onClick={download} busy={downloading} busyLabel="Preparing…">
          Download the error report (CSV)
        </Button>
      </div>
      <FormError message={downloadError} />
      <p className="text-sm text-slate-600">
        Row numbers count the header as row 1, as a spreadsheet shows them. Fix these rows in your file and
        import it again: contacts already imported are merged, not repeated.
      </p>
      <div className="overflow-x-auto rounded-2xl border border-slate-200 bg-white">
        <table className="w-full text-left text-sm" aria-label="Rows not imported">
          <thead className="bg-slate-50">
            <tr>
              <th className="px-3 py-2">Row</th>
              <th className="px-3 py-2">Reason</th>
            </tr>
          </thead>
          <tbody>
            {results.map((e) => (
              <tr key={e.row} className="border-t border-slate-100">
                <td className="px-3 py-2 tabular-nums">{e.row}</td>
                <td className="px-3 py-2">{e.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {status === "CanLoadMore" || status === "LoadingMore" ? (
        <Button size="sm" onClick={() => loadMore(100)} busy={status === "LoadingMore"} busyLabel="Loading…">
          Show more rows ({results.length.toLocaleString("en-US")} of {errorCount.toLocaleString("en-US")}{" "}
          shown)
        </Button>
      ) : null}
    </section>
  );
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
