// Export and erasure in a real browser against the production build. Paula imports two
// customers, downloads one customer's data as JSON, then erases that customer on their request:
// the dialog will not act until she types the name, the page follows the erasure's progress to
// the end, the customer is gone from the list and the audit log says "contact erased" under a
// reference, without the name; the log downloads as CSV.
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { createWorkspace, dumpOnFailure, signIn } from "./helpers";
import { launchChromium, startTestStack } from "./stack";

let stack: Awaited<ReturnType<typeof startTestStack>>;
let browser: Browser;
const pages: Page[] = [];

const SLUG = "paula-privacy";
const CSV = ["Name,Phone", "Zoe Erasable,+34 612 000 111", "Yves Keeper,+34 612 000 222"].join("\n");

beforeAll(async () => {
  stack = await startTestStack();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

it("exports a contact, then erases it after a typed confirmation, following the progress", async () => {
  const context = await browser.newContext({ acceptDownloads: true });
  const paula = await context.newPage();
  pages.push(paula);
  dumpOnFailure(stack, pages);
  await signIn(paula, "paula@privacy.example", "Paula Privacy", { webUrl: stack.webUrl, redirectTo: "/app" });
  await createWorkspace(paula, "Paula Privacy", SLUG);

  await paula.goto(`${stack.webUrl}/t/${SLUG}/contacts/import`);
  await paula.getByLabel("CSV file").setInputFiles({
    name: "customers.csv",
    mimeType: "text/csv",
    buffer: Buffer.from(CSV, "utf8"),
  });
  await paula.getByRole("button", { name: "Upload and preview" }).click();
  await paula.getByRole("table", { name: "Column mapping" }).waitFor();
  await paula.getByRole("button", { name: "Import 2 rows" }).click();
  await paula.getByTestId("import-summary").waitFor({ timeout: 60_000 });

  await paula.goto(`${stack.webUrl}/t/${SLUG}/contacts?q=Zoe`);
  await paula.getByRole("link", { name: "Zoe Erasable" }).click();
  await paula.getByRole("heading", { level: 1, name: "Zoe Erasable" }).waitFor();

  // The export: made in the background, then downloaded through the app.
  await paula.getByRole("button", { name: "Export data (JSON)" }).click();
  const downloadLink = paula.getByRole("link", { name: "Download JSON" });
  await downloadLink.waitFor({ timeout: 60_000 });
  const [download] = await Promise.all([paula.waitForEvent("download"), downloadLink.click()]);
  expect(download.suggestedFilename()).toMatch(new RegExp(`^${SLUG}-contact-EXP-[0-9A-F]{10}\\.json$`));
  const exported = JSON.parse(await readFile((await download.path())!, "utf8"));
  expect(exported.contact.name).toBe("Zoe Erasable");
  expect(exported.contact.phone).toBe("+34612000111");
  expect(JSON.stringify(exported)).not.toContain("Yves");

  // The erasure: the dialog acts only once the name is typed.
  await paula.getByRole("button", { name: "Erase contact…" }).click();
  const dialog = paula.getByRole("dialog", { name: "Erase this contact?" });
  await dialog.waitFor();
  const confirm = dialog.getByRole("button", { name: "Erase contact" });
  expect(await confirm.isDisabled()).toBe(true);
  await dialog.getByLabel("Type the contact's name or number to confirm").fill("Zoe");
  expect(await confirm.isDisabled()).toBe(true);
  await dialog.getByLabel("Type the contact's name or number to confirm").fill("Zoe Erasable");
  await confirm.click();

  await paula.getByRole("heading", { level: 1, name: "Erasing a contact" }).waitFor();
  await paula.getByText("The contact was erased.").waitFor({ timeout: 60_000 });
  const bar = paula.getByRole("progressbar", { name: "Contact erasure progress" });
  expect(await bar.getAttribute("aria-valuenow")).toBe("100");
  const done = await paula.getByText(/^Erased: \d+ records deleted or redacted/).textContent();
  expect(done).toContain("On the customer's request");
  const reference = (await paula.getByText(/records it under ERA-/).textContent())!.match(
    /ERA-[0-9A-F]{10}/,
  )![0];

  // Gone from the list; the other customer stays.
  await paula.getByRole("link", { name: "Back to contacts" }).click();
  await expect
    .poll(() => paula.getByText(/^All contacts: /).textContent(), { timeout: 20_000 })
    .toBe("All contacts: 1 contact");
  await paula.getByRole("link", { name: "Yves Keeper" }).waitFor();

  // The audit log: filtered by the erasure's reference, without the person's name.
  await paula.goto(
    `${stack.webUrl}/t/${SLUG}/audit?targetType=privacyJob&targetId=${encodeURIComponent(reference)}`,
  );
  const events = paula.getByRole("list", { name: "Audit events, newest first" });
  await events.getByText("Contact erased").waitFor();
  const text = await events.innerText();
  expect(text).toContain(reference);
  expect(text).not.toContain("Zoe");
  const [csv] = await Promise.all([
    paula.waitForEvent("download"),
    paula.getByRole("link", { name: "CSV" }).click(),
  ]);
  const lines = (await readFile((await csv.path())!, "utf8"))
    .replace(/^\uFEFF/, "")
    .trim()
    .split(/\r?\n/);
  expect(lines[0]).toBe("at,workspace,actor,action,target_type,target_id,summary,before,after");
  expect(lines.slice(1).map((l) => l.split(",")[3])).toEqual(["contact.erased", "contact.erasure_started"]);
  expect(lines.join("\n")).not.toContain("Zoe");
});
