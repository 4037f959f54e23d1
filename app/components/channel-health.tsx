// A channel's state at a glance: enabled or not, the last webhook seen, WAHA's session status,
// and Meta's quality rating and messaging tier, as small labelled badges.
import type { ReactNode } from "react";
import { qualityInfo, tierLabel, wahaStatusInfo, type Channel, type Tone } from "../lib/channels";
import { formatDateTime } from "../lib/format";
import { formatTimeAgo, useNow } from "../lib/relative-time";

const TONES: Record<Tone, string> = {
  good: "bg-brand-50 text-brand-700 ring-brand-100",
  warning: "bg-amber-50 text-amber-800 ring-amber-200",
  bad: "bg-red-50 text-red-800 ring-red-200",
  neutral: "bg-slate-100 text-slate-700 ring-slate-200",
};

export function Badge({ tone = "neutral", children }: { tone?: Tone; children: ReactNode }) {
  return (
    <span
      className={`inline-flex items-center rounded-full px-2 py-0.5 text-xs font-medium whitespace-nowrap ring-1 ring-inset ${TONES[tone]}`}
    >
      {children}
    </span>
  );
}

export function EnabledBadge({ enabled }: { enabled: boolean }) {
  return enabled ? <Badge tone="good">Enabled</Badge> : <Badge tone="warning">Disabled</Badge>;
}

/** "Last webhook 3 minutes ago" (or "never"), ticking without a reload. */
export function LastWebhook({ at }: { at: number | null }) {
  const now = useNow(15_000);
  if (at === null) return <Badge tone="neutral">Last webhook: never</Badge>;
  return (
    <Badge tone="neutral">
      Last webhook:{" "}
      <time dateTime={new Date(at).toISOString()} title={formatDateTime(at)} className="ml-1">
        {now === null ? formatDateTime(at) : formatTimeAgo(at, now)}
      </time>
    </Badge>
  );
}

/** Every health signal the channel's kind has. */
export function ChannelHealthBadges({ channel }: { channel: Channel }) {
  const { health } = channel;
  const waha = wahaStatusInfo(health.wahaStatus);
  const quality = qualityInfo(health.qualityRating);
  return (
    <ul aria-label={`Health of ${channel.name}`} className="flex flex-wrap gap-1.5">
      <li>
        <LastWebhook at={health.lastWebhookAt} />
      </li>
      {channel.kind === "waha" ? (
        <li>
          <Badge tone={waha.tone}>{waha.label}</Badge>
        </li>
      ) : (
        <>
          <li>
            <Badge tone={quality.tone}>{quality.label}</Badge>
          </li>
          <li>
            <Badge tone="neutral">{tierLabel(health.messagingTier)}</Badge>
          </li>
        </>
      )}
    </ul>
  );
}
