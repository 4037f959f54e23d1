/** Steps the browser tests share: signing in, configuring the simulator, reporting a failure. */
import type { Page } from "playwright-core";
import { expect, onTestFailed } from "vitest";

/**
 * Signs in with a local account whose password is `${name} password`. Without `open` the page is
 * already on the sign-in form (a protected page sent it there); with it, the form is opened with
 * that `redirectTo`.
 */
export async function signIn(
  page: Page,
  email: string,
  name: string,
  open?: { webUrl: string; redirectTo: string },
): Promise<void> {
  if (open) await page.goto(`${open.webUrl}/sign-in?redirectTo=${encodeURIComponent(open.redirectTo)}`);
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Name").fill(name);
  await page.getByLabel(/^Password/).fill(`${name} password`);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** Gives the simulator (standing in for Meta and WAHA) a number or session a test then connects. */
export async function simulatorHas(
  stack: { simulatorUrl: string | null },
  config: Record<string, unknown>,
): Promise<void> {
  if (!stack.simulatorUrl) throw new Error("the stack runs no simulator");
  const response = await fetch(`${stack.simulatorUrl}/_sim/config`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(config),
  });
  expect(response.status).toBe(200);
}

/** Each page's address and main text, then the stack's logs. */
export async function failureReport(stack: { logs: string[] }, pages: readonly Page[]): Promise<string> {
  const parts: string[] = [];
  for (const page of pages) {
    const main = await page
      .locator("main")
      .innerText({ timeout: 1_000 })
      .catch(() => "(no main)");
    parts.push(`failed at ${page.url()}\n--- page ---\n${main}`);
  }
  parts.push(`--- stack ---\n${stack.logs.join("\n")}`);
  return parts.join("\n");
}

/**
 * Prints what the pages showed and the stack's logs if the current test fails. `pages` may be an
 * array the test fills as it opens pages.
 */
export function dumpOnFailure(stack: { logs: string[] }, pages: Page | Page[]): void {
  onTestFailed(async () => {
    console.log(await failureReport(stack, Array.isArray(pages) ? pages : [pages]));
  });
}
