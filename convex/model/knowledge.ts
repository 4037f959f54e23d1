/**
 * The offline answerer's retrieval: which knowledge-base entry answers a customer's question,
 * or none. BM25F over title (boosted), tags and body, after the same analysis on both sides:
 * normalisation, stopwords of en/es/pt/fr/de, multi-word and single-word synonyms folded into
 * shared concepts (so "cost", "precio" and "how much" meet "price"), a light stemmer, and typo
 * tolerance against the knowledge base's own words. A calibrated confidence refuses questions
 * the knowledge base does not cover. See docs/decisions/015-offline-language-rules.md.
 */
import { listItems, words } from "./phrases";

export interface KnowledgeEntry {
  id: string;
  title: string;
  body: string;
  tags?: string[];
}

export interface KnowledgeMatch {
  id: string;
  /** Confidence in [0, 1]: how much of the question the entry covers, and how centrally. */
  score: number;
}

// ---------------------------------------------------------------------------------------------
// Stopwords: function words and customer-service small talk, per language. Words that carry
// meaning in another of these languages stay out ("plus" as in plus size, "fur" as in fur-lined).
// ---------------------------------------------------------------------------------------------

const STOPWORDS_BY_LANGUAGE: Record<string, string> = {
  en: `a an the and or but if of to in on at for with about from by into is are was were be been
    being am do does did doing have has had i me my mine myself you your yours we us our it its
    they them their this that these those what which who whom whose when how why there here can
    could would should will shall may might must not no yes please thanks thank hi hello hey dear
    good morning afternoon evening question ask asking know tell want wanted need like get got
    also any some all just so very much many more s m t d ll re ve im as than then too one ok
    okay sir madam help guys u ur thx wondering possible able anyone something anything someone
    still really currently go going make let give`,
  es: `el la los las un una unos unas de del al a en y o u que con por para es son esta estan
    estoy ser hay mi mis tu tus su sus me te se le les lo nos yo usted ustedes como cual cuales
    cuando quien si no muy mas pero este esto ese esa eso hola buenas buenos gracias favor quiero
    quisiera queria necesito saber puedo puede pueden tienen tiene tengo hacer ya tambien algo
    alguien ud uds cuanto cuanta`,
  pt: `o os as um uma uns umas do da dos das em no na nos nas e ou com pra pro sao estao tem quando porque
    tenho meu minha meus minhas seu sua seus suas voce voces vc vcs eu lhe qual quais quem sim
    nao muito isso isto esse essa ola oi obrigado obrigada quero gostaria preciso posso podem fica ficam
    fazer ja algo alguem ai quanto quanta`,
  fr: `le les l une des du d et qu qui quoi est sont suis etre avoir ai avez je j vous nous il
    elle ils on m ce cet cette ces dans sur pour avec sans pas ne n tres bonjour bonsoir salut
    merci svp comment quand quel quelle quels quelles peux pouvez puis voudrais veux savoir y au
    aux mon ma mes ton ta tes votre vos notre`,
  de: `der die das den dem des ein eine einen einem einer und oder aber ist sind bin bist seid
    sein haben habe hat ich du sie wir ihr er es mich mir dich dir euch mein meine dein deine
    ihre unser euer eure im an am auf aus bei mit nach von vom zu zum zur uber um wie was wann
    wer welche welcher kann konnen konnte mochte will bitte danke hallo nicht kein keine ja nein
    auch noch schon gibt`,
  // Verbs and nouns every shop question carries ("do you sell…", "what is your policy on…"),
  // and time small talk ("today", "already").
  service: `sell sells selling buy buying bought come comes coming accept accepted option options
    policy policies info information details way ways use using take takes look looking see try
    available already time times today tonight tomorrow yesterday ago
    venden vender vende comprar compro compre hago hace hacen aceptan acepta aceptar opcion
    opciones informacion politica estar ser forma formas manera disponible disponibles quedan
    queda tiempo hoy manana ayer
    vendem faco faz fazem fiz comprei aceitam aceitar opcoes informacao informacoes jeito
    disponivel disponiveis ficou tempo hoje amanha ontem
    vendez vendre acheter acceptez accepter faire fais fait politique temps demain hier
    verkaufen kaufen akzeptieren machen mache optionen informationen verfugbar zeit heute`,
};

