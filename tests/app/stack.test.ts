import { describe, expect, it } from "vitest";
import { deploymentUrl, deriveSiteUrl } from "../../local/stack";

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
