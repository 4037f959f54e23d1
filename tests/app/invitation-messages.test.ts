import { describe, expect, it } from "vitest";
import {
  invitationLifetime,
  invitationSentMessage,
  samePendingAddress,
} from "../../app/lib/invitation-messages";

describe("what the members page says about invitations", () => {
  it("says resent, and that the earlier link stops working, when the address was already invited", () => {
    const pending = [{ email: "bob@example.com" }];
    const again = samePendingAddress(pending, "  Bob@Example.com ");
    expect(again).toBe(true);
    expect(invitationSentMessage("Bob@Example.com", again)).toBe(
      "Invitation resent to Bob@Example.com. The link sent earlier no longer works; only the new one does.",
    );
    const fresh = samePendingAddress(pending, "carol@example.com");
    expect(fresh).toBe(false);
    expect(invitationSentMessage("carol@example.com", fresh)).toBe("Invitation sent to carol@example.com");
    expect(samePendingAddress(undefined, "bob@example.com")).toBe(false);
  });

  it("states the lifetime the backend enforces, as the countdown on a new link reads", () => {
    expect(invitationLifetime()).toBe("7 days");
  });
});
