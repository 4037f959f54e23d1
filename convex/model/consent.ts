/**
 * Reads a customer's message for a marketing consent change: an opt-out ("STOP", "darme de
 * baja", "keine Nachrichten mehr") or an opt-in ("START", "suscribirme", "abone ol").
 *
 * Two kinds of evidence, per language:
 * - keywords: the whole message (politeness and emoji aside) is one of them ("STOP", "BAJA 🙏"),
 *   or a clause written in capitals is ("STOP. I never gave you my number");
 * - phrases: a longer message contains a clear request about messages or a subscription
 *   ("stop messaging me", "não quero mais receber"), not a mere "stop" ("stop by tomorrow"),
 *   and no negation comes just before it ("don't unsubscribe me").
 * An opt-out wins over an opt-in in the same message: honouring a wrong opt-out costs a
 * promotion, ignoring a real one breaks the customer's trust and WhatsApp's policy.
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

export type ConsentIntent = "opt_out" | "opt_in" | "none";

interface LanguageRules {
  /** Whole-message keywords, comma-separated (normalised: lowercase, no accents). */
  readonly optOutKeywords: string;
  readonly optInKeywords: string;
  /** Phrases anywhere in a clause; see `compilePhrase` for the syntax. */
  readonly optOutPhrases: readonly string[];
  readonly optInPhrases: readonly string[];
  /**
   * Alternatives for `{slot}`s: `{msg}` anything sent, `{promo}` marketing only (an opt-in must
   * be about offers, not "send me the invoice"), `{det}` determiners.
   */
  readonly slots: Slots;
  /** Words that cancel a phrase when they come just before (or, for some languages, after) it. */
  readonly negators: { readonly before: readonly string[]; readonly after?: readonly string[] };
}

// ---------------------------------------------------------------------------------------------
// Phrase tables, one block per language. Keep phrases specific: each must say "stop sending
// me messages" or "sign me up for messages", never just "stop" or "cancel".
// ---------------------------------------------------------------------------------------------

const EN: LanguageRules = {
  optOutKeywords:
    "stop, stopall, stop all, stop it, stop messages, stop messaging, stop texting, stop sending, unsubscribe, unsubscribe me, unsub, cancel, end, quit, opt out, optout, remove me, revoke",
  optInKeywords: "start, unstop, subscribe, subscribe me, resubscribe, opt in, optin, sign me up",
  optOutPhrases: [
    "unsubscribe( me| us)?",
    "unsub",
    "opt (me |us )?out",
    "optout",
    "(stop|quit) (messaging|texting|contacting|spamming|bothering|emailing|whatsapping|messaging to|writing to) (me|us)",
    "stop (sending|send) (me |us )?({det} )?{msg}",
    "stop sending( me| us)?$",
    "stop ({det} )?{msg}",
    "no more {msg}",
    "(i said|i told you|told you to|i asked you to) stop",
    "stop (receiving|getting) ({det} )?{msg}",
    "no longer (want|wish) to (receive|get) ({det} )?{msg}",
    "do not (send|text|message|contact|email|whatsapp|spam) (me|us)",
    "do not want ({det} )?(more )?{msg}",
    "do not want to (receive|get) ({det} )?(more )?{msg}",
    "never (message|text|contact) (me|us)",
    "remove (me|my number) from ({det} )?(list|lists|mailing list|contact list|database)",
    "take (me|my number) off ({det} )?(list|lists|mailing list)",
    "(cancel|end|terminate) ({det} )?(subscription|subscriptions)",
    "cancel ({det} )?{msg}",
  ],
  optInPhrases: [
    "subscribe( me| us)?",
    "resubscribe",
    "opt (me |us )?in",
    "optin",
    "sign (me|us) up",
    "unstop",
    "send me ({det} )?{promo}",
    "(start|keep) sending me ({det} )?{promo}",
    "want to (receive|get) ({det} )?{promo}",
    "want ({det} )?{promo}",
  ],
  slots: {
    det: "the|these|this|those|your|my|our|all|any|all the|all these|all your|such",
    msg: "messages?|texts?|msgs?|sms|spam|promotions?|promos?|offers?|deals?|ads?|adverts?|advertising|marketing|notifications?|newsletters?|updates|alerts|whatsapps?|emails?",
    promo: "offers|deals|promotions|promos|discounts|news|newsletters?|marketing|coupons",
  },
  // "why" and "if" make a question or a condition of it: "why did you stop sending me offers?"
  negators: { before: ["not", "never", "no", "why", "if"] },
};

