// /sign-in: local sign-in's form (email, name, optional password), or Clerk's <SignIn /> when
// Clerk is configured. The splat (`/sign-in/*`) is for Clerk's own steps; local sign-in has none.
import {
  data,
  redirect,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from "@remix-run/node";
import { useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { lazy, Suspense } from "react";
import { RouteErrorView } from "../components/error-view";
import { SignInForm } from "../components/sign-in-form";
import { getAccountStore, getAuthMode, getUser, rejectCrossSite } from "../lib/auth.server";
import { getEnv } from "../lib/env.server";
import { sessionEpochOf } from "../lib/local-auth/accounts.server";
import { commitNewSession } from "../lib/local-auth/session.server";
import { clientAddress, getSignInLimiters } from "../lib/local-auth/sign-in-limits.server";
import { signInWithForm } from "../lib/local-auth/sign-in-form.server";
import { retryAfterSeconds } from "../lib/rate-limit.server";
import { readFormData } from "../lib/request-limits.server";
import { safeRedirect } from "../lib/safe-redirect";

// Loaded only in Clerk mode, so local sign-in never downloads Clerk.
const ClerkSignIn = lazy(() => import("../components/clerk/clerk-sign-in"));

export const meta: MetaFunction = () => [{ title: "Sign in — Switchboard" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  // Signed in without a destination: the workspace (or onboarding), not the marketing page.
  const redirectTo = safeRedirect(new URL(request.url).searchParams.get("redirectTo"), "/app");
  const mode = getAuthMode();
  if (mode === "local") {
    if (params["*"]) throw new Response("Not found", { status: 404 });
    if (await getUser(request)) throw redirect(redirectTo);
  }
  return { mode, redirectTo, passwordRequired: mode === "local" && getEnv().LOCAL_SIGN_IN_HARDENED };
}

export async function action({ request }: ActionFunctionArgs) {
  if (getAuthMode() !== "local") throw new Response("Method not allowed", { status: 405 });
  rejectCrossSite(request);
  const form = await readFormData(request);
  const redirectTo = safeRedirect(form.get("redirectTo"), "/app");
  // In production (LOCAL_SIGN_IN_IN_PRODUCTION=true) every account needs a password and attempts are limited.
  const hardened = getEnv().LOCAL_SIGN_IN_HARDENED;
  const outcome = await signInWithForm(form, getAccountStore(), {
    requirePassword: hardened,
    limits: hardened ? { limiters: getSignInLimiters(), client: clientAddress(request) } : undefined,
  });
  if (!outcome.ok) {
    const limited = outcome.retryAfterMs !== undefined;
    return data(
      { fieldErrors: outcome.fieldErrors, values: outcome.values },
      limited
        ? { status: 429, headers: { "retry-after": String(retryAfterSeconds(outcome.retryAfterMs!)) } }
        : { status: 400 },
    );
  }
  const cookie = await commitNewSession(outcome.account.id, sessionEpochOf(outcome.account));
  return redirect(redirectTo, { headers: { "Set-Cookie": cookie } });
}

export default function SignInPage() {
  const { mode, redirectTo, passwordRequired } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const submitting = useNavigation().state === "submitting";

  if (mode === "clerk") {
    return (
      <div className="flex justify-center">
        <Suspense fallback={<p className="text-slate-600">Loading sign-in…</p>}>
          <ClerkSignIn redirectTo={redirectTo} />
        </Suspense>
      </div>
    );
  }

  return (
    <section aria-labelledby="sign-in-title" className="mx-auto max-w-md">
      <h1 id="sign-in-title" className="text-3xl font-bold tracking-tight text-slate-900">
        Sign in
      </h1>
      <p className="mt-2 text-slate-600">
        First time here? Signing in with a new email address creates your account.
      </p>
      <p className="mt-3 rounded-lg border border-amber-200 bg-amber-50 px-4 py-3 text-sm text-amber-900">
        This is the app&apos;s own sign-in, not a real identity provider. A new account&apos;s email is{" "}
        <strong>unverified</strong> until you open a verification link from your account page; until then it
        cannot accept invitations or be a platform admin.
      </p>
      <SignInForm
        redirectTo={redirectTo}
        fieldErrors={actionData?.fieldErrors}
        values={actionData?.values}
        submitting={submitting}
        passwordRequired={passwordRequired}
      />
    </section>
  );
}

export function ErrorBoundary() {
  return <RouteErrorView compact />;
}
