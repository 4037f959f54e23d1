// Checks the local server's cron timing against Convex's schedule shapes and standard cron rules.
import { cronJobs, makeFunctionReference, type CronJob } from "convex/server";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  describeSchedule,
  nextCronRunAfter,
  nextRunAfter,
  parseCronExpression,
  validateSchedule,
  type CronSchedule,
} from "../../local/convex-server/cronSchedule";

/** ms for an ISO-like UTC time, e.g. t("2024-02-29 09:30"). */
function t(text: string): number {
  const ms = Date.parse(`${text.replace(" ", "T")}Z`);
  if (Number.isNaN(ms)) throw new Error(`bad test time ${text}`);
  return ms;
}

/** Readable form of a result, so failures show dates rather than numbers; seconds only if set. */
function iso(ms: number): string {
  const text = new Date(ms)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d{3}Z$/, "");
  return text.endsWith(":00") ? text.slice(0, -3) : text;
}

function next(schedule: CronSchedule, after: string, firstRun?: string): string {
  return iso(nextRunAfter(schedule, t(after), firstRun === undefined ? undefined : t(firstRun)));
}

function cron(expr: string, after: string): string {
  return next({ type: "cron", cron: expr }, after);
}

/** The first `count` runs after `after`, each searched from the previous one. */
function runs(expr: string, after: string, count: number): string[] {
  const parsed = parseCronExpression(expr);
  const out: string[] = [];
  let ms = t(after);
  for (let i = 0; i < count; i++) {
    ms = nextCronRunAfter(parsed, ms);
    out.push(iso(ms));
  }
  return out;
}

describe("interval schedules", () => {
  it("adds the period to afterMs when no first run is known", () => {
    expect(nextRunAfter({ type: "interval", seconds: 30 }, 1_000)).toBe(31_000);
    expect(nextRunAfter({ type: "interval", minutes: 2 }, 1_000)).toBe(121_000);
    expect(nextRunAfter({ type: "interval", hours: 3 }, 1_000)).toBe(10_801_000);
  });

  it("runs at registration, then on the grid anchored at the first run", () => {
    const every = { type: "interval", seconds: 60 } as const;
    const first = "2024-05-01 10:00:07";
    expect(nextRunAfter(every, t(first) - 1, t(first))).toBe(t(first));
    expect(nextRunAfter(every, t(first), t(first))).toBe(t("2024-05-01 10:01:07"));
    expect(nextRunAfter(every, t("2024-05-01 10:05:00"), t(first))).toBe(t("2024-05-01 10:05:07"));
    // Exactly on a grid point: strictly after means the following one.
    expect(nextRunAfter(every, t("2024-05-01 10:05:07"), t(first))).toBe(t("2024-05-01 10:06:07"));
  });

  it("anchors minute and hour intervals at the first run too", () => {
    expect(next({ type: "interval", minutes: 15 }, "2024-05-01 11:00", "2024-05-01 10:07:30")).toBe(
      "2024-05-01 11:07:30",
    );
    expect(next({ type: "interval", hours: 6 }, "2024-05-02 00:00", "2024-05-01 10:30")).toBe(
      "2024-05-02 04:30",
    );
  });

  it("rejects intervals Convex rejects", () => {
    expect(() => nextRunAfter({ type: "interval", seconds: 0 }, 0)).toThrow(
      /seconds must be an integer greater than 0/,
    );
    expect(() => nextRunAfter({ type: "interval", minutes: 1.5 }, 0)).toThrow(/minutes must be an integer/);
    const both = {
      type: "interval",
      seconds: 1,
      minutes: 1,
    } as unknown as CronSchedule;
    expect(() => nextRunAfter(both, 0)).toThrow(/exactly one of seconds, minutes or hours/);
    const none = { type: "interval" } as unknown as CronSchedule;
    expect(() => nextRunAfter(none, 0)).toThrow(/exactly one of seconds, minutes or hours/);
  });

  it("rejects a non-finite time", () => {
    expect(() => nextRunAfter({ type: "interval", seconds: 1 }, Number.NaN)).toThrow(/afterMs/);
  });
});

