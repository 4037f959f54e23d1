/**
 * The demo: one Cloud API number and one WAHA session in the simulator, and a demo workspace
 * whose two channels point at them. `configureDemoNumbers` sets up the simulator side (the stack
 * does it on every start); `seedDemo` creates the workspace and channels through the product's
 * own public functions, acting as a local sign-in account, and then tells the simulator where
 * the WAHA channel's webhooks go. Both are idempotent.
 */
import { ConvexHttpClient } from "convex/browser";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import type { SimConfig } from "./types";

/** The demo's simulated numbers. These are local test values, not secrets. */
export const DEMO = {
  cloud: {
    phoneNumberId: "100000000000001",
    wabaId: "200000000000001",
    displayNumber: "15550100001",
    accessToken: "sim-demo-cloud-access-token",
    verifiedName: "Switchboard Demo",
  },
  waha: {
    session: "demo",
    apiKey: "sim-demo-waha-api-key",
    hmacKey: "sim-demo-waha-hmac-key",
    number: "34910000001",
    pushName: "Switchboard Demo (WAHA)",
  },
  workspace: { name: "Demo", currency: "EUR", timeZone: "Europe/Madrid", defaultCountry: "ES" },
  email: "demo@switchboard.local",
} as const;

const DEMO_TEMPLATES: NonNullable<SimConfig["templates"]> = [
  {
    id: "300000000000001",
    wabaId: DEMO.cloud.wabaId,
    name: "order_update",
    language: "en_US",
    category: "UTILITY",
    status: "APPROVED",
    components: [{ type: "BODY", text: "Hi {{1}}, your order {{2}} is on its way." }],
  },
  {
    id: "300000000000002",
    wabaId: DEMO.cloud.wabaId,
    name: "spring_sale",
    language: "es_ES",
    category: "MARKETING",
    status: "APPROVED",
    parameter_format: "NAMED",
    components: [
      { type: "BODY", text: "Hola {{first_name}}, esta semana tienes un {{discount}} de descuento." },
      { type: "FOOTER", text: "Responde STOP para no recibir más" },
    ],
  },
];

/** What the demo shop's assistant answers from (the offline answerer picks the best entry). */
export const DEMO_KNOWLEDGE = [
  {
    title: "Opening hours",
    body: "Our shop in Madrid is open Monday to Saturday from 10:00 to 20:00, and closed on Sundays and public holidays.",
    tags: ["hours", "schedule", "open", "horario"],
  },
  {
    title: "Shipping and delivery",
    body: "We ship across Spain and Portugal. Shipping costs 4.95 € and is free for orders over 50 €; delivery takes 2–3 working days.",
    tags: ["shipping", "delivery", "envío", "entrega"],
  },
  {
    title: "Returns and refunds",
    body: "You can return unworn shoes within 30 days for a full refund. Start a return at demo.switchboard.local/returns and we send a courier.",
    tags: ["returns", "refund", "devolución"],
  },
  {
    title: "Sizes",
    body: "Our shoes come in EU sizes 35 to 47. If you are between sizes, take the larger one: our lasts run slightly small.",
    tags: ["size", "sizes", "talla", "fit"],
  },
  {
    title: "Payment methods",
    body: "We accept Visa, Mastercard, PayPal and Bizum. You pay when you order; we never ask for card details on WhatsApp.",
    tags: ["payment", "pay", "card", "pago"],
  },
  {
    title: "Shop address",
    body: "Find us at Calle de Fuencarral 45, 28004 Madrid, five minutes from the Tribunal metro station.",
    tags: ["address", "location", "where", "dirección"],
  },
] as const;

async function postConfig(simulatorUrl: string, config: Partial<SimConfig>): Promise<void> {
  const res = await fetch(`${simulatorUrl}/_sim/config`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(config),
  });
  if (!res.ok) throw new Error(`The simulator refused the demo config: ${res.status} ${await res.text()}`);
}

/**
 * The demo numbers in the simulator: Cloud webhooks to `<site>/whatsapp/cloud` signed with the
 * deployment's app secret. The WAHA session keeps the webhook URL seedDemo gave it, if any.
 */
export async function configureDemoNumbers(options: {
  simulatorUrl: string;
  siteUrl: string;
  appSecret: string;
}): Promise<void> {
  await postConfig(options.simulatorUrl, {
    cloud: [{ ...DEMO.cloud, appSecret: options.appSecret, webhookUrl: `${options.siteUrl}/whatsapp/cloud` }],
    waha: [{ ...DEMO.waha }],
    templates: DEMO_TEMPLATES,
  });
}

