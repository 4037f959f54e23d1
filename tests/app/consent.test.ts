// Opt-out and opt-in keywords in the customer's own words, and the everyday messages that only
// look like them ("stop by tomorrow", "cancel my order", "para mañana").
import { describe, expect, it } from "vitest";
import { classifyConsent, CONSENT_LANGUAGES, type ConsentIntent } from "../../convex/model/consent";

type Table = Record<string, string[]>;

const OPT_OUT: Table = {
  en: [
    "STOP",
    "stop",
    "Stop.",
    "STOP!!!",
    "stop 🛑",
    "Stop please 🙏",
    "stop stop stop",
    "UNSUBSCRIBE",
    "Unsubscribe me please",
    "please unsubscribe me from this list",
    "how do I unsubscribe?",
    "stop messaging me",
    "Stop sending me these promotions",
    "no more messages please",
    "I don't want any more messages",
    "do not text me again",
    "remove me from your mailing list",
    "take me off your list",
    "cancel",
    "CANCEL",
    "END",
    "QUIT",
    "STOPALL",
    "opt out",
    "OPT-OUT",
    "I want to opt out",
    "Cancel my subscription",
    "STOP. Who gave you my number?",
    "No, stop messaging me",
    "I can't unsubscribe, help",
    "I said stop",
    "quit messaging me",
    "end my subscription",
    "I want to stop receiving messages",
    "I no longer want to receive messages",
  ],
  es: [
    "BAJA",
    "baja",
    "Baja por favor",
    "darme de baja",
    "Quiero darme de baja",
    "dame de baja de la lista",
    "no quiero recibir más mensajes",
    "No me envíen más promociones",
    "dejen de enviarme mensajes",
    "PARAR",
    "basta",
    "cancelar",
    "ya no quiero recibir mensajes",
    "sáquenme de su lista",
    "no más mensajes",
    "Quiero dejar de recibir mensajes",
  ],
  pt: [
    "SAIR",
    "sair",
    "parar",
    "não quero mais receber",
    "Não quero mais receber mensagens",
    "não quero receber promoções",
    "parem de me enviar mensagens",
    "me tira da lista",
    "quero sair da lista",
    "descadastrar",
    "cancelar inscrição",
    "chega de mensagens",
    "quero deixar de receber",
  ],
  fr: [
    "ARRÊT",
    "arrêter",
    "désabonner",
    "je veux me désabonner",
    "désabonnez-moi",
    "arrêtez de m'envoyer des messages",
    "ne m'envoyez plus de messages",
    "je ne veux plus recevoir vos promotions",
    "plus de messages svp",
    "retirez-moi de la liste",
    "désinscription",
  ],
  de: [
    "STOPP",
    "Stopp",
    "abmelden",
    "Bitte abmelden",
    "keine Nachrichten mehr",
    "Ich möchte keine Werbung mehr",
    "melden Sie mich ab",
    "Hört auf mir zu schreiben",
    "Schickt mir keine Nachrichten mehr",
    "Newsletter abbestellen",
  ],
  it: [
    "BASTA",
    "basta",
    "annulla iscrizione",
    "disiscrivimi",
    "cancellami dalla lista",
    "non voglio più ricevere messaggi",
    "smettetela di scrivermi",
    "basta messaggi",
  ],
  nl: [
    "stoppen",
    "afmelden",
    "meld me af",
    "Ik wil geen berichten meer",
    "geen berichten meer",
    "stuur me geen reclame meer",
    "uitschrijven",
  ],
  tr: [
    "IPTAL",
    "iptal",
    "abonelikten çık",
    "Abonelikten çıkmak istiyorum",
    "aboneliğimi iptal et",
    "bana mesaj göndermeyin",
    "artık mesaj istemiyorum",
    "beni listeden çıkarın",
  ],
  id: [
    "BERHENTI",
    "berhenti",
    "berhenti berlangganan",
    "jangan kirim pesan lagi",
    "tolong jangan kirim promo lagi",
    "saya tidak mau menerima pesan lagi",
    "hapus nomor saya dari daftar",
  ],
  hi: [
    "band karo",
    "BAND KARO",
    "message mat bhejo",
    "mujhe message mat bhejo",
    "msg band karo",
    "messages bhejna band karo",
    "mujhe offers nahi chahiye",
    "list se hatao",
  ],
  ar: [
    "إلغاء الاشتراك",
    "الغاء الاشتراك",
    "توقف",
    "تـوقـف",
    "إِلْغَاءُ الاشْتِرَاكِ",
    "أريد إلغاء الاشتراك",
    "لا ترسلوا لي رسائل",
    "لا أريد رسائل",
    "توقفوا عن إرسال الرسائل",
    "احذف رقمي",
  ],
};

