/**
 * A local stand-in for OpenAI's Chat Completions API (`POST /v1/chat/completions`, streaming
 * included, and `GET /v1/models`), with OpenAI's authentication, validation and error shapes, so
 * the real `openai` SDK can be pointed at it (`baseURL`, OPENAI_BASE_URL) in tests and demos.
 * Answers come from the scripted brain (brain.ts) or from responses a test queued; failures,
 * latency, cut-off JSON, "length" finishes and rate limits are injected through `/_control/…`.
 */
import { randomBytes } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { shapedBy, textOf, think } from "./brain";
import { completionTokens, countTokens, promptTokens, truncateToTokens } from "./tokens";
import type {
  Answer,
  ChatRequest,
  FinishReason,
  InjectedFailure,
  ModelFaults,
  OpenAIError,
  RecordedRequest,
  Reply,
  ScriptedResponse,
  ToolCall,
} from "./types";
import { InvalidRequest, validateChatRequest } from "./validate";

export type { InjectedFailure, ModelFaults, RecordedRequest, ScriptedResponse };

export const DEFAULT_MODELS = ["gpt-4o-mini", "gpt-4.1-mini", "gpt-4o"];

export type OpenAIServerOptions = {
  port?: number;
  /** Default 127.0.0.1: the server has no CORS headers and is meant for this machine only. */
  host?: string;
  /** The models it serves (default DEFAULT_MODELS); others answer 404 model_not_found. */
  models?: string[];
  /** When set and non-empty, only these keys are accepted; otherwise any non-empty key is. */
  apiKeys?: string[];
  /** One line per API request (default: silent). */
  log?: (line: string) => void;
  /** How many requests `GET /_control/requests` keeps, oldest dropped first (default 1000). */
  maxRecorded?: number;
};

/** A patch for a model's fault knobs, as `POST /_control/faults` takes it. */
export type FaultsPatch = {
  /** A served model, or "*" (default) for every model. */
  model?: string;
  /** Forget this model's knobs before applying the rest. */
  clear?: boolean;
  /** Appended to the failure queue; each fails `count` requests (default 1). */
  fail?: InjectedFailure | InjectedFailure[];
  latencyMs?: number;
  /** `true` is 1. */
  malformed?: number | boolean;
  length?: number | boolean;
  /** `null` removes the limit; windowMs defaults to 60 000. */
  rateLimit?: { requests: number; windowMs?: number } | null;
};

export type OpenAIServer = {
  /** e.g. http://127.0.0.1:3230 */
  url: string;
  /** What the SDK takes as `baseURL` (OPENAI_BASE_URL): `${url}/v1`. */
  baseURL: string;
  models(): string[];
  /** The recorded API requests, oldest first (the same list `GET /_control/requests` answers). */
  requests(): RecordedRequest[];
  /** Queues exact responses for a model ("*": any model), answered before the scripted brain. */
  script(model: string, responses: ScriptedResponse[]): void;
  /** Changes a model's fault knobs; returns them. */
  faults(patch: FaultsPatch): ModelFaults;
  /** Forgets requests, scripts, faults and rate-limit windows. */
  reset(): void;
  close(): Promise<void>;
};

const MAX_BODY = 16 * 1024 * 1024;
const ANY = "*";
/** A fixed creation time for listed models, so `GET /v1/models` is the same on every run. */
const MODEL_CREATED = 1_715_367_049;

class ControlError extends Error {}

function apiError(message: string, type: string, code: string | null = null, param: string | null = null) {
  return { error: { message, type, param, code } satisfies OpenAIError };
}

function id(prefix: string, length: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  return prefix + [...randomBytes(length)].map((b) => alphabet[b % alphabet.length]).join("");
}

/** A key as OpenAI shows it in errors: its start and last four characters. */
function maskKey(key: string): string {
  return key.length > 8
    ? `${key.slice(0, 3)}${"*".repeat(Math.min(20, key.length - 7))}${key.slice(-4)}`
    : "****";
}

function noFaults(): ModelFaults {
  return { failures: [], latencyMs: 0, malformed: 0, length: 0, rateLimit: null };
}

