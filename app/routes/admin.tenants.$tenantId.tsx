// /admin/tenants/<id>: one workspace for platform admins: its members, spend this month and last
// activity, its channels with quality and tier, its sending switch (a reason in a confirmation),
// its credits and its recent activity (the workspace's audit log). Grant credits (a reason is
// required; the form's own key makes a double submit add once), adjust the balance, set the debt
// limit and the markup; large or destructive changes ask first. Everything on it is live. Every
// change is audited by Convex, in the workspace's log and the platform's.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { useMutation, usePaginatedQuery, useQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useState, type FormEvent, type ReactNode } from "react";
import { api } from "../../convex/_generated/api";
import { Button, buttonClass } from "../components/button";
import { AuditEventList } from "../components/audit-log";
import { ChannelHealthBadges } from "../components/channel-quality";
import { ConfirmDialog } from "../components/confirm-dialog";
import { DataTable } from "../components/data-table";
import { DataRouteErrorView } from "../components/data-error-view";
import { FormError, FormStatus, TextField } from "../components/form-field";
import { LEDGER_PAGE_SIZE, LedgerList } from "../components/ledger-table";
import { MessagePanel } from "../components/not-allowed";
import { PageHeader, Section } from "../components/page-header";
import { SendingSwitchCard } from "../components/sending-switch";
import { LoadingState } from "../components/spinner";
import { WalletSummary, type WalletView } from "../components/wallet-summary";
import { requireUser } from "../lib/auth.server";
import {
  bpsToPercent,
  formatMoney,
  formatSignedMoney,
  formKey,
  percentToBps,
  tryParseAmount,
} from "../lib/billing";
import { durationInWords, formatDateTime } from "../lib/format";
import { useFormSubmission, type FormSubmission } from "../lib/use-form-submission";

