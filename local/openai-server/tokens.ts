/**
 * Token counts for `usage`: a deterministic estimate, not OpenAI's tokenizer. A text is one token
 * per four characters (Unicode code points), rounded up — OpenAI's own rule of thumb for English.
 * A prompt adds 3 tokens per message and 3 to prime the reply (as OpenAI's cookbook counts chat
 * messages), 1 per message name, the name and arguments of each tool call, 85 per image (the
 * low-detail price), and each offered tool's function definition as compact JSON.
 */
import type { ContentPart, Message, Reply, Tool } from "./types";

export function countTokens(text: string): number {
  let chars = 0;
  for (const _ of text) chars++;
  return Math.ceil(chars / 4);
}

const IMAGE_TOKENS = 85;

function contentTokens(content: string | ContentPart[] | null | undefined): number {
  if (content == null) return 0;
  if (typeof content === "string") return countTokens(content);
  let total = 0;
  for (const part of content) {
    if (part.type === "text") total += countTokens(part.text);
    else if (part.type === "refusal") total += countTokens(part.refusal);
    else total += IMAGE_TOKENS;
  }
  return total;
}

export function promptTokens(messages: Message[], tools: Tool[]): number {
  let total = 3;
  for (const message of messages) {
    total += 3 + contentTokens(message.content);
    if ("name" in message && message.name) total += 1 + countTokens(message.name);
    if (message.role === "assistant") {
      for (const call of message.tool_calls ?? []) {
        total += countTokens(call.function.name) + countTokens(call.function.arguments);
      }
    }
  }
  for (const tool of tools) total += countTokens(JSON.stringify(tool.function));
  return total;
}

export function completionTokens(reply: Reply): number {
  if (reply.kind === "text") return countTokens(reply.content);
  return reply.calls.reduce((sum, call) => sum + countTokens(call.name) + countTokens(call.arguments), 0);
}

/** The longest prefix of `text` that is at most `tokens` tokens. */
export function truncateToTokens(text: string, tokens: number): string {
  return [...text].slice(0, Math.max(0, tokens) * 4).join("");
}
