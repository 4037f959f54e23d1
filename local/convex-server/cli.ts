/**
 * Command line for the local Convex server:
 *   convex:local -- --functions <dir> --port <n> --site-port <n> --data <dir> [--env-file <file>] [--watch [--codegen]] [--host <h>] [--print-admin-key]
 * Prints "convex-local ready http://127.0.0.1:<port> site http://127.0.0.1:<site-port>" once it accepts connections.
 * The admin key stays in <data>/admin-key (mode 0600); it is printed only with --print-admin-key.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { adminKeyFile, startLocalConvex } from "./server.js";

export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (!line || line.startsWith("#")) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) throw new Error(`Cannot parse env file line: ${rawLine}`);
    let value = match[2];
    if ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'"))) {
      const quote = value[0];
      value = value.slice(1, -1);
      if (quote === '"') value = value.replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
    } else {
      value = value.replace(/\s+#.*$/, "");
    }
    env[match[1]] = value;
  }
  return env;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      functions: { type: "string", default: "./convex" },
      port: { type: "string", default: "3210" },
      "site-port": { type: "string", default: "3211" },
      data: { type: "string", default: ".data/convex" },
      "env-file": { type: "string" },
      host: { type: "string", default: "127.0.0.1" },
      watch: { type: "boolean", default: false },
      codegen: { type: "boolean", default: false },
      "print-admin-key": { type: "boolean", default: false },
    },
    strict: true,
  });
  const env = values["env-file"] ? parseEnvFile(readFileSync(values["env-file"], "utf8")) : {};
  const server = await startLocalConvex({
    functionsDir: path.resolve(values.functions!),
    dataDir: path.resolve(values.data!),
    port: Number(values.port),
    sitePort: Number(values["site-port"]),
    host: values.host,
    env,
    watch: values.watch,
    codegen: values.codegen,
  });
  console.log(`convex-local ready ${server.url} site ${server.siteUrl}`);
  if (values["print-admin-key"]) {
    console.log(`convex-local admin key: ${server.adminKey}`);
  } else {
    console.log(`convex-local admin key is in ${adminKeyFile(path.resolve(values.data!))}`);
  }
  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    await server.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown());
  process.on("SIGTERM", () => void shutdown());
}

main().catch((error) => {
  console.error(`convex-local failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
