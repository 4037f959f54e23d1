// The assistant's settings page parts: the on/off switch, which engine answers (a model or the
// offline answerer), the model's circuit breaker, the settings form for admins and the same
// settings read-only for everyone else.
import { useMutation } from "convex/react";
import { describeBusinessHours, parseBusinessHours } from "../../convex/shared/businessHours";
import { useId, useMemo, useState, type FormEvent, type ReactNode } from "react";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import {
  ASSISTANT_LIMITS,
  BREAKER_OPEN_MS,
  IDLE_HAND_BACK_MINUTES,
  IDLE_MINUTES_MESSAGE,
  TURNS_PER_MINUTE,
  TURNS_PER_MINUTE_MESSAGE,
  breakerSummary,
  changedFields,
  languagesProblem,
  parseLanguages,
  textProblem,
  wholeNumber,
  type AssistantSettingsView,
} from "../lib/assistant";
import { KIND_LABELS, channelAddress, type Channel } from "../lib/channels";
import { toAppError } from "../lib/convex-errors";
import { durationInWords, formatDateTime } from "../lib/format";
import { useNow } from "../lib/relative-time";
import type { TenantContext } from "../lib/tenant-context";
import { useFormSubmission } from "../lib/use-form-submission";
import { Button } from "./button";
import { Badge } from "./channel-health";
import { FormError, FormStatus, SelectField, TextField } from "./form-field";
import { Section } from "./page-header";
import { TextAreaField } from "./text-area-field";

const card = "rounded-2xl border border-slate-200 bg-white p-4 shadow-sm sm:p-6";

// ---------------------------------------------------------------- on/off

/** The assistant on or off: a switch for admins (saved at once), a plain statement for others. */
export function AssistantSwitch({
  tenant,
  settings,
}: {
  tenant: TenantContext;
  settings: AssistantSettingsView;
}) {
  const update = useMutation(api.assistant.updateSettings);
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const labelId = useId();
  const descriptionId = useId();
  const on = settings.enabled;

  const toggle = async () => {
    if (busy) return;
    setBusy(true);
    setError(null);
    setStatus(null);
    try {
      await update({ tenantId: tenant.tenantId, changes: { enabled: !on } });
      setStatus(
        on
          ? "The assistant is off: new customer messages wait for your team."
          : `The assistant is on: ${settings.name} answers new customer messages.`,
      );
    } catch (e) {
      setError(toAppError(e).message);
    } finally {
      setBusy(false);
    }
  };

  const description = on
    ? `${settings.name} answers customers' messages on the channels below and hands conversations to your team when it should.`
    : "Nobody answers automatically: every customer message waits for a person on your team.";

  return (
    <section aria-labelledby={labelId} className={card}>
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div className="min-w-0 flex-1">
          <h2 id={labelId} className="text-lg font-semibold text-slate-900">
            The assistant answers customers
          </h2>
          <p id={descriptionId} className="mt-1 text-sm text-slate-600">
            {description}
          </p>
        </div>
        {tenant.canAdminWrite ? (
          <button
            type="button"
            role="switch"
            aria-checked={on}
            aria-labelledby={labelId}
            aria-describedby={descriptionId}
            aria-busy={busy || undefined}
            disabled={busy}
            onClick={toggle}
            className={`relative inline-flex h-7 w-12 shrink-0 items-center rounded-full transition-colors focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-brand-600 disabled:opacity-60 ${
              on ? "bg-brand-600" : "bg-slate-300"
            }`}
          >
            <span
              aria-hidden="true"
              className={`inline-block size-5 rounded-full bg-white shadow transition-transform ${
                on ? "translate-x-6" : "translate-x-1"
              }`}
            />
          </button>
        ) : (
          <Badge tone={on ? "good" : "warning"}>{on ? "On" : "Off"}</Badge>
        )}
      </div>
      {tenant.canAdminWrite ? (
        <div className="mt-3 space-y-2">
          <FormError message={error} />
          <FormStatus message={status} />
        </div>
      ) : null}
    </section>
  );
}

