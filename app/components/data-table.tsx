// A responsive table: a real <table> (with a caption for screen readers) that scrolls sideways
// on narrow screens, and an empty state instead of an empty body.
import type { ReactNode } from "react";

export type Column<T> = {
  header: ReactNode;
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
      <table className="min-w-full divide-y divide-slate-200 text-left text-sm">
        <caption className="sr-only">{caption}</caption>
        <thead className="bg-slate-50">
          <tr>
            {columns.map((column, i) => (
              <th
                key={i}
                scope="col"
                className={`px-4 py-3 text-xs font-semibold tracking-wide text-slate-600 uppercase ${column.className ?? ""}`}
              >
                {column.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {rows.map((row) => {
            const key = rowKey(row);
            const after = renderAfterRow?.(row);
            return (
              <RowGroup key={key} after={after} span={columns.length}>
                <tr className="align-top">
                  {columns.map((column, i) => {
                    const Cell = column.rowHeader ? "th" : "td";
                    return (
                      <Cell
                        key={i}
                        scope={column.rowHeader ? "row" : undefined}
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
        <tr>
          <td colSpan={span} className="bg-slate-50 px-4 py-4">
            {after}
          </td>
        </tr>
      ) : null}
    </>
  );
}
