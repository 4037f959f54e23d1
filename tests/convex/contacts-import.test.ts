/**
 * CSV imports through Convex with its per-transaction limits enforced: upload, mapping preview,
 * chunked writing with progress, merges with existing contacts (opted-out ones stay opted out),
 * the row-level error report, cancelling; and the contact list, tags, segments and merges.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { expectCode, setup, twoTenants, type T } from "./factories";
import { stubWhatsAppEnv, world } from "./whatsapp-helpers";

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2026-03-02T10:00:00Z"));
  vi.stubEnv("APP_URL", "http://app.test");
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

const utf8 = (text: string) => new TextEncoder().encode(text);

async function upload(t: T, bytes: Uint8Array): Promise<Id<"_storage">> {
  return await t.run(async (ctx) => await ctx.storage.store(new Blob([bytes as Uint8Array<ArrayBuffer>])));
}

/** A Spanish list of `n` contacts (semicolons, Latin-1-free), every 50th row broken. */
function bigList(n: number): { csv: string; broken: number[] } {
  const lines = ["Nombre;Apellidos;Móvil;Etiquetas;Ciudad"];
  const broken: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 50 === 49) {
      lines.push(`Roto;${i};12${i};;`);
      broken.push(i + 2);
    } else {
      lines.push(
        `Cliente;${i};6${String(10_000_000 + i).padStart(8, "0")};${i % 2 ? "vip" : "nuevo"};Madrid`,
      );
    }
  }
  return { csv: lines.join("\r\n"), broken };
}

/** Runs the scheduled functions due now, once. */
async function step(t: T) {
  vi.runOnlyPendingTimers();
  await t.finishInProgressScheduledFunctions();
}

async function runImport(
  t: T,
  client: ReturnType<ReturnType<typeof setup>["as"]>,
  tenantId: Id<"tenants">,
  csv: string,
) {
  const storageId = await upload(t, utf8(csv));
  const importId = await client.mutation(api.contactImports.create, {
    tenantId,
    storageId,
    fileName: "list.csv",
  });
  await t.finishAllScheduledFunctions(vi.runAllTimers);
  return importId;
}

