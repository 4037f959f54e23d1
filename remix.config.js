// The Remix options. The Vite plugin does not read this file itself: vite.config.ts imports it
// and passes it to `remix()`, so there is one place for future flags and route settings.

/** @type {import("@remix-run/dev").VitePluginConfig} */
const remixConfig = {
  ignoredRouteFiles: ["**/.*"],
  future: {
    v3_fetcherPersist: true,
    v3_relativeSplatPath: true,
    v3_throwAbortReason: true,
    v3_singleFetch: true,
    v3_lazyRouteDiscovery: true,
  },
};

export default remixConfig;