const STOPWORDS: ReadonlySet<string> = new Set(
  Object.values(STOPWORDS_BY_LANGUAGE).flatMap((list) => list.split(/\s+/).filter(Boolean)),
);

// ---------------------------------------------------------------------------------------------
// Synonyms: customer-service vocabulary folded into one concept per line, across languages.
// Single words are stemmed like any word; phrases ("how much", "a que hora") match first.
// A concept of "" drops the phrase (greetings).
// ---------------------------------------------------------------------------------------------

const SYNONYMS: Record<string, readonly string[]> = {
  // Dropped: greetings and time small talk.
  "": [
    "en: good morning, good afternoon, good evening, thank you, last week, this week, last month",
    "es: buenos dias, buenas tardes, buenas noches, semana pasada, mes pasado",
    "pt: bom dia, boa tarde, boa noite, semana passada, mes passado",
    "fr: semaine derniere",
    "de: guten tag, guten morgen, letzte woche",
  ],
  price: [
    "en: price, prices, pricing, cost, costs, how much, expensive, cheap",
    "es: precio, precios, costo, cuesta, cuestan, cuanto cuesta, cuanto cuestan, cuanto vale, cuanto sale, cuanto es",
    "pt: preco, precos, custa, custam, quanto custa, quanto custam, quanto e, quanto sai, valor",
    "fr: prix, coute, coutent, combien",
    "de: preis, preise, kostet, kosten, wie viel, wieviel",
  ],
  // Days of the week and holidays are what opening hours are made of ("open on Sunday?").
  hours: [
    "en: hours, hour, open, opening, opens, close, closing, closes, closed, schedule, business hours",
    "en: monday, tuesday, wednesday, thursday, friday, saturday, sunday, weekend, weekends, holiday, holidays",
    "es: horario, horarios, hora, horas, apertura, abrimos, cerramos, abren, abre, abrir, abierto, abiertos, cierran, cierra, cerrar, cerrado",
    "es: lunes, martes, miercoles, jueves, viernes, sabado, sabados, domingo, domingos, fin de semana, feriado, feriados, festivo, festivos",
    "pt: funcionamento, abrem, aberto, aberta, fecham, fechamos",
    "pt: segunda feira, terca feira, quarta feira, quinta feira, sexta feira, fim de semana",
    "fr: horaires, horaire, ouvert, ouverts, ouverture, ferme, fermeture",
    "fr: lundi, mardi, mercredi, jeudi, vendredi, samedi, dimanche, week end, jours feries",
    "de: offnungszeiten, geoffnet, offnen, offnet, geschlossen, schliessen",
    "de: montag, dienstag, mittwoch, donnerstag, freitag, samstag, sonntag, wochenende, feiertag, feiertage",
  ],
  shipping: [
    "en: shipping, ship, ships, shipment, delivery, deliver, delivered, dispatch, arrive, arrives",
    "es: envio, envios, enviar, envian, envias, entrega, entregas, entregar, entregan, llega, llegar",
    "pt: frete, entregam, chega, chegar",
    "fr: livraison, livrer, livrez, expedition",
    "de: versand, lieferung, liefern, versandkosten",
  ],
  // "How long" is answered in days and weeks.
  howlong: [
    "en: how long, how many days, day, days, business days, working days, weeks",
    "es: cuanto tarda, cuanto tardan, cuantos dias, tarda, tardan, demora, demoran, dias, dias habiles, semanas",
    "pt: quanto tempo, quantos dias, demoram, prazo, dias uteis",
    "fr: combien de temps, delai, jours, jours ouvres, semaines",
    "de: wie lange, lieferzeit, dauert, tage, werktage, wochen",
  ],
  free: ["en: free", "es: gratis, gratuito, gratuita", "fr: gratuit, gratuite", "de: kostenlos, umsonst"],
  returns: [
    "en: return, returns, returning, refund, refunds, money back, send back",
    "es: devolucion, devoluciones, devolver, reembolso, reembolsar",
    "pt: devolucao, devolucoes, estorno",
    "fr: retour, retourner, rembourser, remboursement",
    "de: ruckgabe, rucksendung, zurucksenden, erstattung, zuruckgeben",
  ],
  exchange: [
    "en: exchange, exchanges, swap, change",
    "es: cambio, cambios, cambiar",
    "pt: troca, trocas, trocar",
    "fr: echange, echanger",
    "de: umtausch, umtauschen",
  ],
  location: [
    "en: location, address, where, located, directions, find you, map",
    "es: direccion, ubicacion, ubicados, ubicada, ubicado, donde",
    "pt: endereco, onde, localizacao, localizados, onde fica",
    "fr: adresse, ou etes vous, ou se trouve",
    "de: standort, wo",
  ],
  tracking: [
    "en: track, tracking, order status, where is my order, where is my package, where is my parcel",
    "en: not arrived, never arrived, did not arrive, has not arrived, not received, never received, did not receive",
    "es: rastrear, rastreo, seguimiento, donde esta mi pedido, donde esta mi paquete, no llego, no ha llegado, no recibi",
    "pt: rastreamento, rastreio, onde esta meu pedido, onde esta minha encomenda, nao chegou, nao recebi",
    "fr: suivi, suivre, ou est ma commande",
    "de: sendungsverfolgung, verfolgen, wo ist meine bestellung",
  ],
  order: [
    "en: order, orders, purchase",
    "es: pedido, pedidos, compra",
    "pt: encomenda, encomendas",
    "fr: commande, commandes",
    "de: bestellung, bestellungen, bestellt",
  ],
  payment: [
    "en: payment, payments, pay, paying, card, cards, credit card, debit, cash, paypal, apple pay, installments",
    "es: pago, pagos, pagar, tarjeta, tarjetas, efectivo, cuotas, mercado pago",
    "pt: pagamento, pagamentos, cartao, cartoes, pix, boleto, parcelas, parcelar, parcelado",
    "fr: paiement, payer, carte, especes",
    "de: zahlung, bezahlen, zahlen, karte, zahlungsarten, barzahlung",
  ],
  size: [
    "en: size, sizes, sizing, fit, fits, size chart, size guide, bigger, smaller, larger, big, small, tight, loose",
    "es: talla, tallas, tallaje, grande, chico, chica, chicos, chicas, apretado",
    "pt: tamanho, tamanhos, numeracao, pequeno, pequena, apertado, maior, menor",
    "fr: taille, tailles, pointure, pointures",
    "de: grosse, grossen, groesse, grosser, kleiner",
  ],
  width: [
    "en: wide, width, narrow",
    "es: ancho, anchos, estrecho",
    "pt: largura, largo, estreito",
    "fr: large, etroit",
    "de: breit, weite, schmal",
  ],
  contact: [
    "en: contact, phone, call, email, phone number, telephone",
    "es: telefono, llamar, contacto, correo",
    "pt: telefone, ligar, contato",
    "fr: appeler",
    "de: anrufen, telefon, kontakt",
  ],
  stock: [
    "en: stock, availability, in stock, out of stock, sold out, restock, back in stock, come back",
    "es: disponibilidad, agotado, agotada, agotados, vuelve, vuelven, reponen",
    "pt: estoque, esgotado, esgotada",
    "fr: disponibilite, en stock, rupture",
    "de: lager, ausverkauft, vorratig",
  ],
  discount: [
    "en: discount, discounts, coupon, coupons, promo code, discount code, promo, promotion, promotions, offers",
    "es: descuento, descuentos, cupon, cupones, codigo de descuento, promocion, promociones, ofertas",
    "pt: desconto, descontos, cupom, cupons, promocao, promocoes",
    "fr: reduction, reductions, code promo, soldes",
    "de: rabatt, rabatte, gutschein, rabattcode",
  ],
  warranty: [
    "en: warranty, guarantee, defect, defective, faulty, broken, broke, damaged, came apart, came off, fell apart",
    "es: garantia, defecto, defectuoso, defectuosa, roto, rota, rotos, danado, despegado, se despego",
    "pt: defeito, defeituoso, quebrado, quebrou, descolou",
    "fr: garantie, defaut, defectueux, casse",
    "de: defekt, kaputt, beschadigt",
  ],
  cancel: [
    "en: cancel, cancelling, canceling, cancellation",
    "es: cancelar, cancelacion, anular",
    "pt: cancelamento",
    "fr: annuler, annulation",
    "de: stornieren, stornierung",
  ],
  care: [
    "en: clean, cleaning, wash, washing, care, caring, washing machine",
    "es: limpiar, limpieza, lavar, lavadora, cuidado, cuidados, cuidar, cuido",
    "pt: limpar, limpeza, maquina de lavar",
    "fr: nettoyer, nettoyage, entretien, laver",
    "de: reinigen, reinigung, pflege, waschen, waschmaschine",
  ],
  gift: [
    "en: gift, gifts, gift card, voucher",
    "es: regalo, regalos, tarjeta regalo, tarjeta de regalo",
    "pt: presente, vale presente, cartao presente",
    "fr: cadeau, carte cadeau",
    "de: geschenk, geschenkgutschein",
  ],
  abroad: [
    "en: international, internationally, abroad, worldwide, overseas, other countries",
    "es: internacional, internacionales, extranjero, exterior, otros paises",
    "pt: outros paises",
    "fr: etranger",
    "de: ausland",
  ],
  kids: [
    "en: kids, kid, children, child, boys, girls",
    "es: ninos, nino, ninas, infantil",
    "pt: criancas, crianca",
    "fr: enfant, enfants",
    "de: kinder, kinderschuhe",
  ],
  sneakers: [
    "en: sneakers, sneaker, trainers, running shoes",
    "es: zapatillas",
    "pt: tenis",
    "fr: baskets",
    "de: turnschuhe, sportschuhe, laufschuhe",
  ],
  boots: ["en: boots, boot", "es: botas, bota", "fr: bottes, bottines", "de: stiefel"],
  sandals: [
    "en: sandals, sandal, flip flops",
    "es: sandalias, chanclas",
    "pt: chinelos",
    "fr: sandales",
    "de: sandalen",
  ],
  shoe: [
    "en: shoe, shoes, footwear",
    "es: zapato, zapatos, calzado",
    "pt: sapato, sapatos, calcado, calcados",
    "fr: chaussure, chaussures",
    "de: schuh, schuhe",
  ],
  leather: ["en: leather", "es: cuero, piel", "pt: couro", "fr: cuir", "de: leder"],
  store: [
    "en: store, stores, shop, shops",
    "es: tienda, tiendas",
    "pt: loja, lojas",
    "fr: magasin, boutique",
    "de: laden, geschaft, filiale",
  ],
  pickup: [
    "en: pickup, pick up, collect, click and collect",
    "es: recoger, retiro",
    "pt: retirar, retirada, retirar na loja",
    "fr: retrait",
    "de: abholen, abholung",
  ],
  account: [
    "en: account, login, log in, sign in, password",
    "es: cuenta, contrasena",
    "pt: conta, senha",
    "fr: compte, mot de passe",
    "de: konto, passwort",
  ],
  invoice: [
    "en: invoice, receipt",
    "es: factura, recibo",
    "pt: nota fiscal",
    "fr: facture, recu",
    "de: rechnung, quittung",
  ],
  wholesale: [
    "en: wholesale, bulk",
    "es: mayorista, por mayor",
    "pt: atacado",
    "fr: grossiste",
    "de: grosshandel",
  ],
};