const ES: LanguageRules = {
  optOutKeywords:
    "baja, de baja, dar de baja, darme de baja, dame de baja, denme de baja, parar, cancelar, basta, detener, desuscribir, desuscribirme, no mas",
  optInKeywords:
    "alta, de alta, dar de alta, darme de alta, dame de alta, suscribir, suscribirme, suscribeme, reactivar",
  optOutPhrases: [
    "(dar|darme|dame|denme|deme|doy|darse) de baja",
    "(quiero|solicito|pido) (la )?baja",
    "desuscrib(ir|irme|eme|anme|ase)",
    "(anular|cancelar) (mi |la )?suscripcion",
    "no (me )?(envien|envies|envie|manden|mandes|mande|escriban|escribas) (mas|nada)",
    "no (me )?(envien|envies|envie|manden|mandes|mande) ({det} )?{msg}",
    "no quiero (recibir )?(mas )?({det} )?{msg}",
    "(ya )?no quiero recibir mas$",
    "(dejen|deja|deje|dejar) de (enviarme|mandarme|escribirme|contactarme|molestarme|enviar {msg}|mandar {msg})",
    "(para|paren|pare|parar) de (enviarme|mandarme|escribirme|enviar|mandar)",
    "dejar de recibir($| ({det} )?{msg})",
    "(no mas|basta de) ({det} )?{msg}",
    "(eliminar|eliminame|eliminarme|eliminenme|sacame|sacarme|saquenme|borrame|borrarme|borrenme|quitame|quitarme|quitenme) de (la|su|tu|esta|vuestra) lista",
    "(cancelar|parar|detener) ({det} )?{msg}",
  ],
  optInPhrases: [
    "(dar|darme|dame|denme|deme|doy) de alta",
    "suscrib(ir|irme|eme|anme)",
    "(quiero|me gustaria|deseo|quisiera) (volver a )?recibir ({det} )?{promo}",
    "(envienme|enviame|mandenme|mandame) ({det} )?{promo}",
    "reactivar ({det} )?{msg}",
    "volver a recibir ({det} )?{msg}",
  ],
  slots: {
    det: "los|las|estos|estas|esos|esas|sus|tus|mas|sus",
    msg: "mensajes?|sms|whatsapps?|promociones|promocion|promos?|ofertas?|publicidad|notificaciones|novedades|correos?|spam|anuncios?",
    promo: "ofertas|promociones|promos|novedades|descuentos|publicidad",
  },
  negators: { before: ["no", "nunca", "jamas", "tampoco"] },
};

const PT: LanguageRules = {
  optOutKeywords:
    "sair, parar, cancelar, descadastrar, descadastre, me descadastre, nao quero mais, nao quero mais receber",
  optInKeywords: "reativar, inscrever, me inscrever, quero receber, voltar a receber",
  optOutPhrases: [
    "nao quero mais receber",
    "nao quero receber (mais )?({det} )?{msg}",
    "nao quero mais ({det} )?{msg}",
    "nao (me )?(envie|envia|envies|enviem|mande|manda|mandem) mais",
    "nao (me )?(envie|envia|envies|enviem|mande|manda|mandem) ({det} )?{msg}",
    "(pare|para|parem|parar) de (me )?(enviar|mandar|mandando|enviando)",
    "(parar|deixar) de receber($| ({det} )?{msg})",
    "(quero )?sair da (lista|sua lista|lista de transmissao)",
    "quero sair$",
    "me (tira|tirem|tire|remova|removam|exclua|excluam) da lista",
    "(remover|remova|excluir|exclua|tirar|tire) (o )?meu (numero|contato)",
    "(me )?descadastr(ar|e|em|a)",
    "desinscrever",
    "cancelar (a |minha )?(inscricao|assinatura)",
    "chega de ({det} )?{msg}",
  ],
  optInPhrases: [
    "quero (voltar a )?receber ({det} )?{promo}",
    "(me )?inscrever",
    "me (envie|envia|mande|manda|enviem|mandem) ({det} )?{promo}",
    "voltar a receber",
    "reativar ({det} )?{msg}",
  ],
  slots: {
    det: "as|os|essas|esses|suas|seus|mais",
    msg: "mensagens|mensagem|sms|whatsapps?|promocoes|promocao|promos?|ofertas?|propagandas?|publicidade|notificacoes|novidades|emails?|spam|anuncios?",
    promo: "ofertas|promocoes|promos|novidades|descontos",
  },
  negators: { before: ["nao", "nunca", "jamais", "nem"] },
};

