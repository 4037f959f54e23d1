// What the root loader gives every page, and a typed way to read it from any component.
import { useRouteLoaderData } from "@remix-run/react";
import type { AuthState } from "./auth-user";
import type { PublicEnv } from "./public-env";

export type RootLoaderData = {
  publicEnv: PublicEnv;
  version: string;
  auth: AuthState;
  /** Local sign-in serves this production build (LOCAL_SIGN_IN_IN_PRODUCTION): every page says so. */
  localSignInInProduction?: boolean;
};

/**
 * The root loader's data. Typed by hand because in Clerk mode the loader returns Clerk's
 * Response (the same data plus `clerkState`). Undefined only while the root loader itself failed.
 */
export function useRootData(): RootLoaderData | undefined {
  return useRouteLoaderData("root") as RootLoaderData | undefined;
}