// ---------------------------------------------------------------------------------------------
// Stemming: one light stemmer for the Latin-script languages above. It only has to be
// consistent (the same on both sides), not linguistically right: "sizes"/"size" → "size",
// "tallas"/"talla" → "tall", "devoluções"/"devolução" → "devoluca", "shipping"/"shipped" → "ship".
// ---------------------------------------------------------------------------------------------

function stem(word: string): string {
  if (word.length <= 3 || !/^[a-z]+$/.test(word)) return word;
  let w = word;
  const strip = (suffix: string, replacement = "", minStem = 3): boolean => {
    if (!w.endsWith(suffix) || w.length - suffix.length < minStem) return false;
    w = w.slice(0, w.length - suffix.length) + replacement;
    return true;
  };
  // Plurals (Portuguese -ções/-sões → -ção/-são, English -ies → -y), keeping "address", "status", "tenis".
  if (!strip("coes", "cao") && !strip("soes", "sao") && !strip("ies", "y") && !/(ss|us|is)$/.test(w))
    strip("s");
  // English -ing/-ed, German plural -en on longer words. Stems keep four letters: "caring"
  // must not become "car", nor "care" meet "cars".
  if (strip("ing", "", 4) || strip("ed", "", 4)) {
    // "shipping" → "shipp" → "ship", "running" → "run".
    if (w.at(-1) === w.at(-2) && !/[aeiou]/.test(w.at(-1)!)) w = w.slice(0, -1);
  } else if (w.length >= 7) {
    strip("en");
  }
  strip("y", "", 4);
  if (/[aeo]$/.test(w)) strip(w.slice(-1), "", 4);
  return w;
}

