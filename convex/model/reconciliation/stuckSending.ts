/**
 * Messages stuck in `sending` with no provider id: the process stopped between claiming the
 * message and recording the provider's answer, so nobody knows whether it went out
 * (docs/decisions/016-outbound-pipeline.md, 022-campaign-dispatch.md). They are never sent again.
 *
 * `resolveStuck` is where the resolution plugs in: a function that decides one message (for
 * example marks it and its campaign recipient `unknown` and frees its reservation share) and
 * says what it did. Until one is plugged in, the job reports each message, per provider:
 *
 * - Cloud API: a message's status cannot be asked for; only a status webhook (matched by our id,
 *   sent as callback data) tells. Past the deadline the outcome is unknown.
 * - WAHA: the provider facts we rely on (whatsapp.md) offer no call to look a sent message up,
 *   only `message.ack` webhooks; the same rule applies.
 */
import type { Doc } from "../../_generated/dataModel";
import type { MutationCtx } from "../../_generated/server";
import type { FindingOutcome } from "./tables";

export type StuckResolution = { outcome: FindingOutcome; reason: string };

export type StuckSendingResolver = (
  ctx: MutationCtx,
  message: Doc<"messages">,
  channel: Doc<"channels"> | null,
) => Promise<StuckResolution>;

/** Reports a stuck message without changing it (the resolution before one is plugged in). */
export const reportStuck: StuckSendingResolver = async (_ctx, message, channel) => {
  const since = new Date(message.statusAt).toISOString().replace("T", " ").slice(0, 16);
  const how =
    channel?.kind === "waha"
      ? "WAHA offers no way to look a sent message up"
      : "the Cloud API offers no way to ask whether a message was sent";
  return {
    outcome: "reported",
    reason: `Sending since ${since} UTC with no answer from the provider; outcome unknown (${how}), never sent again`,
  };
};

/** The resolution the stuck-sending job applies to each message. */
export const resolveStuck: StuckSendingResolver = reportStuck;
