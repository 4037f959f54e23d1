/**
 * Checks a chat completion request the way OpenAI does and answers its 400s in its words
 * (`{ error: { message, type: "invalid_request_error", param, code } }`).
 */
import type { ChatRequest, ContentPart, JsonSchema, Message, OpenAIError, Tool, ToolChoice } from "./types";

export class InvalidRequest extends Error {
  constructor(
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
  }

  toError(): OpenAIError {
    return { message: this.message, type: "invalid_request_error", param: this.param, code: this.code };
  }
}

/** Every parameter of the Chat Completions API; others are refused as OpenAI refuses them. */
const KNOWN_PARAMETERS = new Set([
  "model",
  "messages",
  "audio",
  "frequency_penalty",
  "function_call",
  "functions",
  "logit_bias",
  "logprobs",
  "max_completion_tokens",
  "max_tokens",
  "metadata",
  "modalities",
  "n",
  "parallel_tool_calls",
  "prediction",
  "presence_penalty",
  "prompt_cache_key",
  "prompt_cache_retention",
  "reasoning_effort",
  "response_format",
  "safety_identifier",
  "seed",
  "service_tier",
  "stop",
  "store",
  "stream",
  "stream_options",
  "temperature",
  "tool_choice",
  "tools",
  "top_logprobs",
  "top_p",
  "user",
  "verbosity",
  "web_search_options",
]);

/** Parameters this server accepts but does not act on; documented in docs/local-development.md. */
const UNSUPPORTED = new Set(["audio", "function_call", "functions", "modalities", "prediction"]);

const ROLES = ["system", "developer", "user", "assistant", "tool"] as const;
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const MAX_TOOLS = 128;

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") return "a string";
  if (typeof value === "number") return Number.isInteger(value) ? "an integer" : "a decimal";
  if (typeof value === "boolean") return "a boolean";
  return typeof value;
}

function invalidType(param: string, expected: string, value: unknown): InvalidRequest {
  return new InvalidRequest(
    `Invalid type for '${param}': expected ${expected}, but got ${typeName(value)} instead.`,
    param,
    "invalid_type",
  );
}

function missing(param: string): InvalidRequest {
  return new InvalidRequest(`Missing required parameter: '${param}'.`, param, "missing_required_parameter");
}

function invalidValue(param: string, value: unknown, supported: readonly string[]): InvalidRequest {
  const list = supported.map((s) => `'${s}'`);
  const words = list.length > 1 ? `${list.slice(0, -1).join(", ")}, and ${list.at(-1)}` : list[0];
  return new InvalidRequest(
    `Invalid value: '${String(value)}'. Supported values are: ${words}.`,
    param,
    "invalid_value",
  );
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function numberIn(body: Record<string, unknown>, name: string, min: number, max: number, integer = false) {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw invalidType(name, integer ? "an integer" : "a decimal", value);
  }
  const kind = integer ? "integer" : "decimal";
  if (value < min) {
    throw new InvalidRequest(
      `Invalid '${name}': ${kind} below minimum value. Expected a value >= ${min}, but got ${value} instead.`,
      name,
      `${kind}_below_min_value`,
    );
  }
  if (value > max) {
    throw new InvalidRequest(
      `Invalid '${name}': ${kind} above maximum value. Expected a value <= ${max}, but got ${value} instead.`,
      name,
      `${kind}_above_max_value`,
    );
  }
  return value;
}

const PART_TYPES: Record<Message["role"], readonly string[]> = {
  system: ["text"],
  developer: ["text"],
  user: ["text", "image_url", "input_audio", "file"],
  assistant: ["text", "refusal"],
  tool: ["text"],
};

