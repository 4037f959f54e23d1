// What people are told when a Convex call fails: the backend's own words for ConvexErrors (with
// the field they belong to), never stack text or request ids for anything else.
import { ConvexError } from "convex/values";
import { describe, expect, it } from "vitest";
import {
  GENERIC_ERROR_MESSAGE,
  hasErrorCode,
  orThrow,
  toAppError,
  toFormErrors,
} from "../../app/lib/convex-errors";

const invalidName = new ConvexError({
  code: "INVALID",
  message: "Name must be 2 to 80 characters",
  field: "name",
});
const lastOwner = new ConvexError({ code: "LAST_OWNER", message: "You are the last owner" });

describe("toAppError", () => {
  it("keeps the code, message and field of the backend's errors", () => {
    expect(toAppError(invalidName)).toEqual({
      code: "INVALID",
      message: "Name must be 2 to 80 characters",
      field: "name",
    });
    expect(toAppError(lastOwner)).toEqual({ code: "LAST_OWNER", message: "You are the last owner" });
  });

  it("keeps the inbox's refusals: outside the 24-hour window, opted out", () => {
    const outside = new ConvexError({ code: "OUTSIDE_WINDOW", message: "The window closed" });
    const optedOut = new ConvexError({ code: "OPTED_OUT", message: "This contact opted out" });
    expect(toAppError(outside)).toEqual({ code: "OUTSIDE_WINDOW", message: "The window closed" });
    expect(toAppError(optedOut)).toEqual({ code: "OPTED_OUT", message: "This contact opted out" });
  });

  it("recognises a ConvexError by its shape (as the client rebuilds it), not only by class", () => {
    const rebuilt = Object.assign(new Error("x"), {
      name: "ConvexError",
      data: { code: "EXPIRED", message: "Gone" },
    });
    expect(toAppError(rebuilt)).toEqual({ code: "EXPIRED", message: "Gone" });
  });

  it("shows a string ConvexError as it is", () => {
    expect(toAppError(new ConvexError("Slow down"))).toEqual({ code: "UNKNOWN", message: "Slow down" });
  });

  it("hides server errors, unknown codes and non-errors behind a neutral message", () => {
    const serverError = new Error(
      "[CONVEX M(tenants:create)] [Request ID: abc] Server Error\nUncaught Error: boom",
    );
    expect(toAppError(serverError)).toEqual({ code: "UNKNOWN", message: GENERIC_ERROR_MESSAGE });
    expect(toAppError(new ConvexError({ code: "TEAPOT", message: "I am a teapot" })).code).toBe("UNKNOWN");
    expect(toAppError(null, "Could not save")).toEqual({ code: "UNKNOWN", message: "Could not save" });
    expect(toAppError("oops").message).toBe(GENERIC_ERROR_MESSAGE);
  });
});

describe("hasErrorCode", () => {
  it("matches only the code the backend sent", () => {
    expect(hasErrorCode(lastOwner, "LAST_OWNER")).toBe(true);
    expect(hasErrorCode(lastOwner, "FORBIDDEN")).toBe(false);
    expect(hasErrorCode(new Error("LAST_OWNER"), "LAST_OWNER")).toBe(false);
  });
});

describe("toFormErrors", () => {
  it("puts a message under the field it names", () => {
    expect(toFormErrors(invalidName, ["name", "currency"])).toEqual({
      fields: { name: "Name must be 2 to 80 characters" },
      form: null,
    });
  });

  it("puts it on the form when the form has no such field, or none is named", () => {
    expect(toFormErrors(invalidName, ["email"])).toEqual({
      fields: {},
      form: "Name must be 2 to 80 characters",
    });
    expect(toFormErrors(lastOwner, ["email"])).toEqual({ fields: {}, form: "You are the last owner" });
    expect(toFormErrors(new Error("boom"), ["email"]).form).toBe(GENERIC_ERROR_MESSAGE);
  });
});

describe("orThrow", () => {
  it("passes a success through and turns a returned refusal into the error the page shows", () => {
    expect(orThrow({ ok: true as const, slug: "acme" })).toEqual({ ok: true, slug: "acme" });
    const refusal = {
      ok: false as const,
      code: "RATE_LIMITED" as const,
      message: "Too many invitation links that did not work. Try again in 6 minutes.",
      retryAfterMs: 360_000,
    };
    let thrown: unknown;
    try {
      orThrow(refusal);
    } catch (error) {
      thrown = error;
    }
    expect(toAppError(thrown)).toEqual({ code: "RATE_LIMITED", message: refusal.message });
  });
});
