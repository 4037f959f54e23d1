/**
 * How fast a channel's dispatcher sends (decision 022, "Rate"): a ceiling counted from
 * WhatsApp's refusals instead of a sawtooth.
 *
 * WhatsApp's throughput limit is a fixed number of messages per second per number (80 by default),
 * refused with 130429 above it. Halving on every 130429 and creeping back up (classic AIMD) keeps
 * hitting the limit and averages well below it. Instead:
 *
 * - **Count the ceiling.** Every send is counted when it is claimed, and a refused one is taken
 *   out again (model/campaigns/pacing.ts), so at the first 130429 the sends counted in the second
 *   before the refused one are what the number accepted: its limit. Refusals of sends claimed
 *   before the ceiling was set (and of retries) echo what is already known. Later, a refusal of a
 *   send claimed under the ceiling lowers it to what that second held, by one at least, once a
 *   second.
 * - **Claim at most the ceiling per second** (pacing.ts holds a send while the last second and
 *   a little is full), and offer sends at the rate that fills it: `targetUnder`.
 * - **Probe rarely.** A ceiling not lowered for PROBE_AFTER_MS while the rate ran at its target
 *   goes up by one, at the price of at most one refused send per probe: WhatsApp raises some
 *   numbers' throughput, and a ceiling lowered by a refusal that was not the limit's is not kept
 *   for good.
 * - **Grow only when the backend keeps up**: a tick running late does not raise the rate.
 * - **Retries take their seconds.** A throttled message is retried by the pipeline a second or two
 *   later; its retry time is kept here, and the tick that second claims one recipient fewer, so
 *   retries do not push the next seconds over the limit again.
 */
import type { Doc } from "../../_generated/dataModel";

/**
 * A tick claims this much of a second's rate. Shorter ticks keep each claim transaction small,
 * so the sends paced after it are not held up behind one long transaction and then released in
 * a bunch (which a per-second limit refuses).
 */
export const TICK_MS = 500;
const SECOND_MS = 1_000;
export const START_RATE = 20;
export const MAX_RATE = 80;
/** Growth per full tick up to the target (fresh ceiling) or while no ceiling is known. */
export const RATE_STEP = 3;
/** Claims per tick at most, whatever the rate: a transaction's work stays bounded. */
export const MAX_CLAIMS_PER_TICK = 40;
/** A ceiling not lowered for this long is probed (one more message per second). */
export const PROBE_AFTER_MS = 120_000;
/** After a 130429 the rate does not grow for this long (the burst's errors are still coming in). */
const QUIET_AFTER_THROTTLE_MS = 3 * SECOND_MS;
/** Retry times kept at most (a second's worth at the highest rate). */
const MAX_RETRIES_KEPT = MAX_RATE;

export type RateState = Pick<
  Doc<"channelDispatch">,
  "rate" | "maxRate" | "throttledAt" | "ceiling" | "ceilingAt" | "burstRate" | "retriesDue"
>;

/**
 * The rate that fills a ceiling's worth of claims per second and RATE_MARGIN_MS (the pacing
 * guard's extra time and a little slack, so held sends do not pile up).
 */
export const RATE_MARGIN_MS = 40;
export function targetUnder(ceiling: number): number {
  return Math.max(1, Math.floor((ceiling * SECOND_MS * 100) / (SECOND_MS + RATE_MARGIN_MS)) / 100);
}

function ceilingOf(state: RateState): number | null {
  return state.ceiling !== undefined && state.ceilingAt !== undefined ? state.ceiling : null;
}

/**
 * A campaign send claimed at `sentAt` was refused with 130429 at `now`; it is retried at
 * `retryAt`. `accepted` is how many sends WhatsApp took in the second before it
 * (model/campaigns/pacing.ts `refused`). Not every refusal says something new about the limit:
 * sends claimed before the ceiling was last set went out under the old one, and their refusals
 * (and those of retries) echo what is already known. Those only keep the retry's second free.
 */
