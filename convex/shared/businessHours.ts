/**
 * Business hours as tenants write them ("Mon–Fri 9:00–18:00, Sat 10:00–14:00", "Sunday closed",
 * "24/7"), read into a week of opening intervals in the tenant's time zone. The assistant uses it
 * when it hands a conversation to a person: outside the hours it tells the customer when the team
 * is back instead of implying someone is about to answer. Text it cannot read is reported (the
 * settings page shows how the hours were understood) and treated as "always open", so a typo never
 * makes the assistant tell customers the shop is closed.
 */

/** Minutes from Monday 00:00, [start, end). */
export type Interval = { day: number; from: number; to: number };
export type BusinessHours =
  { kind: "always" } | { kind: "week"; intervals: Interval[] } | { kind: "unreadable"; reason: string };

const DAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
/** Day words in the languages tenants write, by prefix (at least 2–3 letters). */
const DAY_WORDS: [RegExp, number][] = [
  [/^(mo|mon|monday|lun|lunes|lundi|luned[iì]|seg|segunda|montag|ma|maandag|pzt|pazartesi|senin)\.?$/, 0],
  [
    /^(tu|tue|tues|tuesday|mar|martes|mardi|marted[iì]|ter|ter[cç]a|di|dienstag|din|dinsdag|sal|sal[ıi]|selasa)\.?$/,
    1,
  ],
  [
    /^(we|wed|wednesday|mi[eé]|mi[eé]rcoles|mer|mercredi|mercoled[iì]|qua|quarta|mittwoch|wo|woensdag|[cç]ar|[cç]ar[sş]amba|rabu)\.?$/,
    2,
  ],
  [
    /^(th|thu|thur|thurs|thursday|jue|jueves|jeu|jeudi|gio|gioved[iì]|qui|quinta|do|donnerstag|don|donderdag|per|per[sş]embe|kamis)\.?$/,
    3,
  ],
  [/^(fr|fri|friday|vie|viernes|ven|vendredi|venerd[iì]|sex|sexta|freitag|vr|vrijdag|cum|cuma|jumat)\.?$/, 4],
  [/^(sa|sat|saturday|s[aá]b|s[aá]bado|sam|samedi|sabato|samstag|za|zaterdag|cmt|cumartesi|sabtu)\.?$/, 5],
  [/^(su|sun|sunday|dom|domingo|dim|dimanche|domenica|so|sonntag|zo|zondag|paz|pazar|minggu)\.?$/, 6],
];
const ALWAYS = /^(24\s*\/\s*7|always( open)?|24 hours|24h)$/i;
const CLOSED = /^(closed|cerrado|fechado|ferm[eé]|chiuso|geschlossen|gesloten|kapal[ıi]|tutup)$/i;
const RANGE_WORD = /\s*[-–—]\s*|\s+(?:to|a|à|bis|tot|al|até|hasta|until|till)\s+/i;

function dayOf(word: string): number | null {
  const w = word.toLowerCase().trim();
  for (const [pattern, day] of DAY_WORDS) if (pattern.test(w)) return day;
  return null;
}

function minutesOf(text: string): number | null {
  const m = /^(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm)?$/i.exec(text.trim());
  if (!m) return null;
  let hours = Number(m[1]);
  const minutes = m[2] ? Number(m[2]) : 0;
  const half = m[3]?.toLowerCase();
  if (half) {
    if (hours < 1 || hours > 12) return null;
    hours = (hours % 12) + (half === "pm" ? 12 : 0);
  }
  if (hours > 24 || minutes > 59 || (hours === 24 && minutes > 0)) return null;
  return hours * 60 + minutes;
}

/** "Mon–Fri", "Sat", "Mon, Wed, Fri", "weekdays", "daily". */
function daysOf(text: string): number[] | null {
  const t = text.trim().toLowerCase();
  if (
    /^(daily|every ?day|todos los d[ií]as|todos os dias|tous les jours|tutti i giorni|t[aä]glich|dagelijks|her g[uü]n|setiap hari)$/.test(
      t,
    )
  )
    return [0, 1, 2, 3, 4, 5, 6];
  if (
    /^(weekdays?|días laborables|dias [uú]teis|en semaine|feriali|werktags|werkdagen|hafta i[cç]i)$/.test(t)
  )
    return [0, 1, 2, 3, 4];
  if (/^(weekends?|fines de semana|fins de semana|week-end)$/.test(t)) return [5, 6];
  const days: number[] = [];
  for (const part of t.split(/\s*(?:,|&|\+|\band\b|\by\b|\be\b|\bet\b|\bund\b|\ben\b)\s*/)) {
    if (!part) continue;
    const range = part.split(RANGE_WORD);
    if (range.length === 2) {
      const [a, b] = range.map(dayOf);
      if (a === null || b === null) return null;
      for (let d = a; ; d = (d + 1) % 7) {
        days.push(d);
        if (d === b) break;
      }
    } else if (range.length === 1) {
      const d = dayOf(part);
      if (d === null) return null;
      days.push(d);
    } else return null;
  }
  return days.length ? [...new Set(days)] : null;
}

/**
 * "Mon–Fri 9–18, Sat 10–14; Sun closed" → its clauses. A comma followed by a word starts a new
 * clause only after a time or "closed" ("Mon, Wed, Fri 9–17" is one clause).
 */
