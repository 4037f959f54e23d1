/**
 * How fast a channel's dispatcher sends (decision 022, "Rate"): a learned ceiling instead of a
 * sawtooth.
 *
 * WhatsApp's throughput limit is a fixed number of messages per second per number (80 by default),
 * refused with 130429 above it. Halving on every 130429 and creeping back up (classic AIMD) keeps
 * hitting the limit and averages well below it. Instead:
 *
 * - **Learn the ceiling from the errors.** The first 130429 puts the ceiling one below the rate
 *   that tripped it, and each further 130429 of the same second one lower (a second's worth sent
 *   at `rate` with `k` refused means about `rate - k` got through), by a quarter at most: sends
 *   that bunched up in a busy moment are refused beyond the limit too. Later, a refusal of a send
 *   made under the current ceiling lowers it by one, once a second; refusals of sends queued
 *   before it was learned, and of retries, echo what is already known.
 * - **Send just under it.** The rate drops to the ceiling less a small margin (3 %, at least 1) and
 *   grows back to that target quickly, never above it.
 * - **Probe slowly.** A ceiling not lowered for PROBE_AFTER_MS while the rate ran at its target
 *   goes up by one (a refusal caused by a busy moment, not by the limit, is not kept for good,
 *   and WhatsApp raises some numbers' throughput): at most one probing refusal per half minute.
 * - **Keep to what the backend manages.** A tick running more than a tick late means the
 *   backend is behind and the paced sends would leave in bunches: the rate eases off 5 % per late
 *   tick, and grows only from ticks on time.
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
/** A ceiling not hit again for this long is probed (one more message per second per full tick). */
export const PROBE_AFTER_MS = 30_000;
/** After a 130429 the rate does not grow for this long (the burst's errors are still coming in). */
const QUIET_AFTER_THROTTLE_MS = 3 * SECOND_MS;
/** Retry times kept at most (a second's worth at the highest rate). */
const MAX_RETRIES_KEPT = MAX_RATE;

export type RateState = Pick<
  Doc<"channelDispatch">,
  "rate" | "maxRate" | "throttledAt" | "ceiling" | "ceilingAt" | "burstRate" | "retriesDue"
>;

/** The rate to send at under a ceiling: 3 % below it, at least one message below. */
export function targetUnder(ceiling: number): number {
  return Math.max(1, ceiling - Math.max(1, Math.round(ceiling * 0.03)));
}

function ceilingOf(state: RateState): number | null {
  return state.ceiling !== undefined && state.ceilingAt !== undefined ? state.ceiling : null;
}

/**
 * A campaign send queued at `queuedAt` was refused with 130429 at `now`; it is retried at
 * `retryAt`. Not every refusal says something new about the limit: sends queued before the
 * ceiling was last lowered went out at the old rate, and their refusals (and those of retries)
 * echo what is already known. Those only keep the retry's second free.
 */
export function onThrottle(
  state: RateState,
  now: number,
  retryAt: number,
  queuedAt: number,
): Partial<RateState> {
  const retriesDue = [...(state.retriesDue ?? []).filter((t) => t > now), retryAt]
    .sort((a, b) => a - b)
    .slice(-MAX_RETRIES_KEPT);
  const sameBurst = state.throttledAt !== undefined && now - state.throttledAt < SECOND_MS;
  const known = ceilingOf(state);
  let ceiling: number;
  let burstRate = state.burstRate;
  if (known === null) {
    // The first refusal: the number's limit is below the rate that tripped it.
    burstRate = Math.min(state.rate, state.maxRate);
    ceiling = burstRate - 1;
  } else if (sameBurst && burstRate !== undefined && queuedAt <= state.ceilingAt!) {
    // More refusals of the first second's sends: about that many fewer got through. Sends that
    // bunched up (a busy moment) are refused beyond the limit too, so it falls a quarter at most.
    ceiling = Math.max(Math.ceil(burstRate * 0.75), known - 1);
  } else if (!sameBurst && queuedAt > state.ceilingAt!) {
    // A send made under the current ceiling was refused: one lower, once a second.
    burstRate = undefined;
    ceiling = known - 1;
  } else {
    return { retriesDue };
  }
  ceiling = Math.max(1, ceiling);
  return {
    ceiling,
    ceilingAt: now,
    burstRate,
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
  if (lateMs > TICK_MS) {
    // The backend is behind (this tick ran more than a tick late): sends paced after it would
    // leave in bunches, which the provider refuses although the rate is under its limit. Ease
    // off by 5 % per late tick until ticks run on time; the ceiling is the provider's and stays.
    const rate = Math.max(1, state.rate - Math.max(1, Math.round(state.rate * 0.05)));
    return rate !== state.rate ? { ...pruned, rate } : pruned;
  }
  // Only a tick on time may raise the rate.
  if (lateMs > TICK_MS / 2) return pruned;
  const quiet = state.throttledAt === undefined || now - state.throttledAt > QUIET_AFTER_THROTTLE_MS;
  // Only a full tick says anything about the rate (a campaign running out of recipients does not).
  if (!quiet || budget <= 0 || claimed < Math.max(1, budget - 1)) return pruned;
  let ceiling = ceilingOf(state);
  if (ceiling === null) {
    const rate = Math.min(state.maxRate, state.rate + RATE_STEP);
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

/** When the tick after one due at `at` (running at `now`) is due: TICK_MS later, without drift. */
export function nextTickTime(at: number, now: number): number {
  return at + TICK_MS > now ? at + TICK_MS : now + TICK_MS;
}
