/**
 * Runs the WhatsApp simulator on its own:
 *   tsx local/whatsapp-simulator/cli.ts [--port 3220] [--host 127.0.0.1] [--config numbers.json]
 *     [--state .data/whatsapp-simulator.json] [--knobs '{"failShare":0.1}'] [--seed 42] [--quiet]
 * Prints `whatsapp-simulator ready <url>` once it listens (local/stack.ts waits for that line).
 */
import { readFileSync } from "node:fs";
import { startWhatsAppSimulator } from "./server";
import type { Knobs, SimConfig } from "./types";

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

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    console.log(readFileSync(new URL(import.meta.url), "utf8").split("*/")[0]);
    return;
  }
  const str = (name: string) => (typeof args[name] === "string" ? (args[name] as string) : undefined);
  const config = str("config")
    ? (JSON.parse(readFileSync(str("config")!, "utf8")) as Partial<SimConfig>)
    : undefined;
  const knobs = str("knobs") ? (JSON.parse(str("knobs")!) as Partial<Knobs>) : undefined;
  const sim = await startWhatsAppSimulator({
    port: Number(str("port") ?? process.env.WHATSAPP_SIMULATOR_PORT ?? 3220),
    host: str("host") ?? "127.0.0.1",
    config,
    knobs,
    seed: str("seed") ? Number(str("seed")) : undefined,
    stateFile: str("state"),
    log: args.quiet ? undefined : (line) => console.log(line),
  });
  console.log(`whatsapp-simulator ready ${sim.url}`);
  console.log(`  phone page ${sim.url}/   Graph API ${sim.graphUrl}   WAHA ${sim.url}/api`);
  const stop = async () => {
    await sim.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
