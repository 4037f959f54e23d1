// A DataTable over a paginated Convex query: a loading state until the first page arrives, then
// the rows with a "Load more" button for as long as there are more.
import type { PaginationStatus } from "convex/react";
import { Button } from "./button";
import { DataTable, type DataTableProps } from "./data-table";
import { LoadingState } from "./spinner";

export type PagedDataTableProps<T> = DataTableProps<T> & {
  status: PaginationStatus;
  loadMore: (numItems: number) => void;
  /** How many rows each "Load more" asks for. */
  pageSize: number;
  /** What the loading state says before the first page, e.g. "Loading workspaces…". */
  loadingLabel: string;
};

export function PagedDataTable<T>({
  status,
  loadMore,
  pageSize,
  loadingLabel,
  ...table
}: PagedDataTableProps<T>) {
  if (status === "LoadingFirstPage") return <LoadingState label={loadingLabel} />;
  return (
    <>
      <DataTable {...table} />
      {status === "Exhausted" ? null : (
        <div className="flex items-center justify-center">
          <Button onClick={() => loadMore(pageSize)} busy={status === "LoadingMore"} busyLabel="Loading…">
            Load more
          </Button>
        </div>
      )}
    </>
  );
}
