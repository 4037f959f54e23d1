/**
 * Lint for WhatsApp message templates, before they go to Meta's review. Pure: the same function
 * runs in Convex (submission refuses errors) and in the browser (the editor shows results as
 * people type), and tests outside this repository call it — keep its name, path and shape.
 *
 * Input: Meta's create-template request body (`POST /{waba-id}/message_templates`).
 * Severity policy (docs/decisions/020-templates.md):
 * - "error": Meta refuses it at creation or always rejects it in review (formats, numbering,
 *   samples, limits, button rules). A template Meta accepts yields no error.
 * - "warning": risks rejection or re-categorisation (rules Meta applies by judgement, such as the
 *   ratio of variables to words, or promotional words in a utility template).
 */

export type LintSeverity = "error" | "warning";
export type LintIssue = { severity: LintSeverity; rule: string; message: string };

export type TemplateInput = {
  name: string;
  category: string;
  language: string;
  parameter_format?: "POSITIONAL" | "NAMED";
  components: unknown[];
};

export const TEMPLATE_CATEGORIES = ["MARKETING", "UTILITY", "AUTHENTICATION"] as const;

/** Meta's supported template languages (developers.facebook.com … /templates/supported-languages). */
export const TEMPLATE_LANGUAGES: Record<string, string> = {
  af: "Afrikaans",
  sq: "Albanian",
  ar: "Arabic",
  ar_EG: "Arabic (EGY)",
  ar_AE: "Arabic (UAE)",
  ar_LB: "Arabic (LBN)",
  ar_MA: "Arabic (MAR)",
  ar_QA: "Arabic (QAT)",
  az: "Azerbaijani",
  be_BY: "Belarusian",
  bn: "Bengali",
  bn_IN: "Bengali (IND)",
  bg: "Bulgarian",
  ca: "Catalan",
  zh_CN: "Chinese (CHN)",
  zh_HK: "Chinese (HKG)",
  zh_TW: "Chinese (TAI)",
  hr: "Croatian",
  cs: "Czech",
  da: "Danish",
  prs_AF: "Dari",
  nl: "Dutch",
  nl_BE: "Dutch (BEL)",
  en: "English",
  en_GB: "English (UK)",
  en_US: "English (US)",
  en_AE: "English (UAE)",
  en_AU: "English (AUS)",
  en_CA: "English (CAN)",
  en_GH: "English (GHA)",
  en_IE: "English (IRL)",
  en_IN: "English (IND)",
  en_JM: "English (JAM)",
  en_MY: "English (MYS)",
  en_NZ: "English (NZL)",
  en_QA: "English (QAT)",
  en_SG: "English (SGP)",
  en_UG: "English (UGA)",
  en_ZA: "English (ZAF)",
  et: "Estonian",
  fil: "Filipino",
  fi: "Finnish",
  fr: "French",
  fr_BE: "French (BEL)",
  fr_CA: "French (CAN)",
  fr_CH: "French (CHE)",
  fr_CI: "French (CIV)",
  fr_MA: "French (MAR)",
  ka: "Georgian",
  de: "German",
  de_AT: "German (AUT)",
  de_CH: "German (CHE)",
  el: "Greek",
  gu: "Gujarati",
  ha: "Hausa",
  he: "Hebrew",
  hi: "Hindi",
  hu: "Hungarian",
  id: "Indonesian",
  ga: "Irish",
  it: "Italian",
  ja: "Japanese",
  kn: "Kannada",
  kk: "Kazakh",
  rw_RW: "Kinyarwanda",
  ko: "Korean",
  ky_KG: "Kyrgyz",
  lo: "Lao",
  lv: "Latvian",
  lt: "Lithuanian",
  mk: "Macedonian",
  ms: "Malay",
  ml: "Malayalam",
  mr: "Marathi",
  nb: "Norwegian",
  ps_AF: "Pashto",
  fa: "Persian",
  pl: "Polish",
  pt_BR: "Portuguese (BR)",
  pt_PT: "Portuguese (POR)",
  pa: "Punjabi",
  ro: "Romanian",
  ru: "Russian",
  sr: "Serbian",
  si_LK: "Sinhala",
  sk: "Slovak",
  sl: "Slovenian",
  es: "Spanish",
  es_AR: "Spanish (ARG)",
  es_CL: "Spanish (CHL)",
  es_CO: "Spanish (COL)",
  es_CR: "Spanish (CRI)",
  es_DO: "Spanish (DOM)",
  es_EC: "Spanish (ECU)",
  es_HN: "Spanish (HND)",
  es_MX: "Spanish (MEX)",
  es_PA: "Spanish (PAN)",
  es_PE: "Spanish (PER)",
  es_ES: "Spanish (SPA)",
  es_UY: "Spanish (URY)",
  sw: "Swahili",
  sv: "Swedish",
  ta: "Tamil",
  te: "Telugu",
  th: "Thai",
  tr: "Turkish",
  uk: "Ukrainian",
  ur: "Urdu",
  uz: "Uzbek",
  vi: "Vietnamese",
  zu: "Zulu",
};

