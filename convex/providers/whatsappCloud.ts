/**
 * Meta's WhatsApp Cloud API, for actions only: sending (text, template, media by URL) and the
 * templates API. Plain functions taking the channel's config; every call is bounded by a
 * timeout and returns either the provider's answer or a classified error (whatsappErrors.ts),
 * never throws for provider failures. Our message id rides along as biz_opaque_callback_data
 * and comes back on every status webhook.
 */
import { isBusinessScopedUserId } from "../shared/bsuid";
import {
  callProvider,
  classify,
  classifyGraphAnswer,
  type HttpOutcome,
  type ProviderError,
  type SendResult,
} from "./whatsappErrors";

export type { ProviderError, SendResult };

export const DEFAULT_GRAPH_VERSION = "v23.0";

export type CloudConfig = {
  /** `https://graph.facebook.com` or with a version (`…/v23.0`, as whatsappGraphUrl() gives it). */
  graphUrl: string;
  /** Used when graphUrl has no version in it (default v23.0). */
  version?: string;
  phoneNumberId: string;
  /** Needed by the templates calls. */
  wabaId?: string;
  accessToken: string;
  /** Per call, default 10 s. */
  timeoutMs?: number;
  /** For tests; defaults to the global fetch. */
  fetch?: typeof fetch;
};

export type CloudSendResult = SendResult & {
  /** The recipient's WhatsApp id as Meta resolved it (contacts[0].wa_id). */
  waId?: string;
  /** messages[0].message_status ("accepted", "held_for_quality_assessment", …), when given. */
  messageStatus?: string;
};

/** Options every send takes. */
export type SendCommon = {
  /**
   * Recipient phone number (E.164, "+" and spaces are fine) or wa_id, or a business-scoped user
   * id (sent as `recipient` instead of `to`, for people whose number Meta does not share).
   */
  to: string;
  /** Our message id; echoed back in status webhooks as biz_opaque_callback_data (≤ 512 chars). */
  callbackData?: string;
  /** wamid of the message this one replies to. */
  replyTo?: string;
};

/** A template parameter: a string is a text parameter; objects go to Meta as they are. */
export type TemplateParameter =
  | string
  | { type: "text"; text: string; parameter_name?: string }
  | { type: "image" | "video" | "document"; [key: string]: unknown }
  | { type: "currency" | "date_time" | "payload" | "coupon_code" | "action"; [key: string]: unknown };

export type TemplateComponent = {
  type: "header" | "body" | "button";
  /** Buttons: quick_reply, url, copy_code, flow… */
  sub_type?: string;
  /** Buttons: the button's position (0-based). */
  index?: number | string;
  /**
   * Positional (`{{1}}`, `{{2}}`…): an array in order. Named (`{{first_name}}`): a record of
   * name → text, sent as text parameters with `parameter_name`.
   */
  parameters: TemplateParameter[] | Record<string, string>;
};

export type TemplateMessage = SendCommon & {
  name: string;
  /** e.g. "en_US". */
  language: string;
  components?: TemplateComponent[];
};

export type MediaMessage = SendCommon & {
  kind: "image" | "video" | "document" | "audio";
  /** Public http(s) URL Meta downloads the media from. */
  link: string;
  /** Not allowed for audio. */
  caption?: string;
  /** Documents only: the file name the recipient sees. */
  filename?: string;
};

export type TemplateCategory = "MARKETING" | "UTILITY" | "AUTHENTICATION";

/** A template as the templates API describes it (fields Meta returns, by their names). */
export type CloudTemplate = {
  id: string;
  name: string;
  language: string;
  status: string;
  category: string;
  parameter_format?: "POSITIONAL" | "NAMED";
  components?: Record<string, unknown>[];
  rejected_reason?: string;
  [field: string]: unknown;
};

export type NewTemplate = {
  name: string;
  category: TemplateCategory;
  language: string;
  parameterFormat?: "POSITIONAL" | "NAMED";
  /** Meta's component objects: HEADER, BODY (required), FOOTER, BUTTONS, with examples. */
  components: Record<string, unknown>[];
  allowCategoryChange?: boolean;
};

