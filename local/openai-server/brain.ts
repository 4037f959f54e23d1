/**
 * The scripted brain: a deterministic stand-in for a model, so tests and demos of the assistant
 * get answers that follow from what was sent. Offered tools are called when the latest user
 * message asks for what they do; once their results are back, it answers from them; without
 * tools it answers from the system prompt. Same request, same reply.
 */
import type { ChatRequest, ContentPart, JsonSchema, Message, Reply, Tool } from "./types";

type Intent = "handoff" | "contact" | "knowledge";

/** Which intent a tool serves, by its name (search_knowledge, handoff_to_human, lookup_contact…). */
const TOOL_KINDS: [Intent, RegExp][] = [
  ["handoff", /hand_?off|human|escalat|transfer|operator/i],
  ["contact", /contact|customer|profile|who_?am_?i|user_?info/i],
  ["knowledge", /knowledge|search|faq|retriev|docs|article/i],
];

/** Asking for a person, in English or Spanish. */
const WANTS_PERSON =
  /\b(talk|speak|chat|connect|transfer|put me through|get me|want|need|call)\b.*\b(human|person|agent|someone|somebody|representative|operator|staff|manager)\b|^\s*(human|agent|operator|representative)\s*(please)?[.!]*\s*$|\b(hablar con|quiero|necesito)\b.*\b(persona|agente|humano|alguien)\b/i;
/** Asking what the business knows about them. */
const WANTS_DETAILS =
  /\bwho am i\b|\bmy (details|info|information|profile|account|data|name|number|phone|email)\b|\bwhat do you know about me\b|\bqui[eé]n soy\b|\bmis datos\b/i;
const GREETING =
  /^\s*(hi|hello|hey|hiya|hola|buenas|buenos d[ií]as|good (morning|afternoon|evening))\b[\s!.,]*(there)?[\s!.]*$/i;
const THANKS =
  /^\s*(thanks|thank you|thx|cheers|gracias|ok|okay|great|perfect|bye|goodbye|adi[oó]s)(\s+(so much|a lot|very much|you|again|for (your|the) help|muchas))*[\s!.,]*$/i;
/** Asked to summarise (a noun such as "Summary so far:" in a prompt is not a request). */
const SUMMARY =
  /\bsummari[sz]e\b|\b(write|make|give) (me )?a (short |brief )?summary\b|\bresumir\b|\bresume la\b/i;

/** Sentences that tell the model how to behave rather than what is true. */
const INSTRUCTION =
  /^\s*(you\b|you're|always|never|answer|reply|respond|be |do not|don't|keep|use |if |when |only|please|avoid|write|act )/i;
const STOPWORDS = new Set(
  "the and for are but not you your yours with have has had was were this that these those what when where which who whom why how can could would should will shall may might must does did doing from into onto about over under than then them they their there here our ours out any all some just also very too much many more most such only own same other its it's i'm i've you've don't can't won't is am be been being a an of to in on at by or as it me my we us do so if no yes hi hello please thanks thank".split(
    " ",
  ),
);

export function textOf(content: string | ContentPart[] | null | undefined): string {
  if (content == null) return "";
  if (typeof content === "string") return content;
  return content
    .map((part) => (part.type === "text" ? part.text : part.type === "refusal" ? part.refusal : ""))
    .filter(Boolean)
    .join("\n");
}

function words(text: string): Set<string> {
  return new Set(
    (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((w) => w.length > 2 && !STOPWORDS.has(w)),
  );
}

function sentences(text: string): string[] {
  return text
    .split(/\n+|(?<=[.!?])\s+/)
    .map((s) => s.trim().replace(/^[-*•]\s*/, ""))
    .filter(Boolean);
}

/** The first sentences of a text, at most `max` characters, cut on a word with "…". */
export function summarise(text: string, max = 300): string {
  const clean = text.replace(/\s+/g, " ").trim();
  const parts = clean.split(/(?<=[.!?])\s+/);
  let out = parts[0] ?? "";
  for (const next of parts.slice(1, 2)) if (out.length + 1 + next.length <= max) out += ` ${next}`;
  if (out.length <= max) return out;
  const cut = out.slice(0, max - 1);
  return `${cut.slice(0, cut.lastIndexOf(" ") > max / 2 ? cut.lastIndexOf(" ") : cut.length).trimEnd()}…`;
}

function kindOf(tool: Tool): Intent | null {
  return TOOL_KINDS.find(([, pattern]) => pattern.test(tool.function.name))?.[0] ?? null;
}

function intentOf(text: string): Intent | null {
  if (WANTS_PERSON.test(text)) return "handoff";
  if (WANTS_DETAILS.test(text)) return "contact";
  if (!text.trim() || GREETING.test(text) || THANKS.test(text)) return null;
  return "knowledge";
}

/** The value a schema asks for when nothing better is known. */
function placeholder(schema: JsonSchema | undefined, text: string): unknown {
  if (schema?.default !== undefined) return schema.default;
  if (schema?.enum?.length) return schema.enum[0];
  const type = Array.isArray(schema?.type) ? schema.type.find((t) => t !== "null") : schema?.type;
  switch (type) {
    case "integer":
    case "number":
      return schema?.minimum ?? 1;
    case "boolean":
      return false;
    case "array":
      return [];
    case "object":
      return {};
    default:
      return text;
  }
}

/**
 * Arguments for a tool, shaped by its JSON schema: the known values where the schema has those
 * properties (or the first of them when it has no properties), placeholders for other required ones.
 */
function argumentsFor(tool: Tool, known: Record<string, unknown>, text: string): string {
  const schema = tool.function.parameters;
  const properties = schema?.properties;
  if (!properties || Object.keys(properties).length === 0) {
    const [first] = Object.entries(known);
    return JSON.stringify(first && schema?.properties === undefined ? { [first[0]]: first[1] } : {});
  }
  const args: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(known)) if (name in properties) args[name] = value;
  for (const name of schema.required ?? []) {
    if (!(name in args)) args[name] = placeholder(properties[name], text);
  }
  return JSON.stringify(args);
}

