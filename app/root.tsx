import type { LinksFunction, MetaFunction } from "@remix-run/node";
import {
  Links,
  Meta,
  Outlet,
  Scripts,
  ScrollRestoration,
  useLoaderData,
  useRouteLoaderData,
} from "@remix-run/react";
import { ConvexProvider } from "convex/react";
import { useState, type ReactNode } from "react";
import { APP_VERSION } from "../convex/version";
import { RouteErrorView } from "./components/error-view";
import { SiteLayout } from "./components/site-layout";
import { getConvexReactClient } from "./lib/convex";
import { getPublicEnv } from "./lib/env.server";
import { serializeForScript } from "./lib/public-env";
import stylesheet from "./tailwind.css?url";

export const links: LinksFunction = () => [
  { rel: "icon", href: "/favicon.svg", type: "image/svg+xml" },
  { rel: "stylesheet", href: stylesheet },
];

export const meta: MetaFunction = () => [
  { title: "Switchboard" },
  {
    name: "description",
    content: "Switchboard: WhatsApp for teams, with a live inbox, an AI assistant, campaigns and credits.",
  },
];

export function loader() {
  return { publicEnv: getPublicEnv(), version: APP_VERSION };
}

/** The document around both the app and the root error page. */
export function Layout({ children }: { children: ReactNode }) {
  // Undefined when the root loader itself failed; the error page still renders.
  const data = useRouteLoaderData<typeof loader>("root");
  return (
    <html lang="en" className="h-full">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <Meta />
        <Links />
      </head>
      <body className="h-full font-sans antialiased">
        <SiteLayout version={data?.version}>{children}</SiteLayout>
        {data ? (
          // Before the module scripts, so entry.client and the Convex client can read it.
          <script
            dangerouslySetInnerHTML={{ __html: `window.ENV = ${serializeForScript(data.publicEnv)};` }}
          />
        ) : null}
        <ScrollRestoration />
        <Scripts />
      </body>
    </html>
  );
}

export default function App() {
  const { publicEnv } = useLoaderData<typeof loader>();
  const [convex] = useState(() => getConvexReactClient(publicEnv.CONVEX_URL));
  return (
    <ConvexProvider client={convex}>
      <Outlet />
    </ConvexProvider>
  );
}

export function ErrorBoundary() {
  return <RouteErrorView />;
}
