// The form that connects a channel or edits one, for either kind. Secrets are password inputs
// that start empty: on a new channel they are required, on an existing one blank keeps the
// stored value (whose last four characters are shown). The backend checks everything; its
// errors land on the field they name.
import { useState, type FormEvent, type ReactNode } from "react";
import { SECRET_LABELS, secretMask, type Channel, type ChannelKind, type SecretField } from "../lib/channels";
import { LIMITS, lengthProblem } from "../lib/text-limits";
import { useFormSubmission } from "../lib/use-form-submission";
import { Button } from "./button";
import { FormError, FormStatus, TextField } from "./form-field";

const FIELDS = {
  cloud: ["name", "phoneNumberId", "wabaId", "displayNumber", "accessToken"],
  waha: ["name", "baseUrl", "session", "apiKey", "webhookHmacKey"],
} as const;
type Field = (typeof FIELDS)[ChannelKind][number];

export type ChannelFormValues = Record<Field, string>;

/** What the form submits: the fields of its kind, secrets left out when blank (on edits). */
export type ChannelSubmission =
  | {
      kind: "cloud";
      name: string;
      phoneNumberId: string;
      wabaId: string;
      displayNumber: string;
      accessToken?: string;
    }
  | {
      kind: "waha";
      name: string;
      baseUrl: string;
      session: string;
      apiKey?: string;
      webhookHmacKey?: string;
    };

const EMPTY: ChannelFormValues = {
  name: "",
  phoneNumberId: "",
  wabaId: "",
  displayNumber: "",
  accessToken: "",
  baseUrl: "",
  session: "",
  apiKey: "",
  webhookHmacKey: "",
};

function initialValues(channel?: Channel): ChannelFormValues {
  if (!channel) return EMPTY;
  return {
    ...EMPTY,
    name: channel.name,
    phoneNumberId: channel.phoneNumberId ?? "",
    wabaId: channel.wabaId ?? "",
    displayNumber: channel.displayNumber ?? "",
    baseUrl: channel.baseUrl ?? "",
    session: channel.session ?? "",
  };
}

function submission(kind: ChannelKind, values: ChannelFormValues): ChannelSubmission {
  const secret = (field: Field) => (values[field].trim() ? values[field] : undefined);
  if (kind === "cloud") {
    return {
      kind,
      name: values.name,
      phoneNumberId: values.phoneNumberId,
      wabaId: values.wabaId,
      displayNumber: values.displayNumber,
      accessToken: secret("accessToken"),
    };
  }
  return {
    kind,
    name: values.name,
    baseUrl: values.baseUrl,
    session: values.session,
    apiKey: secret("apiKey"),
    webhookHmacKey: secret("webhookHmacKey"),
  };
}

export type ChannelFormProps = {
  kind: ChannelKind;
  /** The channel being edited; absent when connecting a new one. */
  channel?: Channel;
  submitLabel: string;
  busyLabel: string;
  /** Saves; may throw a ConvexError. Returns a message to announce, if any. */
  onSubmit: (values: ChannelSubmission) => Promise<string | void>;
  secondaryAction?: ReactNode;
  "aria-label"?: string;
};

export function ChannelForm({
  kind,
  channel,
  submitLabel,
  busyLabel,
  onSubmit,
  secondaryAction,
  "aria-label": ariaLabel,
}: ChannelFormProps) {
  const [values, setValues] = useState<ChannelFormValues>(() => initialValues(channel));
  const {
    form,
    busy,
    errors,
    status,
    submit: save,
    invalid,
    clearStatus,
  } = useFormSubmission<Field>(FIELDS[kind]);
  const editing = channel !== undefined;

  const field = (name: Field) => ({
    name,
    value: values[name],
    error: errors?.fields[name],
    onChange: (event: { target: { value: string } }) => {
      setValues((v) => ({ ...v, [name]: event.target.value }));
      clearStatus();
    },
  });

  const secret = (name: SecretField, hint: ReactNode) => {
    const label = SECRET_LABELS[name];
    const stored = channel?.secretHints[name];
    return (
      <TextField
        label={label}
        type="password"
        autoComplete="new-password"
        spellCheck={false}
        required={!editing}
        placeholder={editing ? secretMask(stored) : undefined}
        hint={
          editing ? (
            <>
              Stored: <span className="font-mono">{secretMask(stored)}</span>. Leave blank to keep it; type a
              new one to replace it.
            </>
          ) : (
            hint
          )
        }
        {...field(name)}
      />
    );
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    const tooLong = values.name.trim().length > LIMITS.channelName.max;
    if (tooLong) return invalid({ name: lengthProblem(values.name, LIMITS.channelName) ?? "" });
    await save(async () => {
      const message = await onSubmit(submission(kind, values));
      // Secrets never stay in the page once saved.
      setValues((v) => ({ ...v, accessToken: "", apiKey: "", webhookHmacKey: "" }));
      return message;
    });
  };

  return (
    <form ref={form} noValidate onSubmit={submit} aria-label={ariaLabel} className="space-y-6">
      <TextField
        label="Channel name"
        autoComplete="off"
        limit={LIMITS.channelName}
        required
        hint="How your team will recognise this number, e.g. “Support line”."
        {...field("name")}
      />
      {kind === "cloud" ? (
        <>
          <div className="grid gap-6 sm:grid-cols-2">
            <TextField
              label="Phone number ID"
              inputMode="numeric"
              autoComplete="off"
              required
              hint="In Meta's App Dashboard → WhatsApp → API Setup, under the number."
              {...field("phoneNumberId")}
            />
            <TextField
              label="WhatsApp Business Account ID"
              inputMode="numeric"
              autoComplete="off"
              required
              hint="Shown next to the phone number ID."
              {...field("wabaId")}
            />
          </div>
          <TextField
            label="Display number"
            type="tel"
            autoComplete="off"
            required
            hint="The number people message, with its country code, e.g. +34 600 111 222."
            {...field("displayNumber")}
          />
          {secret(
            "accessToken",
            "A permanent token of a system user with whatsapp_business_messaging permission. It is encrypted and never shown again.",
          )}
        </>
      ) : (
        <>
          <div className="grid gap-6 sm:grid-cols-2">
            <TextField
              label="Server address"
              type="url"
              autoComplete="off"
              required
              hint="Your WAHA server's base URL, e.g. https://waha.example.com."
              {...field("baseUrl")}
            />
            <TextField
              label="Session name"
              autoComplete="off"
              required
              hint="The WAHA session this number is paired in, e.g. default."
              {...field("session")}
            />
          </div>
          {secret("apiKey", "WAHA's X-Api-Key. Encrypted, and never shown again.")}
          {secret(
            "webhookHmacKey",
            "The HMAC key you set on the session's webhook; we check every webhook's signature with it.",
          )}
        </>
      )}
      <FormError message={errors?.form} />
      <div className="flex flex-wrap items-center gap-3">
        <Button type="submit" variant="primary" busy={busy} busyLabel={busyLabel}>
          {submitLabel}
        </Button>
        {secondaryAction}
        <FormStatus message={status} />
      </div>
    </form>
  );
}