/** Meta's limits, in characters. */
export const TEMPLATE_LIMITS = {
  name: 512,
  header: 60,
  body: 1024,
  footer: 60,
  buttonText: 25,
  url: 2000,
  phone: 20,
  copyCode: 15,
  buttons: 10,
  urlButtons: 2,
  phoneButtons: 1,
  copyCodeButtons: 1,
  headerVariables: 1,
} as const;

const MEDIA_FORMATS = ["IMAGE", "VIDEO", "DOCUMENT"];
const HEADER_FORMATS = ["TEXT", ...MEDIA_FORMATS, "LOCATION"];
const BUTTON_TYPES = [
  "QUICK_REPLY",
  "URL",
  "PHONE_NUMBER",
  "COPY_CODE",
  "OTP",
  "FLOW",
  "CATALOG",
  "MPM",
  "VOICE_CALL",
];

// ---------------------------------------------------------------- variables

/** `{{1}}` or `{{first_name}}`: the token as Meta writes it (no spaces). */
const VARIABLE = /\{\{([^{}]*)\}\}/g;

export type Variable = { name: string; index: number; end: number };

/** Every `{{…}}` in the text, in order (also malformed ones; see variableProblems). */
export function variablesIn(text: string): Variable[] {
  return [...text.matchAll(VARIABLE)].map((m) => ({
    name: m[1].trim(),
    index: m.index,
    end: m.index + m[0].length,
  }));
}

/** The distinct variable names of a text, in first-seen order. */
export function variableNames(text: unknown): string[] {
  if (typeof text !== "string") return [];
  const out: string[] = [];
  for (const v of variablesIn(text)) if (!out.includes(v.name)) out.push(v.name);
  return out;
}

const POSITIONAL_NAME = /^[1-9]\d*$/;
const NAMED_NAME = /^[a-z_][a-z0-9_]*$/;

// ---------------------------------------------------------------- reading components

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => !!x && typeof x === "object" && !Array.isArray(x);
const str = (x: unknown): string | undefined => (typeof x === "string" ? x : undefined);
const upper = (x: unknown) => (typeof x === "string" ? x.toUpperCase() : "");
const chars = (s: string) => [...s].length;
const quote = (s: string, max = 30) => `"${chars(s) > max ? [...s].slice(0, max).join("") + "…" : s}"`;

/** The template's parts by type (first of each), as Meta's component objects. */
export function templateParts(components: unknown[]) {
  const list = Array.isArray(components) ? components.filter(isObj) : [];
  const find = (type: string) => list.find((c) => upper(c.type) === type);
  const buttonsComponent = find("BUTTONS");
  const buttons = Array.isArray(buttonsComponent?.buttons) ? buttonsComponent.buttons.filter(isObj) : [];
  return { list, header: find("HEADER"), body: find("BODY"), footer: find("FOOTER"), buttons };
}

// ---------------------------------------------------------------- the lint

