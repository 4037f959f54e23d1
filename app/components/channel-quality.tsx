// A channel's health as platform admins read it: Meta's quality rating of the number and its
// messaging tier (Cloud API), or the session's status (WAHA), as small labelled badges.

export type ChannelHealth = {
  name: string;
  kind: "cloud" | "waha";
  enabled: boolean;
  qualityRating: string | null;
  messagingTier: string | null;
  wahaStatus: string | null;
};

const QUALITY: Record<string, { label: string; tone: Tone }> = {
  GREEN: { label: "High", tone: "good" },
  YELLOW: { label: "Medium", tone: "warn" },
  RED: { label: "Low", tone: "bad" },
  FLAGGED: { label: "Flagged", tone: "bad" },
  UNFLAGGED: { label: "OK", tone: "good" },
  UNKNOWN: { label: "Unknown", tone: "plain" },
};

type Tone = "good" | "warn" | "bad" | "plain";

const TONES: Record<Tone, string> = {
  good: "bg-emerald-50 text-emerald-800 ring-emerald-200",
  warn: "bg-amber-50 text-amber-900 ring-amber-200",
  bad: "bg-red-50 text-red-800 ring-red-200",
  plain: "bg-slate-50 text-slate-700 ring-slate-200",
};

/** "TIER_1K" → "1K a day"; "TIER_UNLIMITED" → "Unlimited". */
export function tierLabel(tier: string): string {
  const t = tier.replace(/^TIER_/, "");
  if (t === "UNLIMITED") return "Unlimited";
  return /^\d+K?$/.test(t) ? `${t} a day` : t.replace(/_/g, " ").toLowerCase();
}

export function qualityLabel(rating: string): { label: string; tone: Tone } {
  return QUALITY[rating] ?? { label: rating.toLowerCase(), tone: "plain" };
}

function Badge({ tone, children, title }: { tone: Tone; children: React.ReactNode; title?: string }) {
  return (
    <span
      title={title}
      className={`inline-flex items-center rounded-full px-2 py-0.5 text-xs font-medium whitespace-nowrap ring-1 ring-inset ${TONES[tone]}`}
    >
      {children}
    </span>
  );
}

/** The badges of one channel: quality and tier, or the WAHA session's status; "Disabled" first. */
export function ChannelHealthBadges({ channel }: { channel: ChannelHealth }) {
  const quality = channel.qualityRating ? qualityLabel(channel.qualityRating) : null;
  return (
    <span className="inline-flex flex-wrap gap-1">
      {channel.enabled ? null : <Badge tone="warn">Disabled</Badge>}
      {channel.kind === "cloud" ? (
        <>
          <Badge tone={quality?.tone ?? "plain"} title="Quality rating of the number (Meta)">
            Quality: {quality?.label ?? "not reported"}
          </Badge>
          <Badge tone="plain" title="Messaging tier: business-initiated conversations per 24 hours">
            Tier: {channel.messagingTier ? tierLabel(channel.messagingTier) : "not reported"}
          </Badge>
        </>
      ) : (
        <Badge tone={channel.wahaStatus === "WORKING" ? "good" : "plain"} title="WAHA session status">
          Session: {channel.wahaStatus?.toLowerCase() ?? "not reported"}
        </Badge>
      )}
    </span>
  );
}