describe("hourly schedules", () => {
  const at5 = { type: "hourly", minuteUTC: 5 } as const;

  it("runs at the minute of the current or next hour, strictly after", () => {
    expect(next(at5, "2023-03-01 08:35")).toBe("2023-03-01 09:05");
    expect(iso(nextRunAfter(at5, t("2023-03-01 09:05") - 1))).toBe("2023-03-01 09:05");
    expect(next(at5, "2023-03-01 09:05")).toBe("2023-03-01 10:05");
  });

  it("rolls over the day and the year", () => {
    expect(next(at5, "2023-03-01 23:50")).toBe("2023-03-02 00:05");
    expect(next(at5, "2023-12-31 23:59")).toBe("2024-01-01 00:05");
  });

  it("uses minute 0 when minuteUTC is omitted", () => {
    expect(next({ type: "hourly" }, "2023-03-01 08:35")).toBe("2023-03-01 09:00");
  });

  it("rejects a minute outside 0-59", () => {
    expect(() => nextRunAfter({ type: "hourly", minuteUTC: 60 }, 0)).toThrow(
      /minuteUTC must be an integer from 0 to 59/,
    );
  });
});

describe("daily schedules", () => {
  const at0930 = { type: "daily", hourUTC: 9, minuteUTC: 30 } as const;

  it("runs later the same day or on the next day", () => {
    expect(next(at0930, "2024-03-10 09:29")).toBe("2024-03-10 09:30");
    expect(next(at0930, "2024-03-10 09:30")).toBe("2024-03-11 09:30");
  });

  it("rolls over month ends, leap days and the year", () => {
    expect(next(at0930, "2024-01-31 10:00")).toBe("2024-02-01 09:30");
    expect(next(at0930, "2024-02-28 10:00")).toBe("2024-02-29 09:30");
    expect(next(at0930, "2023-02-28 10:00")).toBe("2023-03-01 09:30");
    expect(next(at0930, "2024-12-31 10:00")).toBe("2025-01-01 09:30");
  });

  it("uses minute 0 when minuteUTC is omitted and rejects bad hours", () => {
    expect(next({ type: "daily", hourUTC: 17 }, "2024-03-10 17:00")).toBe("2024-03-11 17:00");
    expect(() => nextRunAfter({ type: "daily", hourUTC: 24 }, 0)).toThrow(
      /hourUTC must be an integer from 0 to 23/,
    );
  });
});

describe("weekly schedules", () => {
  it("matches the Convex backend's own test (Tuesday 12:30)", () => {
    const tuesday = {
      type: "weekly",
      dayOfWeek: "tuesday",
      hourUTC: 12,
      minuteUTC: 30,
    } as const;
    expect(next(tuesday, "2023-02-28 08:35")).toBe("2023-02-28 12:30");
    expect(next(tuesday, "2023-02-28 12:30")).toBe("2023-03-07 12:30");
  });

  it("maps sunday and saturday to the right days across a year end", () => {
    expect(next({ type: "weekly", dayOfWeek: "sunday", hourUTC: 0, minuteUTC: 0 }, "2024-12-29 00:00")).toBe(
      "2025-01-05 00:00",
    );
    expect(
      next({ type: "weekly", dayOfWeek: "saturday", hourUTC: 23, minuteUTC: 59 }, "2024-12-29 00:00"),
    ).toBe("2025-01-04 23:59");
  });

  it("rejects day names Convex rejects", () => {
    const bad = {
      type: "weekly",
      dayOfWeek: "Monday",
      hourUTC: 1,
    } as unknown as CronSchedule;
    expect(() => nextRunAfter(bad, 0)).toThrow(/dayOfWeek must be one of sunday/);
  });
});

