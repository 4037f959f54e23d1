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

/** POSTs (or GETs, without a body) the simulator's test API (`/_sim/...`) and returns its JSON. */
export async function simulatorCall<T>(
  stack: { simulatorUrl: string | null },
  pathname: string,
  body?: unknown,
): Promise<T> {
  if (!stack.simulatorUrl) throw new Error("the stack runs no simulator");
  const response = await fetch(`${stack.simulatorUrl}${pathname}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(response.status, `${pathname}: ${await response.clone().text()}`).toBe(200);
  return (await response.json()) as T;
}

/** Creates a workspace from the onboarding page (where a first sign-in lands) and waits for it. */
export async function createWorkspace(page: Page, name: string, slug: string): Promise<void> {
  await page.waitForURL(/\/onboarding$/);
  await page.getByLabel("Workspace name").fill(name);
  await page.getByRole("button", { name: "Create workspace" }).click();
  await page.waitForURL(new RegExp(`/t/${slug}$`));
}

/** Connects a Cloud API number the simulator knows (see `simulatorHas`) and waits for its page. */
export async function connectCloudChannel(
  page: Page,
  webUrl: string,
  slug: string,
  channel: { name: string; phoneNumberId: string; wabaId: string; displayNumber: string; token: string },
): Promise<void> {
  await page.goto(`${webUrl}/t/${slug}/channels/new`);
  await page.getByRole("radio", { name: /Cloud API/ }).check();
  const form = page.getByRole("form", { name: "Connect a Cloud API channel" });
  await form.getByLabel("Channel name").fill(channel.name);
  await form.getByLabel("Phone number ID", { exact: true }).fill(channel.phoneNumberId);
  await form.getByLabel("WhatsApp Business Account ID").fill(channel.wabaId);
  await form.getByLabel("Display number").fill(channel.displayNumber);
  await form.getByLabel("Access token").fill(channel.token);
  await form.getByRole("button", { name: "Connect channel" }).click();
  await page.waitForURL(new RegExp(`/t/${slug}/channels/(?!new$)[a-z0-9]+$`));
}
