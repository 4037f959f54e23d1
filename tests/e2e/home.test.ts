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
  expect(await page.getByTestId("backend-version").textContent()).toBe("0.1.0");
  // The heartbeat cron runs when the server starts; its first run shows up live too.
  await page.getByTestId("heartbeat-runs").waitFor();
  const runs = Number(await page.getByTestId("heartbeat-runs").textContent());

  let navigations = 0;
  page.on("framenavigated", () => navigations++);
  const admin = adminClient({ url: stack.convexUrl, adminKey: stack.adminKey! });
  for (const expected of [runs + 1, runs + 2]) {
    await admin.mutation(internal.system.heartbeat as never, {});
    await page
      .getByTestId("heartbeat-runs")
      .filter({ hasText: new RegExp(`^${expected}$`) })
      .waitFor({ timeout: 5_000 });
  }
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
