// Clerk's sign-up, loaded lazily by /sign-up in Clerk mode only.
import { SignUp } from "@clerk/remix";

export default function ClerkSignUp({ redirectTo }: { redirectTo: string }) {
  return <SignUp routing="path" path="/sign-up" signInUrl="/sign-in" fallbackRedirectUrl={redirectTo} />;
}
