// /sign-up: Clerk's <SignUp /> when Clerk is configured. Local sign-in creates an account on the
// first sign-in with a new email, so here it sends people to /sign-in.
import { redirect, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { lazy, Suspense } from "react";
import { RouteErrorView } from "../components/error-view";
import { getAuthMode } from "../lib/auth.server";
import { safeRedirect, signInPath } from "../lib/safe-redirect";

const ClerkSignUp = lazy(() => import("../components/clerk/clerk-sign-up"));

export const meta: MetaFunction = () => [{ title: "Create an account — Switchboard" }];

export function loader({ request }: LoaderFunctionArgs) {
  const redirectTo = safeRedirect(new URL(request.url).searchParams.get("redirectTo"));
  if (getAuthMode() === "local") throw redirect(signInPath(redirectTo));
  return { redirectTo };
}

export default function SignUpPage() {
  const { redirectTo } = useLoaderData<typeof loader>();
  return (
    <div className="flex justify-center">
      <Suspense fallback={<p className="text-slate-600">Loading sign-up…</p>}>
        <ClerkSignUp redirectTo={redirectTo} />
      </Suspense>
    </div>
  );
}

export function ErrorBoundary() {
  return <RouteErrorView compact />;
}