describe("monthly schedules", () => {
  it("runs on the day, rolling over the year", () => {
    const first = {
      type: "monthly",
      day: 1,
      hourUTC: 12,
      minuteUTC: 30,
    } as const;
    expect(next(first, "2023-02-28 08:35")).toBe("2023-03-01 12:30");
    expect(next(first, "2023-12-01 12:30")).toBe("2024-01-01 12:30");
  });

  it("skips months that lack the day instead of moving to their last day", () => {
    const on31 = {
      type: "monthly",
      day: 31,
      hourUTC: 9,
      minuteUTC: 0,
    } as const;
    expect(next(on31, "2024-03-31 09:00")).toBe("2024-05-31 09:00");
    expect(next(on31, "2024-01-31 09:00")).toBe("2024-03-31 09:00");
    const on30 = {
      type: "monthly",
      day: 30,
      hourUTC: 9,
      minuteUTC: 0,
    } as const;
    expect(next(on30, "2024-01-30 09:00")).toBe("2024-03-30 09:00");
  });

  it("runs on the 29th of February only in leap years", () => {
    const on29 = {
      type: "monthly",
      day: 29,
      hourUTC: 0,
      minuteUTC: 0,
    } as const;
    expect(next(on29, "2024-01-29 00:00")).toBe("2024-02-29 00:00");
    expect(next(on29, "2023-01-29 00:00")).toBe("2023-03-29 00:00");
  });

  it("rejects days outside 1-31", () => {
    expect(() => nextRunAfter({ type: "monthly", day: 0, hourUTC: 0 }, 0)).toThrow(
      /day must be an integer from 1 to 31/,
    );
    expect(() => nextRunAfter({ type: "monthly", day: 32, hourUTC: 0 }, 0)).toThrow(
      /day must be an integer from 1 to 31/,
    );
  });
});

describe("cron expressions: field syntax", () => {
  it("runs every minute, strictly after a time inside a minute", () => {
    expect(iso(nextRunAfter({ type: "cron", cron: "* * * * *" }, t("2024-01-01 10:00") + 30_000))).toBe(
      "2024-01-01 10:01",
    );
    expect(cron("* * * * *", "2024-01-01 10:00")).toBe("2024-01-01 10:01");
  });

  it("expands steps over the whole field", () => {
    expect(runs("*/15 * * * *", "2024-01-01 10:50", 3)).toEqual([
      "2024-01-01 11:00",
      "2024-01-01 11:15",
      "2024-01-01 11:30",
    ]);
    expect(runs("0 */2 * * *", "2024-01-01 21:00", 2)).toEqual(["2024-01-01 22:00", "2024-01-02 00:00"]);
  });

  it("expands ranges with steps, lists and start/step", () => {
    expect(parseCronExpression("1-10/3 * * * *").minutes).toEqual([1, 4, 7, 10]);
    expect(parseCronExpression("5,1,5,30-32 * * * *").minutes).toEqual([1, 5, 30, 31, 32]);
    expect(parseCronExpression("50/4 * * * *").minutes).toEqual([50, 54, 58]);
    expect(parseCronExpression("0 9-17 * * *").hours).toEqual([9, 10, 11, 12, 13, 14, 15, 16, 17]);
  });

  it("accepts month and day names in any case, in lists and ranges", () => {
    const parsed = parseCronExpression("0 9 * jan,Jul MON-fri");
    expect(parsed.months).toEqual([1, 7]);
    expect(parsed.daysOfWeek).toEqual([1, 2, 3, 4, 5]);
    expect(runs("0 9 * JAN,JUL MON-FRI", "2024-01-31 09:00", 2)).toEqual([
      "2024-07-01 09:00",
      "2024-07-02 09:00",
    ]);
  });

  it("treats day-of-week 7 as Sunday, alone and at the end of a range", () => {
    expect(parseCronExpression("0 0 * * 7").daysOfWeek).toEqual([0]);
    expect(parseCronExpression("0 0 * * 5-7").daysOfWeek).toEqual([0, 5, 6]);
    expect(cron("0 0 * * 7", "2024-06-12 00:00")).toBe("2024-06-16 00:00");
    // `*` and open steps stop at Saturday rather than adding a second Sunday.
    expect(parseCronExpression("0 0 * * 1/2").daysOfWeek).toEqual([1, 3, 5]);
  });

  it("matches the Convex backend's own cron test (Mondays and Fridays at 12:00)", () => {
    expect(runs("0 12 * * 1,5", "2023-02-28 08:35", 2)).toEqual(["2023-03-03 12:00", "2023-03-06 12:00"]);
  });
});