/** The error OpenAI answers with a given status, for injected failures. */
function injectedError(failure: InjectedFailure, model: string): OpenAIError {
  const defaults: Record<number, Omit<OpenAIError, "param">> = {
    400: { message: "Bad request.", type: "invalid_request_error", code: null },
    401: {
      message:
        "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
      type: "invalid_request_error",
      code: "invalid_api_key",
    },
    403: {
      message: "You are not allowed to sample from this model.",
      type: "invalid_request_error",
      code: null,
    },
    404: {
      message: `The model \`${model}\` does not exist or you do not have access to it.`,
      type: "invalid_request_error",
      code: "model_not_found",
    },
    429:
      failure.code === "insufficient_quota"
        ? {
            message:
              "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
            type: "insufficient_quota",
            code: "insufficient_quota",
          }
        : {
            message: `Rate limit reached for ${model} in organization org-local on requests per min (RPM). Please try again later.`,
            type: "requests",
            code: "rate_limit_exceeded",
          },
    500: {
      message: "The server had an error while processing your request. Sorry about that!",
      type: "server_error",
      code: null,
    },
    502: { message: "Bad gateway.", type: "server_error", code: null },
    503: { message: "The server is overloaded or not ready yet.", type: "server_error", code: null },
    504: { message: "Gateway timeout.", type: "server_error", code: null },
  };
  const base = defaults[failure.status] ?? {
    message: `Injected error ${failure.status}.`,
    type: failure.status >= 500 ? "server_error" : "invalid_request_error",
    code: null,
  };
  return {
    message: failure.message ?? base.message,
    type: failure.type ?? base.type,
    param: null,
    code: failure.code !== undefined ? failure.code : base.code,
  };
}

// ---- control input checks ----

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function count(value: unknown, name: string): number {
  if (value === true) return 1;
  if (value === false) return 0;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw new ControlError(`${name} must be a whole number ≥ 0 (or true for 1)`);
  }
  return value;
}

function checkFailure(value: unknown): InjectedFailure & { count: number } {
  if (!isObject(value)) throw new ControlError("fail must be an object or an array of objects");
  const { status, retryAfter, code, type, message } = value;
  if (typeof status !== "number" || !Number.isInteger(status) || status < 400 || status > 599) {
    throw new ControlError("fail.status must be an HTTP error status (400–599)");
  }
  const times = value.count === undefined ? 1 : count(value.count, "fail.count");
  if (times < 1) throw new ControlError("fail.count must be at least 1");
  if (retryAfter !== undefined && (typeof retryAfter !== "number" || !(retryAfter >= 0))) {
    throw new ControlError("fail.retryAfter must be a number of seconds ≥ 0");
  }
  if (code !== undefined && code !== null && typeof code !== "string") {
    throw new ControlError("fail.code must be a string or null");
  }
  if (type !== undefined && typeof type !== "string") throw new ControlError("fail.type must be a string");
  if (message !== undefined && typeof message !== "string")
    throw new ControlError("fail.message must be a string");
  return {
    status,
    count: times,
    // A 429 says when to come back unless told otherwise, as OpenAI's do.
    retryAfter: retryAfter ?? (status === 429 ? 1 : undefined),
    ...(code !== undefined ? { code } : {}),
    ...(type !== undefined ? { type } : {}),
    ...(message !== undefined ? { message } : {}),
  };
}

function checkScript(value: unknown, i: number): ScriptedResponse {
  const at = `responses[${i}]`;
  if (!isObject(value)) throw new ControlError(`${at} must be an object`);
  const { content, toolCalls, finishReason, usage, refusal } = value;
  if (content !== undefined && content !== null && typeof content !== "string") {
    throw new ControlError(`${at}.content must be a string`);
  }
  if (refusal !== undefined && typeof refusal !== "string")
    throw new ControlError(`${at}.refusal must be a string`);
  if (toolCalls !== undefined) {
    if (!Array.isArray(toolCalls) || toolCalls.length === 0) {
      throw new ControlError(`${at}.toolCalls must be a non-empty array`);
    }
    toolCalls.forEach((call, j) => {
      if (!isObject(call) || typeof call.name !== "string" || !call.name) {
        throw new ControlError(`${at}.toolCalls[${j}].name is required`);
      }
      if (call.id !== undefined && typeof call.id !== "string") {
        throw new ControlError(`${at}.toolCalls[${j}].id must be a string`);
      }
      if (call.arguments !== undefined && typeof call.arguments !== "string" && !isObject(call.arguments)) {
        throw new ControlError(`${at}.toolCalls[${j}].arguments must be an object or a JSON string`);
      }
    });
  }
  if (content === undefined && toolCalls === undefined && refusal === undefined) {
    throw new ControlError(`${at} needs content, toolCalls or refusal`);
  }
  if (
    finishReason !== undefined &&
    !["stop", "length", "tool_calls", "content_filter"].includes(finishReason as string)
  ) {
    throw new ControlError(`${at}.finishReason must be stop, length, tool_calls or content_filter`);
  }
  if (usage !== undefined) {
    if (!isObject(usage)) throw new ControlError(`${at}.usage must be an object`);
    for (const key of ["prompt_tokens", "completion_tokens"]) {
      if (usage[key] !== undefined) count(usage[key], `${at}.usage.${key}`);
    }
  }
  return value as ScriptedResponse;
}

