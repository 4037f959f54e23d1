/** The reconciliation jobs: what each is called, when its cron runs it, and its batch step. */
import { isoDay } from "../billing/rates";
import { campaignCountersStep } from "./campaignJobs";
import { noStatusStep, pricingDriftStep, stuckSendingStep } from "./messageJobs";
import { oldReservationsStep, walletInvariantStep } from "./moneyJobs";
import { retentionStep } from "./retention";
import type { JobDefinition } from "./runs";
import type { ReconciliationJob } from "./tables";

export const JOBS: Record<ReconciliationJob, JobDefinition> = {
  no_status: {
    label: "Sends with no status",
    schedule: "hourly",
    step: noStatusStep,
  },
  stuck_sending: {
    label: "Sends stuck in sending",
    schedule: "every 10 minutes",
    step: stuckSendingStep,
  },
  wallet_invariant: {
    label: "Ledger vs balance",
    schedule: "daily at 03:17 UTC",
    step: walletInvariantStep,
  },
  campaign_counters: {
    label: "Campaign counters",
    schedule: "hourly",
    step: campaignCountersStep,
  },
  old_reservations: {
    label: "Old reservations",
    schedule: "hourly",
    step: oldReservationsStep,
  },
  pricing_drift: {
    label: "Billed vs rate card",
    schedule: "daily at 01:30 UTC (the day before)",
    step: pricingDriftStep,
    defaultScope: (now) => isoDay(now - 24 * 60 * 60 * 1000),
  },
  retention: {
    label: "Data retention",
    schedule: "daily at 02:17 UTC",
    step: retentionStep,
  },
};

export const JOB_NAMES = Object.keys(JOBS) as ReconciliationJob[];
