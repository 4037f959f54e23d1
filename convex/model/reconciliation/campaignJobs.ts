/**
 * Campaign counters against their recipients: each recent campaign's recipients are counted per
 * state and counter shard and compared with the shards; drift is put right and reported.
 */
import type { Id } from "../../_generated/dataModel";
import type { MutationCtx } from "../../_generated/server";
import { reconciliationDeadlines } from "../../env";
import { SHARDS, zeroCounts } from "../campaigns/counters";
import { RECIPIENT_STATES, type Counts } from "../campaigns/tables";
import { Findings, type StepInput, type StepResult } from "./runs";

/**
 * Recipients counted per batch. A campaign counted in one batch is counted in one transaction:
 * its recount is exact and replaces the shards. A bigger one is counted over several, while
 * statuses may move recipients; its drift is reported for a person, not written.
 */
export const RECOUNT_BATCH = 2000;
/** Campaigns looked at (and skipped when not launched or long finished) per batch. */
const CAMPAIGN_SCAN = 50;

type CounterCursor = {
  after: number | null;
  current?: {
    campaignId: Id<"campaigns">;
    created: number;
    page: string | null;
    pages: number;
    shards: Counts[];
  };
};

function describe(drift: Partial<Counts>): string {
  return Object.entries(drift)
    .map(([state, d]) => `${state} ${d! > 0 ? "+" : ""}${d}`)
    .join(", ");
}

export async function campaignCountersStep(
  ctx: MutationCtx,
  { cursor, now }: StepInput,
): Promise<StepResult> {
  const state: CounterCursor = cursor ? (JSON.parse(cursor) as CounterCursor) : { after: null };
  let current = state.current;
  if (!current) {
    const after = state.after;
    const candidates = await ctx.db
      .query("campaigns")
      .withIndex("by_creation_time", (q) => (after === null ? q : q.gt("_creationTime", after)))
      .take(CAMPAIGN_SCAN);
    const oldest = now - reconciliationDeadlines().counterWindowMs;
    const next = candidates.find(
      (c) =>
        c.state !== "draft" &&
        c.state !== "scheduled" &&
        (c.finishedAt === undefined || c.finishedAt >= oldest),
    );
    if (!next) {
      if (candidates.length < CAMPAIGN_SCAN) return { findings: [], cursor: null };
      const last = candidates[candidates.length - 1]!;
      return { findings: [], cursor: JSON.stringify({ after: last._creationTime } satisfies CounterCursor) };
    }
    current = {
      campaignId: next._id,
      created: next._creationTime,
      page: null,
      pages: 0,
      shards: Array.from({ length: SHARDS }, zeroCounts),
    };
  }
  const page = await ctx.db
    .query("campaignRecipients")
    .withIndex("by_campaign_contact", (q) => q.eq("campaignId", current.campaignId))
    .paginate({ cursor: current.page, numItems: RECOUNT_BATCH });
  for (const r of page.page) {
    const shard = current.shards[r.shard] ?? (current.shards[r.shard] = zeroCounts());
    shard[r.state]++;
  }
  const pages = current.pages + 1;
  if (!page.isDone) {
    const next: CounterCursor = {
      after: state.after,
      current: { ...current, page: page.continueCursor, pages },
    };
    return { findings: [], cursor: JSON.stringify(next) };
  }
  const findings = new Findings();
  const campaign = (await ctx.db.get("campaigns", current.campaignId))!;
  const rows = await ctx.db
    .query("campaignCounters")
    .withIndex("by_campaign_shard", (q) => q.eq("campaignId", current.campaignId))
    .take(SHARDS * 2);
  const drift: Partial<Counts> = {};
  const wrong: number[] = [];
  for (let shard = 0; shard < current.shards.length; shard++) {
    const want = current.shards[shard]!;
    const have = rows.find((row) => row.shard === shard)?.counts ?? zeroCounts();
    let differs = false;
    for (const s of RECIPIENT_STATES) {
      if (want[s] !== have[s]) {
        drift[s] = (drift[s] ?? 0) + want[s] - have[s];
        differs = true;
      }
    }
    if (differs) wrong.push(shard);
  }
  for (const key of Object.keys(drift) as (keyof Counts)[]) if (drift[key] === 0) delete drift[key];
  if (wrong.length) {
    const recounted = current.shards.reduce((n, c) => n + RECIPIENT_STATES.reduce((m, s) => m + c[s], 0), 0);
    if (pages === 1) {
      for (const shard of wrong) {
        const row = rows.find((r) => r.shard === shard);
        if (row) await ctx.db.patch("campaignCounters", row._id, { counts: current.shards[shard]! });
        else
          await ctx.db.insert("campaignCounters", {
            campaignId: campaign._id,
            shard,
            counts: current.shards[shard]!,
          });
      }
      findings.add(
        campaign._id,
        "fixed",
        `"${campaign.name}": counters were off by ${describe(drift) || "shard totals"} against ${recounted} recipients; recounted and corrected`,
        campaign.tenantId,
      );
    } else {
      // Statuses keep arriving for a day or so after the last send; only then is a drift real.
      const settled = campaign.finishedAt !== undefined && campaign.finishedAt < now - 24 * 60 * 60 * 1000;
      findings.add(
        campaign._id,
        settled ? "needs_person" : "reported",
        `"${campaign.name}": counters differ by ${describe(drift) || "shard totals"} from a recount of ${recounted} recipients over ${pages} batches (statuses may have moved meanwhile, so nothing was written)`,
        campaign.tenantId,
      );
    }
  }
  return {
    findings: findings.list,
    cursor: JSON.stringify({ after: current.created } satisfies CounterCursor),
  };
}
