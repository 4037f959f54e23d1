/**
 * The one place that builds Convex functions. Public functions are built here so that access
 * rules live in one file; background work uses the internal builders.
 */
import {
  internalAction as rawInternalAction,
  internalMutation as rawInternalMutation,
  internalQuery as rawInternalQuery,
  query as rawQuery,
} from "./_generated/server";

/**
 * A query anyone may call without signing in. Only for data that is safe to show to the world
 * (for example the system status on the home page); everything tenant-related uses an
 * authenticated builder.
 */
export const publicQuery = rawQuery;

export const internalQuery = rawInternalQuery;
export const internalMutation = rawInternalMutation;
export const internalAction = rawInternalAction;
