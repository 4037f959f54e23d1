import { convexTest } from "convex-test";
import { describe, expect, it } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import schema from "../../convex/schema";
import crons from "../../convex/crons";

const modules = import.meta.glob("../../convex/**/*.*s");

describe("system status", () => {
  it("has no heartbeat before the scheduler first runs", async () => {
    const t = convexTest(schema, modules);
    const status = await t.query(api.system.status, {});
    expect(status).toEqual({ version: expect.any(String), heartbeat: null });
  });

  it("counts heartbeats in a single row", async () => {
    const t = convexTest(schema, modules);
    await t.mutation(internal.system.heartbeat, {});
    const second = await t.mutation(internal.system.heartbeat, {});
    expect(second.runs).toBe(2);
    const status = await t.query(api.system.status, {});
    expect(status.heartbeat).toMatchObject({ runs: 2, ok: true, lastRunAt: second.lastRunAt });
    const rows = await t.run((ctx) => ctx.db.query("jobStatus").collect());
    expect(rows).toHaveLength(1);
  });

  it("schedules the heartbeat every minute", () => {
    const jobs = (crons as unknown as { crons: Record<string, { name: string; schedule: unknown }> }).crons;
    expect(jobs.heartbeat).toMatchObject({
      name: "system:heartbeat",
      schedule: { type: "interval", minutes: 1 },
    });
  });
});

describe("Convex health endpoint", () => {
  it("answers 200 with the database check", async () => {
    const t = convexTest(schema, modules);
    const response = await t.fetch("/health", { method: "GET" });
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({ status: "ok", service: "convex", checks: { database: { status: "ok" } } });
  });
});