export const meta: MetaFunction = () => [{ title: "Workspace — Platform admin — Switchboard" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireUser(request);
  return { tenantId: params.tenantId ?? "" };
}

/** Grants and adjustments from this size (in units of the currency) ask before they are made. */
const LARGE_AMOUNT = 1_000 * 1_000_000;
/** Markups above this many basis points ask first. */
const LARGE_MARKUP_BPS = 5_000;

type Tenant = NonNullable<FunctionReturnType<typeof api.admin.tenant>>;

export default function AdminTenantPage() {
  const { tenantId } = useLoaderData<typeof loader>();
  const tenant = useQuery(api.admin.tenant, { tenantId });
  if (tenant === undefined) return <LoadingState label="Loading workspace…" />;
  if (tenant === null) {
    return (
      <MessagePanel
        eyebrow="Platform admin"
        title="Workspace not found"
        message="No workspace has this id. It may have been deleted, or the address is mistyped."
      >
        <Link to="/admin" className={buttonClass("primary")}>
          All workspaces
        </Link>
      </MessagePanel>
    );
  }
  return <TenantCredits key={tenant.tenantId} tenant={tenant} />;
}

function TenantCredits({ tenant }: { tenant: Tenant }) {
  const wallet = useQuery(api.billing.wallet, { tenantId: tenant.tenantId });
  const page = usePaginatedQuery(
    api.billing.ledger,
    { tenantId: tenant.tenantId },
    { initialNumItems: LEDGER_PAGE_SIZE },
  );
  const workspace = `/t/${encodeURIComponent(tenant.slug)}`;
  const setSending = useMutation(api.sending.setTenantPaused);
  return (
    <div className="space-y-12">
      <PageHeader
        eyebrow={<Link to="/admin">Workspaces</Link>}
        title={tenant.name}
        description={
          <>
            <code className="text-xs">/t/{tenant.slug}</code>, created {formatDateTime(tenant.createdAt)}.
            Every change here needs a reason and is recorded in the workspace&apos;s audit log and the
            platform&apos;s.
          </>
        }
        actions={
          <Link to={`${workspace}/billing`} className={buttonClass("secondary")}>
            Open its billing page
          </Link>
        }
      />
      <SendingSwitchCard
        id="sending"
        title="Sending"
        scope="tenant"
        description="Pause every WhatsApp message this workspace sends. A pause set here can only be lifted by a platform admin; you can also lift a pause its owners set."
        pause={tenant.sendingPaused}
        canChange
        onSet={(paused, reason) => setSending({ tenantId: tenant.tenantId, paused, reason })}
      />
      <Overview tenant={tenant} />
      <Channels tenant={tenant} />
      {wallet === undefined ? (
        <LoadingState label="Loading credits…" />
      ) : (
        <>
          <Section
            id="credits"
            title="Credits"
            description={`In ${wallet.currency}. Payment gateways are not part of Switchboard: credits come from here.`}
          >
            <WalletSummary wallet={wallet} />
            <p className="text-sm text-slate-600">
              Markup on message rates: <strong>{bpsToPercent(wallet.markupBps)} %</strong>.
            </p>
          </Section>
          <div className="grid gap-8 xl:grid-cols-2">
            <GrantCredits tenant={tenant} wallet={wallet} />
            <AdjustBalance tenant={tenant} wallet={wallet} />
            <DebtLimit tenant={tenant} wallet={wallet} />
            <Markup tenant={tenant} wallet={wallet} />
          </div>
          <Section id="ledger" title="Ledger" description="Newest first. Times are in your time zone.">
            <LedgerList page={page} preloaded={null} currency={wallet.currency} filtered={false} />
          </Section>
        </>
      )}
      <RecentActivity tenant={tenant} />
    </div>
  );
}

function Stat({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="rounded-2xl border border-slate-200 bg-white p-4 shadow-sm">
      <dt className="text-sm text-slate-600">{label}</dt>
      <dd className="mt-1 text-xl font-semibold text-slate-900 tabular-nums">{children}</dd>
    </div>
  );
}

/** Members, channels, spend this month and the last activity, at a glance. */
function Overview({ tenant }: { tenant: Tenant }) {
  const [now] = useState(() => Date.now());
  const last = tenant.lastActivityAt;
  return (
    <section aria-label="Overview">
      <dl className="grid grid-cols-2 gap-4 lg:grid-cols-4">
        <Stat label="Members">{tenant.members ?? "—"}</Stat>
        <Stat label="Channels">{tenant.channels ?? "—"}</Stat>
        <Stat label="Spent this month">
          {tenant.monthSpend === null ? "—" : formatMoney(tenant.monthSpend, tenant.currency)}
        </Stat>
        <Stat label="Last activity">
          {last === null ? (
            "None yet"
          ) : (
            <time dateTime={new Date(last).toISOString()} title={formatDateTime(last)}>
              {now - last < 60_000 ? "just now" : `${durationInWords(now - last)} ago`}
            </time>
          )}
        </Stat>
      </dl>
    </section>
  );
}

type ChannelRow = Tenant["channelList"][number];

/** Every channel with its quality rating, messaging tier and last webhook. */
function Channels({ tenant }: { tenant: Tenant }) {
  return (
    <Section
      id="channels"
      title="Channels"
      description="Quality and tier as Meta last reported them (Cloud API); the session's status for WAHA."
    >
      <DataTable<ChannelRow>
        caption="Channels"
        rows={tenant.channelList}
        rowKey={(c) => c.channelId}
        empty={
          <p className="text-sm text-slate-600">This workspace has not connected a WhatsApp number yet.</p>
        }
        columns={[
          { header: "Channel", rowHeader: true, cell: (c) => c.name },
          { header: "Kind", cell: (c) => (c.kind === "cloud" ? "Cloud API" : "WAHA") },
          { header: "Health", cell: (c) => <ChannelHealthBadges channel={c} /> },
          {
            header: "Last webhook",
            cell: (c) => (c.lastWebhookAt === null ? "None yet" : formatDateTime(c.lastWebhookAt)),
          },
        ]}
      />
    </Section>
  );
}

/** The workspace's audit log, newest first: what its people and the platform team did. */
function RecentActivity({ tenant }: { tenant: Tenant }) {
  const { results, status, loadMore } = usePaginatedQuery(
    api.audit.listForTenant,
    { tenantId: tenant.tenantId },
    { initialNumItems: 10 },
  );
  return (
    <Section
      id="activity"
      title="Recent activity"
      description="The workspace's audit log, newest first, including what platform admins did here."
    >
      <AuditEventList
        events={results}
        status={status}
        loadMore={() => loadMore(25)}
        timeZone={tenant.timeZone}
        filtered={false}
      />
    </Section>
  );
}

type FormProps = { tenant: Tenant; wallet: WalletView };

/** A titled card holding one of the forms. */
function Card({
  id,
  title,
  description,
  children,
}: {
  id: string;
  title: string;
  description: ReactNode;
  children: ReactNode;
}) {
  return (
    <section
      aria-labelledby={`${id}-title`}
      className="rounded-2xl border border-slate-200 bg-white p-6 shadow-sm"
    >
      <h2 id={`${id}-title`} className="text-lg font-semibold text-slate-900">
        {title}
      </h2>
      <p className="mt-1 text-sm text-slate-600">{description}</p>
      <div className="mt-4">{children}</div>
    </section>
  );
}

/** The confirmation a large or destructive change waits for; `null` when none is pending. */
type Pending = { title: string; description: ReactNode; confirmLabel: string; destructive: boolean } | null;

/**
 * Submits `save` at once, or after a confirmation when `confirm` describes one. Errors land on the
 * form's fields either way (the dialog closes).
 */
function useConfirmedSubmit<F extends string>(form: FormSubmission<F>) {
  const [pending, setPending] = useState<(Pending & { save: () => Promise<string> }) | null>(null);
  const run = (save: () => Promise<string>, confirm: Pending) => {
    if (confirm) setPending({ ...confirm, save });
    else void form.submit(save);
  };
  const dialog = (
    <ConfirmDialog
      open={pending !== null}
      title={pending?.title ?? ""}
      description={pending?.description}
      confirmLabel={pending?.confirmLabel ?? "Confirm"}
      busyLabel="Saving…"
      destructive={pending?.destructive ?? false}
      onConfirm={async () => {
        if (pending) await form.submit(pending.save);
      }}
      onClose={() => setPending(null)}
    />
  );
  return { run, dialog };
}

function ReasonField({
  value,
  onChange,
  error,
}: {
  value: string;
  onChange: (v: string) => void;
  error?: string;
}) {
  return (
    <TextField
      label="Reason"
      value={value}
      onChange={(e) => onChange(e.target.value)}
      error={error}
      hint="Required: the workspace sees it in its ledger and audit log."
      autoComplete="off"
    />
  );
}

const GRANT_FIELDS = ["amount", "reason"] as const;

function GrantCredits({ tenant, wallet }: FormProps) {
  const topUp = useMutation(api.billing.topUp);
  const form = useFormSubmission(GRANT_FIELDS);
  const { run, dialog } = useConfirmedSubmit(form);
  const [amount, setAmount] = useState("");
  const [reason, setReason] = useState("");
  // One key per intended grant: a double click or a retried request adds the credits once.
  const [key, setKey] = useState(formKey);
  const money = (m: number) => formatMoney(m, wallet.currency, { precise: true });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const micros = tryParseAmount(amount);
    if (micros === null || micros <= 0)
      return form.invalid({ amount: `Enter an amount above zero in ${wallet.currency}, like 25.00` });
    if (reason.trim().length < 3) return form.invalid({ reason: "Say why: at least 3 characters" });
    const save = async () => {
      const result = await topUp({ tenantId: tenant.tenantId, amount, reason, key });
      setKey(formKey());
      setAmount("");
      setReason("");
      return result.duplicate
        ? `These credits were already added; the balance is ${money(result.wallet.balance)}.`
        : `Added ${money(micros)}. The balance is now ${money(result.wallet.balance)}.`;
    };
    run(
      save,
      micros >= LARGE_AMOUNT
        ? {
            title: `Add ${money(micros)}?`,
            description: <p>That is a large grant for {tenant.name}. Check the amount before you add it.</p>,
            confirmLabel: `Add ${money(micros)}`,
            destructive: false,
          }
        : null,
    );
  };

  return (
    <Card
      id="grant"
      title="Add credits"
      description={`Credits ${tenant.name} can spend on messages and the assistant.`}
    >
      <form ref={form.form} noValidate onSubmit={submit} aria-label="Add credits" className="space-y-4">
        <TextField
          label={`Amount (${wallet.currency})`}
          inputMode="decimal"
          value={amount}
          onChange={(e) => {
            setAmount(e.target.value);
            form.clearStatus();
          }}
          error={form.fieldError("amount")}
          autoComplete="off"
        />
        <ReasonField value={reason} onChange={setReason} error={form.fieldError("reason")} />
        <FormError message={form.errors?.form} />
        <div className="flex flex-wrap items-center gap-3">
          <Button type="submit" variant="primary" busy={form.busy} busyLabel="Adding…">
            Add credits
          </Button>
          <FormStatus message={form.status} />
        </div>
      </form>
      {dialog}
    </Card>
  );
}

