// A labelled multi-line text field with hint, error and, when it has a limit, a character count
// as people type (red when over). Like TextField, it never cuts what was typed or pasted.
import { forwardRef, useId, type ReactNode, type TextareaHTMLAttributes } from "react";
import { charCount, type Limit } from "../lib/text-limits";
import { FieldFrame, controlClass, describedBy } from "./form-field";

export type TextAreaFieldProps = Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, "id" | "maxLength"> & {
  label: ReactNode;
  hint?: ReactNode;
  error?: string | null;
  fieldClassName?: string;
  limit?: Limit;
};

export const TextAreaField = forwardRef<HTMLTextAreaElement, TextAreaFieldProps>(function TextAreaField(
  { label, hint, error, fieldClassName, className, limit, rows = 4, ...textarea },
  ref,
) {
  const id = useId();
  const count = limit ? charCount(String(textarea.value ?? ""), limit) : null;
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
      <textarea
        ref={ref}
        id={id}
        rows={rows}
        aria-invalid={error || count?.over ? true : undefined}
        aria-describedby={describedBy(id, error, fullHint)}
        className={`${controlClass(error || (count?.over ? "over" : null))} resize-y ${className ?? ""}`}
        {...textarea}
      />
    </FieldFrame>
  );
});
