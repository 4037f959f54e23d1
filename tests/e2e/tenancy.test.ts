// Tenancy in a real browser against the production build and the local Convex server: Ana signs
// in, creates a workspace and invites Bob as an agent; the invitation email waits in the outbox
// (the embedded default has no email provider), where Ana reads the link. Bob opens it, signs in,
// verifies his email (local accounts start unverified), accepts, lands in the workspace as an
// agent, and is refused the settings page. Links that did not work count against him in Convex:
// a few before his own do not stop him; past the limit he is refused with a time to try again.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { ConvexHttpClient } from "convex/browser";
import { api } from "../../convex/_generated/api";
import { CONVEX_RATE_LIMITS } from "../../convex/model/rateLimits";
import { dumpOnFailure, signIn } from "./helpers";
import { launchChromium, startTestStack, verifyEmail } from "./stack";

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

async function signOut(page: Page): Promise<void> {
  const banner = page.getByRole("banner");
  await banner.getByRole("button", { name: /^Account menu for/ }).click();
  await banner.getByRole("button", { name: "Sign out" }).click();
  await banner.getByRole("link", { name: "Sign in" }).waitFor();
}

/** A Convex client signed in as the browser context's user, with a token from /auth/token. */
async function convexAs(context: BrowserContext): Promise<ConvexHttpClient> {
  const session = (await context.cookies(stack.webUrl)).find((c) => c.name === "switchboard_session");
  const response = await fetch(`${stack.webUrl}/auth/token`, {
    headers: { cookie: `${session!.name}=${session!.value}` },
  });
  const { token } = (await response.json()) as { token: string };
  const convex = new ConvexHttpClient(stack.convexUrl);
  convex.setAuth(token);
  return convex;
}

