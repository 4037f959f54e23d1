// /verify-email?token=… (local sign-in only): the link a verification email carries. Opening it
// shows whose address it verifies and a button; only the button's POST uses the single-use link,
// so mail scanners that fetch links cannot use it up. Works without being signed in.
import {
  data,
  redirect,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { buttonClass } from "../components/button";
import { RouteErrorView } from "../components/error-view";
import { FormError } from "../components/form-field";
import { MessagePanel } from "../components/not-allowed";
import { getAuthMode, rejectCrossSite } from "../lib/auth.server";
import { previewVerificationLink, redeemVerificationLink } from "../lib/local-auth/account-actions.server";
import { clientAddress } from "../lib/local-auth/sign-in-limits.server";
import { enforceRateLimits } from "../lib/rate-limit.server";
import { readFormData } from "../lib/request-limits.server";
import { safeRedirect } from "../lib/safe-redirect";

export const meta: MetaFunction = () => [
  { title: "Verify your email — Switchboard" },
  // The token is a secret: keep it out of referrers.
  { name: "referrer", content: "no-referrer" },
];

export async function loader({ request }: LoaderFunctionArgs) {
  if (getAuthMode() !== "local") throw new Response("Not found", { status: 404 });
  const url = new URL(request.url);
  const token = url.searchParams.get("token") ?? "";
  const preview = await previewVerificationLink(token);
  return { token, email: preview?.email ?? null, next: safeRedirect(url.searchParams.get("next"), "") };
}

export async function action({ request }: ActionFunctionArgs) {
  if (getAuthMode() !== "local") throw new Response("Not found", { status: 404 });
  rejectCrossSite(request);
  await enforceRateLimits([["verifyEmailPerClient", clientAddress(request)]]);
  const form = await readFormData(request);
  const token = form.get("token");
  const outcome = await redeemVerificationLink(typeof token === "string" ? token : "");
  if (!outcome.ok) return data({ error: outcome.message }, { status: 400 });
  const next = safeRedirect(form.get("next"), "");
  return redirect(next || "/account?verified=1");
}

export default function VerifyEmailPage() {
  const { token, email, next } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const submitting = useNavigation().state === "submitting";
  if (!email) {
    return (
      <MessagePanel
        eyebrow="Email verification"
        title="This verification link is not valid"
        message="It may be incomplete or expired. Sign in and ask for a new one on your account page."
        alert
      >
        <Link to="/account" className={buttonClass("primary")}>
          Your account
        </Link>
      </MessagePanel>
    );
  }
  return (
    <MessagePanel
      eyebrow="Email verification"
      title={`Verify ${email}`}
      message="Confirm that this address is yours."
    >
      <Form method="post" className="flex flex-col items-center gap-3">
        <input type="hidden" name="token" value={token} />
        <input type="hidden" name="next" value={next} />
        <FormError message={result?.error} />
        <button type="submit" className={buttonClass("primary")} disabled={submitting}>
          {submitting ? "Verifying…" : "Verify email address"}
        </button>
      </Form>
    </MessagePanel>
  );
}

export function ErrorBoundary() {
  return <RouteErrorView compact />;
}
