/**
 * A template send's parameters against the approved template's components, before the send
 * goes out: counts per component and names (named templates), so WhatsApp's 132000 (parameter
 * count mismatch) and 132012 (format mismatch) never come back from the provider. Pure.
 */
import { templateParts, variableNames } from "./templateLint";

export type TemplateShape = {
  parameter_format?: "POSITIONAL" | "NAMED" | string;
  components: unknown[];
};

/** What a send fills in: header and body values, and URL button suffixes by button index. */
export type SendParameters = {
  header?: string[];
  /** Positional: values in order; named: name → value. */
  body?: string[] | Record<string, string>;
  buttons?: { index: number; parameters: string[] }[];
};

export type ExpectedParameters = {
  named: boolean;
  /** Text header variables, or a media header (one media parameter), or none. */
  header: { kind: "text"; names: string[] } | { kind: "media"; format: string } | null;
  body: string[];
  /** URL buttons with a variable: one parameter each. */
  buttons: { index: number; names: string[] }[];
};

/** The parameters a template needs, from its components. */
export function expectedParameters(template: TemplateShape): ExpectedParameters {
  const { header, body, buttons } = templateParts(template.components);
  const format = typeof header?.format === "string" ? header.format.toUpperCase() : "TEXT";
  return {
    named: String(template.parameter_format ?? "POSITIONAL").toUpperCase() === "NAMED",
    header: !header
      ? null
      : format === "TEXT"
        ? { kind: "text", names: variableNames(header.text) }
        : ["IMAGE", "VIDEO", "DOCUMENT"].includes(format)
          ? { kind: "media", format }
          : null,
    body: variableNames(body?.text),
    buttons: buttons
      .map((b, index) => ({
        index,
        names: String(b.type).toUpperCase() === "URL" ? variableNames(b.url) : [],
      }))
      .filter((b) => b.names.length > 0),
  };
}

export type ParameterProblem = { code: 132000 | 132012; message: string };

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? "" : "s"}`;
const list = (names: string[]) => names.map((n) => `{{${n}}}`).join(", ");

/**
 * Null when the send fits the template; otherwise the first problem, with the WhatsApp error it
 * would have caused and a message a person understands. `name` is the template's, for messages.
 */
export function checkSendParameters(
  template: TemplateShape & { name?: string },
  send: SendParameters,
): ParameterProblem | null {
  const expected = expectedParameters(template);
  const label = template.name ? `Template ${template.name}` : "The template";

  // Header
  const header = send.header ?? [];
  if (expected.header?.kind === "media") {
    // Media headers are sent as media objects, not text values: this pipeline cannot fill them.
    return {
      code: 132000,
      message: `${label} has ${expected.header.format.toLowerCase()} header: it needs the file to send with each message`,
    };
  }
  const headerNames = expected.header?.kind === "text" ? expected.header.names : [];
  if (header.length !== headerNames.length) {
    return {
      code: 132000,
      message:
        headerNames.length === 0
          ? `${label} has no variable in its header, but ${plural(header.length, "header value")} ${header.length === 1 ? "was" : "were"} given`
          : `${label} needs ${plural(headerNames.length, "value")} for its header (${list(headerNames)}); ${header.length} given`,
    };
  }
  if (header.some((v) => !String(v).trim())) {
    return { code: 132000, message: `${label}: the header value for ${list(headerNames)} is empty` };
  }

  // Body
  const body = send.body ?? [];
  if (Array.isArray(body)) {
    if (body.length !== expected.body.length) {
      return {
        code: 132000,
        message:
          expected.body.length === 0
            ? `${label} has no variables in its body, but ${plural(body.length, "value")} ${body.length === 1 ? "was" : "were"} given`
            : `${label} needs ${plural(expected.body.length, "value")} for its body (${list(expected.body)}); ${body.length} given`,
      };
    }
    const empty = body.findIndex((v) => !String(v).trim());
    if (empty >= 0) {
      return { code: 132000, message: `${label}: the value for {{${expected.body[empty]}}} is empty` };
    }
  } else {
    if (!expected.named) {
      return {
        code: 132012,
        message: `${label} uses numbered variables ({{1}}, {{2}}…): give the values in order, not by name`,
      };
    }
    const given = Object.keys(body);
    const missing = expected.body.filter((n) => !given.includes(n) || !String(body[n]).trim());
    if (missing.length) {
      return { code: 132000, message: `${label} needs a value for ${list(missing)}` };
    }
    const extra = given.filter((n) => !expected.body.includes(n));
    if (extra.length) {
      return { code: 132012, message: `${label} has no variable ${list(extra)}` };
    }
  }

  // URL buttons
  const buttons = send.buttons ?? [];
  for (const button of expected.buttons) {
    const given = buttons.find((b) => b.index === button.index)?.parameters ?? [];
    if (given.length !== 1 || !String(given[0]).trim()) {
      return {
        code: 132000,
        message: `${label}: its button ${button.index + 1} opens an address ending in a variable; give the value for it`,
      };
    }
  }
  const stray = buttons.find((b) => !expected.buttons.some((e) => e.index === b.index));
  if (stray) {
    return { code: 132000, message: `${label}: button ${stray.index + 1} takes no value` };
  }
  return null;
}
