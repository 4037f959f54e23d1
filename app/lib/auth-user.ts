// Who is signed in, as both sign-in paths (local and Clerk) describe it to the app. Shared by
// server and browser code, so it must stay free of server-only imports.

/** Clerk when both of its keys are set; otherwise the app's own local sign-in (the embedded default). */
export type AuthMode = "clerk" | "local";

export type AuthUser = {
  /** The token `sub`: the local account id, or the Clerk user id. */
  subject: string;
  /** Always set by local sign-in; with Clerk only when the session token carries the claim. */
  email: string | null;
  name: string | null;
  /**
   * Local sign-in only (absent with Clerk, whose provider verifies emails): whether the account's
   * email is verified, and whether it has a password. An unverified local account cannot accept
   * invitations or be a platform admin.
   */
  local?: { emailVerified: boolean; hasPassword: boolean };
};

/** What the root loader tells every page about sign-in. */
export type AuthState = { mode: AuthMode; user: AuthUser | null };

/** The label for a user in the header: their name, else their email, else a neutral word. */
export function displayName(user: AuthUser): string {
  return user.name ?? user.email ?? "Account";
}
