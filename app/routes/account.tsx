// /account (local sign-in only): the signed-in account's email and whether it is verified, a
// first password for an account made without one, and a link to verify the email. Unverified
// local accounts cannot accept invitations or be platform admins. In development without a mail
// provider the verification link is shown here instead of being emailed.
import {
  data,
  redirect,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { buttonClass } from "../components/button";
import { FormError, TextField } from "../components/form-field";
import { RouteErrorView } from "../components/error-view";
import {
  getAccountStore,
  getAuthMode,
  getLocalAccount,
  localUser,
  rejectCrossSite,
  requireUser,
} from "../lib/auth.server";
import { linksShownOnPage, sendVerificationLink } from "../lib/local-auth/account-actions.server";
import { MIN_PASSWORD_LENGTH } from "../lib/local-auth/accounts.server";
import { destroySession } from "../lib/local-auth/session.server";
import { checkRateLimits, retryAfterSeconds, retryAfterText } from "../lib/rate-limit.server";
import { readFormData } from "../lib/request-limits.server";
import { safeRedirect } from "../lib/safe-redirect";

export const meta: MetaFunction = () => [{ title: "Your account — Switchboard" }];

async function requireAccount(request: Request) {
  if (getAuthMode() !== "local") throw new Response("Not found", { status: 404 });
  await requireUser(request);
  const account = await getLocalAccount(request);
  if (!account) throw redirect("/sign-in");
  return account;
}

export async function loader({ request }: LoaderFunctionArgs) {
  const account = await requireAccount(request);
  const url = new URL(request.url);
  const user = localUser(account);
  return {
    email: account.email,
    name: account.name,
    emailVerified: user.local!.emailVerified,
    hasPassword: user.local!.hasPassword,
    linksShown: linksShownOnPage(),
    minPasswordLength: MIN_PASSWORD_LENGTH,
    next: safeRedirect(url.searchParams.get("next"), ""),
    justVerified: url.searchParams.get("verified") === "1",
  };
}

export type AccountActionData =
  | { intent: "set-password"; error?: string; done?: boolean }
  | { intent: "sign-out-everywhere"; error?: string }
  | { intent: "send-verification"; error?: string; sent?: boolean; link?: string };

export async function action({ request }: ActionFunctionArgs) {
  rejectCrossSite(request);
  const account = await requireAccount(request);
  const form = await readFormData(request);
  const intent = form.get("intent");
  if (intent === "set-password") {
    const password = form.get("password");
    const result = await getAccountStore().setPassword(
      account.id,
      typeof password === "string" ? password : "",
    );
    if (!result.ok) {
      const message = "message" in result ? result.message : "Sign in again";
      return data<AccountActionData>({ intent, error: message }, { status: 400 });
    }
    return data<AccountActionData>({ intent, done: true });
  }
  if (intent === "sign-out-everywhere") {
    // Every session made before now stops working, this one included (tokens already handed to
    // Convex run out within five minutes).
    await getAccountStore().signOutEverywhere(account.id);
    return redirect("/sign-in", { headers: { "Set-Cookie": await destroySession(request) } });
  }
  if (intent === "send-verification") {
    const limited = await checkRateLimits([["verificationEmailPerAccount", account.id]]);
    if (!limited.ok) {
      return data<AccountActionData>(
        {
          intent,
          error: `Too many verification emails for this account. Try again ${retryAfterText(limited.retryAfterMs)}.`,
        },
        { status: 429, headers: { "retry-after": String(retryAfterSeconds(limited.retryAfterMs)) } },
      );
    }
    const outcome = await sendVerificationLink(account, form.get("next")?.toString());
    switch (outcome.kind) {
      case "sent":
        return data<AccountActionData>({ intent, sent: true });
      case "shown":
        return data<AccountActionData>({ intent, link: outcome.link });
      case "needs-password":
        return data<AccountActionData>(
          { intent, error: "Set a password first: a passwordless account cannot be verified." },
          { status: 400 },
        );
      case "failed":
        return data<AccountActionData>({ intent, error: outcome.message }, { status: 503 });
    }
  }
  return data<AccountActionData>({ intent: "send-verification", error: "Unknown action" }, { status: 400 });
}

export default function AccountPage() {
  const account = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>() as AccountActionData | undefined;
  const navigation = useNavigation();
  const busy = navigation.state === "submitting" ? navigation.formData?.get("intent") : null;

  return (
    <section aria-labelledby="account-title" className="mx-auto max-w-xl space-y-8">
      <div>
        <h1 id="account-title" className="text-3xl font-bold tracking-tight text-slate-900">
          Your account
        </h1>
        <p className="mt-2 text-slate-600">
          {account.name} · {account.email}
        </p>
      </div>

      {account.justVerified ? (
        <p role="status" className="rounded-lg bg-brand-50 px-4 py-3 text-sm font-medium text-brand-700">
          Your email address is verified.
        </p>
      ) : null}

      <div className="rounded-2xl border border-slate-200 bg-white p-6 shadow-sm">
        <h2 className="text-lg font-semibold text-slate-900">Email address</h2>
        {account.emailVerified ? (
          <p className="mt-2 text-sm text-slate-700">
            <strong>{account.email}</strong> is verified.
          </p>
        ) : (
          <>
            <p className="mt-2 text-sm text-slate-700">
              <strong>{account.email}</strong> is <strong>not verified</strong>. Local accounts are unverified
              until you open a link sent to the address. Until then this account cannot accept invitations to
              workspaces and cannot be a platform admin.
            </p>
            {account.linksShown ? (
              <p className="mt-2 text-sm text-slate-500">
                Mail is not sent locally: the link will be shown on this page instead.
              </p>
            ) : null}
            {account.hasPassword ? (
              <Form method="post" className="mt-4">
                <input type="hidden" name="intent" value="send-verification" />
                <input type="hidden" name="next" value={account.next} />
                <button
                  type="submit"
                  className={buttonClass("primary")}
                  disabled={busy === "send-verification"}
                >
                  {busy === "send-verification" ? "Sending…" : "Send a verification link"}
                </button>
              </Form>
            ) : (
              <p className="mt-2 text-sm text-slate-700">
                Set a password first: an account without one is open to anyone who types its email, so it
                cannot be verified.
              </p>
            )}
            {result?.intent === "send-verification" ? (
              <VerificationResult result={result} email={account.email} />
            ) : null}
          </>
        )}
      </div>

      {account.hasPassword ? null : (
        <div className="rounded-2xl border border-slate-200 bg-white p-6 shadow-sm">
          <h2 className="text-lg font-semibold text-slate-900">Password</h2>
          <p className="mt-2 text-sm text-slate-700">
            This account has no password: anyone who types {account.email} on the sign-in page gets in. Set
            one and it is required from then on.
          </p>
          {result?.intent === "set-password" && result.done ? (
            <p role="status" className="mt-4 text-sm font-medium text-brand-700">
              Password set.
            </p>
          ) : (
            <Form method="post" className="mt-4 space-y-4">
              <input type="hidden" name="intent" value="set-password" />
              <TextField
                label="New password"
                name="password"
                type="password"
                autoComplete="new-password"
                hint={`At least ${account.minPasswordLength} characters.`}
                error={result?.intent === "set-password" ? result.error : undefined}
                required
              />
              <button type="submit" className={buttonClass("primary")} disabled={busy === "set-password"}>
                {busy === "set-password" ? "Saving…" : "Set password"}
              </button>
            </Form>
          )}
        </div>
      )}

      <div className="rounded-2xl border border-slate-200 bg-white p-6 shadow-sm">
        <h2 className="text-lg font-semibold text-slate-900">Sessions</h2>
        <p className="mt-2 text-sm text-slate-700">
          Signed in on another device, or on a computer you no longer use? Sign out everywhere ends every
          session of this account, this one included.
        </p>
        <Form method="post" className="mt-4">
          <input type="hidden" name="intent" value="sign-out-everywhere" />
          <button
            type="submit"
            className={buttonClass("secondary")}
            disabled={busy === "sign-out-everywhere"}
          >
            {busy === "sign-out-everywhere" ? "Signing out…" : "Sign out everywhere"}
          </button>
        </Form>
      </div>

      {account.next ? (
        <p>
          <Link to={account.next} className="font-medium text-brand-700 underline">
            Back to where you were
          </Link>
        </p>
      ) : null}
    </section>
  );
}

function VerificationResult({
  result,
  email,
}: {
  result: Extract<AccountActionData, { intent: "send-verification" }>;
  email: string;
}) {
  if (result.error) {
    return (
      <div className="mt-4">
        <FormError message={result.error} />
      </div>
    );
  }
  if (result.link) {
    return (
      <div
        role="status"
        className="mt-4 rounded-lg border border-amber-200 bg-amber-50 px-4 py-3 text-sm text-amber-900"
      >
        <p>
          Email is not sent locally (no RESEND_API_KEY in development), so here is the link that would have
          been emailed to {email}. It works once, for 24 hours.
        </p>
        <p className="mt-2 break-all">
          <a href={result.link} className="font-medium underline">
            Verify {email}
          </a>
        </p>
      </div>
    );
  }
  if (result.sent) {
    return (
      <p role="status" className="mt-4 text-sm font-medium text-brand-700">
        We sent a verification link to {email}. It works once, for 24 hours; asking again replaces it.
      </p>
    );
  }
  return null;
}

export function ErrorBoundary() {
  return <RouteErrorView compact />;
}
