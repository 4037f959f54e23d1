// Computes when each kind of Convex cron schedule (convex/crons.ts) next fires, in UTC, for the local server.

// Shapes below copy `Schedule` in node_modules/convex/src/server/cron.ts (convex 1.48): that is what
// `cronJobs().crons[name].schedule` holds. tests/local/cronSchedule.test.ts checks they stay equal.

/** Day names exactly as `crons.weekly()` stores them; the index is the cron day-of-week (Sunday = 0). */
export const DAYS_OF_WEEK = [
  "sunday",
  "monday",
  "tuesday",
  "wednesday",
  "thursday",
  "friday",
  "saturday",
] as const;
export type DayOfWeek = (typeof DAYS_OF_WEEK)[number];

export type IntervalSchedule =
  | { type: "interval"; seconds: number }
  | { type: "interval"; minutes: number }
  | { type: "interval"; hours: number };
export type HourlySchedule = { type: "hourly"; minuteUTC?: number };
export type DailySchedule = {
  type: "daily";
  hourUTC: number;
  minuteUTC?: number;
};
export type WeeklySchedule = {
  type: "weekly";
  dayOfWeek: DayOfWeek;
  hourUTC: number;
  minuteUTC?: number;
};
export type MonthlySchedule = {
  type: "monthly";
  day: number;
  hourUTC: number;
  minuteUTC?: number;
};
export type CronExpressionSchedule = { type: "cron"; cron: string };

export type CronSchedule =
  | IntervalSchedule
  | HourlySchedule
  | DailySchedule
  | WeeklySchedule
  | MonthlySchedule
  | CronExpressionSchedule;

/**
 * A 5-field cron expression expanded into the allowed values of each field (sorted, ascending).
 * Plain data so callers can parse once and pass it to `nextCronRunAfter` repeatedly.
 */
export interface ParsedCron {
  readonly expression: string;
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly daysOfMonth: readonly number[];
  /** 1-12. */
  readonly months: readonly number[];
  /** 0-6, Sunday = 0 (a 7 in the expression is folded into 0). */
  readonly daysOfWeek: readonly number[];
  /** False only for a bare `*`; decides whether the day-of-month / day-of-week OR rule applies. */
  readonly dayOfMonthRestricted: boolean;
  readonly dayOfWeekRestricted: boolean;
}

/**
 * Minute used when an hourly/daily/weekly/monthly schedule omits `minuteUTC`. Convex computes the
 * occurrence at minute 0 and then adds a random per-job delay of up to an hour to spread load
 * (crates/model/src/cron_jobs/next_ts.rs, `cron_splay`). A single local server has no load to
 * spread and tests need predictable times, so it runs the undelayed occurrence.
 */
export const DEFAULT_MINUTE_UTC = 0;

const SECOND_MS = 1_000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;

/**
 * The Gregorian calendar repeats every 400 years, so an expression that has no run within that
 * span never runs. In practice the longest gap is 8 years (Feb 29 across 2100), but the cap keeps
 * the search finite for anything the up-front check in `parseCronExpression` lets through.
 */
const MAX_SEARCH_YEARS = 400;

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/**
 * Next run time in ms since epoch strictly after `afterMs` (all in UTC, as Convex does).
 *
 * Interval schedules are anchored to `firstRunMs`, the time the job was registered: Convex runs
 * an interval job once at registration and then every period, so the result is the smallest
 * `firstRunMs + k * period` (k >= 0) that is > `afterMs`. Passing `afterMs < firstRunMs` therefore
 * returns `firstRunMs` itself (the run at registration). Without `firstRunMs` the result is
 * `afterMs + period`. `firstRunMs` is ignored by every other kind, which follow the UTC clock.
 *
 * Throws a descriptive Error for an invalid schedule or a cron expression that never matches.
 */
export function nextRunAfter(schedule: CronSchedule, afterMs: number, firstRunMs?: number): number {
  assertFiniteTime(afterMs, "afterMs");
  if (schedule.type === "interval") {
    if (firstRunMs !== undefined) assertFiniteTime(firstRunMs, "firstRunMs");
    return nextIntervalRun(intervalPeriodMs(schedule), afterMs, firstRunMs);
  }
  return nextCronRunAfter(toParsedCron(schedule), afterMs);
}

