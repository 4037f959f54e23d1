// For platform admins: resolves a phone-number conflict, when a workspace connected a Cloud API
// number that is not theirs (or the real owner is refused with "already connected"). The number
// is taken from every channel holding it (they are disabled) and given to the channel named, or
// left free for its owner to connect. Audited in every workspace involved.
import { useMutation } from "convex/react";
import { useRef, useState, type FormEvent } from "react";
import { api } from "../../convex/_generated/api";
import { toFormErrors, type FormErrors } from "../lib/convex-errors";
import { Button } from "./button";
import { FormError, FormStatus, TextField, useFocusFirstInvalid } from "./form-field";

const FIELDS = ["phoneNumberId", "toChannelId", "reason"] as const;
type Field = (typeof FIELDS)[number];

export function NumberConflictForm() {
  const reassign = useMutation(api.channels.reassignPhoneNumber);
  const form = useRef<HTMLFormElement>(null);
  const [values, setValues] = useState<Record<Field, string>>({
    phoneNumberId: "",
    toChannelId: "",
    reason: "",
  });
  const [errors, setErrors] = useState<FormErrors<Field> | null>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  useFocusFirstInvalid(form, errors);

  const field = (name: Field) => ({
    name,
    value: values[name],
    error: errors?.fields[name],
    onChange: (event: { target: { value: string } }) => {
      setValues((v) => ({ ...v, [name]: event.target.value }));
      setDone(null);
    },
  });

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setErrors(null);
    setDone(null);
    try {
      const result = await reassign({
        phoneNumberId: values.phoneNumberId,
        toChannelId: values.toChannelId.trim() || null,
        reason: values.reason,
      });
      const from = result.released.map((r) => r.name).join(", ") || "no channel";
      setDone(
        result.assignedTo
          ? `Phone number ID ${result.phoneNumberId} moved from ${from} to ${result.assignedTo.name}`
          : `Phone number ID ${result.phoneNumberId} released from ${from}; its owner can connect it now`,
      );
      setValues({ phoneNumberId: "", toChannelId: "", reason: "" });
    } catch (error) {
      setErrors(toFormErrors(error, FIELDS));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section
      aria-labelledby="number-conflicts"
      className="space-y-3 rounded-2xl border border-slate-200 bg-white p-4 shadow-sm"
    >
      <h2 id="number-conflicts" className="text-base font-semibold text-slate-900">
        Phone number conflicts
      </h2>
      <p className="text-sm text-slate-600">
        When a workspace holds a Cloud API number that is not theirs, take it away: every channel holding it
        loses it and is disabled. Name the channel that should get it, or leave that blank so the real owner
        can connect it (Meta then confirms their token).
      </p>
      <form
        ref={form}
        onSubmit={submit}
        noValidate
        aria-label="Reassign a phone number ID"
        className="grid gap-3 sm:grid-cols-3"
      >
        <TextField label="Phone number ID" inputMode="numeric" required {...field("phoneNumberId")} />
        <TextField label="Give it to channel (id, optional)" spellCheck={false} {...field("toChannelId")} />
        <TextField label="Reason (kept in the audit logs)" required {...field("reason")} />
        <div className="flex items-center gap-3 sm:col-span-3">
          <Button type="submit" variant="primary" busy={busy} busyLabel="Reassigning…">
            Reassign number
          </Button>
          <FormStatus message={done} />
        </div>
        <div className="sm:col-span-3">
          <FormError message={errors?.form} />
        </div>
      </form>
    </section>
  );
}
