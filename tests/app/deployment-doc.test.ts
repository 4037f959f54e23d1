/**
 * docs/deployment.md cannot drift from the code: every environment variable the code reads (the
 * web app, the Convex functions, the server's preload and the local stack) is a row of its one
 * table of variables, and every row names a variable the code reads, or one read by a tool the
 * doc explains (the Convex CLI).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "../..");
const DOC = readFileSync(path.join(ROOT, "docs/deployment.md"), "utf8");

/** Read by tools rather than by our code; the doc lists them so a deployment has them all. */
const READ_BY_TOOLS = new Set([
  "CONVEX_DEPLOY_KEY",
  "CONVEX_SELF_HOSTED_URL",
  "CONVEX_SELF_HOSTED_ADMIN_KEY",
]);
/**
 * Documented for the rate limits that share Upstash Redis; allowed to be absent from the code
 * until the rate limiter that reads them is in this tree (once it is, they are checked like any).
 */
const RATE_LIMIT_STORE = new Set(["UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN"]);
/** Fields of the parsed environment object that are derived, not read from the environment. */
const DERIVED = new Set(["AUTH_MODE", "LOCAL_SIGN_IN_HARDENED"]);

const WHERE = new Set(["web", "Convex", "both", "CLI", "local"]);

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === "_generated" || name === "node_modules") continue;
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) sourceFiles(file, out);
    else if (/\.(ts|tsx|mjs|js)$/.test(name)) out.push(file);
  }
  return out;
}

const NAME = "[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*";
const READS = [
  new RegExp(`process\\.env\\.(${NAME})\\b`, "g"),
  new RegExp(`process\\.env\\[["'\`](${NAME})["'\`]\\]`, "g"),
  // The validated env object (app/lib/env.server.ts) and the stack's merged env; not import.meta.env.
  new RegExp(`(?<!meta\\.)\\benv\\.(${NAME})\\b`, "g"),
  // convex/env.ts reads everything through optional("NAME").
  new RegExp(`\\boptional\\(["'](${NAME})["']\\)`, "g"),
];

/** Every variable name the code reads, with the files that read it. */
function variablesInCode(): Map<string, Set<string>> {
  const files = [
    ...sourceFiles(path.join(ROOT, "app")),
    ...sourceFiles(path.join(ROOT, "convex")),
    path.join(ROOT, "local/stack.ts"),
    path.join(ROOT, "instrument.server.mjs"),
    path.join(ROOT, "vite.config.ts"),
  ];
  const found = new Map<string, Set<string>>();
  const add = (name: string, file: string) => {
    if (DERIVED.has(name)) return;
    if (!found.has(name)) found.set(name, new Set());
    found.get(name)!.add(path.relative(ROOT, file));
  };
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    for (const re of READS) for (const m of text.matchAll(re)) add(m[1], file);
    // The keys of the web server's schema are the variables it validates at boot.
    if (file.endsWith(path.join("app", "lib", "env.server.ts"))) {
      const start = text.indexOf("z.object({");
      const body = text.slice(start, text.indexOf("\n});", start));
      for (const m of body.matchAll(/^ {2}([A-Z][A-Z0-9_]+):/gm)) add(m[1], file);
    }
    // The stack passes some variables on by name (pick(env, ["NAME", …]) and the like).
    if (file.endsWith(path.join("local", "stack.ts")))
      for (const m of text.matchAll(/["']([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)["']/g)) add(m[1], file);
  }
  return found;
}

type Row = { name: string; where: string; production: string; defaultValue: string; meaning: string };

/** The rows of the table under "## Environment variables". */
function documentedVariables(): Row[] {
  const start = DOC.indexOf("\n## Environment variables");
  expect(start, "docs/deployment.md has a section ## Environment variables").toBeGreaterThan(-1);
  const end = DOC.indexOf("\n## ", start + 1);
  const section = DOC.slice(start, end === -1 ? undefined : end);
  const rows: Row[] = [];
  for (const line of section.split("\n")) {
    const m = /^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|(.*)\|\s*$/.exec(line);
    if (!m) continue;
    const cells = m[2].split(/(?<!\\)\|/).map((c) => c.trim());
    rows.push({
      name: m[1],
      where: cells[0],
      production: cells[1],
      defaultValue: cells[2],
      meaning: cells[3],
    });
  }
  return rows;
}

describe("docs/deployment.md", () => {
  const code = variablesInCode();
  const rows = documentedVariables();
  const documented = new Set(rows.map((r) => r.name));

  it("finds the variables the code reads (the scan itself works)", () => {
    for (const name of ["CONVEX_URL", "METRICS_TOKEN", "CLERK_JWT_ISSUER_DOMAIN", "LOG_LEVEL", "SENTRY_DSN"])
      expect(code.has(name), name).toBe(true);
    expect(code.has("DEV"), "import.meta.env.DEV is Vite's, not a variable").toBe(false);
    expect(rows.length).toBeGreaterThan(30);
  });

  it("lists every variable the code reads", () => {
    const missing = [...code.keys()].filter((name) => !documented.has(name)).sort();
    expect(
      missing.map((name) => `${name} (read in ${[...code.get(name)!].join(", ")})`),
      "add a row to the table in docs/deployment.md#environment-variables",
    ).toEqual([]);
  });

  it("lists only variables the code (or the Convex CLI) reads", () => {
    const unknown = [...documented]
      .filter((name) => !code.has(name) && !READ_BY_TOOLS.has(name) && !RATE_LIMIT_STORE.has(name))
      .sort();
    expect(unknown, "rows for variables nothing reads").toEqual([]);
  });

  it("lists each variable once, saying where it is set, whether production needs it, its default and meaning", () => {
    const seen = new Set<string>();
    for (const row of rows) {
      expect(seen.has(row.name), `${row.name} is listed twice`).toBe(false);
      seen.add(row.name);
      expect(WHERE.has(row.where), `${row.name}: where is "${row.where}"`).toBe(true);
      expect(row.production, `${row.name}: production`).not.toBe("");
      expect(row.defaultValue, `${row.name}: default`).not.toBe("");
      expect(row.meaning.length, `${row.name}: meaning`).toBeGreaterThan(10);
    }
    for (const name of [...READ_BY_TOOLS, ...RATE_LIMIT_STORE]) expect(documented.has(name), name).toBe(true);
  });

  it("says which side reads each variable the code reads", () => {
    const byName = new Map(rows.map((r) => [r.name, r]));
    for (const [name, files] of code) {
      const where = byName.get(name)?.where;
      if (!where) continue;
      const inConvex = [...files].some((f) => f.startsWith("convex/"));
      const inWeb = [...files].some((f) => f.startsWith("app/") || f === "instrument.server.mjs");
      if (inConvex && name !== "CONVEX_SITE_URL")
        expect(["Convex", "both"], `${name} is read by Convex functions`).toContain(where);
      if (inWeb) expect(["web", "both"], `${name} is read by the web server`).toContain(where);
    }
  });
});