describe("importing a CSV", () => {
  // 2,500 rows: convex-test scans a table for every index lookup, so time grows with the square
  // of the rows; the 100,000-row import runs on the local server (tests/bench/contacts.ts).
  it("previews the mapping, imports 2,500 rows in chunks within limits, and reports row errors", async () => {
    const { t, as } = setup({ transactionLimits: true });
    const w = await twoTenants(t, as);
    const admin = w.adminA.client;
    const { csv, broken } = bigList(2_500);
    const importId = await runImport(t, admin, w.tenantA, csv);

    const preview = await admin.query(api.contactImports.get, { tenantId: w.tenantA, importId });
    expect(preview.status).toBe("mapping");
    expect(preview.delimiter).toBe(";");
    expect(preview.headers).toEqual(["Nombre", "Apellidos", "Móvil", "Etiquetas", "Ciudad"]);
    expect(preview.columns).toEqual(["first_name", "last_name", "phone", "tags", "field"]);
    expect(preview.sample).toHaveLength(5);
    expect(preview.totalRows).toBe(2_500);

    await admin.mutation(api.contactImports.start, {
      tenantId: w.tenantA,
      importId,
      columns: preview.columns,
    });
    // Progress is visible between chunks.
    await step(t); // prepare
    await step(t); // first chunk
    const midway = await admin.query(api.contactImports.get, { tenantId: w.tenantA, importId });
    expect(midway.status).toBe("importing");
    expect(midway.contactsDone).toBeGreaterThan(0);
    expect(midway.contactsDone).toBeLessThan(midway.contactsTotal!);

    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const done = await admin.query(api.contactImports.get, { tenantId: w.tenantA, importId });
    expect(done).toMatchObject({
      status: "done",
      contactsTotal: 2_500 - broken.length,
      contactsDone: 2_500 - broken.length,
      created: 2_500 - broken.length,
      merged: 0,
      errorCount: broken.length,
    });
    const errors = await admin.query(api.contactImports.errors, {
      tenantId: w.tenantA,
      importId,
      paginationOpts: { numItems: 1000, cursor: null },
    });
    expect(errors.page.map((e) => e.row)).toEqual(broken);
    expect(errors.page[0].reason).toMatch(/not a valid phone number|too short/);

    const tags = await admin.query(api.contacts.tags, { tenantId: w.tenantA });
    expect(tags).toEqual([
      { tag: "nuevo", label: "nuevo", count: 1_250 },
      { tag: "vip", label: "vip", count: 1_200 },
    ]);
    const vipCount = await w.viewerA.client.query(api.contacts.count, {
      tenantId: w.tenantA,
      filter: { tag: "VIP" },
    });
    expect(vipCount).toEqual({ count: 1_200, capped: false });
    const fields = await admin.query(api.contacts.fields, { tenantId: w.tenantA });
    expect(fields).toEqual([{ key: "Ciudad", type: "text" }]);
    // Nothing reached tenant B.
    const inB = await w.ownerB.client.query(api.contacts.list, {
      tenantId: w.tenantB,
      filter: {},
      paginationOpts: { numItems: 10, cursor: null },
    });
    expect(inB.page).toEqual([]);
  }, 120_000);

  it("tags every contact of the file with the tag given at the start (a campaign's uploaded list)", async () => {
    const { t, as } = setup({ transactionLimits: true });
    const w = await twoTenants(t, as);
    const admin = w.adminA.client;
    const first = await runImport(t, admin, w.tenantA, "Name,Phone\nAna,612345678\n");
    await admin.mutation(api.contactImports.start, {
      tenantId: w.tenantA,
      importId: first,
      columns: ["name", "phone"],
    });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const list = await runImport(t, admin, w.tenantA, "Name,Phone,Tags\nAna,612345678,\nBea,612345679,vip\n");
    await expectCode(
      admin.mutation(api.contactImports.start, {
        tenantId: w.tenantA,
        importId: list,
        columns: ["name", "phone", "tags"],
        tag: "  ",
      }),
      "INVALID",
      "tag",
    );
    await admin.mutation(api.contactImports.start, {
      tenantId: w.tenantA,
      importId: list,
      columns: ["name", "phone", "tags"],
      tag: "Fair list 2026-03-02 10:00",
    });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const tagged = await admin.query(api.contacts.list, {
      tenantId: w.tenantA,
      filter: { tag: "fair list 2026-03-02 10:00" },
      paginationOpts: { numItems: 10, cursor: null },
    });
    // The contact already known (merged) and the new one both carry it; nobody else does.
    expect(tagged.page.map((c) => c.name).sort()).toEqual(["Ana", "Bea"]);
    expect(tagged.page.find((c) => c.name === "Bea")?.tags).toEqual(["Fair list 2026-03-02 10:00", "vip"]);
    const all = await admin.query(api.contacts.count, { tenantId: w.tenantA, filter: {} });
    expect(all.count).toBe(2);
  });

  it("merges with existing contacts by phone, keeps opted-out contacts opted out, and merges repeats in the file", async () => {
    const { t, as } = setup({ transactionLimits: true });
    const w = await twoTenants(t, as);
    const admin = w.adminA.client;
    const first = await runImport(t, admin, w.tenantA, "Name,Phone,Tags\nAna,612345678,old\n,612345679,\n");
    await admin.mutation(api.contactImports.start, {
      tenantId: w.tenantA,
      importId: first,
      columns: ["name", "phone", "tags"],
    });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const list = await admin.query(api.contacts.list, {
      tenantId: w.tenantA,
      filter: { search: "Ana" },
      paginationOpts: { numItems: 10, cursor: null },
    });
    const ana = list.page[0];
    expect(ana).toMatchObject({ name: "Ana", phone: "+34612345678", tags: ["old"] });
    await w.agentA.client.mutation(api.contacts.setConsent, {
      tenantId: w.tenantA,
      contactId: ana.contactId,
      kind: "opt_out",
    });

    const second = await runImport(
      t,
      admin,
      w.tenantA,
      "Name,Phone,Tags,Company\nAna Other,+34 612 345 678,new,Acme\nBea,612345679,,\nBea again,0034612345679,x,\nCid,612345670,,\n",
    );
    await admin.mutation(api.contactImports.start, {
      tenantId: w.tenantA,
      importId: second,
      columns: ["name", "phone", "tags", "field"],
    });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const result = await admin.query(api.contactImports.get, { tenantId: w.tenantA, importId: second });
    expect(result).toMatchObject({
      status: "done",
      created: 1,
      merged: 2,
      duplicatesInFile: 1,
      errorCount: 0,
    });

    const detail = await admin.query(api.contacts.get, { tenantId: w.tenantA, contactId: ana.contactId });
    expect(detail).toMatchObject({
      name: "Ana", // an existing name is kept
      optedOut: true,
      tags: ["old", "new"],
      fields: [{ key: "Company", value: "Acme" }],
      aliases: [{ kind: "phone", value: "+34612345678" }],
    });
    const bea = await admin.query(api.contacts.list, {
      tenantId: w.tenantA,
      filter: { search: "612345679" },
      paginationOpts: { numItems: 10, cursor: null },
    });
    expect(bea.page).toHaveLength(1);
    expect(bea.page[0]).toMatchObject({ name: "Bea", tags: ["x"] }); // a missing name is filled
  });

  it("can be cancelled: writing stops before the next chunk and the rest is cleaned up", async () => {
    const { t, as } = setup({ transactionLimits: true });
    const w = await twoTenants(t, as);
    const admin = w.adminA.client;
    const importId = await runImport(t, admin, w.tenantA, bigList(1_000).csv);
    await admin.mutation(api.contactImports.start, {
      tenantId: w.tenantA,
      importId,
      columns: ["first_name", "last_name", "phone", "tags", "field"],
    });
    await step(t); // prepare
    await step(t); // first chunk
    await admin.mutation(api.contactImports.cancel, { tenantId: w.tenantA, importId });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const row = await admin.query(api.contactImports.get, { tenantId: w.tenantA, importId });
    expect(row.status).toBe("cancelled");
    expect(row.contactsDone).toBe(100);
    const left = await t.run(async (ctx) => (await ctx.db.query("contactImportChunks").collect()).length);
    expect(left).toBe(0);
    const contacts = await t.run(async (ctx) => (await ctx.db.query("contacts").collect()).length);
    expect(contacts).toBe(100);
    // A finished or cancelled import cannot be started again.
    await expectCode(
      admin.mutation(api.contactImports.start, { tenantId: w.tenantA, importId, columns: row.columns }),
      "CONFLICT",
    );
  });

  it("refuses a mapping without a phone column, and explains a file that has none", async () => {
    const { t, as } = setup();
    const w = await twoTenants(t, as);
    const admin = w.adminA.client;
    const importId = await runImport(t, admin, w.tenantA, "Name,Email\nAna,ana@example.test\n");
    const preview = await admin.query(api.contactImports.get, { tenantId: w.tenantA, importId });
    expect(preview.columns).toEqual(["name", "field"]);
    await expectCode(
      admin.mutation(api.contactImports.start, { tenantId: w.tenantA, importId, columns: preview.columns }),
      "INVALID",
    );
    // Agents cannot import.
    await expectCode(
      w.agentA.client.mutation(api.contactImports.start, {
        tenantId: w.tenantA,
        importId,
        columns: ["phone", "field"],
      }),
      "FORBIDDEN",
    );
  });

  it("fails an empty file with a reason", async () => {
    const { t, as } = setup();
    const w = await twoTenants(t, as);
    const importId = await runImport(t, w.adminA.client, w.tenantA, "\r\n\r\n");
    const row = await w.adminA.client.query(api.contactImports.get, { tenantId: w.tenantA, importId });
    expect(row.status).toBe("failed");
    expect(row.failure).toMatch(/empty/);
  });
});

