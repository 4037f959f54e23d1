// The local sign-in form: validation (zod) and the outcome the route turns into a response.
import { z } from "zod";
import { MIN_PASSWORD_LENGTH, type AccountStore, type Account } from "./accounts.server";

export const MAX_NAME_LENGTH = 100;
const MAX_PASSWORD_LENGTH = 1024;

const signInSchema = z.object({
  email: z
    .string({ error: "Enter your email address" })
    .trim()
    .toLowerCase()
    .min(1, "Enter your email address")
    .max(254, "That email address is too long")
    .pipe(z.email("Enter a valid email address, like name@example.com")),
  name: z
    .string({ error: "Enter your name" })
    .trim()
    .min(1, "Enter your name")
    .max(MAX_NAME_LENGTH, `Use at most ${MAX_NAME_LENGTH} characters`),
  // Optional: an empty field means "no password". Not trimmed: spaces may be part of it.
  password: z
    .string()
    .max(MAX_PASSWORD_LENGTH, `Use at most ${MAX_PASSWORD_LENGTH} characters`)
    .optional()
    .transform((value) => (value ? value : undefined)),
});

export type SignInField = "email" | "name" | "password";
export type SignInFieldErrors = Partial<Record<SignInField, string>>;
/** What the form shows again after a failed attempt; never the password. */
export type SignInValues = { email: string; name: string };

export type SignInOutcome =
  { ok: true; account: Account } | { ok: false; fieldErrors: SignInFieldErrors; values: SignInValues };

function text(form: FormData, name: string): string | undefined {
  const value = form.get(name);
  return typeof value === "string" ? value : undefined;
}

export async function signInWithForm(form: FormData, store: AccountStore): Promise<SignInOutcome> {
  const values = { email: text(form, "email") ?? "", name: text(form, "name") ?? "" };
  const parsed = signInSchema.safeParse({
    email: text(form, "email"),
    name: text(form, "name"),
    password: text(form, "password"),
  });
  if (!parsed.success) {
    const fieldErrors: SignInFieldErrors = {};
    for (const issue of parsed.error.issues) {
      const field = issue.path[0] as SignInField;
      fieldErrors[field] ??= issue.message;
    }
    return { ok: false, fieldErrors, values };
  }
  const result = await store.signIn(parsed.data);
  if (!result.ok) return { ok: false, fieldErrors: { [result.field]: result.message }, values };
  return { ok: true, account: result.account };
}

export { MIN_PASSWORD_LENGTH };
