/**
 * Whether the offline assistant should hand a conversation to a person, from the customer's
 * recent messages (oldest first). Four reasons, checked in this order:
 * - a legal threat ("lawyer", "I'll sue", "procon", "avocat");
 * - a billing dispute ("charged twice", "refund my money", "cobro doble");
 * - an explicit request for a person ("talk to a human", "falar com um atendente");
 * - repeated frustration: two or more of the last few messages angry, insulting, "useless",
 *   shouted in capitals or ending in "!!!" or "???".
 * A phrase negated just before it ("I don't need an agent") does not count; nor does a person or
 * an agent merely mentioned ("the person at the store was nice", "my agent code is 123").
 * See docs/decisions/015-offline-language-rules.md for how to add a language.
 */
import {
  clauses,
  compilePhrase,
  isNegated,
  isShouted,
  listItems,
  matchPhrase,
  normalizeText,
  type CompiledPhrase,
  type Negators,
  type Slots,
} from "./phrases";

export interface HandoffDecision {
  handoff: boolean;
  /** Short and human-readable, shown to the agent who takes over. */
  reason?: string;
}

export const HANDOFF_REASONS = {
  legal: "legal threat",
  billing: "billing dispute",
  person: "asked for a person",
  frustration: "repeated frustration",
} as const;

interface LanguageRules {
  /** The whole message is a request for a person ("agent", "atendente"), comma-separated. */
  readonly personKeywords: string;
  /** Phrases (see `compilePhrase`): a request for a person, a billing dispute, a legal threat. */
  readonly person: readonly string[];
  readonly billing: readonly string[];
  readonly legal: readonly string[];
  /** Anger, insults, "this is useless": one message with one of these is a frustrated message. */
  readonly frustration: readonly string[];
  /** `{human}`: words for a person who works there; `{someone}`: anyone at all. */
  readonly slots: Slots;
  readonly negators: { readonly before: readonly string[]; readonly after?: readonly string[] };
}

// ---------------------------------------------------------------------------------------------
// Phrase tables, one block per language. A person must be asked for ("talk to", "connect me
// with", "I want"), not just named.
// ---------------------------------------------------------------------------------------------

const EN: LanguageRules = {
  personKeywords:
    "human, agent, person, representative, operator, real person, live agent, human agent, customer service, a human, an agent, human being, live person",
  person: [
    "(talk|speak|chat) (to|with) {any} ({human}|{someone})",
    "(connect|transfer|put) (me|us) (to|with|through to) {any} ({human}|{someone})",
    "(get|find) me {any} {human}",
    "(need|want|would like|d like) {any} {human}",
    "is there (a|any) (human|real person|person|agent)",
    "(a|an) (real|actual|live) (person|human|agent)",
    "{human} please",
  ],
  billing: [
    "chargeback|overcharged|fraud",
    "(charged|billed|debited|charging) (me |us )?(twice|two times|2 times|double|three times|3 times)",
    "double (charged|charge|billed|billing|payment)",
    "(unauthorized|unauthorised|fraudulent|unrecognized|unrecognised|unknown) (charge|charges|transaction|payment|debit)",
    "refund my money",
    "(want|need|give me|send me|get) my money back",
    "where is my refund",
    "(did not|never) (get|receive|got) my refund",
    "dispute {any} (charge|payment|transaction)",
    "charged (me )?(the )?wrong amount",
    "(stole|stealing|took) my money",
  ],
  legal: [
    "lawyer|lawyers|attorney|solicitor|suing|lawsuit",
    "sue (you|u|your|the|this|them|all)",
    "(will|going to|gonna|ll) sue",
    "legal action",
    "(take|taking) (you|this|it|them) to court",
    "see you in court",
    "small claims",
    "consumer protection",
    "better business bureau",
    "trading standards",
    "(report|reporting) (you|this) to (the )?(authorities|police|bbb|consumer)",
  ],
  frustration: [
    "useless|pointless|unhelpful|ridiculous|unacceptable|absurd|pathetic|terrible|horrible|awful|worst|stupid|idiot|idiots|dumb|wtf|fuck|fucking|shit|crap|damn|frustrated|frustrating|annoying|angry|furious|pissed|scam",
    "not (very |really |at all )?helpful",
    "(you|u) (do not|dont) (understand|get it|listen)",
    "(you|u) (are|re) not (understanding|listening|helping)",
    "what the (hell|fuck)",
    "waste of (my )?time",
    "(already|i) (told|said) (you|that|this)",
    "for the (second|third|fourth|fifth|last) time",
    "how many times",
    "(answer|listen to) me",
    "fed up",
    "sick (of|and tired)",
    "makes no sense",
    "(is|this) a joke",
    "are you kidding",
  ],
  slots: {
    human:
      "human|humans|human being|real person|live person|actual person|live agent|human agent|agent|representative|rep|operator|customer service|customer support|support team|staff member|staff|employee|manager|supervisor",
    someone: "someone|somebody|anyone|person|people|a person",
  },
  negators: { before: ["not", "no", "never"] },
};