const MARKETING_WORDS = [
  // English
  "sale",
  "sales",
  "discount",
  "discounts",
  "offer",
  "offers",
  "promo",
  "promotion",
  "promotional",
  "coupon",
  "coupons",
  "deal",
  "deals",
  "free shipping",
  "limited time",
  "buy now",
  "shop now",
  "order now",
  "black friday",
  "cyber monday",
  "clearance",
  "voucher",
  "new collection",
  "exclusive",
  "save big",
  // Spanish, Portuguese, French, German, Italian
  "oferta",
  "ofertas",
  "descuento",
  "descuentos",
  "rebajas",
  "promoción",
  "cupón",
  "desconto",
  "descontos",
  "promoção",
  "cupom",
  "liquidação",
  "soldes",
  "réduction",
  "remise",
  "offre",
  "rabatt",
  "angebot",
  "gutschein",
  "sconto",
  "saldi",
  "offerta",
];
const PERCENT_OFF = /\d+\s*%|%\s*\d+/;

function marketingWordsIn(text: string): string[] {
  const lower = text.toLowerCase();
  const found: string[] = [];
  for (const word of MARKETING_WORDS) {
    const re = new RegExp(`(^|[^\\p{L}\\p{N}])${word.replace(/ /g, "\\s+")}($|[^\\p{L}\\p{N}])`, "u");
    if (re.test(lower)) found.push(word);
  }
  const percent = PERCENT_OFF.exec(text);
  if (percent) found.push(percent[0].replace(/\s+/g, ""));
  return found;
}