function clauses(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split(/\s*[;\n]\s*/)) {
    let current = "";
    for (const piece of line.split(/\s*,\s*(?=\p{L})/u)) {
      current = current ? `${current}, ${piece}` : piece;
      const tail = current.replace(/[()\s]+$/, "");
      const lastWord = /(\p{L}+)$/u.exec(tail)?.[1] ?? "";
      if (/\d$|[ap]m$/i.test(tail) || CLOSED.test(lastWord) || ALWAYS.test(lastWord)) {
        out.push(current);
        current = "";
      }
    }
    if (current) out.push(current);
  }
  return out;
}

/** Reads business hours; blank or "24/7" is always open. */
export function parseBusinessHours(text: string): BusinessHours {
  const trimmed = text.trim();
  if (!trimmed || ALWAYS.test(trimmed)) return { kind: "always" };
  const intervals: Interval[] = [];
  const closedDays = new Set<number>();
  for (const rawClause of clauses(trimmed)) {
    const clause = rawClause.replace(/[()]/g, "").trim();
    if (!clause) continue;
    // "Mon–Fri 9:00–18:00 and 19:00-21:00", "Sat: 10-14", "Sun closed": days, then hours.
    const firstDigit = clause.search(/\d/);
    const lastWord = /(\p{L}+)$/u.exec(clause)?.[1] ?? "";
    const split =
      firstDigit > 0
        ? firstDigit
        : firstDigit < 0 && (CLOSED.test(lastWord) || ALWAYS.test(lastWord))
          ? clause.length - lastWord.length
          : -1;
    const dayPart = split > 0 ? clause.slice(0, split).replace(/[\s:]+$/, "") : "";
    if (!dayPart)
      return { kind: "unreadable", reason: `“${clause}” needs days and hours, e.g. “Mon–Fri 9:00–18:00”` };
    const days = daysOf(dayPart);
    if (!days) return { kind: "unreadable", reason: `“${dayPart}” is not a day or a range of days` };
    const rest = clause.slice(split).trim();
    if (CLOSED.test(rest)) {
      for (const d of days) closedDays.add(d);
      continue;
    }
    if (ALWAYS.test(rest)) {
      for (const day of days) intervals.push({ day, from: 0, to: 24 * 60 });
      continue;
    }
    for (const span of rest.split(/\s*(?:,|&|\band\b|\by\b|\be\b|\bet\b|\bund\b)\s*/)) {
      const ends = span.split(RANGE_WORD);
      const [from, to] = ends.length === 2 ? ends.map(minutesOf) : [null, null];
      if (from === null || to === null || from === to)
        return { kind: "unreadable", reason: `“${span}” is not a time range, e.g. “9:00–18:00”` };
      for (const day of days) {
        if (to > from) intervals.push({ day, from, to });
        else {
          // Past midnight: "20:00–02:00" is until 02:00 the next day.
          intervals.push({ day, from, to: 24 * 60 });
          if (to > 0) intervals.push({ day: (day + 1) % 7, from: 0, to });
        }
      }
    }
  }
  const open = intervals.filter((i) => !closedDays.has(i.day));
  if (!open.length) return { kind: "unreadable", reason: "No opening hours are given" };
  return { kind: "week", intervals: open.sort((a, b) => a.day - b.day || a.from - b.from) };
}

/** Monday-based day and minutes of `at` in `timeZone`. */
function localTime(at: number, timeZone: string): { day: number; minutes: number } {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    weekday: "short",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(new Date(at));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  const day = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].indexOf(get("weekday"));
  return { day, minutes: Number(get("hour")) * 60 + Number(get("minute")) };
}

export function isOpenAt(hours: BusinessHours, at: number, timeZone: string): boolean {
  if (hours.kind !== "week") return true;
  const { day, minutes } = localTime(at, timeZone);
  return hours.intervals.some((i) => i.day === day && minutes >= i.from && minutes < i.to);
}

/** When the team is next in, as "Monday 09:00" (or "today at 15:00"); null when open or always. */
export function nextOpening(hours: BusinessHours, at: number, timeZone: string): string | null {
  if (hours.kind !== "week" || isOpenAt(hours, at, timeZone)) return null;
  const { day, minutes } = localTime(at, timeZone);
  const now = day * 1440 + minutes;
  const starts = hours.intervals.map((i) => i.day * 1440 + i.from);
  const ahead = starts.map((s) => (s - now + 7 * 1440) % (7 * 1440)).filter((d) => d > 0);
  const wait = Math.min(...ahead);
  const start = (now + wait) % (7 * 1440);
  const startDay = Math.floor(start / 1440);
  const clock = `${String(Math.floor((start % 1440) / 60)).padStart(2, "0")}:${String(start % 60).padStart(2, "0")}`;
  if (startDay === day && wait < 1440) return `today at ${clock}`;
  if (startDay === (day + 1) % 7 && wait < 2 * 1440) return `tomorrow at ${clock}`;
  return `${DAY_NAMES[startDay]} at ${clock}`;
}

/** How the hours were understood, for the settings page: "Mon 09:00–18:00 · …" or why not. */
export function describeBusinessHours(hours: BusinessHours): string {
  if (hours.kind === "always") return "Always open: handoffs never say the team is away.";
  if (hours.kind === "unreadable")
    return `Not understood (${hours.reason}): handoffs never say the team is away.`;
  const byDay = DAY_NAMES.map((name, day) => {
    const spans = hours.intervals
      .filter((i) => i.day === day)
      .map((i) => `${clockOf(i.from)}–${clockOf(i.to)}`);
    return `${name.slice(0, 3)} ${spans.length ? spans.join(", ") : "closed"}`;
  });
  return byDay.join(" · ");
}

function clockOf(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
}
