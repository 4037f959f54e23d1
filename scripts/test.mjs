#!/usr/bin/env node
// Everything CI runs: system prerequisites, type check, lint, production build, then every test.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

function run(title, command, args, options = {}) {
  const started = Date.now();
  console.log(`\n▶ ${title}`);
  const result = spawnSync(command, args, { stdio: "inherit", ...options });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status !== 0) {
    console.error(`✖ ${title} failed after ${seconds}s`);
    process.exit(result.status ?? 1);
  }
  console.log(`✔ ${title} (${seconds}s)`);
}

function ensureChromium() {
  if (existsSync(CHROMIUM)) return;
  const isRoot = process.getuid?.() === 0;
  const hasApt = spawnSync("sh", ["-c", "command -v apt-get"]).status === 0;
  if (!isRoot || !hasApt) {
    console.error(
      `Browser tests need Debian's Chromium at ${CHROMIUM}. Install it with: sudo apt-get install -y chromium ` +
        "(or set CHROMIUM_PATH to an existing Chromium binary).",
    );
    process.exit(1);
  }
  run("Install Chromium from Debian (apt-get)", "sh", [
    "-c",
    "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null",
  ]);
}

/** Rate-limit tests run a real redis-server (Debian's package), installed here when missing. */
function ensureRedis() {
  const found = spawnSync("sh", ["-c", "command -v redis-server"]).status === 0;
  if (found || (process.env.REDIS_SERVER_PATH && existsSync(process.env.REDIS_SERVER_PATH))) return;
  const isRoot = process.getuid?.() === 0;
  const hasApt = spawnSync("sh", ["-c", "command -v apt-get"]).status === 0;
  if (!isRoot || !hasApt) {
    console.error(
      "Rate-limit tests need redis-server. Install it with: sudo apt-get install -y redis-server " +
        "(or set REDIS_SERVER_PATH to an existing redis-server binary).",
    );
    process.exit(1);
  }
  run("Install redis-server from Debian (apt-get)", "sh", [
    "-c",
    "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null",
  ]);
}

const only = process.argv[2];
ensureChromium();
ensureRedis();
if (!only) {
  run("Type check", "npx", ["tsc", "--noEmit"]);
  run("Lint (ESLint and Prettier)", "npm", ["run", "lint"]);
  run("Production build", "npx", ["remix", "vite:build"], {
    env: { ...process.env, NODE_ENV: "production" },
  });
}
run("Tests", "npx", ["vitest", "run", ...(only ? ["--project", only] : [])], {
  env: { ...process.env, CHROMIUM_PATH: CHROMIUM },
});
