// /t/<slug>/contacts/<id>: one contact, live: identifiers (E.164, wa_id, WAHA chat ids,
// business-scoped ids), conversations, consent history; agents edit name, phone, tags, custom
// fields and consent; admins merge another contact into this one, delete it, export its data as
// JSON, or erase it on the customer's request (then the page follows the erasure's progress).
import type { MetaFunction } from "@remix-run/node";
import { Link, useNavigate, useParams } from "@remix-run/react";
import { useConvexAuth, useMutation, useQuery } from "convex/react";
import { useEffect, useState } from "react";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { Button } from "../components/button";
import { ConfirmButton } from "../components/confirm-dialog";
import { DataRouteErrorView } from "../components/data-error-view";
import { FormError, FormStatus } from "../components/form-field";
import { PageHeader, Section } from "../components/page-header";
import { EraseContactDialog, ErasureProgress, PrivacyJobCard } from "../components/privacy-jobs";
import { LoadingState } from "../components/spinner";
import { toAppError } from "../lib/convex-errors";
import { hasRole } from "../lib/roles";
import { useTenant } from "../lib/tenant-context";

export const meta: MetaFunction = () => [{ title: "Contact — Switchboard" }];

const ALIAS_LABELS: Record<string, string> = {
  phone: "Phone (E.164)",
  wa_id: "WhatsApp id",
  waha_chat: "WAHA chat",
  lid: "WhatsApp LID",
  bsuid: "Business-scoped user id",
};
const inputClass = "w-full rounded-lg border border-slate-300 px-3 py-2 text-sm";

export default function ContactPage() {
  const tenant = useTenant();
  const { contactId = "" } = useParams();
  const { isAuthenticated } = useConvexAuth();
  // Once an erasure starts, the contact is going: the page follows the erasure instead.
  const [erasing, setErasing] = useState<Id<"privacyJobs"> | null>(null);
  const erasure = useQuery(
    api.privacy.job,
    isAuthenticated && erasing ? { tenantId: tenant.tenantId, jobId: erasing } : "skip",
  );
  const contact = useQuery(
    api.contacts.get,
    isAuthenticated && !erasing ? { tenantId: tenant.tenantId, contactId } : "skip",
  );
  const fields = useQuery(api.contacts.fields, isAuthenticated ? { tenantId: tenant.tenantId } : "skip");
  const canEdit = tenant.isMember && hasRole(tenant.role, "agent");
  const base = `/t/${tenant.slug}/contacts`;
  if (erasing) {
    return (
      <div className="space-y-6">
        <PageHeader eyebrow={<Link to={base}>← Contacts</Link>} title="Erasing a contact" />
        <ErasureProgress job={erasure} slug={tenant.slug} tenantId={tenant.tenantId} />
      </div>
    );
  }
  if (contact === undefined) return <LoadingState label="Loading the contact…" />;
  return (
    <div className="space-y-10">
      <PageHeader
        eyebrow={<Link to={base}>← Contacts</Link>}
        title={contact.name || contact.phone || "Unnamed contact"}
        description={contact.optedOut ? "Opted out of messages" : "Subscribed"}
      />
      <Section id="details" title="Details">
        <EditForm contact={contact} fieldTypes={fields ?? []} canEdit={canEdit} />
        {tenant.isMember && hasRole(tenant.role, "admin") ? <DefineField existing={fields ?? []} /> : null}
      </Section>
      <Section id="identifiers" title="Identifiers" description="How this person is known on WhatsApp.">
        <ul className="space-y-1 text-sm">
          {contact.aliases.map((a) => (
            <li key={`${a.kind}:${a.value}`}>
              <span className="text-slate-500">{ALIAS_LABELS[a.kind] ?? a.kind}:</span>{" "}
              <span className="tabular-nums">{a.value}</span>
            </li>
          ))}
        </ul>
      </Section>
      <Section id="conversations" title="Conversations">
        {contact.conversations.length === 0 ? (
          <p className="text-sm text-slate-600">No conversations yet.</p>
        ) : (
          <ul className="space-y-1 text-sm">
            {contact.conversations.map((c) => (
              <li key={c.conversationId}>
                <Link
                  to={`/t/${tenant.slug}/inbox/${c.conversationId}`}
                  className="text-brand-700 hover:underline"
                >
                  {c.channelName}
                </Link>{" "}
                · last message {new Date(c.lastMessageAt).toLocaleString()}
              </li>
            ))}
          </ul>
        )}
      </Section>
      <Section id="consent" title="Consent">
        <Consent contactId={contact.contactId} optedOut={contact.optedOut} canEdit={canEdit} />
        <ul className="space-y-1 text-sm">
          {contact.consent.map((e, i) => (
            <li key={i}>
              {e.kind === "opt_out" ? "Opted out" : "Opted in"} ({e.source.replace(/_/g, " ")}) ·{" "}
              {new Date(e.at).toLocaleString()}
              {e.text ? ` · “${e.text}”` : ""}
            </li>
          ))}
        </ul>
      </Section>
      {tenant.canAdminWrite ? <AdminActions contactId={contact.contactId} base={base} /> : null}
      {tenant.canAdminWrite ? (
        <PrivacyActions
          contactId={contact.contactId}
          expected={contact.name || contact.phone || contact.contactId}
          onErasing={setErasing}
        />
      ) : null}
    </div>
  );
}