describe("cron expressions: days, months and years", () => {
  it("ORs day-of-month and day-of-week when both are restricted", () => {
    // 2024-11-13 is a Wednesday: it runs by day-of-month, then on Friday the 15th by day-of-week.
    expect(runs("0 0 13 * 5", "2024-11-09 00:00", 3)).toEqual([
      "2024-11-13 00:00",
      "2024-11-15 00:00",
      "2024-11-22 00:00",
    ]);
  });

  it("requires only the restricted day field when the other is *", () => {
    expect(runs("0 0 13 * *", "2024-11-09 00:00", 2)).toEqual(["2024-11-13 00:00", "2024-12-13 00:00"]);
    expect(runs("0 0 * * 5", "2024-11-09 00:00", 2)).toEqual(["2024-11-15 00:00", "2024-11-22 00:00"]);
  });

  it("counts a stepped day field as restricted, as Convex does", () => {
    // Days 1, 11, 21, 31 or any Monday (2024-07-01 and 2024-07-08 are Mondays).
    expect(runs("0 0 */10 * 1", "2024-06-30 00:00", 4)).toEqual([
      "2024-07-01 00:00",
      "2024-07-08 00:00",
      "2024-07-11 00:00",
      "2024-07-15 00:00",
    ]);
  });

  it("rolls over months and years", () => {
    expect(cron("0 0 1 1 *", "2024-06-01 00:00")).toBe("2025-01-01 00:00");
    expect(cron("0 0 1 1 *", "2025-06-01 00:00")).toBe("2026-01-01 00:00");
    expect(cron("0 6 * MAR *", "2025-04-01 00:00")).toBe("2026-03-01 06:00");
    expect(cron("59 23 31 12 *", "2024-12-31 23:59")).toBe("2025-12-31 23:59");
    expect(cron("0 0 1 * *", "2024-01-31 12:00")).toBe("2024-02-01 00:00");
    expect(cron("30 1 * * *", "2024-02-29 23:00")).toBe("2024-03-01 01:30");
  });

  it("finds February 29 across the Gregorian century rule", () => {
    expect(cron("0 12 29 2 *", "2023-03-01 00:00")).toBe("2024-02-29 12:00");
    expect(cron("0 12 29 2 *", "2024-02-29 12:00")).toBe("2028-02-29 12:00");
    expect(cron("0 12 29 2 *", "2000-01-01 00:00")).toBe("2000-02-29 12:00");
    // 2100 is not a leap year, so the gap is eight years.
    expect(cron("0 12 29 2 *", "2096-03-01 00:00")).toBe("2104-02-29 12:00");
  });

  it("skips by field rather than minute by minute", () => {
    // 400 yearly runs would be about 200 million minutes to walk one at a time.
    const started = performance.now();
    const yearly = runs("59 23 31 12 *", "2000-01-01 00:00", 400);
    expect(yearly.at(-1)).toBe("2399-12-31 23:59");
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe("cron expressions: errors", () => {
  const invalid: [string, RegExp][] = [
    ["", /expected 5 fields/],
    ["* * * *", /expected 5 fields .* got 4/],
    ["0 * * * * *", /expected 5 fields .* got 6/],
    ["60 * * * *", /minute field "60" has 60, outside 0-59/],
    ["* 24 * * *", /hour field "24" has 24, outside 0-23/],
    ["* * 0 * *", /day-of-month field "0" has 0, outside 1-31/],
    ["* * * 13 *", /month field "13" has 13, outside 1-12/],
    ["* * * * 8", /day-of-week field "8" has 8, outside 0-7/],
    ["*/0 * * * *", /minute field "\*\/0" has step "0"; steps must be 1-59/],
    ["*/60 * * * *", /minute field .* steps must be 1-59/],
    ["10-5 * * * *", /minute field "10-5" has range "10-5" whose start is after its end/],
    ["1-2-3 * * * *", /minute field .* malformed range/],
    ["*/2/3 * * * *", /minute field .* more than one "\/"/],
    ["1, * * * *", /minute field "1," has an empty value/],
    ["* * * FOO *", /month field "FOO" has unknown value "FOO"/],
    ["* * * * FUNDAY", /day-of-week field "FUNDAY" has unknown value/],
    ["0 0 L * *", /day-of-month field "L" uses "L"; the L, W, # and \? extensions are not supported/],
    ["0 0 * * 5#3", /day-of-week field "5#3" uses "5#3"/],
    ["0 0 ? * MON", /day-of-month field "\?" uses "\?"/],
  ];

  it.each(invalid)("rejects %j naming the bad field", (expr, message) => {
    expect(() => parseCronExpression(expr)).toThrow(message);
    expect(() => nextRunAfter({ type: "cron", cron: expr }, 0)).toThrow(message);
  });

  it.each(["0 0 31 2 *", "0 0 30,31 2 *", "0 0 31 4,6,9,11 *", "0 0 30 FEB *"])(
    "rejects %j, which can never run, instead of searching forever",
    (expr) => {
      expect(() => parseCronExpression(expr)).toThrow(/never runs/);
      expect(() => nextRunAfter({ type: "cron", cron: expr }, 0)).toThrow(/never runs/);
    },
  );

  it("still accepts a day the month lacks when a weekday can match instead", () => {
    // 31 February never happens, but under the OR rule every Monday in February matches.
    expect(cron("0 0 31 2 1", "2024-01-01 00:00")).toBe("2024-02-05 00:00");
    // The 31st exists in some of the listed months, so this runs (in March).
    expect(cron("0 0 31 2,3 *", "2024-01-01 00:00")).toBe("2024-03-31 00:00");
  });
});

describe("describeSchedule", () => {
  it.each<[CronSchedule, string]>([
    [{ type: "interval", seconds: 60 }, "every 60s"],
    [{ type: "interval", minutes: 5 }, "every 5m"],
    [{ type: "interval", hours: 2 }, "every 2h"],
    [{ type: "hourly", minuteUTC: 5 }, "hourly at :05 UTC"],
    [{ type: "hourly" }, "hourly at :00 UTC (minute not pinned)"],
    [{ type: "daily", hourUTC: 9, minuteUTC: 30 }, "daily at 09:30 UTC"],
    [{ type: "daily", hourUTC: 17 }, "daily at 17:00 UTC (minute not pinned)"],
    [{ type: "weekly", dayOfWeek: "monday", hourUTC: 7, minuteUTC: 0 }, "weekly on monday at 07:00 UTC"],
    [{ type: "monthly", day: 31, hourUTC: 23, minuteUTC: 59 }, "monthly on day 31 at 23:59 UTC"],
    [{ type: "cron", cron: "  0  */2 * * * " }, "cron 0 */2 * * *"],
  ])("describes %j as %j", (schedule, text) => {
    expect(describeSchedule(schedule)).toBe(text);
  });
});

describe("schedules built by convex's own cronJobs()", () => {
  // Fake references: crons only read the function name from them.
  const tick = makeFunctionReference<"mutation", Record<string, never>>("jobs:tick");
  const count = makeFunctionReference<"action", { n: number }>("jobs:count");

  function buildCrons() {
    const crons = cronJobs();
    crons.interval("every 30s", { seconds: 30 }, tick, {});
    crons.interval("every 5m", { minutes: 5 }, count, { n: 1 });
    crons.interval("every 2h", { hours: 2 }, tick);
    crons.hourly("hourly :15", { minuteUTC: 15 }, tick);
    crons.hourly("hourly unpinned", tick);
    crons.daily("daily 09:30", { hourUTC: 9, minuteUTC: 30 }, tick);
    crons.daily("daily 17", { hourUTC: 17 }, tick);
    crons.weekly("weekly", { dayOfWeek: "monday", hourUTC: 7, minuteUTC: 0 }, tick);
    crons.monthly("monthly", { day: 31, hourUTC: 23, minuteUTC: 59 }, tick);
    crons.cron("cron", "0 */2 * * *", tick);
    return crons;
  }

  // Runs after 2024-04-10 10:00 (a Wednesday); interval jobs registered at 09:58:20.
  const after = "2024-04-10 10:00";
  const registered = "2024-04-10 09:58:20";
  const expected: Record<string, { schedule: CronSchedule; next: string }> = {
    "every 30s": {
      schedule: { type: "interval", seconds: 30 },
      next: "2024-04-10 10:00:20",
    },
    "every 5m": {
      schedule: { type: "interval", minutes: 5 },
      next: "2024-04-10 10:03:20",
    },
    "every 2h": {
      schedule: { type: "interval", hours: 2 },
      next: "2024-04-10 11:58:20",
    },
    "hourly :15": {
      schedule: { type: "hourly", minuteUTC: 15 },
      next: "2024-04-10 10:15",
    },
    "hourly unpinned": {
      schedule: { type: "hourly" },
      next: "2024-04-10 11:00",
    },
    "daily 09:30": {
      schedule: { type: "daily", hourUTC: 9, minuteUTC: 30 },
      next: "2024-04-11 09:30",
    },
    "daily 17": {
      schedule: { type: "daily", hourUTC: 17 },
      next: "2024-04-10 17:00",
    },
    weekly: {
      schedule: {
        type: "weekly",
        dayOfWeek: "monday",
        hourUTC: 7,
        minuteUTC: 0,
      },
      next: "2024-04-15 07:00",
    },
    // April has no 31st, so the next run is in May.
    monthly: {
      schedule: { type: "monthly", day: 31, hourUTC: 23, minuteUTC: 59 },
      next: "2024-05-31 23:59",
    },
    cron: {
      schedule: { type: "cron", cron: "0 */2 * * *" },
      next: "2024-04-10 12:00",
    },
  };

  it("has the same schedule type as convex", () => {
    expectTypeOf<CronJob["schedule"]>().toEqualTypeOf<CronSchedule>();
    const job: CronJob = buildCrons().crons["weekly"]!;
    const schedule: CronSchedule = job.schedule;
    expect(schedule.type).toBe("weekly");
  });

  it("stores each kind in the shape this module reads", () => {
    const jobs = buildCrons().crons;
    expect(Object.keys(jobs).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, { schedule }] of Object.entries(expected)) {
      expect(jobs[name]!.schedule, name).toEqual(schedule);
    }
  });

  it("stores the function name as a string and the args as a one-element array", () => {
    const jobs = buildCrons().crons;
    expect(jobs["every 30s"]).toMatchObject({ name: "jobs:tick", args: [{}] });
    expect(jobs["every 5m"]).toMatchObject({
      name: "jobs:count",
      args: [{ n: 1 }],
    });
    expect(jobs["every 2h"]!.args).toEqual([{}]);
  });

  it("computes the next run of every kind, also after a JSON round trip", () => {
    const jobs = buildCrons().crons;
    const fromJson = JSON.parse(JSON.stringify(jobs)) as Record<string, CronJob>;
    for (const [name, { next: want }] of Object.entries(expected)) {
      for (const source of [jobs, fromJson]) {
        const schedule = source[name]!.schedule;
        expect(() => validateSchedule(schedule), name).not.toThrow();
        expect(iso(nextRunAfter(schedule, t(after), t(registered))), name).toBe(want);
        expect(describeSchedule(schedule), name).not.toBe("");
      }
    }
  });
});
