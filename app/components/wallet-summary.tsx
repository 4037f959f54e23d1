// A workspace's credits at a glance: balance, what is held for messages being sent, what is
// available, the debt limit, and a meter of how much of the debt limit is used.
import type { FunctionReturnType } from "convex/server";
import type { api } from "../../convex/_generated/api";
import { formatMoney } from "../lib/billing";

export type WalletView = FunctionReturnType<typeof api.billing.wallet>;

/** Share of the debt limit in use (0 when available ≥ 0), in percent, 0–100. */
export function debtUsedPercent(wallet: Pick<WalletView, "available" | "debtLimit">): number {
  if (wallet.available >= 0) return 0;
  if (wallet.debtLimit <= 0) return 100;
  return Math.min(100, Math.round((-wallet.available / wallet.debtLimit) * 100));
}

export function WalletSummary({ wallet }: { wallet: WalletView }) {
  const money = (micros: number) => formatMoney(micros, wallet.currency);
  const used = debtUsedPercent(wallet);
  // What can still be spent before sending stops: available plus the debt limit.
  const headroom = wallet.available + wallet.debtLimit;
  const tone = used >= 100 ? "bg-red-600" : used >= 50 ? "bg-amber-500" : "bg-brand-600";
  const cards: [string, string, string][] = [
    ["Balance", money(wallet.balance), "Credits added minus everything charged."],
    ["Held for sending", money(wallet.reserved), "Set aside for messages not priced yet."],
    ["Available", money(wallet.available), "Balance minus what is held."],
    ["Debt limit", money(wallet.debtLimit), "How far below zero available may go."],
  ];
  return (
    <div className="space-y-4">
      <dl className="grid grid-cols-2 gap-3 sm:gap-4 xl:grid-cols-4">
        {cards.map(([label, value, hint]) => (
          <div key={label} className="rounded-2xl border border-slate-200 bg-white p-4 shadow-sm">
            <dt className="text-sm font-medium text-slate-600">{label}</dt>
            <dd
              className={`mt-1 text-xl font-semibold break-words tabular-nums sm:text-2xl ${label === "Available" && wallet.available < 0 ? "text-red-700" : "text-slate-900"}`}
            >
              {value}
            </dd>
            <dd className="mt-1 text-xs text-slate-500">{hint}</dd>
          </div>
        ))}
      </dl>
      <div className="rounded-2xl border border-slate-200 bg-white p-4 shadow-sm">
        <div className="flex flex-wrap items-baseline justify-between gap-2 text-sm">
          <span id="debt-meter-label" className="font-medium text-slate-900">
            Debt limit used
          </span>
          <span className="text-slate-600 tabular-nums">
            {used} % of {money(wallet.debtLimit)}
          </span>
        </div>
        <div
          role="meter"
          aria-labelledby="debt-meter-label"
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={used}
          aria-valuetext={`${used} % of the debt limit used`}
          className="mt-2 h-3 overflow-hidden rounded-full bg-slate-100"
        >
          <div className={`h-full rounded-full ${tone}`} style={{ width: `${used}%` }} />
        </div>
        <p className="mt-2 text-sm text-slate-600">
          {headroom > 0
            ? `${money(headroom)} can still be spent before new messages are refused (available plus the debt limit).`
            : "New messages are refused: the debt limit is reached. A platform admin can add credits."}
        </p>
      </div>
    </div>
  );
}
