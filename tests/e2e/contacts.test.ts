// Contacts in a real browser against the production build. Iris imports a messy CSV whose phone
// column was not recognised: the mapping preview says no column holds the numbers, she picks it
// in the column's dropdown, the import runs and reports the rows it could not read by row number
// and reason (downloadable). She filters the list by a tag, saves it as a segment, and its count
// follows a change made in another tab without a reload. Exports are CSV with a byte-order mark.
import { mkdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { createWorkspace, dumpOnFailure, signIn } from "./helpers";
import { launchChromium, startTestStack } from "./stack";

let stack: Awaited<ReturnType<typeof startTestStack>>;
let browser: Browser;
let context: BrowserContext;
let iris: Page;
const pages: Page[] = [];

const SLUG = "iris-imports";
const BOM = [0xef, 0xbb, 0xbf];

/** With SCREENSHOT_DIR set, each step's page is saved there (full page) for a look. */
async function shot(page: Page, name: string) {
  const dir = process.env.SCREENSHOT_DIR;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `contacts-${name}.png`), fullPage: true });
}

// Semicolons, CRLF, a quoted cell with the delimiter, a header "Reach me at" nobody would guess
// holds the numbers, an invalid number (row 4), a missing one (row 5) and a repeat (row 7).
const CSV = [
  "Customer;Reach me at;Labels;City",
  "Ana Pérez;+34 612 345 678;vip, madrid;Madrid",
  "Bob Stone;+44 7911 123456;lead;London",
  "Carla Diaz;call me maybe;lead;Sevilla",
  "Dan Brown;;vip;Bilbao",
  '"Eve, the second";+49 1512 3456789;vip;Berlin',
  "Ana P.;0034612345678;vip;Madrid",
].join("\r\n");

beforeAll(async () => {
  stack = await startTestStack();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

it("imports a CSV after the phone column is picked by hand, and reports the rows it could not read", async () => {
  context = await browser.newContext({ acceptDownloads: true });
  iris = await context.newPage();
  pages.push(iris);
  dumpOnFailure(stack, pages);
  await signIn(iris, "iris@imports.example", "Iris Importer", { webUrl: stack.webUrl, redirectTo: "/app" });
  await createWorkspace(iris, "Iris Imports", SLUG);

  await iris.goto(`${stack.webUrl}/t/${SLUG}/contacts`);
  await iris.getByRole("heading", { name: "No contacts yet" }).waitFor();
  await iris.getByRole("link", { name: "Import a CSV" }).click();
  await iris.getByRole("heading", { level: 1, name: "Import contacts" }).waitFor();
  await iris.getByLabel("CSV file").setInputFiles({
    name: "customers.csv",
    mimeType: "text/csv",
    buffer: Buffer.from(CSV, "utf8"),
  });
  await iris.getByRole("button", { name: "Upload and preview" }).click();

  // The preview: columns guessed from the headers, the numbers' column not among them.
  const mapping = iris.getByRole("table", { name: "Column mapping" });
  await mapping.waitFor();
  await expect.poll(() => iris.getByTestId("import-status").textContent()).toBe("Check the columns");
  await iris.getByText("utf-8, “;”-separated · 6 rows").waitFor();
  expect(await iris.getByLabel("Column “Customer”").inputValue()).toBe("name");
  expect(await iris.getByLabel("Column “Labels”").inputValue()).toBe("tags");
  expect(await iris.getByLabel("Column “Reach me at”").inputValue()).toBe("field");
  await iris.getByText("No column is marked “Phone number”").waitFor();
  const start = iris.getByRole("button", { name: "Import 6 rows" });
  expect(await start.isDisabled()).toBe(true);
  await shot(iris, "mapping");

  await iris.getByLabel("Column “Reach me at”").selectOption({ label: "Phone number" });
  await iris.getByText("No column is marked “Phone number”").waitFor({ state: "detached" });
  await start.click();

  // The result: 3 new contacts (Ana, Bob, Eve), Ana's repeat merged, rows 4 and 5 refused.
  const summary = iris.getByTestId("import-summary");
  await summary.waitFor({ timeout: 60_000 });
  expect(await summary.innerText()).toMatch(
    /New contacts\s+3\s+Merged with existing\s+0\s+Repeats in the file\s+1\s+Rows with errors\s+2/,
  );
  const report = iris.getByRole("table", { name: "Rows not imported" });
  const cells = await report
    .locator("tbody tr")
    .evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll("td")].map((td) => td.textContent)));
  expect(cells).toEqual([
    ["4", expect.stringMatching(/“call me maybe” is not a phone number/)],
    ["5", "The phone number is missing"],
  ]);
  await shot(iris, "report");

  const [download] = await Promise.all([
    iris.waitForEvent("download"),
    iris.getByRole("button", { name: "Download the error report (CSV)" }).click(),
  ]);
  expect(download.suggestedFilename()).toBe("customers-errors.csv");
  const bytes = await readFile((await download.path())!);
  expect([...bytes.subarray(0, 3)]).toEqual(BOM);
  const lines = bytes.subarray(3).toString("utf8").trim().split(/\r?\n/);
  expect(lines[0]).toBe("Row,Reason");
  expect(lines.slice(1).map((l) => l.split(",")[0])).toEqual(["4", "5"]);
});

