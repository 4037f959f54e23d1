// The entry to every signed-in page. After sign-in the browser's Convex connection carries the
// user's token, but Convex knows the user only once `users.ensure` has registered them from that
// token; until then `users.me` is null and every other function refuses. This gate calls ensure
// once per signed-in account and page load, waits for `me`, and hands it to the page below.
// On the document's first render (the server's HTML and its hydration), a `me` read by the
// route's loader (preloaded) lets the page render at once, and the live `me` takes over once
// the connection is confirmed; the browser's Convex client holds every query until then
// (`expectAuth`, lib/convex.ts). Pages reached later, in the browser, wait for the sign-in.
import { Link, useLocation } from "@remix-run/react";
import { useConvexAuth, useMutation, type Preloaded } from "convex/react";
import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from "react";
import { api } from "../../convex/_generated/api";
import { toAppError } from "../lib/convex-errors";
import { useRootData } from "../lib/root-data";
import { usePreloaded } from "../lib/use-preloaded";
import { signInPath } from "../lib/safe-redirect";
import { ensureOnce, forgetEnsure, type Me } from "../lib/current-user";
import { Button, buttonClass } from "./button";
import { LoadingState } from "./spinner";

const MeContext = createContext<Me | null>(null);

/** False until the first gate in this document has hydrated. */
let hydrated = false;

/** The signed-in user, for components under <SignedInGate>. */
export function useMe(): Me {
  const me = useContext(MeContext);
  if (!me) throw new Error("useMe() must be used under <SignedInGate>");
  return me;
}

export function SignedInGate({
  children,
  preloadedMe,
}: {
  children: ReactNode;
  preloadedMe?: Preloaded<typeof api.users.me> | null;
}) {
  const { isLoading, isAuthenticated } = useConvexAuth();
  // Only a gate rendered with the document may show preloaded data before the sign-in is confirmed.
  const withDocument = useRef(!hydrated).current;
  useEffect(() => {
    hydrated = true;
  }, []);
  const me = usePreloaded(api.users.me, {}, withDocument || isAuthenticated ? preloadedMe : null);
  const ensure = useMutation(api.users.ensure);
  const account = useRootData()?.auth.user?.subject ?? "signed-in";
  const [error, setError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    if (!isAuthenticated) return;
    let current = true;
    ensureOnce(account, () => ensure({})).catch((e: unknown) => {
      if (current) setError(toAppError(e, "We could not finish signing you in.").message);
    });
    return () => {
      current = false;
    };
  }, [isAuthenticated, account, ensure, attempt]);

  if (error) {
    return (
      <GateProblem title="We could not finish signing you in" message={error}>
        <Button
          variant="primary"
          onClick={() => {
            forgetEnsure(account);
            setError(null);
            setAttempt((n) => n + 1);
          }}
        >
          Try again
        </Button>
      </GateProblem>
    );
  }
  if (!isLoading && !isAuthenticated) return <SessionNotConfirmed />;
  if (!me) return <LoadingState label="Signing you in…" />;
  return <MeContext.Provider value={me}>{children}</MeContext.Provider>;
}

function SessionNotConfirmed() {
  const location = useLocation();
  return (
    <GateProblem
      title="Your sign-in could not be confirmed"
      message="Your session may have ended. Sign in again to continue."
    >
      <Link to={signInPath(`${location.pathname}${location.search}`)} className={buttonClass("primary")}>
        Sign in
      </Link>
    </GateProblem>
  );
}

function GateProblem({ title, message, children }: { title: string; message: string; children: ReactNode }) {
  return (
    <section
      role="alert"
      className="mx-auto max-w-xl rounded-2xl border border-slate-200 bg-white p-8 text-center shadow-sm"
    >
      <h1 className="text-2xl font-semibold tracking-tight text-slate-900">{title}</h1>
      <p className="mt-3 text-slate-600">{message}</p>
      <div className="mt-6 flex justify-center">{children}</div>
    </section>
  );
}
