/** Which provider addresses the backend may call (convex/providers/outboundUrls.ts). */
import { describe, expect, it } from "vitest";
import { refusedTarget } from "../../convex/providers/outboundUrls";

describe("refusedTarget", () => {
  it.each([
    "https://waha.example.com",
    "http://203.0.112.9:3000",
    "https://8.8.8.8",
    "http://[2606:4700::1111]/",
    "https://waha.acme.test/api-base",
  ])("allows the public address %s", (url) => {
    expect(refusedTarget(url, { allowPrivate: false })).toBeNull();
  });

  it.each([
    ["http://169.254.169.254/", "link-local"],
    ["http://127.1/", "loopback"],
    ["http://[::]/", "unspecified"],
    ["http://[64:ff9b::10.0.0.1]/", "private"],
    ["http://[ff02::1]/", "multicast"],
    ["http://198.18.0.1/", "benchmarking"],
    ["http://240.0.0.1/", "reserved"],
    ["http://LOCALHOST./", "this machine"],
    ["http://metadata/", "single-word"],
    ["ftp://waha.example.com", "http and https"],
    ["file:///etc/passwd", "http and https"],
  ])("refuses %s (%s)", (url, reason) => {
    expect(refusedTarget(url, { allowPrivate: false })).toContain(reason);
  });

  it("allows private addresses only when told, never other schemes", () => {
    expect(refusedTarget("http://127.0.0.1:3220", { allowPrivate: true })).toBeNull();
    expect(refusedTarget("gopher://127.0.0.1", { allowPrivate: true })).toContain("http and https");
  });
});
