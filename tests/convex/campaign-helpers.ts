/**
 * A campaign world for the dispatcher tests: a workspace with a Cloud number, an owner, an
 * approved template and tagged contacts (only Meta's end is faked), the clock those tests run on,
 * and shortcuts to launch campaigns, post status webhooks and read recipients back.
 */
import type { FunctionArgs } from "convex/server";
import { afterEach, beforeEach, expect, vi } from "vitest";
import { api } from "../../convex/_generated/api";
import type { Doc, Id } from "../../convex/_generated/dataModel";
import type { MutationCtx } from "../../convex/_generated/server";
import { setup, type T } from "./factories";
import { fakeProviders, type FakeProviders } from "./fake-providers";
import {
  DISPLAY_NUMBER,
  PHONE_NUMBER_ID,
  WABA_ID,
  postCloud,
  stubWhatsAppEnv,
  signedInAs,
  world,
  type World,
} from "./whatsapp-helpers";

/** The wall clock every campaign test starts at. */
export const NOW = Date.parse("2026-12-07T10:00:00Z");

/** Fake timers at NOW and the WhatsApp environment (plus `env`) for each test of the file. */
export function useCampaignClock(env: Record<string, string> = {}) {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(NOW);
    stubWhatsAppEnv();
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllEnvs();
    vi.unstubAllGlobals();
  });
}

export type Shop = {
  t: T;
  w: World;
  fake: FakeProviders;
  owner: ReturnType<T["withIdentity"]>;
  templateId: Id<"templates">;
  contacts: Id<"contacts">[];
};

export type ShopOptions = {
  /** The Cloud number's messaging tier, as Meta reports it. */
  tier?: string;
  category?: string;
  /** Contact i's number is `${prefix}` and i in five digits. */
  prefix?: string;
  template?: { name: string; text: string };
};

export const SPRING_SALE = { name: "spring_sale", text: "Hola {{1}}, esta semana tienes un descuento." };

/**
 * A workspace whose owner has an approved template (Spanish, marketing by default) on the Cloud
 * number and `n` contacts tagged "vip", numbers +346100 and i in five digits unless told otherwise.
 */
export async function shop(n: number, options: ShopOptions = {}): Promise<Shop> {
  const { t } = setup();
  const fake = fakeProviders();
  const w = await world(t);
  const owner = await signedInAs(t, w, "owner");
  const { templateId, contacts } = await t.run(async (ctx) => {
    if (options.tier) await ctx.db.patch("channels", w.cloudChannelId, { messagingTier: options.tier });
    const templateId = await approvedTemplate(ctx, w.tenantId, w.cloudChannelId, {
      ...(options.template ?? SPRING_SALE),
      category: options.category,
    });
    const contacts: Id<"contacts">[] = [];
    for (let i = 0; i < n; i++) {
      const phone = `${options.prefix ?? "+346100"}${String(i).padStart(5, "0")}`;
      const contactId = await ctx.db.insert("contacts", {
        tenantId: w.tenantId,
        name: `Customer ${i}`,
        phone,
        createdAt: 1,
        tags: ["VIP"],
      });
      await ctx.db.insert("contactAliases", { tenantId: w.tenantId, kind: "phone", value: phone, contactId });
      await ctx.db.insert("contactTags", { tenantId: w.tenantId, tag: "vip", contactId });
      contacts.push(contactId);
    }
    return { templateId, contacts };
  });
  return { t, w, fake, owner, templateId, contacts };
}

/** An approved Spanish template (marketing unless told otherwise) with one body on the channel. */
export async function approvedTemplate(
  ctx: MutationCtx,
  tenantId: Id<"tenants">,
  channelId: Id<"channels">,
  template: { name: string; text: string; category?: string },
): Promise<Id<"templates">> {
  return await ctx.db.insert("templates", {
    tenantId,
    channelId,
    name: template.name,
    language: "es_ES",
    category: template.category ?? "MARKETING",
    status: "APPROVED",
    updatedAt: 1,
    components: [{ type: "BODY", text: template.text }],
    parameterFormat: "POSITIONAL",
  });
}

/** Lets `ms` pass and runs what became due (ticks, sends, processing). */
export async function step(t: T, ms = 1_000) {
  await vi.advanceTimersByTimeAsync(ms);
  await t.finishInProgressScheduledFunctions();
}

/** A draft "Spring sale" to the VIP tag with the template, its one parameter the contact's name. */
export async function createCampaign(
  s: Shop,
  extra: Partial<FunctionArgs<typeof api.campaigns.create>> = {},
): Promise<Id<"campaigns">> {
  return await s.owner.mutation(api.campaigns.create, {
    tenantId: s.w.tenantId,
    name: "Spring sale",
    channelId: s.w.cloudChannelId,
    templateId: s.templateId,
    variables: [{ source: "name" }],
    audience: { kind: "filter", filter: { tag: "VIP" } },
    ...extra,
  });
}

