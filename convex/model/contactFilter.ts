import { v, type Infer } from "convex/values";

/** A saved or current contact filter (model/contacts.ts). */
export const vContactFilter = v.object({
  search: v.optional(v.string()),
  tag: v.optional(v.string()),
  consent: v.optional(v.union(v.literal("subscribed"), v.literal("opted_out"))),
  /** Last inbound message: within the last N days, more than N days ago, or never. */
  lastSeen: v.optional(
    v.union(
      v.object({ within: v.number() }),
      v.object({ before: v.number() }),
      v.object({ never: v.literal(true) }),
    ),
  ),
  field: v.optional(v.object({ key: v.string(), value: v.string() })),
});
export type ContactFilter = Infer<typeof vContactFilter>;
