/**
 * Length limits of what people type, in characters after trimming: Convex refuses anything
 * outside them, and the web app's forms count against the same numbers. Pure.
 */
export const LIMITS = {
  tenantName: { min: 2, max: 80 },
  channelName: { min: 2, max: 80 },
  channelSecret: { min: 8, max: 4096 },
  email: { min: 3, max: 254 },
} as const;
