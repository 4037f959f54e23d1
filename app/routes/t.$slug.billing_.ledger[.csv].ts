// /t/<slug>/billing/ledger.csv?kind=…&from=…&to=…: every ledger entry the billing page's filters
// match (not just the page on screen), as a UTF-8 CSV with a byte-order mark so spreadsheets read
// it right. Read page by page as the signed-in user, so it shows exactly what they may see.
import type { LoaderFunctionArgs } from "@remix-run/node";
import type { FunctionReturnType } from "convex/server";
import { api } from "../../convex/_generated/api";
import { CSV_BOM, toCsv, type CsvCell } from "../../convex/shared/csv";
import { getConvexClientForRequest, requireUser } from "../lib/auth.server";
import {
  LEDGER_CSV_HEADER,
  ledgerCsvName,
  ledgerCsvRow,
  ledgerFilterParams,
  ledgerQueryArgs,
} from "../lib/billing";
import { toAppError } from "../lib/convex-errors";

/** Entries read per query. */
const PAGE = 1000;
/** Most entries one file holds; a wider range is refused with a sentence saying so. */
export const MAX_EXPORT_ROWS = 100_000;

function text(status: number, message: string): Response {
  return new Response(message, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}

export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireUser(request);
  const client = await getConvexClientForRequest(request);
  const slug = params.slug ?? "";
  const found = await client.query(api.tenants.bySlug, { slug });
  if (!found) return text(404, "There is no workspace at this address, or you are not a member of it.");
  const tenantId = found.tenantId;
  let details, wallet;
  try {
    [details, wallet] = await Promise.all([
      client.query(api.tenants.get, { tenantId }),
      client.query(api.billing.wallet, { tenantId }),
    ]);
  } catch (error) {
    const { code, message } = toAppError(error);
    if (code === "FORBIDDEN") return text(403, message);
    if (code === "NOT_FOUND" || code === "UNAUTHENTICATED") return text(404, message);
    throw error;
  }
  const filter = ledgerFilterParams(new URL(request.url).searchParams);
  const args = { tenantId, ...ledgerQueryArgs(filter, details.timeZone) };
  const rows: CsvCell[][] = [LEDGER_CSV_HEADER];
  let cursor: string | null = null;
  for (;;) {
    const page: FunctionReturnType<typeof api.billing.ledger> = await client.query(api.billing.ledger, {
      ...args,
      paginationOpts: { numItems: PAGE, cursor },
    });
    for (const entry of page.page) rows.push(ledgerCsvRow(entry, wallet.currency));
    if (rows.length - 1 > MAX_EXPORT_ROWS) {
      return text(
        413,
        `More than ${MAX_EXPORT_ROWS.toLocaleString("en-US")} entries match: export a shorter date range at a time.`,
      );
    }
    if (page.isDone) break;
    cursor = page.continueCursor;
  }
  return new Response(CSV_BOM + toCsv(rows), {
    headers: {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="${ledgerCsvName(slug, filter)}"`,
      "cache-control": "private, no-store",
    },
  });
}
