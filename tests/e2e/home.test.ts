import { afterAll, beforeAll, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { internal } from "../../convex/_generated/api";
import { adminClient } from "../local/harness";
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

it("shows a mutation made by another client on the home page without a reload", async () => {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(stack.webUrl);
  const card = page.getByRole("region", { name: "System status" });
  await card.getByText("Live").waitFor();
  await page.getByTestId("heartbeat-empty").waitFor();
  expect(await page.getByTestId("backend-version").textContent()).toBe("0.1.0");

  let navigations = 0;
  page.on("framenavigated", () => navigations++);
  await adminClient({ url: stack.convexUrl, adminKey: stack.adminKey! }).mutation(
    internal.system.heartbeat as never,
    {},
  );
  await page.getByTestId("heartbeat-runs").filter({ hasText: /^1$/ }).waitFor({ timeout: 5_000 });

  await adminClient({ url: stack.convexUrl, adminKey: stack.adminKey! }).mutation(
    internal.system.heartbeat as never,
    {},
  );
  await page.getByTestId("heartbeat-runs").filter({ hasText: /^2$/ }).waitFor({ timeout: 5_000 });
  expect(navigations).toBe(0);
  expect(errors).toEqual([]);
});

it("reports the health of the web app and of Convex", async () => {
  const web = await fetch(`${stack.webUrl}/healthz`);
  expect(web.status).toBe(200);
  expect((await web.json()).checks.convex.status).toBe("ok");
  const convex = await fetch(`${stack.convexSiteUrl}/health`);
  expect(convex.status).toBe(200);
  expect((await convex.json()).checks.database.status).toBe("ok");
});
