// /t/<slug>/campaigns/<id>/results.csv: every recipient of a campaign with their state and reason,
// as a UTF-8 CSV with a byte-order mark so spreadsheets read it right. Read state by state, page
// by page, as the signed-in user, so it shows exactly what they may see.
import type { LoaderFunctionArgs } from "@remix-run/node";
import type { FunctionReturnType } from "convex/server";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { CSV_BOM, toCsv, type CsvCell } from "../../convex/shared/csv";
import { getConvexClientForRequest, requireUser } from "../lib/auth.server";
import { RECIPIENT_STATES, RESULTS_CSV_HEADER, resultsCsvName } from "../lib/campaigns";
import { toAppError } from "../lib/convex-errors";

/** Recipients read per query (the most `campaigns:recipients` returns). */
const PAGE = 100;

const utc = (ms: number) => new Date(ms).toISOString().replace("T", " ").slice(0, 19);

function text(status: number, message: string): Response {
  return new Response(message, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}

export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireUser(request);
  const client = await getConvexClientForRequest(request);
  const found = await client.query(api.tenants.bySlug, { slug: params.slug ?? "" });
  if (!found) return text(404, "There is no workspace at this address, or you are not a member of it.");
  const tenantId = found.tenantId;
  const campaignId = (params.campaignId ?? "") as Id<"campaigns">;
  let campaign;
  try {
    campaign = await client.query(api.campaigns.get, { tenantId, campaignId });
  } catch (error) {
    const { code, message } = toAppError(error, "No such campaign");
    if (code === "FORBIDDEN") return text(403, message);
    return text(404, message);
  }
  const rows: CsvCell[][] = [RESULTS_CSV_HEADER];
  for (const { state, label } of RECIPIENT_STATES) {
    if (campaign.counts[state] === 0) continue;
    let cursor: string | null = null;
    for (;;) {
      const page: FunctionReturnType<typeof api.campaigns.recipients> = await client.query(
        api.campaigns.recipients,
        { tenantId, campaignId, state, paginationOpts: { numItems: PAGE, cursor } },
      );
      for (const r of page.page)
        rows.push([
          r.contactName,
          r.contactPhone,
          label,
          r.reason,
          utc(r.updatedAt),
          r.repliedAt !== null ? utc(r.repliedAt) : "",
        ]);
      if (page.isDone) break;
      cursor = page.continueCursor;
    }
  }
  return new Response(CSV_BOM + toCsv(rows), {
    headers: {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="${resultsCsvName(campaign.name)}"`,
      "cache-control": "private, no-store",
    },
  });
}
