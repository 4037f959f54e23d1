import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { deriveConvexSiteUrl, EnvError, parseEnv, toPublicEnv } from "../../app/lib/env.server";
import { serializeForScript } from "../../app/lib/public-env";

const LOCAL = { CONVEX_URL: "http://127.0.0.1:3210" };

function problemsOf(source: Record<string, string | undefined>): string[] {
  try {
    parseEnv(source);
  } catch (error) {
    expect(error).toBeInstanceOf(EnvError);
    return (error as EnvError).problems;
  }
  throw new Error("expected parseEnv to throw");
}

describe("parseEnv", () => {
  it("fails with a clear message when CONVEX_URL is missing", () => {
    expect(() => parseEnv({})).toThrowError(/Invalid environment:\n\s+- CONVEX_URL is required/);
  });

  it("lists every bad variable at once, not just the first", () => {
    const problems = problemsOf({
      CONVEX_URL: "not a url",
      LOG_LEVEL: "loud",
      SENTRY_DSN: "nope",
      CLERK_SECRET_KEY: "sk_test_123",
    });
    expect(problems).toHaveLength(4);
    expect(problems.join("\n")).toMatch(/CONVEX_URL must be an http\(s\) URL/);
    expect(problems.join("\n")).toMatch(/LOG_LEVEL/);
    expect(problems.join("\n")).toMatch(/SENTRY_DSN must be an http\(s\) URL/);
    expect(problems.join("\n")).toMatch(/CLERK_PUBLISHABLE_KEY is required/);
  });

  it("refuses production without an identity provider unless local sign-in is opted into", () => {
    expect(problemsOf({ ...LOCAL, NODE_ENV: "production" })).toEqual([
      expect.stringMatching(
        /^No identity provider for production: set CLERK_PUBLISHABLE_KEY.*LOCAL_SIGN_IN_IN_PRODUCTION=true/,
      ),
    ]);
    expect(
      problemsOf({ ...LOCAL, NODE_ENV: "production", LOCAL_SIGN_IN_IN_PRODUCTION: "false" }),
    ).toHaveLength(1);
    expect(problemsOf({ ...LOCAL, NODE_ENV: "production", LOCAL_SIGN_IN_IN_PRODUCTION: "yes" })).toEqual([
      "LOCAL_SIGN_IN_IN_PRODUCTION must be true or false",
      expect.stringMatching(/^No identity provider for production/),
    ]);
    const optedIn = parseEnv({ ...LOCAL, NODE_ENV: "production", LOCAL_SIGN_IN_IN_PRODUCTION: "true" });
    expect(optedIn).toMatchObject({ AUTH_MODE: "local", LOCAL_SIGN_IN_HARDENED: true });
    const clerk = { CLERK_PUBLISHABLE_KEY: "pk_live_1", CLERK_SECRET_KEY: "sk_live_1" };
    expect(parseEnv({ ...LOCAL, ...clerk, NODE_ENV: "production" })).toMatchObject({
      AUTH_MODE: "clerk",
      LOCAL_SIGN_IN_HARDENED: false,
    });
    expect(parseEnv({ ...LOCAL, NODE_ENV: "development" })).toMatchObject({ LOCAL_SIGN_IN_HARDENED: false });
  });

  it("requires both Upstash variables or neither, and an http(s) URL", () => {
    expect(problemsOf({ ...LOCAL, UPSTASH_REDIS_REST_URL: "https://eu1-x.upstash.io" })).toEqual([
      expect.stringMatching(/^UPSTASH_REDIS_REST_TOKEN is required when the other Upstash variable is set/),
    ]);
    expect(problemsOf({ ...LOCAL, UPSTASH_REDIS_REST_TOKEN: "t" })).toEqual([
      expect.stringMatching(/^UPSTASH_REDIS_REST_URL is required/),
    ]);
    expect(
      problemsOf({ ...LOCAL, UPSTASH_REDIS_REST_URL: "redis://x", UPSTASH_REDIS_REST_TOKEN: "t" }),
    ).toEqual(["UPSTASH_REDIS_REST_URL must be an http(s) URL"]);
    const both = parseEnv({
      ...LOCAL,
      UPSTASH_REDIS_REST_URL: "https://eu1-x.upstash.io",
      UPSTASH_REDIS_REST_TOKEN: "t",
    });
    expect(both.UPSTASH_REDIS_REST_TOKEN).toBe("t");
  });

  it("requires both Clerk keys or neither", () => {
    expect(problemsOf({ ...LOCAL, CLERK_PUBLISHABLE_KEY: "pk_test_1" })).toEqual([
      expect.stringMatching(/^CLERK_SECRET_KEY is required/),
    ]);
    const both = parseEnv({ ...LOCAL, CLERK_PUBLISHABLE_KEY: "pk_test_1", CLERK_SECRET_KEY: "sk" });
    expect(both.CLERK_SECRET_KEY).toBe("sk");
  });

  it("applies defaults and treats empty strings as unset", () => {
    const env = parseEnv({ ...LOCAL, LOG_LEVEL: "", SENTRY_DSN: "", NODE_ENV: undefined });
    expect(env.LOG_LEVEL).toBe("info");
    expect(env.NODE_ENV).toBe("development");
    expect(env.SENTRY_DSN).toBeUndefined();
  });
});