type Result<T> = ({ ok: true } & T) | { ok: false; error: ProviderError };

/** `https://graph.facebook.com/v23.0`, whichever way the config gave it. */
export function graphBase(config: Pick<CloudConfig, "graphUrl" | "version">): string {
  const url = config.graphUrl.replace(/\/+$/, "");
  return /\/v\d+(\.\d+)?$/.test(url) ? url : `${url}/${config.version ?? DEFAULT_GRAPH_VERSION}`;
}

function digits(to: string): string {
  return to.replace(/[^\d]/g, "");
}

function call(
  config: CloudConfig,
  method: "GET" | "POST" | "DELETE",
  path: string,
  body?: unknown,
  query?: Record<string, string | number | undefined>,
): Promise<HttpOutcome> {
  const url = new URL(`${graphBase(config)}/${path}`);
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== "") url.searchParams.set(key, String(value));
  }
  return callProvider(
    url.toString(),
    { method, headers: { authorization: `Bearer ${config.accessToken}` }, body },
    { timeoutMs: config.timeoutMs, fetch: config.fetch },
  );
}

/** The failure of a call that did not answer 2xx (or did not answer at all). */
function failure(outcome: HttpOutcome): ProviderError | null {
  if (outcome.kind === "timeout") return classify(outcome);
  if (outcome.kind === "network") return classify(outcome);
  if (outcome.status < 200 || outcome.status >= 300) {
    return classifyGraphAnswer(outcome.status, outcome.body, outcome.headers);
  }
  return null;
}

function unexpected(outcome: HttpOutcome & { kind: "answer" }, what: string): ProviderError {
  // A 2xx we cannot read: the message may or may not have gone out, so a blind retry could
  // send it twice; report it as permanent and let a person look.
  return {
    class: "permanent",
    httpStatus: outcome.status,
    message: `Unexpected answer from the Cloud API (${what}): ${outcome.text.slice(0, 200)}`,
  };
}

async function sendMessage(
  config: CloudConfig,
  common: SendCommon,
  type: string,
  content: Record<string, unknown>,
): Promise<CloudSendResult> {
  const body: Record<string, unknown> = {
    messaging_product: "whatsapp",
    recipient_type: "individual",
    ...(isBusinessScopedUserId(common.to) ? { recipient: common.to } : { to: digits(common.to) }),
    type,
    [type]: content,
  };
  if (common.replyTo) body.context = { message_id: common.replyTo };
  if (common.callbackData) body.biz_opaque_callback_data = common.callbackData;
  const outcome = await call(config, "POST", `${encodeURIComponent(config.phoneNumberId)}/messages`, body);
  const error = failure(outcome);
  if (error) return { ok: false, error };
  const answer = outcome as HttpOutcome & { kind: "answer" };
  const parsed = answer.body as
    { messages?: { id?: unknown; message_status?: unknown }[]; contacts?: { wa_id?: unknown }[] } | undefined;
  const message = parsed?.messages?.[0];
  if (typeof message?.id !== "string") return { ok: false, error: unexpected(answer, "no message id") };
  const result: CloudSendResult = { ok: true, providerMessageId: message.id };
  const waId = parsed?.contacts?.[0]?.wa_id;
  if (typeof waId === "string") result.waId = waId;
  if (typeof message.message_status === "string") result.messageStatus = message.message_status;
  return result;
}

/** A free-form text message (only inside the 24 h customer-service window). */
export function sendText(
  config: CloudConfig,
  message: SendCommon & { text: string; previewUrl?: boolean },
): Promise<CloudSendResult> {
  return sendMessage(config, message, "text", {
    body: message.text,
    ...(message.previewUrl !== undefined ? { preview_url: message.previewUrl } : {}),
  });
}

