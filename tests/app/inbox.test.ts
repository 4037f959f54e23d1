// The inbox's rules as people read them: which tab an address opens, who may open and work the
// inbox, the 24-hour window in words, delivery marks, author labels, message times and the
// quick replies' "/" commands.
import { describe, expect, it } from "vitest";
import {
  INBOX_TABS,
  QUICK_REPLIES,
  authorLabel,
  contactTitle,
  inboxAccess,
  insertQuickReply,
  messageTime,
  quickReplyMatches,
  tabFromSearch,
  tickFor,
  windowInfo,
} from "../../app/lib/inbox";

const HOUR = 60 * 60 * 1000;

describe("tabs", () => {
  it("opens the tab named in the address, and All for anything else", () => {
    expect(tabFromSearch("waiting").state).toBe("waiting");
    expect(tabFromSearch("closed").label).toBe("Closed");
    expect(tabFromSearch(null).tab).toBe("all");
    expect(tabFromSearch("everything").tab).toBe("all");
    expect(tabFromSearch("all").state).toBeUndefined();
  });

  it("has the five tabs in order, each with its own empty state", () => {
    expect(INBOX_TABS.map((t) => t.label)).toEqual(["All", "Waiting for a person", "Human", "Bot", "Closed"]);
    const titles = new Set(INBOX_TABS.map((t) => t.empty.title));
    expect(titles.size).toBe(INBOX_TABS.length);
  });
});

describe("inboxAccess", () => {
  it("lets agents and above work the inbox, viewers not at all", () => {
    expect(inboxAccess("agent", true, false)).toEqual({ canRead: true, canWrite: true });
    expect(inboxAccess("owner", true, false)).toEqual({ canRead: true, canWrite: true });
    expect(inboxAccess("viewer", true, false)).toEqual({ canRead: false, canWrite: false });
  });

  it("lets platform admins read it, and write only through an agent role of their own", () => {
    expect(inboxAccess("viewer", false, true)).toEqual({ canRead: true, canWrite: false });
    expect(inboxAccess("viewer", true, true)).toEqual({ canRead: true, canWrite: false });
    expect(inboxAccess("admin", true, true)).toEqual({ canRead: true, canWrite: true });
  });
});

describe("windowInfo", () => {
  const now = Date.UTC(2026, 11, 2, 12);

  it("says how long the window stays open, by the viewer's clock", () => {
    const info = windowInfo(now + 5 * HOUR, now, false);
    expect(info).toMatchObject({ open: true, short: "Open · 5 hours left" });
    expect(info.long).toContain("5 hours");
  });

  it("is closed once the time has passed, whatever the server said earlier", () => {
    expect(windowInfo(now - 1, now, true)).toMatchObject({ open: false, short: "Window closed" });
  });

  it("is closed when the customer never wrote", () => {
    const info = windowInfo(null, now, true);
    expect(info.open).toBe(false);
    expect(info.long).toContain("has not written yet");
  });

  it("follows the server's answer while there is no clock (server rendering)", () => {
    expect(windowInfo(now + HOUR, null, true)).toMatchObject({ open: true, short: "Window open" });
    expect(windowInfo(now + HOUR, null, false).open).toBe(false);
  });
});

describe("tickFor", () => {
  it("draws each delivery status, read in blue, and nothing for inbound messages", () => {
    expect(tickFor("queued")).toMatchObject({ symbol: "⏱", label: "Queued" });
    expect(tickFor("sent")).toMatchObject({ symbol: "✓", label: "Sent" });
    expect(tickFor("delivered")).toMatchObject({ symbol: "✓✓", tone: "muted" });
    expect(tickFor("read")).toMatchObject({ symbol: "✓✓", tone: "read" });
    expect(tickFor("failed")).toMatchObject({ label: "Failed", tone: "bad" });
    expect(tickFor("received")).toBeNull();
    expect(tickFor("toString")).toBeNull();
  });
});

describe("authorLabel and contactTitle", () => {
  it("names who wrote each message", () => {
    expect(authorLabel({ direction: "in", origin: null, authorName: null })).toBe("Customer");
    expect(authorLabel({ direction: "out", origin: "agent", authorName: "Ana" })).toBe("Ana");
    expect(authorLabel({ direction: "out", origin: "agent", authorName: null })).toBe("Agent");
    expect(authorLabel({ direction: "out", origin: "assistant", authorName: null })).toBe("Assistant");
    expect(authorLabel({ direction: "out", origin: "system", authorName: null })).toBe("System");
    expect(authorLabel({ direction: "out", origin: null, authorName: null })).toBe("Business");
  });

  it("names the contact by name, else number", () => {
    expect(contactTitle({ contactName: "Maria", contactPhone: "+34611" })).toBe("Maria");
    expect(contactTitle({ contactName: null, contactPhone: "+34611" })).toBe("+34611");
    expect(contactTitle({ contactName: null, contactPhone: null })).toBe("Unknown contact");
  });
});

describe("messageTime", () => {
  it("shows only the clock time for today's messages, the date too for older ones", () => {
    const now = new Date(2026, 11, 2, 18, 0).getTime();
    const today = new Date(2026, 11, 2, 9, 5).getTime();
    const yesterday = new Date(2026, 11, 1, 9, 5).getTime();
    expect(messageTime(today, now, "en-GB")).toBe("09:05");
    expect(messageTime(yesterday, now, "en-GB")).toContain("2026");
    expect(messageTime(today, null, "en-GB")).toContain("2026");
  });
});

describe("quick replies", () => {
  it("opens on a slash and filters by key or title", () => {
    expect(quickReplyMatches("/")).toHaveLength(QUICK_REPLIES.length);
    expect(quickReplyMatches("/by")?.map((q) => q.title)).toEqual(["Goodbye"]);
    expect(quickReplyMatches("/GREET")?.map((q) => q.key)).toEqual(["hello"]);
    expect(quickReplyMatches("/zzz")).toEqual([]);
  });

  it("is not a command once something else is typed", () => {
    expect(quickReplyMatches("hello")).toBeNull();
    expect(quickReplyMatches("/by now")).toBeNull();
    expect(quickReplyMatches("see /by")).toBeNull();
  });

  it("replaces a command, fills an empty box and appends to a draft", () => {
    const bye = QUICK_REPLIES.find((q) => q.key === "bye")!;
    expect(insertQuickReply("/by", bye)).toBe(bye.text);
    expect(insertQuickReply("  ", bye)).toBe(bye.text);
    expect(insertQuickReply("Done! ", bye)).toBe(`Done! ${bye.text}`);
  });
});