describe("sign-in settings", () => {
  it("uses local sign-in, issuing as http://127.0.0.1:$PORT unless APP_URL says otherwise", () => {
    expect(parseEnv(LOCAL)).toMatchObject({
      AUTH_MODE: "local",
      APP_URL: "http://127.0.0.1:3000",
      AUTH_DATA_DIR: ".data/auth",
    });
    expect(parseEnv({ ...LOCAL, PORT: "4100" }).APP_URL).toBe("http://127.0.0.1:4100");
    expect(parseEnv({ ...LOCAL, APP_URL: "http://localhost:5000/" }).APP_URL).toBe("http://localhost:5000");
  });

  it("uses Clerk when both keys are set, without inventing an APP_URL", () => {
    const env = parseEnv({ ...LOCAL, CLERK_PUBLISHABLE_KEY: "pk_test_1", CLERK_SECRET_KEY: "sk" });
    expect(env.AUTH_MODE).toBe("clerk");
    expect(env.APP_URL).toBeUndefined();
  });

  it("refuses a short SESSION_SECRET and a PORT that is not a port", () => {
    expect(problemsOf({ ...LOCAL, SESSION_SECRET: "too-short", PORT: "http" })).toEqual([
      "PORT must be a port number",
      "SESSION_SECRET must be at least 32 characters",
    ]);
  });
});

describe("CONVEX_SITE_URL", () => {
  it("is the next port for a local backend", () => {
    expect(parseEnv(LOCAL).CONVEX_SITE_URL).toBe("http://127.0.0.1:3211");
    expect(parseEnv({ CONVEX_URL: "http://localhost:4000/" }).CONVEX_SITE_URL).toBe("http://localhost:4001");
  });

  it("is the .convex.site host for Convex cloud", () => {
    expect(parseEnv({ CONVEX_URL: "https://happy-otter-123.convex.cloud" }).CONVEX_SITE_URL).toBe(
      "https://happy-otter-123.convex.site",
    );
  });

  it("prefers an explicit value", () => {
    const env = parseEnv({ ...LOCAL, CONVEX_SITE_URL: "http://127.0.0.1:9999/" });
    expect(env.CONVEX_SITE_URL).toBe("http://127.0.0.1:9999");
  });

  it("must be given when it cannot be derived (self-hosted on its own domain)", () => {
    expect(deriveConvexSiteUrl("https://convex.example.com")).toBeNull();
    expect(problemsOf({ CONVEX_URL: "https://convex.example.com" })).toEqual([
      expect.stringMatching(/^CONVEX_SITE_URL is required/),
    ]);
    expect(
      parseEnv({
        CONVEX_URL: "https://convex.example.com",
        CONVEX_SITE_URL: "https://site.example.com",
      }).CONVEX_SITE_URL,
    ).toBe("https://site.example.com");
  });
});

describe("public env", () => {
  const secrets = {
    CLERK_SECRET_KEY: "sk_live_SECRET_VALUE",
    APP_URL: "https://app.internal.example",
    CONVEX_SITE_URL: "https://site.internal.example",
  };
  const full = parseEnv({
    ...LOCAL,
    ...secrets,
    NODE_ENV: "production",
    LOG_LEVEL: "debug",
    SENTRY_DSN: "https://public@o1.ingest.sentry.io/1",
    SENTRY_ENVIRONMENT: "staging",
    CLERK_PUBLISHABLE_KEY: "pk_live_public",
  });

  it("contains exactly the whitelist", () => {
    expect(toPublicEnv(full)).toEqual({
      CONVEX_URL: "http://127.0.0.1:3210",
      SENTRY_DSN: "https://public@o1.ingest.sentry.io/1",
      SENTRY_ENVIRONMENT: "staging",
      CLERK_PUBLISHABLE_KEY: "pk_live_public",
    });
  });

  it("leaks no other value into what the browser receives", () => {
    const serialized = serializeForScript(toPublicEnv(full));
    for (const value of Object.values(secrets)) expect(serialized).not.toContain(value);
    expect(serialized).not.toContain("debug");
    expect(serialized).not.toContain("production");
  });

  it("omits optional keys that are not configured", () => {
    expect(Object.keys(toPublicEnv(parseEnv(LOCAL)))).toEqual(["CONVEX_URL"]);
  });
});

describe("getEnv and getPublicEnv", () => {
  // Start from a known process.env whatever the shell running the tests has set.
  beforeEach(() => {
    for (const key of ["SENTRY_DSN", "SENTRY_ENVIRONMENT", "CONVEX_SITE_URL", "APP_URL", "LOG_LEVEL"]) {
      vi.stubEnv(key, "");
    }
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it("read process.env once and expose only the whitelist", async () => {
    vi.stubEnv("CONVEX_URL", "http://127.0.0.1:3210");
    vi.stubEnv("CLERK_PUBLISHABLE_KEY", "pk_test_public");
    vi.stubEnv("CLERK_SECRET_KEY", "sk_test_hidden");
    const { getEnv, getPublicEnv } = await import("../../app/lib/env.server");
    expect(getEnv().CLERK_SECRET_KEY).toBe("sk_test_hidden");
    expect(getPublicEnv()).toEqual({
      CONVEX_URL: "http://127.0.0.1:3210",
      CLERK_PUBLISHABLE_KEY: "pk_test_public",
    });
    vi.stubEnv("CONVEX_URL", "http://127.0.0.1:5555");
    expect(getEnv().CONVEX_URL).toBe("http://127.0.0.1:3210");
  });

  it("throws at first use when process.env is invalid", async () => {
    vi.stubEnv("CONVEX_URL", "");
    const { getEnv } = await import("../../app/lib/env.server");
    expect(() => getEnv()).toThrowError(/CONVEX_URL is required/);
  });
});

describe("serializeForScript", () => {
  it("cannot close the script element it is written into, and round-trips", () => {
    const value = { CONVEX_URL: "http://x/</script><script>alert(1)</script>", note: "a\u2028b&<!--" };
    const text = serializeForScript(value);
    expect(text).not.toMatch(/<\/script/i);
    expect(text).not.toContain("<!--");
    expect(text).not.toContain("\u2028");
    expect(JSON.parse(text)).toEqual(value);
  });
});
