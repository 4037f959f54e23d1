/**
 * How platform admins change the rate card: a new effective-dated version of a rate, one at a time
 * from a form or many from a CSV file. Every row is checked before anything is written, and a file
 * with any bad row writes nothing (its report lists every bad row by spreadsheet row number). A
 * rate already in force is never changed, since charges point at it; a version that starts in a
 * future quarter may be corrected until then. Each change is audited on the platform log.
 */
import { ConvexError } from "convex/values";
import { internal } from "../../_generated/api";
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../../_generated/server";
import { parseCsv } from "../../shared/csv";
import { quarterStart } from "../../shared/quarters";
import * as Audit from "../audit";
import { seedModelPrices } from "./aiPrices";
import { hasRateCard, RATE_CARD_CURRENCIES } from "./currencies";
import { marketName, marketProblem } from "./markets";
import { parseDecimal, toDecimalString, type Micros } from "./money";
import { RATE_CARD_SEED } from "./rateCardSeed";
import { dayStart, isoDay, normaliseCategory, RATE_CATEGORIES, seedRateCard } from "./rates";
import type { RateCategory } from "./tables";

/** A rate as people type it: every value a string, as in a CSV cell or a form field. */
export type RateInput = {
  currency: string;
  market: string;
  category: string;
  rate: string;
  effectiveFrom: string;
  source?: string;
  estimate?: string;
  note?: string;
};

export type RateField = keyof RateInput;

/** A checked rate, ready to write. */
export type NewRate = {
  currency: string;
  market: string;
  category: RateCategory;
  effectiveFrom: number;
  amount: Micros;
  source: string;
  estimate: boolean;
  note?: string;
};

export type RowError = { row: number; field?: string; message: string };

export type RateChange = {
  row: number;
  action: "insert" | "replace" | "unchanged";
  currency: string;
  market: string;
  category: string;
  effectiveFrom: string;
  amount: Micros;
  /** The amount being replaced. */
  previous: Micros | null;
};

export type ImportResult = {
  /** True when every row is valid (and, unless a dry run, written). */
  ok: boolean;
  dryRun: boolean;
  /** Data rows read (the header and blank rows not counted). */
  rows: number;
  inserted: number;
  replaced: number;
  unchanged: number;
  /** Problems by row (the header is row 1); at most MAX_REPORTED of them. */
  errors: RowError[];
  errorCount: number;
  /** What each row does (at most MAX_REPORTED of them). */
  changes: RateChange[];
};

/** Most data rows one upload may hold: it is checked and written in one mutation, within its time limit. */
export const MAX_IMPORT_ROWS = 1000;
/** Largest CSV text accepted, in characters. */
export const MAX_IMPORT_CHARS = 1_000_000;
const MAX_REPORTED = 500;
const MAX_RATE: Micros = 1_000_000 * 1_000_000;

const text = (value: string | undefined) => (value ?? "").trim();

