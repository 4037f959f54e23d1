import { ConvexError } from "convex/values";

/** Codes a client can branch on; messages are for people and never reveal other tenants' data. */
export type ErrorCode =
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "INVALID"
  | "CONFLICT"
  | "LAST_OWNER"
  | "EXPIRED"
  | "EMAIL_NOT_VERIFIED"
  | "OUTSIDE_WINDOW"
  | "OPTED_OUT"
  /** A kill switch is on: nothing is sent until it is turned off (model/sending.ts). */
  | "SENDING_PAUSED"
  /** Too many calls in a short time; the message says when to try again (model/rateLimits.ts). */
  | "RATE_LIMITED";

export type AppErrorData = { code: ErrorCode; message: string; field?: string };

export function fail(code: ErrorCode, message: string, field?: string): never {
  throw new ConvexError<AppErrorData>(field ? { code, message, field } : { code, message });
}