export function onThrottle(
  state: RateState,
  now: number,
  retryAt: number,
  sentAt: number,
  accepted: number,
): Partial<RateState> {
  const retriesDue = [...(state.retriesDue ?? []).filter((t) => t > now), retryAt]
    .sort((a, b) => a - b)
    .slice(-MAX_RETRIES_KEPT);
  const sameBurst = state.throttledAt !== undefined && now - state.throttledAt < SECOND_MS;
  const known = ceilingOf(state);
  let ceiling: number;
  if (known === null) {
    // The first refusal: the number took `accepted` in the second before it.
    ceiling = Math.min(accepted, state.maxRate);
  } else if (!sameBurst && sentAt > state.ceilingAt!) {
    // A send claimed under the current ceiling was refused: what that second held, one less at most.
    ceiling = Math.min(known - 1, accepted);
  } else {
    return { retriesDue };
  }
  ceiling = Math.max(1, ceiling);
  return {
    ceiling,
    ceilingAt: now,
    burstRate: undefined,
    rate: Math.min(state.rate, targetUnder(ceiling)),
    // The burst's first refusal marks it; later ones in the same second belong to it.
    throttledAt: sameBurst ? state.throttledAt : now,
    retriesDue,
  };
}

/**
 * How many recipients the tick due at `at` (running at `now`) may claim: its part of the
 * second's rate (whole messages; over a second the parts add up to the rate), less the
 * throttled retries due in its time.
 */
export function tickBudget(state: RateState, at: number, now: number): number {
  const rate = Math.min(state.rate, state.maxRate);
  const share = Math.floor((rate * (at + TICK_MS)) / SECOND_MS) - Math.floor((rate * at) / SECOND_MS);
  const retries = (state.retriesDue ?? []).filter((t) => t >= now && t < now + TICK_MS).length;
  return Math.max(0, Math.min(share, MAX_CLAIMS_PER_TICK) - retries);
}

/** The state after a tick that claimed `claimed` of its `budget` and ran `lateMs` after its time. */
export function afterTick(
  state: RateState,
  now: number,
  claimed: number,
  budget: number,
  lateMs = 0,
): Partial<RateState> {
  const retriesDue = (state.retriesDue ?? []).filter((t) => t >= now);
  const pruned = retriesDue.length !== (state.retriesDue ?? []).length ? { retriesDue } : {};
  // Only a tick on time may raise the rate: a late one means the backend is behind.
  if (lateMs > TICK_MS / 2) return pruned;
  const quiet = state.throttledAt === undefined || now - state.throttledAt > QUIET_AFTER_THROTTLE_MS;
  // Only a full tick says anything about the rate (a campaign running out of recipients does not).
  if (!quiet || budget <= 0 || claimed < Math.max(1, budget - 1)) return pruned;
  let ceiling = ceilingOf(state);
  if (ceiling === null) {
    // No refusal yet: up to what the pacing lets through at the channel's highest rate.
    const rate = Math.max(state.rate, Math.min(targetUnder(state.maxRate), state.rate + RATE_STEP));
    return rate !== state.rate ? { ...pruned, rate } : pruned;
  }
  const probe =
    state.rate >= targetUnder(ceiling) && now - state.ceilingAt! >= PROBE_AFTER_MS && ceiling < state.maxRate;
  if (probe) ceiling += 1;
  const rate = Math.max(state.rate, Math.min(targetUnder(ceiling), state.rate + RATE_STEP));
  return {
    ...pruned,
    ...(rate !== state.rate ? { rate } : {}),
    ...(probe ? { ceiling, ceilingAt: now } : {}),
  };
}

/**
 * Sends a tick may carry over, at most: what earlier ticks' parts of the rate found no room for in
 * the channel's second (`behindAfter`).
 */
export const MAX_BEHIND = 20;

/**
 * A tick claims no more than the channel's second will have room for during its time
 * (pacing.ts `within`). At a rate close to the ceiling that room is close to the tick's part, and
 * one busy half second (answers bunched in it) leaves part of the rate unclaimed. Without a carry
 * that part is lost for good and the channel sends below its rate (at 80/s: 4 a second of the
 * 77 offered). So what a tick wanted and had no room for is carried to the next ones, which
 * claim it on top of their own part while the second has room: `wanted` (its part and what it
 * carried), `budget` (that, capped by the room), `claimed`. Nothing is carried when the tick
 * claimed less than its room allowed (no recipients due, the messaging limit): only room that
 * was missing is made up, and the rate stays what is offered on average.
 */
export function behindAfter(wanted: number, budget: number, claimed: number): number {
  if (budget >= wanted || claimed < budget) return 0;
  return Math.min(MAX_BEHIND, wanted - claimed);
}

/** When the tick after one due at `at` (running at `now`) is due: TICK_MS later, without drift. */
export function nextTickTime(at: number, now: number): number {
  return at + TICK_MS > now ? at + TICK_MS : now + TICK_MS;
}