function toolArguments(tool: Tool, intent: Intent | null, userText: string): string {
  const text = userText.trim();
  switch (intent) {
    case "knowledge":
      return argumentsFor(tool, { query: text, q: text, question: text, search: text, text }, text);
    case "handoff": {
      const reason = `The customer asked to talk to a person: "${summarise(text, 200)}"`;
      return argumentsFor(tool, { reason, summary: reason, note: reason, message: text }, reason);
    }
    case "contact":
      return argumentsFor(tool, {}, "");
    default:
      return argumentsFor(tool, { query: text, input: text }, text);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const HIT_LISTS = [
  "results",
  "hits",
  "items",
  "matches",
  "documents",
  "entries",
  "articles",
  "data",
  "chunks",
];
const HIT_BODY = ["body", "content", "text", "answer", "snippet", "excerpt", "description", "chunk"];

function field(object: Record<string, unknown>, names: string[]): string | undefined {
  for (const name of names) if (typeof object[name] === "string" && object[name]) return object[name];
  return undefined;
}

/** The body of the best knowledge hit in a tool result, "" when it found nothing. */
function topHit(result: string): string {
  const parsed = parseJson(result);
  if (parsed === undefined)
    return /^\s*(no (results|matches)|nothing found|not found)\b/i.test(result) ? "" : result;
  const list = Array.isArray(parsed)
    ? parsed
    : typeof parsed === "object" && parsed !== null
      ? (HIT_LISTS.map((k) => (parsed as Record<string, unknown>)[k]).find(Array.isArray) ?? [parsed])
      : [];
  for (const hit of list) {
    if (typeof hit === "string" && hit.trim()) return hit;
    if (typeof hit === "object" && hit !== null) {
      const body = field(hit as Record<string, unknown>, HIT_BODY);
      if (body) return body;
    }
  }
  return "";
}

function describeContact(result: string): string {
  const parsed = parseJson(result);
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return result.trim() ? `Here are the details we have for you: ${summarise(result, 240)}` : NO_DETAILS;
  }
  const record = parsed as Record<string, unknown>;
  const contact = (
    typeof record.contact === "object" && record.contact !== null ? record.contact : record
  ) as Record<string, unknown>;
  const name = field(contact, ["name", "displayName", "fullName", "profileName", "firstName"]);
  const phone = field(contact, ["phone", "phoneNumber", "e164", "waId", "wa_id", "number"]);
  const email = field(contact, ["email", "emailAddress"]);
  const onFile = [phone, email].filter(Boolean);
  if (!name && onFile.length === 0) return NO_DETAILS;
  const who = name ? `You're ${name}` : "We know you";
  return onFile.length ? `${who}, and we have ${onFile.join(" and ")} on file.` : `${who}.`;
}

const NO_DETAILS = "I couldn't find your details on file.";
const NOT_FOUND =
  "I'm sorry, I couldn't find anything about that in our information. Would you like me to connect you with a person?";
const HANDED_OFF = "I've asked a member of our team to take over; a person will reply here shortly.";
const TOOL_FAILED = "Sorry, I couldn't do that just now. Please try again in a moment.";

function failed(result: string): boolean {
  const parsed = parseJson(result);
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return false;
  const record = parsed as Record<string, unknown>;
  return record.ok === false || (typeof record.error === "string" && record.error !== "");
}

/** The answer once the results of the last tool calls are back. */
function answerFromResults(messages: Message[], tools: Tool[]): string {
  const lastCalls = messages.findLast((m) => m.role === "assistant" && m.tool_calls?.length);
  const calls = lastCalls?.role === "assistant" ? (lastCalls.tool_calls ?? []) : [];
  const results = messages.slice(messages.lastIndexOf(lastCalls!) + 1).filter((m) => m.role === "tool");
  const answered = results.map((r) => {
    const call = calls.find((c) => c.id === r.tool_call_id);
    const name = call?.function.name ?? "";
    const tool = tools.find((t) => t.function.name === name) ?? {
      type: "function" as const,
      function: { name },
    };
    return { kind: kindOf(tool), text: textOf(r.content) };
  });
  const pick = (kind: Intent) => answered.find((a) => a.kind === kind);
  const handoff = pick("handoff");
  if (handoff) return failed(handoff.text) ? TOOL_FAILED : HANDED_OFF;
  const knowledge = pick("knowledge");
  if (knowledge) {
    if (failed(knowledge.text)) return TOOL_FAILED;
    const hit = topHit(knowledge.text);
    return hit ? summarise(hit) : NOT_FOUND;
  }
  const contact = pick("contact");
  if (contact) return failed(contact.text) ? TOOL_FAILED : describeContact(contact.text);
  const other = answered.find((a) => a.text.trim());
  return other ? `Here's what I found: ${summarise(other.text)}` : NOT_FOUND;
}

/** Who the system prompt says the assistant is: "You are <this>." */
function persona(system: string): string | null {
  const match = /(?:^|[.!?\n]\s*)you are\s+([^.,;:\n!?]{3,80})/i.exec(system);
  return match ? match[1].trim() : null;
}

/** An answer without tools: a greeting, thanks, a summary, or the system prompt's best sentence. */
function plainAnswer(messages: Message[]): string {
  const system = messages
    .filter((m) => m.role === "system" || m.role === "developer")
    .map((m) => textOf(m.content))
    .join("\n");
  const userTexts = messages.filter((m) => m.role === "user").map((m) => textOf(m.content));
  const last = userTexts.at(-1) ?? "";
  if (SUMMARY.test(last) || SUMMARY.test(system)) {
    const said = userTexts.filter((t) => !SUMMARY.test(t) && t.trim());
    if (said.length === 0) return "There is nothing to summarise yet.";
    return `Summary: the customer wrote ${summarise(said.map((t) => `"${t.trim()}"`).join("; "), 280)}`;
  }
  if (!last.trim() || GREETING.test(last)) {
    const who = persona(system);
    return who ? `Hello! I'm ${who}. How can I help you today?` : "Hello! How can I help you today?";
  }
  if (WANTS_PERSON.test(last)) return "I'll let our team know you'd like to talk to a person.";
  if (THANKS.test(last)) return "You're welcome! Is there anything else I can help with?";
  const asked = words(last);
  let best: { sentence: string; score: number } | null = null;
  for (const sentence of sentences(system)) {
    if (INSTRUCTION.test(sentence)) continue;
    let score = 0;
    for (const w of words(sentence)) if (asked.has(w)) score++;
    if (score > 0 && (!best || score > best.score)) best = { sentence, score };
  }
  if (best) return summarise(best.sentence);
  return `I'm not sure about "${summarise(last, 120)}". Would you like me to connect you with a person?`;
}

/** What the model answers to a validated request. */
export function think(request: ChatRequest): Reply {
  const { messages, tools, toolChoice } = request;
  const last = messages.at(-1)!;
  const lastUser = textOf(messages.findLast((m) => m.role === "user")?.content);
  const callable = toolChoice === "none" ? [] : tools;
  const forced =
    typeof toolChoice === "object"
      ? callable.find((t) => t.function.name === toolChoice.function.name)
      : toolChoice === "required"
        ? undefined
        : null;

  // A turn whose tool results are in: answer from them, unless a tool call is demanded.
  if (last.role === "tool" && forced === null)
    return { kind: "text", content: answerFromResults(messages, tools) };

  if (callable.length > 0) {
    const intent = intentOf(lastUser);
    const matching = intent ? callable.find((t) => kindOf(t) === intent) : undefined;
    const tool = forced ?? matching ?? (toolChoice === "required" ? callable[0] : undefined);
    if (tool) {
      const toolIntent = kindOf(tool) === intent ? intent : kindOf(tool);
      return {
        kind: "tool_calls",
        calls: [{ name: tool.function.name, arguments: toolArguments(tool, toolIntent, lastUser) }],
      };
    }
  }
  return { kind: "text", content: plainAnswer(messages) };
}

/** A value shaped by a JSON schema, with the answer text in its first string field. */
export function shapedBy(schema: JsonSchema, text: string): unknown {
  let used = false;
  const build = (s: JsonSchema | undefined): unknown => {
    const type = Array.isArray(s?.type) ? s.type.find((t) => t !== "null") : s?.type;
    if (s?.enum?.length) return s.enum[0];
    if (type === "object" || (!type && s?.properties)) {
      return Object.fromEntries(Object.entries(s?.properties ?? {}).map(([k, v]) => [k, build(v)]));
    }
    if (type === "array") return [];
    if (type === "string" || !type) {
      if (used) return "";
      used = true;
      return text;
    }
    return placeholder(s, text);
  };
  return build(schema);
}
