/**
 * Conformance: ctx.scheduler (runAfter, runAt, cancel), the `_scheduled_functions` system table,
 * and crons.ts (an interval that fires in test time; clock kinds checked by their next run time).
 * Fixture: tests/fixtures/scheduler/convex.
 */
import path from "node:path";
import type { ConvexHttpClient } from "convex/browser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api } from "../fixtures/scheduler/convex/_generated/api";
import type { Id } from "../fixtures/scheduler/convex/_generated/dataModel";
import {
  httpClient,
  removeDir,
  ROOT,
  startServer,
  waitForValue,
  wsClient,
  type TestServer,
  sleep,
  until,
} from "./harness";

const FUNCTIONS = path.join(ROOT, "tests/fixtures/scheduler/convex");

type Job = {
  _id: string;
  name: string;
  args: unknown[];
  scheduledTime: number;
  completedTime?: number;
  state: { kind: string; error?: string };
};
type CronRow = {
  name: string;
  functionName: string;
  schedule: string;
  nextRunAt: number;
  lastRunAt: number | null;
  runs: number;
};

// ---- expected next run times, computed here independently of the server (all UTC)

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function nextMinute(after: number): number {
  return Math.floor(after / MINUTE) * MINUTE + MINUTE;
}
function nextHourly(after: number, minute: number): number {
  const d = new Date(after);
  let t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), minute);
  if (t <= after) t += HOUR;
  return t;
}
function nextDaily(after: number, hour: number, minute: number): number {
  const d = new Date(after);
  let t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), hour, minute);
  if (t <= after) t += DAY;
  return t;
}
function nextWeekly(after: number, weekday: number, hour: number, minute: number): number {
  for (let t = nextDaily(after, hour, minute); ; t += DAY) if (new Date(t).getUTCDay() === weekday) return t;
}
function nextMonthly(after: number, day: number, hour: number, minute: number): number {
  const d = new Date(after);
  for (let m = 0; m < 24; m++) {
    const t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + m, day, hour, minute);
    if (new Date(t).getUTCDate() === day && t > after) return t;
  }
  throw new Error("unreachable");
}
function nextWeekdayAt(after: number, hour: number, minute: number): number {
  for (let t = nextDaily(after, hour, minute); ; t += DAY) {
    const wd = new Date(t).getUTCDay();
    if (wd >= 1 && wd <= 5) return t;
  }
}

