/** Shapes of the local OpenAI server: the part of the Chat Completions API it speaks, and its knobs. */

/** OpenAI's error body: `{ error: { message, type, param, code } }`. */
export type OpenAIError = {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
};

/** An answer before it is written: status, JSON body and extra headers. */
export type Answer = { status: number; body: unknown; headers?: Record<string, string> };

export type ContentPart =
  | { type: "text"; text: string }
  | { type: "image_url"; image_url: { url: string; detail?: string } }
  | { type: "input_audio"; input_audio: { data: string; format: string } }
  | { type: "file"; file: Record<string, unknown> }
  | { type: "refusal"; refusal: string };

export type ToolCall = {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
};

/** A message as validated: content is kept as sent (a string, parts, or null). */
export type Message =
  | { role: "system" | "developer"; content: string | ContentPart[]; name?: string }
  | { role: "user"; content: string | ContentPart[]; name?: string }
  | {
      role: "assistant";
      content: string | ContentPart[] | null;
      name?: string;
      tool_calls?: ToolCall[];
      refusal?: string | null;
    }
  | { role: "tool"; content: string | ContentPart[]; tool_call_id: string };

export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  items?: JsonSchema;
  minimum?: number;
  default?: unknown;
  description?: string;
};

export type Tool = {
  type: "function";
  function: { name: string; description?: string; parameters?: JsonSchema; strict?: boolean | null };
};

export type ToolChoice = "none" | "auto" | "required" | { type: "function"; function: { name: string } };

/** A chat completion request after validation, with the defaults OpenAI applies. */
export type ChatRequest = {
  model: string;
  messages: Message[];
  tools: Tool[];
  toolChoice: ToolChoice;
  n: number;
  /** max_completion_tokens, or the deprecated max_tokens. */
  maxTokens: number | null;
  stop: string[];
  stream: boolean;
  includeUsage: boolean;
  responseFormat: { type: "text" } | { type: "json_object" } | { type: "json_schema"; schema: JsonSchema };
};

/** What the model says: text, or calls of the offered tools. */
export type Reply =
  { kind: "text"; content: string } | { kind: "tool_calls"; calls: { name: string; arguments: string }[] };

export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter";

/** A response a test queued for a model, answered instead of the scripted brain's. */
export type ScriptedResponse = {
  /** The text answer (may be empty); ignored when toolCalls are given. */
  content?: string | null;
  /** Tool calls to answer with; `arguments` may be an object (serialised) or a JSON string. */
  toolCalls?: { id?: string; name: string; arguments?: string | Record<string, unknown> }[];
  /** Default: "tool_calls" with tool calls, else "stop". */
  finishReason?: FinishReason;
  /** Overrides the estimated counts; total_tokens is their sum. */
  usage?: { prompt_tokens?: number; completion_tokens?: number };
  /** A refusal instead of content (content then is null). */
  refusal?: string;
};

/** One injected failure: the next `count` requests answer `status` in OpenAI's error shape. */
export type InjectedFailure = {
  status: number;
  /** How many requests it fails (default 1). */
  count?: number;
  /** Seconds for the `retry-after` header (fractions allowed; the SDK honours them). */
  retryAfter?: number;
  code?: string | null;
  type?: string;
  message?: string;
};

/** The fault knobs of one model (or of every model, under "*"). */
export type ModelFaults = {
  failures: (InjectedFailure & { count: number })[];
  /** Milliseconds added before answering each valid request. */
  latencyMs: number;
  /** The next N answers are cut-off JSON (status 200). */
  malformed: number;
  /** The next N answers are cut to half their tokens with finish_reason "length". */
  length: number;
  /** A sliding-window limit on requests; over it, 429 `rate_limit_exceeded` with `retry-after`. */
  rateLimit: { requests: number; windowMs: number } | null;
};

/** A request the server received, as `GET /_control/requests` shows it. */
export type RecordedRequest = {
  seq: number;
  at: string;
  method: string;
  path: string;
  status: number;
  model: string | null;
  stream: boolean;
  messages: unknown;
  tools: unknown;
  toolChoice: unknown;
  /** The whole JSON body (or the raw text when it was not JSON). */
  body: unknown;
  /** Request headers; `authorization` is masked to its last four characters. */
  headers: Record<string, string>;
  /** Who answered: the scripted brain, a queued script, an injected fault, or validation. */
  source: "brain" | "script" | "fault" | "error" | "models";
  /** The JSON answered (a streamed answer as the completion it adds up to; cut-off JSON as text). */
  response: unknown;
};
