import type { LinksFunction, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Links, Meta, Outlet, Scripts, ScrollRestoration } from "@remix-run/react";
import { ConvexProviderWithAuth } from "convex/react";
import { lazy, Suspense, useState, type ReactNode } from "react";
import { APP_VERSION } from "../convex/version";
import { AccountMenu, LocalAccountLink, LocalSignOutButton } from "./components/account-menu";
import { RouteErrorView } from "./components/error-view";
import { SiteLayout } from "./components/site-layout";
import { TenantSwitcher } from "./components/tenant-switcher";
import { getAuthMode, getUser } from "./lib/auth.server";
import type { AuthUser } from "./lib/auth-user";
import { clerkRootLoader } from "./lib/clerk.server";
import { getConvexReactClient } from "./lib/convex";
import { useLocalConvexAuth } from "./lib/convex-auth";
import { getEnv, getPublicEnv } from "./lib/env.server";
import { useNonce } from "./lib/nonce";
import { serializeForScript } from "./lib/public-env";
import { useRootData, type RootLoaderData } from "./lib/root-data";
import stylesheet from "./tailwind.css?url";

// The Clerk shell is a separate chunk, loaded only in Clerk mode: without Clerk's keys nothing
// of Clerk is downloaded, imported or run.
const ClerkRoot = lazy(() => import("./components/clerk/clerk-app"));

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

export async function loader(args: LoaderFunctionArgs): Promise<RootLoaderData | Response> {
  const base = { publicEnv: getPublicEnv(), version: APP_VERSION };
  if (getAuthMode() === "clerk") {
    // Clerk's loader authenticates the request and adds the state its provider needs.
    return await clerkRootLoader(args, (user) => ({ ...base, auth: { mode: "clerk", user } }));
  }
  return {
    ...base,
    auth: { mode: "local", user: await getUser(args.request) },
    localSignInInProduction: getEnv().LOCAL_SIGN_IN_HARDENED,
  };
}

/** The document around both the app and the root error page. */
export function Layout({ children }: { children: ReactNode }) {
  // Undefined when the root loader itself failed; the error page still renders.
  const data = useRootData();
  const nonce = useNonce();
  return (
    <html lang="en" className="h-full">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <Meta />
        <Links />
      </head>
      <body className="h-full font-sans antialiased">
        {data?.localSignInInProduction ? <LocalSignInBanner /> : null}
        {children}
        {data ? (
          // Before the module scripts, so entry.client and the Convex client can read it.
          <script
            nonce={nonce}
            // Browsers hide a nonce from the DOM once applied, so hydration sees it empty.
            suppressHydrationWarning
            dangerouslySetInnerHTML={{ __html: `window.ENV = ${serializeForScript(data.publicEnv)};` }}
          />
        ) : null}
        <ScrollRestoration nonce={nonce} />
        <Scripts nonce={nonce} />
      </body>
    </html>
  );
}

/** On every page while the app's own sign-in serves a production build. */
function LocalSignInBanner() {
  return (
    <p
      role="note"
      aria-label="Local sign-in is active"
      className="bg-amber-100 px-4 py-2 text-center text-sm font-medium text-amber-900"
    >
      Local sign-in is active: accounts are kept by this server, not a real identity provider
      (LOCAL_SIGN_IN_IN_PRODUCTION). Do not use it for real customer data.
    </p>
  );
}

export default function App() {
  const data = useRootData()!;
  if (data.auth.mode === "clerk") {
    return (
      <Suspense fallback={null}>
        <ClerkRoot />
      </Suspense>
    );
  }
  return <LocalSignInApp data={data} />;
}

/** Local sign-in: Convex authenticated with tokens from /auth/token (see lib/convex-auth.ts). */
function LocalSignInApp({ data }: { data: RootLoaderData }) {
  const [convex] = useState(() => getConvexReactClient(data.publicEnv.CONVEX_URL, data.auth.user !== null));
  return (
    <ConvexProviderWithAuth client={convex} useAuth={useLocalConvexAuth}>
      <SiteLayout
        version={data.version}
        actions={
          <>
            {data.auth.user ? <TenantSwitcher /> : null}
            <LocalAccountMenu user={data.auth.user} />
          </>
        }
      >
        <Outlet />
      </SiteLayout>
    </ConvexProviderWithAuth>
  );
}

function LocalAccountMenu({ user }: { user: AuthUser | null }) {
  const signOut = (
    <>
      <LocalAccountLink verified={user?.local?.emailVerified === true} />
      <LocalSignOutButton />
    </>
  );
  return <AccountMenu user={user} signOut={signOut} />;
}

export function ErrorBoundary() {
  const data = useRootData();
  // The account menu needs no provider in local mode; Clerk's needs the Clerk shell, which an
  // error at this level has replaced.
  const actions = data?.auth.mode === "local" ? <LocalAccountMenu user={data.auth.user} /> : null;
  return (
    <SiteLayout version={data?.version} actions={actions}>
      <RouteErrorView />
    </SiteLayout>
  );
}