const FR: LanguageRules = {
  optOutKeywords:
    "arret, arreter, arretez, desabonner, me desabonner, desabonnez moi, desabonnement, desinscrire, me desinscrire, desinscrivez moi, desinscription",
  optInKeywords: "abonner, m abonner, je m abonne, reabonner, inscrivez moi, je veux recevoir",
  optOutPhrases: [
    "(me |m )?desabonner",
    "desabonn(ez|e) moi",
    "desabonnement",
    "(me )?desinscrire",
    "desinscri(vez|s) moi",
    "desinscription",
    "(arretez|arrete|arreter|cessez|cesse|cesser) (de|d) (m |me )?(envoyer|ecrire|contacter|spammer)",
    "(arretez|arrete|arreter|stoppez|cessez) ({det} )?{msg}",
    "ne (m |me |nous )?(envoyez|envoie|envoyer|ecrivez|contactez) plus",
    "plus (de|d) {msg}",
    "ne veux plus (recevoir|de|d)",
    "ne plus recevoir",
    "(arreter|cesser) de recevoir",
    "(retirez|supprimez|enlevez|retire|supprime|enleve) moi de (la|votre|ta|cette|vos) listes?",
  ],
  optInPhrases: [
    "(veux|voudrais|aimerais|souhaite) recevoir( {det})?( {msg})?$",
    "(veux|voudrais|aimerais|souhaite) recevoir ({det} )?{promo}",
    "(m |me )?abonner",
    "abonnez moi",
    "je m abonne",
    "reabonner",
    "inscrivez moi",
    "(envoyez|envoie) moi ({det} )?{promo}",
  ],
  slots: {
    det: "les|vos|ces|tes|des|vos",
    msg: "messages?|sms|textos?|promotions?|promos?|offres?|publicites?|pubs?|notifications?|newsletters?|mails?|emails?|spam",
    promo: "offres|promotions|promos|nouveautes|reductions|bons plans",
  },
  negators: { before: ["ne", "n", "jamais"], after: ["pas"] },
};

const DE: LanguageRules = {
  optOutKeywords:
    "stopp, abmelden, abbestellen, austragen, abmeldung, melde mich ab, keine nachrichten, keine werbung, keine nachrichten mehr",
  optInKeywords: "anmelden, anmeldung, melde mich an, abonnieren",
  optOutPhrases: [
    "abmelden",
    "abbestellen",
    "austragen",
    "abmeldung",
    "(melde|meldet|melden sie) (mich|uns) (bitte )?ab",
    "(trag|tragt|tragen sie) (mich|uns) (bitte )?aus",
    "(kundigen|kundige|beenden|beende) ({det} )?(abo|abonnement|newsletter)",
    "keine ({det} )?{msg} mehr",
    "(will|mochte|mochten|wollen) keine ({det} )?{msg}",
    "(hort|hor|horen sie|horen) auf( mir| uns)? {any} zu (schreiben|senden|schicken)",
    "(hort|hor|horen sie|horen) auf mit ({det} )?{msg}",
    "nicht mehr (kontaktieren|anschreiben|anschreiben|schreiben|zuschicken)",
    "(schickt|schicken sie|sendet|senden sie|schick|sende) (mir|uns) keine {msg}",
  ],
  optInPhrases: [
    "(newsletter|{msg}) (anmelden|abonnieren)",
    "(melde|meldet|melden sie) (mich|uns) (bitte )?(wieder )?an",
    "abonnieren",
    "(mochte|will|mochten|wollen) {any} {promo} (erhalten|bekommen)",
    "(schickt|schicken sie|sendet|senden sie) (mir|uns) ({det} )?{promo}",
  ],
  slots: {
    det: "die|eure|ihre|diese|ihre|weitere",
    msg: "nachrichten|nachricht|sms|werbung|angebote|newsletter|mitteilungen|benachrichtigungen|mails|emails|spam|whatsapps?|infos",
    promo: "angebote|werbung|newsletter|neuigkeiten|rabatte|aktionen",
  },
  negators: { before: ["nicht", "nie", "niemals", "kein"], after: ["nicht"] },
};

