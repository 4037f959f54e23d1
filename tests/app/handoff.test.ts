// When the offline assistant hands a conversation to a person: asked for one, a billing dispute,
// a legal threat, or repeated frustration; and the ordinary messages that only mention a person,
// an agent or a charge.
import { describe, expect, it } from "vitest";
import { decideHandoff, HANDOFF_LANGUAGES, HANDOFF_REASONS } from "../../convex/model/handoff";

type Table = Record<string, string[]>;

const ASKS_FOR_A_PERSON: Table = {
  en: [
    "talk to a human",
    "I want to talk to an agent",
    "can I speak with a real person?",
    "Can I speak to someone please",
    "connect me with a representative",
    "get me a human",
    "I'd like an agent",
    "I need help from a real person",
    "representative",
    "agent please",
    "HUMAN",
    "is there a human I can talk to?",
    "No, I want a human",
  ],
  es: [
    "quiero hablar con una persona",
    "hablar con un agente",
    "necesito un asesor",
    "¿me pasas con un asesor?",
    "asesor",
  ],
  pt: ["quero falar com um atendente", "falar com humano", "atendimento humano por favor", "atendente"],
  fr: ["je veux parler à un conseiller", "parler à un humain", "Passez-moi un conseiller svp"],
  de: [
    "Ich möchte mit einem Menschen sprechen",
    "kann ich mit einem Mitarbeiter sprechen?",
    "Mitarbeiter bitte",
  ],
  it: ["vorrei parlare con un operatore", "operatore"],
  nl: ["ik wil een medewerker spreken", "kan ik met een mens praten?"],
  tr: ["müşteri temsilcisi", "müşteri temsilcisi ile görüşmek istiyorum", "canlı destek"],
  id: ["saya mau bicara dengan manusia", "bisa bicara sama CS?", "minta admin dong"],
  hi: ["mujhe kisi insaan se baat karni hai", "insaan se baat karao", "agent se baat karni hai"],
  ar: ["أريد التحدث مع موظف", "اريد التحدث مع شخص حقيقي", "موظف"],
};

const BILLING_DISPUTE: Table = {
  en: [
    "I was charged twice",
    "you double charged me",
    "please refund my money",
    "there is an unauthorized charge on my card",
    "I want my money back",
  ],
  es: ["me hicieron un cobro doble", "me cobraron dos veces", "hay un cargo no autorizado en mi tarjeta"],
  pt: ["fui cobrado duas vezes", "cobrança duplicada no cartão", "quero meu dinheiro de volta"],
  fr: ["j'ai été débité deux fois", "remboursez mon argent"],
  de: ["Sie haben doppelt abgebucht", "ich will mein Geld zurück"],
  it: ["mi avete addebitato due volte"],
  nl: ["ik ben twee keer afgeschreven"],
  tr: ["iki kez çekildi"],
  id: ["saya ditagih dua kali"],
  hi: ["mere paise do baar kat gaye", "paise wapas karo"],
  ar: ["تم خصم المبلغ مرتين"],
};

const LEGAL_THREAT: Table = {
  en: ["I will call my lawyer", "I'm going to sue you", "see you in court", "I'll take legal action"],
  es: ["voy a llamar a mi abogado", "voy a poner una denuncia", "los voy a demandar", "me quejo en Profeco"],
  pt: ["vou chamar meu advogado", "vou no procon", "vou processar vocês", "vou reclamar no Reclame Aqui"],
  fr: ["je vais contacter mon avocat", "je vais porter plainte"],
  de: ["mein Anwalt meldet sich", "ich werde Sie verklagen"],
  it: ["chiamo il mio avvocato", "vi denuncio"],
  nl: ["ik neem een advocaat"],
  tr: ["avukatımla görüşeceğim", "dava açacağım"],
  id: ["saya akan lapor ke pengacara"],
  hi: ["main consumer court jaunga"],
  ar: ["سأتصل بالمحامي"],
};

/** Conversations (oldest first) where two or more recent messages are angry. */
const REPEATED_FRUSTRATION: Table = {
  en: [
    "this is useless|you don't understand",
    "NOT HELPFUL AT ALL|WHERE IS MY ORDER",
    "why?!!!|answer me!!!",
    "what?|this bot is stupid|I already told you",
    "HELLO???|ANYONE???",
  ],
  es: ["no sirves para nada|no me entiendes", "¡¡¡respóndeme!!!|qué mal servicio"],
  pt: ["você não entende|que saco", "isso é ridículo|já falei três vezes"],
  fr: ["c'est inutile|vous ne comprenez rien"],
  de: ["Sie verstehen mich nicht|das ist lächerlich"],
  it: ["non mi capisci|che schifo"],
  nl: ["je begrijpt het niet|belachelijk"],
  tr: ["anlamıyorsun|rezalet"],
  id: ["gak ngerti ya|payah banget"],
  hi: ["kya bakwas hai|tum samajh nahi rahe"],
  ar: ["أنت لا تفهم|خدمة سيئة، غبي"],
};

