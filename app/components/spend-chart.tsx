// Spend per day as stacked bars by category (plain elements, no chart library: a bar per day,
// one coloured block per category), its legend, the numbers behind it, and spend by category.
import type { FunctionReturnType } from "convex/server";
import type { api } from "../../convex/_generated/api";
import { categoryColour, categoryLabel, formatMoney, SPEND_RANGES, type SpendRange } from "../lib/billing";
import { DataTable, type Column } from "./data-table";

export type SpendReport = FunctionReturnType<typeof api.billing.spend>;
type Category = SpendReport["categories"][number];

const dayLabel = (day: string, withYear = false) =>
  new Intl.DateTimeFormat("en-GB", {
    day: "numeric",
    month: "short",
    ...(withYear ? { year: "numeric" } : {}),
    timeZone: "UTC",
  }).format(Date.parse(`${day}T00:00:00Z`));

export function SpendRangeSwitch({
  range,
  onChange,
}: {
  range: SpendRange;
  onChange: (r: SpendRange) => void;
}) {
  return (
    <div
      role="group"
      aria-label="Range"
      className="inline-flex rounded-lg border border-slate-300 bg-white p-0.5"
    >
      {SPEND_RANGES.map((days) => (
        <button
          key={days}
          type="button"
          aria-pressed={range === days}
          onClick={() => onChange(days)}
          className={`rounded-md px-3 py-1 text-sm font-medium ${range === days ? "bg-brand-600 text-white" : "text-slate-700 hover:bg-slate-100"}`}
        >
          {days} days
        </button>
      ))}
    </div>
  );
}

/** Stacked bars of spend per day; categories in the order of the range's totals. */
export function SpendChart({ report }: { report: SpendReport }) {
  const order = report.categories.map((c) => c.category);
  const money = (micros: number) => formatMoney(micros, report.currency);
  const max = Math.max(0, ...report.days.map((d) => positiveTotal(d.categories)));
  const middle = report.days[Math.floor(report.days.length / 2)];
  const summary =
    `Spend per day from ${dayLabel(report.from, true)} to ${dayLabel(report.to, true)}: ` +
    (report.total === 0
      ? "nothing spent."
      : `${money(report.total)} in total, at most ${money(max)} on one day.`);

  return (
    <figure className="rounded-2xl border border-slate-200 bg-white p-4 shadow-sm">
      <div className="flex gap-2">
        <div
          aria-hidden="true"
          className="flex w-16 shrink-0 flex-col justify-between text-right text-xs text-slate-500 tabular-nums"
        >
          <span>{money(max)}</span>
          <span>{money(0)}</span>
        </div>
        <div
          role="img"
          aria-label={summary}
          className="relative flex h-44 min-w-0 flex-1 items-end gap-px border-b border-l border-slate-200"
        >
          {max === 0 ? (
            <p aria-hidden="true" className="absolute inset-0 grid place-items-center text-sm text-slate-500">
              Nothing spent in these days.
            </p>
          ) : null}
          {report.days.map((day) => {
            const total = positiveTotal(day.categories);
            const byCategory = [...day.categories]
              .filter((c) => c.amount > 0)
              .sort((a, b) => order.indexOf(a.category) - order.indexOf(b.category));
            const title =
              `${dayLabel(day.day, true)}: ${money(day.total)}` +
              byCategory.map((c) => `\n${categoryLabel(c.category)} ${money(c.amount)}`).join("");
            return (
              <div
                key={day.day}
                title={title}
                className="flex h-full min-w-0 flex-1 flex-col-reverse"
                data-day={day.day}
              >
                {max > 0 && total > 0 ? (
                  <div className="flex flex-col-reverse" style={{ height: `${(total / max) * 100}%` }}>
                    {byCategory.map((c) => (
                      <div
                        key={c.category}
                        className={categoryColour(c.category)}
                        style={{ height: `${(c.amount / total) * 100}%` }}
                      />
                    ))}
                  </div>
                ) : null}
              </div>
            );
          })}
        </div>
      </div>
      <div aria-hidden="true" className="mt-1 ml-18 flex justify-between text-xs text-slate-500">
        <span>{dayLabel(report.from)}</span>
        {middle ? <span className="hidden sm:inline">{dayLabel(middle.day)}</span> : null}
        <span>{dayLabel(report.to)}</span>
      </div>
      <figcaption className="mt-3 space-y-2">
        {order.length ? (
          <ul className="flex flex-wrap gap-x-4 gap-y-1 text-sm text-slate-700" aria-label="Categories">
            {order.map((category) => (
              <li key={category} className="flex items-center gap-1.5">
                <span
                  aria-hidden="true"
                  className={`inline-block size-3 rounded-sm ${categoryColour(category)}`}
                />
                {categoryLabel(category)}
              </li>
            ))}
          </ul>
        ) : null}
        <p className="text-xs text-slate-500">Days are UTC days. Refunds count on the day they were made.</p>
      </figcaption>
      {report.total !== 0 ? <SpendNumbers report={report} /> : null}
    </figure>
  );
}