const IT: LanguageRules = {
  optOutKeywords:
    "basta, annulla, annulla iscrizione, cancella iscrizione, disiscrivimi, disiscrivi, disiscrizione, cancellami",
  optInKeywords: "iscrivimi, iscrivermi, riattiva, attiva",
  optOutPhrases: [
    "(annulla|cancella|annullare|cancellare) (l |la mia )?iscrizione",
    "disiscriv(imi|ermi|i|etemi)",
    "disiscrizione",
    "cancellami",
    "(rimuovimi|toglimi|rimuovetemi|toglietemi|cancellatemi|cancellami) dalla (lista|vostra lista|mailing list)",
    "non (voglio|desidero) piu ricevere",
    "non (voglio|desidero) (piu )?(ricevere )?(piu )?({det} )?{msg}",
    "non (mi )?(inviate|mandate|scrivete|inviare|mandare|scrivere) piu",
    "non (inviatemi|mandatemi|scrivetemi) piu",
    "(smettete|smetti|smettetela|smettila) di (inviarmi|mandarmi|scrivermi|inviare|mandare)",
    "smettere di ricevere",
    "basta (con )?({det} )?{msg}",
  ],
  optInPhrases: [
    "iscrivimi",
    "iscrivermi",
    "(voglio|vorrei|desidero) ricevere ({det} )?{promo}",
    "(mandatemi|inviatemi) ({det} )?{promo}",
    "riattiva ({det} )?{msg}",
  ],
  slots: {
    det: "i|le|gli|questi|queste|vostri|vostre|altri|altre",
    msg: "messaggi|messaggio|sms|promozioni|offerte|pubblicita|notifiche|newsletter|spam|email",
    promo: "offerte|promozioni|novita|sconti|newsletter",
  },
  negators: { before: ["non", "mai"] },
};

const NL: LanguageRules = {
  optOutKeywords:
    "stoppen, afmelden, uitschrijven, meld me af, meld mij af, schrijf me uit, geen berichten meer",
  optInKeywords: "aanmelden, inschrijven, meld me aan, meld mij aan, schrijf me in",
  optOutPhrases: [
    "afmelden",
    "uitschrijven",
    "(meld|meldt) (me|mij|ons) (maar )?af",
    "(schrijf|schrijft) (me|mij|ons) (maar )?uit",
    "geen ({det} )?{msg} meer",
    "wil (ik )?geen ({det} )?{msg}",
    "(stop|stoppen|hou op|houd op|kappen) met ({det} )?({msg}|sturen|appen|berichten sturen|mij appen|me appen)",
    "(stuur|stuurt) (me|mij|ons) geen ({det} )?{msg}",
    "niet meer (sturen|appen|mailen|benaderen)",
  ],
  optInPhrases: [
    "aanmelden voor ({det} )?{msg}",
    "inschrijven voor ({det} )?{msg}",
    "(meld|meldt) (me|mij) (weer )?aan",
    "(schrijf|schrijft) (me|mij) (weer )?in",
    "wil {any} {promo} ontvangen",
    "(stuur|stuurt) (me|mij) ({det} )?{promo}",
  ],
  slots: {
    det: "de|die|deze|jullie|uw|je",
    msg: "berichten|bericht|sms|smsjes|appjes|reclame|aanbiedingen|nieuwsbrief|meldingen|notificaties|spam|mails",
    promo: "aanbiedingen|reclame|nieuwsbrief|kortingen|acties",
  },
  negators: { before: ["niet", "nooit", "geen"] },
};

