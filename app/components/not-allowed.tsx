// Whole-page messages: a refusal (the page exists but the viewer's role does not reach it) and
// other explanations ("workspace not found", "invitation expired"). Refusals are alerts.
import { Link } from "@remix-run/react";
import { useId, type ReactNode } from "react";
import { buttonClass } from "./button";

export type MessagePanelProps = {
  title: string;
  message: ReactNode;
  eyebrow?: string;
  /** Announce it as an alert (for refusals and failures). */
  alert?: boolean;
  tone?: "neutral" | "warning";
  children?: ReactNode;
};

export function MessagePanel({
  title,
  message,
  eyebrow,
  alert,
  tone = "neutral",
  children,
}: MessagePanelProps) {
  const titleId = useId();
  return (
    <section
      role={alert ? "alert" : undefined}
      aria-labelledby={titleId}
      className={`mx-auto max-w-xl rounded-2xl border bg-white p-8 text-center shadow-sm ${
        tone === "warning" ? "border-amber-200" : "border-slate-200"
      }`}
    >
      {eyebrow ? (
        <p
          className={`text-sm font-semibold tracking-wide uppercase ${tone === "warning" ? "text-amber-700" : "text-brand-700"}`}
        >
          {eyebrow}
        </p>
      ) : null}
      <h1 id={titleId} className="mt-2 text-2xl font-semibold tracking-tight text-slate-900">
        {title}
      </h1>
      <div className="mt-3 text-slate-600">{message}</div>
      {children ? <div className="mt-6 flex flex-wrap justify-center gap-3">{children}</div> : null}
    </section>
  );
}

export type NotAllowedProps = {
  message: ReactNode;
  title?: string;
  backTo?: { to: string; label: string };
};

export function NotAllowed({ message, title = "Not allowed", backTo }: NotAllowedProps) {
  return (
    <MessagePanel title={title} message={message} eyebrow="Access needed" tone="warning" alert>
      {backTo ? (
        <Link to={backTo.to} className={buttonClass("primary")}>
          {backTo.label}
        </Link>
      ) : null}
    </MessagePanel>
  );
}