/** Lints a template in the shape of Meta's create-template request body. */
export function lintTemplate(template: TemplateInput): LintIssue[] {
  const issues: LintIssue[] = [];
  const error = (rule: string, message: string) => issues.push({ severity: "error", rule, message });
  const warning = (rule: string, message: string) => issues.push({ severity: "warning", rule, message });

  // ---- name, category, language, format
  const name = typeof template?.name === "string" ? template.name : "";
  if (!name.trim()) error("name.required", "Give the template a name, like order_shipped");
  else if (!/^[a-z0-9_]+$/.test(name)) {
    error(
      "name.format",
      `Template names may contain only lowercase letters, digits and underscores: ${quote(name)} could be ${quote(
        name
          .toLowerCase()
          .normalize("NFD")
          .replace(/[\u0300-\u036f]/g, "")
          .replace(/[^a-z0-9_]+/g, "_")
          .replace(/^_+|_+$/g, "") || "my_template",
      )}`,
    );
  } else if (name.length > TEMPLATE_LIMITS.name) {
    error("name.length", `Template names can be at most ${TEMPLATE_LIMITS.name} characters`);
  }

  const category = upper(template?.category);
  if (!TEMPLATE_CATEGORIES.includes(category as never)) {
    error(
      "category.valid",
      `Choose a category: Marketing, Utility or Authentication${template?.category ? ` (got ${quote(String(template.category))})` : ""}`,
    );
  }

  const language = typeof template?.language === "string" ? template.language : "";
  if (!(language in TEMPLATE_LANGUAGES)) {
    const hint = language.includes("-")
      ? ` (write ${quote(language.replace("-", "_"))}, with an underscore)`
      : "";
    error(
      "language.valid",
      language
        ? `WhatsApp has no template language ${quote(language)}${hint}: pick one of its languages, like en_US or es_ES`
        : "Choose the template's language",
    );
  }

  const formatRaw = template?.parameter_format;
  const format = formatRaw === undefined ? "POSITIONAL" : upper(formatRaw);
  if (format !== "POSITIONAL" && format !== "NAMED") {
    error(
      "parameter_format.valid",
      `Variables are either positional ({{1}}) or named ({{first_name}}), not ${quote(String(formatRaw))}`,
    );
  }
  const named = format === "NAMED";

  // ---- components
  const components = Array.isArray(template?.components) ? template.components : [];
  const counts = new Map<string, number>();
  for (const c of components) {
    if (!isObj(c)) {
      error(
        "components.shape",
        "Each component must be an object with a type (HEADER, BODY, FOOTER or BUTTONS)",
      );
      continue;
    }
    const type = upper(c.type);
    if (!["HEADER", "BODY", "FOOTER", "BUTTONS"].includes(type)) {
      error(
        "components.type",
        `Unknown component type ${quote(String(c.type ?? ""))}: use HEADER, BODY, FOOTER or BUTTONS`,
      );
      continue;
    }
    counts.set(type, (counts.get(type) ?? 0) + 1);
  }
  for (const [type, n] of counts) {
    if (n > 1)
      error("components.duplicate", `A template has at most one ${type.toLowerCase()} (this one has ${n})`);
  }
  const { header, body, footer, buttons } = templateParts(components);

  if (category === "AUTHENTICATION") {
    lintAuthentication({ header, body, footer, buttons }, error);
    return issues;
  }

  // ---- body
  const bodyText = str(body?.text) ?? "";
  if (!body || !bodyText.trim()) {
    error("body.required", "Write the message body: it is the only part every template needs");
  } else {
    if (chars(bodyText) > TEMPLATE_LIMITS.body) {
      error(
        "body.length",
        `The body can be at most ${TEMPLATE_LIMITS.body} characters (it has ${chars(bodyText)})`,
      );
    }
    lintVariables("body", bodyText, named, error, warning);
    lintEdges(bodyText, error, warning);
    lintSamples("body", bodyText, body, named, error);
    lintRatio(bodyText, warning);
  }

  // ---- header
  if (header) {
    const headerFormat = header.format === undefined ? "TEXT" : upper(header.format);
    if (!HEADER_FORMATS.includes(headerFormat)) {
      error(
        "header.format",
        `A header is text, an image, a video, a document or a location, not ${quote(String(header.format))}`,
      );
    } else if (headerFormat === "TEXT") {
      const text = str(header.text) ?? "";
      if (!text.trim()) error("header.required", "Write the header text, or choose no header");
      else {
        if (chars(text) > TEMPLATE_LIMITS.header) {
          error(
            "header.length",
            `The header can be at most ${TEMPLATE_LIMITS.header} characters (it has ${chars(text)})`,
          );
        }
        if (/[\r\n]/.test(text)) error("header.newline", "The header must be a single line");
        const names = variableNames(text);
        if (names.length > TEMPLATE_LIMITS.headerVariables) {
          error("header.variables", `The header can have at most one variable (it has ${names.length})`);
        }
        lintVariables("header", text, named, error, warning);
        lintSamples("header", text, header, named, error);
      }
    } else if (MEDIA_FORMATS.includes(headerFormat)) {
      const example = isObj(header.example) ? header.example : undefined;
      const handles = Array.isArray(example?.header_handle) ? example.header_handle : [];
      if (!handles.some((h) => typeof h === "string" && h.trim())) {
        error(
          "header.media_example",
          `An ${headerFormat.toLowerCase()} header needs a sample file for the review (upload one: example.header_handle)`,
        );
      }
    }
  }

  // ---- footer
  if (footer) {
    const text = str(footer.text) ?? "";
    if (!text.trim()) error("footer.required", "Write the footer text, or remove the footer");
    if (chars(text) > TEMPLATE_LIMITS.footer) {
      error(
        "footer.length",
        `The footer can be at most ${TEMPLATE_LIMITS.footer} characters (it has ${chars(text)})`,
      );
    }
    if (variablesIn(text).length > 0) error("footer.variables", "The footer cannot contain variables");
  }

  // ---- buttons
  lintButtons(buttons, category, named, error, warning);

  // ---- category
  if (category === "UTILITY") {
    const texts = [
      bodyText,
      str(header?.text) ?? "",
      str(footer?.text) ?? "",
      ...buttons.map((b) => str(b.text) ?? ""),
    ].join("\n");
    const words = marketingWordsIn(texts);
    if (words.length) {
      warning(
        "category.promotional",
        `This utility template reads like marketing (${words
          .slice(0, 3)
          .map((w) => `'${w}'`)
          .join(
            ", ",
          )}): Meta may re-categorise it as Marketing, which costs more per message. Remove promotional wording or choose Marketing`,
      );
    }
  }
  return issues;
}

type Report = (rule: string, message: string) => void;