const ES: LanguageRules = {
  personKeywords:
    "asesor, asesora, humano, agente, operador, operadora, persona real, representante, un asesor, un humano",
  person: [
    "(hablar|comunicarme|comunicar|charlar|platicar|conversar|hable) con {any} {persona}",
    "(me )?(pasas|pasa|pase|pasen|pasame|paseme|pasenme|comunicame|comuniqueme|transfiereme|transfierame|comunicarme) (con|a) {any} {persona}",
    "(quiero|necesito|puedo|dame|deme) {any} (humano|asesor|asesora|agente|operador|operadora|persona real|ser humano|representante)",
    "atencion (humana|personalizada)",
  ],
  billing: [
    "contracargo|fraude",
    "(cobro|cargo|pago) (doble|duplicado)",
    "doble (cobro|cargo|pago)",
    "(me )?(cobraron|cobraste|cobro|cobran|cobraron) (dos veces|doble|de mas|2 veces)",
    "(cargo|cobro|compra) (no autorizado|no autorizada|no reconocido|no reconocida|indebido|indebida)",
    "(devuelvanme|devuelveme|devuelvame|regresenme|quiero|reembolsen|reembolsenme) (mi|el) dinero",
    "mi dinero de vuelta",
  ],
  legal: [
    "abogado|abogada|abogados|denuncia|profeco|sernac|indecopi|tribunal|juzgado",
    "demandar(los|les|te|lo|la)?",
    "(los|les|te|lo|la) (voy a|vamos a) demandar",
    "demanda judicial",
    "denunciar(los|les|te|lo|la)?",
    "(los|les|te|lo|la) (voy a|vamos a) denunciar",
    "acciones? legal(es)?",
    "defensa del consumidor",
  ],
  frustration: [
    "inutil|inutiles|pesimo|pesima|horrible|ridiculo|ridicula|estafa|estupido|estupida|idiota|idiotas|mierda|carajo|harto|harta|verguenza|porqueria|basura",
    "no sirve(s|n)?( para nada)?",
    "no (me )?(ayuda|ayudas|ayudan)",
    "no (me )?(entiende|entiendes|entienden)",
    "que mal servicio",
    "ya (te|les) (dije|lo dije|explique)",
    "es el colmo",
    "no me (estas|estan) escuchando",
  ],
  slots: {
    persona:
      "persona|humano|humana|agente|asesor|asesora|operador|operadora|representante|alguien|encargado|encargada|supervisor|gerente|ejecutivo|ejecutiva|vendedor|vendedora|ser humano|persona real",
  },
  negators: { before: ["no", "nunca", "jamas"] },
};

