/**
 * Creates the demo workspace with one Cloud API and one WAHA channel pointing at the WhatsApp
 * simulator, owned by a local sign-in account, against a running `npm run dev`:
 *   npx tsx local/whatsapp-simulator/seed-demo.ts [--email you@example.com] [--name "You"]
 * (`npm run dev` already does this for demo@switchboard.local.) Reads the admin key and the
 * generated WhatsApp settings from .data/; the URLs default to the stack's ports and follow
 * APP_URL, CONVEX_LOCAL_PORT, CONVEX_LOCAL_SITE_PORT and WHATSAPP_SIMULATOR_PORT.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { localWhatsAppSettings } from "../stack";
import { demoIdentity, seedDemo } from "./demo";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main() {
  const env = process.env;
  const dataDir = path.resolve(arg("data") ?? path.join(ROOT, ".data"));
  const appUrl = (env.APP_URL || `http://127.0.0.1:${env.PORT ?? 3000}`).replace(/\/+$/, "");
  const convexUrl = `http://127.0.0.1:${env.CONVEX_LOCAL_PORT ?? 3210}`;
  const siteUrl = `http://127.0.0.1:${env.CONVEX_LOCAL_SITE_PORT ?? 3211}`;
  const simulatorUrl = `http://127.0.0.1:${env.WHATSAPP_SIMULATOR_PORT ?? 3220}`;
  const adminKey = readFileSync(path.join(dataDir, "convex", "admin-key"), "utf8").trim();
  const identity = await demoIdentity({
    authDataDir: env.AUTH_DATA_DIR || path.join(dataDir, "auth"),
    issuer: appUrl,
    email: arg("email"),
    name: arg("name"),
  });
  const seed = await seedDemo({
    convexUrl,
    adminKey,
    siteUrl,
    simulatorUrl,
    appSecret: env.WHATSAPP_APP_SECRET || localWhatsAppSettings(dataDir).WHATSAPP_APP_SECRET,
    identity,
  });
  console.log(
    [
      `Demo workspace ready: ${appUrl}/t/${seed.slug} (sign in as ${identity.email})`,
      `  Cloud API channel ${seed.cloudChannelId}, WAHA channel ${seed.wahaChannelId}`,
      `  Chat as a customer at ${simulatorUrl}/`,
    ].join("\n"),
  );
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
