// What a list or feature shows when there is nothing in it yet: what it is and what to do.
import type { ReactNode } from "react";

export type EmptyStateProps = {
  title: string;
  description?: ReactNode;
  action?: ReactNode;
  icon?: ReactNode;
  /** Heading level inside the page outline. */
  headingLevel?: "h2" | "h3";
};

export function EmptyState({ title, description, action, icon, headingLevel = "h3" }: EmptyStateProps) {
  const Heading = headingLevel;
  return (
    <div className="rounded-2xl border border-dashed border-slate-300 bg-white px-6 py-10 text-center">
      {icon ? (
        <div
          aria-hidden="true"
          className="mx-auto mb-3 grid size-10 place-items-center rounded-full bg-slate-100 text-slate-500"
        >
          {icon}
        </div>
      ) : null}
      <Heading className="text-base font-semibold text-slate-900">{title}</Heading>
      {description ? <p className="mx-auto mt-1 max-w-md text-sm text-slate-600">{description}</p> : null}
      {action ? <div className="mt-4 flex justify-center">{action}</div> : null}
    </div>
  );
}