/** Checks a schedule much as the Convex backend does on push; throws a descriptive Error if invalid. */
export function validateSchedule(schedule: CronSchedule): void {
  if (schedule.type === "interval") intervalPeriodMs(schedule);
  else toParsedCron(schedule);
}

/**
 * Parses a standard 5-field cron expression (minute hour day-of-month month day-of-week), in UTC.
 * Supports `*`, lists, ranges, steps (`*\/5`, `1-10/2`, `5/15`), JAN-DEC and SUN-SAT names, and
 * day-of-week 7 as Sunday. Throws an Error naming the offending field, and also when the
 * expression can never match (e.g. `0 0 31 2 *`), which Convex likewise rejects on push.
 */
export function parseCronExpression(expr: string): ParsedCron {
  const texts = splitFields(expr);
  const [minutes, hours, daysOfMonth, months, daysOfWeek] = FIELDS.map((spec, i) =>
    parseField(expr, spec, texts[i]!),
  ) as [number[], number[], number[], number[], number[]];
  const parsed: ParsedCron = {
    expression: texts.join(" "),
    minutes,
    hours,
    daysOfMonth,
    months,
    daysOfWeek,
    dayOfMonthRestricted: texts[2] !== "*",
    dayOfWeekRestricted: texts[4] !== "*",
  };
  assertCanMatch(parsed);
  return parsed;
}

