// The header's account area: a "Sign in" link when anonymous, otherwise a disclosure (a button
// with aria-expanded controlling a panel) with the user's name and email and a sign-out control.
// The control is passed in: local sign-in signs out with a form post, Clerk with its own button.
import { Form, Link, useLocation } from "@remix-run/react";
import type { ReactNode } from "react";
import { displayName, type AuthUser } from "../lib/auth-user";
import { signInPath } from "../lib/safe-redirect";
import { DropdownMenu } from "./dropdown-menu";

export const menuItemClass =
  "block w-full rounded-md px-3 py-2 text-left text-sm font-medium text-slate-700 hover:bg-slate-100 focus-visible:bg-slate-100";

export function AccountMenu({ user, signOut }: { user: AuthUser | null; signOut: ReactNode }) {
  if (!user) return <SignInLink />;
  return <SignedInMenu user={user} signOut={signOut} />;
}

export function SignInLink() {
  const location = useLocation();
  const onSignInPage = location.pathname === "/sign-in" || location.pathname.startsWith("/sign-in/");
  if (onSignInPage) return null;
  return (
    <Link
      to={signInPath(`${location.pathname}${location.search}`)}
      className="rounded-lg bg-brand-600 px-3 py-1.5 text-sm font-medium text-white shadow-sm hover:bg-brand-700"
    >
      Sign in
    </Link>
  );
}

function SignedInMenu({ user, signOut }: { user: AuthUser; signOut: ReactNode }) {
  const label = displayName(user);
  return (
    <DropdownMenu
      buttonClassName="flex items-center gap-2 rounded-lg px-2 py-1.5 text-sm font-medium text-slate-700 hover:bg-slate-100"
      panelClassName="absolute right-0 z-20 mt-2 w-64 rounded-xl border border-slate-200 bg-white p-2 shadow-lg"
      button={
        <>
          <span
            aria-hidden="true"
            className="grid size-7 place-items-center rounded-full bg-brand-100 text-xs font-semibold text-brand-700"
          >
            {label.slice(0, 1).toUpperCase()}
          </span>
          <span className="sr-only">Account menu for </span>
          <span className="max-w-40 truncate max-sm:sr-only">{label}</span>
        </>
      }
    >
      <div className="border-b border-slate-100 px-3 pt-1 pb-3">
        <p className="text-xs text-slate-500">Signed in as</p>
        <p className="truncate text-sm font-semibold text-slate-900">{user.name ?? user.email ?? "—"}</p>
        {user.email && user.name ? <p className="truncate text-sm text-slate-600">{user.email}</p> : null}
        {user.local && !user.local.emailVerified ? (
          <p className="mt-1 text-xs font-medium text-amber-800">
            Email not verified: cannot accept invitations or be a platform admin
          </p>
        ) : null}
      </div>
      <div className="pt-2">{signOut}</div>
    </DropdownMenu>
  );
}

/** Local sign-in's account page: email verification and password. */
export function LocalAccountLink({ verified }: { verified: boolean }) {
  return (
    <Link to="/account" className={menuItemClass}>
      {verified ? "Your account" : "Verify your email"}
    </Link>
  );
}

/** Local sign-in's sign-out: a form post, so it works before the page's JavaScript has loaded. */
export function LocalSignOutButton() {
  return (
    <Form method="post" action="/sign-out">
      <button type="submit" className={menuItemClass}>
        Sign out
      </button>
    </Form>
  );
}
