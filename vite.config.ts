import { vitePlugin as remix } from "@remix-run/dev";
import tailwindcss from "@tailwindcss/vite";
import { defineConfig } from "vite";
import remixConfig from "./remix.config.js";

// Single Fetch changes what loaders return to the browser; this turns on its types.
declare module "@remix-run/node" {
  interface Future {
    v3_singleFetch: true;
  }
}

const port = Number(process.env.PORT) || 3000;

export default defineConfig({
  plugins: [tailwindcss(), remix(remixConfig)],
  // Known up front, so the first page load in dev does not stop to re-optimise and reload.
  // (Route modules import server packages for their loaders; the scanner sees those imports too.)
  optimizeDeps: {
    include: [
      "convex/react",
      "convex/browser",
      "convex/server",
      "convex/values",
      "@sentry/remix",
      "@remix-run/node",
      "zod",
      "jose",
    ],
  },
  server: {
    port,
    // The local Convex server, its data and the tests are not part of the web app.
    watch: {
      ignored: ["**/.data/**", "**/local/**", "**/tests/**", "**/bench-results/**", "**/.scratch/**"],
    },
  },
});