function AdjustBalance({ tenant, wallet }: FormProps) {
  const adjust = useMutation(api.billing.adjust);
  const form = useFormSubmission(GRANT_FIELDS);
  const { run, dialog } = useConfirmedSubmit(form);
  const [amount, setAmount] = useState("");
  const [reason, setReason] = useState("");
  const [key, setKey] = useState(formKey);
  const money = (m: number) => formatMoney(m, wallet.currency, { precise: true });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const micros = tryParseAmount(amount);
    if (micros === null || micros === 0)
      return form.invalid({ amount: "Enter a signed amount that is not zero, like -2.50 or 10" });
    if (reason.trim().length < 3) return form.invalid({ reason: "Say why: at least 3 characters" });
    const save = async () => {
      const result = await adjust({ tenantId: tenant.tenantId, amount, reason, key });
      setKey(formKey());
      setAmount("");
      setReason("");
      return result.duplicate
        ? `This adjustment was already made; the balance is ${money(result.wallet.balance)}.`
        : `Adjusted by ${formatSignedMoney(micros, wallet.currency, true)}. The balance is now ${money(result.wallet.balance)}.`;
    };
    const after = wallet.balance + micros;
    run(
      save,
      micros < 0 || Math.abs(micros) >= LARGE_AMOUNT
        ? {
            title: `${micros < 0 ? "Take" : "Add"} ${money(Math.abs(micros))} ${micros < 0 ? "off" : "to"} the balance?`,
            description: (
              <p>
                The balance of {tenant.name} goes from {money(wallet.balance)} to {money(after)}. The debt
                limit does not stop an adjustment{after < 0 ? ", so the balance will be negative" : ""}.
              </p>
            ),
            confirmLabel: "Adjust the balance",
            destructive: micros < 0,
          }
        : null,
    );
  };

  return (
    <Card
      id="adjust"
      title="Adjust the balance"
      description="Correct a mistake up or down. A negative amount takes credits away."
    >
      <form
        ref={form.form}
        noValidate
        onSubmit={submit}
        aria-label="Adjust the balance"
        className="space-y-4"
      >
        <TextField
          label={`Change (${wallet.currency}, + or −)`}
          inputMode="decimal"
          value={amount}
          onChange={(e) => {
            setAmount(e.target.value.replace("−", "-"));
            form.clearStatus();
          }}
          error={form.fieldError("amount")}
          autoComplete="off"
        />
        <ReasonField value={reason} onChange={setReason} error={form.fieldError("reason")} />
        <FormError message={form.errors?.form} />
        <div className="flex flex-wrap items-center gap-3">
          <Button type="submit" busy={form.busy} busyLabel="Adjusting…">
            Adjust
          </Button>
          <FormStatus message={form.status} />
        </div>
      </form>
      {dialog}
    </Card>
  );
}

