// /admin/audit/export?format=csv|json&…: the platform's audit log matching the filters, as a file,
// for platform admins (audit:listAll refuses everyone else).
import type { LoaderFunctionArgs } from "@remix-run/node";
import { api } from "../../convex/_generated/api";
import { auditExportResponse, auditFilterFromParams } from "../lib/audit-export.server";
import { getConvexClientForRequest, requireUser } from "../lib/auth.server";

export async function loader({ request }: LoaderFunctionArgs) {
  await requireUser(request);
  const client = await getConvexClientForRequest(request);
  const search = new URL(request.url).searchParams;
  return await auditExportResponse(
    client,
    api.audit.listAll,
    {},
    auditFilterFromParams(search),
    search.get("format") ?? "csv",
    "platform-audit-log",
  );
}