// ---- HTTP helpers ----

class TooLarge extends Error {}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new TooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function baseHeaders(): Record<string, string> {
  return {
    "x-request-id": id("req_", 32),
    "openai-version": "2020-10-01",
    "openai-organization": "org-local",
  };
}

function sendJson(res: ServerResponse, answer: Answer) {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(answer.status, {
    "content-type": "application/json",
    ...baseHeaders(),
    ...answer.headers,
  });
  res.end(JSON.stringify(answer.body));
}

function recordedHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(", ") : value;
    if (name === "authorization" || name === "api-key") {
      const secret = text.replace(/^Bearer\s+/i, "");
      headers[name] =
        `${text.startsWith("Bearer") ? "Bearer " : ""}****${secret.length > 8 ? secret.slice(-4) : ""}`;
    } else headers[name] = text;
  }
  return headers;
}

/** For the log: the tools a completion called, or how it finished. */
function outcome(response: unknown): string {
  const choice = (
    response as { choices?: { finish_reason?: string; message?: { tool_calls?: ToolCall[] } }[] }
  )?.choices?.[0];
  if (!choice) return "";
  const calls = choice.message?.tool_calls?.map((c) => c.function.name) ?? [];
  return calls.length ? `: ${calls.join(", ")}` : `: ${choice.finish_reason}`;
}

// ---- the completion itself ----

type Built = {
  id: string;
  created: number;
  model: string;
  replies: { reply: Reply; finish: FinishReason; toolCallIds: string[]; refusal: string | null }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
};

/** The reply after response_format, stop sequences and max tokens, with its finish reason. */
function shape(
  request: ChatRequest,
  reply: Reply,
  forceLength: boolean,
): { reply: Reply; finish: FinishReason } {
  if (reply.kind === "text") {
    let content = reply.content;
    if (request.responseFormat.type === "json_object") content = JSON.stringify({ answer: content });
    if (request.responseFormat.type === "json_schema") {
      content = JSON.stringify(shapedBy(request.responseFormat.schema, content));
    }
    let finish: FinishReason = "stop";
    for (const stop of request.stop) {
      const at = content.indexOf(stop);
      if (at >= 0) content = content.slice(0, at);
    }
    const tokens = countTokens(content);
    const limit = Math.min(
      request.maxTokens ?? Infinity,
      forceLength ? Math.max(1, Math.floor(tokens / 2)) : Infinity,
    );
    if (tokens > limit || (forceLength && tokens > 0)) {
      content = truncateToTokens(content, Math.min(limit, tokens));
      finish = "length";
    }
    return { reply: { kind: "text", content }, finish };
  }
  const tokens = completionTokens(reply);
  const limit = Math.min(
    request.maxTokens ?? Infinity,
    forceLength ? Math.max(1, Math.floor(tokens / 2)) : Infinity,
  );
  if (tokens <= limit) return { reply, finish: "tool_calls" };
  // Cut off mid-arguments, as a model that runs out of tokens is.
  let budget = limit;
  const calls = [];
  for (const call of reply.calls) {
    if (budget <= 0) break;
    budget -= countTokens(call.name);
    calls.push({ name: call.name, arguments: truncateToTokens(call.arguments, Math.max(0, budget)) });
    budget -= countTokens(call.arguments);
  }
  return { reply: { kind: "tool_calls", calls }, finish: "length" };
}

