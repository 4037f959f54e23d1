// /t/<slug>/billing: the workspace's credits (admins). Balance, what is held and available, the
// debt limit; spend per day and category; the ledger with filters and a CSV export; what one
// campaign or message cost. Everything is live: a platform admin's grant shows without a reload.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData, useSearchParams } from "@remix-run/react";
import { usePaginatedQuery, useQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useState, type FormEvent } from "react";
import { api } from "../../convex/_generated/api";
import { DataRouteErrorView } from "../components/data-error-view";
import { EmptyState } from "../components/empty-state";
import { Button } from "../components/button";
import { SelectField, TextField } from "../components/form-field";
import { LEDGER_PAGE_SIZE, LedgerFilters, LedgerList, useLedgerFilters } from "../components/ledger-table";
import { NotAllowed } from "../components/not-allowed";
import { PageHeader, Section } from "../components/page-header";
import { SpendByCategory, SpendChart, SpendRangeSwitch } from "../components/spend-chart";
import { LoadingState } from "../components/spinner";
import { WalletSummary } from "../components/wallet-summary";
import { requireUser } from "../lib/auth.server";
import {
  formatMoney,
  ledgerFilterParams,
  ledgerQueryArgs,
  spendRange,
  utcDay,
  type LedgerFilterParams,
} from "../lib/billing";
import { preload, preloadTenant, preloadWithValue } from "../lib/preload.server";
import { useTenant, type TenantContext } from "../lib/tenant-context";
import { usePreloaded, usePreloadedValue } from "../lib/use-preloaded";