// ---------------------------------------------------------------------------------------------
// Analysis: text → terms (concepts or stems).
// ---------------------------------------------------------------------------------------------

interface SynonymPhrase {
  readonly stems: readonly string[];
  readonly concept: string;
}

const CONCEPT_PREFIX = "~";
const conceptOfWord = new Map<string, string>();
/** Only stems of four letters or more: shorter ones are too often two words ("bar", "car"). */
const conceptOfStem = new Map<string, string>();
const MIN_CONCEPT_STEM = 4;
const phrasesByFirstStem = new Map<string, SynonymPhrase[]>();
/** Every word the synonym table knows, for typo tolerance: "devolucon" → "devolucion". */
const synonymWords = new Set<string>();
let synonymVocabulary: readonly string[] = [];

/** A word (or stem) belongs to one concept; a second claim is a mistake in the table. */
function claim(map: Map<string, string>, key: string, term: string): void {
  const owner = map.get(key);
  if (owner !== undefined && owner !== term) {
    throw new Error(`Synonym table: "${key}" is in both ${owner || "(dropped)"} and ${term || "(dropped)"}`);
  }
  map.set(key, term);
}

for (const [concept, list] of Object.entries(SYNONYMS)) {
  const term = concept === "" ? "" : CONCEPT_PREFIX + concept;
  for (const entry of list.flatMap(listItems)) {
    const entryWords = words(entry);
    const stems = entryWords.map(stem);
    if (stems.length === 1) {
      claim(conceptOfWord, entryWords[0]!, term);
      if (stems[0]!.length >= MIN_CONCEPT_STEM) claim(conceptOfStem, stems[0]!, term);
      synonymWords.add(entryWords[0]!);
    } else if (stems.length > 1) {
      const bucket = phrasesByFirstStem.get(stems[0]!) ?? [];
      bucket.push({ stems, concept: term });
      bucket.sort((a, b) => b.stems.length - a.stems.length);
      phrasesByFirstStem.set(stems[0]!, bucket);
    }
  }
}

