/**
 * Every function a client can call is built by a builder in convex/functions.ts, which resolves
 * who is calling and tags the function with its access rule. A public function made with the raw
 * `query`/`mutation`/`action` carries no tag, and this test names it.
 */
import { describe, expect, it } from "vitest";
import { ROLES } from "../../convex/model/tenancy";
import { convexModules, deployedFunctions, isRegistered, modulePath } from "./factories";

/** Modules that hold no Convex functions: configuration, builders, and plain model code. */
const SUPPORT_MODULES = [
  /^schema$/,
  /^crons$/,
  /^http$/,
  /^whatsappHttp$/,
  /^auth\.config$/,
  /^model\//,
  /^shared\//,
  /^providers\//,
  /^env$/,
  /^functions$/,
];
const isSupport = (module: string) => SUPPORT_MODULES.some((re) => re.test(module));

const functionModules = Object.fromEntries(
  Object.entries(convexModules).filter(([file]) => !isSupport(modulePath(file))),
);
const supportModules = Object.fromEntries(
  Object.entries(convexModules).filter(([file]) => isSupport(modulePath(file))),
);
const functions = deployedFunctions(functionModules);
const publicFunctions = functions.filter((f) => f.visibility === "public");

/** Functions anyone may call without signing in, each with why that is safe. Reviewed by hand. */
const PUBLIC_ALLOWLIST: Record<string, string> = {
  "system:status": "The version and the scheduler's heartbeat reveal nothing about tenants or users",
};

/** Background work that clients must never be able to call. */
const MUST_BE_INTERNAL = [
  "invitations:deliver",
  "invitations:attachToken",
  "invitations:recordDelivery",
  "invitations:forDelivery",
  "invitations:markUndeliverable",
  "system:heartbeat",
  "system:health",
  "billing:seedRates",
  "billing:continuePublishedRates",
  "billing:checkWalletInvariant",
];
/** Export names that say "background work"; any function so named must be internal. */
const INTERNAL_NAME =
  /^(deliver|attach|record|for[A-Z]|heartbeat|health|internal|cron|run[A-Z]|process[A-Z])/;

describe("every public function is built by a builder", () => {
  it("finds the app's functions (so the checks below are not vacuous)", () => {
    const names = functions.map((f) => f.name);
    for (const name of [
      "users:me",
      "tenants:create",
      "members:changeRole",
      "audit:listAll",
      "system:status",
    ]) {
      expect(names).toContain(name);
    }
    expect(publicFunctions.length).toBeGreaterThanOrEqual(20);
    expect(functions.filter((f) => f.visibility === "internal").length).toBeGreaterThanOrEqual(
      MUST_BE_INTERNAL.length,
    );
  });

  it("tags every public function with how it is guarded", () => {
    const untagged = publicFunctions.filter((f) => f.access === undefined).map((f) => f.name);
    expect(untagged, "public functions not made by a builder in convex/functions.ts").toEqual([]);
  });

  it("tags with a well-formed rule: known kinds, real roles, reasons for public ones", () => {
    for (const f of publicFunctions) {
      const access = f.access;
      if (!access) continue; // reported by the test above
      expect(["public", "identity", "authed", "tenant", "platformAdmin"], f.name).toContain(access.kind);
      if (access.kind === "tenant") expect(ROLES, f.name).toContain(access.role);
      if (access.kind === "public") expect(access.reason.length, f.name).toBeGreaterThan(10);
    }
  });

  it("allows sign-in-free access only to the reviewed allowlist", () => {
    const open = publicFunctions.filter((f) => f.access?.kind === "public");
    expect(
      Object.fromEntries(open.map((f) => [f.name, PUBLIC_ALLOWLIST[f.name] ?? "NOT ON THE ALLOWLIST"])),
    ).toEqual(PUBLIC_ALLOWLIST);
  });

  it("keeps background work internal", () => {
    const byName = new Map(functions.map((f) => [f.name, f]));
    for (const name of MUST_BE_INTERNAL) {
      expect(byName.get(name)?.visibility, name).toBe("internal");
    }
    const misnamed = publicFunctions.filter((f) => INTERNAL_NAME.test(f.name.split(":")[1] ?? ""));
    expect(
      misnamed.map((f) => f.name),
      "public functions named like background work",
    ).toEqual([]);
  });

  it("declares what every function returns, so no document field reaches a client by accident", () => {
    const undeclared = functions.filter((f) => f.returns === null).map((f) => f.name);
    expect(undeclared, "functions without a `returns` validator").toEqual([]);
  });

  it("returns views, not raw documents, from paginated queries", () => {
    const paginated = publicFunctions.filter(
      (f) => f.name.startsWith("audit:") || f.name === "deadLetters:list",
    );
    expect(paginated.length).toBeGreaterThanOrEqual(3);
    for (const f of paginated) {
      // The validator's JSON, read as a paginated result whose `page` is an array of objects.
      const returns = f.returns as {
        type: string;
        value: Record<string, { fieldType: { value: { type: string; value: Record<string, unknown> } } }>;
      };
      expect(returns.type, f.name).toBe("object");
      expect(Object.keys(returns.value), f.name).toEqual(
        expect.arrayContaining(["page", "isDone", "continueCursor"]),
      );
      const item = returns.value.page!.fieldType.value;
      expect(item.type, f.name).toBe("object");
      // A view names its id after what it is; a raw document would carry `_id` and `_creationTime`.
      expect(Object.keys(item.value), f.name).not.toContain("_id");
      expect(Object.keys(item.value), f.name).not.toContain("_creationTime");
    }
  });

  it("keeps Convex functions out of support modules (a model/ file is deployed like any other)", () => {
    const stray = Object.entries(supportModules).flatMap(([file, exports]) =>
      Object.entries(exports)
        .filter(([, value]) => isRegistered(value))
        .map(([name]) => `${modulePath(file)}:${name}`),
    );
    expect(stray).toEqual([]);
    // The skip list must not hide whole function modules: each skipped module was really loaded.
    expect(Object.keys(supportModules).map(modulePath)).toEqual(
      expect.arrayContaining(["schema", "crons", "http", "env", "functions", "model/tenancy"]),
    );
  });
});
