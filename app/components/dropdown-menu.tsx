// A disclosure menu: a button with aria-expanded controlling a panel below it. The panel closes
// on navigation, on Escape (focus back on the button) and on a click elsewhere on the page.
import { useLocation } from "@remix-run/react";
import { useEffect, useId, useRef, useState, type ReactNode } from "react";

export type DropdownMenuProps = {
  /** The button's content (its accessible name); a chevron that turns when open follows it. */
  button: ReactNode;
  buttonClassName: string;
  /** The panel's classes (position, size, look); it is hidden while the menu is closed. */
  panelClassName: string;
  /** Which pointer event outside the menu closes it. */
  closeOn?: "mousedown" | "click";
  children: ReactNode;
};

export function DropdownMenu({
  button,
  buttonClassName,
  panelClassName,
  closeOn = "mousedown",
  children,
}: DropdownMenuProps) {
  const [open, setOpen] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  const toggle = useRef<HTMLButtonElement>(null);
  const panelId = useId();
  const location = useLocation();

  useEffect(() => setOpen(false), [location.key]);
  useEffect(() => {
    if (!open) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== "Escape") return;
      setOpen(false);
      toggle.current?.focus();
    };
    const onPointer = (event: MouseEvent) => {
      if (!root.current?.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener("keydown", onKey);
    document.addEventListener(closeOn, onPointer);
    return () => {
      document.removeEventListener("keydown", onKey);
      document.removeEventListener(closeOn, onPointer);
    };
  }, [open, closeOn]);

  return (
    <div ref={root} className="relative">
      <button
        ref={toggle}
        type="button"
        aria-expanded={open}
        aria-controls={panelId}
        onClick={() => setOpen((value) => !value)}
        className={buttonClassName}
      >
        {button}
        <svg
          aria-hidden="true"
          viewBox="0 0 20 20"
          className={`size-4 shrink-0 text-slate-400 ${open ? "rotate-180" : ""}`}
        >
          <path
            fill="currentColor"
            d="M5.3 7.3a1 1 0 0 1 1.4 0L10 10.6l3.3-3.3a1 1 0 1 1 1.4 1.4l-4 4a1 1 0 0 1-1.4 0l-4-4a1 1 0 0 1 0-1.4Z"
          />
        </svg>
      </button>
      <div id={panelId} hidden={!open} className={panelClassName}>
        {children}
      </div>
    </div>
  );
}