function content(value: unknown, param: string, role: Message["role"]): string | ContentPart[] {
  if (typeof value === "string") return value;
  if (!Array.isArray(value)) throw invalidType(param, "one of a string or array of objects", value);
  if (value.length === 0) {
    throw new InvalidRequest(
      `Invalid '${param}': empty array. Expected an array with minimum length 1, but got an empty array instead.`,
      param,
      "empty_array",
    );
  }
  return value.map((part, i) => {
    const at = `${param}[${i}]`;
    if (!isObject(part)) throw invalidType(at, "an object", part);
    if (part.type === undefined) throw missing(`${at}.type`);
    if (!PART_TYPES[role].includes(part.type as string)) {
      throw invalidValue(`${at}.type`, part.type, PART_TYPES[role]);
    }
    if (part.type === "text" && typeof part.text !== "string") {
      throw part.text === undefined
        ? missing(`${at}.text`)
        : invalidType(`${at}.text`, "a string", part.text);
    }
    if (part.type === "refusal" && typeof part.refusal !== "string") {
      throw part.refusal === undefined
        ? missing(`${at}.refusal`)
        : invalidType(`${at}.refusal`, "a string", part.refusal);
    }
    if (part.type === "image_url" && !(isObject(part.image_url) && typeof part.image_url.url === "string")) {
      throw missing(`${at}.image_url.url`);
    }
    return part as ContentPart;
  });
}

function toolCalls(value: unknown, param: string) {
  if (!Array.isArray(value)) throw invalidType(param, "an array of objects", value);
  return value.map((call, j) => {
    const at = `${param}[${j}]`;
    if (!isObject(call)) throw invalidType(at, "an object", call);
    if (call.id === undefined) throw missing(`${at}.id`);
    if (typeof call.id !== "string") throw invalidType(`${at}.id`, "a string", call.id);
    if (call.type === undefined) throw missing(`${at}.type`);
    if (call.type !== "function") throw invalidValue(`${at}.type`, call.type, ["function"]);
    if (!isObject(call.function)) throw missing(`${at}.function`);
    const { name, arguments: args } = call.function;
    if (name === undefined) throw missing(`${at}.function.name`);
    if (typeof name !== "string") throw invalidType(`${at}.function.name`, "a string", name);
    if (args === undefined) throw missing(`${at}.function.arguments`);
    if (typeof args !== "string") throw invalidType(`${at}.function.arguments`, "a string", args);
    return { id: call.id, type: "function" as const, function: { name, arguments: args } };
  });
}

function message(value: unknown, i: number): Message {
  const at = `messages[${i}]`;
  if (!isObject(value)) throw invalidType(at, "an object", value);
  const role = value.role;
  if (role === undefined) throw missing(`${at}.role`);
  if (!ROLES.includes(role as Message["role"])) {
    if (role === "function") {
      throw new InvalidRequest(
        `Invalid value: 'function'. The local OpenAI server does not support the deprecated 'function' role; use 'tool'.`,
        `${at}.role`,
        "invalid_value",
      );
    }
    throw invalidValue(`${at}.role`, role, ROLES);
  }
  const typedRole = role as Message["role"];
  const name = value.name;
  if (name !== undefined && typeof name !== "string") throw invalidType(`${at}.name`, "a string", name);

  if (typedRole === "assistant") {
    const calls = value.tool_calls === undefined || value.tool_calls === null ? undefined : value.tool_calls;
    const text =
      value.content === undefined || value.content === null
        ? null
        : content(value.content, `${at}.content`, typedRole);
    const parsedCalls = calls === undefined ? undefined : toolCalls(calls, `${at}.tool_calls`);
    if (text === null && !parsedCalls?.length && typeof value.refusal !== "string") {
      throw new InvalidRequest(
        `Invalid '${at}': an assistant message must have 'content' or 'tool_calls'.`,
        `${at}.content`,
        null,
      );
    }
    return {
      role: "assistant",
      content: text,
      ...(name !== undefined ? { name } : {}),
      ...(parsedCalls?.length ? { tool_calls: parsedCalls } : {}),
      ...(typeof value.refusal === "string" ? { refusal: value.refusal } : {}),
    };
  }
  if (value.content === undefined || value.content === null) throw missing(`${at}.content`);
  const body = content(value.content, `${at}.content`, typedRole);
  if (typedRole === "tool") {
    if (value.tool_call_id === undefined) throw missing(`${at}.tool_call_id`);
    if (typeof value.tool_call_id !== "string") {
      throw invalidType(`${at}.tool_call_id`, "a string", value.tool_call_id);
    }
    return { role: "tool", content: body, tool_call_id: value.tool_call_id };
  }
  return { role: typedRole, content: body, ...(name !== undefined ? { name } : {}) };
}

