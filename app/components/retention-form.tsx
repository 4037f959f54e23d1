// A workspace's data retention: how many days messages, webhook events and email records are
// kept before the nightly retention job deletes them (docs/operations.md, "Reconciliation").
import { useState, type FormEvent } from "react";
import { useFormSubmission } from "../lib/use-form-submission";
import { Button } from "./button";
import { FormError, FormStatus, TextField } from "./form-field";

const FIELDS = ["messagesDays", "webhookEventsDays", "emailsDays"] as const;
type Field = (typeof FIELDS)[number];
export type RetentionValues = Record<Field, number>;

const LABELS: Record<Field, string> = {
  messagesDays: "Messages",
  webhookEventsDays: "Webhook events",
  emailsDays: "Email records",
};

export function RetentionForm({
  initial,
  defaults,
  onSubmit,
}: {
  initial: RetentionValues;
  defaults: RetentionValues;
  onSubmit: (values: RetentionValues) => Promise<string | void>;
}) {
  const [values, setValues] = useState<Record<Field, string>>({
    messagesDays: String(initial.messagesDays),
    webhookEventsDays: String(initial.webhookEventsDays),
    emailsDays: String(initial.emailsDays),
  });
  const {
    form,
    busy,
    errors,
    status,
    fieldError,
    submit: save,
    invalid,
    clearStatus,
  } = useFormSubmission(FIELDS);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    const parsed = {} as RetentionValues;
    const problems: Partial<Record<Field, string>> = {};
    for (const field of FIELDS) {
      const n = Number(values[field].trim());
      if (!values[field].trim() || !Number.isInteger(n) || n < 1)
        problems[field] = `${LABELS[field]}: enter a whole number of days, at least 1`;
      parsed[field] = n;
    }
    if (Object.keys(problems).length) return invalid(problems);
    await save(() => onSubmit(parsed));
  };

  const field = (name: Field, hint: string, max?: number) => (
    <TextField
      label={`${LABELS[name]} (days)`}
      name={name}
      type="number"
      inputMode="numeric"
      min={1}
      max={max}
      value={values[name]}
      onChange={(e) => {
        setValues((v) => ({ ...v, [name]: e.target.value }));
        clearStatus();
      }}
      error={fieldError(name)}
      hint={`${hint} Default ${defaults[name]}.`}
    />
  );

  return (
    <form ref={form} noValidate onSubmit={submit} className="space-y-6">
      <div className="grid gap-6 sm:grid-cols-3">
        {field(
          "messagesDays",
          "Messages older than this are deleted with their media files, as are the assistant's turns; the assistant's summary of a conversation quiet since then is cleared.",
        )}
        {field(
          "webhookEventsDays",
          `Raw events from WhatsApp; the platform keeps them at most ${defaults.webhookEventsDays} days.`,
          defaults.webhookEventsDays,
        )}
        {field("emailsDays", "Records of emails sent (invitations, alerts).")}
      </div>
      <FormError message={errors?.form} />
      <div className="flex flex-wrap items-center gap-3">
        <Button type="submit" variant="primary" busy={busy} busyLabel="Saving…">
          Save retention
        </Button>
        <FormStatus message={status} />
      </div>
    </form>
  );
}