synonymVocabulary = [...synonymWords].sort();

interface Term {
  /** A concept ("~price") or a stem. */
  readonly term: string;
  /** The word as written (normalised), for typo tolerance. */
  readonly word: string;
}

function analyze(text: string): Term[] {
  const ws = words(text);
  const stems = ws.map(stem);
  const terms: Term[] = [];
  let i = 0;
  while (i < ws.length) {
    const phrase = phrasesByFirstStem
      .get(stems[i]!)
      ?.find((p) => p.stems.every((s, k) => stems[i + k] === s));
    if (phrase !== undefined) {
      if (phrase.concept !== "")
        terms.push({ term: phrase.concept, word: ws.slice(i, i + phrase.stems.length).join(" ") });
      i += phrase.stems.length;
      continue;
    }
    const word = ws[i]!;
    const concept = conceptOfWord.get(word) ?? conceptOfStem.get(stems[i]!);
    i++;
    if (concept === "" || (concept === undefined && STOPWORDS.has(word))) continue;
    terms.push({ term: concept ?? stems[i - 1]!, word });
  }
  return terms;
}

// ---------------------------------------------------------------------------------------------
// Typo tolerance.
// ---------------------------------------------------------------------------------------------

/** Edits allowed for a word of this length: none below 5 letters ("cars" is no typo of "care"), 2 from 8. */
function allowedEdits(length: number): number {
  return length < 5 ? 0 : length < 8 ? 1 : 2;
}

