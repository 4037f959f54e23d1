// The template pages' model: the editor's state, Meta's component objects built from it (and
// read back), status badges and the preview's text. The lint is the backend's own function
// (convex/model/templateLint.ts), run here as people type.
import type { Id } from "../../convex/_generated/dataModel";
import {
  TEMPLATE_LANGUAGES,
  TEMPLATE_LIMITS,
  lintTemplate,
  variableNames,
  type LintIssue,
  type TemplateInput,
} from "../../convex/model/templateLint";
import type { TemplateSummary, TemplateView } from "../../convex/model/templates";
import type { Tone } from "./channels";

export { TEMPLATE_LANGUAGES, TEMPLATE_LIMITS, lintTemplate, variableNames };
export type { LintIssue, TemplateSummary, TemplateView };

export type Category = "UTILITY" | "MARKETING" | "AUTHENTICATION";
export type HeaderKind = "NONE" | "TEXT" | "IMAGE" | "VIDEO" | "DOCUMENT";
export type ButtonType = "QUICK_REPLY" | "URL" | "PHONE_NUMBER" | "COPY_CODE";

export type EditorButton = {
  key: number;
  type: ButtonType;
  text: string;
  url: string;
  urlSample: string;
  phone: string;
  code: string;
};

export type EditorState = {
  name: string;
  language: string;
  category: Category;
  named: boolean;
  headerKind: HeaderKind;
  headerText: string;
  headerHandle: string;
  body: string;
  footer: string;
  buttons: EditorButton[];
  /** Sample values by variable name ("1", "first_name"), for header and body. */
  samples: Record<string, string>;
  headerSamples: Record<string, string>;
};

export const CATEGORY_LABELS: Record<Category, string> = {
  UTILITY: "Utility",
  MARKETING: "Marketing",
  AUTHENTICATION: "Authentication",
};

export const BUTTON_LABELS: Record<ButtonType, string> = {
  QUICK_REPLY: "Quick reply",
  URL: "Website",
  PHONE_NUMBER: "Call",
  COPY_CODE: "Copy code",
};

let nextKey = 1;
export function newButton(type: ButtonType): EditorButton {
  return { key: nextKey++, type, text: "", url: "https://", urlSample: "", phone: "", code: "" };
}

export function emptyState(): EditorState {
  return {
    name: "",
    language: "en_US",
    category: "UTILITY",
    named: false,
    headerKind: "NONE",
    headerText: "",
    headerHandle: "",
    body: "",
    footer: "",
    buttons: [],
    samples: {},
    headerSamples: {},
  };
}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => !!x && typeof x === "object" && !Array.isArray(x);
const str = (x: unknown) => (typeof x === "string" ? x : "");

/** Meta's components from the editor's state. */
export function toComponents(s: EditorState): Obj[] {
  const out: Obj[] = [];
  if (s.headerKind === "TEXT") {
    const names = variableNames(s.headerText);
    const header: Obj = { type: "HEADER", format: "TEXT", text: s.headerText };
    if (names.length) {
      header.example = s.named
        ? {
            header_text_named_params: names.map((n) => ({
              param_name: n,
              example: s.headerSamples[n] ?? "",
            })),
          }
        : { header_text: names.map((n) => s.headerSamples[n] ?? "") };
    }
    out.push(header);
  } else if (s.headerKind !== "NONE") {
    out.push({
      type: "HEADER",
      format: s.headerKind,
      ...(s.headerHandle.trim() ? { example: { header_handle: [s.headerHandle.trim()] } } : {}),
    });
  }
  const names = variableNames(s.body);
  const body: Obj = { type: "BODY", text: s.body };
  if (names.length) {
    body.example = s.named
      ? { body_text_named_params: names.map((n) => ({ param_name: n, example: s.samples[n] ?? "" })) }
      : { body_text: [names.map((n) => s.samples[n] ?? "")] };
  }
  out.push(body);
  if (s.footer.trim()) out.push({ type: "FOOTER", text: s.footer });
  if (s.buttons.length) {
    out.push({
      type: "BUTTONS",
      buttons: s.buttons.map((b) => {
        switch (b.type) {
          case "QUICK_REPLY":
            return { type: "QUICK_REPLY", text: b.text };
          case "URL":
            return {
              type: "URL",
              text: b.text,
              url: b.url,
              ...(variableNames(b.url).length ? { example: [b.urlSample] } : {}),
            };
          case "PHONE_NUMBER":
            return { type: "PHONE_NUMBER", text: b.text, phone_number: b.phone };
          case "COPY_CODE":
            return { type: "COPY_CODE", example: b.code };
        }
      }),
    });
  }
  return out;
}

