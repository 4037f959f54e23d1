/**
 * Each channel's sends of the last moments, kept so a campaign send is claimed only when
 * WhatsApp will take it (decision 022, "Pacing at claim").
 *
 * WhatsApp refuses a number's send (130429) when the number already sent its limit in the second
 * before it arrived. Spacing sends out in the schedule is not enough: on a busy backend the time
 * from a send's claim to its provider call varies by tens or hundreds of milliseconds, sends
 * claimed a second apart arrive together, and a per-second window refuses the bunch although the
 * rate is under the limit. So the count follows the calls and answers, not the claims:
 *
 * - a send **in flight** (claimed, its answer not recorded yet) counts as arriving now, whenever it
 *   was claimed: its call may be just leaving;
 * - a send WhatsApp **accepted** counts for a second from when it reached WhatsApp at the latest
 *   (`countsFrom`): its answer, or, when WHATSAPP_SEND_ARRIVAL_MS is set, that long after its
 *   call if the answer took longer;
 * - a refused send is not counted at all (WhatsApp did not count it either).
 *
 * Counting from the answer (the default) is never refused, but every slot also holds the answer's
 * round trip: with sends answered 300 ms after they were counted, 80/s of limit gave 58 (decision
 * 030). WhatsApp counts a send when it arrives, a one-way trip after the call, and what matters
 * is only how much that trip varies: a send counted from `call + arrivalMs` is never counted
 * shorter than WhatsApp counts it unless an earlier send's trip took more than `arrivalMs` longer
 * than a later one's. A refusal then teaches the ceiling as any other, which is why it is not the
 * default: on the local server, whose event loop stalls, a 150 ms limit drew 4–6 refusals at the
 * start of each campaign and a lower ceiling.
 *
 * A campaign send is claimed only while those are fewer than the channel's capacity (its learned
 * ceiling, else its highest rate); a send that finds the second full stays `queued` and is
 * delivered when it has room (`nextAt`). Every outbound send of the channel is counted
 * (conversation replies too, which are never held: a person is waiting for them), so campaign
 * sends leave room for them. At a refusal, the accepted sends answered in the second before its
 * answer are what WhatsApp took: the number's limit (model/campaigns/rate.ts learns it).
 */
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx } from "../../_generated/server";
import { MAX_RATE } from "./rate";

/** WhatsApp counts a number's sends per second. */
export const SECOND_MS = 1_000;
/** Accepted sends count this much longer than a second after their answer (timer rounding). */
export const GUARD_MS = 5;
/** Count times are kept this long. */
const KEPT_MS = 3 * SECOND_MS;
/**
 * A send in flight longer than this had its delivery cut short (a crash between claim and
 * answer): it stops counting. Provider calls time out well before.
 */
export const IN_FLIGHT_MAX_MS = 30_000;

type Window = {
  row: Doc<"sendWindows"> | null;
  answered: number[];
  inFlight: number[];
  capacity: number;
  changed: boolean;
};

/** The channel's capacity: its learned ceiling, else the most the dispatcher ever sends. */
export function capacityOf(dispatch: Doc<"channelDispatch"> | null): number {
  if (!dispatch) return MAX_RATE;
  return Math.max(1, Math.floor(dispatch.ceiling ?? dispatch.maxRate));
}

async function rowOf(ctx: MutationCtx, channelId: Id<"channels">) {
  return await ctx.db
    .query("sendWindows")
    .withIndex("by_channel", (q) => q.eq("channelId", channelId))
    .first();
}

/**
 * When an accepted send counts from: its answer, or `arrivalMs` after its call if the answer took
 * longer (WhatsApp counted it on arrival, before it answered).
 */
export function countsFrom(calledAt: number, answeredAt: number, arrivalMs: number): number {
  return Math.min(answeredAt, calledAt + arrivalMs);
}

/** Sends that still count at `at`: those in flight, and those counted from less than a second before. */
function countedAt(window: { answered: number[]; inFlight: number[] }, at: number): number {
  return window.inFlight.length + window.answered.filter((t) => t > at - SECOND_MS - GUARD_MS).length;
}

function fresh(row: Doc<"sendWindows"> | null, now: number) {
  return {
    answered: (row?.answered ?? []).filter((t) => t > now - KEPT_MS),
    inFlight: (row?.inFlight ?? []).filter((t) => t > now - IN_FLIGHT_MAX_MS),
  };
}

/**
 * The send windows a claim transaction touches, read once per channel and written once at the
 * end (`save`).
 */
export class SendWindows {
  private readonly windows = new Map<Id<"channels">, Window>();

  constructor(
    private readonly ctx: MutationCtx,
    /** The claim's time (also its messages' `statusAt`). */
    readonly now: number,
  ) {}