// ---------------------------------------------------------------- engine and breaker

/** Which engine answers: the configured model, or (without one) the offline answerer. */
export function EngineNotice({ settings }: { settings: AssistantSettingsView }) {
  if (!settings.modelConfigured) {
    return (
      <div
        role="note"
        className="rounded-2xl border border-amber-200 bg-amber-50 p-4 text-sm text-amber-900 sm:p-6"
      >
        <p className="font-semibold">
          No model configured: the assistant answers offline from the knowledge base
        </p>
        <p className="mt-1">
          It replies with the knowledge entry that best fits the question and hands the conversation to your
          team when none does. Whoever runs this Switchboard deployment enables a model by setting{" "}
          <code className="rounded bg-amber-100 px-1 font-mono">OPENAI_API_KEY</code> (and{" "}
          <code className="rounded bg-amber-100 px-1 font-mono">OPENAI_BASE_URL</code> for another
          OpenAI-compatible server); the model settings below are used from then on.
        </p>
      </div>
    );
  }
  return (
    <div
      role="note"
      className="rounded-2xl border border-slate-200 bg-white p-4 text-sm text-slate-700 sm:p-6"
    >
      <p>
        <span className="font-semibold text-slate-900">Model in use: {settings.model}</span>
        {settings.fallbackModel
          ? `, then ${settings.fallbackModel} when ${settings.model} fails. When both fail`
          : " (no fallback model). When it fails"}
        , or the workspace&apos;s credits cannot pay for a turn, the assistant answers offline from the
        knowledge base or hands the conversation to your team.
      </p>
      {settings.models ? (
        <p className="mt-1 text-slate-600">
          This deployment allows these models: {settings.models.join(", ")}.
        </p>
      ) : null}
    </div>
  );
}

/** The model's circuit breaker in plain words, counting down to its next try when open. */
export function BreakerPanel({ settings, timeZone }: { settings: AssistantSettingsView; timeZone?: string }) {
  const now = useNow();
  const summary = breakerSummary(settings.breaker, now);
  const { breaker } = settings;
  return (
    <Section
      id="breaker"
      title="Circuit breaker"
      description={`Stops calling a failing model for ${durationInWords(BREAKER_OPEN_MS)} at a time, so customers get offline answers quickly instead of waiting for errors.`}
    >
      <div className={card}>
        <dl className="grid gap-4 text-sm sm:grid-cols-2">
          <div>
            <dt className="text-slate-500">State</dt>
            <dd className="mt-1">
              <Badge tone={summary.tone}>{summary.label}</Badge>
            </dd>
          </div>
          <div>
            <dt className="text-slate-500">Failures in a row</dt>
            <dd className="mt-1 font-medium text-slate-900">{breaker.failures}</dd>
          </div>
          {summary.probeAt !== null ? (
            <div>
              <dt className="text-slate-500">Tries the model again</dt>
              <dd className="mt-1 font-medium text-slate-900">
                {formatDateTime(summary.probeAt, timeZone)}
                {now !== null ? ` (in ${Math.max(1, Math.ceil((summary.probeAt - now) / 1000))} s)` : null}
              </dd>
            </div>
          ) : null}
          <div className="sm:col-span-2">
            <dt className="text-slate-500">Last error</dt>
            <dd className="mt-1 break-words text-slate-900">
              {breaker.lastError ? <code className="font-mono text-xs">{breaker.lastError}</code> : "None"}
            </dd>
          </div>
        </dl>
        <p className="mt-4 text-sm text-slate-600">
          {settings.modelConfigured
            ? summary.meaning
            : "No model is configured, so the breaker has nothing to guard: the assistant answers offline."}
        </p>
      </div>
    </Section>
  );
}

// ---------------------------------------------------------------- the form (admins)

const FIELDS = [
  "name",
  "persona",
  "instructions",
  "languages",
  "businessHours",
  "handoffRules",
  "model",
  "fallbackModel",
  "disabledChannels",
  "turnsPerMinute",
  "idleHandBackMinutes",
] as const;
type Field = (typeof FIELDS)[number];

