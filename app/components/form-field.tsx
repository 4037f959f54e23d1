// Labelled form controls with hint and error text wired up for assistive technology
// (aria-invalid, aria-describedby), plus form-level error and success messages.
import {
  forwardRef,
  useEffect,
  useId,
  type InputHTMLAttributes,
  type ReactNode,
  type RefObject,
  type SelectHTMLAttributes,
} from "react";
import type { Option } from "../lib/tenant-options";
import { charCount, type Limit } from "../lib/text-limits";

export type FieldFrameProps = {
  id: string;
  label: ReactNode;
  hint?: ReactNode;
  error?: string | null;
  children: ReactNode;
  className?: string;
};

export function FieldFrame({ id, label, hint, error, children, className }: FieldFrameProps) {
  return (
    <div className={className}>
      <label htmlFor={id} className="block text-sm font-medium text-slate-900">
        {label}
      </label>
      {children}
      {error ? (
        <p id={`${id}-error`} className="mt-1.5 text-sm font-medium text-red-700">
          {error}
        </p>
      ) : null}
      {hint ? (
        <p id={`${id}-hint`} className="mt-1.5 text-sm text-slate-500">
          {hint}
        </p>
      ) : null}
    </div>
  );
}

export function describedBy(id: string, error?: string | null, hint?: ReactNode): string | undefined {
  return [error ? `${id}-error` : null, hint ? `${id}-hint` : null].filter(Boolean).join(" ") || undefined;
}

export const controlClass = (error?: string | null) =>
  `mt-1.5 block w-full rounded-lg border bg-white px-3 py-2 text-slate-900 shadow-sm focus:border-brand-600 ${
    error ? "border-red-600" : "border-slate-300"
  }`;

export type TextFieldProps = Omit<InputHTMLAttributes<HTMLInputElement>, "id" | "maxLength"> & {
  label: ReactNode;
  hint?: ReactNode;
  error?: string | null;
  fieldClassName?: string;
  /**
   * A length limit to count against as people type (shown under the field, red when over).
   * Nothing typed or pasted is ever cut: the form refuses to save instead (lib/text-limits.ts).
   */
  limit?: Limit;
};

export const TextField = forwardRef<HTMLInputElement, TextFieldProps>(function TextField(
  { label, hint, error, fieldClassName, className, limit, ...input },
  ref,
) {
  const id = useId();
  const count = limit ? charCount(String(input.value ?? ""), limit) : null;
  const fullHint = count ? (
    <>
      {hint ? <>{hint} </> : null}
      <span className={count.over ? "font-medium text-red-700" : undefined}>{count.text}</span>
    </>
  ) : (
    hint
  );
  return (
    <FieldFrame id={id} label={label} hint={fullHint} error={error} className={fieldClassName}>
      <input
        ref={ref}
        id={id}
        aria-invalid={error || count?.over ? true : undefined}
        aria-describedby={describedBy(id, error, fullHint)}
        className={`${controlClass(error || (count?.over ? "over" : null))} ${className ?? ""}`}
        {...input}
      />
    </FieldFrame>
  );
});

export type SelectFieldProps = Omit<SelectHTMLAttributes<HTMLSelectElement>, "id"> & {
  label: ReactNode;
  options: readonly Option[];
  hint?: ReactNode;
  error?: string | null;
  fieldClassName?: string;
};

export const SelectField = forwardRef<HTMLSelectElement, SelectFieldProps>(function SelectField(
  { label, options, hint, error, fieldClassName, className, ...select },
  ref,
) {
  const id = useId();
  return (
    <FieldFrame id={id} label={label} hint={hint} error={error} className={fieldClassName}>
      <select
        ref={ref}
        id={id}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, error, hint)}
        className={`${controlClass(error)} ${className ?? ""}`}
        {...select}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </FieldFrame>
  );
});

/** A problem with the whole form, announced when it appears. */
export function FormError({ message }: { message: string | null | undefined }) {
  if (!message) return null;
  return (
    <p
      role="alert"
      className="rounded-lg border border-red-200 bg-red-50 px-3 py-2 text-sm font-medium text-red-800"
    >
      {message}
    </p>
  );
}

/** A success message, announced politely; the live region stays mounted so updates are heard. */
export function FormStatus({ message }: { message: string | null | undefined }) {
  return (
    <p role="status" className={message ? "text-sm font-medium text-brand-700" : "sr-only"}>
      {message ?? ""}
    </p>
  );
}

/**
 * After a failed submit, moves focus to the first invalid control of the form, so keyboard and
 * screen-reader users land on the problem. Runs whenever `errors` changes to a new object.
 */
export function useFocusFirstInvalid(form: RefObject<HTMLFormElement>, errors: object | null) {
  useEffect(() => {
    if (!errors) return;
    form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [form, errors]);
}
