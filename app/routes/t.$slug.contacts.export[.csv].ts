// /t/<slug>/contacts/export.csv?segment=…|q=&tag=&consent=&seen=: the contacts matching a segment
// or a filter (all when none), as UTF-8 CSV with a byte-order mark so Excel opens it right. Read
// page by page as the signed-in user, so only admins get it (contacts:exportPage demands admin).
import type { LoaderFunctionArgs } from "@remix-run/node";
import type { FunctionReturnType } from "convex/server";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { CSV_BOM, toCsv, type CsvCell } from "../../convex/shared/csv";
import { getConvexClientForRequest, requireUser } from "../lib/auth.server";
import { contactsCsvHeader, contactsCsvRow, filterFromParams } from "../lib/contacts";
import { toAppError } from "../lib/convex-errors";

const PAGE = 1000;
export const MAX_EXPORT_ROWS = 200_000;

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
  const search = new URL(request.url).searchParams;
  const segmentId = search.get("segment") as Id<"contactSegments"> | null;
  const filter = filterFromParams(search);
  try {
    const fields = await client.query(api.contacts.fields, { tenantId });
    const keys = fields.map((f) => f.key);
    const rows: CsvCell[][] = [contactsCsvHeader(keys)];
    let cursor: string | null = null;
    for (;;) {
      const page: FunctionReturnType<typeof api.contacts.exportPage> = await client.query(
        api.contacts.exportPage,
        {
          tenantId,
          ...(segmentId ? { segmentId } : { filter }),
          paginationOpts: { numItems: PAGE, cursor },
        },
      );
      for (const row of page.page) rows.push(contactsCsvRow(row, keys));
      if (rows.length - 1 > MAX_EXPORT_ROWS) {
        return text(
          413,
          `More than ${MAX_EXPORT_ROWS.toLocaleString("en-US")} contacts match: export a segment at a time.`,
        );
      }
      if (page.isDone) break;
      cursor = page.continueCursor;
    }
    return new Response(CSV_BOM + toCsv(rows), {
      headers: {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": `attachment; filename="${slug}-contacts.csv"`,
        "cache-control": "private, no-store",
      },
    });
  } catch (error) {
    const { code, message } = toAppError(error);
    if (code === "FORBIDDEN") return text(403, message);
    if (code === "NOT_FOUND" || code === "UNAUTHENTICATED") return text(404, message);
    throw error;
  }
}
