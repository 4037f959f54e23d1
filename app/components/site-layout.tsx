// The page frame every route shares, including error pages: header, main landmark, footer.
// The header's right-hand side is a slot (`actions`): the account menu today, more controls
// (a tenant switcher, say) later, without this component knowing about sign-in.
import { Link } from "@remix-run/react";
import type { ReactNode } from "react";

export type SiteLayoutProps = {
  version?: string;
  /** Controls at the right of the header, in order (account menu last by convention). */
  actions?: ReactNode;
  children: ReactNode;
};

export function SiteLayout({ version, actions, children }: SiteLayoutProps) {
  return (
    <div className="flex min-h-dvh flex-col bg-slate-50 text-slate-900">
      <a
        href="#main"
        className="sr-only rounded-md bg-white px-3 py-2 text-sm font-medium text-slate-900 shadow focus:not-sr-only focus:absolute focus:left-4 focus:top-4 focus:z-50"
      >
        Skip to content
      </a>
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex h-16 max-w-5xl items-center justify-between px-4 sm:px-6">
          <Link
            to="/"
            className="flex items-center gap-2 rounded-md text-lg font-semibold tracking-tight text-slate-900"
            aria-label="Switchboard home"
          >
            <span
              aria-hidden="true"
              className="grid size-8 place-items-center rounded-lg bg-brand-600 text-sm font-bold text-white"
            >
              S
            </span>
            {/* On phones the header keeps room for the workspace and account menus. */}
            <span className="max-sm:sr-only">Switchboard</span>
          </Link>
          {actions ? <div className="flex min-w-0 items-center gap-2 sm:gap-3">{actions}</div> : null}
        </div>
      </header>
      <main id="main" tabIndex={-1} className="mx-auto w-full max-w-5xl flex-1 px-4 py-10 sm:px-6 sm:py-16">
        {children}
      </main>
      <footer className="border-t border-slate-200 bg-white">
        <div className="mx-auto flex max-w-5xl flex-col gap-1 px-4 py-6 text-sm text-slate-500 sm:flex-row sm:items-center sm:justify-between sm:px-6">
          <p>Switchboard — WhatsApp for teams</p>
          {version ? <p>Version {version}</p> : null}
        </div>
      </footer>
    </div>
  );
}