describe("scheduler and crons", () => {
  let server: TestServer;
  let client: ConvexHttpClient;
  let startedBefore: number;

  beforeAll(async () => {
    startedBefore = Date.now();
    server = await startServer({ functionsDir: FUNCTIONS });
    client = httpClient(server.url);
  });
  afterAll(async () => {
    await server?.stop();
    if (server) removeDir(server.dataDir);
  });

  const job = (id: string) =>
    client.query(api.jobs.job, { id: id as Id<"_scheduled_functions"> }) as Promise<Job | null>;
  const runs = (tag: string) => client.query(api.jobs.runs, { tag });

  it("runAfter: the job is pending in _scheduled_functions, runs after the delay, then is marked success", async () => {
    const before = Date.now();
    const id = await client.mutation(api.jobs.scheduleAfter, { delayMs: 400, tag: "after" });
    const pending = await job(id);
    expect(pending).toMatchObject({ _id: id, args: [{ tag: "after" }], state: { kind: "pending" } });
    expect(pending!.name).toMatch(/jobs(\.js)?:record/);
    expect(pending!.scheduledTime).toBeGreaterThanOrEqual(before + 400 - 5);
    expect(pending!.scheduledTime).toBeLessThanOrEqual(Date.now() + 400 + 5);
    expect(await runs("after")).toEqual([]);

    const [ranAt] = await until(
      () => runs("after"),
      (r) => r.length > 0,
    );
    expect(ranAt).toBeGreaterThanOrEqual(pending!.scheduledTime - 5);
    const done = await until(
      () => job(id),
      (j) => j?.state.kind === "success",
    );
    expect(done!.state).toEqual({ kind: "success" });
    await sleep(300);
    expect(await runs("after")).toHaveLength(1);
  });

  it("the system table is readable with ctx.db.system.query and is reactive", async () => {
    const ws = wsClient(server.url);
    try {
      const id = await client.mutation(api.jobs.scheduleAfter, { delayMs: 300, tag: "reactive" });
      const all = (await client.query(api.jobs.jobs, {})) as Job[];
      expect(all.map((j) => j._id)).toContain(id);
      const seen: string[] = [];
      const final = await waitForValue<Job | null>(
        (cb) => ws.onUpdate(api.jobs.job, { id }, cb),
        (j) => {
          if (j) seen.push(j.state.kind);
          return j?.state.kind === "success";
        },
      );
      expect(final!.state.kind).toBe("success");
      expect(seen[0]).toBe("pending");
    } finally {
      await ws.close();
    }
  });

  it("runAt: runs at the given time, not before", async () => {
    const at = Date.now() + 600;
    const id = await client.mutation(api.jobs.scheduleAt, { at, tag: "at" });
    expect((await job(id))!.scheduledTime).toBeCloseTo(at, -1);
    await sleep(300);
    expect(await runs("at")).toEqual([]);
    const [ranAt] = await until(
      () => runs("at"),
      (r) => r.length > 0,
    );
    expect(ranAt).toBeGreaterThanOrEqual(at - 5);
    expect(
      (await until(
        () => job(id),
        (j) => j?.state.kind === "success",
      ))!.state.kind,
    ).toBe("success");
  });

  it("cancel: a canceled job never runs and stays canceled", async () => {
    const id = await client.mutation(api.jobs.scheduleAfter, { delayMs: 500, tag: "canceled" });
    await client.mutation(api.jobs.cancel, { id });
    expect((await job(id))!.state).toEqual({ kind: "canceled" });
    await sleep(1200);
    expect(await runs("canceled")).toEqual([]);
    expect((await job(id))!.state).toEqual({ kind: "canceled" });
  });

  it("a job scheduled by a mutation that then fails does not exist and never runs", async () => {
    const before = ((await client.query(api.jobs.jobs, {})) as Job[]).length;
    await expect(client.mutation(api.jobs.scheduleThenThrow, { tag: "rolled-back" })).rejects.toThrow(
      /rolled back/,
    );
    await sleep(400);
    expect(await runs("rolled-back")).toEqual([]);
    const after = (await client.query(api.jobs.jobs, {})) as Job[];
    expect(after.filter((j) => (j.args[0] as { tag?: string })?.tag === "rolled-back")).toEqual([]);
    expect(after.length).toBe(before);
  });

  it("a job scheduled from an action runs", async () => {
    const id = await client.action(api.jobs.scheduleFromAction, { delayMs: 100, tag: "from-action" });
    await until(
      () => runs("from-action"),
      (r) => r.length === 1,
    );
    expect(
      (await until(
        () => job(id),
        (j) => j?.state.kind === "success",
      ))!.state.kind,
    ).toBe("success");
  });

  it("a failing job is marked failed and its writes are rolled back", async () => {
    const id = await client.mutation(api.jobs.scheduleAfter, { delayMs: 50, tag: "boom", fail: true });
    const failed = await until(
      () => job(id),
      (j) => j?.state.kind === "failed",
    );
    expect(failed!.state.kind).toBe("failed");
    expect(typeof failed!.completedTime).toBe("number");
    expect(await runs("boom")).toEqual([]);
  });

  it("a failed job carries the error in state.error, as Convex's system schema declares", async () => {
    const id = await client.mutation(api.jobs.scheduleAfter, { delayMs: 50, tag: "boom-error", fail: true });
    const failed = await until(
      () => job(id),
      (j) => j?.state.kind === "failed",
    );
    expect(failed!.state.error).toMatch(/scheduled explosion boom-error/);
  });

  it("runs an interval cron of 1 second repeatedly", async () => {
    const times = await until(
      () => runs("cron-interval"),
      (r) => r.length >= 3,
      8_000,
    );
    const sorted = [...times].sort((a, b) => a - b);
    for (let i = 1; i < sorted.length; i++) {
      // Not twice per tick, not stalled.
      expect(sorted[i] - sorted[i - 1]).toBeGreaterThan(500);
      expect(sorted[i] - sorted[i - 1]).toBeLessThan(2500);
    }
    const elapsed = Date.now() - startedBefore;
    expect(times.length).toBeLessThanOrEqual(Math.floor(elapsed / 1000) + 2);
    const res = await fetch(`${server.url}/_local/crons`);
    const crons = ((await res.json()) as { crons: CronRow[] }).crons;
    const interval = crons.find((c) => c.name === "every second")!;
    expect(interval.functionName).toMatch(/jobs(\.js)?:record/);
    expect(interval.runs).toBeGreaterThanOrEqual(3);
    expect(interval.nextRunAt).toBeGreaterThan(Date.now() - 1000);
    expect(interval.nextRunAt).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it("registers hourly, daily, weekly, monthly and cron-expression jobs with the right next run time", async () => {
    const res = await fetch(`${server.url}/_local/crons`);
    expect(res.status).toBe(200);
    const now = Date.now();
    const crons = ((await res.json()) as { crons: CronRow[] }).crons;
    expect(crons.map((c) => c.name).sort()).toEqual(
      ["daily", "every minute", "every second", "hourly", "monthly", "weekday mornings", "weekly"].sort(),
    );
    const byName = new Map(crons.map((c) => [c.name, c]));
    // The next run is computed after the server started; a boundary may have passed since.
    const expectNext = (name: string, next: (after: number) => number) => {
      const row = byName.get(name)!;
      expect(row.functionName).toMatch(/jobs(\.js)?:record/);
      expect([next(startedBefore), next(now)]).toContain(row.nextRunAt);
      return row;
    };
    for (const [name, next] of [
      ["hourly", (t: number) => nextHourly(t, 17)],
      ["daily", (t: number) => nextDaily(t, 3, 30)],
      ["weekly", (t: number) => nextWeekly(t, 2, 4, 5)],
      ["monthly", (t: number) => nextMonthly(t, 15, 6, 7)],
      ["weekday mornings", (t: number) => nextWeekdayAt(t, 10, 15)],
    ] as const) {
      const row = expectNext(name, next);
      expect(row.nextRunAt).toBeGreaterThan(now);
      expect(row.runs).toBe(0);
      expect(await runs(`cron-${name === "weekday mornings" ? "expression" : name}`)).toEqual([]);
    }
    const minute = byName.get("every minute")!;
    expect(minute.nextRunAt % MINUTE).toBe(0);
    expect(minute.nextRunAt).toBeGreaterThan(now);
    expect(minute.nextRunAt).toBeLessThanOrEqual(nextMinute(now));
  });
});
