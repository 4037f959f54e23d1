/**
 * The local OpenAI server speaks the Chat Completions API to the real `openai` SDK: answers with
 * usage, tool calls and their round trip, scripted responses, OpenAI's errors, the fault knobs
 * (429 with retry-after and the SDK's retries, 5xx, rate limits, latency against the SDK's
 * timeout, cut-off JSON, "length"), streaming and the request log; and `npm run dev` starts it
 * only when OPENAI_LOCAL=1.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import OpenAI, {
  APIConnectionTimeoutError,
  APIError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  RateLimitError,
} from "openai";
import type { ChatCompletionMessageParam, ChatCompletionTool } from "openai/resources/chat/completions";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  startOpenAIServer,
  type ModelFaults,
  type OpenAIServer,
  type RecordedRequest,
} from "../../local/openai-server/server";
import type { OpenAIError as OpenAIErrorBody } from "../../local/openai-server/types";
import { freePort } from "../e2e/stack";
import { removeDir, ROOT, tempDir } from "./harness";

const KEY = "sk-local-test-0123456789abcdef";

/** The documented estimate: one token per four characters, rounded up. */
const tokens = (text: string) => Math.ceil([...text].length / 4);
/** 3 to prime the reply, and per message 3 plus its text. */
const promptTokens = (texts: string[]) => 3 + texts.reduce((sum, t) => sum + 3 + tokens(t), 0);

const TOOLS: ChatCompletionTool[] = [
  {
    type: "function",
    function: {
      name: "search_knowledge",
      description: "Search the business's knowledge base",
      parameters: { type: "object", properties: { query: { type: "string" } }, required: ["query"] },
    },
  },
  {
    type: "function",
    function: {
      name: "handoff_to_human",
      description: "Hand the conversation to a person",
      parameters: { type: "object", properties: { reason: { type: "string" } }, required: ["reason"] },
    },
  },
  {
    type: "function",
    function: {
      name: "lookup_contact",
      description: "The customer's details",
      parameters: { type: "object", properties: {} },
    },
  },
];

const SYSTEM =
  "You are the assistant of Acme Shoes. Our shop opens at 9:00 and closes at 18:00 on weekdays. Delivery to Spain takes two working days. Always answer briefly.";

let server: OpenAIServer;
beforeAll(async () => {
  server = await startOpenAIServer();
});
afterAll(async () => {
  await server?.close();
});
beforeEach(async () => {
  expect((await control("/_control/reset", {})).status).toBe(200);
});

function sdk(options: ConstructorParameters<typeof OpenAI>[0] = {}) {
  return new OpenAI({ apiKey: KEY, baseURL: server.baseURL, maxRetries: 0, ...options });
}

/** What the control endpoints answer, loosely: each test reads the fields its endpoint has. */
type ControlAnswer = {
  error: OpenAIErrorBody;
  faults: ModelFaults;
  scripted: Record<string, number>;
  requests: RecordedRequest[];
} & Record<string, unknown>;