/** Tool results answer the tool calls right before them, each call exactly once. */
function checkToolSequence(messages: Message[]) {
  let open: { index: number; ids: Set<string> } | null = null;
  const unanswered = () => {
    if (open && open.ids.size > 0) {
      throw new InvalidRequest(
        `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...open.ids].join(", ")}`,
        `messages[${open.index}].role`,
        null,
      );
    }
  };
  messages.forEach((m, i) => {
    if (m.role === "tool") {
      if (!open) {
        throw new InvalidRequest(
          "Invalid parameter: messages with role 'tool' must be a response to a preceding message with 'tool_calls'.",
          `messages[${i}].role`,
          null,
        );
      }
      if (!open.ids.delete(m.tool_call_id)) {
        throw new InvalidRequest(
          `Invalid parameter: 'tool_call_id' of '${m.tool_call_id}' not found in 'tool_calls' of previous message.`,
          `messages[${i}].tool_call_id`,
          null,
        );
      }
      return;
    }
    unanswered();
    open = m.role === "assistant" && m.tool_calls?.length ? { index: i, ids: new Set() } : null;
    if (open && m.role === "assistant") for (const call of m.tool_calls!) open.ids.add(call.id);
  });
  unanswered();
}

function tools(value: unknown): Tool[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalidType("tools", "an array of objects", value);
  if (value.length === 0) {
    throw new InvalidRequest(
      "Invalid 'tools': empty array. Expected an array with minimum length 1, but got an empty array instead.",
      "tools",
      "empty_array",
    );
  }
  if (value.length > MAX_TOOLS) {
    throw new InvalidRequest(
      `Invalid 'tools': array too long. Expected an array with maximum length ${MAX_TOOLS}, but got an array with length ${value.length} instead.`,
      "tools",
      "array_above_max_length",
    );
  }
  const names = new Set<string>();
  return value.map((tool, i) => {
    const at = `tools[${i}]`;
    if (!isObject(tool)) throw invalidType(at, "an object", tool);
    if (tool.type === undefined) throw missing(`${at}.type`);
    if (tool.type !== "function") throw invalidValue(`${at}.type`, tool.type, ["function"]);
    if (!isObject(tool.function)) throw missing(`${at}.function`);
    const fn = tool.function;
    if (fn.name === undefined) throw missing(`${at}.function.name`);
    if (typeof fn.name !== "string") throw invalidType(`${at}.function.name`, "a string", fn.name);
    if (!TOOL_NAME.test(fn.name)) {
      throw new InvalidRequest(
        `Invalid '${at}.function.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.`,
        `${at}.function.name`,
        "invalid_value",
      );
    }
    if (names.has(fn.name)) {
      throw new InvalidRequest(
        `Invalid 'tools': duplicate function name '${fn.name}'.`,
        `${at}.function.name`,
        null,
      );
    }
    names.add(fn.name);
    if (fn.description !== undefined && typeof fn.description !== "string") {
      throw invalidType(`${at}.function.description`, "a string", fn.description);
    }
    if (fn.parameters !== undefined && !isObject(fn.parameters)) {
      throw invalidType(`${at}.function.parameters`, "an object", fn.parameters);
    }
    return {
      type: "function",
      function: {
        name: fn.name,
        ...(fn.description !== undefined ? { description: fn.description as string } : {}),
        ...(fn.parameters !== undefined ? { parameters: fn.parameters as JsonSchema } : {}),
        ...(typeof fn.strict === "boolean" ? { strict: fn.strict } : {}),
      },
    };
  });
}

function toolChoice(value: unknown, offered: Tool[]): ToolChoice {
  if (value === undefined || value === null) return "auto";
  if (offered.length === 0) {
    throw new InvalidRequest(
      "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
      "tool_choice",
      null,
    );
  }
  if (value === "none" || value === "auto" || value === "required") return value;
  if (typeof value === "string") throw invalidValue("tool_choice", value, ["none", "auto", "required"]);
  if (!isObject(value) || value.type !== "function" || !isObject(value.function)) {
    throw invalidType("tool_choice", `one of "none", "auto", "required" or a function choice`, value);
  }
  const name = value.function.name;
  if (typeof name !== "string") throw missing("tool_choice.function.name");
  if (!offered.some((t) => t.function.name === name)) {
    throw new InvalidRequest(
      `Invalid value for 'tool_choice': function '${name}' is not one of the provided 'tools'.`,
      "tool_choice.function.name",
      null,
    );
  }
  return { type: "function", function: { name } };
}