/** Ordinary conversations, some of them mentioning a person, an agent, money or anger once. */
const NO_HANDOFF: string[][] = [
  ["what time do you open?"],
  ["the person at the store was nice"],
  ["I like your staff, they were lovely"],
  ["my agent code is 123"],
  ["I want to talk about prices"],
  ["I talked to a person at the store yesterday"],
  ["I don't need to talk to a human, just tell me the price"],
  ["Sue recommended your shop"],
  ["how do I get a refund?"],
  ["do you have size 42?", "and in black?"],
  ["Thanks!!!", "Great!!!"],
  ["what???", "ok I see, thanks"],
  ["This is useless"],
  ["the sneakers in the photo look terrible", "ok thanks"],
  ["I LOVE THESE BOOTS SO MUCH"],
  ["la persona de la tienda fue muy amable", "¿tienen talla 40?"],
  ["o atendente da loja foi ótimo", "vocês abrem domingo?"],
  ["no necesito hablar con un asesor"],
  ["não precisa de atendente, obrigado"],
  ["bitte nicht mit einem Mitarbeiter verbinden, ich warte"],
  ["je ne veux pas parler à un conseiller"],
  ["insaan se baat nahi karni, bas price batao"],
  ["process my payment please", "processar o pagamento agora"],
  ["high demand this week?", "alta demanda"],
  [],
];

function conversations(table: Table): [string, string[]][] {
  return Object.entries(table).flatMap(([language, items]) =>
    items.map((item): [string, string[]] => [language, item.split("|")]),
  );
}

describe("decideHandoff", () => {
  const expectations: [Table, string][] = [
    [ASKS_FOR_A_PERSON, HANDOFF_REASONS.person],
    [BILLING_DISPUTE, HANDOFF_REASONS.billing],
    [LEGAL_THREAT, HANDOFF_REASONS.legal],
    [REPEATED_FRUSTRATION, HANDOFF_REASONS.frustration],
  ];
  for (const [table, reason] of expectations) {
    it.each(conversations(table))(`%s: %j → ${reason}`, (_language, messages) => {
      expect(decideHandoff(messages)).toEqual({ handoff: true, reason });
    });
  }

  it.each(NO_HANDOFF.map((messages) => [messages]))("keeps the assistant on %j", (messages) => {
    expect(decideHandoff(messages)).toEqual({ handoff: false });
  });

  it("covers every language it promises", () => {
    const languages = Object.keys(HANDOFF_LANGUAGES).sort();
    expect(languages).toEqual(
      expect.arrayContaining(["ar", "de", "en", "es", "fr", "hi", "id", "it", "nl", "pt", "tr"]),
    );
    for (const table of [ASKS_FOR_A_PERSON, BILLING_DISPUTE, LEGAL_THREAT, REPEATED_FRUSTRATION]) {
      expect(Object.keys(table).sort()).toEqual(languages);
    }
  });

  it("reads earlier messages too, and names the most serious reason", () => {
    expect(decideHandoff(["I want a human", "where is my order?"])).toEqual({
      handoff: true,
      reason: HANDOFF_REASONS.person,
    });
    expect(
      decideHandoff(["this is useless", "talk to a human", "you charged me twice", "I'll call my lawyer"]),
    ).toEqual({ handoff: true, reason: HANDOFF_REASONS.legal });
    expect(decideHandoff(["this is useless", "talk to a human", "you charged me twice"])).toEqual({
      handoff: true,
      reason: HANDOFF_REASONS.billing,
    });
    expect(decideHandoff(["this is useless", "so useless", "talk to a human"])).toEqual({
      handoff: true,
      reason: HANDOFF_REASONS.person,
    });
  });

  it("counts frustration only in the latest five messages", () => {
    const calm = ["size 40?", "in black?", "and brown?", "ok", "how much?"];
    expect(decideHandoff(["this is useless", "you don't understand", ...calm])).toEqual({ handoff: false });
    expect(decideHandoff(["this is useless", ...calm.slice(0, 3), "you don't understand"])).toEqual({
      handoff: true,
      reason: HANDOFF_REASONS.frustration,
    });
  });

  it("refuses what is not a list of messages", () => {
    expect(() => decideHandoff("talk to a human" as unknown as string[])).toThrow(TypeError);
    expect(() => decideHandoff(["hi", 3] as unknown as string[])).toThrow(TypeError);
  });
});