export const meta: MetaFunction = () => [{ title: "Billing — Switchboard" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireUser(request);
  const today = utcDay(Date.now());
  const { tenantId } = await preloadTenant(request, params.slug ?? "");
  if (!tenantId) return { today, wallet: null, details: null, spend: null, ledger: null };
  const search = new URL(request.url).searchParams;
  const [wallet, details, spend] = await Promise.all([
    preload(request, api.billing.wallet, { tenantId }),
    preloadWithValue(request, api.tenants.get, { tenantId }),
    preload(request, api.billing.spend, { tenantId, to: today, days: spendRange(search) }),
  ]);
  const ledger = details.value
    ? await preload(request, api.billing.ledger, {
        tenantId,
        ...ledgerQueryArgs(ledgerFilterParams(search), details.value.timeZone),
        paginationOpts: { numItems: LEDGER_PAGE_SIZE, cursor: null },
      })
    : null;
  return { today, wallet, details: details.preloaded, spend, ledger };
}

export default function BillingPage() {
  const tenant = useTenant();
  if (!tenant.canAdminRead) {
    return (
      <NotAllowed
        message="You need the admin role to see the workspace's credits and spending."
        backTo={{ to: `/t/${encodeURIComponent(tenant.slug)}`, label: "Back to the overview" }}
      />
    );
  }
  return <Billing tenant={tenant} />;
}

function Billing({ tenant }: { tenant: TenantContext }) {
  const data = useLoaderData<typeof loader>();
  const tenantId = tenant.tenantId;
  const wallet = usePreloaded(api.billing.wallet, { tenantId }, data.wallet);
  const details = usePreloaded(api.tenants.get, { tenantId }, data.details);

  return (
    <div className="space-y-12">
      <PageHeader
        title="Billing"
        description={
          wallet
            ? `Credits in ${tenant.name} and what they paid for. Amounts are in ${wallet.currency}.`
            : `Credits in ${tenant.name} and what they paid for.`
        }
      />
      {wallet === undefined ? (
        <LoadingState label="Loading credits…" />
      ) : (
        <>
          <Section id="credits" title="Credits">
            <WalletSummary wallet={wallet} />
          </Section>
          {wallet.currencyLocked ? (
            <>
              <SpendSection tenant={tenant} today={data.today} />
              <LedgerSection tenant={tenant} currency={wallet.currency} timeZone={details?.timeZone} />
              <ReferenceCost tenant={tenant} />
            </>
          ) : (
            <EmptyState
              headingLevel="h2"
              title="No credits yet"
              description={
                <>
                  Credits are added by a Switchboard platform admin: ask yours to add some. Paying online (a
                  card or another payment gateway) is not available. Until credits arrive, messages that cost
                  money can still be sent up to the debt limit of{" "}
                  {formatMoney(wallet.debtLimit, wallet.currency)}.
                </>
              }
            />
          )}
        </>
      )}
    </div>
  );
}

function SpendSection({ tenant, today }: { tenant: TenantContext; today: string }) {
  const data = useLoaderData<typeof loader>();
  const [params, setParams] = useSearchParams();
  const days = spendRange(params);
  const spend = usePreloaded(api.billing.spend, { tenantId: tenant.tenantId, to: today, days }, data.spend);
  return (
    <Section
      id="spend"
      title="Spending"
      description={
        spend ? `${formatMoney(spend.total, spend.currency)} in the last ${days} days.` : undefined
      }
      actions={
        <SpendRangeSwitch
          range={days}
          onChange={(next) =>
            setParams(
              (prev) => {
                const out = new URLSearchParams(prev);
                if (next === 30) out.delete("days");
                else out.set("days", String(next));
                return out;
              },
              { replace: true, preventScrollReset: true },
            )
          }
        />
      }
    >
      {spend === undefined ? (
        <LoadingState label="Loading spending…" />
      ) : (
        <div className="space-y-6">
          <SpendChart report={spend} />
          {spend.categories.length ? (
            <div className="space-y-2">
              <h3 className="text-base font-semibold text-slate-900">By category</h3>
              <SpendByCategory report={spend} />
            </div>
          ) : null}
        </div>
      )}
    </Section>
  );
}

function LedgerSection({
  tenant,
  currency,
  timeZone,
}: {
  tenant: TenantContext;
  currency: string;
  timeZone: string | undefined;
}) {
  const data = useLoaderData<typeof loader>();
  const { filter, apply } = useLedgerFilters();
  const args = timeZone ? { tenantId: tenant.tenantId, ...ledgerQueryArgs(filter, timeZone) } : "skip";
  const page = usePaginatedQuery(api.billing.ledger, args, { initialNumItems: LEDGER_PAGE_SIZE });
  const preloaded = usePreloadedValue(
    api.billing.ledger,
    args === "skip" ? "skip" : { ...args, paginationOpts: { numItems: LEDGER_PAGE_SIZE, cursor: null } },
    data.ledger,
  );
  return (
    <Section
      id="ledger"
      title="Ledger"
      description={
        timeZone
          ? `Every change to the credits, newest first. Times and dates are in the workspace's time zone (${timeZone.replace(/_/g, " ")}).`
          : "Every change to the credits, newest first."
      }
    >
      <LedgerFilters
        key={`${filter.from}-${filter.to}`}
        filter={filter}
        onApply={apply}
        exportHref={exportHref(tenant.slug, filter)}
      />
      <LedgerList
        page={page}
        preloaded={preloaded?.page ?? null}
        currency={currency}
        timeZone={timeZone}
        filtered={Boolean(filter.kind || filter.from || filter.to)}
      />
    </Section>
  );
}

function exportHref(slug: string, filter: LedgerFilterParams): string {
  const query = new URLSearchParams();
  for (const key of ["kind", "from", "to"] as const) if (filter[key]) query.set(key, filter[key]!);
  const search = query.toString();
  return `/t/${encodeURIComponent(slug)}/billing/ledger.csv${search ? `?${search}` : ""}`;
}

const REFERENCE_KINDS = [
  { value: "campaign", label: "Campaign" },
  { value: "message", label: "Message" },
  { value: "assistant_turn", label: "Assistant turn" },
] as const;
type ReferenceKind = (typeof REFERENCE_KINDS)[number]["value"];

/** What one campaign, message or assistant turn cost, net of refunds. */
function ReferenceCost({ tenant }: { tenant: TenantContext }) {
  const [kind, setKind] = useState<ReferenceKind>("campaign");
  const [id, setId] = useState("");
  const [asked, setAsked] = useState<{ kind: ReferenceKind; id: string } | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const cost = useQuery(
    api.billing.referenceCost,
    asked ? { tenantId: tenant.tenantId, referenceKind: asked.kind, referenceId: asked.id } : "skip",
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!id.trim()) return setProblem("Enter the id of a campaign, message or assistant turn");
    if (id.trim().length > 200) return setProblem("An id is at most 200 characters");
    setProblem(null);
    setAsked({ kind, id: id.trim() });
  };
  const label = REFERENCE_KINDS.find((k) => k.value === asked?.kind)?.label;
  return (
    <Section
      id="reference-cost"
      title="Cost of a campaign or message"
      description="Everything charged to one reference, net of refunds. The ledger shows each entry's reference."
    >
      <form
        aria-label="Look up a cost"
        onSubmit={submit}
        noValidate
        className="flex flex-col gap-4 rounded-2xl border border-slate-200 bg-white p-4 shadow-sm sm:flex-row sm:items-end"
      >
        <SelectField
          label="Reference"
          value={kind}
          onChange={(e) => setKind(e.target.value as ReferenceKind)}
          options={REFERENCE_KINDS}
          fieldClassName="sm:w-44"
        />
        <TextField
          label="Id"
          value={id}
          onChange={(e) => setId(e.target.value)}
          error={problem}
          fieldClassName="sm:flex-1"
          autoComplete="off"
        />
        <Button type="submit">Show cost</Button>
      </form>
      <ReferenceCostResult label={label} id={asked?.id} cost={cost} />
    </Section>
  );
}

function ReferenceCostResult({
  label,
  id,
  cost,
}: {
  label: string | undefined;
  id: string | undefined;
  cost: FunctionReturnType<typeof api.billing.referenceCost> | undefined;
}) {
  if (!id) return null;
  if (cost === undefined) return <LoadingState label="Adding it up…" />;
  const money = (m: number) => formatMoney(m, cost.currency, { precise: true });
  return (
    <p role="status" className="rounded-lg bg-slate-50 px-4 py-3 text-sm text-slate-800">
      {cost.entries === 0 ? (
        <>
          Nothing has been charged to {label?.toLowerCase()} <span className="font-mono break-all">{id}</span>
          .
        </>
      ) : (
        <>
          {label} <span className="font-mono break-all">{id}</span> cost{" "}
          <strong className="tabular-nums">
            {cost.complete ? "" : "at least "}
            {money(cost.net)}
          </strong>{" "}
          ({money(cost.charged)} charged, {money(cost.refunded)} refunded; {cost.entries}{" "}
          {cost.entries === 1 ? "entry" : "entries"}).
        </>
      )}
    </p>
  );
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
