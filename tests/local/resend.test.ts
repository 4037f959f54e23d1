/**
 * The real `resend` SDK path: our local Convex server, configured with a Resend key, emails
 * invitations through the SDK to a local Resend-compatible server speaking Resend's HTTP API.
 */
import { createHash } from "node:crypto";
import { ConvexHttpClient } from "convex/browser";
import { Resend } from "resend";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api } from "../../convex/_generated/api";
import type { Doc, Id, TableNames } from "../../convex/_generated/dataModel";
import { startResendServer, type ResendServer } from "../../local/resend-server/server";
import { startServer, type TestServer } from "./harness";

const API_KEY = "re_test";
const FROM = "Switchboard <no-reply@switchboard.local>";
const LINK = /http:\/\/app\.test\/invitations\/([A-Za-z0-9_-]+)/;

/** A client acting as a signed-in user (the admin key lets tests skip minting tokens). */
function actingAs(server: TestServer, email: string): ConvexHttpClient {
  const client = new ConvexHttpClient(server.url);
  (client as unknown as { setAdminAuth(key: string, identity: object): void }).setAdminAuth(server.adminKey, {
    subject: email,
    issuer: "https://idp.test",
    tokenIdentifier: `https://idp.test|${email}`,
    email,
    name: email.split("@")[0],
    emailVerified: true,
  });
  return client;
}

/** Rows of a table, newest first, through the local server's read-only devtools endpoint. */
async function tableRows<T extends TableNames>(server: TestServer, table: T): Promise<Doc<T>[]> {
  const res = await fetch(`${server.url}/_local/tables/${table}`, {
    headers: { authorization: `Convex ${server.adminKey}` },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { documents: Doc<T>[] }).documents;
}

/** Waits for the background delivery to settle: retries `check` until it stops throwing. */
async function eventually<T>(check: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

describe("the local Resend server speaks Resend's API to the real SDK", () => {
  let resend: ResendServer;
  beforeAll(async () => {
    resend = await startResendServer({ apiKey: API_KEY });
  });
  afterAll(async () => {
    await resend?.close();
  });

  it("accepts a valid email and returns its id, which the SDK can fetch back", async () => {
    const sdk = new Resend(API_KEY, { baseUrl: resend.url });
    const { data, error } = await sdk.emails.send({
      from: FROM,
      to: "zoe@example.com",
      subject: "Hello",
      text: "Plain",
      html: "<p>Rich</p>",
    });
    expect(error).toBeNull();
    expect(data!.id).toMatch(/^[0-9a-f-]{36}$/);
    const email = resend.received.at(-1)!;
    expect(email).toMatchObject({
      id: data!.id,
      from: FROM,
      to: ["zoe@example.com"],
      subject: "Hello",
      text: "Plain",
      html: "<p>Rich</p>",
      authorization: `Bearer ${API_KEY}`,
    });
    expect(email.userAgent).toMatch(/^resend-node:/);
    const fetched = await sdk.emails.get(data!.id);
    expect(fetched.data).toMatchObject({
      object: "email",
      id: data!.id,
      subject: "Hello",
      to: ["zoe@example.com"],
    });
  });

  it("answers 401 without a key and 403 with the wrong one, in Resend's error shape", async () => {
    const count = resend.received.length;
    const raw = await fetch(`${resend.url}/emails`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ from: FROM, to: "zoe@example.com", subject: "Hi", text: "x" }),
    });
    expect(raw.status).toBe(401);
    expect(await raw.json()).toMatchObject({ statusCode: 401, name: "missing_api_key" });
    const { data, error } = await new Resend("re_wrong", { baseUrl: resend.url }).emails.send({
      from: FROM,
      to: "zoe@example.com",
      subject: "Hi",
      text: "x",
    });
    expect(data).toBeNull();
    expect(error).toMatchObject({ statusCode: 403, name: "invalid_api_key" });
    expect(resend.received).toHaveLength(count);
  });

  it("validates from, to and subject with 422s the SDK reports", async () => {
    const sdk = new Resend(API_KEY, { baseUrl: resend.url });
    const count = resend.received.length;
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ to: "zoe@example.com", subject: "Hi", text: "x" }, /`from`/],
      [{ from: FROM, subject: "Hi", text: "x" }, /`to`/],
      [{ from: FROM, to: "zoe@example.com", text: "x" }, /`subject`/],
      [{ from: "not an address", to: "zoe@example.com", subject: "Hi", text: "x" }, /`from`/],
      [{ from: FROM, to: ["zoe@example.com", "nope"], subject: "Hi", text: "x" }, /`to`/],
    ];
    for (const [payload, message] of cases) {
      const { data, error } = await sdk.emails.send(payload as never);
      expect(data).toBeNull();
      expect(error, JSON.stringify(payload)).toMatchObject({
        statusCode: 422,
        message: expect.stringMatching(message),
      });
      expect(["missing_required_field", "validation_error"]).toContain(error!.name);
    }
    expect(resend.received).toHaveLength(count);
  });

  it("fails the next request on demand, then recovers", async () => {
    const sdk = new Resend(API_KEY, { baseUrl: resend.url });
    resend.failNext(500);
    const failed = await sdk.emails.send({ from: FROM, to: "zoe@example.com", subject: "Hi", text: "x" });
    expect(failed.error).toMatchObject({ statusCode: 500, name: "internal_server_error" });
    const ok = await sdk.emails.send({ from: FROM, to: "zoe@example.com", subject: "Hi", text: "x" });
    expect(ok.error).toBeNull();
  });

  it("returns the same id for a repeated idempotency key", async () => {
    const sdk = new Resend(API_KEY, { baseUrl: resend.url });
    const payload = { from: FROM, to: "zoe@example.com", subject: "Once", text: "x" };
    const first = await sdk.emails.send(payload, { idempotencyKey: "invite-1" });
    const again = await sdk.emails.send(payload, { idempotencyKey: "invite-1" });
    expect(again.data!.id).toBe(first.data!.id);
    expect(resend.received.filter((e) => e.subject === "Once")).toHaveLength(1);
    const different = await sdk.emails.send({ ...payload, subject: "Twice" }, { idempotencyKey: "invite-1" });
    expect(different.error).toMatchObject({ statusCode: 409 });
  });
});

