// POST /sign-out: ends the local session. With Clerk, the header's button signs out through
// Clerk in the browser instead; this route then only sends people home.
import { redirect, type ActionFunctionArgs } from "@remix-run/node";
import { getAuthMode, rejectCrossSite } from "../lib/auth.server";
import { destroySession } from "../lib/local-auth/session.server";

export async function action({ request }: ActionFunctionArgs) {
  rejectCrossSite(request);
  if (getAuthMode() !== "local") return redirect("/");
  return redirect("/", { headers: { "Set-Cookie": await destroySession(request) } });
}

/** Signing out changes state, so a plain visit (a link, a prefetch) does nothing but go home. */
export function loader() {
  return redirect("/");
}