async function control(route: string, body?: unknown): Promise<{ status: number; json: ControlAnswer }> {
  const res = await fetch(`${server.url}${route}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as ControlAnswer };
}

async function recorded(query = ""): Promise<RecordedRequest[]> {
  const { status, json } = await control(`/_control/requests${query}`);
  expect(status).toBe(200);
  return json.requests;
}

/** The error a request fails with (an APIError unless the answer could not be read at all). */
async function failure(promise: Promise<unknown>): Promise<APIError & { headers: Headers }> {
  try {
    await promise;
  } catch (error) {
    return error as APIError & { headers: Headers };
  }
  throw new Error("expected the request to fail");
}

describe("answers", () => {
  it("answers from the system prompt, with usage counted from the text, the same every time", async () => {
    const user = "What time does the shop open?";
    const ask = () =>
      sdk().chat.completions.create({
        model: "gpt-4o-mini",
        messages: [
          { role: "system", content: SYSTEM },
          { role: "user", content: user },
        ],
      });
    const first = await ask();
    expect(first).toMatchObject({ object: "chat.completion", model: "gpt-4o-mini" });
    expect(first.id).toMatch(/^chatcmpl-\w+$/);
    expect(Math.abs(first.created - Date.now() / 1000)).toBeLessThan(60);
    const [choice] = first.choices;
    expect(choice.finish_reason).toBe("stop");
    expect(choice.message.role).toBe("assistant");
    expect(choice.message.tool_calls).toBeUndefined();
    const content = choice.message.content!;
    expect(content).toBe("Our shop opens at 9:00 and closes at 18:00 on weekdays.");
    expect(first.usage).toMatchObject({
      prompt_tokens: promptTokens([SYSTEM, user]),
      completion_tokens: tokens(content),
      total_tokens: promptTokens([SYSTEM, user]) + tokens(content),
    });

    const again = await ask();
    expect(again.id).not.toBe(first.id);
    expect(again.choices[0].message.content).toBe(content);
    expect(again.usage).toEqual(first.usage);

    const other = await sdk().chat.completions.create({
      model: "gpt-4o",
      messages: [
        { role: "system", content: SYSTEM },
        { role: "user", content: "How long is delivery to Spain?" },
      ],
    });
    expect(other.choices[0].message.content).toBe("Delivery to Spain takes two working days.");
  });

  it("greets as the persona and admits what it does not know", async () => {
    const hello = await sdk().chat.completions.create({
      model: "gpt-4o-mini",
      messages: [
        { role: "system", content: SYSTEM },
        { role: "user", content: "hello!" },
      ],
    });
    expect(hello.choices[0].message.content).toBe(
      "Hello! I'm the assistant of Acme Shoes. How can I help you today?",
    );
    const unknown = await sdk().chat.completions.create({
      model: "gpt-4o-mini",
      messages: [
        { role: "system", content: SYSTEM },
        { role: "user", content: "Do you sell umbrellas?" },
      ],
    });
    expect(unknown.choices[0].message.content).toContain('"Do you sell umbrellas?"');
    expect(unknown.choices[0].message.content).toMatch(/connect you with a person/);
  });

  it("lists its models and answers 404 model_not_found for others", async () => {
    const list = await sdk().models.list();
    expect(list.data.map((m) => m.id)).toEqual(["gpt-4o-mini", "gpt-4.1-mini", "gpt-4o"]);
    expect(list.data[0]).toMatchObject({ object: "model", owned_by: "system" });
    expect(await sdk().models.retrieve("gpt-4o")).toMatchObject({ id: "gpt-4o", object: "model" });
    expect(await failure(sdk().models.retrieve("gpt-9"))).toBeInstanceOf(NotFoundError);

    const error = await failure(
      sdk().chat.completions.create({ model: "gpt-9-turbo", messages: [{ role: "user", content: "hi" }] }),
    );
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ status: 404, code: "model_not_found", type: "invalid_request_error" });
    expect(error.message).toContain("The model `gpt-9-turbo` does not exist");
  });

  it("serves the models it is started with", async () => {
    const custom = await startOpenAIServer({ models: ["openai/gpt-4o-mini", "my-deployment"] });
    try {
      const client = new OpenAI({ apiKey: KEY, baseURL: custom.baseURL, maxRetries: 0 });
      expect((await client.models.list()).data.map((m) => m.id)).toEqual([
        "openai/gpt-4o-mini",
        "my-deployment",
      ]);
      const answer = await client.chat.completions.create({
        model: "my-deployment",
        messages: [{ role: "user", content: "hi" }],
      });
      expect(answer.model).toBe("my-deployment");
      expect(
        await failure(
          client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }] }),
        ),
      ).toBeInstanceOf(NotFoundError);
    } finally {
      await custom.close();
    }
  });
});

describe("tools", () => {
  /** One assistant turn: the model's tool call, our tool's result, the model's answer. */
  async function roundTrip(user: string, result: (args: Record<string, unknown>) => unknown) {
    const client = sdk();
    const messages: ChatCompletionMessageParam[] = [
      { role: "system", content: SYSTEM },
      { role: "user", content: user },
    ];
    const first = await client.chat.completions.create({ model: "gpt-4.1-mini", messages, tools: TOOLS });
    const [choice] = first.choices;
    expect(choice.finish_reason).toBe("tool_calls");
    expect(choice.message.content).toBeNull();
    const [call] = choice.message.tool_calls!;
    expect(choice.message.tool_calls).toHaveLength(1);
    expect(call.id).toMatch(/^call_\w+$/);
    expect(call.type).toBe("function");
    if (call.type !== "function") throw new Error("not a function call");
    const args = JSON.parse(call.function.arguments) as Record<string, unknown>;
    expect(first.usage!.completion_tokens).toBe(tokens(call.function.name) + tokens(call.function.arguments));
    messages.push(choice.message, {
      role: "tool",
      tool_call_id: call.id,
      content: JSON.stringify(result(args)),
    });
    const second = await client.chat.completions.create({ model: "gpt-4.1-mini", messages, tools: TOOLS });
    expect(second.choices[0].finish_reason).toBe("stop");
    expect(second.choices[0].message.tool_calls).toBeUndefined();
    expect(second.usage!.prompt_tokens).toBeGreaterThan(first.usage!.prompt_tokens);
    return { name: call.function.name, args, answer: second.choices[0].message.content! };
  }

  it("a question calls search_knowledge with the user's text and is answered from the top hit", async () => {
    const question = "Can I return shoes that do not fit?";
    const knowledge = {
      results: [
        {
          title: "Returns",
          body: "Returns are free within 30 days of delivery. Bring the receipt or the order number. Refunds reach your card in five days.",
          score: 0.92,
        },
        { title: "Delivery", body: "We deliver in two days.", score: 0.2 },
      ],
    };
    const { name, args, answer } = await roundTrip(question, () => knowledge);
    expect(name).toBe("search_knowledge");
    expect(args).toEqual({ query: question });
    expect(answer).toBe(
      "Returns are free within 30 days of delivery. Bring the receipt or the order number.",
    );

    const nothing = await roundTrip("Do you repair bicycles?", () => ({ results: [] }));
    expect(nothing.answer).toMatch(/couldn't find anything about that/);
  });

  it("asking for a person calls handoff_to_human, then says a person will take over", async () => {
    const { name, args, answer } = await roundTrip("I want to talk to a real person please", () => ({
      ok: true,
    }));
    expect(name).toBe("handoff_to_human");
    expect(args.reason).toContain("I want to talk to a real person please");
    expect(answer).toMatch(/a person will reply here shortly/);

    const spanish = await roundTrip("Quiero hablar con una persona", () => ({ ok: true }));
    expect(spanish.name).toBe("handoff_to_human");
    const refused = await roundTrip("Can I speak to an agent?", () => ({
      ok: false,
      error: "nobody on shift",
    }));
    expect(refused.answer).toMatch(/couldn't do that just now/);
  });

  it("'who am I' calls lookup_contact and answers with the contact's details", async () => {
    const contact = { name: "Marta Ruiz", phone: "+34 600 111 222", email: "marta@example.com" };
    const { name, args, answer } = await roundTrip("Who am I? What are my details?", () => ({ contact }));
    expect(name).toBe("lookup_contact");
    expect(args).toEqual({});
    expect(answer).toBe("You're Marta Ruiz, and we have +34 600 111 222 and marta@example.com on file.");
  });

  it("fills the arguments a tool's schema requires, and honours tool_choice", async () => {
    const tools: ChatCompletionTool[] = [
      {
        type: "function",
        function: {
          name: "search_faq",
          parameters: {
            type: "object",
            properties: { question: { type: "string" }, limit: { type: "integer", minimum: 1 } },
            required: ["question", "limit"],
          },
        },
      },
      {
        type: "function",
        function: { name: "lookup_contact", parameters: { type: "object", properties: {} } },
      },
    ];
    const ask = (content: string, tool_choice?: OpenAI.Chat.ChatCompletionToolChoiceOption) =>
      sdk().chat.completions.create({
        model: "gpt-4o-mini",
        messages: [{ role: "user", content }],
        tools,
        ...(tool_choice ? { tool_choice } : {}),
      });
    const call = (await ask("Where is my order?")).choices[0].message.tool_calls![0];
    expect(call.type === "function" && call.function).toEqual({
      name: "search_faq",
      arguments: JSON.stringify({ question: "Where is my order?", limit: 1 }),
    });
    // A greeting needs no tool; "none" forbids them; "required" and a named function demand one.
    expect((await ask("hi")).choices[0].message.tool_calls).toBeUndefined();
    const none = await ask("Where is my order?", "none");
    expect(none.choices[0].finish_reason).toBe("stop");
    expect(none.choices[0].message.tool_calls).toBeUndefined();
    const required = await ask("hi", "required");
    expect(required.choices[0].finish_reason).toBe("tool_calls");
    const named = await ask("Where is my order?", { type: "function", function: { name: "lookup_contact" } });
    const namedCall = named.choices[0].message.tool_calls![0];
    expect(namedCall.type === "function" && namedCall.function.name).toBe("lookup_contact");
  });
});

describe("scripted responses", () => {
  it("answers queued responses in order for their model, before the scripted brain", async () => {
    const queued = await control("/_control/script", {
      model: "gpt-4o-mini",
      responses: [
        { content: "Exactly this.", usage: { prompt_tokens: 1234, completion_tokens: 56 } },
        { toolCalls: [{ id: "call_fixed", name: "handoff_to_human", arguments: { reason: "scripted" } }] },
      ],
    });
    expect(queued).toEqual({ status: 200, json: { model: "gpt-4o-mini", queued: 2 } });
    const ask = (model: string) =>
      sdk().chat.completions.create({ model, messages: [{ role: "user", content: "hello" }], tools: TOOLS });

    // Another model is not affected.
    expect((await ask("gpt-4o")).choices[0].message.content).toBe("Hello! How can I help you today?");
    const first = await ask("gpt-4o-mini");
    expect(first.choices[0]).toMatchObject({ finish_reason: "stop", message: { content: "Exactly this." } });
    expect(first.usage).toMatchObject({ prompt_tokens: 1234, completion_tokens: 56, total_tokens: 1290 });
    const second = await ask("gpt-4o-mini");
    expect(second.choices[0].finish_reason).toBe("tool_calls");
    expect(second.choices[0].message.tool_calls).toEqual([
      {
        id: "call_fixed",
        type: "function",
        function: { name: "handoff_to_human", arguments: '{"reason":"scripted"}' },
      },
    ]);
    // The queue is empty again: the brain answers.
    expect((await ask("gpt-4o-mini")).choices[0].message.content).toBe("Hello! How can I help you today?");

    // "*" serves any model; a finish reason and refusals can be scripted too.
    await control("/_control/script", {
      responses: [{ content: "cut", finishReason: "length" }, { refusal: "I can't help with that." }],
    });
    const cut = await ask("gpt-4o");
    expect(cut.choices[0]).toMatchObject({ finish_reason: "length", message: { content: "cut" } });
    const refusal = await ask("gpt-4.1-mini");
    expect(refusal.choices[0].message).toMatchObject({ content: null, refusal: "I can't help with that." });
    expect((await recorded()).map((r) => r.source)).toEqual([
      "brain",
      "script",
      "script",
      "brain",
      "script",
      "script",
    ]);
  });

  it("refuses malformed scripts and unknown models with 400", async () => {
    for (const body of [
      { model: "gpt-9", responses: [{ content: "x" }] },
      { responses: [] },
      { responses: [{}] },
      { responses: [{ toolCalls: [{ arguments: {} }] }] },
      { responses: [{ content: "x", finishReason: "maybe" }] },
    ]) {
      const { status, json } = await control("/_control/script", body);
      expect(status, JSON.stringify(body)).toBe(400);
      expect(json.error.message).toBeTruthy();
    }
    expect((await control("/_control/state")).json.scripted).toEqual({});
  });
});

describe("errors", () => {
  it("refuses a wrong key with 401 invalid_api_key, without echoing it, and a missing key", async () => {
    const locked = await startOpenAIServer({ apiKeys: ["right-key-0000"] });
    try {
      const wrong = "sk-wrong-key-that-is-secret-9876";
      const error = await failure(
        new OpenAI({ apiKey: wrong, baseURL: locked.baseURL, maxRetries: 0 }).chat.completions.create({
          model: "gpt-4o-mini",
          messages: [{ role: "user", content: "hi" }],
        }),
      );
      expect(error).toBeInstanceOf(AuthenticationError);
      expect(error).toMatchObject({ status: 401, code: "invalid_api_key", type: "invalid_request_error" });
      expect(error.message).toContain("Incorrect API key provided: sk-");
      expect(error.message).toContain("9876");
      expect(error.message).not.toContain(wrong);

      const raw = await fetch(`${locked.baseURL}/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
      });
      expect(raw.status).toBe(401);
      expect(await raw.json()).toEqual({
        error: {
          message: expect.stringContaining("You didn't provide an API key"),
          type: "invalid_request_error",
          param: null,
          code: null,
        },
      });
      const ok = await new OpenAI({ apiKey: "right-key-0000", baseURL: locked.baseURL }).models.list();
      expect(ok.data.length).toBe(3);
      expect(JSON.stringify(locked.requests())).not.toContain(wrong);
    } finally {
      await locked.close();
    }
    // By default any non-empty key is accepted.
    expect((await sdk({ apiKey: "anything" }).models.list()).data).toHaveLength(3);
  });

  it("rejects invalid requests with OpenAI's 400s", async () => {
    const user = { role: "user", content: "hi" };
    const call = { id: "call_1", type: "function", function: { name: "search_knowledge", arguments: "{}" } };
    const cases: [Record<string, unknown>, string | null, string | null, RegExp][] = [
      [{ messages: [user] }, null, null, /you must provide a model parameter/],
      [
        { model: "gpt-4o-mini" },
        "messages",
        "missing_required_parameter",
        /Missing required parameter: 'messages'/,
      ],
      [{ model: "gpt-4o-mini", messages: [] }, "messages", "empty_array", /empty array/],
      [{ model: "gpt-4o-mini", messages: "hi" }, "messages", "invalid_type", /expected an array/],
      [
        { model: "gpt-4o-mini", messages: [{ role: "bot", content: "hi" }] },
        "messages[0].role",
        "invalid_value",
        /Invalid value: 'bot'/,
      ],
      [
        { model: "gpt-4o-mini", messages: [{ role: "user" }] },
        "messages[0].content",
        "missing_required_parameter",
        /Missing required parameter/,
      ],
      [
        { model: "gpt-4o-mini", messages: [user, { role: "tool", tool_call_id: "call_1", content: "{}" }] },
        "messages[1].role",
        null,
        /must be a response to a preceding message with 'tool_calls'/,
      ],
      [
        {
          model: "gpt-4o-mini",
          messages: [
            user,
            { role: "assistant", content: null, tool_calls: [call] },
            { role: "tool", tool_call_id: "call_2", content: "{}" },
          ],
        },
        "messages[2].tool_call_id",
        null,
        /'call_2' not found/,
      ],
      [
        {
          model: "gpt-4o-mini",
          messages: [user, { role: "assistant", content: null, tool_calls: [call] }, user],
        },
        "messages[1].role",
        null,
        /did not have response messages: call_1/,
      ],
      [
        { model: "gpt-4o-mini", messages: [user, { role: "assistant", content: null }] },
        "messages[1].content",
        null,
        /must have 'content' or 'tool_calls'/,
      ],
      [
        { model: "gpt-4o-mini", messages: [user], tool_choice: "auto" },
        "tool_choice",
        null,
        /only allowed when 'tools'/,
      ],
      [
        {
          model: "gpt-4o-mini",
          messages: [user],
          tools: [{ type: "function", function: { name: "bad name" } }],
        },
        "tools[0].function.name",
        "invalid_value",
        /does not match pattern/,
      ],
      [
        { model: "gpt-4o-mini", messages: [user], temperature: 3 },
        "temperature",
        "decimal_above_max_value",
        /Expected a value <= 2/,
      ],
      [
        { model: "gpt-4o-mini", messages: [user], max_tokens: 0 },
        "max_tokens",
        "integer_below_min_value",
        />= 1/,
      ],
      [
        { model: "gpt-4o-mini", messages: [user], temprature: 1 },
        null,
        null,
        /Unrecognized request argument supplied: temprature/,
      ],
      [
        { model: "gpt-4o-mini", messages: [user], response_format: { type: "json_object" } },
        "messages",
        null,
        /must contain the word 'json'/,
      ],
    ];
    for (const [body, param, code, message] of cases) {
      const error = await failure(sdk().chat.completions.create(body as never));
      expect(error, JSON.stringify(body)).toBeInstanceOf(BadRequestError);
      expect(error.error, JSON.stringify(body)).toEqual({
        message: expect.stringMatching(message),
        type: "invalid_request_error",
        param,
        code,
      });
    }
    const log = await recorded();
    expect(log).toHaveLength(cases.length);
    expect(log.every((r) => r.status === 400 && r.source === "error")).toBe(true);

    const notJson = await fetch(`${server.baseURL}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: "{not json",
    });
    expect(notJson.status).toBe(400);
    expect((await notJson.json()).error.message).toMatch(/could not parse the JSON body/);
    const wrongPath = await fetch(`${server.baseURL}/embeddings`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(wrongPath.status).toBe(404);
    expect((await wrongPath.json()).error.message).toBe("Invalid URL (POST /v1/embeddings)");
  });
});

describe("fault knobs", () => {
  const hi = { model: "gpt-4o-mini", messages: [{ role: "user" as const, content: "hello" }] };

  it("an injected 429 carries retry-after; without retries the SDK reports it, with maxRetries 2 it retries and succeeds", async () => {
    const set = await control("/_control/faults", {
      model: "gpt-4o-mini",
      fail: { status: 429, retryAfter: 0.05 },
    });
    expect(set.status).toBe(200);
    expect(set.json.faults.failures).toEqual([{ status: 429, count: 1, retryAfter: 0.05 }]);
    const error = await failure(sdk().chat.completions.create(hi));
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ status: 429, code: "rate_limit_exceeded", type: "requests" });
    expect(error.headers.get("retry-after")).toBe("0.05");
    expect((await sdk().chat.completions.create(hi)).choices[0].finish_reason).toBe("stop");

    await control("/_control/faults", { model: "gpt-4o-mini", fail: { status: 429, retryAfter: 0.05 } });
    const before = (await recorded()).length;
    const answer = await sdk({ maxRetries: 2 }).chat.completions.create(hi);
    expect(answer.choices[0].message.content).toBe("Hello! How can I help you today?");
    const attempts = (await recorded()).slice(before);
    expect(attempts.map((r) => [r.status, r.source])).toEqual([
      [429, "fault"],
      [200, "brain"],
    ]);
    expect(attempts[1].headers["x-stainless-retry-count"]).toBe("1");
    expect(Date.parse(attempts[1].at) - Date.parse(attempts[0].at)).toBeGreaterThanOrEqual(40);
  });

  it("fails the next requests with 500 and 503 in order, then recovers; quota errors are 429 insufficient_quota", async () => {
    await control("/_control/faults", { fail: [{ status: 500 }, { status: 503, count: 2 }] });
    const first = await failure(sdk().chat.completions.create(hi));
    expect(first).toBeInstanceOf(InternalServerError);
    expect(first.error).toEqual({
      message: "The server had an error while processing your request. Sorry about that!",
      type: "server_error",
      param: null,
      code: null,
    });
    for (let i = 0; i < 2; i++) {
      const overloaded = await failure(sdk().chat.completions.create({ ...hi, model: "gpt-4o" }));
      expect(overloaded).toMatchObject({ status: 503, type: "server_error" });
    }
    expect((await sdk().chat.completions.create(hi)).choices).toHaveLength(1);

    await control("/_control/faults", { model: "gpt-4o", fail: { status: 429, code: "insufficient_quota" } });
    const quota = await failure(sdk().chat.completions.create({ ...hi, model: "gpt-4o" }));
    expect(quota).toMatchObject({ status: 429, code: "insufficient_quota", type: "insufficient_quota" });
    expect(quota.message).toMatch(/exceeded your current quota/);
  });

  it("a rate limit answers 429 rate_limit_exceeded past N requests in its window, for its model only", async () => {
    await control("/_control/faults", { model: "gpt-4o", rateLimit: { requests: 2, windowMs: 60_000 } });
    const ask = (model = "gpt-4o") => sdk().chat.completions.create({ ...hi, model });
    const ok = await ask().withResponse();
    expect(ok.response.headers.get("x-ratelimit-limit-requests")).toBe("2");
    expect(ok.response.headers.get("x-ratelimit-remaining-requests")).toBe("1");
    await ask();
    const limited = await failure(ask());
    expect(limited).toBeInstanceOf(RateLimitError);
    expect(limited.code).toBe("rate_limit_exceeded");
    expect(limited.message).toMatch(/Limit 2, Used 2, Requested 1/);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(59);
    expect((await ask("gpt-4o-mini")).choices).toHaveLength(1);
    await control("/_control/faults", { model: "gpt-4o", rateLimit: null });
    expect((await ask()).choices).toHaveLength(1);

    await control("/_control/faults", { model: "gpt-4o", rateLimit: { requests: 1, windowMs: 1_000 } });
    await ask();
    expect(await failure(ask())).toBeInstanceOf(RateLimitError);
    await new Promise((r) => setTimeout(r, 1_100));
    expect((await ask()).choices).toHaveLength(1);
  });

  it("latency beyond the SDK's timeout is an APIConnectionTimeoutError; within it the answer arrives late", async () => {
    await control("/_control/faults", { model: "gpt-4o-mini", latencyMs: 1_500 });
    const started = Date.now();
    const error = await failure(sdk({ timeout: 100 }).chat.completions.create(hi));
    expect(error).toBeInstanceOf(APIConnectionTimeoutError);
    expect(Date.now() - started).toBeLessThan(1_400);
    const slowStart = Date.now();
    const slow = await sdk({ timeout: 5_000 }).chat.completions.create(hi);
    expect(Date.now() - slowStart).toBeGreaterThanOrEqual(1_490);
    expect(slow.choices[0].message.content).toBeTruthy();
    // Other models are not slowed down, and 0 removes the delay.
    const fastStart = Date.now();
    await sdk({ timeout: 1_000 }).chat.completions.create({ ...hi, model: "gpt-4o" });
    await control("/_control/faults", { model: "gpt-4o-mini", latencyMs: 0 });
    await sdk({ timeout: 1_000 }).chat.completions.create(hi);
    expect(Date.now() - fastStart).toBeLessThan(1_400);
  });

  it("cut-off JSON once: the SDK cannot parse it, the next answer is whole", async () => {
    await control("/_control/faults", { malformed: true });
    const error = await failure(sdk().chat.completions.create(hi));
    expect(error).toBeInstanceOf(SyntaxError);
    const [cut] = await recorded();
    expect(cut).toMatchObject({ status: 200, source: "fault" });
    expect(typeof cut.response).toBe("string");
    expect((await sdk().chat.completions.create(hi)).choices[0].finish_reason).toBe("stop");
  });

  it("finish_reason length: from the knob (half the tokens) and from max_completion_tokens", async () => {
    const ask = (extra: Record<string, unknown> = {}) =>
      sdk().chat.completions.create({
        model: "gpt-4o-mini",
        messages: [
          { role: "system", content: SYSTEM },
          { role: "user", content: "When does the shop open?" },
        ],
        ...extra,
      });
    const whole = (await ask()).choices[0].message.content!;
    await control("/_control/faults", { model: "gpt-4o-mini", length: 1 });
    const cut = await ask();
    expect(cut.choices[0].finish_reason).toBe("length");
    expect(cut.usage!.completion_tokens).toBe(Math.floor(tokens(whole) / 2));
    expect(whole.startsWith(cut.choices[0].message.content!)).toBe(true);
    expect((await ask()).choices[0].finish_reason).toBe("stop");

    const limited = await ask({ max_completion_tokens: 3 });
    expect(limited.choices[0]).toMatchObject({
      finish_reason: "length",
      message: { content: whole.slice(0, 12) },
    });
    expect(limited.usage!.completion_tokens).toBe(3);
    const stopped = await ask({ stop: [" and "] });
    expect(stopped.choices[0].message.content).toBe(whole.split(" and ")[0]);
  });

  it("refuses bad knobs with 400 and changes nothing", async () => {
    for (const body of [
      { model: "gpt-9", latencyMs: 10 },
      { fail: { status: 200 } },
      { fail: { status: 429, count: 0 } },
      { latencyMs: -1 },
      { rateLimit: { requests: 0 } },
      { latencyMs: 5, malformed: "often" },
    ]) {
      const { status, json } = await control("/_control/faults", body);
      expect(status, JSON.stringify(body)).toBe(400);
      expect(json.error.type).toBe("invalid_request_error");
    }
    expect((await control("/_control/faults")).json).toEqual({});
  });
});

describe("streaming", () => {
  it("streams chunks that add up to the same answer, with usage when asked", async () => {
    const request = {
      model: "gpt-4o-mini",
      messages: [
        { role: "system" as const, content: SYSTEM },
        { role: "user" as const, content: "How long is delivery to Spain?" },
      ],
    };
    const whole = await sdk().chat.completions.create(request);
    const stream = await sdk().chat.completions.create({
      ...request,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      expect(chunk.object).toBe("chat.completion.chunk");
      if (chunk.choices[0]?.delta.content) text += chunk.choices[0].delta.content;
      if (chunk.choices[0]?.finish_reason) finish = chunk.choices[0].finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(chunks).toBeGreaterThan(3);
    expect(text).toBe(whole.choices[0].message.content);
    expect(finish).toBe("stop");
    expect(usage).toEqual({
      prompt_tokens: whole.usage!.prompt_tokens,
      completion_tokens: whole.usage!.completion_tokens,
      total_tokens: whole.usage!.total_tokens,
    });
  });

  it("streams tool calls the SDK's stream helper assembles", async () => {
    const runner = sdk().chat.completions.stream({
      model: "gpt-4o",
      messages: [{ role: "user", content: "What are your opening hours on Saturday?" }],
      tools: TOOLS,
    });
    const final = await runner.finalChatCompletion();
    expect(final.choices[0].finish_reason).toBe("tool_calls");
    const [call] = final.choices[0].message.tool_calls!;
    expect(call.type === "function" && JSON.parse(call.function.arguments)).toEqual({
      query: "What are your opening hours on Saturday?",
    });
    const [log] = await recorded();
    expect(log).toMatchObject({ stream: true, status: 200, source: "brain" });
  });
});

describe("the request log", () => {
  it("records model, messages, tools and headers, without the key", async () => {
    await sdk().chat.completions.create({
      model: "gpt-4o",
      messages: [
        { role: "system", content: SYSTEM },
        { role: "user", content: "Where is my order?" },
      ],
      tools: TOOLS,
      tool_choice: "auto",
      user: "contact-42",
    });
    await sdk().chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "hi" }],
    });
    const all = await recorded();
    expect(all.map((r) => r.model)).toEqual(["gpt-4o", "gpt-4o-mini"]);
    const [first] = await recorded("?model=gpt-4o");
    expect(first).toMatchObject({
      method: "POST",
      path: "/v1/chat/completions",
      status: 200,
      model: "gpt-4o",
      stream: false,
      messages: [
        { role: "system", content: SYSTEM },
        { role: "user", content: "Where is my order?" },
      ],
      tools: TOOLS,
      toolChoice: "auto",
      body: expect.objectContaining({ user: "contact-42" }),
      source: "brain",
    });
    expect(first.headers["user-agent"]).toMatch(/^OpenAI\/JS 6\./);
    expect(first.headers.authorization).toBe(`Bearer ****${KEY.slice(-4)}`);
    expect(JSON.stringify(all)).not.toContain(KEY);
    expect(first.response).toMatchObject({
      object: "chat.completion",
      choices: [{ finish_reason: "tool_calls" }],
    });
    expect(await recorded(`?since=${first.seq}`)).toHaveLength(1);

    expect((await control("/_control/reset", {})).status).toBe(200);
    expect(await recorded()).toEqual([]);
  });
});

describe("the CLI", () => {
  let child: ChildProcess | null = null;
  afterEach(() => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
    child = null;
  });

  it("prints its ready line, listens on 127.0.0.1 only, sends no CORS headers, and stops on SIGTERM", async () => {
    child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        path.join(ROOT, "local/openai-server/cli.ts"),
        "--port",
        "0",
        "--keys",
        "cli-key",
        "--quiet",
      ],
      { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, OPENAI_MODELS: "" } },
    );
    let output = "";
    child.stdout!.on("data", (d) => (output += String(d)));
    child.stderr!.on("data", (d) => (output += String(d)));
    const deadline = Date.now() + 20_000;
    while (!/openai-local ready (\S+)/.test(output)) {
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`the CLI did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const url = /openai-local ready (\S+)/.exec(output)![1];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const client = new OpenAI({ apiKey: "cli-key", baseURL: `${url}/v1`, maxRetries: 0 });
    const answer = await client.chat.completions.create({
      model: "gpt-4.1-mini",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(answer.choices[0].message.content).toBe("Hello! How can I help you today?");
    expect(
      await failure(new OpenAI({ apiKey: "other", baseURL: `${url}/v1`, maxRetries: 0 }).models.list()),
    ).toBeInstanceOf(AuthenticationError);
    const preflight = await fetch(`${url}/v1/chat/completions`, {
      method: "OPTIONS",
      headers: { origin: "http://evil.example", "access-control-request-method": "POST" },
    });
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    const exited = new Promise<number | null>((resolve) => child!.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(output).not.toMatch(/POST \/v1/); // --quiet
  });
});

describe("npm run dev", () => {
  const running: ChildProcess[] = [];
  const dirs: string[] = [];
  /** Ctrl-C: the stack stops the services it started. */
  async function interrupt(child: ChildProcess) {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGINT");
    await exited;
  }
  afterEach(async () => {
    for (const child of running.splice(0)) await interrupt(child);
    for (const dir of dirs.splice(0)) removeDir(dir);
  });

  /** Starts `local/stack.ts dev` until the local Convex server is up (its env file is written by then). */
  async function startUntilConvex(extra: Record<string, string>) {
    const dataDir = tempDir("switchboard-openai-stack-");
    dirs.push(dataDir);
    const openaiPort = await freePort();
    const env = {
      ...process.env,
      SWITCHBOARD_DATA_DIR: dataDir,
      PORT: String(await freePort()),
      CONVEX_LOCAL_PORT: String(await freePort()),
      CONVEX_LOCAL_SITE_PORT: String(await freePort()),
      WHATSAPP_SIMULATOR_PORT: String(await freePort()),
      OPENAI_LOCAL_PORT: String(openaiPort),
      CONVEX_URL: "",
      CONVEX_SITE_URL: "",
      CONVEX_DEPLOYMENT: "",
      CLERK_PUBLISHABLE_KEY: "",
      CLERK_SECRET_KEY: "",
      APP_URL: "",
      AUTH_DATA_DIR: "",
      SENTRY_DSN: "",
      SWITCHBOARD_DEMO: "off",
      OPENAI_LOCAL: "",
      OPENAI_MODELS: "",
      ...extra,
    };
    const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "local/stack.ts"), "dev"], {
      cwd: ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    running.push(child);
    let output = "";
    child.stdout!.on("data", (d) => (output += String(d)));
    child.stderr!.on("data", (d) => (output += String(d)));
    const deadline = Date.now() + 90_000;
    while (!/convex-local ready/.test(output)) {
      if (child.exitCode !== null) throw new Error(`the stack exited with ${child.exitCode}:\n${output}`);
      if (Date.now() > deadline) throw new Error(`the stack did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const convexEnv = readFileSync(path.join(dataDir, "convex.env"), "utf8");
    return { output: () => output, convexEnv, openaiPort, stop: () => interrupt(child) };
  }

  it("starts the local OpenAI server only with OPENAI_LOCAL=1 and points the Convex server at it", async () => {
    const on = await startUntilConvex({ OPENAI_LOCAL: "1", OPENAI_MODELS: "gpt-4o-mini,gpt-4o" });
    const baseURL = `http://127.0.0.1:${on.openaiPort}/v1`;
    expect(on.output()).toContain(`openai-local ready http://127.0.0.1:${on.openaiPort}`);
    expect(on.convexEnv).toContain(`OPENAI_BASE_URL=${JSON.stringify(baseURL)}`);
    expect(on.convexEnv).toContain(`OPENAI_API_KEY="local-key"`);
    expect(on.convexEnv).toContain(`OPENAI_MODELS="gpt-4o-mini,gpt-4o"`);
    // The key Convex was given is the one the server accepts; the models are the ones configured.
    const client = new OpenAI({ apiKey: "local-key", baseURL, maxRetries: 0 });
    expect((await client.models.list()).data.map((m) => m.id)).toEqual(["gpt-4o-mini", "gpt-4o"]);
    expect(
      await failure(new OpenAI({ apiKey: "sk-other", baseURL, maxRetries: 0 }).models.list()),
    ).toBeInstanceOf(AuthenticationError);
    await on.stop();
    const stopped = await fetch(`${baseURL}/models`).then(
      () => false,
      () => true,
    );
    expect(stopped).toBe(true);

    const off = await startUntilConvex({});
    expect(off.output()).not.toContain("openai-local ready");
    expect(off.convexEnv).not.toContain("OPENAI_BASE_URL");
    expect(off.convexEnv).not.toContain("OPENAI_API_KEY");
    const refused = await fetch(`http://127.0.0.1:${off.openaiPort}/v1/models`).then(
      () => false,
      () => true,
    );
    expect(refused).toBe(true);
  }, 240_000);
});
