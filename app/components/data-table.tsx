// A responsive table: a real <table> (with a caption for screen readers) that, on screens
// narrower than `sm`, stacks each row into a card of labelled cells (`.stack-table` in
// tailwind.css) so no column sits off-screen; and an empty state instead of an empty body.
// Roles are explicit because the stacked layout changes the elements' display.
import type { ReactNode } from "react";

export type Column<T> = {
  header: ReactNode;
  /** The cell's label in the stacked layout; defaults to `header` when that is text. */
  label?: string;
  cell: (row: T) => ReactNode;
  /** Extra classes for this column's cells (e.g. "text-right", "hidden sm:table-cell"). */
  className?: string;
  /** Make this column's cell the row header (<th scope="row">). */
  rowHeader?: boolean;
};

export type DataTableProps<T> = {
  caption: string;
  columns: readonly Column<T>[];
  rows: readonly T[];
  rowKey: (row: T) => string;
  empty?: ReactNode;
  /** Content placed after a row (spanning every column), e.g. an expanded detail. */
  renderAfterRow?: (row: T) => ReactNode;
};

export function DataTable<T>({ caption, columns, rows, rowKey, empty, renderAfterRow }: DataTableProps<T>) {
  if (rows.length === 0 && empty) return <>{empty}</>;
  return (
    <div className="relative overflow-x-auto rounded-2xl border border-slate-200 bg-white shadow-sm">
      <table role="table" className="stack-table min-w-full divide-y divide-slate-200 text-left text-sm">
        <caption className="sr-only">{caption}</caption>
        <thead role="rowgroup" className="bg-slate-50">
          <tr role="row">
            {columns.map((column, i) => (
              <th
                key={i}
                scope="col"
                role="columnheader"
                className={`px-4 py-3 text-xs font-semibold tracking-wide text-slate-600 uppercase ${column.className ?? ""}`}
              >
                {column.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody role="rowgroup" className="divide-y divide-slate-100">
          {rows.map((row) => {
            const key = rowKey(row);
            const after = renderAfterRow?.(row);
            return (
              <RowGroup key={key} after={after} span={columns.length}>
                <tr role="row" className="align-top">
                  {columns.map((column, i) => {
                    const Cell = column.rowHeader ? "th" : "td";
                    const label =
                      column.label ?? (typeof column.header === "string" ? column.header : undefined);
                    return (
                      <Cell
                        key={i}
                        scope={column.rowHeader ? "row" : undefined}
                        role={column.rowHeader ? "rowheader" : "cell"}
                        data-label={label}
                        className={`px-4 py-3 text-slate-700 ${column.rowHeader ? "font-medium text-slate-900" : ""} ${column.className ?? ""}`}
                      >
                        {column.cell(row)}
                      </Cell>
                    );
                  })}
                </tr>
              </RowGroup>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function RowGroup({ children, after, span }: { children: ReactNode; after: ReactNode; span: number }) {
  return (
    <>
      {children}
      {after ? (
        <tr role="row">
          <td role="cell" colSpan={span} className="bg-slate-50 px-4 py-4">
            {after}
          </td>
        </tr>
      ) : null}
    </>
  );
}