/** Meta's `parameters` array from ours: strings become text parameters, records named ones. */
export function templateParameters(parameters: TemplateComponent["parameters"]): Record<string, unknown>[] {
  if (Array.isArray(parameters)) {
    return parameters.map((p) => (typeof p === "string" ? { type: "text", text: p } : { ...p }));
  }
  return Object.entries(parameters).map(([name, text]) => ({ type: "text", parameter_name: name, text }));
}

/** An approved template (any time, also outside the window). */
export function sendTemplate(config: CloudConfig, message: TemplateMessage): Promise<CloudSendResult> {
  const components = (message.components ?? []).map((c) => {
    const out: Record<string, unknown> = { type: c.type, parameters: templateParameters(c.parameters) };
    if (c.sub_type !== undefined) out.sub_type = c.sub_type;
    if (c.index !== undefined) out.index = String(c.index);
    return out;
  });
  return sendMessage(config, message, "template", {
    name: message.name,
    language: { code: message.language },
    ...(components.length ? { components } : {}),
  });
}

/** Image, video, document or audio by URL (Meta fetches it). */
export function sendMedia(config: CloudConfig, message: MediaMessage): Promise<CloudSendResult> {
  const media: Record<string, unknown> = { link: message.link };
  if (message.caption !== undefined && message.kind !== "audio") media.caption = message.caption;
  if (message.filename !== undefined && message.kind === "document") media.filename = message.filename;
  return sendMessage(config, message, message.kind, media);
}

function needWaba(config: CloudConfig): string {
  if (!config.wabaId) throw new Error("The templates API needs the channel's WABA id");
  return encodeURIComponent(config.wabaId);
}

const TEMPLATE_FIELDS =
  "id,name,language,status,category,parameter_format,components,rejected_reason,quality_score,correct_category";

function readTemplate(raw: Record<string, unknown>): CloudTemplate {
  return { ...raw, id: String(raw.id) } as CloudTemplate;
}

/** One page of the WABA's templates; pass `after` from the previous page for the next. */
export async function listTemplates(
  config: CloudConfig,
  options: { status?: string; name?: string; limit?: number; after?: string; fields?: string } = {},
): Promise<Result<{ templates: CloudTemplate[]; after?: string }>> {
  const outcome = await call(config, "GET", `${needWaba(config)}/message_templates`, undefined, {
    fields: options.fields ?? TEMPLATE_FIELDS,
    status: options.status,
    name: options.name,
    limit: options.limit,
    after: options.after,
  });
  const error = failure(outcome);
  if (error) return { ok: false, error };
  const answer = outcome as HttpOutcome & { kind: "answer" };
  const parsed = answer.body as
    | { data?: Record<string, unknown>[]; paging?: { cursors?: { after?: string }; next?: string } }
    | undefined;
  if (!Array.isArray(parsed?.data)) return { ok: false, error: unexpected(answer, "no data") };
  const result: { ok: true; templates: CloudTemplate[]; after?: string } = {
    ok: true,
    templates: parsed.data.map(readTemplate),
  };
  // Meta gives cursors on every page; `next` only when there is another page.
  if (parsed.paging?.next && parsed.paging.cursors?.after) result.after = parsed.paging.cursors.after;
  return result;
}

/** Submits a template for review; it starts PENDING (the status webhook says what became of it). */
export async function createTemplate(
  config: CloudConfig,
  template: NewTemplate,
): Promise<Result<{ id: string; status: string; category: string }>> {
  const body: Record<string, unknown> = {
    name: template.name,
    category: template.category,
    language: template.language,
    components: template.components,
  };
  if (template.parameterFormat) body.parameter_format = template.parameterFormat;
  if (template.allowCategoryChange !== undefined) body.allow_category_change = template.allowCategoryChange;
  const outcome = await call(config, "POST", `${needWaba(config)}/message_templates`, body);
  const error = failure(outcome);
  if (error) return { ok: false, error };
  const answer = outcome as HttpOutcome & { kind: "answer" };
  const parsed = answer.body as { id?: unknown; status?: unknown; category?: unknown } | undefined;
  if (parsed?.id === undefined) return { ok: false, error: unexpected(answer, "no template id") };
  return {
    ok: true,
    id: String(parsed.id),
    status: String(parsed.status ?? "PENDING"),
    category: String(parsed.category ?? template.category),
  };
}