function positiveTotal(categories: readonly Category[]): number {
  return categories.reduce((sum, c) => sum + Math.max(0, c.amount), 0);
}

/** The chart's numbers as a table, for anyone who cannot see it or wants the exact amounts. */
function SpendNumbers({ report }: { report: SpendReport }) {
  const days = report.days.filter((d) => d.categories.length > 0).reverse();
  const columns: Column<SpendReport["days"][number]>[] = [
    { header: "Day", rowHeader: true, className: "whitespace-nowrap", cell: (d) => dayLabel(d.day, true) },
    {
      header: "By category",
      cell: (d) =>
        d.categories
          .map((c) => `${categoryLabel(c.category)} ${formatMoney(c.amount, report.currency)}`)
          .join(" · "),
    },
    {
      header: "Spent",
      className: "text-right tabular-nums whitespace-nowrap",
      cell: (d) => formatMoney(d.total, report.currency),
    },
  ];
  return (
    <details className="mt-3">
      <summary className="cursor-pointer text-sm font-medium text-brand-700">Show the numbers by day</summary>
      <div className="mt-3">
        <DataTable caption="Spend by day" columns={columns} rows={days} rowKey={(d) => d.day} />
      </div>
    </details>
  );
}

/** Spend per category over the range, with each one's share of the total. */
export function SpendByCategory({ report }: { report: SpendReport }) {
  const money = (micros: number) => formatMoney(micros, report.currency);
  const columns: Column<Category>[] = [
    {
      header: "Category",
      rowHeader: true,
      cell: (c) => (
        <span className="flex items-center gap-2">
          <span
            aria-hidden="true"
            className={`inline-block size-3 shrink-0 rounded-sm ${categoryColour(c.category)}`}
          />
          {categoryLabel(c.category)}
        </span>
      ),
    },
    { header: "Charges", className: "text-right tabular-nums", cell: (c) => c.count.toLocaleString("en-US") },
    {
      header: "Refunded",
      className: "text-right tabular-nums whitespace-nowrap",
      cell: (c) => (c.refunded ? money(c.refunded) : "—"),
    },
    {
      header: "Spent",
      className: "text-right tabular-nums whitespace-nowrap",
      cell: (c) => money(c.amount),
    },
    {
      header: "Share",
      className: "min-w-24",
      cell: (c) => {
        const share = report.total > 0 ? Math.max(0, Math.round((c.amount / report.total) * 100)) : 0;
        return (
          <span className="flex items-center gap-2">
            <span className="h-2 flex-1 overflow-hidden rounded-full bg-slate-100">
              <span
                className={`block h-full ${categoryColour(c.category)}`}
                style={{ width: `${Math.min(100, share)}%` }}
              />
            </span>
            <span className="w-10 text-right text-xs text-slate-600 tabular-nums">{share} %</span>
          </span>
        );
      },
    },
  ];
  return (
    <DataTable
      caption="Spend by category"
      columns={columns}
      rows={report.categories}
      rowKey={(c) => c.category}
    />
  );
}
