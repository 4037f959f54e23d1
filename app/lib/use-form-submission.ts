// The state of a form that saves through a Convex mutation from the browser: busy while the
// call runs (a second submit is ignored), the error split between the form's fields and the
// form itself (focus moves to the first invalid field), and a success message to announce.
import { useCallback, useRef, useState } from "react";
import { useFocusFirstInvalid } from "../components/form-field";
import { toFormErrors, type FormErrors } from "./convex-errors";

export type FormSubmission<F extends string> = {
  /** Attach to the <form>, so focus can move to its first invalid field. */
  form: React.RefObject<HTMLFormElement>;
  busy: boolean;
  errors: FormErrors<F> | null;
  /** The latest success message, until the next submit or edit. */
  status: string | null;
  /** The message for `field`, if it has one. */
  fieldError: (field: F) => string | undefined;
  /**
   * Runs `save` unless a save is already running. Its returned string is announced; what it
   * throws lands on the field it names (one of `fields`) or above the buttons. Resolves true
   * when the save succeeded.
   */
  submit: (save: () => Promise<string | void | null>) => Promise<boolean>;
  /** Shows a problem found before calling the backend. */
  invalid: (problems: Partial<Record<F, string>>) => void;
  /** Forgets the success message (call when the user edits the form again). */
  clearStatus: () => void;
};

export function useFormSubmission<F extends string>(fields: readonly F[]): FormSubmission<F> {
  const form = useRef<HTMLFormElement>(null);
  const running = useRef(false);
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<FormErrors<F> | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  useFocusFirstInvalid(form, errors);

  const submit = useCallback(
    async (save: () => Promise<string | void | null>) => {
      if (running.current) return false;
      running.current = true;
      setBusy(true);
      setErrors(null);
      setStatus(null);
      try {
        const message = await save();
        if (message) setStatus(message);
        return true;
      } catch (error) {
        setErrors(toFormErrors(error, fields));
        return false;
      } finally {
        running.current = false;
        setBusy(false);
      }
    },
    [fields],
  );

  return {
    form,
    busy,
    errors,
    status,
    fieldError: (field) => errors?.fields[field],
    submit,
    invalid: useCallback((problems) => {
      setStatus(null);
      setErrors({ fields: problems, form: null });
    }, []),
    clearStatus: useCallback(() => setStatus(null), []),
  };
}