function lintVariables(
  where: "body" | "header",
  text: string,
  named: boolean,
  error: Report,
  warning: Report,
) {
  const vars = variablesIn(text);
  const label = where === "body" ? "the body" : "the header";
  // Braces that do not form a variable.
  const rest = text.replace(VARIABLE, "");
  if (/\{\{|\}\}/.test(rest)) {
    error(
      "variables.syntax",
      `A variable in ${label} has unmatched braces: write variables as {{1}} or {{name}}`,
    );
  } else if (/(^|[^{])\{\s*[\w]+\s*\}($|[^}])/.test(rest)) {
    warning(
      "variables.single_braces",
      `${where === "body" ? "The body" : "The header"} has {x} with single braces: variables need two, like {{1}}`,
    );
  }
  if (vars.length === 0) return;
  const malformed = vars.filter((v) => !POSITIONAL_NAME.test(v.name) && !NAMED_NAME.test(v.name));
  for (const v of malformed) {
    if (v.name.toLowerCase() !== v.name && NAMED_NAME.test(v.name.toLowerCase())) {
      error(
        "variables.named_format",
        `Variable names use lowercase letters, digits and underscores: write {{${v.name.toLowerCase()}}}, not {{${v.name}}}`,
      );
    } else if (/^\d+$/.test(v.name)) {
      error("variables.sequence", `Variables are numbered from {{1}}: {{${v.name}}} is not a valid number`);
    } else {
      error(
        "variables.syntax",
        `{{${v.name}}} is not a valid variable: use numbers ({{1}}) or lowercase names with underscores ({{first_name}})`,
      );
    }
  }
  for (const v of vars) {
    const raw = text.slice(v.index + 2, v.end - 2);
    if (raw !== raw.trim() && (POSITIONAL_NAME.test(v.name) || NAMED_NAME.test(v.name))) {
      warning("variables.spaces", `Write {{${v.name}}} without spaces inside the braces`);
      break;
    }
  }
  const names = [...new Set(vars.map((v) => v.name))].filter(
    (n) => POSITIONAL_NAME.test(n) || NAMED_NAME.test(n),
  );
  const numeric = names.filter((n) => POSITIONAL_NAME.test(n));
  const words = names.filter((n) => !POSITIONAL_NAME.test(n));
  if (numeric.length && words.length) {
    error(
      "variables.mixed",
      `Use either numbered variables ({{1}}) or named ones ({{${words[0]}}}), not both in one template`,
    );
    return;
  }
  if (named && numeric.length) {
    error(
      "variables.format",
      `This template uses named variables: replace {{${numeric[0]}}} with a name, like {{first_name}}`,
    );
    return;
  }
  if (!named && words.length) {
    error(
      "variables.format",
      `{{${words[0]}}} is a named variable: switch the template to named variables, or use numbers like {{1}}`,
    );
    return;
  }
  if (!named && numeric.length) {
    // Numbered from 1, without gaps, in order of first appearance.
    const order = numeric.map(Number);
    const sorted = [...order].sort((a, b) => a - b);
    if (sorted[0] !== 1) {
      error(
        "variables.sequence",
        `Variables must be numbered 1, 2, 3 without gaps: ${label} starts at {{${sorted[0]}}} instead of {{1}}`,
      );
    } else {
      const gap = sorted.findIndex((n, i) => n !== i + 1);
      if (gap > 0) {
        error(
          "variables.sequence",
          `Variables must be numbered 1, 2, 3 without gaps: {{${sorted[gap]}}} follows {{${sorted[gap - 1]}}} in ${label}`,
        );
      } else if (order.some((n, i) => n !== i + 1)) {
        warning(
          "variables.order",
          `Variables in ${label} should appear in order ({{1}} before {{2}}); reviewers may reject a template whose numbering jumps around`,
        );
      }
    }
  }
}