const OPT_IN: Table = {
  en: [
    "START",
    "start",
    "Subscribe",
    "subscribe me",
    "yes send me offers",
    "Yes! Send me your deals",
    "sign me up",
    "I want to receive your promotions",
    "UNSTOP",
    "opt in",
  ],
  es: [
    "ALTA",
    "alta",
    "darme de alta",
    "quiero suscribirme",
    "suscribirme",
    "Sí, quiero recibir ofertas",
    "envíenme promociones",
  ],
  pt: ["reativar", "quero receber ofertas", "quero voltar a receber promoções", "me inscrever"],
  fr: ["je veux recevoir", "Je voudrais recevoir vos offres", "m'abonner", "abonnez-moi", "je m'abonne"],
  de: ["anmelden", "Bitte melden Sie mich an", "Ich möchte Angebote erhalten", "abonnieren"],
  it: ["iscrivimi", "vorrei ricevere le offerte", "voglio iscrivermi"],
  nl: ["aanmelden", "meld me aan", "schrijf me in", "ik wil graag aanbiedingen ontvangen"],
  tr: ["abone ol", "abone olmak istiyorum", "beni abone yap", "kampanya almak istiyorum"],
  id: ["mulai", "MULAI", "saya mau berlangganan", "mau terima promo"],
  hi: ["shuru karo", "offers bhejo", "haan bhejo", "start karo"],
  ar: ["اشترك", "أريد الاشتراك", "ارسلوا لي العروض"],
};

/** Everyday messages that contain a keyword and ask for nothing of the kind. */
const NONE: Table = {
  en: [
    "stop by tomorrow",
    "Can I stop by tomorrow to try the boots?",
    "I stopped by the store yesterday",
    "cancel my order",
    "please cancel my order #123",
    "don't stop sending me deals",
    "don't unsubscribe me",
    "I don't want to unsubscribe",
    "stop sending me the wrong size!",
    "What does STOP mean?",
    "why did you stop sending me offers?",
    "I never said stop",
    "can you stop the order?",
    "the bus stop near your shop",
    "when does the sale end?",
    "when do you start shipping to Chile?",
    "please send me the invoice",
    "I'm subscribed to your newsletter and love it",
    "yes",
    "ok",
    "",
    "   ",
    "👍",
  ],
  es: [
    "para mañana",
    "¿Lo tienen para mañana?",
    "la calidad es baja",
    "¿el precio baja en enero?",
    "quiero cancelar mi pedido",
    "¿Tienen la talla alta?",
    "no quiero darme de baja",
    "¿Para qué sirve esta bota?",
  ],
  pt: [
    "vou sair agora, passo aí amanhã",
    "para quando é a entrega?",
    "não quero mais o tênis azul, posso trocar?",
    "quero receber meu pedido amanhã",
  ],
  fr: [
    "ne me désabonnez pas",
    "je veux recevoir ma commande demain",
    "arrêt de bus le plus proche ?",
    "à quelle heure vous fermez ?",
  ],
  de: [
    "ich habe keine Nachricht erhalten",
    "Bitte nicht abmelden",
    "Wann ist die Bestellung da?",
    "Ich kann mich im Shop nicht anmelden",
  ],
  it: ["mi basta una taglia 40", "annulla il mio ordine", "non voglio annullare l'iscrizione"],
  nl: [
    "kan ik de bestelling stoppen?",
    "niet afmelden",
    "hoe laat gaan jullie open?",
    "ik wil me aanmelden voor een account",
  ],
  tr: [
    "siparişimi iptal etmek istiyorum",
    "abonelikten çıkmak istemiyorum",
    "aboneliğimi iptal etme",
    "mağaza kaçta açılıyor?",
  ],
  id: [
    "bisnya berhenti di mana?",
    "jangan kirim dulu pesanannya",
    "kapan mulai diskon?",
    "jangan berhenti kirim promo",
  ],
  hi: [
    "dukaan kab band hoti hai?",
    "order mat bhejo abhi",
    "message band mat karo",
    "kya aapke paas size 9 hai?",
  ],
  ar: ["لا أريد إلغاء الاشتراك", "متى يفتح المتجر؟", "لا ترسل الطلب اليوم", "كم سعر الحذاء؟"],
};

