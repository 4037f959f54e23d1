// A value to paste somewhere else (a webhook URL): shown read-only, selectable, with a Copy
// button that says when it worked.
import { useEffect, useId, useRef, useState } from "react";
import { Button } from "./button";

export function CopyField({ label, value, hint }: { label: string; value: string; hint?: string }) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [status, setStatus] = useState<string | null>(null);

  useEffect(() => {
    if (!status) return;
    const timer = window.setTimeout(() => setStatus(null), 4_000);
    return () => window.clearTimeout(timer);
  }, [status]);

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setStatus("Copied to the clipboard");
    } catch {
      // Without clipboard access (insecure origin, denied permission) select it for Ctrl+C.
      input.current?.focus();
      input.current?.select();
      setStatus("Selected: press Ctrl+C (⌘C on a Mac) to copy");
    }
  };

  return (
    <div>
      <label htmlFor={id} className="block text-sm font-medium text-slate-900">
        {label}
      </label>
      <div className="mt-1.5 flex gap-2">
        <input
          ref={input}
          id={id}
          readOnly
          value={value}
          onFocus={(e) => e.currentTarget.select()}
          aria-describedby={hint ? `${id}-hint` : undefined}
          className="block w-full min-w-0 rounded-lg border border-slate-300 bg-slate-50 px-3 py-2 font-mono text-sm text-slate-900 shadow-sm"
        />
        <Button onClick={copy} aria-label={`Copy ${label}`}>
          Copy
        </Button>
      </div>
      {hint ? (
        <p id={`${id}-hint`} className="mt-1.5 text-sm text-slate-500">
          {hint}
        </p>
      ) : null}
      <p role="status" className={status ? "mt-1.5 text-sm font-medium text-brand-700" : "sr-only"}>
        {status ?? ""}
      </p>
    </div>
  );
}