function lintEdges(text: string, error: Report, warning: Report) {
  const trimmed = text.trim();
  const vars = variablesIn(trimmed);
  if (vars.length === 0) return;
  if (vars[0].index === 0) {
    error("variables.edges", `The body cannot start with a variable: add words before {{${vars[0].name}}}`);
  } else if (/^[\s\p{P}\p{S}]*$/u.test(trimmed.slice(0, vars[0].index))) {
    warning(
      "variables.edges",
      `Only punctuation comes before {{${vars[0].name}}}: Meta may treat the body as starting with a variable`,
    );
  }
  const last = vars[vars.length - 1];
  if (last.end === trimmed.length) {
    error("variables.edges", `The body cannot end with a variable: add words after {{${last.name}}}`);
  } else if (/^[\s\p{P}\p{S}]*$/u.test(trimmed.slice(last.end))) {
    warning(
      "variables.edges",
      `Only punctuation follows {{${last.name}}}: Meta may treat the body as ending with a variable; add a few words after it`,
    );
  }
  for (let i = 1; i < vars.length; i++) {
    const between = trimmed.slice(vars[i - 1].end, vars[i].index);
    if (!between.trim()) {
      error(
        "variables.adjacent",
        `{{${vars[i - 1].name}}} and {{${vars[i].name}}} are next to each other: put words between variables`,
      );
      break;
    }
  }
}

function lintSamples(where: "body" | "header", text: string, component: Obj, named: boolean, error: Report) {
  const names = variableNames(text).filter((n) => POSITIONAL_NAME.test(n) || NAMED_NAME.test(n));
  if (names.length === 0) return;
  const example = isObj(component.example) ? component.example : {};
  const label = where === "body" ? "body" : "header";
  if (named) {
    const key = where === "body" ? "body_text_named_params" : "header_text_named_params";
    const given = Array.isArray(example[key]) ? example[key].filter(isObj) : [];
    const missing = names.filter(
      (n) => !given.some((p) => p.param_name === n && typeof p.example === "string" && p.example.trim()),
    );
    if (missing.length) {
      error(
        "samples.missing",
        `Give a sample value for ${missing.map((n) => `{{${n}}}`).join(", ")} in the ${label}: reviewers need one for every variable`,
      );
    }
    const extra = given.filter((p) => typeof p.param_name === "string" && !names.includes(p.param_name));
    if (extra.length) {
      error(
        "samples.count",
        `The ${label} has samples for variables it does not use: ${extra.map((p) => `{{${String(p.param_name)}}}`).join(", ")}`,
      );
    }
    return;
  }
  const samples: unknown[] =
    where === "body"
      ? Array.isArray(example.body_text) && Array.isArray(example.body_text[0])
        ? example.body_text[0]
        : []
      : Array.isArray(example.header_text)
        ? example.header_text
        : [];
  const filled = samples.filter((s) => typeof s === "string" && s.trim()).length;
  if (samples.length === 0 || filled < Math.min(samples.length, names.length)) {
    const missing = names.filter((_, i) => typeof samples[i] !== "string" || !String(samples[i]).trim());
    error(
      "samples.missing",
      `Give a sample value for ${missing.map((n) => `{{${n}}}`).join(", ")} in the ${label}: reviewers need one for every variable`,
    );
  } else if (samples.length !== names.length) {
    error(
      "samples.count",
      `The ${label} has ${names.length} variable${names.length === 1 ? "" : "s"} but ${samples.length} sample value${samples.length === 1 ? "" : "s"}`,
    );
  }
}

function lintRatio(text: string, warning: Report) {
  const vars = variablesIn(text).length;
  if (vars === 0) return;
  const words = text
    .replace(VARIABLE, " ")
    .split(/\s+/)
    .filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
  const needed = 3 * vars + 1;
  if (words + vars < needed) {
    warning(
      "variables.ratio",
      `Too many variables for so little text: with ${vars} variable${vars === 1 ? "" : "s"}, write at least ${needed - vars} words around them (there are ${words}); Meta rejects templates that are mostly variables`,
    );
  }
}

