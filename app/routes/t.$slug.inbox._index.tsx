// /t/<slug>/inbox with no conversation open: on wide screens, a hint beside the list (on phones
// the list is the whole screen, and this is not shown).
import type { MetaFunction } from "@remix-run/node";
import { EmptyState } from "../components/empty-state";

export const meta: MetaFunction = () => [{ title: "Inbox — Switchboard" }];

export default function InboxIndex() {
  return (
    <EmptyState
      headingLevel="h2"
      title="Choose a conversation"
      description="Pick a conversation on the left to read it and reply. Conversations waiting for a person come first in their tab."
    />
  );
}
