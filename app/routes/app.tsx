// /app: the signed-in home. Registers the user with Convex (through the gate), then opens their
// last workspace, else their first, else onboarding.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useNavigate } from "@remix-run/react";
import { useEffect } from "react";
import { DataRouteErrorView } from "../components/data-error-view";
import { SignedInGate, useMe } from "../components/signed-in-gate";
import { LoadingState } from "../components/spinner";
import { requireUser } from "../lib/auth.server";
import { homePathFor } from "../lib/current-user";

export const meta: MetaFunction = () => [{ title: "Switchboard" }];

export async function loader({ request }: LoaderFunctionArgs) {
  await requireUser(request);
  return null;
}

export default function AppHome() {
  return (
    <SignedInGate>
      <GoHome />
    </SignedInGate>
  );
}

function GoHome() {
  const me = useMe();
  const navigate = useNavigate();
  const to = homePathFor(me);
  useEffect(() => {
    navigate(to, { replace: true });
  }, [navigate, to]);
  return <LoadingState label={to === "/onboarding" ? "Setting up…" : "Opening your workspace…"} />;
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