type TextFieldName =
  "name" | "persona" | "instructions" | "businessHours" | "handoffRules" | "model" | "fallbackModel";

type Values = Record<TextFieldName, string> & {
  languages: string;
  disabledChannels: Id<"channels">[];
  turnsPerMinute: string;
  idleHandBackMinutes: string;
};

/** What the form saves, in the backend's shape. */
type Saved = {
  name: string;
  persona: string;
  instructions: string;
  languages: string[];
  businessHours: string;
  handoffRules: string;
  model: string;
  fallbackModel: string;
  disabledChannels: Id<"channels">[];
  turnsPerMinute: number;
  idleHandBackMinutes: number;
};

/** The settings as the form saves them: channels that still exist, in a stable order. */
function savedOf(settings: Saved, channels: readonly Channel[]): Saved {
  const known = new Set(channels.map((c) => c.channelId));
  return {
    name: settings.name,
    persona: settings.persona,
    instructions: settings.instructions,
    languages: settings.languages,
    businessHours: settings.businessHours,
    handoffRules: settings.handoffRules,
    model: settings.model,
    fallbackModel: settings.fallbackModel,
    disabledChannels: settings.disabledChannels.filter((id) => known.has(id)).sort(),
    turnsPerMinute: settings.turnsPerMinute,
    idleHandBackMinutes: settings.idleHandBackMinutes,
  };
}

function valuesOf(saved: Saved): Values {
  return {
    ...saved,
    languages: saved.languages.join(", "),
    turnsPerMinute: String(saved.turnsPerMinute),
    idleHandBackMinutes: String(saved.idleHandBackMinutes),
  };
}

