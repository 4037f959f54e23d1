/**
 * Text normalisation and phrase matching shared by the assistant's offline rules (consent,
 * knowledge-base retrieval, handoff). Pure and dependency-free: runs in Convex's default runtime.
 *
 * Normalised text is lowercase, without Latin diacritics or Arabic vowel marks, with Arabic letter
 * variants folded, English contractions expanded ("don't" → "do not"), and every run of
 * punctuation, symbols and emoji turned into a single space.
 */

/** Letters that do not decompose into a base letter plus a mark. */
const FOLDED_LETTERS: Record<string, string> = {
  ß: "ss",
  ı: "i",
  ø: "o",
  æ: "ae",
  œ: "oe",
  ł: "l",
  đ: "d",
  ð: "d",
  þ: "th",
  // Arabic: alef variants, alef maqsura, teh marbuta, Persian keheh and yeh.
  أ: "ا",
  إ: "ا",
  آ: "ا",
  ٱ: "ا",
  ى: "ي",
  ة: "ه",
  ی: "ي",
  ک: "ك",
  ؤ: "و",
  ئ: "ي",
};

/** Latin combining marks, Arabic harakat and superscript alef, and the tatweel. */
const STRIPPED_MARKS = /[\u0300-\u036f\u064b-\u065f\u0670\u0640]/g;

const ARABIC_DIGITS = /[\u0660-\u0669\u06f0-\u06f9]/g;

const APOSTROPHES = /['’‘`´ʼ]/g;

/** English contractions written without the apostrophe, as people type them on phones. */
const BARE_CONTRACTIONS: Record<string, string> = {
  dont: "do not",
  doesnt: "does not",
  didnt: "did not",
  isnt: "is not",
  arent: "are not",
  wasnt: "was not",
  werent: "were not",
  cant: "can not",
  cannot: "can not",
  couldnt: "could not",
  wouldnt: "would not",
  shouldnt: "should not",
  wont: "will not",
  havent: "have not",
  hasnt: "has not",
  aint: "is not",
};

/** Folds letters, marks and digits; keeps punctuation (clause splitting still needs it). */
function foldCharacters(text: string): string {
  return text
    .normalize("NFKD")
    .replace(STRIPPED_MARKS, "")
    .toLowerCase()
    .replace(/[^ -~]/g, (ch) => FOLDED_LETTERS[ch] ?? ch)
    .replace(ARABIC_DIGITS, (d) => {
      const code = d.charCodeAt(0);
      return String(code >= 0x06f0 ? code - 0x06f0 : code - 0x0660);
    });
}

/** Lowercase words separated by single spaces; see the module comment for what is folded. */
export function normalizeText(text: string): string {
  const folded = foldCharacters(text)
    .replace(/n['’‘`´ʼ]t\b/g, " not")
    .replace(APOSTROPHES, " ")
    // Keep letters, digits and combining marks of scripts whose marks are part of the letter
    // (Devanagari vowel signs); everything else separates words.
    .replace(/[^\p{L}\p{N}\p{M}]+/gu, " ")
    .trim();
  if (folded === "") return "";
  return folded
    .split(" ")
    .map((word) => BARE_CONTRACTIONS[word] ?? word)
    .join(" ")
    .replace(/\bca not\b/g, "can not")
    .replace(/\bwo not\b/g, "will not");
}

/** Words of normalised text. */
export function words(text: string): string[] {
  const normalized = normalizeText(text);
  return normalized === "" ? [] : normalized.split(" ");
}

/**
 * Splits a message at sentence and clause punctuation, keeping each clause's original text (a
 * clause written in capitals is a keyword, "no, stop" is two clauses).
 */
export function clauses(text: string): string[] {
  return text
    .split(/[.!?;,:\n\r…¡¿،؟؛()[\]{}"“”«»]+|\s[-–—]+\s/)
    .map((part) => part.trim())
    .filter((part) => /[\p{L}\p{N}]/u.test(part));
}

/** True when the clause has at least two letters and every cased letter is a capital. */
export function isShouted(original: string): boolean {
  const letters = original.match(/\p{L}/gu) ?? [];
  const cased = letters.filter((ch) => ch.toLowerCase() !== ch.toUpperCase());
  return cased.length >= 2 && cased.every((ch) => ch === ch.toUpperCase());
}

/**
 * A phrase is a regular expression over normalised text, written with plain words, `(a|b)`
 * alternatives, `( x)?` optional words, and `{slot}` placeholders for shared alternatives
 * (`{msg}` → "messages?|texts?|…"). `{any}` stands for up to two arbitrary words.
 */
export type Slots = Readonly<Record<string, string>>;

export interface CompiledPhrase {
  readonly source: string;
  readonly regex: RegExp;
}

export function compilePhrase(source: string, slots: Slots = {}): CompiledPhrase {
  // "a {any} b": the gap's words each carry their own trailing space.
  const expanded = source
    .replace(/ \{any\} /g, " (?:\\S+ ){0,2}")
    .replace(/\{(\w+)\}/g, (_, name: string) => {
      const alternatives = slots[name];
      if (alternatives === undefined) throw new Error(`Phrase "${source}" names an unknown slot {${name}}`);
      return `(?:${alternatives})`;
    });
  return { source, regex: new RegExp(`(?<=^| )(?:${expanded})(?= |$)`, "g") };
}

export interface PhraseMatch {
  /** Index of the first matched word. */
  readonly start: number;
  /** Index after the last matched word. */
  readonly end: number;
}

/** Every match of the phrase in normalised text, as word positions. */
export function matchPhrase(phrase: CompiledPhrase, normalized: string): PhraseMatch[] {
  const found: PhraseMatch[] = [];
  phrase.regex.lastIndex = 0;
  for (let m = phrase.regex.exec(normalized); m !== null; m = phrase.regex.exec(normalized)) {
    if (m[0] === "") {
      phrase.regex.lastIndex++;
      continue;
    }
    const start = countWords(normalized.slice(0, m.index));
    found.push({ start, end: start + countWords(m[0]) });
  }
  return found;
}

function countWords(text: string): number {
  const trimmed = text.trim();
  return trimmed === "" ? 0 : trimmed.split(" ").length;
}

export interface Negators {
  /** Words that negate a phrase when they come shortly before it ("do not unsubscribe"). */
  readonly before: ReadonlySet<string>;
  /** Words that negate a phrase right after it (French "pas", German "nicht"). */
  readonly after: ReadonlySet<string>;
}

/** How many words before a phrase a negation still applies to ("I do not want to unsubscribe"). */
const NEGATION_REACH = 3;

/**
 * True when the match is negated. "can not" / "could not" is inability, not refusal ("I can't
 * unsubscribe" still wants out), so it does not negate.
 */
export function isNegated(tokens: readonly string[], match: PhraseMatch, negators: Negators): boolean {
  for (let i = Math.max(0, match.start - NEGATION_REACH); i < match.start; i++) {
    const word = tokens[i]!;
    if (!negators.before.has(word)) continue;
    if (word === "not" && (tokens[i - 1] === "can" || tokens[i - 1] === "could")) continue;
    return true;
  }
  const next = tokens[match.end];
  return next !== undefined && negators.after.has(next);
}

/** "xx: a, b c, d" → the normalised items; the leading language label is optional. */
export function listItems(list: string): string[] {
  return list
    .replace(/^\s*[a-z]{2}:/, "")
    .split(",")
    .map(normalizeText)
    .filter((item) => item !== "");
}
