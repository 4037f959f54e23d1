/** Template rules the Cloud API applies: creation checks, parameter counts at send time, rendering. */
import { graphError, invalidParam, type GraphError } from "./meta";
import type { SimTemplate } from "./types";

const PLACEHOLDER = /\{\{\s*([^{}\s]+)\s*\}\}/g;

/** The distinct placeholders of a text, in first-seen order ("1", "2" or "first_name"). */
export function placeholders(text: unknown): string[] {
  if (typeof text !== "string") return [];
  const seen: string[] = [];
  for (const match of text.matchAll(PLACEHOLDER)) if (!seen.includes(match[1])) seen.push(match[1]);
  return seen;
}

function component(template: Pick<SimTemplate, "components">, type: string) {
  return template.components.find((c) => String(c.type).toUpperCase() === type) as
    Record<string, unknown> | undefined;
}

/** Checks a template submitted to POST /{waba-id}/message_templates; null when valid. */
export function validateNewTemplate(body: Record<string, unknown>): GraphError | null {
  if (!body.name) return graphError(100, { message: "(#100) The parameter name is required." });
  if (typeof body.name !== "string" || !/^[a-z0-9_]{1,512}$/.test(body.name)) {
    return graphError(100, {
      message: "Invalid parameter",
      subcode: 2388042,
      userTitle: "Template name is invalid",
      userMsg:
        "Message template names can only contain lowercase alphanumeric characters and underscores (_).",
    });
  }
  if (!body.category) return graphError(100, { message: "(#100) The parameter category is required." });
  if (!["MARKETING", "UTILITY", "AUTHENTICATION"].includes(String(body.category).toUpperCase())) {
    return invalidParam(
      'Param category must be one of {AUTHENTICATION, MARKETING, UTILITY} - got "' +
        String(body.category) +
        '".',
    );
  }
  if (!body.language) return graphError(100, { message: "(#100) The parameter language is required." });
  if (typeof body.language !== "string" || !/^[a-z]{2,3}(_[A-Z]{2})?$/.test(body.language)) {
    return invalidParam(`Param language is not a supported language code: "${String(body.language)}".`);
  }
  if (!Array.isArray(body.components) || body.components.length === 0) {
    return graphError(100, { message: "(#100) The parameter components is required." });
  }
  const components = body.components as Record<string, unknown>[];
  const bodyComponent = components.find((c) => String(c?.type).toUpperCase() === "BODY");
  if (!bodyComponent || typeof bodyComponent.text !== "string" || !bodyComponent.text.trim()) {
    return graphError(100, {
      message: "Invalid parameter",
      subcode: 2388040,
      userTitle: "Message template body is missing",
      userMsg: "A message template needs a BODY component with text.",
    });
  }
  const format =
    body.parameter_format === undefined ? "POSITIONAL" : String(body.parameter_format).toUpperCase();
  if (format !== "POSITIONAL" && format !== "NAMED") {
    return invalidParam(`Param parameter_format must be one of {POSITIONAL, NAMED} - got "${format}".`);
  }
  for (const c of components) {
    const names = placeholders(c?.text);
    if (names.length === 0) continue;
    const numeric = names.every((n) => /^\d+$/.test(n));
    if (format === "POSITIONAL") {
      const sorted = names.map(Number).sort((a, b) => a - b);
      if (!numeric || sorted.some((n, i) => n !== i + 1)) {
        return graphError(100, {
          message: "Invalid parameter",
          subcode: 2388043,
          userTitle: "Variables are not sequential",
          userMsg: `Positional parameters must be {{1}}, {{2}}… in ${String(c.type)}.`,
        });
      }
    } else if (!names.every((n) => /^[a-z_][a-z0-9_]*$/.test(n))) {
      return graphError(100, {
        message: "Invalid parameter",
        subcode: 2388043,
        userTitle: "Invalid variable names",
        userMsg: `Named parameters must be lowercase letters, digits and underscores in ${String(c.type)}.`,
      });
    }
  }
  return null;
}