  private async open(channelId: Id<"channels">): Promise<Window> {
    let window = this.windows.get(channelId);
    if (window) return window;
    const row = await rowOf(this.ctx, channelId);
    const { answered, inFlight } = fresh(row, this.now);
    window = {
      row,
      answered,
      inFlight,
      capacity: capacityOf(
        await this.ctx.db
          .query("channelDispatch")
          .withIndex("by_channel", (q) => q.eq("channelId", channelId))
          .first(),
      ),
      changed:
        answered.length !== (row?.answered.length ?? 0) || inFlight.length !== (row?.inFlight.length ?? 0),
    };
    this.windows.set(channelId, window);
    return window;
  }

  /**
   * Counts a send leaving now. A held send (a campaign's) is only counted while the channel's
   * second has room; false means it must wait (`nextAt`).
   */
  async take(channelId: Id<"channels">, hold: boolean): Promise<boolean> {
    const window = await this.open(channelId);
    if (hold && countedAt(window, this.now) >= window.capacity) return false;
    window.inFlight.push(this.now);
    window.changed = true;
    return true;
  }

  /**
   * When the channel's second next has room: when enough accepted sends drop out of it. Sends in
   * flight will count until a second after their answers, which come now at the earliest.
   */
  async nextAt(channelId: Id<"channels">): Promise<number> {
    const window = await this.open(channelId);
    const recent = window.answered.filter((t) => t > this.now - SECOND_MS - GUARD_MS);
    const over = window.inFlight.length + recent.length - window.capacity;
    if (over < 0) return this.now;
    return (over < recent.length ? recent[over] : this.now) + SECOND_MS + GUARD_MS + 1;
  }

  async save(): Promise<void> {
    for (const [channelId, window] of this.windows) {
      if (!window.changed) continue;
      const fields = { answered: window.answered, inFlight: window.inFlight };
      if (window.row) await this.ctx.db.patch("sendWindows", window.row._id, fields);
      else await this.ctx.db.insert("sendWindows", { channelId, ...fields });
    }
  }
}

/**
 * The channel's second as a tick sees it at `now` (its `sendWindows` row, read once): how many
 * sends it will have room for, and when.
 */
export type Room = {
  /**
   * How many sends the second will have room for in the next `spanMs` (a tick's time): its
   * capacity less the sends that will still count then (those in flight, whose answers come now
   * at the earliest, and those answered too recently to drop out by then). A tick claims no more,
   * so its sends do not wait to be claimed a second time.
   */
  within(spanMs: number): number;
  /**
   * When each of the next `count` sends will find room: at once while the second has room, then
   * as the accepted sends counted now drop out, oldest first. Sends in flight drop out a second
   * after their answers at the earliest; those slots are left out (the list is shorter than
   * `count`). A tick schedules its slices for these times, so they are not claimed before their
   * room opens only to be held and claimed again.
   */
  times(count: number): number[];
};

export async function roomOf(ctx: MutationCtx, dispatch: Doc<"channelDispatch">, now: number): Promise<Room> {
  const window = fresh(await rowOf(ctx, dispatch.channelId), now);
  const capacity = capacityOf(dispatch);
  return {
    within: (spanMs) => Math.max(0, capacity - countedAt(window, now + spanMs)),
    times: (count) => {
      const recent = window.answered.filter((t) => t > now - SECOND_MS - GUARD_MS).sort((a, b) => a - b);
      const free = capacity - window.inFlight.length - recent.length;
      const times: number[] = [];
      for (let i = 0; i < Math.max(0, free) && times.length < count; i++) times.push(now);
      // With more counted than the capacity (it was lowered), the first `-free` to drop out make none.
      for (let i = Math.max(0, -free); i < recent.length && times.length < count; i++)
        times.push(recent[i] + SECOND_MS + GUARD_MS + 1);
      return times;
    },
  };
}

/** Accepted sends counted on the channel in the second up to `at` (when a refused send counted from). */
export async function answeredBefore(
  ctx: MutationCtx,
  channelId: Id<"channels">,
  at: number,
): Promise<number> {
  const row = await rowOf(ctx, channelId);
  return (row?.answered ?? []).filter((t) => t > at - SECOND_MS && t <= at).length;
}

/**
 * Answers came for `sends` of the channel (claimed at `claimedAt`, answered at `answeredAt`): they
 * are no longer in flight, and the accepted ones count from `countsFrom` (default: the answer).
 */
export async function settled(
  ctx: MutationCtx,
  channelId: Id<"channels">,
  sends: { claimedAt: number; answeredAt: number; countsFrom?: number; accepted: boolean }[],
): Promise<void> {
  const row = await rowOf(ctx, channelId);
  if (!row || !sends.length) return;
  const now = Math.max(...sends.map((s) => s.answeredAt));
  const { answered: times, inFlight } = fresh(row, now);
  for (const send of sends) {
    // Its own claim if still there (a crash may have cut another one's short), else the oldest.
    const at = inFlight.indexOf(send.claimedAt);
    inFlight.splice(at >= 0 ? at : 0, inFlight.length ? 1 : 0);
    if (send.accepted) times.push(send.countsFrom ?? send.answeredAt);
  }
  times.sort((a, b) => a - b);
  await ctx.db.patch("sendWindows", row._id, { answered: times, inFlight });
}