const PT: LanguageRules = {
  personKeywords: "atendente, humano, atendimento humano, pessoa real, um atendente, um humano, operador",
  person: [
    "(falar|conversar|falo|fala) com {any} {pessoa}",
    "(quero|preciso|queria|gostaria de) {any} (atendente|humano|atendimento humano|pessoa real|ser humano|operador|operadora)",
    "atendimento humano",
    "(me )?(passa|passe|transfere|transfira|transferir) (para|pra|pro) {any} {pessoa}",
  ],
  billing: [
    "estorno|fraude|chargeback",
    "(cobrado|cobrada|cobraram|cobrou|cobrando|debitaram|debitado) (duas vezes|em dobro|a mais|2 vezes)",
    "cobranca (duplicada|em dobro|indevida|nao autorizada|nao reconhecida)",
    "(compra|cobranca|debito) nao (reconhecida|reconhecido|autorizada|autorizado)",
    "(devolvam|devolve|devolva|quero|devolver) (o )?meu dinheiro",
    "meu dinheiro de volta",
  ],
  legal: [
    "advogado|advogada|advogados|procon|juizado|denunciar",
    "(vou|vamos|irei|posso) processar",
    "processar (voces|vcs|a loja|a empresa)",
    "processo judicial",
    "acao judicial",
    "reclame aqui",
    "pequenas causas",
    "(na|a) justica",
  ],
  frustration: [
    "inutil|pessimo|pessima|horrivel|ridiculo|ridicula|absurdo|palhacada|lixo|idiota|merda|porra|vergonha|descaso|porcaria|golpe",
    "nao (me )?(ajuda|ajudou|ajudam|ajudando)",
    "(voce|vc|voces) nao (entende|entendeu|esta entendendo|entendem)",
    "nao (esta )?entendendo",
    "ja (falei|disse|expliquei)",
    "que saco",
    "nao aguento mais",
  ],
  slots: {
    pessoa:
      "atendente|humano|humana|pessoa|agente|operador|operadora|representante|alguem|gerente|consultor|consultora|vendedor|vendedora|ser humano|pessoa real",
  },
  negators: { before: ["nao", "nunca"] },
};

const FR: LanguageRules = {
  personKeywords: "conseiller, conseillere, humain, un humain, operateur, un conseiller, vraie personne",
  person: [
    "parler (a|avec) {any} {personne}",
    "(veux|voudrais|aimerais|souhaite) {any} (conseiller|conseillere|humain|vraie personne|vrai humain|operateur|operatrice)",
    "(passez|passe|transferez|mettez) moi {any} {personne}",
  ],
  billing: [
    "fraude",
    "(debite|debitee|facture|facturee|preleve|prelevee|paye) (deux fois|2 fois|en double)",
    "double (prelevement|paiement|debit|facturation)",
    "(prelevement|paiement|debit) (non autorise|frauduleux)",
    "(rembourser|remboursez|remboursez moi) mon argent",
    "rendez moi mon argent",
    "(veux|exige) (etre rembourse|mon argent)",
  ],
  legal: [
    "avocat|avocats|plainte|tribunal|dgccrf",
    "poursuivre en justice",
    "(porter|deposer|porte|depose) plainte",
    "mise en demeure",
    "action en justice",
    "association de consommateurs",
  ],
  frustration: [
    "inutile|nul|nulle|ridicule|inadmissible|scandaleux|honteux|merde|putain|arnaque|marre|insupportable",
    "ne (comprenez|comprends|comprend) (rien|pas)",
    "n importe quoi",
    "une honte",
    "deja dit",
    "sert a rien",
  ],
  slots: {
    personne:
      "conseiller|conseillere|humain|humaine|personne|agent|operateur|operatrice|responsable|quelqu un|vrai humain|vraie personne|service client|vendeur|vendeuse|etre humain|interlocuteur",
  },
  negators: { before: ["ne", "n", "jamais"], after: ["pas"] },
};

