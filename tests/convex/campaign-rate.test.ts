/**
 * The dispatcher's rate (convex/model/campaigns/rate.ts): a ceiling counted from WhatsApp's
 * throttling errors, a rate that fills it, echoes ignored, retries given their second.
 */
import { describe, expect, it } from "vitest";
import {
  afterTick,
  behindAfter,
  MAX_BEHIND,
  nextTickTime,
  onThrottle,
  PROBE_AFTER_MS,
  RATE_STEP,
  type RateState,
  targetUnder,
  TICK_MS,
  tickBudget,
} from "../../convex/model/campaigns/rate";

const base: RateState = { rate: 25, maxRate: 80 };

/**
 * Applies refusals at the given times (retried 2 s later) of sends claimed at `sentAt`, WhatsApp
 * having taken `accepted` in the second before each.
 */
function refuse(state: RateState, times: number[], sentAt: number, accepted = 20): RateState {
  let s = state;
  for (const t of times) s = { ...s, ...onThrottle(s, t, t + 2_000, sentAt, accepted) };
  return s;
}

describe("the dispatcher's rate", () => {
  it("puts the ceiling at what WhatsApp took in the second before the first refusal, and fills it", () => {
    // 25 a second at a limit of 20: the first refusal comes after 20 were taken.
    const s = refuse(base, [10_100], 10_090, 20);
    expect(s.ceiling).toBe(20);
    expect(s.rate).toBe(targetUnder(20));
    // A ceiling's worth of claims per second and the pacing margin.
    expect(targetUnder(20)).toBe(19.23);
    expect(targetUnder(80)).toBe(76.92);
    expect(targetUnder(1)).toBe(1);
    // Never above the number's maximum; never below one.
    expect(refuse(base, [10_100], 10_090, 95).ceiling).toBe(80);
    expect(refuse(base, [10_100], 10_090, 0).ceiling).toBe(1);
  });

  it("ignores refusals of sends claimed before the ceiling was set, but keeps their retries' seconds", () => {
    const learned = refuse(base, [10_100, 10_200], 10_050, 20);
    expect(learned.ceiling).toBe(20);
    // Sends claimed before the first error came back are refused too, later on.
    const echoed = refuse(learned, [11_500, 11_600], 10_080, 12);
    expect(echoed.ceiling).toBe(20);
    expect(echoed.rate).toBe(learned.rate);
    expect(echoed.retriesDue).toEqual([12_100, 12_200, 13_500, 13_600]);
  });

  it("lowers the ceiling, once a second, when a send claimed under it is refused", () => {
    const learned = refuse(base, [10_100], 10_050, 20);
    // The second held all 20 again: WhatsApp's limit is lower now, by one at least.
    const later = refuse(learned, [15_000, 15_100, 15_200], 14_900, 20);
    expect(later.ceiling).toBe(19);
    expect(later.rate).toBe(targetUnder(19));
    // A second that held fewer puts the ceiling there.
    expect(refuse(learned, [15_000], 14_900, 12).ceiling).toBe(12);
  });

  it("gives each tick its part of the second's rate, less the throttled retries due in its time", () => {
    expect(TICK_MS).toBe(500);
    // 19 a second: 9 and 10 in turn, 19 in every second.
    const r19: RateState = { rate: 19, maxRate: 80 };
    const shares = [0, 500, 1_000, 1_500, 2_000, 2_500].map((at) => tickBudget(r19, at, at));
    expect(shares).toEqual([9, 10, 9, 10, 9, 10]);
    expect(tickBudget({ rate: 200, maxRate: 200 }, 0, 0)).toBe(40);
    const s = refuse({ rate: 20, maxRate: 80 }, [10_100, 10_150, 10_200], 10_000, 20);
    expect(s.retriesDue).toEqual([12_100, 12_150, 12_200]);
    const half = (at: number) => tickBudget({ ...s, retriesDue: [] }, at, at);
    expect(tickBudget(s, 11_000, 11_000)).toBe(half(11_000));
    expect(tickBudget(s, 12_000, 12_000)).toBe(half(12_000) - 3);
    expect(tickBudget(s, 12_500, 12_500)).toBe(half(12_500));
  });

  it("grows to the ceiling's target after a quiet spell and no further while it is fresh", () => {
    let s: RateState = { rate: 10, maxRate: 80, ceiling: 30, ceilingAt: 0, throttledAt: 0 };
    // Not while the errors of a burst may still be coming in.
    expect(afterTick(s, 1_000, 10, 10)).toEqual({});
    for (let t = 5_000; t < 15_000; t += 1_000) s = { ...s, ...afterTick(s, t, s.rate, s.rate) };
    expect(s.rate).toBe(targetUnder(30));
    // A tick that did not use its budget (the campaign ran short) says nothing about the rate.
    expect(afterTick({ rate: 10, maxRate: 80 }, 5_000, 3, 10)).toEqual({});
  });

  it("starts fast without a ceiling, and raises a ceiling by one after a long quiet spell at its target", () => {
    expect(afterTick({ rate: 20, maxRate: 80 }, 5_000, 10, 10).rate).toBe(20 + RATE_STEP);
    // Without a ceiling, up to what the pacing lets through at the number's maximum.
    expect(afterTick({ rate: 76, maxRate: 80 }, 5_000, 38, 38).rate).toBe(targetUnder(80));
    const held: RateState = { rate: targetUnder(30), maxRate: 80, ceiling: 30, ceilingAt: 0, throttledAt: 0 };
    expect(PROBE_AFTER_MS).toBe(120_000);
    expect(afterTick(held, PROBE_AFTER_MS - 1, 15, 15)).toEqual({});
    expect(afterTick(held, PROBE_AFTER_MS + 1, 15, 15)).toEqual({
      ceiling: 31,
      ceilingAt: PROBE_AFTER_MS + 1,
      rate: targetUnder(31),
    });
    // Not while the rate is still below the target (it has not shown the ceiling is safe yet).
    expect(afterTick({ ...held, rate: 20 }, PROBE_AFTER_MS + 1, 10, 10)).toEqual({ rate: 20 + RATE_STEP });
    // Never past the number's maximum.
    expect(afterTick({ ...held, rate: targetUnder(80), ceiling: 80 }, PROBE_AFTER_MS + 1, 39, 39)).toEqual(
      {},
    );
  });

  it("grows only from ticks on time", () => {
    const s: RateState = { rate: 60, maxRate: 80, ceiling: 80, ceilingAt: 0 };
    expect(afterTick(s, 60_000, 30, 30, TICK_MS + 100)).toEqual({});
    expect(afterTick(s, 60_000, 30, 30, TICK_MS / 2 + 1)).toEqual({});
    expect(afterTick(s, 60_000, 30, 30, 20)).toEqual({ rate: 60 + RATE_STEP });
  });

  it("carries what a tick wanted and had no room for, and nothing when it claimed less than its room", () => {
    // Its part was 10, the second had room for 6: the 4 left over go to the next tick.
    expect(behindAfter(10, 6, 6)).toBe(4);
    // Room for all it wanted: nothing carried (a carry claimed in full is paid off).
    expect(behindAfter(15, 15, 15)).toBe(0);
    // The campaign ran short of recipients (or the messaging limit stopped it): nothing to make up.
    expect(behindAfter(10, 6, 3)).toBe(0);
    // A second that stays full (a slow provider) never builds more than MAX_BEHIND.
    expect(behindAfter(38 + MAX_BEHIND, 2, 2)).toBe(MAX_BEHIND);
  });

  it("keeps ticks TICK_MS apart without drifting", () => {
    expect(nextTickTime(10_000, 10_040)).toBe(10_500);
    expect(nextTickTime(10_000, 11_500)).toBe(12_000);
  });
});
