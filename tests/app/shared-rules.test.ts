// Rules both sides of the Convex boundary need (roles and their ranks, channel secret fields and
// limits, the deployment's site URL) are written once, in convex/shared/, and both the web app
// and the Convex functions use that one copy: nothing here can drift apart.
import { describe, expect, it } from "vitest";
import * as appChannels from "../../app/lib/channels";
import * as appEnv from "../../app/lib/env.server";
import * as appRoles from "../../app/lib/roles";
import * as convexChannels from "../../convex/model/whatsapp/channels";
import * as convexTenancy from "../../convex/model/tenancy";
import * as appTenantOptions from "../../app/lib/tenant-options";
import * as convexCurrencies from "../../convex/model/billing/currencies";
import * as sharedChannels from "../../convex/shared/channels";
import * as sharedCurrencies from "../../convex/shared/currencies";
import * as sharedRoles from "../../convex/shared/roles";
import * as sharedSite from "../../convex/shared/site";

describe("one copy of each cross-boundary rule", () => {
  it("roles: the app's rules are the ones Convex enforces", () => {
    expect(appRoles.ROLES).toBe(sharedRoles.ROLES);
    expect(convexTenancy.ROLES).toBe(sharedRoles.ROLES);
    expect(appRoles.hasRole).toBe(sharedRoles.hasRole);
    expect(convexTenancy.hasRole).toBe(sharedRoles.hasRole);
    expect(appRoles.assignableRoles).toBe(sharedRoles.assignableRoles);
    expect(appRoles.canManageMember).toBe(sharedRoles.canManageMember);
    expect(appRoles.withArticle).toBe(sharedRoles.withArticle);
  });

  it("channel secrets: the form asks for exactly the secrets Convex stores", () => {
    expect(appChannels.SECRET_FIELDS).toBe(sharedChannels.SECRET_FIELDS);
    expect(convexChannels.SECRET_FIELDS).toBe(sharedChannels.SECRET_FIELDS);
    expect(appChannels.SECRET_LABELS).toBe(sharedChannels.SECRET_LABELS);
    expect(appChannels.KIND_LABELS).toBe(sharedChannels.KIND_LABELS);
    for (const fields of Object.values(sharedChannels.SECRET_FIELDS))
      for (const field of fields) expect(sharedChannels.SECRET_LABELS[field]).toBeTruthy();
  });

  it("currencies: the settings form offers exactly the currencies Convex accepts", () => {
    expect(appTenantOptions.RATE_CARD_CURRENCIES).toBe(sharedCurrencies.RATE_CARD_CURRENCIES);
    expect(convexCurrencies.RATE_CARD_CURRENCIES).toBe(sharedCurrencies.RATE_CARD_CURRENCIES);
    expect(convexCurrencies.hasRateCard).toBe(sharedCurrencies.hasRateCard);
    expect(appTenantOptions.currencyOptions().map((o) => o.value)).toEqual([
      ...sharedCurrencies.RATE_CARD_CURRENCIES,
    ]);
  });

  it("site URL: the app derives it with the shared rule", () => {
    expect(appEnv.deriveConvexSiteUrl).toBe(sharedSite.convexSiteUrlFor);
    expect(sharedSite.convexSiteUrlFor("http://127.0.0.1:3210/")).toBe("http://127.0.0.1:3211");
    expect(sharedSite.convexSiteUrlFor("https://happy-otter-123.convex.cloud")).toBe(
      "https://happy-otter-123.convex.site",
    );
    expect(sharedSite.siteUrlOf("https://x.convex.site//", "/whatsapp/cloud")).toBe(
      "https://x.convex.site/whatsapp/cloud",
    );
    expect(sharedSite.siteUrlOf(undefined, "/whatsapp/cloud")).toBeNull();
  });
});

describe("shared wording", () => {
  it("names secrets inside sentences without breaking acronyms", () => {
    expect(sharedChannels.secretName("accessToken")).toBe("access token");
    expect(sharedChannels.secretName("apiKey")).toBe("API key");
    expect(sharedChannels.secretName("webhookHmacKey")).toBe("webhook HMAC key");
  });
});
