// A section's navigation: a labelled list of links, the one for the current page highlighted.
// The links wrap onto more lines rather than scroll, so on a phone every one of them is in view.
import { NavLink } from "@remix-run/react";

export type SectionNavItem = {
  to: string;
  label: string;
  /** Highlight only on this exact path, not on the pages below it. */
  end: boolean;
  /** A count shown after the label (hidden when zero), and what it counts, for screen readers. */
  badge?: { count: number; label: string };
};

export type SectionNavProps = {
  "aria-label": string;
  items: readonly SectionNavItem[];
  /** Extra classes for the nav (e.g. spacing). */
  className?: string;
  /** Extra classes for the list (e.g. a vertical layout at some width). */
  listClassName?: string;
};

export function SectionNav({
  "aria-label": label,
  items,
  className = "",
  listClassName = "",
}: SectionNavProps) {
  return (
    <nav aria-label={label} className={classes("-mx-1", className)}>
      <ul className={classes("flex flex-wrap gap-1 px-1", listClassName)}>
        {items.map((item) => (
          <li key={item.to}>
            <NavLink
              to={item.to}
              end={item.end}
              prefetch="intent"
              className={({ isActive }) =>
                `block rounded-lg px-3 py-2 text-sm font-medium whitespace-nowrap ${
                  isActive ? "bg-brand-50 text-brand-700" : "text-slate-700 hover:bg-slate-100"
                }`
              }
            >
              {item.label}
              {item.badge && item.badge.count > 0 ? (
                <span className="ml-1.5 inline-flex min-w-5 items-center justify-center rounded-full bg-amber-100 px-1.5 text-xs font-semibold text-amber-900 tabular-nums">
                  <span className="sr-only">, </span>
                  {item.badge.count}
                  <span className="sr-only"> {item.badge.label}</span>
                </span>
              ) : null}
            </NavLink>
          </li>
        ))}
      </ul>
    </nav>
  );
}

function classes(base: string, extra: string | undefined): string {
  return extra ? `${base} ${extra}` : base;
}