export type DemoIdentity = { issuer: string; subject: string; email: string; name: string };

export type DemoSeed = {
  tenantId: Id<"tenants">;
  slug: string;
  cloudChannelId: Id<"channels">;
  wahaChannelId: Id<"channels">;
};

/** Creates (or finds) the demo workspace and its two channels, acting as `identity`. */
export async function seedDemo(options: {
  convexUrl: string;
  adminKey: string;
  siteUrl: string;
  simulatorUrl: string;
  appSecret: string;
  identity: DemoIdentity;
}): Promise<DemoSeed> {
  const { identity, simulatorUrl } = options;
  const client = new ConvexHttpClient(options.convexUrl);
  (client as unknown as { setAdminAuth(key: string, identity: object): void }).setAdminAuth(
    options.adminKey,
    {
      ...identity,
      tokenIdentifier: `${identity.issuer}|${identity.subject}`,
      // As the app's tokens say for this passwordless local account.
      emailVerified: false,
    },
  );
  await client.mutation(api.users.ensure, {});
  const me = await client.query(api.users.me, {});
  let tenant = me?.tenants.find((t) => t.name === DEMO.workspace.name && t.role === "owner");
  if (!tenant) {
    const created = await client.mutation(api.tenants.create, { ...DEMO.workspace });
    tenant = { tenantId: created.tenantId, slug: created.slug, name: DEMO.workspace.name, role: "owner" };
  }
  const tenantId = tenant.tenantId;
  // The simulator must know the numbers first: connecting a channel asks the provider.
  await configureDemoNumbers(options);
  const channels = await client.query(api.channels.list, { tenantId });
  const cloud =
    channels.find((c) => c.kind === "cloud" && c.phoneNumberId === DEMO.cloud.phoneNumberId)?.channelId ??
    (await client.action(api.channels.create, {
      tenantId,
      channel: {
        kind: "cloud",
        name: "Demo Cloud API number",
        phoneNumberId: DEMO.cloud.phoneNumberId,
        wabaId: DEMO.cloud.wabaId,
        displayNumber: `+${DEMO.cloud.displayNumber}`,
        accessToken: DEMO.cloud.accessToken,
      },
    }));
  const wahaBase = simulatorUrl.replace(/\/+$/, "");
  const waha =
    channels.find((c) => c.kind === "waha" && c.session === DEMO.waha.session && c.baseUrl === wahaBase)
      ?.channelId ??
    (await client.action(api.channels.create, {
      tenantId,
      channel: {
        kind: "waha",
        name: "Demo WAHA session",
        baseUrl: wahaBase,
        session: DEMO.waha.session,
        apiKey: DEMO.waha.apiKey,
        webhookHmacKey: DEMO.waha.hmacKey,
      },
    }));
  await postConfig(simulatorUrl, {
    waha: [{ ...DEMO.waha, webhookUrl: `${options.siteUrl}/whatsapp/waha/${waha}` }],
  });
  // The assistant's knowledge base, written once (the shop's own edits are kept afterwards).
  const knowledge = await client.query(api.assistant.knowledge, {
    tenantId,
    paginationOpts: { numItems: 1, cursor: null },
  });
  if (knowledge.page.length === 0) {
    for (const entry of DEMO_KNOWLEDGE) {
      await client.mutation(api.assistant.saveEntry, { tenantId, ...entry, tags: [...entry.tags] });
    }
    // The shop's hours, so a handoff out of hours says when the team is back.
    await client.mutation(api.assistant.updateSettings, {
      tenantId,
      changes: { businessHours: "Mon–Sat 10:00–20:00; Sun closed" },
    });
  }
  return { tenantId, slug: tenant.slug, cloudChannelId: cloud, wahaChannelId: waha };
}

/**
 * The local sign-in account the demo belongs to (created without a password when missing), as
 * the identity the app's tokens carry: issuer = the app's URL, subject = the account id.
 */
export async function demoIdentity(options: {
  authDataDir: string;
  issuer: string;
  email?: string;
  name?: string;
}): Promise<DemoIdentity> {
  const { AccountStore } = await import("../../app/lib/local-auth/accounts.server");
  const store = new AccountStore(options.authDataDir);
  const email = options.email ?? DEMO.email;
  let account = await store.findByEmail(email);
  if (!account) {
    const result = await store.signIn({ email, name: options.name ?? "Demo Owner" });
    if (!result.ok) throw new Error(result.message);
    account = result.account;
  }
  return { issuer: options.issuer, subject: account.id, email: account.email, name: account.name };
}