function rows(table: Table): [string, string][] {
  return Object.entries(table).flatMap(([language, texts]) =>
    texts.map((text): [string, string] => [language, text]),
  );
}

describe("classifyConsent", () => {
  const expectations: [Table, ConsentIntent][] = [
    [OPT_OUT, "opt_out"],
    [OPT_IN, "opt_in"],
    [NONE, "none"],
  ];
  for (const [table, intent] of expectations) {
    it.each(rows(table))(`%s: %j is ${intent}`, (_language, text) => {
      expect(classifyConsent(text)).toBe(intent);
    });
  }

  it("covers every language it promises, in both directions and with traps", () => {
    const languages = Object.keys(CONSENT_LANGUAGES).sort();
    expect(languages).toEqual(
      expect.arrayContaining(["ar", "de", "en", "es", "fr", "hi", "id", "it", "nl", "pt", "tr"]),
    );
    for (const table of [OPT_OUT, OPT_IN, NONE]) expect(Object.keys(table).sort()).toEqual(languages);
  });

  it("ignores case, accents, punctuation, emoji, full-width letters and Arabic letter variants", () => {
    for (const text of [
      "ＳＴＯＰ",
      "¡¡BAJA!!",
      "Désabonner",
      "DESABONNER",
      "dESaBoNnEr",
      "✋ stop ✋",
      "اِلغاء الاشتراك",
      "إلغـــاء الاشتراك",
    ]) {
      expect(classifyConsent(text), text).toBe("opt_out");
    }
  });

  it("uses the locale for words that are keywords in one language only, and never needs it", () => {
    expect(classifyConsent("para", "pt-BR")).toBe("opt_out");
    expect(classifyConsent("PARA", "pt")).toBe("opt_out");
    expect(classifyConsent("para")).toBe("none");
    expect(classifyConsent("para", "es")).toBe("none");
    expect(classifyConsent("alto", "es-MX")).toBe("opt_out");
    expect(classifyConsent("alto", "it")).toBe("none");
    expect(classifyConsent("STOP", "xx")).toBe("opt_out");
    expect(classifyConsent("STOP", "es")).toBe("opt_out");
    expect(classifyConsent("para mañana", "pt-BR")).toBe("none");
  });

  it("lets an opt-out win over an opt-in in the same message", () => {
    expect(classifyConsent("stop sending promos, but subscribe me to the newsletter")).toBe("opt_out");
    expect(classifyConsent("START")).toBe("opt_in");
  });

  it("refuses what is not text", () => {
    expect(() => classifyConsent(42 as unknown as string)).toThrow(TypeError);
    expect(() => classifyConsent("STOP", 7 as unknown as string)).toThrow(TypeError);
  });
});
