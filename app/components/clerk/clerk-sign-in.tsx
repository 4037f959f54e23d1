// Clerk's sign-in, loaded lazily by /sign-in in Clerk mode only.
import { SignIn } from "@clerk/remix";

export default function ClerkSignIn({ redirectTo }: { redirectTo: string }) {
  return <SignIn routing="path" path="/sign-in" signUpUrl="/sign-up" fallbackRedirectUrl={redirectTo} />;
}