type Detail = NonNullable<ReturnType<typeof useQuery<typeof api.contacts.get>>>;

type FieldType = "text" | "number" | "date";

function EditForm({
  contact,
  fieldTypes,
  canEdit,
}: {
  contact: Detail;
  fieldTypes: { key: string; type: FieldType }[];
  canEdit: boolean;
}) {
  const fieldKeys = fieldTypes.map((f) => f.key);
  const typeOf = (key: string) => fieldTypes.find((f) => f.key === key)?.type ?? "text";
  const tenant = useTenant();
  const update = useMutation(api.contacts.update);
  const [name, setName] = useState(contact.name ?? "");
  const [phone, setPhone] = useState(contact.phone ?? "");
  const [tags, setTags] = useState(contact.tags.join(", "));
  const keys = [...new Set([...fieldKeys, ...contact.fields.map((f) => f.key)])];
  const [values, setValues] = useState<Record<string, string>>({});
  useEffect(() => {
    setName(contact.name ?? "");
    setPhone(contact.phone ?? "");
    setTags(contact.tags.join(", "));
    setValues(Object.fromEntries(contact.fields.map((f) => [f.key, f.value])));
  }, [contact]);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <form
      className="grid max-w-2xl gap-4 sm:grid-cols-2"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        setStatus(null);
        try {
          await update({
            tenantId: tenant.tenantId,
            contactId: contact.contactId,
            name,
            phone,
            tags: tags.split(/[;,|]/),
            fields: keys.map((key) => ({ key, value: values[key] ?? "" })),
          });
          setStatus("Saved");
        } catch (err) {
          setError(toAppError(err).message);
        } finally {
          setBusy(false);
        }
      }}
    >
      <fieldset disabled={!canEdit} className="contents">
        <label className="text-sm">
          Name
          <input
            className={inputClass}
            value={name}
            onChange={(e) => setName(e.target.value)}
            maxLength={200}
          />
        </label>
        <label className="text-sm">
          Phone
          <input
            className={inputClass}
            value={phone}
            onChange={(e) => setPhone(e.target.value)}
            inputMode="tel"
          />
        </label>
        <label className="text-sm sm:col-span-2">
          Tags (separated by commas)
          <input className={inputClass} value={tags} onChange={(e) => setTags(e.target.value)} />
        </label>
        {keys.map((key) => (
          <label key={key} className="text-sm">
            {key}
            {typeOf(key) !== "text" ? <span className="text-slate-500"> ({typeOf(key)})</span> : null}
            <input
              className={inputClass}
              type={typeOf(key) === "date" ? "date" : "text"}
              inputMode={typeOf(key) === "number" ? "decimal" : undefined}
              value={values[key] ?? ""}
              onChange={(e) => setValues({ ...values, [key]: e.target.value })}
            />
          </label>
        ))}
      </fieldset>
      <div className="sm:col-span-2">
        <FormError message={error} />
        <FormStatus message={status} />
        {canEdit ? (
          <Button type="submit" variant="primary" busy={busy} busyLabel="Saving…">
            Save changes
          </Button>
        ) : null}
      </div>
    </form>
  );
}

/** Admins add a custom field every contact can then have, typed text, number or date. */
function DefineField({ existing }: { existing: { key: string; type: FieldType }[] }) {
  const tenant = useTenant();
  const define = useMutation(api.contacts.defineField);
  const [key, setKey] = useState("");
  const [type, setType] = useState<FieldType>("text");
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <form
      aria-label="Add a custom field"
      className="mt-6 max-w-2xl space-y-2 border-t border-slate-200 pt-4"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        setStatus(null);
        try {
          await define({ tenantId: tenant.tenantId, key, type });
          setStatus(`Added the field “${key.trim()}” (${type}) for every contact`);
          setKey("");
        } catch (err) {
          setError(toAppError(err).message);
        } finally {
          setBusy(false);
        }
      }}
    >
      <p className="text-sm font-medium text-slate-900">Add a custom field</p>
      <p className="text-xs text-slate-500">
        Every contact can then have it; a number or date field refuses a value that is not one.
        {existing.length ? ` Existing: ${existing.map((f) => `${f.key} (${f.type})`).join(", ")}.` : ""}
      </p>
      <div className="flex flex-wrap items-end gap-2">
        <label className="text-sm">
          Field name
          <input
            className={inputClass}
            value={key}
            onChange={(e) => setKey(e.target.value)}
            maxLength={60}
            required
          />
        </label>
        <label className="text-sm">
          Type
          <select className={inputClass} value={type} onChange={(e) => setType(e.target.value as FieldType)}>
            <option value="text">Text</option>
            <option value="number">Number</option>
            <option value="date">Date</option>
          </select>
        </label>
        <Button type="submit" busy={busy} busyLabel="Adding…">
          Add field
        </Button>
      </div>
      <FormError message={error} />
      <FormStatus message={status} />
    </form>
  );
}