function lintButtons(buttons: Obj[], category: string, named: boolean, error: Report, warning: Report) {
  if (buttons.length === 0) return;
  if (buttons.length > TEMPLATE_LIMITS.buttons) {
    error(
      "buttons.count",
      `A template can have at most ${TEMPLATE_LIMITS.buttons} buttons (this one has ${buttons.length})`,
    );
  }
  const types = buttons.map((b) => upper(b.type));
  const count = (type: string) => types.filter((t) => t === type).length;
  types.forEach((type, i) => {
    if (!BUTTON_TYPES.includes(type)) {
      error("buttons.type", `Button ${i + 1} has an unknown type ${quote(String(buttons[i].type ?? ""))}`);
    }
  });
  if (count("URL") > TEMPLATE_LIMITS.urlButtons) {
    error(
      "buttons.url_count",
      `A template can have at most ${TEMPLATE_LIMITS.urlButtons} website buttons (this one has ${count("URL")})`,
    );
  }
  if (count("PHONE_NUMBER") > TEMPLATE_LIMITS.phoneButtons) {
    error(
      "buttons.phone_count",
      `A template can have only one call button (this one has ${count("PHONE_NUMBER")})`,
    );
  }
  if (count("COPY_CODE") > TEMPLATE_LIMITS.copyCodeButtons) {
    error(
      "buttons.copy_code_count",
      `A template can have only one copy-code button (this one has ${count("COPY_CODE")})`,
    );
  }
  if (count("OTP")) error("buttons.otp", "One-time-password buttons belong to Authentication templates only");
  // Quick replies in one group, before or after the other buttons.
  const qr = types.map((t) => t === "QUICK_REPLY");
  const switches = qr.filter((q, i) => i > 0 && q !== qr[i - 1]).length;
  if (switches > 1) {
    error(
      "buttons.grouping",
      "Keep quick replies together: put them all before or all after the other buttons",
    );
  }
  if (category === "UTILITY" && count("COPY_CODE")) {
    warning(
      "buttons.copy_code_utility",
      "Copy-code buttons are for offers: Meta may reject this utility template or re-categorise it as Marketing",
    );
  }
  const seen = new Set<string>();
  buttons.forEach((b, i) => {
    const type = types[i];
    const n = `Button ${i + 1}`;
    if (type === "COPY_CODE") {
      const sample = str(b.example) ?? (Array.isArray(b.example) ? str(b.example[0]) : undefined) ?? "";
      if (!sample.trim())
        error("buttons.copy_code_example", `${n} (copy code) needs a sample code, like SAVE20`);
      else if (chars(sample) > TEMPLATE_LIMITS.copyCode) {
        error(
          "buttons.copy_code_example",
          `${n}: the sample code can be at most ${TEMPLATE_LIMITS.copyCode} characters`,
        );
      }
      return;
    }
    if (!BUTTON_TYPES.includes(type) || type === "OTP") return;
    const text = str(b.text) ?? "";
    if (!text.trim()) error("buttons.text", `${n} needs a label`);
    else if (chars(text) > TEMPLATE_LIMITS.buttonText) {
      error(
        "buttons.text",
        `${n}: labels can be at most ${TEMPLATE_LIMITS.buttonText} characters (${quote(text)} has ${chars(text)})`,
      );
    } else if (variablesIn(text).length) {
      error("buttons.text", `${n}: button labels cannot contain variables`);
    } else if (seen.has(text.trim().toLowerCase())) {
      error(
        "buttons.duplicate",
        `Two buttons are labelled ${quote(text.trim())}: each label must be different`,
      );
    }
    seen.add(text.trim().toLowerCase());
    if (type === "URL") lintUrlButton(b, n, named, error);
    if (type === "PHONE_NUMBER") {
      const phone = str(b.phone_number) ?? "";
      if (!phone.trim()) error("buttons.phone", `${n} needs the phone number to call`);
      else if (
        !/^\+?[1-9]\d{6,19}$/.test(phone.replace(/[\s\-().]/g, "")) ||
        chars(phone) > TEMPLATE_LIMITS.phone
      ) {
        error(
          "buttons.phone",
          `${n}: ${quote(phone)} is not a phone number with its country code, like +34 600 123 456`,
        );
      }
    }
  });
}

