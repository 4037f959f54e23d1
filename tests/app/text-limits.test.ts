// Length-limited fields never cut what was pasted: they count, and refuse to save with the
// backend's own rule and the count, instead of silently saving the first 80 characters.
import { renderToString } from "react-dom/server";
import { createElement } from "react";
import { describe, expect, it } from "vitest";
import { TenantSettingsForm } from "../../app/components/tenant-settings-form";
import { charCount, lengthProblem, LIMITS } from "../../app/lib/text-limits";
import { LIMITS as SHARED_LIMITS } from "../../convex/shared/limits";

const LONG_NAME = "The Very Long Name Of A Family Bakery And Coffee Roastery On The Corner Of Main Street";

describe("text limits", () => {
  it("are the backend's limits", () => {
    expect(LIMITS).toBe(SHARED_LIMITS);
    expect(LONG_NAME.length).toBeGreaterThan(LIMITS.tenantName.max);
  });

  it("count what was typed and say how much is too much", () => {
    expect(charCount("Harbour Coffee", LIMITS.tenantName)).toEqual({ text: "14 / 80", over: false });
    expect(charCount(LONG_NAME, LIMITS.tenantName)).toEqual({
      text: `${LONG_NAME.length} / 80 — ${LONG_NAME.length - 80} too many`,
      over: true,
    });
    expect(lengthProblem(LONG_NAME, LIMITS.tenantName)).toBe(
      `Name must be 2 to 80 characters; this one has ${LONG_NAME.length}`,
    );
    expect(lengthProblem("  Harbour Coffee  ", LIMITS.tenantName)).toBeNull();
    expect(lengthProblem("A", LIMITS.tenantName)).toBe("Name must be 2 to 80 characters");
  });

  it("the workspace name field keeps a pasted long name whole and shows it is too long", () => {
    const html = renderToString(
      createElement(TenantSettingsForm, {
        initial: { name: LONG_NAME, currency: "EUR", timeZone: "Europe/Madrid", defaultCountry: "ES" },
        submitLabel: "Save",
        busyLabel: "Saving…",
        onSubmit: async () => undefined,
      }),
    );
    const input = /<input[^>]*name="name"[^>]*>/.exec(html)?.[0] ?? "";
    expect(input).toContain(`value="${LONG_NAME}"`);
    expect(input.toLowerCase()).not.toContain("maxlength");
    expect(input).toContain('aria-invalid="true"');
    expect(html).toContain(`${LONG_NAME.length} / 80 — ${LONG_NAME.length - 80} too many`);
  });
});