/** The editor's state from a saved template. */
export function fromTemplate(t: TemplateView): EditorState {
  const s = emptyState();
  s.name = t.name;
  s.language = t.language;
  s.category = (
    ["UTILITY", "MARKETING", "AUTHENTICATION"].includes(t.category ?? "") ? t.category : "UTILITY"
  ) as Category;
  s.named = t.parameterFormat === "NAMED";
  for (const c of t.components) {
    if (!isObj(c)) continue;
    const type = str(c.type).toUpperCase();
    const example = isObj(c.example) ? c.example : {};
    if (type === "HEADER") {
      const format = (str(c.format).toUpperCase() || "TEXT") as HeaderKind;
      s.headerKind = ["TEXT", "IMAGE", "VIDEO", "DOCUMENT"].includes(format) ? format : "NONE";
      s.headerText = str(c.text);
      const names = variableNames(s.headerText);
      if (Array.isArray(example.header_text))
        names.forEach((n, i) => (s.headerSamples[n] = str((example.header_text as unknown[])[i])));
      if (Array.isArray(example.header_text_named_params))
        for (const p of example.header_text_named_params.filter(isObj))
          s.headerSamples[str(p.param_name)] = str(p.example);
      if (Array.isArray(example.header_handle)) s.headerHandle = str(example.header_handle[0]);
    } else if (type === "BODY") {
      s.body = str(c.text);
      const names = variableNames(s.body);
      const positional =
        Array.isArray(example.body_text) && Array.isArray(example.body_text[0]) ? example.body_text[0] : null;
      if (positional) names.forEach((n, i) => (s.samples[n] = str(positional[i])));
      if (Array.isArray(example.body_text_named_params))
        for (const p of example.body_text_named_params.filter(isObj))
          s.samples[str(p.param_name)] = str(p.example);
    } else if (type === "FOOTER") {
      s.footer = str(c.text);
    } else if (type === "BUTTONS" && Array.isArray(c.buttons)) {
      s.buttons = c.buttons.filter(isObj).map((b) => {
        const button = newButton(
          (["QUICK_REPLY", "URL", "PHONE_NUMBER", "COPY_CODE"].includes(str(b.type).toUpperCase())
            ? str(b.type).toUpperCase()
            : "QUICK_REPLY") as ButtonType,
        );
        button.text = str(b.text);
        button.url = str(b.url) || "https://";
        button.urlSample = Array.isArray(b.example) ? str(b.example[0]) : "";
        button.phone = str(b.phone_number);
        button.code = Array.isArray(b.example) ? str(b.example[0]) : str(b.example);
        return button;
      });
    }
  }
  return s;
}

/** The state as Meta's create-template body (what lint checks and what is saved). */
export function toRequest(s: EditorState): TemplateInput {
  return {
    name: s.name,
    category: s.category,
    language: s.language,
    ...(s.named ? { parameter_format: "NAMED" as const } : {}),
    components: toComponents(s),
  };
}

/** The next variable to insert: {{n+1}} (positional) or a name not used yet. */
export function nextVariable(text: string, named: boolean): string {
  const names = variableNames(text);
  if (!named) {
    const max = names
      .map(Number)
      .filter(Number.isFinite)
      .reduce((a, b) => Math.max(a, b), 0);
    return `{{${max + 1}}}`;
  }
  let i = names.length + 1;
  while (names.includes(`variable_${i}`)) i++;
  return `{{variable_${i}}}`;
}

/** The text with each variable replaced by its sample (or left as {{x}} when there is none). */
export function fillSamples(text: string, samples: Record<string, string>): string {
  return text.replace(/\{\{([^{}]*)\}\}/g, (m, name: string) => samples[name.trim()]?.trim() || m);
}

// ---------------------------------------------------------------- status

export function statusInfo(status: string): { label: string; tone: Tone; help: string } {
  switch (status.toUpperCase()) {
    case "DRAFT":
      return { label: "Draft", tone: "neutral", help: "Not submitted yet" };
    case "PENDING":
      return {
        label: "In review",
        tone: "warning",
        help: "Meta is reviewing it (usually minutes, up to 24 hours)",
      };
    case "IN_APPEAL":
      return { label: "In appeal", tone: "warning", help: "Meta is reviewing an appeal" };
    case "APPROVED":
      return { label: "Approved", tone: "good", help: "Ready to send" };
    case "REJECTED":
      return { label: "Rejected", tone: "bad", help: "Edit it and submit again" };
    case "PAUSED":
      return {
        label: "Paused",
        tone: "bad",
        help: "Paused by Meta after negative feedback; edit it or wait",
      };
    case "DISABLED":
      return { label: "Disabled", tone: "bad", help: "Disabled by Meta for good" };
    case "FLAGGED":
      return {
        label: "Flagged",
        tone: "warning",
        help: "Low quality: Meta will pause it if it does not improve",
      };
    case "DELETED":
      return { label: "Deleted at Meta", tone: "bad", help: "Meta no longer has it" };
    case "UNKNOWN":
      return { label: "Checking", tone: "neutral", help: "Asking Meta for its status" };
    default:
      return {
        label: status.charAt(0) + status.slice(1).toLowerCase().replace(/_/g, " "),
        tone: "neutral",
        help: "",
      };
  }
}

export function qualityTone(score: string): Tone {
  return score === "GREEN" ? "good" : score === "YELLOW" ? "warning" : score === "RED" ? "bad" : "neutral";
}

export const REASON_LABELS: Record<string, string> = {
  INVALID_FORMAT: "Invalid format",
  INCORRECT_CATEGORY: "Wrong category",
  PROMOTIONAL: "Promotional content in a non-marketing template",
  TAG_CONTENT_MISMATCH: "Content does not match the category",
  ABUSIVE_CONTENT: "Abusive content",
  SCAM: "Looks like a scam",
  LOW_QUALITY: "Low quality (negative feedback)",
  FIRST_PAUSE: "First pause (3 hours)",
  SECOND_PAUSE: "Second pause (6 hours)",
  RATE_LIMITING_PAUSE: "Paused for rate limiting",
};

export function reasonLabel(reason: string): string {
  return REASON_LABELS[reason] ?? reason.charAt(0) + reason.slice(1).toLowerCase().replace(/_/g, " ");
}

export type TemplateId = Id<"templates">;