it("filters by tag, saves a segment whose count follows changes live, and exports it with a BOM", async () => {
  dumpOnFailure(stack, pages);
  await iris.goto(`${stack.webUrl}/t/${SLUG}/contacts`);
  const count = iris.getByText(/^All contacts: /);
  await expect.poll(() => count.textContent()).toBe("All contacts: 3 contacts");
  await iris.getByRole("list", { name: "Tags" }).getByRole("button", { name: /^vip/ }).click();
  await expect.poll(() => iris.getByText(/^Tag vip: /).textContent()).toBe("Tag vip: 2 contacts");
  expect(iris.url()).toContain("tag=vip");
  const names = () =>
    iris.getByRole("table", { name: "Contacts" }).locator("tbody tr td:first-child a").allTextContents();
  expect((await names()).sort()).toEqual(["Ana Pérez", "Eve, the second"]);

  await iris.getByLabel("Segment name").fill("VIPs");
  await iris.getByRole("button", { name: "Save as segment" }).click();
  await iris.getByText("Saved the segment “VIPs”").waitFor();
  const segment = iris.locator('[data-segment="VIPs"]');
  await expect.poll(() => segment.getByTestId("segment-count").textContent()).toBe("2");
  await shot(iris, "segment");

  // In another tab, Bob gets the tag; the segment's count on this page follows without a reload.
  const other = await context.newPage();
  pages.push(other);
  await other.goto(`${stack.webUrl}/t/${SLUG}/contacts?q=Bob`);
  await other.getByRole("link", { name: "Bob Stone" }).click();
  await other.getByLabel("Tags (separated by commas)").fill("lead, vip");
  await other.getByRole("button", { name: "Save changes" }).click();
  await other.getByText("Saved", { exact: true }).waitFor();
  await expect.poll(() => segment.getByTestId("segment-count").textContent(), { timeout: 10_000 }).toBe("3");

  // A typed custom field: the owner adds a date field, and Bob's page offers a date input for it.
  const fieldForm = other.getByRole("form", { name: "Add a custom field" });
  await fieldForm.getByLabel("Field name").fill("Birthday");
  await fieldForm.getByLabel("Type").selectOption("date");
  await fieldForm.getByRole("button", { name: "Add field" }).click();
  await fieldForm.getByText(/Added the field “Birthday” \(date\)/).waitFor();
  const birthday = other.getByLabel(/^birthday/i);
  expect(await birthday.getAttribute("type")).toBe("date");
  await birthday.fill("1990-04-12");
  await other.getByRole("button", { name: "Save changes" }).click();
  await other.getByText("Saved", { exact: true }).waitFor();
  await other.reload();
  await expect.poll(() => other.getByLabel(/^birthday/i).inputValue()).toBe("1990-04-12");

  const [download] = await Promise.all([
    iris.waitForEvent("download"),
    segment.getByRole("link", { name: "Export" }).click(),
  ]);
  const bytes = await readFile((await download.path())!);
  expect([...bytes.subarray(0, 3)]).toEqual(BOM);
  const text = bytes.subarray(3).toString("utf8");
  expect(text).toContain("Ana Pérez");
  expect(text).toContain('"Eve, the second"');
  expect(text).toContain("Bob Stone");
  expect(text.trim().split(/\r?\n/)).toHaveLength(4); // a header and three contacts
});