const DE: LanguageRules = {
  personKeywords: "mitarbeiter, mensch, berater, echter mensch, kundenservice",
  person: [
    "mit {any} {mensch} (sprechen|reden|verbunden|verbinden|telefonieren|chatten)",
    "(sprechen|reden) mit {any} {mensch}",
    "(verbinden sie|verbinde|verbindet) (mich|uns) mit {any} {mensch}",
  ],
  billing: [
    "ruckbuchung|betrug",
    "(doppelt|zweimal|2 mal) (abgebucht|berechnet|belastet|bezahlt|abgerechnet)",
    "doppelte (abbuchung|zahlung|belastung|rechnung)",
    "(unberechtigte|nicht autorisierte|unbekannte) (abbuchung|zahlung|belastung)",
    "(will|mochte|moechte|wollen) (mein|unser) geld zuruck",
  ],
  legal: [
    "anwalt|anwaltin|anwalte|rechtsanwalt|rechtsanwaltin|verklagen|klage|gericht|verbraucherzentrale|strafanzeige",
    "rechtliche schritte",
    "anzeige erstatten",
  ],
  frustration: [
    "nutzlos|unbrauchbar|lacherlich|unverschamt|frechheit|scheisse|scheiss|katastrophe|zumutung",
    "(sie|du|ihr) (verstehen|verstehst|versteht) (mich )?nicht",
    "hilft (mir )?nicht",
    "(nicht|wenig) hilfreich",
    "schon (gesagt|geschrieben)",
    "nase voll",
  ],
  slots: {
    mensch:
      "mensch|menschen|mitarbeiter|mitarbeiterin|berater|beraterin|person|agenten|kundenservice|kundendienst|jemandem|verkaufer|support|menschlichen",
  },
  negators: { before: ["nicht", "kein", "keinen", "keine", "nie"], after: ["nicht"] },
};

const IT: LanguageRules = {
  personKeywords: "operatore, operatrice, umano, un operatore, persona reale",
  person: [
    "parlare con {any} {persona}",
    "(voglio|vorrei) {any} (operatore|operatrice|umano|persona reale|essere umano)",
    "(passami|passatemi|mettimi in contatto con|collegami con) {any} {persona}",
  ],
  billing: [
    "frode",
    "(addebitato|addebitata|addebitati|pagato|prelevato) (due volte|2 volte|doppio)",
    "doppio (addebito|pagamento)",
    "addebito non autorizzato",
    "(rivoglio|ridatemi|restituitemi|voglio indietro) i miei soldi",
    "rimborsare i miei soldi",
  ],
  legal: [
    "avvocato|avvocata|avvocati|denuncia|denunciare|tribunale|codacons|altroconsumo",
    "fare causa",
    "(vi|ti) denuncio",
    "azioni legali",
    "vie legali",
    "giudice di pace",
  ],
  frustration: [
    "inutile|ridicolo|ridicola|pessimo|pessima|schifo|vergogna|cazzo|assurdo|incompetenti|stufo|stufa",
    "non (mi )?(capisci|capite)",
    "non (mi )?(aiuti|aiutate)",
    "non serve a niente",
    "(ti|vi) ho gia (detto|scritto)",
  ],
  slots: {
    persona:
      "operatore|operatrice|persona|umano|agente|assistente|qualcuno|consulente|responsabile|persona reale|essere umano|addetto",
  },
  negators: { before: ["non", "mai"] },
};

const NL: LanguageRules = {
  personKeywords: "medewerker, echte mens, klantenservice",
  person: [
    "(spreken|praten|bellen|chatten) met {any} {mens}",
    "{mens} (spreken|te spreken)",
    "met {any} {mens} (spreken|praten|bellen|chatten)",
  ],
  billing: [
    "fraude",
    "(dubbel|twee keer|2 keer) (afgeschreven|betaald|gefactureerd|in rekening gebracht)",
    "onterechte (afschrijving|betaling)",
    "(wil|ik wil) mijn geld terug",
  ],
  legal: [
    "advocaat|aanklagen|rechtszaak|consumentenbond",
    "naar de rechter",
    "juridische stappen",
    "aangifte doen",
  ],
  frustration: [
    "nutteloos|belachelijk|waardeloos|kut|schandalig",
    "(je|jij|u|jullie) (begrijpt|snapt|begrijpen|snappen) (het |me |mij )?niet",
    "slechte service",
    "al gezegd",
    "helpt niet",
    "heb je niks aan",
  ],
  slots: {
    mens: "medewerker|medewerkster|mens|persoon|iemand|echte mens|echt persoon|klantenservice|adviseur|agent",
  },
  negators: { before: ["niet", "geen"] },
};

