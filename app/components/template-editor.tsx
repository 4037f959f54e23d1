// The template editor: category, language, header, body with variables and their samples,
// footer and buttons, with the lint's findings as you type and a WhatsApp-like preview.
import { useId, useRef, type ReactNode } from "react";
import {
  BUTTON_LABELS,
  CATEGORY_LABELS,
  TEMPLATE_LANGUAGES,
  TEMPLATE_LIMITS,
  fillSamples,
  newButton,
  nextVariable,
  variableNames,
  type ButtonType,
  type Category,
  type EditorButton,
  type EditorState,
  type HeaderKind,
  type LintIssue,
  type TemplateSummary,
  qualityTone,
  statusInfo,
} from "../lib/templates";
import { Button } from "./button";
import { Badge } from "./channel-health";

const inputClass =
  "mt-1 block w-full rounded-lg border border-slate-300 px-3 py-2 text-sm shadow-sm focus:border-brand-600 focus:ring-1 focus:ring-brand-600 focus:outline-none disabled:bg-slate-50";
const labelClass = "block text-sm font-medium text-slate-900";

function Counter({ value, max }: { value: string; max: number }) {
  const n = [...value].length;
  return (
    <span className={`text-xs ${n > max ? "font-semibold text-red-700" : "text-slate-500"}`}>
      {n}/{max}
    </span>
  );
}

function Field({
  label,
  hint,
  children,
  counter,
}: {
  label: string;
  hint?: ReactNode;
  children: (id: string) => ReactNode;
  counter?: ReactNode;
}) {
  const id = useId();
  return (
    <div>
      <div className="flex items-baseline justify-between gap-2">
        <label htmlFor={id} className={labelClass}>
          {label}
        </label>
        {counter}
      </div>
      {children(id)}
      {hint ? <p className="mt-1 text-xs text-slate-500">{hint}</p> : null}
    </div>
  );
}

