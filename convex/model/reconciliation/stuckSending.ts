/**
 * How stuck sends are handled per provider. A message stuck in `sending` with no provider id was
 * in flight when the process stopped, so nobody knows whether it went out
 * (docs/decisions/016-outbound-pipeline.md, 022-campaign-dispatch.md); after
 * OUTBOUND_UNKNOWN_AFTER_MS `resolveStuckSending` (model/outbound.ts) marks it `unknown`, and it
 * is never sent again.
 *
 * - Cloud API: a message's status cannot be asked for; only a status webhook (matched by our id,
 *   sent as callback data) tells. Past the deadline the outcome is unknown.
 * - WAHA: the provider facts we rely on (whatsapp.md) offer no call to look a sent message up,
 *   only `message.ack` webhooks; the same rule applies.
 */
import type { Doc } from "../../_generated/dataModel";

/** Why the outcome cannot be looked up, for the report. */
export function providerNote(channel: Pick<Doc<"channels">, "kind"> | null): string {
  return channel?.kind === "waha"
    ? "(WAHA offers no way to look a sent message up.)"
    : "(The Cloud API offers no way to ask whether a message was sent.)";
}