const TR: LanguageRules = {
  optOutKeywords:
    "iptal, dur, durdur, abonelikten cik, abonelikten cikar, abonelik iptal, aboneligi iptal et, mesaj istemiyorum",
  optInKeywords: "abone ol, abone olmak istiyorum, basla, kaydol",
  optOutPhrases: [
    "abonelikten cik(ar|arin|ariniz|mak|mak istiyorum)?",
    "(aboneligi|aboneligimi|abonelik|uyeligimi) iptal( et| edin| etmek istiyorum)?",
    "({det} )?{msg} (gondermeyin|gonderme|atmayin|atma|yollamayin|yollama)",
    "(artik )?{msg} (istemiyorum|almak istemiyorum)",
    "beni (listeden|listenizden) (cikarin|cikar|silin|sil)",
  ],
  optInPhrases: [
    "abone (ol|olmak|olayim|yap)",
    "beni abone (et|edin|yap|yapin)",
    "{promo} (almak istiyorum|istiyorum)",
  ],
  slots: {
    det: "bana|artik|bu|bundan sonra",
    msg: "mesaj|mesajlar|mesajlari|sms|reklam|reklamlar|kampanya|kampanyalar|bildirim|bildirimler|spam",
    promo: "kampanya|kampanyalar|firsatlar|indirimler|reklam",
  },
  // Turkish negates the verb with a suffix, so the negation follows the phrase.
  negators: { before: [], after: ["etme", "etmeyin", "istemiyorum", "istemem", "degil"] },
};

const ID: LanguageRules = {
  optOutKeywords: "berhenti, berhenti berlangganan, batal langganan, stop langganan",
  optInKeywords: "mulai, langganan, berlangganan, mau langganan",
  optOutPhrases: [
    "(berhenti|stop|batal|batalkan) (berlangganan|langganan)",
    "(stop|berhenti|hentikan|stopkan|setop) (kirim|mengirim|ngirim|kirimi|mengirimi)( saya| aku)?( {msg})?",
    "(hentikan|stop|setop|stopkan) ({det} )?{msg}",
    "jangan (kirim|kirimi|kirimin|mengirim|ngirim)( saya| aku| sy)? {msg}( lagi)?",
    "jangan (kirim|kirimi|kirimin|mengirim|ngirim) (saya |aku )?lagi",
    "jangan (hubungi|spam|chat) (saya|aku|sy)( lagi)?",
    "(tidak|nggak|gak|ga|ngga|tak) (mau|ingin) (menerima |terima |dapat )?{msg}( lagi)?",
    "(hapus|keluarkan) (saya|nomor saya) dari (daftar|list)",
  ],
  optInPhrases: [
    "(mau|ingin) (berlangganan|langganan)",
    "berlangganan",
    "(mau|ingin) (menerima |terima |dapat )?{promo}",
    "(kirim|kirimi|kirimin) (saya|aku) ({det} )?{promo}",
  ],
  slots: {
    det: "semua|lagi",
    msg: "pesan|sms|promo|promosi|iklan|notifikasi|spam|chat|wa|broadcast",
    promo: "promo|promosi|penawaran|diskon|info promo",
  },
  negators: { before: ["tidak", "tak", "jangan", "bukan", "gak", "ga", "nggak", "ngga", "enggak"] },
};

/** Hindi as people type it in Latin script (Hinglish). */
const HI: LanguageRules = {
  optOutKeywords:
    "band karo, band kar do, band kardo, bandh karo, bandh kar do, mat bhejo, message mat bhejo, msg mat bhejo, bas karo",
  optInKeywords: "shuru karo, shuru kar do, shuru kardo, shuru, chalu karo, chalu kar do, start karo",
  optOutPhrases: [
    "{msg} (mat|na|nahi|mt) (bhejo|bhejna|bhejiye|bhejein|bhejo na|karo)",
    "{msg} (bhejna |bhejne )?(band|bandh) (karo|kar do|kardo|kijiye|karein|karo na)",
    "(mujhe|mujhko|hume|humein) {msg} nahi (chahiye|chahie)",
    "{msg} nahi (chahiye|chahie)",
    "list se (hatao|hata do|nikalo|nikal do)",
    "(mera )?number (hata|hatao|hata do|delete kar do|delete karo)",
  ],
  optInPhrases: [
    "(shuru|chalu) (karo|kar do|kardo|kijiye)",
    "{promo} (bhejo|bhejiye|bhejna)",
    "(haan|ha|han) bhejo",
    "{promo} chahiye",
  ],
  slots: {
    msg: "message|messages|msg|msgs|sms|mesej|whatsapp|promo|offers?|ads?|spam|notifications?",
    promo: "offers?|deals|promo|discount",
  },
  negators: { before: ["nahi", "nahin", "mat", "na"] },
};