/** Optimal string alignment distance (a swap of neighbours is one edit), or max+1 beyond max. */
function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prevPrev: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, prevPrev[j - 2]! + 1);
      row.push(d);
      rowMin = Math.min(rowMin, d);
    }
    if (rowMin > max) return max + 1;
    prevPrev = prev;
    prev = row;
  }
  return prev[b.length]!;
}

// ---------------------------------------------------------------------------------------------
// The index and scoring.
// ---------------------------------------------------------------------------------------------

const FIELDS = [
  { name: "title", weight: 3 },
  { name: "tags", weight: 2 },
  { name: "body", weight: 1 },
] as const;
type Field = (typeof FIELDS)[number]["name"];

const K1 = 1.2;
const B = 0.75;
/** A word matched only through a typo counts this much. */
const TYPO_WEIGHT = 0.7;
/**
 * Below these, the best entry does not answer the question well enough. Coverage is the share of
 * the question's weight (each term's idf) found in the entry: "where is the hospital" covers only
 * "where". The score scales coverage by how central the matches are (title over tags over body).
 */
const MIN_COVERAGE = 0.55;
const MIN_SCORE = 0.4;

interface IndexedEntry {
  readonly id: string;
  readonly counts: Record<Field, Map<string, number>>;
  readonly lengths: Record<Field, number>;
}

interface Index {
  readonly entries: readonly IndexedEntry[];
  readonly documentFrequency: ReadonlyMap<string, number>;
  readonly averageLength: Record<Field, number>;
  /** Written words of the knowledge base, for typo tolerance. */
  readonly vocabulary: readonly string[];
}

function buildIndex(entries: readonly KnowledgeEntry[]): Index {
  const documentFrequency = new Map<string, number>();
  const vocabulary = new Set<string>();
  const indexed = entries.map((entry): IndexedEntry => {
    const texts: Record<Field, string> = {
      title: entry.title,
      tags: (entry.tags ?? []).join(" . "),
      body: entry.body,
    };
    const counts = {} as Record<Field, Map<string, number>>;
    const lengths = {} as Record<Field, number>;
    const seen = new Set<string>();
    for (const { name } of FIELDS) {
      const terms = analyze(texts[name]);
      const map = new Map<string, number>();
      for (const { term, word } of terms) {
        map.set(term, (map.get(term) ?? 0) + 1);
        seen.add(term);
        if (!word.includes(" ")) vocabulary.add(word);
      }
      counts[name] = map;
      lengths[name] = terms.length;
    }
    for (const term of seen) documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1);
    return { id: entry.id, counts, lengths };
  });
  const averageLength = {} as Record<Field, number>;
  for (const { name } of FIELDS) {
    const total = indexed.reduce((sum, e) => sum + e.lengths[name], 0);
    averageLength[name] = Math.max(1, total / Math.max(1, indexed.length));
  }
  return { entries: indexed, documentFrequency, averageLength, vocabulary: [...vocabulary].sort() };
}

interface QueryTerm {
  readonly term: string;
  /** 1, or less for a word matched only through a typo. */
  readonly weight: number;
}

/** The question's informative terms; unknown words are corrected when a close word exists. */
function queryTerms(question: string, index: Index): QueryTerm[] {
  const byTerm = new Map<string, number>();
  for (const { term, word } of analyze(question)) {
    let resolved = term;
    let weight = 1;
    if (!index.documentFrequency.has(term) && !term.startsWith(CONCEPT_PREFIX)) {
      // Numbers and one- or two-letter leftovers say nothing when the knowledge base lacks them.
      if (/^\d+$/.test(word) || word.length <= 2) continue;
      // The nearest of the shop's words and the synonym table's; the shop's own on a tie.
      const own = closestWord(word, index.vocabulary);
      const known = closestWord(word, synonymVocabulary);
      const corrected =
        known !== undefined && (own === undefined || known.distance < own.distance) ? known : own;
      const correctedTerm = corrected === undefined ? undefined : analyze(corrected.word)[0]?.term;
      if (correctedTerm !== undefined) {
        resolved = correctedTerm;
        weight = TYPO_WEIGHT;
      }
    }
    byTerm.set(resolved, Math.max(byTerm.get(resolved) ?? 0, weight));
  }
  return [...byTerm].map(([term, weight]) => ({ term, weight }));
}