function DebtLimit({ tenant, wallet }: FormProps) {
  const setDebtLimit = useMutation(api.billing.setDebtLimit);
  const form = useFormSubmission(["debtLimit", "reason"] as const);
  const { run, dialog } = useConfirmedSubmit(form);
  const [limit, setLimit] = useState("");
  const [reason, setReason] = useState("");
  const money = (m: number) => formatMoney(m, wallet.currency);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const micros = tryParseAmount(limit);
    if (micros === null || micros < 0)
      return form.invalid({ debtLimit: `Enter an amount of zero or more in ${wallet.currency}, like 5.00` });
    if (reason.trim().length < 3) return form.invalid({ reason: "Say why: at least 3 characters" });
    const save = async () => {
      const result = await setDebtLimit({ tenantId: tenant.tenantId, debtLimit: limit, reason });
      setLimit("");
      setReason("");
      return `The debt limit is now ${money(result.debtLimit)}.`;
    };
    let confirm: Pending = null;
    if (wallet.available < -micros) {
      confirm = {
        title: `Set the debt limit to ${money(micros)}?`,
        description: (
          <p>
            Available is {money(wallet.available)}: with this limit {tenant.name} cannot send messages that
            cost money until credits are added.
          </p>
        ),
        confirmLabel: "Set the debt limit",
        destructive: true,
      };
    } else if (micros === 0) {
      confirm = {
        title: "Set the debt limit to zero?",
        description: (
          <p>
            {tenant.name} will not be able to go below zero: messages that cost money stop as soon as its
            credits run out.
          </p>
        ),
        confirmLabel: "Set the debt limit",
        destructive: true,
      };
    } else if (micros >= LARGE_AMOUNT || micros > 10 * Math.max(wallet.debtLimit, 1)) {
      confirm = {
        title: `Raise the debt limit to ${money(micros)}?`,
        description: (
          <p>
            {tenant.name} could then spend up to {money(micros)} it has not paid for (now{" "}
            {money(wallet.debtLimit)}).
          </p>
        ),
        confirmLabel: "Raise the debt limit",
        destructive: false,
      };
    }
    run(save, confirm);
  };

  return (
    <Card
      id="debt-limit"
      title="Debt limit"
      description={`How far below zero available credit may go before new messages are refused. Now ${money(wallet.debtLimit)}.`}
    >
      <form
        ref={form.form}
        noValidate
        onSubmit={submit}
        aria-label="Set the debt limit"
        className="space-y-4"
      >
        <TextField
          label={`New debt limit (${wallet.currency})`}
          inputMode="decimal"
          value={limit}
          onChange={(e) => {
            setLimit(e.target.value);
            form.clearStatus();
          }}
          error={form.fieldError("debtLimit")}
          autoComplete="off"
        />
        <ReasonField value={reason} onChange={setReason} error={form.fieldError("reason")} />
        <FormError message={form.errors?.form} />
        <div className="flex flex-wrap items-center gap-3">
          <Button type="submit" busy={form.busy} busyLabel="Saving…">
            Set debt limit
          </Button>
          <FormStatus message={form.status} />
        </div>
      </form>
      {dialog}
    </Card>
  );
}