function stop(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const list = typeof value === "string" ? [value] : value;
  if (!Array.isArray(list) || !list.every((s) => typeof s === "string")) {
    throw invalidType("stop", "one of a string or array of strings", value);
  }
  if (list.length > 4) {
    throw new InvalidRequest(
      `Invalid 'stop': array too long. Expected an array with maximum length 4, but got an array with length ${list.length} instead.`,
      "stop",
      "array_above_max_length",
    );
  }
  return list.filter((s) => s !== "");
}

function responseFormat(value: unknown): ChatRequest["responseFormat"] {
  if (value === undefined || value === null) return { type: "text" };
  if (!isObject(value)) throw invalidType("response_format", "an object", value);
  if (value.type === "text" || value.type === "json_object") return { type: value.type };
  if (value.type === "json_schema") {
    const spec = value.json_schema;
    if (!isObject(spec)) throw missing("response_format.json_schema");
    if (typeof spec.name !== "string") throw missing("response_format.json_schema.name");
    return { type: "json_schema", schema: (isObject(spec.schema) ? spec.schema : {}) as JsonSchema };
  }
  throw invalidValue("response_format.type", value.type, ["text", "json_object", "json_schema"]);
}

/** The request as the server uses it, or throws InvalidRequest. `model` is checked by the caller. */
export function validateChatRequest(body: unknown): ChatRequest {
  if (!isObject(body)) throw new InvalidRequest("The request body must be a JSON object.");
  for (const key of Object.keys(body)) {
    if (!KNOWN_PARAMETERS.has(key))
      throw new InvalidRequest(`Unrecognized request argument supplied: ${key}`);
    if (UNSUPPORTED.has(key) && body[key] !== undefined && body[key] !== null) {
      throw new InvalidRequest(
        `The local OpenAI server does not support '${key}'.`,
        key,
        "unsupported_parameter",
      );
    }
  }
  if (body.model === undefined || body.model === null || body.model === "") {
    throw new InvalidRequest("you must provide a model parameter");
  }
  if (typeof body.model !== "string") throw invalidType("model", "a string", body.model);
  if (body.messages === undefined) throw missing("messages");
  if (!Array.isArray(body.messages)) throw invalidType("messages", "an array of objects", body.messages);
  if (body.messages.length === 0) {
    throw new InvalidRequest(
      "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
      "messages",
      "empty_array",
    );
  }
  const messages = body.messages.map(message);
  checkToolSequence(messages);
  const offered = tools(body.tools);
  const choice = toolChoice(body.tool_choice, offered);

  numberIn(body, "temperature", 0, 2);
  numberIn(body, "top_p", 0, 1);
  numberIn(body, "frequency_penalty", -2, 2);
  numberIn(body, "presence_penalty", -2, 2);
  numberIn(body, "top_logprobs", 0, 20, true);
  numberIn(body, "seed", Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, true);
  const n = numberIn(body, "n", 1, 128, true) ?? 1;
  const maxTokens = numberIn(body, "max_tokens", 1, Number.MAX_SAFE_INTEGER, true);
  const maxCompletionTokens = numberIn(body, "max_completion_tokens", 1, Number.MAX_SAFE_INTEGER, true);
  if (maxTokens !== undefined && maxCompletionTokens !== undefined) {
    throw new InvalidRequest(
      "max_tokens and max_completion_tokens cannot both be set; use max_completion_tokens.",
      "max_tokens",
      "invalid_request",
    );
  }
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== "boolean") {
    throw invalidType("stream", "a boolean", body.stream);
  }
  const stream = body.stream === true;
  if (body.stream_options !== undefined && body.stream_options !== null) {
    if (!stream) {
      throw new InvalidRequest(
        "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
        "stream_options",
        "invalid_value",
      );
    }
    if (!isObject(body.stream_options)) throw invalidType("stream_options", "an object", body.stream_options);
  }
  return {
    model: body.model,
    messages,
    tools: offered,
    toolChoice: choice,
    n,
    maxTokens: maxCompletionTokens ?? maxTokens ?? null,
    stop: stop(body.stop),
    stream,
    includeUsage: stream && isObject(body.stream_options) && body.stream_options.include_usage === true,
    responseFormat: responseFormat(body.response_format),
  };
}
