import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { deploymentUrl, deriveSiteUrl, localChannelSecretsKey, plainText } from "../../local/stack";

describe("the stack's Convex address", () => {
  it("uses CONVEX_DEPLOYMENT as the Convex CLI writes it", () => {
    expect(deploymentUrl("dev:happy-otter-123")).toBe("https://happy-otter-123.convex.cloud");
    expect(deploymentUrl("prod:brave-lynx-9 # team: acme")).toBe("https://brave-lynx-9.convex.cloud");
    expect(deploymentUrl(undefined)).toBeUndefined();
    expect(deploymentUrl("")).toBeUndefined();
  });

  it("derives the HTTP actions URL", () => {
    expect(deriveSiteUrl("https://happy-otter-123.convex.cloud")).toBe("https://happy-otter-123.convex.site");
    expect(deriveSiteUrl("http://127.0.0.1:3210")).toBe("http://127.0.0.1:3211");
  });
});

describe("the local channel secrets key", () => {
  it("is 32 random bytes made once per data directory, private to its owner, and reused", () => {
    const [one, two] = [mkdtempSync(path.join(tmpdir(), "keys-")), mkdtempSync(path.join(tmpdir(), "keys-"))];
    try {
      const key = localChannelSecretsKey(one);
      expect(Buffer.from(key, "base64")).toHaveLength(32);
      expect(localChannelSecretsKey(one)).toBe(key);
      expect(statSync(path.join(one, "channel-secrets.key")).mode & 0o777).toBe(0o600);
      expect(readdirSync(one)).toEqual(["channel-secrets.key"]);
      expect(localChannelSecretsKey(two)).not.toBe(key);
    } finally {
      rmSync(one, { recursive: true, force: true });
      rmSync(two, { recursive: true, force: true });
    }
  });
});

describe("service banners", () => {
  it("match their ready pattern when the service colours its output (FORCE_COLOR in CI)", () => {
    // Vite's banner as printed with FORCE_COLOR=1.
    const coloured =
      "  \x1b[32m➜\x1b[39m  \x1b[1mLocal\x1b[22m:   \x1b[36mhttp://127.0.0.1:\x1b[1m41595\x1b[22m/\x1b[39m";
    expect(/Local:\s+(http\S+)/.exec(coloured)).toBeNull();
    expect(/Local:\s+(http\S+)/.exec(plainText(coloured))?.[1]).toBe("http://127.0.0.1:41595/");
  });
});
