// The audit log as a file (CSV or JSON) for compliance: read page by page through the same
// queries as the pages, as the signed-in person, so the queries' access rules apply (workspace
// admins get their workspace's log, platform admins the platform's).
import type { ConvexHttpClient } from "convex/browser";
import type { FunctionReference } from "convex/server";
import type { Id } from "../../convex/_generated/dataModel";
import type { AuditEventView } from "../../convex/model/audit";
import { CSV_BOM, toCsv, type CsvCell } from "../../convex/shared/csv";
import { toAppError } from "./convex-errors";

const PAGE = 500;
export const MAX_AUDIT_EXPORT_ROWS = 100_000;

export type AuditExportFilter = {
  action?: string;
  actorId?: Id<"users">;
  from?: number;
  to?: number;
  targetType?: string;
  targetId?: string;
};

/** A date (YYYY-MM-DD, UTC) or a time in ms from the URL; undefined when absent or unreadable. */
function timeParam(value: string | null, endOfDay: boolean): number | undefined {
  if (!value) return undefined;
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const start = Date.parse(`${value}T00:00:00Z`);
    return Number.isNaN(start) ? undefined : endOfDay ? start + 86_400_000 : start;
  }
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/** `?action=&actor=&from=YYYY-MM-DD&to=YYYY-MM-DD&targetType=&targetId=` as query arguments. */
export function auditFilterFromParams(params: URLSearchParams): AuditExportFilter {
  const opt = (key: string) => params.get(key)?.trim() || undefined;
  return {
    action: opt("action"),
    actorId: opt("actor") as Id<"users"> | undefined,
    from: timeParam(params.get("from"), false),
    // "to" names the last day included.
    to: timeParam(params.get("to"), true),
    targetType: opt("targetType"),
    targetId: opt("targetType") ? opt("targetId") : undefined,
  };
}

function text(status: number, message: string): Response {
  return new Response(message, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}

type Page = { page: AuditEventView[]; isDone: boolean; continueCursor: string };

export const AUDIT_CSV_HEADER = [
  "at",
  "workspace",
  "actor",
  "action",
  "target_type",
  "target_id",
  "summary",
  "before",
  "after",
] as const;

export function auditCsvRow(e: AuditEventView): CsvCell[] {
  return [
    new Date(e.at).toISOString(),
    e.tenantName ?? (e.tenantId ? e.tenantId : "platform"),
    e.actorEmail,
    e.action,
    e.targetType,
    e.targetId ?? "",
    e.summary,
    e.before ? JSON.stringify(e.before) : "",
    e.after ? JSON.stringify(e.after) : "",
  ];
}

/** Reads every matching event (newest first) and answers with the file. */
export async function auditExportResponse(
  client: ConvexHttpClient,
  query: FunctionReference<"query">,
  args: Record<string, unknown>,
  filter: AuditExportFilter,
  format: string,
  fileStem: string,
): Promise<Response> {
  if (format !== "csv" && format !== "json") return text(400, "Ask for format=csv or format=json.");
  const events: AuditEventView[] = [];
  try {
    let cursor: string | null = null;
    for (;;) {
      const result: Page = await client.query(query, {
        ...args,
        ...filter,
        paginationOpts: { numItems: PAGE, cursor },
      });
      events.push(...result.page);
      if (events.length > MAX_AUDIT_EXPORT_ROWS) {
        return text(
          413,
          `More than ${MAX_AUDIT_EXPORT_ROWS.toLocaleString("en-US")} events match: narrow the date range.`,
        );
      }
      if (result.isDone) break;
      cursor = result.continueCursor;
    }
  } catch (error) {
    const { code, message } = toAppError(error);
    if (code === "FORBIDDEN") return text(403, message);
    if (code === "NOT_FOUND" || code === "UNAUTHENTICATED") return text(404, message);
    if (code === "INVALID") return text(400, message);
    throw error;
  }
  const headers = {
    "cache-control": "private, no-store",
    "content-disposition": `attachment; filename="${fileStem}.${format}"`,
  };
  if (format === "json") {
    const body = JSON.stringify(
      {
        format: "switchboard.audit/1",
        exportedAt: new Date().toISOString(),
        filter,
        events: events.map((e) => ({ ...e, at: new Date(e.at).toISOString() })),
      },
      null,
      2,
    );
    return new Response(body, { headers: { ...headers, "content-type": "application/json; charset=utf-8" } });
  }
  return new Response(CSV_BOM + toCsv([[...AUDIT_CSV_HEADER], ...events.map(auditCsvRow)]), {
    headers: { ...headers, "content-type": "text/csv; charset=utf-8" },
  });
}