it("invites Bob as an agent by email; he accepts, joins as an agent and cannot open the settings", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  dumpOnFailure(stack, page);
  const workspaceNav = page.getByRole("navigation", { name: "Workspace" });
  const yourRole = page.getByRole("main").getByRole("group", { name: "Your role" });

  // Ana: the signed-in home sends her to sign in and back, then (no workspace yet) to onboarding.
  await page.goto(`${stack.webUrl}/app`);
  await page.waitForURL(/\/sign-in\?redirectTo=%2Fapp$/);
  await signIn(page, "ana@example.com", "Ana Almeida");
  await page.waitForURL(/\/onboarding$/);
  await page.getByRole("heading", { name: "Create your workspace" }).waitFor();

  // A name that is too short is refused inline, on the field, by the backend's rule.
  await page.getByLabel("Workspace name").fill("A");
  await page.getByRole("button", { name: "Create workspace" }).click();
  await page.getByText("Name must be 2 to 80 characters").waitFor();
  expect(await page.getByLabel("Workspace name").getAttribute("aria-invalid")).toBe("true");

  await page.getByLabel("Workspace name").fill("Ana's Bakery");
  await page.getByLabel("Currency").selectOption("EUR");
  await page.getByLabel("Time zone").selectOption("Europe/Madrid");
  await page.getByLabel("Default country").selectOption("ES");
  await page.getByRole("button", { name: "Create workspace" }).click();
  await page.waitForURL(/\/t\/ana-s-bakery$/);
  await page.getByRole("heading", { level: 1, name: "Ana's Bakery" }).waitFor();
  await yourRole.getByText("Owner", { exact: true }).waitFor();
  await page.getByRole("group", { name: "Currency" }).getByText("EUR", { exact: true }).waitFor();

  // Invite Bob as an agent; the invitation is listed as pending and, once the job ran, sent.
  await workspaceNav.getByRole("link", { name: "Members" }).click();
  await page.getByRole("heading", { level: 1, name: "Members" }).waitFor();
  await page.getByLabel("Email address").fill("bob@example.com");
  await page.getByLabel("Role", { exact: true }).selectOption("agent");
  await page.getByRole("button", { name: "Send invitation" }).click();
  await page.getByRole("status").filter({ hasText: "Invitation sent to bob@example.com" }).waitFor();
  const invitation = page
    .getByRole("table", { name: "Pending invitations" })
    .getByRole("row", { name: /bob@example\.com/ });
  await invitation.getByText("Agent", { exact: true }).waitFor();
  await invitation.getByText("Sent", { exact: true }).waitFor();

  // The email is in the outbox; opening it shows the body with the invitation link.
  await workspaceNav.getByRole("link", { name: "Outbox" }).click();
  const email = page
    .getByRole("table", { name: "Email sent from Ana's Bakery" })
    .getByRole("row", { name: /bob@example\.com/ });
  await email.getByRole("button", { name: /invited you to Ana's Bakery/ }).click();
  const body = page.getByRole("region", { name: /^Body of/ });
  const link = body.getByRole("link", { name: /\/invitations\// });
  const href = await link.getAttribute("href");
  expect(href).toMatch(/^https?:\/\/[^/]+\/invitations\/[A-Za-z0-9_-]{20,}$/);
  const invitationPath = new URL(href!).pathname;

  // The invitation is in the audit log, live, with its before → after.
  await workspaceNav.getByRole("link", { name: "Audit log" }).click();
  const events = page.getByRole("list", { name: "Audit events, newest first" });
  const invited = events.getByRole("listitem").filter({ hasText: "Invited bob@example.com as agent" });
  await invited.getByText("Invitation sent").waitFor();
  await invited.getByText("ana@example.com").waitFor();
  await invited.getByText("agent", { exact: true }).waitFor();
  await events.getByText("Workspace created").waitFor();

  // The last owner cannot leave: the confirmation says why and nothing happens.
  await workspaceNav.getByRole("link", { name: "Members" }).click();
  await page.getByRole("button", { name: "Leave workspace" }).click();
  const leave = page.getByRole("dialog", { name: "Leave Ana's Bakery?" });
  await leave.getByRole("button", { name: "Leave workspace" }).click();
  await leave.getByRole("alert").getByText("You are the last owner").waitFor();
  await leave.getByRole("button", { name: "Cancel" }).click();
  await leave.waitFor({ state: "hidden" });

  await signOut(page);

  // Bob opens the link: sign-in first, then straight back to the invitation.
  await page.goto(`${stack.webUrl}${invitationPath}`);
  await page.waitForURL(/\/sign-in\?redirectTo=%2Finvitations%2F/);
  await signIn(page, "bob@example.com", "Bob Baker");
  await page.waitForURL(`${stack.webUrl}${invitationPath}`);
  await page.getByRole("heading", { name: "Join Ana's Bakery" }).waitFor();
  await page.getByText("Ana Almeida invited you to join Ana's Bakery on Switchboard as an agent.").waitFor();
  await page.getByText(/^Expires in 6 days|^Expires in 7 days/).waitFor();

  // His new local account is not verified: he may not answer until he proves the address.
  await page.getByText("Your email address is not verified yet.").waitFor();
  expect(await page.getByRole("button", { name: "Accept invitation" }).isDisabled()).toBe(true);
  await verifyEmail(page, stack, "bob@example.com");
  await page.goto(`${stack.webUrl}${invitationPath}`);
  await page.getByRole("heading", { name: "Join Ana's Bakery" }).waitFor();
  expect(await page.getByText("Your email address is not verified yet.").count()).toBe(0);
  // Links that did not work, tried straight against Convex, count against Bob, but one short of
  // the limit do not stop him answering his own.
  const bob = await convexAs(context);
  const misses = CONVEX_RATE_LIMITS.invitationMisses.capacity;
  for (let i = 0; i < misses - 1; i++) {
    expect(await bob.mutation(api.invitations.accept, { token: `not-a-link-${i}` })).toMatchObject({
      ok: false,
      code: "NOT_FOUND",
    });
  }
  await page.getByRole("button", { name: "Accept invitation" }).click();

  // He lands in the workspace as an agent: no admin pages in the navigation.
  await page.waitForURL(/\/t\/ana-s-bakery$/);
  await page.getByRole("heading", { level: 1, name: "Ana's Bakery" }).waitFor();
  await yourRole.getByText("Agent", { exact: true }).waitFor();
  await workspaceNav.getByRole("link", { name: "Members" }).waitFor();
  expect(await workspaceNav.getByRole("link", { name: "Settings" }).count()).toBe(0);
  expect(await workspaceNav.getByRole("link", { name: "Audit log" }).count()).toBe(0);

  // Typing the settings address is refused with an explanation, and no form is shown.
  await page.goto(`${stack.webUrl}/t/ana-s-bakery/settings`);
  const refusal = page.getByRole("alert").filter({ has: page.getByRole("heading", { name: "Not allowed" }) });
  await refusal.waitFor();
  expect(await refusal.textContent()).toContain("You need the admin role to change settings");
  expect(await page.getByLabel("Workspace name").count()).toBe(0);

  // The used link now says so instead of offering to accept again.
  await page.goto(`${stack.webUrl}${invitationPath}`);
  await page.getByRole("heading", { name: "You are a member of Ana's Bakery" }).waitFor();
  expect(await page.getByRole("button", { name: "Accept invitation" }).count()).toBe(0);

  // His success took nothing from the count: one more miss is answered, then he is refused,
  // with when to try again, whatever the link.
  await expect(bob.mutation(api.invitations.decline, { token: "not-a-link" })).resolves.toMatchObject({
    code: "NOT_FOUND",
  });
  const refused = await bob.mutation(api.invitations.accept, { token: invitationPath.split("/").pop()! });
  expect(refused).toMatchObject({
    ok: false,
    code: "RATE_LIMITED",
    message: "Too many invitation links that did not work. Try again in 6 minutes.",
  });

  expect(pageErrors).toEqual([]);
  await context.close();
});