function lintUrlButton(b: Obj, n: string, named: boolean, error: Report) {
  const url = str(b.url) ?? "";
  if (!url.trim()) {
    error("buttons.url", `${n} needs the website address it opens`);
    return;
  }
  if (chars(url) > TEMPLATE_LIMITS.url) {
    error("buttons.url", `${n}: the address can be at most ${TEMPLATE_LIMITS.url} characters`);
  }
  if (!/^https?:\/\/[^\s/$.?#{}][^\s]*$/i.test(url)) {
    error("buttons.url", `${n}: ${quote(url)} is not a web address starting with https://`);
    return;
  }
  const vars = variablesIn(url);
  if (vars.length === 0) return;
  if (vars.length > 1)
    error("buttons.url_variable", `${n}: a web address can have only one variable, at its end`);
  else if (vars[0].end !== url.length)
    error("buttons.url_variable", `${n}: the variable must be at the very end of the address`);
  // URL buttons take {{1}} whatever the template's format (named templates may name it too).
  else if (vars[0].name !== "1" && !(named && NAMED_NAME.test(vars[0].name))) {
    error("buttons.url_variable", `${n}: the address's variable must be {{1}}`);
  }
  const example = Array.isArray(b.example) ? str(b.example[0]) : str(b.example);
  if (!example?.trim()) {
    error("samples.missing", `${n}: give a sample of the full address, with the variable filled in`);
  } else if (!/^https?:\/\//i.test(example)) {
    error(
      "samples.missing",
      `${n}: the sample must be a full address, like ${quote(url.replace(VARIABLE, "abc123"), 60)}`,
    );
  }
}

function lintAuthentication(
  parts: { header?: Obj; body?: Obj; footer?: Obj; buttons: Obj[] },
  error: Report,
) {
  if (parts.header)
    error("authentication.header", "Authentication templates have no header: WhatsApp writes the message");
  if (!parts.body) {
    error(
      "body.required",
      "Authentication templates need a body component (with add_security_recommendation)",
    );
  } else if (str(parts.body.text)) {
    error(
      "authentication.body",
      'Authentication templates use WhatsApp\'s fixed text ("{{1}} is your verification code."): leave the body text out',
    );
  }
  if (parts.footer) {
    if (str(parts.footer.text))
      error(
        "authentication.footer",
        "Authentication footers have no text, only the code's expiry in minutes",
      );
    const minutes = parts.footer.code_expiration_minutes;
    if (
      minutes !== undefined &&
      (typeof minutes !== "number" || !Number.isInteger(minutes) || minutes < 1 || minutes > 90)
    ) {
      error("authentication.expiry", "The code's expiry must be a whole number of minutes from 1 to 90");
    }
  }
  const otp = parts.buttons.filter((b) => upper(b.type) === "OTP");
  if (parts.buttons.length !== 1 || otp.length !== 1) {
    error(
      "authentication.buttons",
      "Authentication templates need exactly one one-time-password button (copy code or one-tap)",
    );
    return;
  }
  const otpType = upper(otp[0].otp_type);
  if (!["COPY_CODE", "ONE_TAP", "ZERO_TAP"].includes(otpType)) {
    error("authentication.otp_type", "The one-time-password button is copy code, one-tap or zero-tap");
  } else if (otpType !== "COPY_CODE") {
    const apps = Array.isArray(otp[0].supported_apps) ? otp[0].supported_apps.filter(isObj) : [];
    const legacy = str(otp[0].package_name) && str(otp[0].signature_hash);
    if (!legacy && !apps.some((a) => str(a.package_name) && str(a.signature_hash))) {
      error(
        "authentication.otp_app",
        "One-tap and zero-tap buttons need your Android app's package name and signature hash",
      );
    }
  }
  const text = str(otp[0].text);
  if (text && chars(text) > TEMPLATE_LIMITS.buttonText) {
    error("buttons.text", `The button label can be at most ${TEMPLATE_LIMITS.buttonText} characters`);
  }
}

/** Whether a lint result allows submission. */
export function hasErrors(issues: LintIssue[]): boolean {
  return issues.some((i) => i.severity === "error");
}
