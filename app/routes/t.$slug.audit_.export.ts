// /t/<slug>/audit/export?format=csv|json&action=&actor=&from=&to=&targetType=&targetId=: the
// workspace's audit log matching the filters, as a file. Read as the signed-in person, so only the
// workspace's admins get it (audit:listForTenant demands admin).
import type { LoaderFunctionArgs } from "@remix-run/node";
import { api } from "../../convex/_generated/api";
import { auditExportResponse, auditFilterFromParams } from "../lib/audit-export.server";
import { getConvexClientForRequest, requireUser } from "../lib/auth.server";

export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireUser(request);
  const client = await getConvexClientForRequest(request);
  const slug = params.slug ?? "";
  const found = await client.query(api.tenants.bySlug, { slug });
  if (!found) {
    return new Response("There is no workspace at this address, or you are not a member of it.", {
      status: 404,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  }
  const search = new URL(request.url).searchParams;
  return await auditExportResponse(
    client,
    api.audit.listForTenant,
    { tenantId: found.tenantId },
    auditFilterFromParams(search),
    search.get("format") ?? "csv",
    `${slug}-audit-log`,
  );
}
