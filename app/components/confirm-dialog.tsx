// A modal confirmation for destructive actions, on the native <dialog> (focus stays inside,
// Escape cancels, the page behind is inert). The action runs from the dialog; if it fails, the
// error is shown in the dialog (e.g. "you are the last owner") and nothing closes silently.
import { useEffect, useId, useRef, useState, type ReactNode } from "react";
import { toAppError } from "../lib/convex-errors";
import { Button, type ButtonProps } from "./button";

export type ConfirmDialogProps = {
  open: boolean;
  title: string;
  description?: ReactNode;
  confirmLabel: string;
  /** Shown on the confirm button while the action runs. */
  busyLabel?: string;
  destructive?: boolean;
  /** Keeps the confirm button off (e.g. until a phrase is typed into the description's field). */
  confirmDisabled?: boolean;
  /** Runs on confirm; the dialog closes when it resolves and shows the error when it rejects. */
  onConfirm: () => Promise<unknown> | void;
  onClose: () => void;
};

export function ConfirmDialog({
  open,
  title,
  description,
  confirmLabel,
  busyLabel,
  destructive = true,
  confirmDisabled = false,
  onConfirm,
  onClose,
}: ConfirmDialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const descriptionId = useId();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (open && !element.open) {
      setError(null);
      element.showModal();
    } else if (!open && element.open) {
      element.close();
    }
  }, [open]);

  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      onClose();
    } catch (e) {
      setError(toAppError(e).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <dialog
      ref={dialog}
      aria-labelledby={titleId}
      aria-describedby={description ? descriptionId : undefined}
      // Escape: the browser closes the dialog; keep React's state in step (unless busy).
      onCancel={(event) => {
        event.preventDefault();
        if (!busy) onClose();
      }}
      className="m-auto w-[calc(100%-2rem)] max-w-md rounded-2xl text-left border border-slate-200 bg-white p-0 text-slate-900 shadow-xl backdrop:bg-slate-900/40"
    >
      {open ? (
        <div className="p-6">
          <h2 id={titleId} className="text-lg font-semibold">
            {title}
          </h2>
          {description ? (
            <div id={descriptionId} className="mt-2 text-sm text-slate-600">
              {description}
            </div>
          ) : null}
          {error ? (
            <p
              role="alert"
              className="mt-4 rounded-lg border border-red-200 bg-red-50 px-3 py-2 text-sm font-medium text-red-800"
            >
              {error}
            </p>
          ) : null}
          <div className="mt-6 flex flex-col-reverse gap-2 sm:flex-row sm:justify-end">
            {/* Cancel gets the first focus: Enter on a freshly opened dialog must not destroy anything. */}
            <Button autoFocus onClick={onClose} disabled={busy}>
              Cancel
            </Button>
            <Button
              variant={destructive ? "danger" : "primary"}
              busy={busy}
              busyLabel={busyLabel}
              disabled={confirmDisabled}
              onClick={confirm}
            >
              {confirmLabel}
            </Button>
          </div>
        </div>
      ) : null}
    </dialog>
  );
}

export type ConfirmButtonProps = Omit<ConfirmDialogProps, "open" | "onClose"> & {
  /** The trigger's text (defaults to `confirmLabel`). */
  children?: ReactNode;
  buttonProps?: Omit<ButtonProps, "onClick">;
};

/** A button that asks before it acts; focus returns to it when the dialog closes. */
export function ConfirmButton({ children, buttonProps, ...dialog }: ConfirmButtonProps) {
  const [open, setOpen] = useState(false);
  const trigger = useRef<HTMLButtonElement>(null);
  return (
    <>
      <Button ref={trigger} variant="secondary" size="sm" {...buttonProps} onClick={() => setOpen(true)}>
        {children ?? dialog.confirmLabel}
      </Button>
      <ConfirmDialog
        {...dialog}
        open={open}
        onClose={() => {
          setOpen(false);
          // The trigger may be gone (the row it was in was removed); then focus stays put.
          requestAnimationFrame(() => trigger.current?.focus());
        }}
      />
    </>
  );
}
