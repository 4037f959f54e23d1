/**
 * Quarter starts, when Meta changes its rates (1 January, April, July and October, 00:00 UTC
 * here). Pure: the rate editor offers these dates and Convex accepts only these.
 */

/** 00:00 UTC of the first day of the quarter `ms` falls in. */
export function quarterStart(ms: number): number {
  const date = new Date(ms);
  return Date.UTC(date.getUTCFullYear(), Math.floor(date.getUTCMonth() / 3) * 3, 1);
}

/** The current quarter's start and the `count − 1` after it, as "YYYY-MM-DD". */
export function quarterStarts(now: number, count: number): string[] {
  const first = new Date(quarterStart(now));
  return Array.from({ length: count }, (_, i) =>
    new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 3 * i, 1)).toISOString().slice(0, 10),
  );
}