/** The assistant's settings form: everything but the on/off switch, saved together. */
export function AssistantSettingsForm({
  tenant,
  settings,
  channels,
}: {
  tenant: TenantContext;
  settings: AssistantSettingsView;
  channels: readonly Channel[];
}) {
  const update = useMutation(api.assistant.updateSettings);
  // What the form started from (then what it last saved): only fields that differ are sent, so a
  // save never overwrites what another admin changed in a field this one did not touch.
  const [baseline, setBaseline] = useState(() => savedOf(settings, channels));
  const [values, setValues] = useState(() => valuesOf(baseline));
  const { form, busy, errors, status, fieldError, submit, invalid, clearStatus } = useFormSubmission(FIELDS);

  const set =
    (field: TextFieldName | "languages" | "turnsPerMinute" | "idleHandBackMinutes") =>
    (event: { target: { value: string } }) => {
      setValues((v) => ({ ...v, [field]: event.target.value }));
      clearStatus();
    };

  const toggleChannel = (channelId: Id<"channels">, answers: boolean) => {
    setValues((v) => ({
      ...v,
      disabledChannels: answers
        ? v.disabledChannels.filter((id) => id !== channelId)
        : [...v.disabledChannels, channelId].sort(),
    }));
    clearStatus();
  };

  const languages = useMemo(() => parseLanguages(values.languages), [values.languages]);

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    const problems: Partial<Record<Field, string>> = {};
    for (const field of [
      "name",
      "persona",
      "instructions",
      "businessHours",
      "handoffRules",
      "model",
    ] as const) {
      const problem = textProblem(values[field], ASSISTANT_LIMITS[field].max);
      if (problem) problems[field] = problem;
    }
    if (!values.name.trim()) problems.name = "Give the assistant a name";
    if (!values.model.trim()) problems.model = "Name the model to use";
    const languageProblem = languagesProblem(languages);
    if (languageProblem) problems.languages = languageProblem;
    const turns = wholeNumber(values.turnsPerMinute, TURNS_PER_MINUTE, TURNS_PER_MINUTE_MESSAGE);
    if ("problem" in turns) problems.turnsPerMinute = turns.problem;
    const idle = wholeNumber(values.idleHandBackMinutes, IDLE_HAND_BACK_MINUTES, IDLE_MINUTES_MESSAGE);
    if ("problem" in idle) problems.idleHandBackMinutes = idle.problem;
    if (Object.keys(problems).length || "problem" in turns || "problem" in idle) return invalid(problems);

    const next: Saved = {
      name: values.name.trim(),
      persona: values.persona.trim(),
      instructions: values.instructions.trim(),
      languages,
      businessHours: values.businessHours.trim(),
      handoffRules: values.handoffRules.trim(),
      model: values.model.trim(),
      fallbackModel: values.fallbackModel.trim(),
      disabledChannels: values.disabledChannels,
      turnsPerMinute: turns.value,
      idleHandBackMinutes: idle.value,
    };
    const changes = changedFields(baseline, next);
    await submit(async () => {
      if (!Object.keys(changes).length) return "Nothing to save: no setting changed";
      await update({ tenantId: tenant.tenantId, changes });
      setBaseline(next);
      setValues(valuesOf(next));
      return "Assistant settings saved";
    });
  };

  return (
    <form ref={form} noValidate onSubmit={onSubmit} aria-label="Assistant settings" className="space-y-10">
      <Section id="identity" title="Who it is" description="How the assistant introduces itself and speaks.">
        <div className={`${card} space-y-6`}>
          <TextField
            label="Name"
            name="name"
            value={values.name}
            onChange={set("name")}
            limit={ASSISTANT_LIMITS.name}
            required
            error={fieldError("name")}
            hint="What it calls itself when customers ask."
          />
          <TextAreaField
            label="Persona"
            name="persona"
            value={values.persona}
            onChange={set("persona")}
            limit={ASSISTANT_LIMITS.persona}
            rows={3}
            error={fieldError("persona")}
            hint="Its tone and manner, e.g. “Warm and brief, uses the customer's first name”."
          />
          <LanguagesField
            value={values.languages}
            codes={languages}
            onChange={set("languages")}
            error={fieldError("languages")}
          />
        </div>
      </Section>

      <Section
        id="behaviour"
        title="What it does"
        description="The rules it follows when it answers and when it hands over."
      >
        <div className={`${card} space-y-6`}>
          <TextAreaField
            label="Instructions"
            name="instructions"
            value={values.instructions}
            onChange={set("instructions")}
            limit={ASSISTANT_LIMITS.instructions}
            rows={6}
            error={fieldError("instructions")}
            hint="What it may and may not do. It answers from the knowledge base."
          />
          <TextAreaField
            label="Business hours"
            name="businessHours"
            value={values.businessHours}
            onChange={set("businessHours")}
            limit={ASSISTANT_LIMITS.businessHours}
            rows={2}
            error={fieldError("businessHours")}
            hint={
              values.businessHours.trim()
                ? `Understood as: ${describeBusinessHours(parseBusinessHours(values.businessHours))} (in the workspace's time zone). Outside them, a handoff tells the customer when the team is back.`
                : "When your team is around to take over, e.g. “Mon–Fri 9:00–18:00, Sat 10:00–14:00”. Blank means always."
            }
          />
          <TextAreaField
            label="Handoff rules"
            name="handoffRules"
            value={values.handoffRules}
            onChange={set("handoffRules")}
            limit={ASSISTANT_LIMITS.handoffRules}
            rows={3}
            error={fieldError("handoffRules")}
            hint="When to pass a conversation to a person besides being asked for one, e.g. “refunds, complaints, orders over €500”."
          />
        </div>
      </Section>

      <Section
        id="model"
        title="Model"
        description={
          settings.modelConfigured
            ? "The language model that writes answers, and the one tried when it fails."
            : "Used once a model is configured for this deployment; until then the assistant answers offline."
        }
      >
        <div className={`${card} grid gap-6 sm:grid-cols-2`}>
          <ModelField
            label="Model"
            name="model"
            value={values.model}
            allowed={settings.models}
            onChange={set("model")}
            error={fieldError("model")}
            hint="Tried first for every answer."
          />
          <ModelField
            label="Fallback model"
            name="fallbackModel"
            value={values.fallbackModel}
            allowed={settings.models}
            onChange={set("fallbackModel")}
            error={fieldError("fallbackModel")}
            hint="Tried when the first model fails. Empty for none."
            optional
          />
        </div>
      </Section>

      <Section id="channels" title="Channels" description="The WhatsApp numbers the assistant answers on.">
        <div className={card}>
          <ChannelChoices
            channels={channels}
            disabled={values.disabledChannels}
            onToggle={toggleChannel}
            error={fieldError("disabledChannels")}
          />
        </div>
      </Section>

      <Section
        id="limits"
        title="Pace"
        description="How much it answers, and when it takes a conversation back."
      >
        <div className={`${card} grid gap-6 sm:grid-cols-2`}>
          <TextField
            label="Answers per minute per customer"
            name="turnsPerMinute"
            type="number"
            inputMode="numeric"
            min={TURNS_PER_MINUTE.min}
            max={TURNS_PER_MINUTE.max}
            step={1}
            value={values.turnsPerMinute}
            onChange={set("turnsPerMinute")}
            error={fieldError("turnsPerMinute")}
            hint={`${TURNS_PER_MINUTE.min} to ${TURNS_PER_MINUTE.max}. Messages beyond it wait for your team.`}
          />
          <TextField
            label="Hand back after idle minutes"
            name="idleHandBackMinutes"
            type="number"
            inputMode="numeric"
            min={IDLE_HAND_BACK_MINUTES.min}
            max={IDLE_HAND_BACK_MINUTES.max}
            step={1}
            value={values.idleHandBackMinutes}
            onChange={set("idleHandBackMinutes")}
            error={fieldError("idleHandBackMinutes")}
            hint="When a person took over and then left the conversation quiet this long, the assistant answers again. 0 = never."
          />
        </div>
      </Section>

      <div className="space-y-3">
        <FormError message={errors?.form} />
        <div className="flex flex-wrap items-center gap-3">
          <Button type="submit" variant="primary" busy={busy} busyLabel="Saving…">
            Save assistant settings
          </Button>
          <FormStatus message={status} />
        </div>
      </div>
    </form>
  );
}

