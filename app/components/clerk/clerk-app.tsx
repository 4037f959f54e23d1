// The app shell in Clerk mode, loaded lazily by root only when Clerk's keys are configured:
// `ClerkApp` (Clerk's provider, fed by rootAuthLoader's state) around Convex authenticated by
// Clerk's "convex" JWT template, the site layout and the current route.
import { ClerkApp, SignOutButton, useAuth, useUser } from "@clerk/remix";
import { Outlet } from "@remix-run/react";
import { ConvexProviderWithClerk } from "convex/react-clerk";
import { useState } from "react";
import { getConvexReactClient } from "../../lib/convex";
import { useRootData } from "../../lib/root-data";
import type { AuthUser } from "../../lib/auth-user";
import { AccountMenu, menuItemClass } from "../account-menu";
import { SiteLayout } from "../site-layout";
import { TenantSwitcher } from "../tenant-switcher";

function ClerkAccountMenu({ serverUser }: { serverUser: AuthUser | null }) {
  const { isLoaded, isSignedIn, user } = useUser();
  // Before Clerk's browser SDK loads, show what the server saw (from the session token's claims).
  const current: AuthUser | null = !isLoaded
    ? serverUser
    : isSignedIn
      ? {
          subject: user.id,
          email: user.primaryEmailAddress?.emailAddress ?? null,
          name: user.fullName ?? user.username ?? null,
        }
      : null;
  return (
    <AccountMenu
      user={current}
      signOut={
        <SignOutButton redirectUrl="/">
          <button type="button" className={menuItemClass}>
            Sign out
          </button>
        </SignOutButton>
      }
    />
  );
}

function ClerkShell() {
  const data = useRootData()!;
  const [convex] = useState(() => getConvexReactClient(data.publicEnv.CONVEX_URL, data.auth.user !== null));
  return (
    <ConvexProviderWithClerk client={convex} useAuth={useAuth}>
      <SiteLayout
        version={data.version}
        actions={
          <>
            <TenantSwitcher />
            <ClerkAccountMenu serverUser={data.auth.user} />
          </>
        }
      >
        <Outlet />
      </SiteLayout>
    </ConvexProviderWithClerk>
  );
}

export default ClerkApp(ClerkShell, { signInUrl: "/sign-in", signUpUrl: "/sign-up" });
