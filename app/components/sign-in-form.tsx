// Local sign-in's form. Works without JavaScript (a plain POST); with it, the first field with a
// problem gets focus after a failed attempt so keyboard and screen-reader users land on it.
import { Form } from "@remix-run/react";
import { useEffect, useRef, type RefObject } from "react";

type Field = "email" | "name" | "password";

export type SignInFormProps = {
  redirectTo: string;
  fieldErrors?: Partial<Record<Field, string>>;
  values?: { email: string; name: string };
  submitting: boolean;
  /** Local sign-in in production: every account needs a password. */
  passwordRequired?: boolean;
};

const FIELD_ORDER: Field[] = ["email", "name", "password"];

export function SignInForm({
  redirectTo,
  fieldErrors,
  values,
  submitting,
  passwordRequired,
}: SignInFormProps) {
  const refs = {
    email: useRef<HTMLInputElement>(null),
    name: useRef<HTMLInputElement>(null),
    password: useRef<HTMLInputElement>(null),
  };
  useEffect(() => {
    const first = FIELD_ORDER.find((field) => fieldErrors?.[field]);
    if (first) refs[first].current?.focus();
    // Refs are stable; focus moves only when a new set of errors arrives.
  }, [fieldErrors]);

  return (
    <Form
      method="post"
      noValidate
      className="mt-8 space-y-6 rounded-2xl border border-slate-200 bg-white p-6 shadow-sm"
    >
      <input type="hidden" name="redirectTo" value={redirectTo} />
      <TextField
        inputRef={refs.email}
        name="email"
        label="Email"
        type="email"
        autoComplete="email"
        defaultValue={values?.email}
        error={fieldErrors?.email}
        required
      />
      <TextField
        inputRef={refs.name}
        name="name"
        label="Name"
        autoComplete="name"
        hint="For a new account. Signing in to an existing account keeps its name."
        defaultValue={values?.name}
        error={fieldErrors?.name}
        required
      />
      <TextField
        inputRef={refs.password}
        name="password"
        label={passwordRequired ? "Password" : "Password (optional)"}
        type="password"
        autoComplete="current-password"
        hint={
          passwordRequired
            ? "Required on this server. The first sign-in with an email sets it."
            : "Set one the first time you sign in and it is required from then on. Without one, anyone who types this email gets into the account (fine for local development only)."
        }
        error={fieldErrors?.password}
        required={passwordRequired}
      />
      <button
        type="submit"
        disabled={submitting}
        className="w-full rounded-lg bg-brand-600 px-4 py-2.5 text-sm font-semibold text-white shadow-sm hover:bg-brand-700 disabled:opacity-60"
      >
        {submitting ? "Signing in…" : "Sign in"}
      </button>
    </Form>
  );
}

type TextFieldProps = {
  inputRef: RefObject<HTMLInputElement>;
  name: Field;
  label: string;
  type?: "text" | "email" | "password";
  autoComplete: string;
  defaultValue?: string;
  hint?: string;
  error?: string;
  required?: boolean;
};

function TextField({
  inputRef,
  name,
  label,
  type = "text",
  autoComplete,
  defaultValue,
  hint,
  error,
  required,
}: TextFieldProps) {
  const id = `sign-in-${name}`;
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [errorId, hintId].filter(Boolean).join(" ") || undefined;
  return (
    <div>
      <label htmlFor={id} className="block text-sm font-medium text-slate-900">
        {label}
      </label>
      <input
        ref={inputRef}
        id={id}
        name={name}
        type={type}
        autoComplete={autoComplete}
        defaultValue={defaultValue}
        required={required}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy}
        className={`mt-1.5 block w-full rounded-lg border px-3 py-2 text-slate-900 shadow-sm focus:border-brand-600 ${
          error ? "border-red-600" : "border-slate-300"
        }`}
      />
      {error ? (
        <p id={errorId} className="mt-1.5 text-sm font-medium text-red-700">
          {error}
        </p>
      ) : null}
      {hint ? (
        <p id={hintId} className="mt-1.5 text-sm text-slate-500">
          {hint}
        </p>
      ) : null}
    </div>
  );
}