/** Arabic script; normalised text has bare alef, ي for ى and ه for ة. */
const AR: LanguageRules = {
  optOutKeywords: "توقف, قف, الغاء, ايقاف, الغاء الاشتراك, الغاء اشتراكي, ايقاف الرسائل",
  optInKeywords: "اشترك, اشتراك, تفعيل, اريد الاشتراك",
  optOutPhrases: [
    "الغاء (الاشتراك|اشتراكي|اشتراك)",
    "(الغي|الغوا|الغ) (الاشتراك|اشتراكي)",
    "(توقف|توقفوا|اوقف|اوقفوا|ايقاف) (عن )?(ارسال|مراسلتي|الارسال)",
    "(توقف|توقفوا|اوقف|اوقفوا|ايقاف) {msg}",
    "لا (ترسل|ترسلوا|ترسلي|تبعث|تبعتوا|تبعثوا)( لي)?( اي)? {msg}",
    "لا (اريد|ابغى|ابي|بدي|عايز|اريد ان استلم)( استلام| تلقي)?( اي)? {msg}",
    "(احذفني|ازلني|اخرجني|شيلني) من (القائمه|قائمتكم)",
    "(احذف|ازل|امسح) رقمي",
  ],
  optInPhrases: [
    "(اريد|ابغى|ابي|بدي|عايز) (الاشتراك|اشترك)",
    "اشترك",
    "(ارسل|ارسلوا|ابعث|ابعتوا) (لي )?{promo}",
  ],
  slots: {
    msg: "رسائل|الرسائل|رساله|الرساله|رسايل|الرسايل|عروض|العروض|اعلانات|الاعلانات|اشعارات|الاشعارات|مسجات",
    promo: "عروض|العروض|تخفيضات|الخصومات|خصومات",
  },
  negators: { before: ["لا", "لن", "ما", "مش", "ليس", "لم"] },
};