const TR: LanguageRules = {
  personKeywords: "temsilci, musteri temsilcisi, canli destek, yetkili, musteri hizmetleri",
  person: [
    "(musteri )?(temsilcisi|temsilcisiyle|temsilcisine|temsilci|temsilciyle|hizmetleri|hizmetleriyle) {any} (istiyorum|gorusmek|konusmak|baglayin|aktarin|lutfen)",
    "yetkili(yle|ye)? (ile )?(gorusmek|konusmak)",
    "canli destek",
    "(insan|insanla|gercek bir insan|gercek insan|gercek bir insanla|biriyle|bir yetkiliyle) (konusmak|gorusmek)",
    "(temsilciye|yetkiliye|insana) (baglayin|aktarin|bagla|aktar)",
  ],
  billing: [
    "dolandiricilik",
    "iki (kez|kere|defa) (cekildi|ucret alindi|odeme alindi|tahsil edildi)",
    "(cift|mukerrer) (cekim|odeme|tahsilat)",
    "izinsiz (cekim|odeme)",
    "param(i)? (iade edin|geri istiyorum|geri verin)",
  ],
  legal: [
    "avukat(im|ima|imla|la|a)?|mahkeme(ye)?|savcilik|savciliga",
    "dava (acacagim|acarim|acacagiz|acmak)",
    "tuketici hakem heyeti",
    "tuketici mahkemesi",
  ],
  frustration: [
    "anlamiyorsun|anlamiyorsunuz|sacma|rezalet|berbat|aptal|biktim|salak|gerizekali",
    "ise yaramaz",
    "ise yaramiyor",
    "yeter artik",
    "yardimci olmuyorsun",
    "kac kere (soyledim|yazdim)",
  ],
  slots: {},
  // Turkish negates the verb with a suffix: "konusmak istemiyorum".
  negators: { before: [], after: ["istemiyorum", "istemem"] },
};

const ID: LanguageRules = {
  personKeywords: "cs, admin, manusia, operator, customer service, agen",
  person: [
    "(bicara|berbicara|ngobrol|ngomong|chat|hubungkan|sambungkan|disambungkan) (dengan|ke|sama) {any} {orang}",
    "(minta|mau|butuh|pengen|ingin) {any} (cs|admin|manusia|agen|operator|customer service|orang asli)",
  ],
  billing: [
    "penipuan",
    "(ditagih|terpotong|kepotong|dipotong|didebet) (dua kali|2 kali|double)",
    "tagihan ganda",
    "potongan tidak sah",
    "(kembalikan|balikin) uang (saya|aku|gue)",
    "uang (saya|aku) (kembali|dikembalikan)",
  ],
  legal: [
    "pengacara|tuntut|menuntut|gugat|menggugat|ylki|bpsk|somasi",
    "kuasa hukum",
    "jalur hukum",
    "lapor polisi",
  ],
  frustration: [
    "bodoh|payah|kesal|kesel|nyebelin|goblok|tolol|kecewa",
    "(tidak|gak|ga|nggak|ngga) membantu",
    "(tidak|gak|ga|nggak|ngga) (mengerti|paham|ngerti)",
    "(sudah|udah) (saya )?(bilang|dibilang)",
    "bikin emosi",
  ],
  slots: {
    orang: "manusia|cs|admin|agen|petugas|operator|orang|customer service|karyawan|staf|staff|orang asli",
  },
  negators: { before: ["tidak", "tak", "gak", "ga", "nggak", "ngga", "jangan", "bukan"] },
};

