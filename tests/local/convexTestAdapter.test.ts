/** The convex-test adapter: the pinned version is enforced and every patch applies exactly once. */
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { v } from "convex/values";
import { describe, expect, it } from "vitest";
import "../../local/convex-server/frames";
import {
  applyPatches,
  assertConvexTestVersion,
  CONVEX_TEST_VERSION,
  preparePatchedConvexTest,
} from "../../local/convex-server/convexTestAdapter";

describe("convex-test adapter", () => {
  it("refuses any convex-test version but the pinned one, saying which and what to do", () => {
    expect(CONVEX_TEST_VERSION).toBe("0.0.60");
    expect(() => assertConvexTestVersion("0.0.60")).not.toThrow();
    for (const other of ["0.0.61", "0.0.59", "1.0.0"]) {
      expect(() => assertConvexTestVersion(other)).toThrow(
        new RegExp(
          `needs convex-test 0\\.0\\.60 exactly \\(found ${other.replace(/\./g, "\\.")}\\).*convexTestAdapter\\.ts`,
        ),
      );
    }
  });

  it("applies every patch to the installed convex-test and fails loudly on one that does not match", () => {
    const file = preparePatchedConvexTest();
    const source = readFileSync(file, "utf8");
    expect(source).toContain("const engineHooks = {");
    expect(source).toContain("export { engineHooks, executionContextStorage, convexGlobalStorage");
    expect(source).toMatch(/from "file:\/\/.*convex-test-metrics-[0-9a-f]+\.js"/);
    expect(() =>
      applyPatches("nothing to patch here", [{ name: "gone", find: /absent/, replace: "" }], "index.js"),
    ).toThrow('convex-test 0.0.60: patch "gone" of index.js matched 0 times (expected 1)');
    expect(() =>
      applyPatches("twice twice", [{ name: "twice", find: /twice/, replace: "" }], "index.js"),
    ).toThrow('patch "twice" of index.js matched 2 times');
    // A patch meant for several places says how many, keeps its flags and may use groups.
    const many = { name: "many", find: /^(a|b)=1$/m, replace: "$1=2", times: 2 };
    expect(applyPatches("a=1\nb=1", [many], "index.js")).toBe("a=2\nb=2");
    expect(() => applyPatches("a=1", [many], "index.js")).toThrow(
      'patch "many" of index.js matched 1 times (expected 2)',
    );
    // Stored documents' sizes and texts are kept per object; the engine's stores share one frame.
    expect(source).not.toMatch(/(trackRead\(|bytesRead \+= )getDocumentSize/);
    expect(source).not.toContain('from "node:async_hooks"');
  });

  it("validates without throwing for values that pass, and with convex-test's own errors for those that fail", async () => {
    type Check = (validator: unknown, value: unknown) => unknown;
    const mod = (await import(pathToFileURL(preparePatchedConvexTest()).href)) as {
      matchesValidator: Check;
      validateValidator: Check;
    };
    const event = v.union(
      v.object({ kind: v.literal("message"), text: v.string(), media: v.optional(v.array(v.bytes())) }),
      v.object({
        kind: v.literal("status"),
        status: v.union(v.literal("sent"), v.literal("delivered"), v.literal("read")),
        errors: v.optional(v.array(v.object({ code: v.number(), title: v.optional(v.string()) }))),
        big: v.optional(v.literal(3n)),
      }),
      v.object({ kind: v.literal("other"), owner: v.id("owners"), data: v.any(), gone: v.null() }),
      v.object({ kind: v.literal("counts"), counts: v.record(v.string(), v.number()), flag: v.boolean() }),
    );
    // What a function's exported validators and a schema hold: the validator's JSON form.
    const json = (validator: unknown) => (validator as { json: unknown }).json;
    const cases: { value: unknown; ok: boolean; error?: RegExp }[] = [
      { value: { kind: "message", text: "hi" }, ok: true },
      { value: { kind: "message", text: "hi", media: [new ArrayBuffer(2)] }, ok: true },
      { value: { kind: "status", status: "read", errors: [{ code: 131049 }], big: 3n }, ok: true },
      { value: { kind: "other", owner: "12owners", data: { anything: [1n] }, gone: null }, ok: true },
      { value: { kind: "counts", counts: { a: 1 }, flag: false }, ok: true },
      { value: { kind: "status", status: "failed" }, ok: false, error: /Expected one of object, object/ },
      { value: { kind: "status", status: "sent", big: 3 }, ok: false },
      { value: { kind: "status", status: "sent", errors: [{ code: "x" }] }, ok: false },
      { value: { kind: "message" }, ok: false },
      { value: { kind: "message", text: "hi", extra: 1 }, ok: false },
      { value: { kind: "message", text: "hi", media: ["not bytes"] }, ok: false },
      { value: { kind: "other", owner: "12users", data: 1, gone: null }, ok: false },
      { value: { kind: "other", owner: "12owners", data: 1, gone: undefined }, ok: false },
      { value: null, ok: false },
      { value: [], ok: false },
      { value: new Map(), ok: false, error: /Map\[\] is not a supported Convex type/ },
    ];
    for (const { value, ok, error } of cases) {
      expect(
        mod.matchesValidator(json(event), value),
        JSON.stringify(value, (_, x) => String(x)),
      ).toBe(ok);
      const run = () => mod.validateValidator(json(event), value);
      if (ok) expect(run).not.toThrow();
      else
        expect(run).toThrow(error ?? /Validator error: Expected one of object, object, object, object, got/);
    }
    // At the top level the errors are the walk's own, word for word.
    expect(() => mod.validateValidator(json(v.object({ a: v.string() })), { a: 1 })).toThrow(
      "Validator error: Expected `string`, got `1`",
    );
    expect(() => mod.validateValidator(json(v.object({ a: v.string() })), {})).toThrow(
      "Validator error: Missing required field `a` in object",
    );
    expect(() => mod.validateValidator(json(v.object({})), { b: 1 })).toThrow(
      "Validator error: Unexpected field `b` in object",
    );
    expect(() => mod.validateValidator(json(v.id("owners")), "3users")).toThrow(
      'Validator error: Expected ID for table "owners", got `3users`',
    );
  });
});