describe("the contact list", () => {
  async function seeded() {
    const { t, as } = setup();
    const w = await twoTenants(t, as);
    const importId = await runImport(
      t,
      w.adminA.client,
      w.tenantA,
      "Name,Phone,Tags,Plan\nAna García,612345678,vip;madrid,gold\nBea Núñez,612345679,vip,silver\nCid Roe,612345670,,gold\n",
    );
    await w.adminA.client.mutation(api.contactImports.start, {
      tenantId: w.tenantA,
      importId,
      columns: ["name", "phone", "tags", "field"],
    });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const all = await w.viewerA.client.query(api.contacts.list, {
      tenantId: w.tenantA,
      filter: {},
      paginationOpts: { numItems: 50, cursor: null },
    });
    const byName = (name: string) => all.page.find((c) => c.name === name)!.contactId;
    return { t, w, byName };
  }
  const page = { numItems: 50, cursor: null };

  it("searches by name (accents folded) and by phone digits, and filters by tag, consent and field", async () => {
    const { w } = await seeded();
    const names = async (filter: object) =>
      (
        await w.viewerA.client.query(api.contacts.list, { tenantId: w.tenantA, filter, paginationOpts: page })
      ).page
        .map((c) => c.name)
        .sort();
    expect(await names({ search: "nunez" })).toEqual(["Bea Núñez"]);
    expect(await names({ search: "+34 612 345 678" })).toEqual(["Ana García"]);
    expect(await names({ search: "61234567" })).toEqual(["Ana García", "Bea Núñez", "Cid Roe"]);
    expect(await names({ tag: "VIP" })).toEqual(["Ana García", "Bea Núñez"]);
    expect(await names({ tag: "vip", field: { key: "Plan", value: "gold" } })).toEqual(["Ana García"]);
    expect(await names({ consent: "subscribed" })).toEqual(["Ana García", "Bea Núñez", "Cid Roe"]);
    expect(await names({ lastSeen: { never: true } })).toHaveLength(3);
    expect(await names({ lastSeen: { within: 30 } })).toEqual([]);
  });

  it("saves segments with live counts that follow edits", async () => {
    const { w, byName } = await seeded();
    const segmentId = await w.agentA.client.mutation(api.contacts.saveSegment, {
      tenantId: w.tenantA,
      name: "VIPs",
      filter: { tag: "vip" },
    });
    const countOf = () =>
      w.viewerA.client.query(api.contacts.segmentCount, { tenantId: w.tenantA, segmentId });
    expect(await countOf()).toEqual({ count: 2, capped: false });
    await w.agentA.client.mutation(api.contacts.update, {
      tenantId: w.tenantA,
      contactId: byName("Cid Roe"),
      tags: ["VIP"],
    });
    expect(await countOf()).toEqual({ count: 3, capped: false });
    const combined = await w.agentA.client.mutation(api.contacts.saveSegment, {
      tenantId: w.tenantA,
      name: "Gold VIPs",
      filter: { tag: "vip", field: { key: "Plan", value: "gold" } },
    });
    expect(
      await w.viewerA.client.query(api.contacts.segmentCount, { tenantId: w.tenantA, segmentId: combined }),
    ).toEqual({
      count: 2,
      capped: false,
    });
    await expectCode(
      w.agentA.client.mutation(api.contacts.saveSegment, { tenantId: w.tenantA, name: "VIPs", filter: {} }),
      "CONFLICT",
    );
    await expectCode(
      w.viewerA.client.mutation(api.contacts.saveSegment, { tenantId: w.tenantA, name: "Mine", filter: {} }),
      "FORBIDDEN",
    );
  });

  it("edits typed fields, and merges two contacts by hand (tags, fields and consent carried)", async () => {
    const { t, w, byName } = await seeded();
    await w.adminA.client.mutation(api.contacts.defineField, {
      tenantId: w.tenantA,
      key: "Birthday",
      type: "date",
    });
    await expectCode(
      w.agentA.client.mutation(api.contacts.update, {
        tenantId: w.tenantA,
        contactId: byName("Ana García"),
        fields: [{ key: "Birthday", value: "31/02/1990" }],
      }),
      "INVALID",
    );
    await w.agentA.client.mutation(api.contacts.update, {
      tenantId: w.tenantA,
      contactId: byName("Ana García"),
      fields: [
        { key: "Plan", value: "gold" },
        { key: "Birthday", value: "28/02/1990" },
      ],
    });
    const cid = byName("Cid Roe");
    await w.agentA.client.mutation(api.contacts.setConsent, {
      tenantId: w.tenantA,
      contactId: cid,
      kind: "opt_out",
    });
    await expectCode(
      w.agentA.client.mutation(api.contacts.merge, {
        tenantId: w.tenantA,
        keepId: byName("Ana García"),
        mergeId: cid,
      }),
      "FORBIDDEN",
    );
    await w.adminA.client.mutation(api.contacts.merge, {
      tenantId: w.tenantA,
      keepId: byName("Ana García"),
      mergeId: cid,
    });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const ana = await w.viewerA.client.query(api.contacts.get, {
      tenantId: w.tenantA,
      contactId: byName("Ana García"),
    });
    expect(ana).toMatchObject({
      optedOut: true,
      tags: ["vip", "madrid"],
      fields: [
        { key: "Plan", value: "gold" },
        { key: "Birthday", value: "1990-02-28" },
      ],
    });
    expect(ana.aliases.map((a) => a.value).sort()).toEqual(["+34612345670", "+34612345678"]);
    expect(ana.consent.map((c) => c.kind)).toEqual(["opt_out"]);
    // Once its history has moved, the merged contact is gone.
    await expectCode(
      w.viewerA.client.query(api.contacts.get, { tenantId: w.tenantA, contactId: cid }),
      "NOT_FOUND",
    );
    const count = await w.viewerA.client.query(api.contacts.count, { tenantId: w.tenantA, filter: {} });
    expect(count).toEqual({ count: 2, capped: false });
  });

  it("keeps tenants apart", async () => {
    const { w, byName } = await seeded();
    await expectCode(
      w.ownerB.client.query(api.contacts.get, { tenantId: w.tenantB, contactId: byName("Ana García") }),
      "NOT_FOUND",
    );
    await expectCode(
      w.ownerB.client.mutation(api.contacts.update, {
        tenantId: w.tenantB,
        contactId: byName("Ana García"),
        name: "Stolen",
      }),
      "NOT_FOUND",
    );
  });
});