/**
 * Edits a submitted template (`POST /{template-id}`): new components and/or category. Meta allows
 * it for approved, rejected and paused templates; the template goes back to review.
 */
export async function editTemplate(
  config: CloudConfig,
  templateId: string,
  changes: {
    category?: TemplateCategory;
    parameterFormat?: "POSITIONAL" | "NAMED";
    components?: Record<string, unknown>[];
  },
): Promise<Result<{ category?: string }>> {
  const body: Record<string, unknown> = {};
  if (changes.category) body.category = changes.category;
  if (changes.parameterFormat) body.parameter_format = changes.parameterFormat;
  if (changes.components) body.components = changes.components;
  const outcome = await call(config, "POST", encodeURIComponent(templateId), body);
  const error = failure(outcome);
  if (error) return { ok: false, error };
  const answer = outcome as HttpOutcome & { kind: "answer" };
  const parsed = answer.body as { success?: unknown; category?: unknown } | undefined;
  if (parsed?.success !== true) return { ok: false, error: unexpected(answer, "no success") };
  return { ok: true, ...(typeof parsed.category === "string" ? { category: parsed.category } : {}) };
}

/**
 * Deletes a template: with `templateId`, only that language version (hsm_id); without, every
 * language of the name. Meta keeps the name blocked for 30 days after.
 */
export async function deleteTemplate(
  config: CloudConfig,
  name: string,
  templateId?: string,
): Promise<Result<object>> {
  const outcome = await call(config, "DELETE", `${needWaba(config)}/message_templates`, undefined, {
    name,
    hsm_id: templateId,
  });
  const error = failure(outcome);
  if (error) return { ok: false, error };
  return { ok: true };
}

/** One template by its id (`fields` defaults to everything we use). */
export async function getTemplate(
  config: CloudConfig,
  templateId: string,
  fields = TEMPLATE_FIELDS,
): Promise<Result<{ template: CloudTemplate }>> {
  const outcome = await call(config, "GET", encodeURIComponent(templateId), undefined, { fields });
  const error = failure(outcome);
  if (error) return { ok: false, error };
  const answer = outcome as HttpOutcome & { kind: "answer" };
  const parsed = answer.body as Record<string, unknown> | undefined;
  if (!parsed || parsed.id === undefined) return { ok: false, error: unexpected(answer, "no template") };
  return { ok: true, template: readTemplate(parsed) };
}

export type CloudPhoneNumber = {
  id: string;
  displayPhoneNumber?: string;
  verifiedName?: string;
  /** GREEN, YELLOW, RED, UNKNOWN. */
  qualityRating?: string;
  /** TIER_250 … TIER_UNLIMITED. */
  messagingLimitTier?: string;
};

/** The number's health for the channel page: quality rating and messaging tier. */
export async function getPhoneNumber(
  config: CloudConfig,
): Promise<Result<{ phoneNumber: CloudPhoneNumber }>> {
  const outcome = await call(config, "GET", encodeURIComponent(config.phoneNumberId), undefined, {
    fields: "id,display_phone_number,verified_name,quality_rating,messaging_limit_tier",
  });
  const error = failure(outcome);
  if (error) return { ok: false, error };
  const answer = outcome as HttpOutcome & { kind: "answer" };
  const p = answer.body as Record<string, unknown> | undefined;
  if (!p || p.id === undefined) return { ok: false, error: unexpected(answer, "no phone number") };
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  return {
    ok: true,
    phoneNumber: {
      id: String(p.id),
      displayPhoneNumber: str(p.display_phone_number),
      verifiedName: str(p.verified_name),
      qualityRating: str(p.quality_rating),
      messagingLimitTier: str(p.messaging_limit_tier),
    },
  };
}