function completionBody(built: Built) {
  return {
    id: built.id,
    object: "chat.completion",
    created: built.created,
    model: built.model,
    choices: built.replies.map(({ reply, finish, toolCallIds, refusal }, index) => ({
      index,
      message: {
        role: "assistant",
        content: reply.kind === "text" && refusal === null ? reply.content : null,
        refusal,
        annotations: [],
        ...(reply.kind === "tool_calls"
          ? {
              tool_calls: reply.calls.map((call, i) => ({
                id: toolCallIds[i],
                type: "function",
                function: { name: call.name, arguments: call.arguments },
              })),
            }
          : {}),
      },
      logprobs: null,
      finish_reason: finish,
    })),
    usage: {
      ...built.usage,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: 0,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    },
    service_tier: "default",
    system_fingerprint: "fp_local",
  };
}

/** The completion as server-sent chunks, the way OpenAI streams it. */
function chunks(built: Built, includeUsage: boolean): unknown[] {
  const base = {
    id: built.id,
    object: "chat.completion.chunk",
    created: built.created,
    model: built.model,
    service_tier: "default",
    system_fingerprint: "fp_local",
  };
  const chunk = (choice: Record<string, unknown>) => ({
    ...base,
    choices: [{ logprobs: null, finish_reason: null, ...choice }],
    ...(includeUsage ? { usage: null } : {}),
  });
  const out: unknown[] = [];
  built.replies.forEach(({ reply, finish, toolCallIds, refusal }, index) => {
    out.push(chunk({ index, delta: { role: "assistant", content: "", refusal: null } }));
    if (refusal !== null) out.push(chunk({ index, delta: { refusal } }));
    else if (reply.kind === "text") {
      for (const piece of reply.content.match(/\S+\s*|\s+/g) ?? [])
        out.push(chunk({ index, delta: { content: piece } }));
    } else {
      reply.calls.forEach((call, i) => {
        out.push(
          chunk({
            index,
            delta: {
              tool_calls: [
                {
                  index: i,
                  id: toolCallIds[i],
                  type: "function",
                  function: { name: call.name, arguments: "" },
                },
              ],
            },
          }),
        );
        for (const piece of call.arguments.match(/[\s\S]{1,16}/g) ?? []) {
          out.push(chunk({ index, delta: { tool_calls: [{ index: i, function: { arguments: piece } }] } }));
        }
      });
    }
    out.push(chunk({ index, delta: {}, finish_reason: finish }));
  });
  if (includeUsage) out.push({ ...base, choices: [], usage: built.usage });
  return out;
}

