// Local sign-in in a real browser against the production build and the local Convex server:
// sign in through the form, see yourself in the account menu, stay signed in across a reload,
// have Convex accept the browser's token, and sign out. Clerk must not be loaded at all.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { ConvexHttpClient } from "convex/browser";
import { api } from "../../convex/_generated/api";
import { launchChromium, startTestStack } from "./stack";

let stack: Awaited<ReturnType<typeof startTestStack>>;
let browser: Browser;

beforeAll(async () => {
  stack = await startTestStack();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

async function waitForLog(pattern: RegExp, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!stack.logs.some((line) => pattern.test(line))) {
    if (Date.now() > deadline) throw new Error(`no log line matched ${pattern}:\n${stack.logs.join("\n")}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

it("signs in through the form, stays signed in across a reload, and signs out", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];
  const requested: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  page.on("request", (r) => requested.push(r.url()));
  const banner = page.getByRole("banner");

  const home = await page.goto(`${stack.webUrl}/`);
  await page.getByRole("region", { name: "System status" }).getByText("Live").waitFor();
  // Security headers: scripts only with this response's nonce, no framing, no sniffing.
  const headers = home!.headers();
  const nonce = /'nonce-([^']+)'/.exec(headers["content-security-policy"] ?? "")?.[1];
  expect(nonce).toBeTruthy();
  expect(headers["content-security-policy"]).toContain("frame-ancestors 'none'");
  expect(headers["content-security-policy"]).toContain(`ws://${new URL(stack.convexUrl).host}`);
  expect(headers).toMatchObject({
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
  });
  // Every inline script carries it (the browser hides the attribute's value from the DOM).
  expect(
    await page.evaluate(() =>
      [...document.querySelectorAll("script:not([src])")].every((s) => (s as HTMLScriptElement).nonce !== ""),
    ),
  ).toBe(true);
  // The production build runs local sign-in only by explicit opt-in, and every page says so.
  await page.getByRole("note", { name: "Local sign-in is active" }).waitFor();
  await banner.getByRole("link", { name: "Sign in" }).click();
  await page.waitForURL(/\/sign-in$/);

  // An empty submission: inline errors, and focus on the first field with a problem.
  const email = page.getByLabel("Email");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText("Enter your email address").waitFor();
  await page.getByText("Enter your name").waitFor();
  expect(await email.getAttribute("aria-invalid")).toBe("true");
  expect(await page.evaluate(() => document.activeElement?.id)).toBe("sign-in-email");

  await email.fill("Ada@Example.com");
  await page.getByLabel("Name").fill("Ada Lovelace");
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Sign in" }).click();
  // Without a destination, signing in leads to the workspace, or to creating one.
  await page.waitForURL(`${stack.webUrl}/onboarding`);
  const menu = banner.getByRole("button", { name: "Account menu for Ada Lovelace" });
  await menu.waitFor();
  await page.goto(`${stack.webUrl}/`);

  // The browser's Convex client authenticates with a token from /auth/token, which the local
  // Convex server verifies against the app's JWKS (the web server logs that fetch).
  await waitForLog(/GET \/\.well-known\/jwks\.json 200/);
  await page.getByRole("region", { name: "System status" }).getByText("Live").waitFor();

  // The session cookie is httpOnly, and it is what the server hands tokens for.
  expect(await page.evaluate(() => document.cookie)).not.toContain("switchboard_session");
  const cookies = await context.cookies(stack.webUrl);
  const session = cookies.find((c) => c.name === "switchboard_session");
  expect(session).toMatchObject({ httpOnly: true, sameSite: "Lax" });
  const tokenResponse = await fetch(`${stack.webUrl}/auth/token`, {
    headers: { cookie: `${session!.name}=${session!.value}` },
  });
  const { token } = (await tokenResponse.json()) as { token: string };
  const convex = new ConvexHttpClient(stack.convexUrl);
  convex.setAuth(token);
  await expect(convex.query(api.system.status, {})).resolves.toMatchObject({ version: "0.1.0" });

  // A reload keeps the session.
  await page.reload();
  await menu.waitFor();

  // The account menu opens from the keyboard, shows who is signed in, closes on Escape (focus
  // back on its button), and signs out.
  const signOut = banner.getByRole("button", { name: "Sign out" });
  expect(await signOut.isVisible()).toBe(false);
  expect(await menu.getAttribute("aria-expanded")).toBe("false");
  await menu.focus();
  await page.keyboard.press("Enter");
  await banner.getByText("ada@example.com").waitFor();
  expect(await menu.getAttribute("aria-expanded")).toBe("true");
  await page.keyboard.press("Escape");
  await signOut.waitFor({ state: "hidden" });
  expect(await menu.evaluate((el) => el === document.activeElement)).toBe(true);
  await page.keyboard.press("Enter");
  await signOut.click();
  await banner.getByRole("link", { name: "Sign in" }).waitFor();
  expect(await menu.count()).toBe(0);
  await page.reload();
  await banner.getByRole("link", { name: "Sign in" }).waitFor();
  expect((await fetch(`${stack.webUrl}/auth/token`, { headers: { cookie: "" } })).status).toBe(401);

  // Signing in again needs the password the account was created with.
  await banner.getByRole("link", { name: "Sign in" }).click();
  await page.waitForURL(/\/sign-in/);
  await email.fill("ada@example.com");
  await page.getByLabel("Name").fill("Ada Lovelace");
  await page.getByLabel("Password").fill("wrong password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText("That password is not right for this account").waitFor();
  expect(await page.evaluate(() => document.activeElement?.id)).toBe("sign-in-password");

  expect(requested.filter((url) => /clerk/i.test(url))).toEqual([]);
  expect(consoleErrors.filter((text) => /authenticat/i.test(text))).toEqual([]);
  expect(consoleErrors.filter((text) => /Content Security Policy/i.test(text))).toEqual([]);
  expect(pageErrors).toEqual([]);
  await context.close();
});

it("sends an anonymous visitor of a protected path through sign-in and back", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${stack.webUrl}/sign-in?redirectTo=${encodeURIComponent("/healthz")}`);
  await page.getByLabel("Email").fill("grace@example.com");
  await page.getByLabel("Name").fill("Grace Hopper");
  await page.getByLabel("Password").fill("grace hopper password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${stack.webUrl}/healthz`);
  // An open redirect is refused: the signed-in visitor lands in the app instead.
  await page.goto(`${stack.webUrl}/sign-in?redirectTo=${encodeURIComponent("//example.com/")}`);
  await page.waitForURL(`${stack.webUrl}/onboarding`);
  await context.close();
});