/** Hindi as people type it in Latin script (Hinglish). */
const HI: LanguageRules = {
  personKeywords: "insaan, insan, customer care, agent se baat",
  person: [
    "{insaan} se (baat|bat)",
    "{insaan} se (connect|milao|milwao|jodo)",
    "(human|agent|executive|customer care|insaan) (chahiye|chaiye|do)",
  ],
  billing: [
    "fraud",
    "(do baar|2 baar|double) (paise |paisa |payment )?(kat|kate|kaat|cut|deduct|charge)",
    "double (payment|charge) (ho gaya|ho gya|hua)",
    "(paise|paisa|paisay) (wapas|vapas)",
  ],
  legal: [
    "vakil|wakil",
    "consumer court",
    "consumer forum",
    "legal notice",
    "court (mein|me|jaunga|jayenge)",
    "case (kar dunga|karunga|karenge|kar denge)",
    "police complaint",
  ],
  frustration: [
    "bekaar|bekar|bakwas|bakwaas|pagal|bewakoof|bevkoof|faltu|ghatiya",
    "samajh nahi (aa raha|aata|aa rahi|rahe|rahi)",
    "samjhe nahi",
    "kitni baar",
    "pehle hi (bola|bataya)",
    "dimag kharab",
  ],
  slots: {
    insaan:
      "insaan|insan|aadmi|banda|bande|agent|person|human|executive|customer care|representative|kisi|kisi insaan|kisi aadmi|asli insaan|real person|manager|staff",
  },
  negators: { before: ["nahi", "mat", "na"], after: ["nahi", "mat"] },
};

/** Arabic script; normalised text has bare alef, ي for ى and ه for ة. */
const AR: LanguageRules = {
  personKeywords: "موظف, خدمه العملاء, انسان, شخص حقيقي",
  person: [
    "(التحدث|التكلم|الكلام|اتكلم|احكي|اكلم|تكلم|التواصل|اتحدث) (مع|الى|ل) {any} {shakhs}",
    "(حولني|حولوني|وصلني|وصلوني|حولني الى|وصلني ب) {any} {shakhs}",
    "(اريد|ابغى|ابي|بدي|عايز|ممكن) {any} (موظف|انسان|شخص حقيقي|خدمه العملاء|مندوب|بشري)",
  ],
  billing: [
    "احتيال|نصب",
    "(خصم|خصموا|سحب|سحبوا|تم خصم|تم سحب|انخصم) {any} (مرتين|مرتان)",
    "خصم مزدوج",
    "(خصم|سحب|عمليه) غير (مصرح|معروفه|معروف)",
    "(ارجعوا|رجعوا|استرجاع|اريد|استرداد) (اموالي|فلوسي|المبلغ|مالي)",
  ],
  // Words carry their prefixes: "بالمحامي" is "with the lawyer".
  legal: ["[وبلف]?(ال)?(محامي|محكمه)|مقاضا(ه|تكم)|سا?قاضي(كم)?", "دعوي قضائيه", "حمايه المستهلك"],
  frustration: [
    "غبي|سيء|سيئ|سيئه|زفت|تافه|سخيف|مهزله",
    "(لا|ما|ما بت|مش) (تفهم|فاهم|فاهمني)",
    "بدون فائده",
    "(مافي|ما في|لا) (فايده|فائده)",
    "قلت لك",
    "كم مره",
  ],
  slots: {
    shakhs: "موظف|شخص|انسان|بشري|مندوب|ممثل|خدمه العملاء|المدير|مسؤول|الدعم|احد الموظفين|موظفه",
  },
  negators: { before: ["لا", "لن", "ما", "مش", "ليس", "لم"] },
};

export const HANDOFF_LANGUAGES = {
  en: EN,
  es: ES,
  pt: PT,
  fr: FR,
  de: DE,
  it: IT,
  nl: NL,
  tr: TR,
  id: ID,
  hi: HI,
  ar: AR,
};

/** How many of the latest messages are read for frustration, and how many must show it. */
const FRUSTRATION_WINDOW = 5;
const FRUSTRATED_MESSAGES = 2;

