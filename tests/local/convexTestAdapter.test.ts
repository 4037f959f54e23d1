/** The convex-test adapter: the pinned version is enforced and every patch applies exactly once. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
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
});