function Consent({
  contactId,
  optedOut,
  canEdit,
}: {
  contactId: Id<"contacts">;
  optedOut: boolean;
  canEdit: boolean;
}) {
  const tenant = useTenant();
  const setConsent = useMutation(api.contacts.setConsent);
  if (!canEdit) return null;
  return (
    <ConfirmButton
      title={optedOut ? "Record an opt-in?" : "Record an opt-out?"}
      description={
        optedOut
          ? "Only when the person asked to receive messages again: the change is kept in the history."
          : "No marketing messages will be sent to this contact until they opt in again."
      }
      confirmLabel={optedOut ? "Record opt-in" : "Record opt-out"}
      destructive={!optedOut}
      onConfirm={() =>
        setConsent({ tenantId: tenant.tenantId, contactId, kind: optedOut ? "opt_in" : "opt_out" })
      }
    />
  );
}

function AdminActions({ contactId, base }: { contactId: Id<"contacts">; base: string }) {
  const tenant = useTenant();
  const navigate = useNavigate();
  const merge = useMutation(api.contacts.merge);
  const remove = useMutation(api.contacts.remove);
  const [search, setSearch] = useState("");
  const [error, setError] = useState<string | null>(null);
  const found = useQuery(
    api.contacts.list,
    search.trim().length >= 3
      ? { tenantId: tenant.tenantId, filter: { search }, paginationOpts: { numItems: 5, cursor: null } }
      : "skip",
  );
  const others = (found?.page ?? []).filter((c) => c.contactId !== contactId);
  return (
    <Section id="admin" title="Merge or delete">
      <label className="block max-w-md text-sm">
        Find the contact to merge into this one
        <input
          className={inputClass}
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          placeholder="Name or number"
        />
      </label>
      <ul className="space-y-2">
        {others.map((o) => (
          <li key={o.contactId} className="flex flex-wrap items-center gap-2 text-sm">
            <span>
              {o.name ?? "Unnamed"} · {o.phone ?? "no number"}
            </span>
            <ConfirmButton
              title="Merge these contacts?"
              description="Its identifiers, conversations, consent history, tags and fields move to this contact, and it disappears. This cannot be undone."
              confirmLabel="Merge into this contact"
              busyLabel="Merging…"
              onConfirm={() => merge({ tenantId: tenant.tenantId, keepId: contactId, mergeId: o.contactId })}
            />
          </li>
        ))}
      </ul>
      <FormError message={error} />
      <ConfirmButton
        title="Delete this contact?"
        description="Only contacts without conversations can be deleted. Its consent history goes with it."
        confirmLabel="Delete contact"
        busyLabel="Deleting…"
        onConfirm={async () => {
          try {
            await remove({ tenantId: tenant.tenantId, contactId });
            navigate(base);
          } catch (err) {
            setError(toAppError(err).message);
            throw err;
          }
        }}
      />
    </Section>
  );
}

/** Admins export the contact's data as JSON, or erase it on the customer's request. */
function PrivacyActions({
  contactId,
  expected,
  onErasing,
}: {
  contactId: Id<"contacts">;
  expected: string;
  onErasing: (jobId: Id<"privacyJobs">) => void;
}) {
  const tenant = useTenant();
  const exportContact = useMutation(api.privacy.exportContact);
  const erase = useMutation(api.privacy.eraseContact);
  const jobs = useQuery(api.privacy.jobs, { tenantId: tenant.tenantId, contactId });
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <Section
      id="privacy"
      title="Data export and erasure"
      description="For the customer's requests under data protection law (GDPR): a copy of everything kept about them, or its erasure."
    >
      <div className="flex flex-wrap gap-2">
        <Button
          busy={busy}
          busyLabel="Starting…"
          onClick={async () => {
            setBusy(true);
            setError(null);
            try {
              await exportContact({ tenantId: tenant.tenantId, contactId });
            } catch (err) {
              setError(toAppError(err).message);
            } finally {
              setBusy(false);
            }
          }}
        >
          Export data (JSON)
        </Button>
        <Button variant="danger" onClick={() => setOpen(true)}>
          Erase contact…
        </Button>
      </div>
      <FormError message={error} />
      {jobs && jobs.length ? (
        <div className="mt-4 grid max-w-2xl gap-3">
          {jobs.map((job) => (
            <PrivacyJobCard key={job.jobId} job={job} slug={tenant.slug} tenantId={tenant.tenantId} />
          ))}
        </div>
      ) : null}
      <EraseContactDialog
        open={open}
        onClose={() => setOpen(false)}
        expected={expected}
        onConfirm={async (typed) => {
          const { jobId } = await erase({ tenantId: tenant.tenantId, contactId, confirm: typed });
          onErasing(jobId);
        }}
      />
    </Section>
  );
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
