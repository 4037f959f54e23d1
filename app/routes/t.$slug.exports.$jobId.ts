// /t/<slug>/exports/<jobId>: a finished data export, streamed from Convex file storage to a
// member of the workspace with the admin role. privacy:download checks who asks (and records the
// download); the file's storage address never reaches the browser.
import type { LoaderFunctionArgs } from "@remix-run/node";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { getConvexClientForRequest, requireUser } from "../lib/auth.server";
import { toAppError } from "../lib/convex-errors";

function text(status: number, message: string): Response {
  return new Response(message, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}

export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireUser(request);
  const client = await getConvexClientForRequest(request);
  const found = await client.query(api.tenants.bySlug, { slug: params.slug ?? "" });
  if (!found) return text(404, "There is no workspace at this address, or you are not a member of it.");
  let file: { url: string; fileName: string };
  try {
    file = await client.mutation(api.privacy.download, {
      tenantId: found.tenantId,
      jobId: (params.jobId ?? "") as Id<"privacyJobs">,
    });
  } catch (error) {
    const { code, message } = toAppError(error);
    if (code === "FORBIDDEN") return text(403, message);
    if (code === "CONFLICT") return text(409, message);
    if (code === "NOT_FOUND" || code === "UNAUTHENTICATED" || code === "INVALID") {
      return text(404, code === "INVALID" ? "No such export" : message);
    }
    // An address that is not an export's id at all.
    if (/validator/i.test(String(error))) return text(404, "No such export");
    throw error;
  }
  const upstream = await fetch(file.url);
  if (!upstream.ok || !upstream.body) return text(404, "This export has expired: make a new one");
  return new Response(upstream.body, {
    headers: {
      "content-type": "application/json; charset=utf-8",
      "content-disposition": `attachment; filename="${file.fileName}"`,
      "cache-control": "private, no-store",
      ...(upstream.headers.get("content-length")
        ? { "content-length": upstream.headers.get("content-length")! }
        : {}),
    },
  });
}