/** The nearest word within the allowed edits that shares the first letter; ties by order. */
function closestWord(
  word: string,
  vocabulary: readonly string[],
): { word: string; distance: number } | undefined {
  const max = allowedEdits(word.length);
  if (max === 0) return undefined;
  let best: { word: string; distance: number } | undefined;
  for (const candidate of vocabulary) {
    // Both words must be long enough for the edits: "wo" is no typo of "weather".
    const limit = Math.min(max, allowedEdits(candidate.length));
    if (limit === 0 || candidate[0] !== word[0] || candidate === word) continue;
    const distance = editDistance(word, candidate, limit);
    if (distance <= limit && (best === undefined || distance < best.distance))
      best = { word: candidate, distance };
  }
  return best;
}

function inverseDocumentFrequency(documentFrequency: number, total: number): number {
  return Math.log(1 + (total - documentFrequency + 0.5) / (documentFrequency + 0.5));
}

/** BM25F saturation of one term in one entry, in [0, 1). */
function saturation(entry: IndexedEntry, term: string, index: Index): number {
  let weighted = 0;
  for (const { name, weight } of FIELDS) {
    const tf = entry.counts[name].get(term) ?? 0;
    if (tf === 0) continue;
    weighted += (weight * tf) / (1 - B + (B * entry.lengths[name]) / index.averageLength[name]);
  }
  return weighted / (K1 + weighted);
}

function assertEntries(entries: unknown): asserts entries is KnowledgeEntry[] {
  if (!Array.isArray(entries)) throw new TypeError("findAnswer: entries must be an array");
  entries.forEach((entry: unknown, i) => {
    const e = entry as Partial<KnowledgeEntry> | null;
    if (
      typeof e !== "object" ||
      e === null ||
      typeof e.id !== "string" ||
      typeof e.title !== "string" ||
      typeof e.body !== "string" ||
      (e.tags !== undefined && (!Array.isArray(e.tags) || e.tags.some((t) => typeof t !== "string")))
    ) {
      throw new TypeError(`findAnswer: entry ${i} must have string id, title and body, and tags as strings`);
    }
  });
}

/**
 * The entry that best answers the question, with a confidence in [0, 1], or null when none
 * answers it well enough (unrelated questions, greetings, gibberish). Deterministic: ties go to
 * the earlier entry.
 */
export function findAnswer(question: string, entries: KnowledgeEntry[]): KnowledgeMatch | null {
  if (typeof question !== "string") throw new TypeError("findAnswer: question must be a string");
  assertEntries(entries);
  if (entries.length === 0) return null;

  const index = buildIndex(entries);
  const query = queryTerms(question, index);
  if (query.length === 0) return null;

  const total = index.entries.length;
  // A word no entry has weighs as much as the rarest known word: it is what the question is
  // about and nothing here says it.
  const idf = new Map(
    query.map(({ term }) => [term, inverseDocumentFrequency(index.documentFrequency.get(term) ?? 1, total)]),
  );
  const questionWeight = query.reduce((sum, { term }) => sum + idf.get(term)!, 0);

  let best: { entry: IndexedEntry; raw: number; covered: number } | undefined;
  for (const entry of index.entries) {
    let raw = 0;
    let covered = 0;
    for (const { term, weight } of query) {
      const s = saturation(entry, term, index);
      if (s === 0) continue;
      raw += weight * idf.get(term)! * s;
      covered += weight * idf.get(term)!;
    }
    if (raw > 0 && (best === undefined || raw > best.raw)) best = { entry, raw, covered };
  }
  if (best === undefined) return null;

  const coverage = best.covered / questionWeight;
  const centrality = best.raw / best.covered;
  const score = coverage * (0.5 + 0.5 * centrality);
  if (coverage < MIN_COVERAGE || score < MIN_SCORE) return null;
  return { id: best.entry.id, score: Math.round(score * 1000) / 1000 };
}
