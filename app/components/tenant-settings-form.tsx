// The workspace settings form (name, currency, time zone, default country), shared by
// onboarding and the settings page. It submits to Convex from the browser; errors with a
// `field` appear under that field, others above the buttons.
import { useMemo, useState, type FormEvent, type ReactNode } from "react";
import {
  countryOptions,
  currencyOptions,
  timeZoneOptions,
  type TenantSettingsValues,
} from "../lib/tenant-options";
import { LIMITS, lengthProblem } from "../lib/text-limits";
import { useFormSubmission } from "../lib/use-form-submission";
import { Button } from "./button";
import { FormError, FormStatus, SelectField, TextField } from "./form-field";

const FIELDS = ["name", "currency", "timeZone", "defaultCountry"] as const;
type Field = (typeof FIELDS)[number];

export type TenantSettingsFormProps = {
  initial: TenantSettingsValues;
  submitLabel: string;
  busyLabel: string;
  /** Saves the values; may throw a ConvexError. Returns a success message to announce, if any. */
  onSubmit: (values: TenantSettingsValues) => Promise<string | void>;
  disabled?: boolean;
  /** Why the currency can no longer change (the ledger has entries); the field is then fixed. */
  currencyLocked?: string | null;
  secondaryAction?: ReactNode;
};

export function TenantSettingsForm({
  initial,
  submitLabel,
  busyLabel,
  onSubmit,
  disabled,
  currencyLocked,
  secondaryAction,
}: TenantSettingsFormProps) {
  const [values, setValues] = useState(initial);
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

  const currencies = useMemo(() => currencyOptions(values.currency), [values.currency]);
  const countries = useMemo(() => countryOptions(values.defaultCountry), [values.defaultCountry]);
  const zones = useMemo(() => timeZoneOptions(values.timeZone), [values.timeZone]);

  const set = (field: Field) => (event: { target: { value: string } }) => {
    setValues((v) => ({ ...v, [field]: event.target.value }));
    clearStatus();
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    if (!values.name.trim()) return invalid({ name: "Enter a name for the workspace" });
    // Too long is refused here, counted; everything else about the name is the backend's call.
    if (values.name.trim().length > LIMITS.tenantName.max)
      return invalid({ name: lengthProblem(values.name, LIMITS.tenantName) ?? "" });
    await save(() => onSubmit({ ...values, name: values.name.trim() }));
  };

  return (
    <form ref={form} noValidate onSubmit={submit} className="space-y-6">
      <TextField
        label="Workspace name"
        name="name"
        value={values.name}
        onChange={set("name")}
        autoComplete="organization"
        limit={LIMITS.tenantName}
        required
        disabled={disabled}
        error={fieldError("name")}
        hint={`Your business or team, as your colleagues will see it. ${LIMITS.tenantName.min} to ${LIMITS.tenantName.max} characters:`}
      />
      <div className="grid gap-6 sm:grid-cols-2">
        <SelectField
          label="Currency"
          name="currency"
          value={values.currency}
          onChange={set("currency")}
          options={currencies}
          disabled={disabled || Boolean(currencyLocked)}
          error={fieldError("currency")}
          hint={
            currencyLocked ??
            "Credits and prices are in it. Only currencies with a WhatsApp rate card can be chosen."
          }
        />
        <SelectField
          label="Default country"
          name="defaultCountry"
          value={values.defaultCountry}
          onChange={set("defaultCountry")}
          options={countries}
          disabled={disabled}
          error={fieldError("defaultCountry")}
          hint="For phone numbers written without a country code."
        />
      </div>
      <SelectField
        label="Time zone"
        name="timeZone"
        value={values.timeZone}
        onChange={set("timeZone")}
        options={zones}
        disabled={disabled}
        error={fieldError("timeZone")}
        hint="Schedules and the audit log use it."
      />
      <FormError message={errors?.form} />
      <div className="flex flex-wrap items-center gap-3">
        <Button type="submit" variant="primary" busy={busy} busyLabel={busyLabel} disabled={disabled}>
          {submitLabel}
        </Button>
        {secondaryAction}
        <FormStatus message={status} />
      </div>
    </form>
  );
}