describe("invitations sent through Resend by our Convex server", () => {
  let resend: ResendServer;
  let server: TestServer;
  let owner: ConvexHttpClient;
  let tenantId: Id<"tenants">;

  beforeAll(async () => {
    resend = await startResendServer({ apiKey: API_KEY });
    server = await startServer({
      env: { RESEND_API_KEY: API_KEY, RESEND_BASE_URL: resend.url, APP_URL: "http://app.test" },
    });
    owner = actingAs(server, "olivia@acme.test");
    await owner.mutation(api.users.ensure, {});
    ({ tenantId } = await owner.mutation(api.tenants.create, {
      name: "Acme Shoes",
      currency: "EUR",
      timeZone: "Europe/Madrid",
      defaultCountry: "ES",
    }));
  });
  afterAll(async () => {
    await server?.stop();
    await resend?.close();
  });

  it("emails the link through Resend and keeps only a delivery record", async () => {
    const invitationId = await owner.mutation(api.invitations.create, {
      tenantId,
      email: "zoe@example.com",
      role: "agent",
    });
    const [email] = (await resend.waitForEmails(1)).filter((e) => e.to.includes("zoe@example.com"));
    expect(email).toMatchObject({
      from: FROM,
      to: ["zoe@example.com"],
      subject: "olivia invited you to Acme Shoes on Switchboard",
      authorization: `Bearer ${API_KEY}`,
    });
    const token = LINK.exec(email.text!)![1];
    expect(email.html).toContain(`http://app.test/invitations/${token}`);

    // The delivery log: sent by Resend, with Resend's id, and without the body holding the link.
    const row = await eventually(async () => {
      const rows = (await tableRows(server, "emails")).filter((r) => r.to === "zoe@example.com");
      expect(rows).toHaveLength(1);
      return rows[0];
    });
    expect(row).toMatchObject({
      tenantId,
      kind: "invitation",
      provider: "resend",
      status: "sent",
      providerMessageId: email.id,
    });
    expect(row.text).toBeUndefined();
    expect(row.html).toBeUndefined();
    expect(JSON.stringify(await tableRows(server, "emails"))).not.toContain(token);
    const [listed] = await owner.query(api.emails.listForTenant, { tenantId });
    expect(listed).toMatchObject({ to: "zoe@example.com", provider: "resend", status: "sent", text: null });

    // The database keeps the link's hash, never the link.
    const [invitation] = (await tableRows(server, "invitations")).filter((r) => r._id === invitationId);
    expect(invitation.tokenHash).toBe(createHash("sha256").update(token).digest("hex"));
    expect(JSON.stringify(await tableRows(server, "invitations"))).not.toContain(token);
    expect(await owner.query(api.invitations.listPending, { tenantId })).toEqual([
      expect.objectContaining({ invitationId, delivered: true, deliveryError: null }),
    ]);

    // And the emailed link works.
    const zoe = actingAs(server, "zoe@example.com");
    await zoe.mutation(api.users.ensure, {});
    expect(await zoe.mutation(api.invitations.accept, { token })).toMatchObject({ tenantId, role: "agent" });
  });

  it("records a failed send on the invitation and the email row when Resend answers 500, and a resend recovers", async () => {
    const before = resend.received.length;
    const attempts = resend.attempts.length;
    resend.failNext(500, "Resend is having a bad day");
    const invitationId = await owner.mutation(api.invitations.create, {
      tenantId,
      email: "yann@example.com",
      role: "viewer",
    });

    const pending = await eventually(async () => {
      const [p] = (await owner.query(api.invitations.listPending, { tenantId })).filter(
        (i) => i.invitationId === invitationId,
      );
      expect(p.deliveryError).toBeTruthy();
      return p;
    });
    expect(pending.deliveryError).toBe("Resend is having a bad day");
    expect(resend.attempts.slice(attempts).map((a) => a.status)).toEqual([500]);
    expect(resend.received).toHaveLength(before);

    const [row] = (await tableRows(server, "emails")).filter((r) => r.to === "yann@example.com");
    expect(row).toMatchObject({ provider: "resend", status: "failed", error: "Resend is having a bad day" });
    expect(row.providerMessageId).toBeUndefined();
    expect(row.text).toBeUndefined();
    expect(row.html).toBeUndefined();

    await owner.mutation(api.invitations.resend, { tenantId, invitationId });
    const [email] = (await resend.waitForEmails(before + 1)).slice(before);
    expect(email.to).toEqual(["yann@example.com"]);
    const recovered = await eventually(async () => {
      const [p] = (await owner.query(api.invitations.listPending, { tenantId })).filter(
        (i) => i.invitationId === invitationId,
      );
      expect(p.deliveryError).toBeNull();
      return p;
    });
    expect(recovered.delivered).toBe(true);
    await eventually(async () => {
      const rows = (await tableRows(server, "emails")).filter((r) => r.to === "yann@example.com");
      expect(rows.map((r) => [r.status, r.providerMessageId])).toEqual([
        ["sent", email.id],
        ["failed", undefined],
      ]);
    });
  });
});