type SentComponent = { type?: unknown; sub_type?: unknown; index?: unknown; parameters?: unknown };
type SentParameter = { type?: unknown; text?: unknown; parameter_name?: unknown; [k: string]: unknown };

function mismatch(where: string, got: number, expected: number): GraphError {
  return graphError(132000, {
    details: `${where}: number of localizable_params (${got}) does not match the expected number of params (${expected})`,
  });
}

/**
 * Checks a send's `template.components` against the approved template: parameter counts of the
 * header, the body and dynamic URL buttons (132000), named parameters by name and media header
 * types (132012). Null when the send fits.
 */
export function checkTemplateParameters(template: SimTemplate, sent: unknown): GraphError | null {
  const components = (Array.isArray(sent) ? sent : []) as SentComponent[];
  const find = (type: string) => components.find((c) => String(c?.type).toLowerCase() === type);
  const named = template.parameter_format === "NAMED";

  for (const part of ["header", "body"] as const) {
    const defined = component(template, part.toUpperCase());
    const given = find(part);
    const params = (Array.isArray(given?.parameters) ? given.parameters : []) as SentParameter[];
    const format = String(defined?.format ?? "TEXT").toUpperCase();
    if (part === "header" && defined && format !== "TEXT") {
      // Media headers take exactly one parameter of their type.
      if (params.length !== 1) return mismatch("header", params.length, 1);
      if (String(params[0]?.type).toUpperCase() !== format) {
        return graphError(132012, {
          details: `header: Format mismatch, expected ${format}, received ${String(params[0]?.type ?? "UNKNOWN").toUpperCase()}`,
        });
      }
      continue;
    }
    const expected = placeholders(defined?.text);
    if (params.length !== expected.length) return mismatch(part, params.length, expected.length);
    if (named) {
      const names = params.map((p) => p?.parameter_name);
      const missing = expected.find((n) => !names.includes(n));
      if (missing !== undefined) {
        return graphError(132012, {
          details: `${part}: parameter_name "${missing}" is missing; this template uses named parameters`,
        });
      }
    } else if (params.some((p) => p?.parameter_name !== undefined)) {
      return graphError(132012, {
        details: `${part}: parameter_name is not allowed; this template uses positional parameters`,
      });
    }
  }

  const buttons = (component(template, "BUTTONS")?.buttons ?? []) as Record<string, unknown>[];
  for (const [index, button] of buttons.entries()) {
    if (String(button.type).toUpperCase() !== "URL" || placeholders(button.url).length === 0) continue;
    const given = components.find(
      (c) => String(c?.type).toLowerCase() === "button" && String(c?.index ?? "") === String(index),
    );
    const count = Array.isArray(given?.parameters) ? given.parameters.length : 0;
    if (count !== 1) return mismatch(`button ${index}`, count, 1);
  }
  return null;
}

/** The template's text with the send's parameters filled in, as the recipient would read it. */
export function renderTemplate(template: SimTemplate, sent: unknown): string {
  const components = (Array.isArray(sent) ? sent : []) as SentComponent[];
  const fill = (type: string) => {
    const defined = component(template, type.toUpperCase());
    if (!defined || typeof defined.text !== "string") return "";
    const params = (components.find((c) => String(c?.type).toLowerCase() === type)?.parameters ??
      []) as SentParameter[];
    const expected = placeholders(defined.text);
    return defined.text.replace(PLACEHOLDER, (_m, name: string) => {
      const p =
        template.parameter_format === "NAMED"
          ? params.find((x) => x?.parameter_name === name)
          : params[expected.indexOf(name)];
      return typeof p?.text === "string" ? p.text : `{{${name}}}`;
    });
  };
  return [fill("header"), fill("body"), String(component(template, "FOOTER")?.text ?? "")]
    .filter(Boolean)
    .join("\n");
}