/** As createCampaign, then launched. */
export async function launchCampaign(
  s: Shop,
  extra: Partial<FunctionArgs<typeof api.campaigns.create>> = {},
): Promise<Id<"campaigns">> {
  const campaignId = await createCampaign(s, extra);
  await s.owner.mutation(api.campaigns.launch, { tenantId: s.w.tenantId, campaignId });
  return campaignId;
}

export const view = (s: Shop, campaignId: Id<"campaigns">) =>
  s.owner.query(api.campaigns.get, { tenantId: s.w.tenantId, campaignId });

export async function recipients(t: T, campaignId: Id<"campaigns">) {
  return await t.run((ctx) =>
    ctx.db
      .query("campaignRecipients")
      .withIndex("by_campaign_state_due", (q) => q.eq("campaignId", campaignId))
      .collect(),
  );
}

/** The provider ids of the campaign's messages, in recipient order. */
export async function wamids(t: T, campaignId: Id<"campaigns">) {
  return await t.run(async (ctx) => {
    const out: string[] = [];
    for (const r of await ctx.db
      .query("campaignRecipients")
      .withIndex("by_campaign_state_due", (q) => q.eq("campaignId", campaignId))
      .collect()) {
      const m = r.messageId ? await ctx.db.get("messages", r.messageId) : null;
      if (m?.providerMessageId) out.push(m.providerMessageId);
    }
    return out;
  });
}

/** How many rows are in each state (states with none are left out). */
export function countsOf(rows: { state: string }[]) {
  const counts: Record<string, number> = {};
  for (const r of rows) counts[r.state] = (counts[r.state] ?? 0) + 1;
  return counts;
}

export type StatusUpdate = {
  wamid: string;
  status: string;
  code?: number;
  /** Our message id, echoed back as biz_opaque_callback_data. */
  callback?: string;
  pricing?: Record<string, unknown>;
};

/** Posts one Cloud API `messages` change for the fixtures' number, carrying `value`'s fields. */
export async function postCloudChange(t: T, value: Record<string, unknown>) {
  const body = {
    object: "whatsapp_business_account",
    entry: [
      {
        id: WABA_ID,
        changes: [
          {
            field: "messages",
            value: {
              messaging_product: "whatsapp",
              metadata: {
                display_phone_number: DISPLAY_NUMBER.replace(/\D/g, ""),
                phone_number_id: PHONE_NUMBER_ID,
              },
              ...value,
            },
          },
        ],
      },
    ],
  };
  expect((await postCloud(t, JSON.stringify(body))).status).toBe(200);
}

/** Cloud API status webhooks for the fixtures' number, reported for `recipient`. */
export async function statuses(t: T, updates: StatusUpdate[], recipient = "34610000000") {
  await postCloudChange(t, {
    statuses: updates.map((u) => ({
      id: u.wamid,
      status: u.status,
      timestamp: String(Math.floor(Date.now() / 1000)),
      recipient_id: recipient,
      ...(u.callback ? { biz_opaque_callback_data: u.callback } : {}),
      ...(u.pricing ? { pricing: u.pricing } : {}),
      ...(u.code
        ? { errors: [{ code: u.code, title: "Error", message: "Error", error_data: { details: "x" } }] }
        : {}),
    })),
  });
}

/** Spain's marketing rate in euros: 0.05 a message, in force all year. */
export async function spanishMarketingRate(ctx: MutationCtx) {
  await ctx.db.insert("rates", {
    currency: "EUR",
    market: "ES",
    category: "marketing",
    amount: 50_000,
    effectiveFrom: Date.parse("2026-01-01T00:00:00Z"),
    source: "test",
    estimate: false,
    createdAt: 1,
  });
}

/** A euro wallet for the workspace holding `balance`, with `markupBps` on top of the rate. */
export async function euroWallet(
  ctx: MutationCtx,
  tenantId: Id<"tenants">,
  wallet: Pick<Doc<"wallets">, "balance" | "markupBps">,
) {
  await ctx.db.insert("wallets", {
    tenantId,
    currency: "EUR",
    reserved: 0,
    debtLimit: 0,
    lowBalanceThresholds: [],
    alertedThresholds: [],
    entryCount: 0,
    createdAt: 1,
    updatedAt: 1,
    ...wallet,
  });
}

/** The Cloud number's dispatcher, at `rate` messages a second before the first tick. */
export async function dispatchRate(s: Shop, rate: number) {
  await s.t.run((ctx) =>
    ctx.db.insert("channelDispatch", {
      channelId: s.w.cloudChannelId,
      rate,
      maxRate: rate,
      lastTickAt: 0,
      sentTotal: 0,
    }),
  );
}
