/**
 * Runs the local OpenAI server on its own:
 *   tsx local/openai-server/cli.ts [--port 3230] [--host 127.0.0.1] [--models gpt-4o-mini,gpt-4o]
 *     [--keys local-key,other-key] [--quiet]
 * Defaults: OPENAI_LOCAL_PORT or 3230; OPENAI_MODELS or gpt-4o-mini,gpt-4.1-mini,gpt-4o; any
 * non-empty key unless --keys (or OPENAI_LOCAL_KEYS) lists the accepted ones.
 * Prints `openai-local ready <url>` once it listens (local/stack.ts waits for that line); point the
 * SDK at `<url>/v1`.
 */
import { readFileSync } from "node:fs";
import { DEFAULT_MODELS, startOpenAIServer } from "./server";

function parseArgs(argv: string[]): Record<string, string | true> {
  const args: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) throw new Error(`Unexpected argument ${arg}`);
    const [key, inline] = arg.slice(2).split("=", 2);
    if (inline !== undefined) args[key] = inline;
    else if (argv[i + 1] !== undefined && !argv[i + 1].startsWith("--")) args[key] = argv[++i];
    else args[key] = true;
  }
  return args;
}

const list = (value: string | undefined) =>
  (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    console.log(readFileSync(new URL(import.meta.url), "utf8").split("*/")[0]);
    return;
  }
  const known = new Set(["port", "host", "models", "keys", "quiet", "help"]);
  for (const key of Object.keys(args)) if (!known.has(key)) throw new Error(`Unknown option --${key}`);
  const str = (name: string) => (typeof args[name] === "string" ? (args[name] as string) : undefined);
  const port = Number(str("port") ?? process.env.OPENAI_LOCAL_PORT ?? 3230);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`Invalid --port ${str("port")}`);
  const models = list(str("models") ?? process.env.OPENAI_MODELS);
  const keys = list(str("keys") ?? process.env.OPENAI_LOCAL_KEYS);
  const server = await startOpenAIServer({
    port,
    host: str("host") ?? "127.0.0.1",
    models: models.length ? models : DEFAULT_MODELS,
    apiKeys: keys,
    log: args.quiet ? undefined : (line) => console.log(line),
  });
  console.log(`openai-local ready ${server.url}`);
  console.log(
    `  OPENAI_BASE_URL=${server.baseURL}   models ${server.models().join(", ")}   keys ${keys.length ? `${keys.length} accepted` : "any"}   control ${server.url}/_control/state`,
  );
  const stop = async () => {
    await server.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
