// The local sign-in form: validation (zod) and the outcome the route turns into a response.
import { z } from "zod";
import { retryAfterText } from "../rate-limit.server";
import { MIN_PASSWORD_LENGTH, type AccountStore, type Account } from "./accounts.server";
import type { SignInLimiters } from "./sign-in-limits.server";

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
  | { ok: true; account: Account }
  | {
      ok: false;
      fieldErrors: SignInFieldErrors;
      values: SignInValues;
      /** Refused by a rate limit: how long until the next attempt may pass. */
      retryAfterMs?: number;
    };

function text(form: FormData, name: string): string | undefined {
  const value = form.get(name);
  return typeof value === "string" ? value : undefined;
}

export type SignInPolicy = {
  /** Every account needs a password, new and existing (local sign-in in production). */
  requirePassword?: boolean;
  /** When set, each attempt counts against the email's and the client's limits. */
  limits?: { limiters: SignInLimiters; client: string | null };
};

export async function signInWithForm(
  form: FormData,
  store: AccountStore,
  policy: SignInPolicy = {},
): Promise<SignInOutcome> {
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
  if (policy.limits) {
    const { limiters, client } = policy.limits;
    const checks = [limiters.perEmail.consume(`email:${parsed.data.email}`)];
    if (client) checks.push(limiters.perClient.consume(`client:${client}`));
    const refused = (await Promise.all(checks)).find((r) => !r.ok);
    if (refused && !refused.ok) {
      return {
        ok: false,
        retryAfterMs: refused.retryAfterMs,
        fieldErrors: {
          password: `Too many sign-in attempts. Try again ${retryAfterText(refused.retryAfterMs)}.`,
        },
        values,
      };
    }
  }
  const result = await store.signIn(parsed.data, { requirePassword: policy.requirePassword });
  if (!result.ok) return { ok: false, fieldErrors: { [result.field]: result.message }, values };
  return { ok: true, account: result.account };
}

export { MIN_PASSWORD_LENGTH };
