/** Webhook signatures over the exact raw bytes, unit-level and through the HTTP routes. */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  hmacHex,
  timingSafeEqualStrings,
  verifyCloudSignature,
  verifyWahaSignature,
} from "../../convex/model/whatsapp/signatures";
import { setup } from "./factories";
import {
  APP_SECRET,
  bytes,
  cloud,
  hmac,
  postCloud,
  postWaha,
  rows,
  stubWhatsAppEnv,
  waha,
  WAHA_HMAC_KEY,
  world,
} from "./whatsapp-helpers";

// Known answers, computed outside this code base (Python's hmac module).
const VECTOR_BODY = '{"object":"whatsapp_business_account","entry":[]}';
const VECTOR_SHA256 = "b9ed68b7ce4a8e37c88a8b174500e5e12413c2d45c28ee76bb911f7b1f43272c";
const VECTOR_SHA512 =
  "5f23d38450afd6e471270e9335faec67d0506e08a4b3c9e11ca22ea1526fd966ecc23c19e2dbcd188646acc3bc40b53c471306df2de3da4637e0e351414af562";

describe("signature checks", () => {
  it("checks each secret with its own key, however the keys were kept", async () => {
    const header = `sha256=${VECTOR_SHA256}`;
    // The same secret twice (the second from the kept keys), then another secret, then the first.
    for (const [secret, valid] of [
      ["It is a secret", true],
      ["It is a secret", true],
      ["It is another secret", false],
      ["It is a secret", true],
    ] as const) {
      expect(await verifyCloudSignature(secret, bytes(VECTOR_BODY), header)).toBe(valid);
    }
    // The same secret for SHA-512 is a key of its own.
    expect(await verifyWahaSignature("It is a secret", bytes(VECTOR_BODY), VECTOR_SHA512, "sha512")).toBe(
      true,
    );
  });

  it("matches known HMAC-SHA256 and HMAC-SHA512 answers", async () => {
    expect(await hmacHex("SHA-256", "It is a secret", bytes(VECTOR_BODY))).toBe(VECTOR_SHA256);
    expect(await hmacHex("SHA-512", "It is a secret", bytes(VECTOR_BODY))).toBe(VECTOR_SHA512);
    expect(await verifyCloudSignature("It is a secret", bytes(VECTOR_BODY), `sha256=${VECTOR_SHA256}`)).toBe(
      true,
    );
    expect(await verifyWahaSignature("It is a secret", bytes(VECTOR_BODY), VECTOR_SHA512, "sha512")).toBe(
      true,
    );
  });

  it("accepts upper-case hex and refuses everything else", async () => {
    const body = bytes(VECTOR_BODY);
    const ok = `sha256=${VECTOR_SHA256}`;
    expect(
      await verifyCloudSignature("It is a secret", body, ok.toUpperCase().replace("SHA256=", "sha256=")),
    ).toBe(true);
    const refused = [
      null,
      "",
      VECTOR_SHA256, // no "sha256=" prefix
      `sha1=${VECTOR_SHA256}`,
      `sha256=${VECTOR_SHA256.slice(0, -2)}`, // too short
      `sha256=${VECTOR_SHA256}00`, // too long
      `sha256=${VECTOR_SHA256.slice(0, -1)}0`, // one digit off
      `sha256=${"zz".repeat(32)}`, // not hex
    ];
    for (const header of refused) {
      expect(await verifyCloudSignature("It is a secret", body, header), String(header)).toBe(false);
    }
    expect(await verifyCloudSignature("another secret", body, ok)).toBe(false);
    expect(await verifyCloudSignature("", body, ok)).toBe(false);
    expect(await verifyCloudSignature("It is a secret", bytes(VECTOR_BODY + " "), ok)).toBe(false);
  });

  it("WAHA: sha512 only, with the channel's key", async () => {
    const body = bytes(VECTOR_BODY);
    expect(await verifyWahaSignature("It is a secret", body, VECTOR_SHA512, null)).toBe(true);
    expect(await verifyWahaSignature("It is a secret", body, VECTOR_SHA512, "SHA512")).toBe(true);
    expect(await verifyWahaSignature("It is a secret", body, VECTOR_SHA512, "sha256")).toBe(false);
    expect(await verifyWahaSignature("It is a secret", body, VECTOR_SHA256, null)).toBe(false);
    expect(await verifyWahaSignature("other key", body, VECTOR_SHA512, "sha512")).toBe(false);
    expect(await verifyWahaSignature("It is a secret", body, null, "sha512")).toBe(false);
  });

  it("verifies a body with \\u escapes as sent, and refuses the same JSON re-serialised", async () => {
    const raw = cloud("unicode-escapes");
    expect(raw).toContain("\\u00e9");
    const reserialised = JSON.stringify(JSON.parse(raw));
    expect(reserialised).toContain("é");
    expect(reserialised).not.toBe(raw.trimEnd());
    const signature = `sha256=${await hmac("SHA-256", APP_SECRET, bytes(raw))}`;
    expect(await verifyCloudSignature(APP_SECRET, bytes(raw), signature)).toBe(true);
    expect(await verifyCloudSignature(APP_SECRET, bytes(reserialised), signature)).toBe(false);
    // And the other way round: a signature over the re-serialised text does not cover the raw bytes.
    const overReserialised = `sha256=${await hmac("SHA-256", APP_SECRET, bytes(reserialised))}`;
    expect(await verifyCloudSignature(APP_SECRET, bytes(raw), overReserialised)).toBe(false);
  });

  it("compares verify tokens by content", () => {
    expect(timingSafeEqualStrings("abc", "abc")).toBe(true);
    expect(timingSafeEqualStrings("abc", "abd")).toBe(false);
    expect(timingSafeEqualStrings("abc", "abcd")).toBe(false);
    expect(timingSafeEqualStrings("", "a")).toBe(false);
  });
});