function LanguagesField({
  value,
  codes,
  onChange,
  error,
}: {
  value: string;
  codes: readonly string[];
  onChange: (event: { target: { value: string } }) => void;
  error?: string;
}) {
  const chipsId = useId();
  return (
    <div>
      <TextField
        label="Languages"
        name="languages"
        value={value}
        onChange={onChange}
        autoComplete="off"
        spellCheck={false}
        error={error}
        hint="Codes separated by commas, e.g. en, es, pt-br. It answers in the customer's language when it is one of these."
        aria-controls={chipsId}
      />
      <ul id={chipsId} aria-label="Languages it answers in" className="mt-2 flex flex-wrap gap-1.5">
        {codes.map((code) => (
          <li key={code}>
            <Badge tone={languagesProblem([code]) ? "bad" : "neutral"}>{code}</Badge>
          </li>
        ))}
      </ul>
    </div>
  );
}

function ModelField({
  label,
  name,
  value,
  allowed,
  onChange,
  error,
  hint,
  optional,
}: {
  label: string;
  name: string;
  value: string;
  allowed: readonly string[] | null;
  onChange: (event: { target: { value: string } }) => void;
  error?: string;
  hint: ReactNode;
  optional?: boolean;
}) {
  if (allowed) {
    const options = [
      ...(optional ? [{ value: "", label: "None" }] : []),
      ...(value && !allowed.includes(value) ? [{ value, label: `${value} (not allowed here)` }] : []),
      ...allowed.map((m) => ({ value: m, label: m })),
    ];
    return (
      <SelectField
        label={label}
        name={name}
        value={value}
        onChange={onChange}
        options={options}
        error={error}
        hint={hint}
      />
    );
  }
  return (
    <TextField
      label={label}
      name={name}
      value={value}
      onChange={onChange}
      autoComplete="off"
      spellCheck={false}
      limit={optional ? undefined : ASSISTANT_LIMITS.model}
      required={!optional}
      error={error}
      hint={<>{hint} A model name at your OpenAI-compatible provider, e.g. gpt-4o-mini.</>}
    />
  );
}