/** A message that thanks or praises is not angry, whatever its punctuation ("Thanks!!!"). */
const GRATITUDE = compilePhrase(
  `(${[
    "en: thanks, thank you, thx, great, awesome, perfect, love, amazing, excellent, nice",
    "es: gracias, genial, perfecto, excelente, buenisimo",
    "pt: obrigado, obrigada, valeu, otimo, perfeito, maravilha",
    "fr: merci, parfait, super",
    "de: danke, perfekt, toll",
    "it: grazie, perfetto, ottimo",
    "nl: bedankt, dank je, top",
    "tr: tesekkurler, tesekkur ederim, harika",
    "id: terima kasih, makasih, mantap",
    "hi: shukriya, dhanyavaad, badhiya",
    "ar: شكرا, ممتاز",
  ]
    .flatMap(listItems)
    .join("|")})`,
);

type Category = "person" | "billing" | "legal" | "frustration";

interface CompiledLanguage {
  readonly personKeywords: ReadonlySet<string>;
  readonly phrases: Record<Category, readonly CompiledPhrase[]>;
  readonly negators: Negators;
}

const COMPILED: readonly CompiledLanguage[] = Object.values(HANDOFF_LANGUAGES).map((rules) => {
  const compile = (list: readonly string[]) => list.map((phrase) => compilePhrase(phrase, rules.slots));
  return {
    personKeywords: new Set(listItems(rules.personKeywords)),
    phrases: {
      person: compile(rules.person),
      billing: compile(rules.billing),
      legal: compile(rules.legal),
      frustration: compile(rules.frustration),
    },
    negators: { before: new Set(rules.negators.before), after: new Set(rules.negators.after ?? []) },
  };
});

/** Politeness around a one-word request ("agent please", "human!!"). */
const POLITE = compilePhrase(
  "(please|pls|plz|por favor|s il vous plait|bitte|per favore|tolong|lutfen|i want|i need|quiero|quero|necesito|preciso)",
);

/** A message as normalised clauses: a negation never reaches across punctuation ("No, I want a human"). */
function clausesOf(message: string): string[] {
  return clauses(message).map(normalizeText);
}

function says(messageClauses: readonly string[], category: Category): boolean {
  return messageClauses.some((clause) => {
    const tokens = clause === "" ? [] : clause.split(" ");
    return COMPILED.some((language) =>
      language.phrases[category].some((phrase) =>
        matchPhrase(phrase, clause).some((match) => !isNegated(tokens, match, language.negators)),
      ),
    );
  });
}

function asksForPerson(message: string): boolean {
  const bare = normalizeText(message).replace(POLITE.regex, " ").replace(/\s+/g, " ").trim();
  return COMPILED.some((language) => language.personKeywords.has(bare)) || says(clausesOf(message), "person");
}

/** Angry words, or (in a message that thanks no one) capitals, "!!!" or "???". */
function isFrustrated(message: string): boolean {
  if (says(clausesOf(message), "frustration")) return true;
  const normalized = normalizeText(message);
  if (matchPhrase(GRATITUDE, normalized).length > 0) return false;
  const exclaimed = /[!?！？]{3,}/.test(message);
  const casedLetters = (message.match(/\p{L}/gu) ?? []).filter((ch) => ch.toLowerCase() !== ch.toUpperCase());
  const shouted = isShouted(message) && casedLetters.length >= 12 && normalized.split(" ").length >= 3;
  return exclaimed || shouted;
}

/**
 * Whether to hand the conversation to a person, and why. `messages` are the customer's recent
 * messages, oldest first.
 */
export function decideHandoff(messages: string[]): HandoffDecision {
  if (!Array.isArray(messages) || messages.some((m) => typeof m !== "string")) {
    throw new TypeError("decideHandoff: messages must be an array of strings");
  }
  const split = messages.map(clausesOf);

  if (split.some((c) => says(c, "legal"))) return { handoff: true, reason: HANDOFF_REASONS.legal };
  if (split.some((c) => says(c, "billing"))) return { handoff: true, reason: HANDOFF_REASONS.billing };
  if (messages.some(asksForPerson)) return { handoff: true, reason: HANDOFF_REASONS.person };

  const frustrated = messages.slice(-FRUSTRATION_WINDOW).filter(isFrustrated).length;
  if (frustrated >= FRUSTRATED_MESSAGES) return { handoff: true, reason: HANDOFF_REASONS.frustration };

  return { handoff: false };
}
