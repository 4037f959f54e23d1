/**
 * Bundles a folder of Convex functions the way Convex does (esbuild, npm dependencies bundled
 * in, "convex" itself shared with the engine) and describes the result as the module map
 * convex-test loads from. Every build goes to a fresh directory, so reloading is a new import.
 */
import { build, type Plugin } from "esbuild";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

export type ModuleMap = Record<string, () => Promise<Record<string, unknown>>>;

export type FunctionsBuild = {
  /** Keys look like "./convex/<path>.js"; convex-test strips the extension. */
  modules: ModuleMap;
  /** Module paths without extension, e.g. "messages", "model/users". */
  modulePaths: string[];
  has(modulePath: string): boolean;
  load(modulePath: string): Promise<Record<string, unknown>>;
  outDir: string;
};

export class FunctionsLoadError extends Error {}

const ENTRY_PATTERN = /^[A-Za-z0-9_]+(\.config)?\.(ts|tsx|js|jsx|mjs|cjs)$/;
const KEY_PREFIX = "./convex/";

/** Lists the files Convex would treat as modules: letters, digits and _ only, no tests. */
export function discoverEntryPoints(functionsDir: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      if (name.startsWith(".") || name === "node_modules") continue;
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) {
        walk(full);
      } else if (ENTRY_PATTERN.test(name) && !name.endsWith(".d.ts")) {
        found.push(full);
      }
    }
  };
  walk(functionsDir);
  return found.sort();
}

/** Resolves "convex/<subpath>" to the ESM file the engine itself loads (the "import" condition). */
function resolveConvexEsm(specifier: string): string {
  const require = createRequire(import.meta.url);
  const pkgJson = require.resolve("convex/package.json");
  const pkg = JSON.parse(readFileSync(pkgJson, "utf8")) as { exports: Record<string, unknown> };
  const subpath = specifier === "convex" ? "." : `./${specifier.slice("convex/".length)}`;
  let target: unknown = pkg.exports[subpath];
  while (target && typeof target === "object") {
    const conditions = target as Record<string, unknown>;
    target = conditions.import ?? conditions.node ?? conditions.default;
  }
  if (typeof target !== "string") throw new Error(`Cannot resolve ${specifier} in the convex package`);
  return pathToFileURL(path.join(path.dirname(pkgJson), target)).href;
}

/** Keeps "convex/*" imports pointing at the one copy of the convex package the engine uses. */
function shareConvexPackage(): Plugin {
  return {
    name: "share-convex",
    setup(b) {
      b.onResolve({ filter: /^convex(\/.*)?$/ }, (args) => ({
        path: resolveConvexEsm(args.path),
        external: true,
      }));
    },
  };
}

export type Importer = (url: string) => Promise<Record<string, unknown>>;

let buildCounter = 0;

/**
 * `importer` must be Node's own dynamic import: test runners that transform modules (vitest)
 * would otherwise intercept the import and load a second copy of "convex".
 */
export async function bundleFunctions(
  functionsDir: string,
  buildRoot: string,
  importer: Importer,
): Promise<FunctionsBuild> {
  if (!existsSync(functionsDir) || !statSync(functionsDir).isDirectory()) {
    throw new FunctionsLoadError(`Functions folder not found: ${functionsDir}`);
  }
  const entryPoints = discoverEntryPoints(functionsDir);
  buildCounter += 1;
  const outDir = path.join(buildRoot, `${process.pid}-${Date.now()}-${buildCounter}`);
  mkdirSync(outDir, { recursive: true });
  try {
    await build({
      entryPoints,
      outbase: functionsDir,
      outdir: outDir,
      bundle: true,
      splitting: true,
      format: "esm",
      platform: "node",
      target: "node20",
      jsx: "automatic",
      sourcemap: "inline",
      outExtension: { ".js": ".mjs" },
      logLevel: "silent",
      // Bundled CommonJS dependencies may call require(); give ESM output one.
      banner: {
        js: "import { createRequire as __convexLocalCreateRequire } from 'node:module'; const require = __convexLocalCreateRequire(import.meta.url);",
      },
      plugins: [shareConvexPackage()],
      // Node builtins stay external on platform "node"; everything else is bundled, as Convex does.
    });
  } catch (error) {
    rmSync(outDir, { recursive: true, force: true });
    const errors = (
      error as { errors?: { text: string; location?: { file: string; line: number; column: number } }[] }
    ).errors;
    const detail = errors?.length
      ? errors
          .map((e) =>
            e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ${e.text}` : e.text,
          )
          .join("\n")
      : String(error);
    throw new FunctionsLoadError(`Could not bundle the functions in ${functionsDir}:\n${detail}`);
  }
  const modules: ModuleMap = {};
  const modulePaths: string[] = [];
  // convex-test asks for the module on every call; importing again goes through the loader
  // (and, under tsx, a message to its hooks thread) each time, so keep the promise.
  const loaded: Record<string, Promise<Record<string, unknown>>> = {};
  for (const entry of entryPoints) {
    const rel = path.relative(functionsDir, entry).split(path.sep).join("/");
    const withoutExt = rel.replace(/\.[^.]+$/, "");
    const outFile = path.join(outDir, `${withoutExt}.mjs`);
    const url = pathToFileURL(outFile).href;
    modules[`${KEY_PREFIX}${withoutExt}.js`] = () => (loaded[url] ??= importer(url));
    modulePaths.push(withoutExt);
  }
  // convex-test finds the functions root through the "_generated" folder; apps that were
  // never code-generated still get a root.
  if (!modulePaths.some((p) => p.startsWith("_generated/"))) {
    modules[`${KEY_PREFIX}_generated/server.js`] = async () => ({});
  }
  const known = new Set(modulePaths);
  return {
    modules,
    modulePaths,
    outDir,
    has: (p) => known.has(p),
    load: async (p) => {
      const loader = modules[`${KEY_PREFIX}${p}.js`];
      if (!loader) throw new Error(`Could not find module for: "${p}"`);
      return await loader();
    },
  };
}

/** Removes old build directories, keeping the newest `keep`. */
export function pruneBuilds(buildRoot: string, current: string, keep = 2): void {
  if (!existsSync(buildRoot)) return;
  const dirs = readdirSync(buildRoot)
    .map((name) => path.join(buildRoot, name))
    .filter((d) => d !== current)
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  for (const dir of dirs.slice(keep - 1)) rmSync(dir, { recursive: true, force: true });
}