function Markup({ tenant, wallet }: FormProps) {
  const setMarkup = useMutation(api.billing.setMarkup);
  const form = useFormSubmission(["markupBps", "reason"] as const);
  const { run, dialog } = useConfirmedSubmit(form);
  const [percent, setPercent] = useState("");
  const [reason, setReason] = useState("");

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const bps = percentToBps(percent);
    if (bps === null)
      return form.invalid({
        markupBps: "Enter a percentage of zero or more with at most two decimals, like 12.5",
      });
    if (reason.trim().length < 3) return form.invalid({ reason: "Say why: at least 3 characters" });
    const save = async () => {
      const result = await setMarkup({ tenantId: tenant.tenantId, markupBps: bps, reason });
      setPercent("");
      setReason("");
      return `The markup is now ${bpsToPercent(result.markupBps)} %.`;
    };
    run(
      save,
      bps > LARGE_MARKUP_BPS
        ? {
            title: `Set the markup to ${bpsToPercent(bps)} %?`,
            description: (
              <p>
                Every message {tenant.name} sends will cost {bpsToPercent(bps)} % more than Meta&apos;s rate
                (now {bpsToPercent(wallet.markupBps)} %).
              </p>
            ),
            confirmLabel: "Set the markup",
            destructive: false,
          }
        : null,
    );
  };

  return (
    <Card
      id="markup"
      title="Markup"
      description={`Added to Meta's rate for every message this workspace is charged. Now ${bpsToPercent(wallet.markupBps)} %.`}
    >
      <form ref={form.form} noValidate onSubmit={submit} aria-label="Set the markup" className="space-y-4">
        <TextField
          label="New markup (%)"
          inputMode="decimal"
          value={percent}
          onChange={(e) => {
            setPercent(e.target.value);
            form.clearStatus();
          }}
          error={form.fieldError("markupBps")}
          autoComplete="off"
        />
        <ReasonField value={reason} onChange={setReason} error={form.fieldError("reason")} />
        <FormError message={form.errors?.form} />
        <div className="flex flex-wrap items-center gap-3">
          <Button type="submit" busy={form.busy} busyLabel="Saving…">
            Set markup
          </Button>
          <FormStatus message={form.status} />
        </div>
      </form>
      {dialog}
    </Card>
  );
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
