// Turns what a Convex call threw into words for people: the `{ code, message, field }` that
// convex/model/errors.ts puts in a ConvexError, or a neutral sentence for anything else (bugs and
// network failures carry request ids and stack text nobody should read in a form).
import { captureException } from "@sentry/remix";
import { ConvexError } from "convex/values";
import type { AppErrorData, ErrorCode } from "../../convex/model/errors";

export type AppError = { code: ErrorCode | "UNKNOWN"; message: string; field?: string };

export const GENERIC_ERROR_MESSAGE = "Something went wrong. Please try again.";

// Every code the backend sends (a Record, so a new code cannot be forgotten here).
const KNOWN_CODES: Record<ErrorCode, true> = {
  UNAUTHENTICATED: true,
  FORBIDDEN: true,
  NOT_FOUND: true,
  INVALID: true,
  CONFLICT: true,
  LAST_OWNER: true,
  EXPIRED: true,
  EMAIL_NOT_VERIFIED: true,
  OUTSIDE_WINDOW: true,
  OPTED_OUT: true,
  SENDING_PAUSED: true,
  RATE_LIMITED: true,
};
const CODES: ReadonlySet<string> = new Set(Object.keys(KNOWN_CODES));

/** The ConvexError's data when `error` is one (checked by shape, so it also works across bundles). */
function convexErrorData(error: unknown): unknown {
  if (typeof error !== "object" || error === null) return undefined;
  const candidate = error as { name?: unknown; data?: unknown };
  return candidate.name === "ConvexError" ? candidate.data : undefined;
}

function isAppErrorData(data: unknown): data is AppErrorData {
  if (typeof data !== "object" || data === null) return false;
  const { code, message, field } = data as Record<string, unknown>;
  return (
    typeof code === "string" &&
    CODES.has(code) &&
    typeof message === "string" &&
    (field === undefined || typeof field === "string")
  );
}

/**
 * What to tell the user about `error`. An error that is not a ConvexError (a bug in a Convex
 * function, a server error, a failure in the page's own code) is also reported to Sentry from
 * the browser, since nobody would hear of it otherwise: the person only sees the neutral sentence.
 */
export function toAppError(error: unknown, fallback = GENERIC_ERROR_MESSAGE): AppError {
  const data = convexErrorData(error);
  if (isAppErrorData(data)) {
    return data.field ? { code: data.code, message: data.message, field: data.field } : data;
  }
  if (typeof data === "string" && data.trim()) return { code: "UNKNOWN", message: data };
  if (data === undefined) reportUnexpected(error);
  return { code: "UNKNOWN", message: fallback };
}

const reported = new WeakSet<object>();

/** Reports an unexpected error once (a form may read the same error twice), in the browser only. */
function reportUnexpected(error: unknown) {
  if (typeof window === "undefined") return;
  if (typeof error === "object" && error !== null) {
    if (reported.has(error)) return;
    reported.add(error);
  }
  captureException(error, { tags: { source: "convex-call" } });
}

/** True when `error` is a ConvexError with this code. */
export function hasErrorCode(error: unknown, code: ErrorCode): boolean {
  const data = convexErrorData(error);
  return isAppErrorData(data) && data.code === code;
}

export type FormErrors<F extends string = string> = {
  /** Messages for the fields they belong to (from the error's `field`). */
  fields: Partial<Record<F, string>>;
  /** A message for the whole form, when the error names no field this form has. */
  form: string | null;
};

export const NO_FORM_ERRORS: FormErrors<never> = { fields: {}, form: null };

/**
 * Splits an error between a form's fields and the form itself. A `field` the form does not have
 * (listed in `fields`) becomes the form's message, so nothing is ever hidden.
 */
export function toFormErrors<F extends string>(error: unknown, fields: readonly F[]): FormErrors<F> {
  const { message, field } = toAppError(error);
  if (field && (fields as readonly string[]).includes(field)) {
    return { fields: { [field]: message } as Partial<Record<F, string>>, form: null };
  }
  return { fields: {}, form: message };
}

/**
 * The result of a Convex function that returns its refusal instead of throwing it (so that what
 * it counted is kept, e.g. invitation links that did not work): the success, or the refusal
 * thrown as the ConvexError it stands for, for the page's usual error handling.
 */
export function orThrow<R extends { ok: true } | { ok: false; code: ErrorCode; message: string }>(
  result: R,
): Extract<R, { ok: true }> {
  if (result.ok) return result as Extract<R, { ok: true }>;
  const { code, message } = result as Extract<R, { ok: false }>;
  throw new ConvexError<AppErrorData>({ code, message });
}