export async function startOpenAIServer(options: OpenAIServerOptions = {}): Promise<OpenAIServer> {
  let models = [...new Set(options.models?.length ? options.models : DEFAULT_MODELS)];
  let apiKeys = options.apiKeys?.length ? new Set(options.apiKeys) : null;
  const log = options.log ?? (() => {});
  const maxRecorded = options.maxRecorded ?? 1000;
  let recorded: RecordedRequest[] = [];
  let seq = 0;
  let faults = new Map<string, ModelFaults>();
  let scripts = new Map<string, ScriptedResponse[]>();
  let windows = new Map<string, number[]>();
  const sleeping = new Set<() => void>();

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        sleeping.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      sleeping.add(wake);
    });

  function record(entry: Omit<RecordedRequest, "seq" | "at">) {
    recorded.push({ seq: ++seq, at: new Date().toISOString(), ...entry });
    if (recorded.length > maxRecorded) recorded = recorded.slice(-maxRecorded);
    log(
      `${entry.method} ${entry.path}${entry.model ? ` ${entry.model}` : ""} → ${entry.status} (${entry.source}${outcome(entry.response)})`,
    );
  }

  function faultsOf(model: string): ModelFaults {
    let f = faults.get(model);
    if (!f) faults.set(model, (f = noFaults()));
    return f;
  }

  function applyFaults(patch: FaultsPatch): ModelFaults {
    if (!isObject(patch)) throw new ControlError("The body must be a JSON object");
    const model = patch.model ?? ANY;
    if (typeof model !== "string" || (model !== ANY && !models.includes(model))) {
      throw new ControlError(`Unknown model ${JSON.stringify(model)}; serving ${models.join(", ")} (or "*")`);
    }
    // Check everything before changing anything.
    const fails =
      patch.fail === undefined
        ? []
        : (Array.isArray(patch.fail) ? patch.fail : [patch.fail]).map(checkFailure);
    const latency = patch.latencyMs === undefined ? undefined : count(patch.latencyMs, "latencyMs");
    if (latency !== undefined && latency > 600_000)
      throw new ControlError("latencyMs must be at most 600000");
    const malformed = patch.malformed === undefined ? undefined : count(patch.malformed, "malformed");
    const length = patch.length === undefined ? undefined : count(patch.length, "length");
    let rateLimit: ModelFaults["rateLimit"] | undefined;
    if (patch.rateLimit === null) rateLimit = null;
    else if (patch.rateLimit !== undefined) {
      if (!isObject(patch.rateLimit)) throw new ControlError("rateLimit must be an object or null");
      const requests = count(patch.rateLimit.requests, "rateLimit.requests");
      if (requests < 1) throw new ControlError("rateLimit.requests must be at least 1");
      const windowMs =
        patch.rateLimit.windowMs === undefined
          ? 60_000
          : count(patch.rateLimit.windowMs, "rateLimit.windowMs");
      if (windowMs < 1) throw new ControlError("rateLimit.windowMs must be at least 1");
      rateLimit = { requests, windowMs };
    }
    if (patch.clear === true) {
      faults.delete(model);
      windows.delete(model);
    }
    const f = faultsOf(model);
    f.failures.push(...fails);
    if (latency !== undefined) f.latencyMs = latency;
    if (malformed !== undefined) f.malformed = malformed;
    if (length !== undefined) f.length = length;
    if (rateLimit !== undefined) {
      f.rateLimit = rateLimit;
      windows.delete(model);
    }
    return f;
  }

  function enqueue(model: string, responses: ScriptedResponse[]) {
    if (typeof model !== "string" || (model !== ANY && !models.includes(model))) {
      throw new ControlError(`Unknown model ${JSON.stringify(model)}; serving ${models.join(", ")} (or "*")`);
    }
    if (!Array.isArray(responses) || responses.length === 0) {
      throw new ControlError("responses must be a non-empty array");
    }
    const checked = responses.map(checkScript);
    scripts.set(model, [...(scripts.get(model) ?? []), ...checked]);
  }

  function reset() {
    recorded = [];
    faults = new Map();
    scripts = new Map();
    windows = new Map();
  }

  /** The model's knob first, then every model's. */
  const knobs = (model: string) => [faults.get(model), faults.get(ANY)].filter((f): f is ModelFaults => !!f);

  /** Over a rate limit: the 429 to answer; otherwise counts the request. */
  function rateLimited(model: string): Answer | null {
    const now = Date.now();
    const answers: Answer[] = [];
    const counted: number[][] = [];
    for (const key of [model, ANY]) {
      const limit = faults.get(key)?.rateLimit;
      if (!limit) continue;
      const window = (windows.get(key) ?? []).filter((t) => t > now - limit.windowMs);
      windows.set(key, window);
      if (window.length >= limit.requests) {
        const waitMs = window[0] + limit.windowMs - now;
        const seconds = Math.max(1, Math.ceil(waitMs / 1000));
        const per = limit.windowMs === 60_000 ? "per min (RPM)" : `per ${limit.windowMs} ms`;
        answers.push({
          status: 429,
          body: apiError(
            `Rate limit reached for ${model} in organization org-local on requests ${per}: Limit ${limit.requests}, Used ${window.length}, Requested 1. Please try again in ${seconds}s. Visit https://platform.openai.com/account/rate-limits to learn more.`,
            "requests",
            "rate_limit_exceeded",
          ),
          headers: {
            "retry-after": String(seconds),
            "x-ratelimit-limit-requests": String(limit.requests),
            "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": `${seconds}s`,
          },
        });
      } else counted.push(window);
    }
    if (answers.length > 0) return answers[0];
    for (const window of counted) window.push(now);
    return null;
  }

  function rateHeaders(model: string): Record<string, string> {
    const limit = faults.get(model)?.rateLimit ?? faults.get(ANY)?.rateLimit;
    if (!limit) return {};
    const window = windows.get(faults.get(model)?.rateLimit ? model : ANY) ?? [];
    return {
      "x-ratelimit-limit-requests": String(limit.requests),
      "x-ratelimit-remaining-requests": String(Math.max(0, limit.requests - window.length)),
    };
  }

  /** Whether the request carries an accepted key; the 401 to answer otherwise. */
  function authError(req: IncomingMessage): Answer | null {
    const header = req.headers.authorization ?? "";
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) {
      return {
        status: 401,
        body: apiError(
          "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY). You can obtain an API key from https://platform.openai.com/account/api-keys.",
          "invalid_request_error",
        ),
      };
    }
    if (apiKeys && !apiKeys.has(match[1])) {
      return {
        status: 401,
        body: apiError(
          `Incorrect API key provided: ${maskKey(match[1])}. You can find your API key at https://platform.openai.com/account/api-keys.`,
          "invalid_request_error",
          "invalid_api_key",
        ),
      };
    }
    return null;
  }

  async function chatCompletions(req: IncomingMessage, res: ServerResponse, path: string) {
    const headers = recordedHeaders(req);
    let body: unknown = null;
    let request: ChatRequest | null = null;
    const done = (answer: Answer, source: RecordedRequest["source"], response: unknown = answer.body) => {
      const b = isObject(body) ? body : {};
      record({
        method: "POST",
        path,
        status: answer.status,
        model: request?.model ?? (typeof b.model === "string" ? b.model : null),
        stream: b.stream === true,
        messages: b.messages ?? null,
        tools: b.tools ?? null,
        toolChoice: b.tool_choice ?? null,
        body,
        headers,
        source,
        response,
      });
    };
    const fail = (answer: Answer, source: RecordedRequest["source"]) => {
      done(answer, source);
      sendJson(res, answer);
    };

    const denied = authError(req);
    if (denied) {
      await readBody(req).catch(() => "");
      return fail(denied, "error");
    }
    const raw = await readBody(req);
    try {
      body = JSON.parse(raw);
    } catch {
      body = raw;
      return fail(
        {
          status: 400,
          body: apiError(
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
            "invalid_request_error",
          ),
        },
        "error",
      );
    }
    try {
      request = validateChatRequest(body);
    } catch (error) {
      if (!(error instanceof InvalidRequest)) throw error;
      return fail({ status: 400, body: { error: error.toError() } }, "error");
    }
    const model = request.model;
    if (!models.includes(model)) {
      return fail(
        {
          status: 404,
          body: apiError(
            `The model \`${model}\` does not exist or you do not have access to it.`,
            "invalid_request_error",
            "model_not_found",
          ),
        },
        "error",
      );
    }
    if (
      request.responseFormat.type === "json_object" &&
      !request.messages.some((m) => /json/i.test(textOf(m.content)))
    ) {
      return fail(
        {
          status: 400,
          body: apiError(
            "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
            "invalid_request_error",
            null,
            "messages",
          ),
        },
        "error",
      );
    }

    const latency = Math.max(0, ...knobs(model).map((f) => f.latencyMs));
    if (latency > 0) await sleep(latency);

    const limited = rateLimited(model);
    if (limited) return fail(limited, "fault");

    const failing = knobs(model).find((f) => f.failures.length > 0);
    if (failing) {
      const failure = failing.failures[0];
      if (--failure.count <= 0) failing.failures.shift();
      return fail(
        {
          status: failure.status,
          body: { error: injectedError(failure, model) },
          headers: failure.retryAfter !== undefined ? { "retry-after": String(failure.retryAfter) } : {},
        },
        "fault",
      );
    }

    const queue = [scripts.get(model), scripts.get(ANY)].find((q) => q && q.length > 0);
    const scripted = queue?.shift();
    const lengthKnob = knobs(model).find((f) => f.length > 0);
    if (lengthKnob) lengthKnob.length--;
    const malformedKnob = knobs(model).find((f) => f.malformed > 0);
    if (malformedKnob) malformedKnob.malformed--;

    let reply: Reply;
    let finish: FinishReason;
    let refusal: string | null = null;
    if (scripted) {
      if (scripted.toolCalls) {
        reply = {
          kind: "tool_calls",
          calls: scripted.toolCalls.map((c) => ({
            name: c.name,
            arguments: typeof c.arguments === "string" ? c.arguments : JSON.stringify(c.arguments ?? {}),
          })),
        };
      } else reply = { kind: "text", content: scripted.content ?? "" };
      refusal = scripted.refusal ?? null;
      finish = scripted.finishReason ?? (reply.kind === "tool_calls" ? "tool_calls" : "stop");
      if (lengthKnob)
        ({ reply, finish } = shape(
          { ...request, stop: [], maxTokens: null, responseFormat: { type: "text" } },
          reply,
          true,
        ));
    } else ({ reply, finish } = shape(request, think(request), !!lengthKnob));

    const prompt = scripted?.usage?.prompt_tokens ?? promptTokens(request.messages, request.tools);
    const completion =
      scripted?.usage?.completion_tokens ??
      (refusal !== null ? countTokens(refusal) : completionTokens(reply)) * request.n;
    const built: Built = {
      id: id("chatcmpl-", 29),
      created: Math.floor(Date.now() / 1000),
      model,
      replies: Array.from({ length: request.n }, (_, i) => ({
        reply,
        finish,
        refusal,
        toolCallIds:
          reply.kind === "tool_calls"
            ? reply.calls.map((_, j) => {
                // A scripted id stays as given in the first choice and is suffixed in the others.
                const given = scripted?.toolCalls?.[j]?.id;
                return given ? (i ? `${given}_${i}` : given) : id("call_", 24);
              })
            : [],
      })),
      usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
    };
    const source = scripted ? "script" : "brain";
    const completionJson = completionBody(built);
    const extra = { ...rateHeaders(model), "openai-processing-ms": String(latency) };

    if (request.stream) {
      const events = chunks(built, request.includeUsage).map((c) => `data: ${JSON.stringify(c)}\n\n`);
      if (malformedKnob) {
        const cut = events[Math.min(1, events.length - 1)];
        events.splice(1, events.length - 1, cut.slice(0, Math.floor(cut.length / 2)) + "\n\n");
      } else events.push("data: [DONE]\n\n");
      done(
        { status: 200, body: null },
        malformedKnob ? "fault" : source,
        malformedKnob ? events.join("") : completionJson,
      );
      if (res.destroyed) return;
      res.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        connection: "keep-alive",
        ...baseHeaders(),
        ...extra,
      });
      for (const event of events) res.write(event);
      res.end();
      return;
    }
    if (malformedKnob) {
      const text = JSON.stringify(completionJson);
      const cut = text.slice(0, Math.floor(text.length / 2));
      done({ status: 200, body: null }, "fault", cut);
      if (res.headersSent || res.destroyed) return;
      res.writeHead(200, { "content-type": "application/json", ...baseHeaders(), ...extra });
      res.end(cut);
      return;
    }
    const answer = { status: 200, body: completionJson, headers: extra };
    done(answer, source);
    sendJson(res, answer);
  }

  function listModels(req: IncomingMessage, res: ServerResponse, path: string, one?: string) {
    const reply = (answer: Answer) => {
      record({
        method: "GET",
        path,
        status: answer.status,
        model: one ?? null,
        stream: false,
        messages: null,
        tools: null,
        toolChoice: null,
        body: null,
        headers: recordedHeaders(req),
        source: answer.status === 200 ? "models" : "error",
        response: answer.body,
      });
      sendJson(res, answer);
    };
    const denied = authError(req);
    if (denied) return reply(denied);
    const describe = (m: string) => ({ id: m, object: "model", created: MODEL_CREATED, owned_by: "system" });
    if (one === undefined)
      return reply({ status: 200, body: { object: "list", data: models.map(describe) } });
    if (!models.includes(one)) {
      return reply({
        status: 404,
        body: apiError(
          `The model '${one}' does not exist`,
          "invalid_request_error",
          "model_not_found",
          "model",
        ),
      });
    }
    reply({ status: 200, body: describe(one) });
  }

  async function control(req: IncomingMessage, path: string, url: URL): Promise<Answer> {
    const method = req.method ?? "GET";
    const raw = method === "POST" ? await readBody(req) : "";
    let body: Record<string, unknown> = {};
    if (raw.trim()) {
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch (error) {
        throw new ControlError(`Invalid JSON: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (!isObject(body)) throw new ControlError("The body must be a JSON object");
    }
    const state = () => ({
      models,
      apiKeys: apiKeys ? { accepted: apiKeys.size } : "any",
      faults: Object.fromEntries(faults),
      scripted: Object.fromEntries([...scripts].map(([m, q]) => [m, q.length])),
      requests: recorded.length,
    });
    if (method === "GET" && path === "/_control/state") return { status: 200, body: state() };
    if (method === "GET" && path === "/_control/requests") {
      const model = url.searchParams.get("model");
      const since = Number(url.searchParams.get("since") ?? 0);
      if (!Number.isFinite(since)) throw new ControlError("since must be a request number");
      return {
        status: 200,
        body: { requests: recorded.filter((r) => (!model || r.model === model) && r.seq > since) },
      };
    }
    if (method === "GET" && path === "/_control/faults")
      return { status: 200, body: Object.fromEntries(faults) };
    if (method === "POST" && path === "/_control/faults") {
      const model = (body.model as string | undefined) ?? ANY;
      return { status: 200, body: { model, faults: applyFaults(body as FaultsPatch) } };
    }
    if (method === "POST" && path === "/_control/script") {
      const model = (body.model as string | undefined) ?? ANY;
      enqueue(model, body.responses as ScriptedResponse[]);
      return { status: 200, body: { model, queued: scripts.get(model)!.length } };
    }
    if (method === "POST" && path === "/_control/reset") {
      reset();
      return { status: 200, body: { ok: true } };
    }
    if (method === "POST" && path === "/_control/config") {
      if (body.models !== undefined) {
        if (
          !Array.isArray(body.models) ||
          body.models.length === 0 ||
          !body.models.every((m) => typeof m === "string" && m)
        ) {
          throw new ControlError("models must be a non-empty array of names");
        }
        models = [...new Set(body.models as string[])];
      }
      if (body.apiKeys !== undefined) {
        if (
          body.apiKeys !== null &&
          (!Array.isArray(body.apiKeys) || !body.apiKeys.every((k) => typeof k === "string" && k))
        ) {
          throw new ControlError("apiKeys must be an array of keys, or null to accept any key");
        }
        apiKeys =
          body.apiKeys && (body.apiKeys as string[]).length ? new Set(body.apiKeys as string[]) : null;
      }
      return { status: 200, body: state() };
    }
    return { status: 404, body: apiError(`No control route ${method} ${path}`, "invalid_request_error") };
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://openai.local");
    const path = url.pathname.replace(/\/+$/, "") || "/";
    const method = req.method ?? "GET";
    const handle = async () => {
      if (path.startsWith("/_control/")) {
        try {
          return sendJson(res, await control(req, path, url));
        } catch (error) {
          if (!(error instanceof ControlError)) throw error;
          return sendJson(res, { status: 400, body: apiError(error.message, "invalid_request_error") });
        }
      }
      if (method === "POST" && path === "/v1/chat/completions") return await chatCompletions(req, res, path);
      if (method === "GET" && path === "/v1/models") return listModels(req, res, path);
      const model = /^\/v1\/models\/(.+)$/.exec(path);
      if (method === "GET" && model) return listModels(req, res, path, decodeURIComponent(model[1]));
      if (method === "GET" && path === "/") {
        return sendJson(res, {
          status: 200,
          body: { name: "openai-local", baseURL: `${baseUrl}/v1`, models },
        });
      }
      sendJson(res, {
        status: 404,
        body: apiError(`Invalid URL (${method} ${path})`, "invalid_request_error"),
      });
    };
    handle().catch((error) => {
      if (error instanceof TooLarge) {
        sendJson(res, {
          status: 413,
          body: apiError("The request body is too large.", "invalid_request_error", "request_too_large"),
        });
        return;
      }
      log(`error ${method} ${path}: ${error instanceof Error ? error.stack : String(error)}`);
      sendJson(res, {
        status: 500,
        body: apiError(
          "The server had an error while processing your request. Sorry about that!",
          "server_error",
        ),
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const baseUrl = `http://${host}:${address.port}`;

  return {
    url: baseUrl,
    baseURL: `${baseUrl}/v1`,
    models: () => [...models],
    requests: () => recorded.slice(),
    script: enqueue,
    faults: applyFaults,
    reset,
    close() {
      for (const wake of [...sleeping]) wake();
      return new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      });
    },
  };
}
