/**
 * The assistant through a model: the real `openai` SDK against OPENAI_BASE_URL (OpenAI, an
 * Azure-compatible gateway, OpenRouter, or the local OpenAI server), with tools to search the
 * knowledge base, hand off to a person and look up the contact. Runs in an action; the caller
 * decides fallbacks (the fallback model, then the offline answerer) and keeps the breaker.
 */
import OpenAI from "openai";
import type { ChatCompletionMessageParam, ChatCompletionTool } from "openai/resources/chat/completions";
import type { OpenAIConfig } from "../../env";
import type { KnowledgeEntry } from "./offline";
import type { TurnContext, TurnOutcome } from "./turns";

const MAX_TOOL_ROUNDS = 3;

export const TOOLS: ChatCompletionTool[] = [
  {
    type: "function",
    function: {
      name: "search_knowledge",
      description:
        "Search the business's knowledge base. Use it before answering any question about the business.",
      parameters: {
        type: "object",
        properties: { query: { type: "string", description: "What to look for" } },
        required: ["query"],
      },
    },
  },
  {
    type: "function",
    function: {
      name: "handoff_to_human",
      description:
        "Pass the conversation to a person on the team: when the customer asks for one, is upset, disputes a charge, or the knowledge base has no answer.",
      parameters: {
        type: "object",
        properties: {
          reason: { type: "string", description: "Why, in a few words" },
          summary: { type: "string", description: "What the customer needs, for the person taking over" },
        },
        required: ["reason", "summary"],
      },
    },
  },
  {
    type: "function",
    function: {
      name: "lookup_contact",
      description: "The customer's name and phone number as the business knows them.",
      parameters: { type: "object", properties: {} },
    },
  },
];

export type ModelTurnResult = {
  outcome: TurnOutcome;
  inputTokens: number;
  outputTokens: number;
};

export function systemPrompt(turn: TurnContext): string {
  const s = turn.settings;
  return [
    `You are ${s.name}, the WhatsApp assistant of this business. ${s.persona}`,
    s.instructions,
    s.languages.length ? `Answer in the customer's language (${s.languages.join(", ")} expected).` : "",
    s.businessHours ? `Business hours: ${s.businessHours}` : "",
    turn.teamBack
      ? `The team is away now and back ${turn.teamBack}: if you hand off, tell the customer when they will hear back.`
      : "",
    s.handoffRules ? `Hand off to a person when: ${s.handoffRules}` : "",
    "Keep answers short: this is WhatsApp. Never invent prices, policies or facts that the knowledge base does not give.",
    turn.summary ? `Earlier in this conversation: ${turn.summary}` : "",
  ]
    .filter(Boolean)
    .join("\n");
}

function history(turn: TurnContext): ChatCompletionMessageParam[] {
  return turn.messages.map((m) =>
    m.role === "customer"
      ? { role: "user" as const, content: m.text }
      : {
          role: "assistant" as const,
          content: m.role === "agent" ? `(a person on the team wrote) ${m.text}` : m.text,
        },
  );
}

/**
 * One turn with `model`. Throws on provider errors (the caller counts them for the breaker and
 * falls back); returns the outcome and the tokens used across tool rounds.
 */
export async function modelTurn(
  config: OpenAIConfig,
  model: string,
  turn: TurnContext,
  search: (query: string) => Promise<KnowledgeEntry[]>,
): Promise<ModelTurnResult> {
  const client = new OpenAI({
    apiKey: config.apiKey,
    baseURL: config.baseURL,
    timeout: config.timeoutMs,
    maxRetries: 0,
  });
  const messages: ChatCompletionMessageParam[] = [
    { role: "system", content: systemPrompt(turn) },
    ...history(turn),
  ];
  let inputTokens = 0;
  let outputTokens = 0;
  const knowledgeIds: string[] = [];
  for (let round = 0; round <= MAX_TOOL_ROUNDS; round++) {
    const completion = await client.chat.completions.create({
      model,
      messages,
      ...(round < MAX_TOOL_ROUNDS ? { tools: TOOLS } : {}),
    });
    inputTokens += completion.usage?.prompt_tokens ?? 0;
    outputTokens += completion.usage?.completion_tokens ?? 0;
    const message = completion.choices[0]?.message;
    if (!message) throw new Error("The model returned no choice");
    const calls = message.tool_calls ?? [];
    if (!calls.length) {
      const text = message.content?.trim();
      if (!text) throw new Error("The model returned an empty answer");
      return { outcome: { kind: "answer", text, knowledgeIds }, inputTokens, outputTokens };
    }
    messages.push({ role: "assistant", content: message.content ?? null, tool_calls: calls });
    for (const call of calls) {
      if (call.type !== "function") continue;
      let args: Record<string, unknown> = {};
      try {
        args = JSON.parse(call.function.arguments || "{}") as Record<string, unknown>;
      } catch {
        args = {};
      }
      if (call.function.name === "handoff_to_human") {
        return {
          outcome: {
            kind: "handoff",
            reason: String(args.reason ?? "the assistant handed off").slice(0, 200),
            summary:
              String(args.summary ?? "").slice(0, 1_000) || "The assistant handed off without a summary.",
            knowledgeIds,
          },
          inputTokens,
          outputTokens,
        };
      }
      let content: string;
      if (call.function.name === "search_knowledge") {
        const hits = (await search(String(args.query ?? turn.pending.join(" ")))).slice(0, 5);
        knowledgeIds.push(...hits.map((h) => h.id));
        content = hits.length
          ? JSON.stringify(hits.map((h) => ({ title: h.title, body: h.body })))
          : "No entry of the knowledge base matches.";
      } else if (call.function.name === "lookup_contact") {
        content = JSON.stringify(turn.contact);
      } else {
        content = `Unknown tool ${call.function.name}`;
      }
      messages.push({ role: "tool", tool_call_id: call.id, content });
    }
  }
  throw new Error("The model kept calling tools without answering");
}