describe("signatures at the HTTP routes", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    stubWhatsAppEnv();
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllEnvs();
  });

  it("Cloud: the raw bytes with \\u escapes are accepted as signed; a signature over the re-serialised body is 401", async () => {
    const { t } = setup();
    await world(t);
    const raw = cloud("unicode-escapes");
    const reserialised = JSON.stringify(JSON.parse(raw));
    const wrong = await postCloud(t, raw, {
      signature: `sha256=${await hmac("SHA-256", APP_SECRET, bytes(reserialised))}`,
    });
    expect(wrong.status).toBe(401);
    expect(await rows(t, "webhookEvents")).toHaveLength(0);

    const right = await postCloud(t, raw);
    expect(right.status).toBe(200);
    const [stored] = await rows(t, "webhookEvents");
    expect(stored.event).toMatchObject({ text: "Café crème — 👍", from: { name: "José María" } });
  });

  it("Cloud: missing, malformed or wrong-secret signatures get 401 and store nothing", async () => {
    const { t } = setup();
    await world(t);
    const raw = cloud("message-text");
    const good = await hmac("SHA-256", APP_SECRET, bytes(raw));
    for (const signature of [null, "", good, `sha256=${good.slice(1)}`, `sha256=${"0".repeat(64)}`]) {
      const response = await postCloud(t, raw, { signature });
      expect(response.status, String(signature)).toBe(401);
    }
    expect((await postCloud(t, raw, { secret: "not-the-app-secret" })).status).toBe(401);
    expect(await rows(t, "webhookEvents")).toHaveLength(0);
  });

  it("Cloud: without WHATSAPP_APP_SECRET nothing is accepted (500: our configuration, retried by Meta)", async () => {
    const { t } = setup();
    await world(t);
    vi.stubEnv("WHATSAPP_APP_SECRET", "");
    const response = await postCloud(t, cloud("message-text"));
    expect(response.status).toBe(500);
    expect(await rows(t, "webhookEvents")).toHaveLength(0);
  });

  it("WAHA: signed with the channel's key over the raw UTF-8 bytes; anything else 401", async () => {
    const { t } = setup();
    const w = await world(t);
    const raw = waha("message-text");
    expect(raw).toContain("¿tenéis");
    const good = await hmac("SHA-512", WAHA_HMAC_KEY, bytes(raw));
    const cases: [string, Parameters<typeof postWaha>[3]][] = [
      ["no header", { signature: null }],
      ["another key", { key: "some-other-key" }],
      ["sha256 of the body", { signature: await hmac("SHA-256", WAHA_HMAC_KEY, bytes(raw)) }],
      ["announced as sha256", { headers: { "x-webhook-hmac-algorithm": "sha256" } }],
      [
        "over re-serialised JSON",
        { signature: await hmac("SHA-512", WAHA_HMAC_KEY, bytes(JSON.stringify(JSON.parse(raw)))) },
      ],
    ];
    for (const [what, options] of cases) {
      expect((await postWaha(t, w.wahaChannelId, raw, options)).status, what).toBe(401);
    }
    expect(await rows(t, "webhookEvents")).toHaveLength(0);
    expect((await postWaha(t, w.wahaChannelId, raw, { signature: good.toUpperCase() })).status).toBe(200);
    expect(await rows(t, "webhookEvents")).toHaveLength(1);
  });

  it("WAHA: another channel's key does not sign for this channel", async () => {
    const { t } = setup();
    const w = await world(t);
    const { encryptSecrets } = await import("../../convex/model/whatsapp/secrets");
    const otherSecrets = await encryptSecrets({ apiKey: "k", webhookHmacKey: "the-other-channels-key" });
    const otherId = await t.run(async (ctx) => {
      const channel = (await ctx.db.get("channels", w.wahaChannelId))!;
      const { _id, _creationTime, ...fields } = channel;
      return await ctx.db.insert("channels", { ...fields, name: "Other", secrets: otherSecrets });
    });
    const raw = waha("message-text");
    expect((await postWaha(t, w.wahaChannelId, raw, { key: "the-other-channels-key" })).status).toBe(401);
    expect((await postWaha(t, otherId, raw, { key: WAHA_HMAC_KEY })).status).toBe(401);
    expect((await postWaha(t, otherId, raw, { key: "the-other-channels-key" })).status).toBe(200);
  });
});