describe("contacts stored before search existed", () => {
  it("get their search text from the backfill, in batches, and are then found", async () => {
    stubWhatsAppEnv();
    const { t } = setup();
    const w = await world(t);
    await t.run(async (ctx) => {
      for (let i = 0; i < 450; i++)
        await ctx.db.insert("contacts", {
          tenantId: w.tenantId,
          name: i === 7 ? "Zoë Older" : `Old ${i}`,
          phone: `+3460055${String(i).padStart(4, "0")}`,
          createdAt: 1,
        });
    });
    const first = await t.mutation(internal.contacts.backfillSearchText, {});
    expect(first).toEqual({ updated: 200, isDone: false });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const rows = await t.run((ctx) => ctx.db.query("contacts").collect());
    expect(rows.every((c) => c.searchText)).toBe(true);
    const found = await t.run((ctx) =>
      ctx.db
        .query("contacts")
        .withSearchIndex("search_contacts", (q) => q.search("searchText", "zoe").eq("tenantId", w.tenantId))
        .collect(),
    );
    expect(found.map((c) => c.name)).toEqual(["Zoë Older"]);
    // Running it again writes nothing.
    expect(await t.mutation(internal.contacts.backfillSearchText, {})).toEqual({ updated: 0, isDone: false });
  });
});