/** Next minute strictly after `afterMs` that `cron` matches. */
export function nextCronRunAfter(cron: ParsedCron, afterMs: number): number {
  assertFiniteTime(afterMs, "afterMs");
  let candidate = Math.floor(afterMs / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  const lastYear = new Date(candidate).getUTCFullYear() + MAX_SEARCH_YEARS;
  // Each step either accepts the candidate or jumps to the first instant that could match the
  // field that failed, so the loop advances by months, days and hours rather than by minutes.
  for (;;) {
    const date = new Date(candidate);
    if (date.getUTCFullYear() > lastYear) {
      throw new Error(
        `Cron expression "${cron.expression}" has no run in the next ${MAX_SEARCH_YEARS} years`,
      );
    }
    const next = skipToPossibleMatch(cron, date);
    if (next === candidate) return candidate;
    candidate = next;
  }
}

/** Short human-readable form, e.g. "every 60s", "daily at 09:30 UTC", "cron 0 *\/2 * * *". */
export function describeSchedule(schedule: CronSchedule): string {
  switch (schedule.type) {
    case "interval":
      return describeInterval(schedule);
    case "hourly":
      return `hourly at :${pad2(minuteOf(schedule))} UTC${unpinnedNote(schedule)}`;
    case "daily":
      return `daily at ${clock(schedule)} UTC${unpinnedNote(schedule)}`;
    case "weekly":
      return `weekly on ${schedule.dayOfWeek} at ${clock(schedule)} UTC${unpinnedNote(schedule)}`;
    case "monthly":
      return `monthly on day ${schedule.day} at ${clock(schedule)} UTC${unpinnedNote(schedule)}`;
    case "cron":
      return `cron ${schedule.cron.trim().split(/\s+/).join(" ")}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Interval schedules
// ---------------------------------------------------------------------------------------------

const INTERVAL_UNITS = [
  { key: "seconds", ms: SECOND_MS, suffix: "s" },
  { key: "minutes", ms: MINUTE_MS, suffix: "m" },
  { key: "hours", ms: HOUR_MS, suffix: "h" },
] as const;

/** The one unit an interval uses; Convex rejects zero or several (crates/model/src/cron_jobs/types.rs). */
function intervalUnit(schedule: IntervalSchedule) {
  const fields = schedule as Partial<Record<(typeof INTERVAL_UNITS)[number]["key"], number>>;
  const present = INTERVAL_UNITS.filter((unit) => fields[unit.key] !== undefined);
  if (present.length !== 1) {
    throw new Error("Interval schedule must set exactly one of seconds, minutes or hours");
  }
  const unit = present[0]!;
  const count = fields[unit.key]!;
  if (!Number.isInteger(count) || count <= 0) {
    throw new Error(`Interval ${unit.key} must be an integer greater than 0, got ${count}`);
  }
  return { ...unit, count };
}

export function intervalPeriodMs(schedule: IntervalSchedule): number {
  const unit = intervalUnit(schedule);
  return unit.count * unit.ms;
}

function nextIntervalRun(periodMs: number, afterMs: number, firstRunMs: number | undefined): number {
  if (firstRunMs === undefined) return afterMs + periodMs;
  if (afterMs < firstRunMs) return firstRunMs;
  const periodsElapsed = Math.floor((afterMs - firstRunMs) / periodMs) + 1;
  return firstRunMs + periodsElapsed * periodMs;
}

function describeInterval(schedule: IntervalSchedule): string {
  const unit = intervalUnit(schedule);
  return `every ${unit.count}${unit.suffix}`;
}

// ---------------------------------------------------------------------------------------------
// Clock schedules (hourly, daily, weekly, monthly) become cron expressions, as in Convex
// ---------------------------------------------------------------------------------------------

type ClockSchedule = Exclude<CronSchedule, IntervalSchedule>;

/**
 * Mirrors `compute_next_ts` in the Convex backend, which formats the helpers as cron strings.
 * Monthly therefore uses plain cron day-of-month semantics: a day the month lacks (31 in April,
 * 29-31 in February) is skipped that month rather than moved to the month's last day. The
 * `crons.monthly()` docs say the same: "a function scheduled to run on the 30th will not run in
 * February".
 */
function toParsedCron(schedule: ClockSchedule): ParsedCron {
  if (schedule.type === "cron") {
    if (typeof schedule.cron !== "string") throw new Error("Cron schedule needs a `cron` string");
    return parseCronExpression(schedule.cron);
  }
  const minute = checkedInt(minuteOf(schedule), 0, 59, "minuteUTC");
  if (schedule.type === "hourly") return parseCronExpression(`${minute} * * * *`);
  const hour = checkedInt(schedule.hourUTC, 0, 23, "hourUTC");
  switch (schedule.type) {
    case "daily":
      return parseCronExpression(`${minute} ${hour} * * *`);
    case "weekly":
      return parseCronExpression(`${minute} ${hour} * * ${dayOfWeekIndex(schedule.dayOfWeek)}`);
    case "monthly":
      return parseCronExpression(`${minute} ${hour} ${checkedInt(schedule.day, 1, 31, "day")} * *`);
  }
}

function minuteOf(schedule: { minuteUTC?: number }): number {
  return schedule.minuteUTC ?? DEFAULT_MINUTE_UTC;
}

function dayOfWeekIndex(day: DayOfWeek): number {
  const index = DAYS_OF_WEEK.indexOf(day);
  if (index < 0) {
    throw new Error(`dayOfWeek must be one of ${DAYS_OF_WEEK.join(", ")}, got ${JSON.stringify(day)}`);
  }
  return index;
}

function checkedInt(value: number, min: number, max: number, label: string): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${label} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

function clock(schedule: { hourUTC: number; minuteUTC?: number }): string {
  return `${pad2(schedule.hourUTC)}:${pad2(minuteOf(schedule))}`;
}

/** Flags schedules whose minute the local server chose, since deployed Convex will pick another. */
function unpinnedNote(schedule: { minuteUTC?: number }): string {
  return schedule.minuteUTC === undefined ? " (minute not pinned)" : "";
}

function pad2(n: number): string {
  return String(n).padStart(2, "0");
}

// ---------------------------------------------------------------------------------------------
// Cron expression parsing
// ---------------------------------------------------------------------------------------------

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  /** Highest value accepted when written out. */
  readonly max: number;
  /** Highest value `*` and open-ended steps reach; below `max` only where `max` is an alias. */
  readonly last: number;
  readonly names?: ReadonlyMap<string, number>;
}

const MONTH_NAMES = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAY_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

const FIELDS: readonly FieldSpec[] = [
  { name: "minute", min: 0, max: 59, last: 59 },
  { name: "hour", min: 0, max: 23, last: 23 },
  { name: "day-of-month", min: 1, max: 31, last: 31 },
  {
    name: "month",
    min: 1,
    max: 12,
    last: 12,
    names: nameTable(MONTH_NAMES, 1),
  },
  // 7 is accepted as a second Sunday (standard cron; Convex itself only takes 0-6) and folded
  // to 0 after expansion. It is not part of `*` or `1/2`, which would otherwise add Sunday.
  {
    name: "day-of-week",
    min: 0,
    max: 7,
    last: 6,
    names: nameTable(DAY_NAMES, 0),
  },
];

function nameTable(names: readonly string[], first: number): ReadonlyMap<string, number> {
  return new Map(names.map((name, i) => [name, first + i]));
}

function splitFields(expr: string): string[] {
  if (typeof expr !== "string") throw new Error("Cron expression must be a string");
  const texts = expr
    .trim()
    .split(/\s+/)
    .filter((text) => text !== "");
  if (texts.length !== FIELDS.length) {
    throw new Error(
      `Invalid cron expression "${expr}": expected 5 fields (minute hour day-of-month month day-of-week), got ${texts.length}`,
    );
  }
  return texts;
}

/** Expands one field into its sorted, de-duplicated allowed values. */
function parseField(expr: string, spec: FieldSpec, text: string): number[] {
  const fail = (reason: string): never => {
    throw new Error(`Invalid cron expression "${expr}": ${spec.name} field "${text}" ${reason}`);
  };
  const values = new Set<number>();
  for (const part of text.split(",")) {
    for (const value of expandPart(spec, part, fail)) values.add(value);
  }
  if (spec.name === "day-of-week" && values.delete(7)) values.add(0);
  return [...values].sort((a, b) => a - b);
}

/** One list item: `*`, `a`, `a-b`, each optionally followed by `/step`. */
function expandPart(spec: FieldSpec, part: string, fail: (reason: string) => never): number[] {
  const [base = "", stepText, ...extra] = part.split("/");
  if (extra.length > 0) fail(`has more than one "/" in "${part}"`);
  const step = stepText === undefined ? 1 : parseStep(spec, stepText, fail);
  const [start, end] = rangeOf(spec, base, stepText !== undefined, fail);
  const values: number[] = [];
  for (let value = start; value <= end; value += step) values.push(value);
  return values;
}

/**
 * Steps are capped at the field's span, as in the parser Convex uses (saffron): a larger step
 * could only ever hit the start value, so it is almost certainly a typo.
 */
function parseStep(spec: FieldSpec, text: string, fail: (reason: string) => never): number {
  const maxStep = spec.last - spec.min;
  const step = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(step >= 1 && step <= maxStep)) fail(`has step "${text}"; steps must be 1-${maxStep}`);
  return step;
}

/**
 * `a/step` (no range) runs from a to the field's maximum, which Convex's parser accepts too.
 */
function rangeOf(
  spec: FieldSpec,
  base: string,
  stepped: boolean,
  fail: (reason: string) => never,
): [number, number] {
  if (base === "*") return [spec.min, spec.last];
  const [startText = "", endText, ...extra] = base.split("-");
  if (extra.length > 0) fail(`has a malformed range "${base}"`);
  const start = parseValue(spec, startText, fail);
  // `7/2` in day-of-week starts past `last`; it still means (only) Sunday.
  if (endText === undefined) return [start, stepped ? Math.max(start, spec.last) : start];
  const end = parseValue(spec, endText, fail);
  if (start > end) fail(`has range "${base}" whose start is after its end`);
  return [start, end];
}

/** Saffron (Convex's parser) also takes L, W and #; they are rare enough to leave out for now. */
const QUARTZ_EXTENSION = /^(\?|L|LW|L-\d+W?|\d+W|(\d+|[A-Z]{3})(L|#\d+))$/i;

function parseValue(spec: FieldSpec, text: string, fail: (reason: string) => never): number {
  if (/^\d+$/.test(text)) {
    const value = Number(text);
    if (value < spec.min || value > spec.max) fail(`has ${value}, outside ${spec.min}-${spec.max}`);
    return value;
  }
  const named = spec.names?.get(text.toUpperCase());
  if (named !== undefined) return named;
  if (QUARTZ_EXTENSION.test(text)) {
    fail(`uses "${text}"; the L, W, # and ? extensions are not supported by the local server`);
  }
  return fail(text === "" ? "has an empty value" : `has unknown value "${text}"`);
}

/** Days in each month at most (February counts its leap day), indexed by month 1-12. */
const MAX_DAYS_IN_MONTH = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Rejects expressions that can never run, as Convex does on push ("will never match any time").
 * Only a day-of-month restriction without a day-of-week restriction can be impossible: every
 * month contains every weekday, and with both restricted either one matching is enough.
 */
function assertCanMatch(cron: ParsedCron): void {
  if (!cron.dayOfMonthRestricted || cron.dayOfWeekRestricted) return;
  const longestMonth = Math.max(...cron.months.map((month) => MAX_DAYS_IN_MONTH[month]!));
  if (cron.daysOfMonth[0]! > longestMonth) {
    throw new Error(
      `Invalid cron expression "${cron.expression}": it never runs, because no month in the month field has day ${cron.daysOfMonth.join(",")}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Cron search
// ---------------------------------------------------------------------------------------------

/**
 * Returns `date`'s time if it matches, otherwise the earliest later instant worth checking:
 * the start of the next allowed month, the next day, the next allowed hour or the next allowed
 * minute, whichever field failed first (largest first, so each jump is as long as possible).
 */
function skipToPossibleMatch(cron: ParsedCron, date: Date): number {
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth(); // 0-11, as Date.UTC expects
  const day = date.getUTCDate();
  const hour = date.getUTCHours();
  const minute = date.getUTCMinutes();

  if (!cron.months.includes(month + 1)) {
    const nextMonth = cron.months.find((m) => m > month + 1);
    return nextMonth === undefined
      ? Date.UTC(year + 1, cron.months[0]! - 1, 1)
      : Date.UTC(year, nextMonth - 1, 1);
  }
  // Date.UTC rolls day 32 over into the next month (and December into January), so stepping a
  // day at a time needs no month-length table; at most 31 steps before the month check jumps.
  if (!dayMatches(cron, date)) return Date.UTC(year, month, day + 1);
  if (!cron.hours.includes(hour)) {
    const nextHour = cron.hours.find((h) => h > hour);
    return nextHour === undefined ? Date.UTC(year, month, day + 1) : Date.UTC(year, month, day, nextHour);
  }
  if (!cron.minutes.includes(minute)) {
    const nextMinute = cron.minutes.find((m) => m > minute);
    return nextMinute === undefined
      ? Date.UTC(year, month, day, hour + 1)
      : Date.UTC(year, month, day, hour, nextMinute);
  }
  return date.getTime();
}

/**
 * Standard cron rule (and Convex's): when both day fields are restricted a day matches if
 * either does. Otherwise the unrestricted field holds every value, so requiring both is the same
 * as requiring the restricted one. Unlike Vixie cron, Convex treats `*\/2` as restricted; only
 * a bare `*` is not, and `dayOfMonthRestricted` / `dayOfWeekRestricted` follow Convex.
 */
function dayMatches(cron: ParsedCron, date: Date): boolean {
  const dayOfMonthOk = cron.daysOfMonth.includes(date.getUTCDate());
  const dayOfWeekOk = cron.daysOfWeek.includes(date.getUTCDay());
  if (cron.dayOfMonthRestricted && cron.dayOfWeekRestricted) return dayOfMonthOk || dayOfWeekOk;
  return dayOfMonthOk && dayOfWeekOk;
}

function assertFiniteTime(ms: number, label: string): void {
  if (!Number.isFinite(ms)) throw new Error(`${label} must be a finite number of ms, got ${ms}`);
}
