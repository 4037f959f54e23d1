import { defineConfig } from "vitest/config";

// Kept apart from vite.config.ts so the Remix plugin is not loaded for tests.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "convex",
          include: ["tests/convex/**/*.test.ts"],
          environment: "edge-runtime",
          server: { deps: { inline: ["convex-test"] } },
        },
      },
      {
        resolve: { alias: { "~": new URL("./app", import.meta.url).pathname } },
        test: {
          name: "node",
          include: ["tests/app/**/*.test.ts", "tests/local/**/*.test.ts"],
          environment: "node",
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["tests/e2e/**/*.test.ts"],
          environment: "node",
          testTimeout: 90_000,
          hookTimeout: 180_000,
          // One browser and one stack at a time on a 2-core machine.
          poolOptions: { forks: { singleFork: true } },
        },
      },
    ],
  },
});