function ChannelChoices({
  channels,
  disabled,
  onToggle,
  error,
}: {
  channels: readonly Channel[];
  disabled: readonly Id<"channels">[];
  onToggle: (channelId: Id<"channels">, answers: boolean) => void;
  error?: string;
}) {
  const errorId = useId();
  if (!channels.length) {
    return (
      <p className="text-sm text-slate-600">
        No WhatsApp number is connected yet. Once one is, the assistant answers on it unless you turn it off
        here.
      </p>
    );
  }
  return (
    <fieldset aria-describedby={error ? errorId : undefined}>
      <legend className="text-sm font-medium text-slate-900">Answer on</legend>
      {error ? (
        <p id={errorId} className="mt-1.5 text-sm font-medium text-red-700">
          {error}
        </p>
      ) : null}
      <ul className="mt-3 space-y-3">
        {channels.map((channel) => (
          <li key={channel.channelId}>
            <label className="flex items-start gap-3">
              <input
                type="checkbox"
                checked={!disabled.includes(channel.channelId)}
                onChange={(e) => onToggle(channel.channelId, e.target.checked)}
                className="mt-1 size-4 rounded border-slate-300 text-brand-600"
              />
              <span className="min-w-0">
                <span className="block text-sm font-medium text-slate-900">{channel.name}</span>
                <span className="block text-xs break-words text-slate-500">
                  {KIND_LABELS[channel.kind]} · {channelAddress(channel)}
                  {channel.enabled ? null : " · the channel itself is disabled"}
                </span>
              </span>
            </label>
          </li>
        ))}
      </ul>
    </fieldset>
  );
}

// ---------------------------------------------------------------- read-only (agents)

/** The settings as text, for people who may see but not change them. */
export function AssistantSettingsSummary({
  tenant,
  settings,
  channels,
}: {
  tenant: TenantContext;
  settings: AssistantSettingsView;
  channels: readonly Channel[];
}) {
  const answersOn = channels.filter((c) => !settings.disabledChannels.includes(c.channelId));
  const rows: [string, ReactNode][] = [
    ["Name", settings.name],
    ["Persona", settings.persona],
    ["Languages", settings.languages.join(", ")],
    ["Instructions", settings.instructions],
    ["Business hours", settings.businessHours],
    ["Handoff rules", settings.handoffRules],
    ["Model", settings.model],
    ["Fallback model", settings.fallbackModel],
    [
      "Answers on",
      channels.length === 0
        ? "No channel connected yet"
        : answersOn.length === 0
          ? "No channel"
          : answersOn.map((c) => c.name).join(", "),
    ],
    ["Answers per minute per customer", String(settings.turnsPerMinute)],
    [
      "Hands back after",
      settings.idleHandBackMinutes === 0 ? "Never" : `${settings.idleHandBackMinutes} idle minutes`,
    ],
  ];
  return (
    <Section
      id="settings"
      title="Settings"
      description={
        tenant.isMember
          ? "You can read these settings; owners and admins change them."
          : "Read-only: you are not a member of this workspace."
      }
    >
      <dl className={`${card} divide-y divide-slate-100`}>
        {rows.map(([label, value]) => (
          <div key={label} className="grid gap-1 py-3 first:pt-0 last:pb-0 sm:grid-cols-3 sm:gap-4">
            <dt className="text-sm text-slate-500">{label}</dt>
            <dd className="text-sm break-words whitespace-pre-wrap text-slate-900 sm:col-span-2">
              {value === "" ? <span className="text-slate-400">Not set</span> : value}
            </dd>
          </div>
        ))}
      </dl>
    </Section>
  );
}