export function TemplateEditor({
  state,
  onChange,
  nameLocked,
  disabled,
}: {
  state: EditorState;
  onChange: (next: EditorState) => void;
  /** Submitted templates keep their name and language. */
  nameLocked: boolean;
  disabled: boolean;
}) {
  const body = useRef<HTMLTextAreaElement>(null);
  const set = <K extends keyof EditorState>(key: K, value: EditorState[K]) =>
    onChange({ ...state, [key]: value });
  const setButton = (key: number, patch: Partial<EditorButton>) =>
    set(
      "buttons",
      state.buttons.map((b) => (b.key === key ? { ...b, ...patch } : b)),
    );
  const move = (index: number, by: number) => {
    const next = [...state.buttons];
    const [b] = next.splice(index, 1);
    next.splice(index + by, 0, b);
    set("buttons", next);
  };
  const insertVariable = () => {
    const variable = nextVariable(state.body, state.named);
    const el = body.current;
    const at = el ? el.selectionStart : state.body.length;
    const end = el ? el.selectionEnd : state.body.length;
    const text = state.body.slice(0, at) + variable + state.body.slice(end);
    onChange({ ...state, body: text });
    requestAnimationFrame(() => {
      el?.focus();
      el?.setSelectionRange(at + variable.length, at + variable.length);
    });
  };
  const bodyVars = variableNames(state.body);
  const headerVars = state.headerKind === "TEXT" ? variableNames(state.headerText) : [];
  const auth = state.category === "AUTHENTICATION";

  return (
    <fieldset disabled={disabled} className="space-y-6">
      <div className="grid gap-4 sm:grid-cols-2">
        <Field label="Name" hint="Lowercase letters, digits and underscores, like order_shipped">
          {(id) => (
            <input
              id={id}
              className={inputClass}
              value={state.name}
              disabled={nameLocked}
              autoComplete="off"
              onChange={(e) => set("name", e.target.value)}
            />
          )}
        </Field>
        <Field label="Language">
          {(id) => (
            <select
              id={id}
              className={inputClass}
              value={state.language}
              disabled={nameLocked}
              onChange={(e) => set("language", e.target.value)}
            >
              {Object.entries(TEMPLATE_LANGUAGES).map(([code, name]) => (
                <option key={code} value={code}>
                  {name} ({code})
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field
          label="Category"
          hint={
            state.category === "MARKETING"
              ? "Offers, news, invitations. Priced highest."
              : state.category === "UTILITY"
                ? "Updates about something the customer did or asked for (orders, bookings, accounts)."
                : "One-time passwords only; WhatsApp writes the text."
          }
        >
          {(id) => (
            <select
              id={id}
              className={inputClass}
              value={state.category}
              onChange={(e) => set("category", e.target.value as Category)}
            >
              {(Object.keys(CATEGORY_LABELS) as Category[]).map((c) => (
                <option key={c} value={c}>
                  {CATEGORY_LABELS[c]}
                </option>
              ))}
            </select>
          )}
        </Field>
        <fieldset>
          <legend className={labelClass}>Variables</legend>
          <div className="mt-2 flex gap-4 text-sm">
            <label className="flex items-center gap-2">
              <input type="radio" name="format" checked={!state.named} onChange={() => set("named", false)} />{" "}
              Numbered {"{{1}}"}
            </label>
            <label className="flex items-center gap-2">
              <input type="radio" name="format" checked={state.named} onChange={() => set("named", true)} />{" "}
              Named {"{{first_name}}"}
            </label>
          </div>
        </fieldset>
      </div>

      {auth ? (
        <p className="rounded-lg border border-sky-200 bg-sky-50 px-3 py-2 text-sm text-sky-900">
          Authentication templates send a one-time code with WhatsApp&apos;s own wording; this editor writes
          marketing and utility templates. Create authentication templates in WhatsApp Manager, then use “Read
          from Meta”.
        </p>
      ) : null}

      <div>
        <Field
          label="Header"
          hint="Optional: a short title, or an image, video or document shown above the text."
        >
          {(id) => (
            <select
              id={id}
              className={inputClass}
              value={state.headerKind}
              onChange={(e) => set("headerKind", e.target.value as HeaderKind)}
            >
              <option value="NONE">No header</option>
              <option value="TEXT">Text</option>
              <option value="IMAGE">Image</option>
              <option value="VIDEO">Video</option>
              <option value="DOCUMENT">Document</option>
            </select>
          )}
        </Field>
        {state.headerKind === "TEXT" ? (
          <div className="mt-3 space-y-3">
            <Field
              label="Header text"
              counter={<Counter value={state.headerText} max={TEMPLATE_LIMITS.header} />}
            >
              {(id) => (
                <input
                  id={id}
                  className={inputClass}
                  value={state.headerText}
                  onChange={(e) => set("headerText", e.target.value)}
                />
              )}
            </Field>
            {headerVars.map((name) => (
              <Field key={name} label={`Sample for {{${name}}} in the header`}>
                {(id) => (
                  <input
                    id={id}
                    className={inputClass}
                    value={state.headerSamples[name] ?? ""}
                    onChange={(e) => set("headerSamples", { ...state.headerSamples, [name]: e.target.value })}
                  />
                )}
              </Field>
            ))}
          </div>
        ) : state.headerKind !== "NONE" ? (
          <div className="mt-3">
            <Field
              label="Sample file handle"
              hint="Meta's reviewers need a sample: upload one with the Resumable Upload API or WhatsApp Manager and paste its handle."
            >
              {(id) => (
                <input
                  id={id}
                  className={inputClass}
                  value={state.headerHandle}
                  onChange={(e) => set("headerHandle", e.target.value)}
                />
              )}
            </Field>
          </div>
        ) : null}
      </div>

      <div>
        <Field label="Body" counter={<Counter value={state.body} max={TEMPLATE_LIMITS.body} />}>
          {(id) => (
            <textarea
              id={id}
              ref={body}
              rows={6}
              className={inputClass}
              value={state.body}
              onChange={(e) => set("body", e.target.value)}
              placeholder="Hi {{1}}, your order {{2}} has shipped and should arrive within three days."
            />
          )}
        </Field>
        <div className="mt-2">
          <Button type="button" size="sm" onClick={insertVariable}>
            Add variable
          </Button>
        </div>
        {bodyVars.length ? (
          <div className="mt-3 grid gap-3 sm:grid-cols-2">
            {bodyVars.map((name) => (
              <Field key={name} label={`Sample for {{${name}}}`}>
                {(id) => (
                  <input
                    id={id}
                    className={inputClass}
                    value={state.samples[name] ?? ""}
                    onChange={(e) => set("samples", { ...state.samples, [name]: e.target.value })}
                  />
                )}
              </Field>
            ))}
          </div>
        ) : null}
      </div>

      <Field
        label="Footer"
        hint="Optional, no variables."
        counter={<Counter value={state.footer} max={TEMPLATE_LIMITS.footer} />}
      >
        {(id) => (
          <input
            id={id}
            className={inputClass}
            value={state.footer}
            onChange={(e) => set("footer", e.target.value)}
          />
        )}
      </Field>

      <fieldset>
        <legend className={labelClass}>Buttons</legend>
        <p className="text-xs text-slate-500">
          Up to {TEMPLATE_LIMITS.buttons}: quick replies kept together, at most 2 website buttons, 1 call and
          1 copy-code button.
        </p>
        <ol className="mt-3 space-y-3">
          {state.buttons.map((b, i) => (
            <li key={b.key} className="rounded-lg border border-slate-200 p-3">
              <div className="flex flex-wrap items-center justify-between gap-2">
                <span className="text-sm font-medium text-slate-900">
                  {i + 1}. {BUTTON_LABELS[b.type]}
                </span>
                <span className="flex gap-1">
                  <Button
                    type="button"
                    size="sm"
                    variant="ghost"
                    disabled={i === 0}
                    onClick={() => move(i, -1)}
                    aria-label={`Move button ${i + 1} up`}
                  >
                    ↑
                  </Button>
                  <Button
                    type="button"
                    size="sm"
                    variant="ghost"
                    disabled={i === state.buttons.length - 1}
                    onClick={() => move(i, 1)}
                    aria-label={`Move button ${i + 1} down`}
                  >
                    ↓
                  </Button>
                  <Button
                    type="button"
                    size="sm"
                    variant="ghost"
                    onClick={() =>
                      set(
                        "buttons",
                        state.buttons.filter((x) => x.key !== b.key),
                      )
                    }
                    aria-label={`Remove button ${i + 1}`}
                  >
                    Remove
                  </Button>
                </span>
              </div>
              <div className="mt-2 grid gap-3 sm:grid-cols-2">
                {b.type !== "COPY_CODE" ? (
                  <Field label="Label" counter={<Counter value={b.text} max={TEMPLATE_LIMITS.buttonText} />}>
                    {(id) => (
                      <input
                        id={id}
                        className={inputClass}
                        value={b.text}
                        onChange={(e) => setButton(b.key, { text: e.target.value })}
                      />
                    )}
                  </Field>
                ) : (
                  <Field
                    label="Sample code"
                    counter={<Counter value={b.code} max={TEMPLATE_LIMITS.copyCode} />}
                  >
                    {(id) => (
                      <input
                        id={id}
                        className={inputClass}
                        value={b.code}
                        onChange={(e) => setButton(b.key, { code: e.target.value })}
                      />
                    )}
                  </Field>
                )}
                {b.type === "URL" ? (
                  <>
                    <Field label="Address" hint="May end in {{1}} for a per-message suffix">
                      {(id) => (
                        <input
                          id={id}
                          type="url"
                          className={inputClass}
                          value={b.url}
                          onChange={(e) => setButton(b.key, { url: e.target.value })}
                        />
                      )}
                    </Field>
                    {variableNames(b.url).length ? (
                      <Field label="Sample address">
                        {(id) => (
                          <input
                            id={id}
                            className={inputClass}
                            value={b.urlSample}
                            placeholder={b.url.replace(/\{\{[^}]*\}\}/, "abc123")}
                            onChange={(e) => setButton(b.key, { urlSample: e.target.value })}
                          />
                        )}
                      </Field>
                    ) : null}
                  </>
                ) : null}
                {b.type === "PHONE_NUMBER" ? (
                  <Field label="Phone number" hint="With the country code, like +34 600 123 456">
                    {(id) => (
                      <input
                        id={id}
                        type="tel"
                        className={inputClass}
                        value={b.phone}
                        onChange={(e) => setButton(b.key, { phone: e.target.value })}
                      />
                    )}
                  </Field>
                ) : null}
              </div>
            </li>
          ))}
        </ol>
        <div className="mt-3 flex flex-wrap gap-2">
          {(Object.keys(BUTTON_LABELS) as ButtonType[]).map((type) => (
            <Button
              key={type}
              type="button"
              size="sm"
              disabled={state.buttons.length >= TEMPLATE_LIMITS.buttons}
              onClick={() => set("buttons", [...state.buttons, newButton(type)])}
            >
              Add {BUTTON_LABELS[type].toLowerCase()} button
            </Button>
          ))}
        </div>
      </fieldset>
    </fieldset>
  );
}

/** What the lint found, errors first; live as the template changes. */
export function LintResults({ issues }: { issues: LintIssue[] }) {
  const errors = issues.filter((i) => i.severity === "error");
  const warnings = issues.filter((i) => i.severity === "warning");
  if (!issues.length) {
    return (
      <p
        className="rounded-lg border border-brand-100 bg-brand-50 px-3 py-2 text-sm text-brand-800"
        role="status"
      >
        No problems found: ready to submit.
      </p>
    );
  }
  return (
    <div role="status" aria-live="polite" className="space-y-2" data-testid="lint-results">
      {errors.length ? (
        <div className="rounded-lg border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-900">
          <p className="font-medium">
            {errors.length} {errors.length === 1 ? "problem" : "problems"} to fix before submitting
          </p>
          <ul className="mt-1 list-disc space-y-1 pl-5">
            {errors.map((e, i) => (
              <li key={i} data-rule={e.rule}>
                {e.message}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {warnings.length ? (
        <div className="rounded-lg border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900">
          <p className="font-medium">
            {warnings.length === 1 ? "A risk" : `${warnings.length} risks`} of rejection
          </p>
          <ul className="mt-1 list-disc space-y-1 pl-5">
            {warnings.map((e, i) => (
              <li key={i} data-rule={e.rule}>
                {e.message}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </div>
  );
}

const BUTTON_ICONS: Record<ButtonType, string> = {
  QUICK_REPLY: "↩",
  URL: "↗",
  PHONE_NUMBER: "✆",
  COPY_CODE: "⧉",
};

/** The message as a WhatsApp chat shows it, samples filled in, buttons under the bubble. */
export function TemplatePreview({ state }: { state: EditorState }) {
  const header = state.headerKind === "TEXT" ? fillSamples(state.headerText, state.headerSamples) : "";
  const body = fillSamples(state.body, state.samples);
  const shown = state.buttons.length > 3 ? state.buttons.slice(0, 2) : state.buttons;
  return (
    <figure aria-label="Preview" className="rounded-xl bg-[#efeae2] p-4" data-testid="template-preview">
      <div className="max-w-[19rem]">
        <div className="rounded-lg rounded-tl-none bg-white px-2.5 pt-2 pb-1.5 text-[0.9rem] leading-snug text-slate-900 shadow-sm">
          {state.headerKind !== "NONE" && state.headerKind !== "TEXT" ? (
            <div className="mb-2 flex h-32 items-center justify-center rounded-md bg-slate-200 text-sm text-slate-600">
              {state.headerKind.charAt(0) + state.headerKind.slice(1).toLowerCase()}
            </div>
          ) : null}
          {header ? <p className="mb-1 font-semibold break-words">{header}</p> : null}
          <p className="break-words whitespace-pre-wrap">
            {body || <span className="text-slate-400">Your message</span>}
          </p>
          {state.footer ? <p className="mt-1 text-xs text-slate-500">{state.footer}</p> : null}
          <p className="mt-0.5 text-right text-[0.65rem] text-slate-400">12:00</p>
        </div>
        {shown.map((b) => (
          <div
            key={b.key}
            className="mt-0.5 flex items-center justify-center gap-1.5 rounded-lg bg-white px-2 py-2 text-sm font-medium text-[#027eb5] shadow-sm"
          >
            <span aria-hidden="true">{BUTTON_ICONS[b.type]}</span>
            {b.type === "COPY_CODE" ? "Copy offer code" : b.text || BUTTON_LABELS[b.type]}
          </div>
        ))}
        {state.buttons.length > 3 ? (
          <div className="mt-0.5 flex items-center justify-center gap-1.5 rounded-lg bg-white px-2 py-2 text-sm font-medium text-[#027eb5] shadow-sm">
            <span aria-hidden="true">☰</span> See all options
          </div>
        ) : null}
      </div>
      <figcaption className="mt-3 text-xs text-slate-600">Preview with the sample values.</figcaption>
    </figure>
  );
}

/** Status, quality and an unacknowledged category change, as badges. */
export function StatusBadges({ t }: { t: TemplateSummary }) {
  const info = statusInfo(t.status);
  return (
    <span className="flex flex-wrap gap-1">
      <Badge tone={t.submitting ? "neutral" : info.tone}>{t.submitting ? "Submitting…" : info.label}</Badge>
      {t.qualityScore ? (
        <Badge tone={qualityTone(t.qualityScore)}>Quality: {t.qualityScore.toLowerCase()}</Badge>
      ) : null}
      {t.categoryChange && t.categoryChange.acknowledgedAt === undefined ? (
        <Badge tone="warning">
          {t.categoryChange.state === "announced" ? "Moving to" : "Now"} {t.categoryChange.to.toLowerCase()}
        </Badge>
      ) : null}
    </span>
  );
}
