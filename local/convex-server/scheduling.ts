/**
 * Timers for scheduled functions and crons. Scheduled jobs live in `_scheduled_functions`, so
 * after a restart the pending ones are armed again; crons are armed from `crons.ts` on start
 * and on every reload.
 */
import { jsonToConvex, type JSONValue, type Value } from "convex/values";
import type { Engine } from "./engine.js";
import { realClearTimeout, realSetTimeout, runDetached } from "./runtime.js";
import { describeSchedule, intervalPeriodMs, nextRunAfter, type CronSchedule } from "./cronSchedule.js";

/** setTimeout's longest delay; longer waits are chained. */
const MAX_DELAY = 2 ** 31 - 1;

export type CronState = {
  name: string;
  functionName: string;
  schedule: string;
  nextRunAt: number;
  lastRunAt: number | null;
  lastError: string | null;
  runs: number;
};

export class Scheduler {
  private jobTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private cronTimers = new Map<string, ReturnType<typeof setTimeout>>();
  readonly cronState = new Map<string, CronState>();
  private runningCrons = new Set<string>();
  /** When each interval cron was registered: its runs fall at that time plus whole periods. */
  private intervalAnchors = new Map<string, number>();
  private stopped = false;
  private readonly startedAt = Date.now();

  constructor(private readonly engine: Engine) {}

  async start(): Promise<void> {
    await this.recoverJobs();
    this.rearmCrons();
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.jobTimers.values()) realClearTimeout(t);
    for (const t of this.cronTimers.values()) realClearTimeout(t);
    this.jobTimers.clear();
    this.cronTimers.clear();
  }

  /** Arms the timer for one scheduled job, outside any function's context. */
  armJob(jobId: string, atMs: number, fire: () => void): void {
    if (this.stopped) return;
    const existing = this.jobTimers.get(jobId);
    if (existing) realClearTimeout(existing);
    const arm = () => {
      const delay = Math.max(0, atMs - Date.now());
      const timer = realSetTimeout(
        () => {
          if (delay > MAX_DELAY) return arm();
          this.jobTimers.delete(jobId);
          if (!this.stopped) fire();
        },
        Math.min(delay, MAX_DELAY),
      );
      this.jobTimers.set(jobId, timer);
    };
    runDetached(arm);
  }

  pendingTimers(): number {
    return this.jobTimers.size;
  }

  /**
   * Jobs that were pending when the server stopped run at their time; a mutation that was in
   * progress had not committed, so it runs again; an action that was in progress may have had
   * effects, so, as in Convex, it is marked failed rather than run twice.
   */
  private async recoverJobs(): Promise<void> {
    for (const job of this.engine.scheduledJobs()) {
      const state = (job.state as { kind: string }).kind;
      if (state !== "pending" && state !== "inProgress") continue;
      const name = job.name as string;
      if (!this.engine.hasFunction(name)) {
        await this.engine.failScheduledJob(job._id, `function ${name} no longer exists`);
        continue;
      }
      if (state === "inProgress") {
        const kind = await this.engine.functionKind(name);
        if (kind === "action") {
          await this.engine.failScheduledJob(job._id, "the server stopped while this action was running");
          continue;
        }
        await this.engine.resetScheduledJob(job._id);
      }
      const at = job.scheduledTime as number;
      this.armJob(
        job._id,
        at,
        () => void this.engine.runScheduledJob({ ...job, state: { kind: "pending" } }),
      );
    }
  }

  /** (Re)arms every cron from the current crons.ts, keeping the run history of unchanged ones. */
  rearmCrons(): void {
    for (const t of this.cronTimers.values()) realClearTimeout(t);
    this.cronTimers.clear();
    const defined = this.engine.crons;
    for (const name of [...this.cronState.keys()]) {
      if (!(name in defined)) {
        this.cronState.delete(name);
        this.intervalAnchors.delete(name);
      }
    }
    for (const [name, cron] of Object.entries(defined)) {
      const schedule = cron.schedule as CronSchedule;
      const previous = this.cronState.get(name);
      if (schedule.type === "interval" && (!previous || !this.intervalAnchors.has(name))) {
        this.intervalAnchors.set(name, previous ? this.startedAt : Date.now());
      }
      const anchor = this.intervalAnchors.get(name) ?? this.startedAt;
      const state: CronState = {
        name,
        functionName: cron.name,
        schedule: describeSchedule(schedule),
        // As on Convex, a newly registered interval job runs right away, then every interval.
        nextRunAt:
          !previous && schedule.type === "interval" ? anchor : nextRunAfter(schedule, Date.now(), anchor),
        lastRunAt: previous?.lastRunAt ?? null,
        lastError: previous?.lastError ?? null,
        runs: previous?.runs ?? 0,
      };
      this.cronState.set(name, state);
      this.armCron(name, schedule, cron.args);
    }
  }

  private armCron(name: string, schedule: CronSchedule, args: JSONValue[]): void {
    if (this.stopped) return;
    const state = this.cronState.get(name);
    if (!state) return;
    const fire = async () => {
      this.cronTimers.delete(name);
      if (this.stopped || !this.cronState.has(name)) return;
      if (!this.runningCrons.has(name)) {
        this.runningCrons.add(name);
        state.lastRunAt = Date.now();
        state.runs += 1;
        try {
          await this.engine.runInternal(
            state.functionName,
            (jsonToConvex(args[0] ?? {}) ?? {}) as Record<string, Value>,
          );
          state.lastError = null;
        } catch (error) {
          state.lastError = (error as Error)?.message ?? String(error);
          this.engine.logLine(`[ERROR] cron ${name} (${state.functionName}) failed: ${state.lastError}`);
        } finally {
          this.runningCrons.delete(name);
        }
      }
      // A run that waited behind other transactions until just before the next slot must not be
      // followed by another at once: an interval cron's next run is at least half a period away
      // (the slot in between is skipped, as a late run is not made up twice).
      const after = Date.now() + (schedule.type === "interval" ? intervalPeriodMs(schedule) / 2 : 0);
      state.nextRunAt = nextRunAfter(schedule, after, this.intervalAnchors.get(name) ?? this.startedAt);
      this.armCron(name, schedule, args);
    };
    runDetached(() => {
      const arm = () => {
        const delay = Math.max(0, state.nextRunAt - Date.now());
        const timer = realSetTimeout(
          () => (delay > MAX_DELAY ? arm() : void fire()),
          Math.min(delay, MAX_DELAY),
        );
        this.cronTimers.set(name, timer);
      };
      arm();
    });
  }
}