export const CONSENT_LANGUAGES = {
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

type Language = keyof typeof CONSENT_LANGUAGES;

/**
 * Words that are keywords only in one language's mouth: "para" is "stop!" in Portuguese but
 * "for" in Spanish; "alto" is "stop" in Mexican Spanish and "tall" in Italian.
 */
const LOCALE_KEYWORDS: Partial<Record<Language, { optOut?: string; optIn?: string }>> = {
  pt: { optOut: "para, pare, chega", optIn: "iniciar, comecar" },
  es: { optOut: "alto", optIn: "iniciar" },
};

/** Politeness and small talk that never change what a message asks ("STOP please 🙏"). */
const FILLER_PHRASES = [
  "en: thank you, thanks, thx, please, pls, plz, now, right now, ok, okay, hi, hello",
  "es: por favor, porfa, gracias, ya",
  "pt: obrigado, obrigada, valeu",
  "fr: merci, svp, s il vous plait, s il te plait",
  "de: bitte, danke",
  "it: grazie, per favore",
  "nl: alsjeblieft, aub, dank je, bedankt",
  "tr: lutfen, tesekkurler",
  "id: tolong, terima kasih, makasih",
  "hi: kripya, shukriya",
  "ar: من فضلك, لو سمحت, شكرا",
];

const FILLER = compilePhrase(`(${FILLER_PHRASES.flatMap(listItems).join("|")})`);

interface CompiledLanguage {
  readonly optOut: readonly CompiledPhrase[];
  readonly optIn: readonly CompiledPhrase[];
  readonly negators: Negators;
}

const COMPILED: readonly CompiledLanguage[] = Object.values(CONSENT_LANGUAGES).map((rules) => ({
  optOut: rules.optOutPhrases.map((phrase) => compilePhrase(phrase, rules.slots)),
  optIn: rules.optInPhrases.map((phrase) => compilePhrase(phrase, rules.slots)),
  negators: { before: new Set(rules.negators.before), after: new Set(rules.negators.after ?? []) },
}));

const KEYWORDS = {
  optOut: new Set(Object.values(CONSENT_LANGUAGES).flatMap((rules) => listItems(rules.optOutKeywords))),
  optIn: new Set(Object.values(CONSENT_LANGUAGES).flatMap((rules) => listItems(rules.optInKeywords))),
};

function localeLanguage(locale: string | undefined): Language | undefined {
  const primary = locale?.trim().toLowerCase().split(/[-_]/)[0];
  return primary !== undefined && primary in CONSENT_LANGUAGES ? (primary as Language) : undefined;
}

/** The message without filler, with repeated words ("STOP STOP") collapsed. */
function essentials(normalized: string): string {
  const stripped = normalized.replace(FILLER.regex, " ").replace(/\s+/g, " ").trim();
  const tokens = stripped === "" ? [] : stripped.split(" ");
  return tokens.filter((word, i) => word !== tokens[i - 1]).join(" ");
}

/** The intent of a message (or clause) that is nothing but keywords. */
function keywordIntent(text: string, language: Language | undefined): ConsentIntent {
  if (text === "") return "none";
  const local = language === undefined ? undefined : LOCALE_KEYWORDS[language];
  const localOptOut = listItems(local?.optOut ?? "");
  const localOptIn = listItems(local?.optIn ?? "");
  const isOptOut = (words: string) => KEYWORDS.optOut.has(words) || localOptOut.includes(words);
  const isOptIn = (words: string) => KEYWORDS.optIn.has(words) || localOptIn.includes(words);
  if (isOptOut(text)) return "opt_out";
  if (isOptIn(text)) return "opt_in";
  // "stop unsubscribe", "STOP BAJA": several one-word keywords of one kind and nothing else.
  const tokens = text.split(" ");
  if (tokens.every(isOptOut)) return "opt_out";
  if (tokens.every(isOptIn)) return "opt_in";
  return "none";
}

/** Phrases found in one clause, each checked against its own language's negations. */
function phraseIntents(normalizedClause: string): { optOut: boolean; optIn: boolean } {
  const text = essentials(normalizedClause);
  const tokens = text === "" ? [] : text.split(" ");
  const found = { optOut: false, optIn: false };
  for (const language of COMPILED) {
    const said = (phrases: readonly CompiledPhrase[]) =>
      phrases.some((phrase) =>
        matchPhrase(phrase, text).some((match) => !isNegated(tokens, match, language.negators)),
      );
    found.optOut ||= said(language.optOut);
    found.optIn ||= said(language.optIn);
  }
  return found;
}

/**
 * What a customer's message says about receiving marketing messages. `locale` (e.g. "pt-BR")
 * settles words that are keywords in one language only; it is never required.
 */
export function classifyConsent(text: string, locale?: string): ConsentIntent {
  if (typeof text !== "string") throw new TypeError("classifyConsent: text must be a string");
  if (locale !== undefined && typeof locale !== "string") {
    throw new TypeError("classifyConsent: locale must be a string when given");
  }
  const language = localeLanguage(locale);

  const whole = keywordIntent(essentials(normalizeText(text)), language);
  if (whole !== "none") return whole;

  let optIn = false;
  for (const clause of clauses(text)) {
    const normalized = normalizeText(clause);
    // A clause in capitals is a keyword even inside a longer message: "STOP. Who gave you my number?"
    if (isShouted(clause)) {
      const shouted = keywordIntent(essentials(normalized), language);
      if (shouted === "opt_out") return "opt_out";
      optIn ||= shouted === "opt_in";
    }
    const found = phraseIntents(normalized);
    if (found.optOut) return "opt_out";
    optIn ||= found.optIn;
  }
  return optIn ? "opt_in" : "none";
}