/** Checks one row; `now` decides which quarter starts are still open. */
export function checkRate(
  input: RateInput,
  { now, defaultSource }: { now: number; defaultSource: string },
): { rate: NewRate; problems: [] } | { rate: null; problems: { field: RateField; message: string }[] } {
  const problems: { field: RateField; message: string }[] = [];
  const currency = text(input.currency).toUpperCase();
  if (!hasRateCard(currency))
    problems.push({
      field: "currency",
      message: currency
        ? `${currency} has no rate card: use ${RATE_CARD_CURRENCIES.join(", ")}`
        : "Enter a currency",
    });

  const category = normaliseCategory(text(input.category));
  if (!category)
    problems.push({
      field: "category",
      message: `"${text(input.category)}" is not a category: use ${RATE_CATEGORIES.join(", ")}`,
    });

  let amount: Micros | null = null;
  try {
    amount = parseDecimal(text(input.rate), "rate");
    if (amount < 0 || amount > MAX_RATE) {
      problems.push({ field: "rate", message: "A rate must be from 0 to 1,000,000" });
      amount = null;
    }
  } catch (error) {
    problems.push({
      field: "rate",
      message: messageOf(error, `"${text(input.rate)}" is not a rate like 0.0618`),
    });
  }

  const date = text(input.effectiveFrom);
  let effectiveFrom: number | null = null;
  const open = quarterStart(now);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`))) {
    problems.push({ field: "effectiveFrom", message: `"${date}" is not a date like ${isoDay(open)}` });
  } else {
    const ms = dayStart(date);
    if (quarterStart(ms) !== ms) {
      problems.push({
        field: "effectiveFrom",
        message: `${date} is not a quarter start: Meta changes rates only on 1 January, April, July or October`,
      });
    } else if (ms < open) {
      problems.push({
        field: "effectiveFrom",
        message: `${date} is in a past quarter: rates take effect from ${isoDay(open)} on, since messages already charged used the rates then in force`,
      });
    } else {
      effectiveFrom = ms;
    }
  }

  const rawMarket = text(input.market);
  const market = /^[a-z]{2}$/i.test(rawMarket)
    ? rawMarket.toUpperCase()
    : rawMarket.toLowerCase().replace(/[\s-]+/g, "_");
  if (!market) problems.push({ field: "market", message: "Enter a market" });
  else {
    const problem = marketProblem(market, effectiveFrom ?? open);
    if (problem) problems.push({ field: "market", message: problem });
  }

  const source = text(input.source) || defaultSource;
  if (source.length > 200)
    problems.push({ field: "source", message: "Keep the source under 200 characters" });
  const note = text(input.note);
  if (note.length > 500) problems.push({ field: "note", message: "Keep the note under 500 characters" });
  const flag = text(input.estimate).toLowerCase();
  let estimate = false;
  if (["true", "yes", "y", "1"].includes(flag)) estimate = true;
  else if (!["", "false", "no", "n", "0"].includes(flag))
    problems.push({ field: "estimate", message: `"${text(input.estimate)}" is not yes or no` });

  if (problems.length > 0 || !category || amount === null || effectiveFrom === null) {
    return { rate: null, problems };
  }
  return {
    rate: {
      currency,
      market,
      category,
      effectiveFrom,
      amount,
      source,
      estimate,
      ...(note ? { note } : {}),
    },
    problems: [],
  };
}

function messageOf(error: unknown, fallback: string): string {
  const data = (error as { data?: { message?: unknown } }).data;
  return typeof data?.message === "string" ? data.message : fallback;
}

const HEADER_ALIASES: Record<string, RateField> = {
  currency: "currency",
  market: "market",
  category: "category",
  rate: "rate",
  amount: "rate",
  effective_from: "effectiveFrom",
  effectivefrom: "effectiveFrom",
  source: "source",
  estimate: "estimate",
  note: "note",
};
const REQUIRED: RateField[] = ["currency", "market", "category", "rate", "effectiveFrom"];
const COLUMN_NAMES: Record<RateField, string> = {
  currency: "currency",
  market: "market",
  category: "category",
  rate: "rate",
  effectiveFrom: "effective_from",
  source: "source",
  estimate: "estimate",
  note: "note",
};

/**
 * The rows of a rate card CSV (header: currency, market, category, rate, effective_from, and
 * optionally source, estimate, note, in any order), or the problems that stop it being read.
 */
export function rowsFromCsv(csv: string): {
  rows: { row: number; input: RateInput }[];
  /** Data rows in the file, valid or not. */
  dataRows: number;
  errors: RowError[];
} {
  const failed = (errors: RowError[], dataRows = 0) => ({ rows: [], dataRows, errors });
  if (csv.length > MAX_IMPORT_CHARS) {
    return failed([{ row: 1, message: "The file is over 1 MB: split it into smaller files" }]);
  }
  const { records, error } = parseCsv(csv);
  if (error) return failed([{ row: error.row, message: error.message }]);
  const [header, ...data] = records;
  if (!header) return failed([{ row: 1, message: "The file is empty" }]);
  const columns: (RateField | null)[] = [];
  const errors: RowError[] = [];
  for (const name of header.cells) {
    const key = name
      .trim()
      .toLowerCase()
      .replace(/[\s-]+/g, "_");
    const field = HEADER_ALIASES[key] ?? null;
    if (!field) errors.push({ row: header.row, message: `Unknown column "${name.trim()}"` });
    else if (columns.includes(field))
      errors.push({ row: header.row, message: `The column ${COLUMN_NAMES[field]} appears twice` });
    columns.push(field);
  }
  const missing = REQUIRED.filter((f) => !columns.includes(f)).map((f) => COLUMN_NAMES[f]);
  if (missing.length)
    errors.push({
      row: header.row,
      message: `Missing ${missing.length === 1 ? "column" : "columns"} ${missing.join(", ")}: the header must name currency, market, category, rate and effective_from`,
    });
  if (errors.length) return failed(errors, data.length);
  if (data.length === 0) return failed([{ row: 2, message: "The file has a header but no rates" }]);
  if (data.length > MAX_IMPORT_ROWS)
    return failed(
      [{ row: data[MAX_IMPORT_ROWS].row, message: `Upload at most ${MAX_IMPORT_ROWS} rates at a time` }],
      data.length,
    );

  const rows: { row: number; input: RateInput }[] = [];
  for (const record of data) {
    if (record.cells.length !== columns.length) {
      errors.push({
        row: record.row,
        message: `Has ${record.cells.length} ${record.cells.length === 1 ? "cell" : "cells"}; the header has ${columns.length}`,
      });
      continue;
    }
    const input: RateInput = { currency: "", market: "", category: "", rate: "", effectiveFrom: "" };
    record.cells.forEach((cell, i) => (input[columns[i]!] = cell));
    rows.push({ row: record.row, input });
  }
  return { rows, dataRows: data.length, errors };
}

type Planned = { row: number; rate: NewRate; existing: Doc<"rates"> | null };

const keyOf = (r: Pick<NewRate, "currency" | "market" | "category" | "effectiveFrom">) =>
  `${r.currency} ${r.market} ${r.category} ${r.effectiveFrom}`;

const describeRate = (r: Pick<NewRate, "currency" | "market" | "category" | "effectiveFrom">) =>
  `the ${r.currency} ${r.category.replace(/_/g, " ")} rate for ${marketName(r.market)} from ${isoDay(r.effectiveFrom)}`;

/** Checks every row against the rules, each other and the rates already stored. */
async function plan(
  ctx: QueryCtx,
  rows: { row: number; input: RateInput }[],
  options: { now: number; defaultSource: string },
): Promise<{ planned: Planned[]; errors: RowError[] }> {
  const errors: RowError[] = [];
  const valid: { row: number; rate: NewRate }[] = [];
  const seen = new Map<string, number>();
  for (const { row, input } of rows) {
    const checked = checkRate(input, options);
    if (!checked.rate) {
      for (const p of checked.problems) errors.push({ row, field: p.field, message: p.message });
      continue;
    }
    const first = seen.get(keyOf(checked.rate));
    if (first !== undefined) {
      errors.push({ row, message: `Repeats row ${first}: ${describeRate(checked.rate)} appears twice` });
      continue;
    }
    seen.set(keyOf(checked.rate), row);
    valid.push({ row, rate: checked.rate });
  }
  // A valid row starts in the current quarter or later, so only versions from then on can clash:
  // one range read per currency instead of one lookup per row.
  const stored = new Map<string, Doc<"rates">>();
  for (const currency of new Set(valid.map((v) => v.rate.currency))) {
    const versions = await ctx.db
      .query("rates")
      .withIndex("by_currency_from", (q) =>
        q.eq("currency", currency).gte("effectiveFrom", quarterStart(options.now)),
      )
      .take(10_000);
    for (const r of versions) stored.set(keyOf(r), r);
  }
  const planned: Planned[] = [];
  for (const { row, rate } of valid) {
    const existing = stored.get(keyOf(rate)) ?? null;
    if (existing && existing.amount !== rate.amount && existing.effectiveFrom <= options.now) {
      errors.push({
        row,
        field: "effectiveFrom",
        message: `${capitalise(describeRate(rate))} is already in force at ${toDecimalString(existing.amount)}; a rate in force never changes: add the new one from a later quarter start`,
      });
      continue;
    }
    planned.push({ row, rate, existing });
  }
  return { planned, errors };
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

function actionOf(p: Planned): RateChange["action"] {
  if (!p.existing) return "insert";
  const same =
    p.existing.amount === p.rate.amount &&
    p.existing.estimate === p.rate.estimate &&
    p.existing.source === p.rate.source &&
    (p.existing.note ?? "") === (p.rate.note ?? "");
  return same ? "unchanged" : "replace";
}

async function write(ctx: MutationCtx, p: Planned, now: number): Promise<Id<"rates"> | null> {
  const action = actionOf(p);
  if (action === "unchanged") return p.existing!._id;
  if (action === "replace") {
    await ctx.db.patch("rates", p.existing!._id, {
      amount: p.rate.amount,
      source: p.rate.source,
      estimate: p.rate.estimate,
      note: p.rate.note,
    });
    return p.existing!._id;
  }
  return await ctx.db.insert("rates", { ...p.rate, createdAt: now });
}

/**
 * Checks and (unless `dryRun`) writes the rows of a CSV upload: all of them or, if any row is
 * invalid, none. Returns the report either way; only a caller's mistake (not an admin) throws.
 */
export async function importRates(
  ctx: MutationCtx,
  user: Doc<"users">,
  { csv, dryRun, fileName }: { csv: string; dryRun: boolean; fileName?: string },
): Promise<ImportResult> {
  const now = Date.now();
  const parsed = rowsFromCsv(csv);
  // Rows with the wrong number of cells are reported with the others' problems.
  const checked = await plan(ctx, parsed.rows, { now, defaultSource: `upload by ${user.email}` });
  const planned = checked.planned;
  const errors = [...parsed.errors, ...checked.errors];
  errors.sort((a, b) => a.row - b.row);
  const changes: RateChange[] = planned.map((p) => ({
    row: p.row,
    action: actionOf(p),
    currency: p.rate.currency,
    market: p.rate.market,
    category: p.rate.category,
    effectiveFrom: isoDay(p.rate.effectiveFrom),
    amount: p.rate.amount,
    previous: p.existing && actionOf(p) === "replace" ? p.existing.amount : null,
  }));
  const count = (action: RateChange["action"]) => changes.filter((c) => c.action === action).length;
  const ok = errors.length === 0;
  const result: ImportResult = {
    ok,
    dryRun,
    rows: parsed.dataRows,
    inserted: count("insert"),
    replaced: count("replace"),
    unchanged: count("unchanged"),
    errors: errors.slice(0, MAX_REPORTED),
    errorCount: errors.length,
    changes: changes.slice(0, MAX_REPORTED),
  };
  if (!ok || dryRun || result.inserted + result.replaced === 0) return result;
  for (const p of planned) await write(ctx, p, now);
  const written = changes.filter((c) => c.action !== "unchanged");
  const list = (values: string[]) => [...new Set(values)].sort().join(", ");
  await Audit.record(ctx, {
    actor: user,
    action: "billing.rates_changed",
    targetType: "rates",
    summary:
      `Imported ${written.length} ${written.length === 1 ? "rate" : "rates"}` +
      (fileName ? ` from ${fileName.slice(0, 100)}` : "") +
      `: ${result.inserted} new, ${result.replaced} corrected (${list(written.map((c) => c.currency))}; from ${list(written.map((c) => c.effectiveFrom))})`,
    after: {
      inserted: result.inserted,
      replaced: result.replaced,
      unchanged: result.unchanged,
      currencies: list(written.map((c) => c.currency)),
      effectiveFrom: list(written.map((c) => c.effectiveFrom)),
      ...(fileName ? { file: fileName.slice(0, 100) } : {}),
    },
  });
  return result;
}

/**
 * Adds one rate version from the form (or corrects one that starts in a future quarter). A bad
 * value throws `INVALID` on its field.
 */
export async function addRate(
  ctx: MutationCtx,
  user: Doc<"users">,
  input: RateInput,
): Promise<{ rateId: Id<"rates">; action: RateChange["action"] }> {
  const now = Date.now();
  const { planned, errors } = await plan(ctx, [{ row: 1, input }], { now, defaultSource: user.email });
  if (errors.length) {
    throw new ConvexError({ code: "INVALID" as const, message: errors[0].message, field: errors[0].field });
  }
  const p = planned[0];
  const action = actionOf(p);
  const rateId = (await write(ctx, p, now))!;
  if (action !== "unchanged") {
    const amount = toDecimalString(p.rate.amount);
    await Audit.record(ctx, {
      actor: user,
      action: "billing.rates_changed",
      targetType: "rate",
      targetId: rateId,
      summary:
        action === "insert"
          ? `Added ${describeRate(p.rate)}: ${amount}`
          : `Corrected ${describeRate(p.rate)}: ${toDecimalString(p.existing!.amount)} → ${amount}`,
      ...(p.existing ? { before: { amount: toDecimalString(p.existing.amount) } } : {}),
      after: {
        currency: p.rate.currency,
        market: p.rate.market,
        category: p.rate.category,
        effectiveFrom: isoDay(p.rate.effectiveFrom),
        amount,
        source: p.rate.source,
        estimate: p.rate.estimate,
      },
    });
  }
  return { rateId, action };
}

/** Seed rows loaded per mutation, well within a mutation's time limit. */
export const SEED_BATCH = 50;

export type SeedProgress = {
  from: number;
  inserted: number;
  unchanged: number;
  differing: number;
  modelPrices: number;
};

/**
 * Loads the published rate card and AI prices (idempotent) a batch at a time: this mutation loads
 * the AI prices and the first batch and schedules the next; the last batch records one audit
 * event with the totals when anything was added.
 */
export async function startSeed(ctx: MutationCtx, user: Doc<"users">) {
  const models = await seedModelPrices(ctx, Date.now());
  const { done } = await seedBatch(ctx, user._id, {
    from: 0,
    inserted: 0,
    unchanged: 0,
    differing: 0,
    modelPrices: models.inserted,
  });
  return { total: RATE_CARD_SEED.length, modelPricesInserted: models.inserted, done };
}

/** One batch of the seed from `progress.from`; schedules the next, or audits the totals when done. */
export async function seedBatch(
  ctx: MutationCtx,
  /** Who asked (audited as them), or null for an operator's command (audited as the system). */
  userId: Id<"users"> | null,
  progress: SeedProgress,
): Promise<{ progress: SeedProgress; done: boolean }> {
  const batch = await seedRateCard(ctx, Date.now(), { from: progress.from, count: SEED_BATCH });
  const next: SeedProgress = {
    from: progress.from + SEED_BATCH,
    inserted: progress.inserted + batch.inserted,
    unchanged: progress.unchanged + batch.unchanged,
    differing: progress.differing + batch.differing.length,
    modelPrices: progress.modelPrices,
  };
  if (next.from < RATE_CARD_SEED.length) {
    await ctx.scheduler.runAfter(0, internal.billing.continuePublishedRates, { userId, progress: next });
    return { progress: next, done: false };
  }
  const user = userId ? await ctx.db.get("users", userId) : null;
  if (next.inserted + next.modelPrices > 0) {
    await Audit.record(ctx, {
      actor: user ?? { system: "rate-card-seed" },
      action: "billing.rates_seeded",
      targetType: "rates",
      summary: `Loaded the published rate card: ${next.inserted} message rates and ${next.modelPrices} AI model prices`,
      after: { rates: next.inserted, modelPrices: next.modelPrices, differing: next.differing },
    });
  }
  return { progress: next, done: true };
}

export type RateView = {
  rateId: Id<"rates">;
  currency: string;
  market: string;
  marketName: string;
  category: RateCategory;
  effectiveFrom: string;
  amount: Micros;
  source: string;
  estimate: boolean;
  note: string | null;
};

/** The rate card of one currency, optionally of one market and category, by market, category and date (newest first). */
export async function listRates(
  ctx: QueryCtx,
  { currency, market, category }: { currency: string; market?: string; category?: RateCategory },
): Promise<RateView[]> {
  const rows = await ctx.db
    .query("rates")
    .withIndex("by_currency_market_category_from", (q) => {
      const byCurrency = q.eq("currency", currency.trim().toUpperCase());
      if (!market) return byCurrency;
      const byMarket = byCurrency.eq("market", market);
      return category ? byMarket.eq("category", category) : byMarket;
    })
    .take(5000);
  return rows
    .filter((r) => !category || r.category === category)
    .sort(
      (a, b) =>
        marketName(a.market).localeCompare(marketName(b.market)) ||
        RATE_CATEGORIES.indexOf(a.category) - RATE_CATEGORIES.indexOf(b.category) ||
        b.effectiveFrom - a.effectiveFrom,
    )
    .map((r) => ({
      rateId: r._id,
      currency: r.currency,
      market: r.market,
      marketName: marketName(r.market),
      category: r.category,
      effectiveFrom: isoDay(r.effectiveFrom),
      amount: r.amount,
      source: r.source,
      estimate: r.estimate,
      note: r.note ?? null,
    }));
}

/** Every AI model price, by currency, model and date (newest first). */
export async function listModelPrices(ctx: QueryCtx) {
  const rows = await ctx.db.query("modelPrices").take(1000);
  return rows
    .sort(
      (a, b) =>
        a.currency.localeCompare(b.currency) ||
        a.model.localeCompare(b.model) ||
        b.effectiveFrom - a.effectiveFrom,
    )
    .map((r) => ({
      priceId: r._id,
      currency: r.currency,
      model: r.model,
      effectiveFrom: isoDay(r.effectiveFrom),
      inputPerMillion: r.inputPerMillion,
      outputPerMillion: r.outputPerMillion,
      source: r.source,
      estimate: r.estimate,
    }));
}
