/** Test data for the Convex tests: signed-in users, workspaces with members, and a way to read links. */
import { convexTest } from "convex-test";
import { makeFunctionReference } from "convex/server";
import { expect, vi } from "vitest";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { ACCESS, type Access } from "../../convex/functions";
import schema, { type Role } from "../../convex/schema";

const modules = import.meta.glob("../../convex/**/*.*s");

/** Every module under convex/ except the generated ones, loaded, by file. */
export const convexModules = import.meta.glob<Record<string, unknown>>(
  ["../../convex/**/*.ts", "!../../convex/_generated/**"],
  { eager: true },
);

export const ISSUER = "https://idp.test";

export type Identity = {
  subject?: string;
  email?: string;
  name?: string;
  emailVerified?: boolean;
};

export function setup(options: { transactionLimits?: boolean } = {}) {
  const t = options.transactionLimits
    ? convexTest({ schema, modules, transactionLimits: true })
    : convexTest(schema, modules);
  /** A client signed in as `email` (subject = email unless given), with a verified email. */
  const as = (email: string, identity: Identity = {}) =>
    t.withIdentity({
      subject: identity.subject ?? email.toLowerCase(),
      issuer: ISSUER,
      email,
      name: identity.name ?? email.split("@")[0],
      emailVerified: true,
      ...identity,
    });
  return { t, as };
}

export type T = ReturnType<typeof setup>["t"];
export type Client = ReturnType<ReturnType<typeof setup>["as"]>;

/** Signs in and registers the user row, as the app does right after sign-in. */
export async function signUp(as: ReturnType<typeof setup>["as"], email: string, identity: Identity = {}) {
  const client = as(email, identity);
  const userId = await client.mutation(api.users.ensure, {});
  return { client, userId, email: email.trim().toLowerCase() };
}

export const SETTINGS = {
  name: "Acme Shoes",
  currency: "EUR",
  timeZone: "Europe/Madrid",
  defaultCountry: "ES",
};

/** Runs the scheduled email deliveries and returns the token in the newest link sent to `email`. */
export async function deliveredToken(t: T, email: string): Promise<string> {
  await t.finishAllScheduledFunctions(vi.runAllTimers);
  const rows = await t.run((ctx) => ctx.db.query("emails").withIndex("by_created").order("desc").collect());
  const latest = rows.find((r) => r.to === email.toLowerCase() && r.kind === "invitation");
  if (!latest?.text) throw new Error(`No invitation email was sent to ${email}`);
  const match = /\/invitations\/([A-Za-z0-9_-]+)/.exec(latest.text);
  if (!match) throw new Error(`The email to ${email} has no invitation link:\n${latest.text}`);
  return match[1];
}

/** Invites `email` with `role` as `inviter`, then signs the invitee up and accepts the emailed link. */
export async function addMember(
  t: T,
  as: ReturnType<typeof setup>["as"],
  inviter: Client,
  tenantId: Id<"tenants">,
  email: string,
  role: Role,
) {
  await inviter.mutation(api.invitations.create, { tenantId, email, role });
  const token = await deliveredToken(t, email);
  const member = await signUp(as, email);
  expect(await member.client.mutation(api.invitations.accept, { token })).toMatchObject({ ok: true });
  const membershipId = await t.run(async (ctx) => {
    const m = await ctx.db
      .query("memberships")
      .withIndex("by_tenant_user", (q) => q.eq("tenantId", tenantId).eq("userId", member.userId))
      .unique();
    return m!._id;
  });
  return { ...member, membershipId };
}

/**
 * Tenant A ("Acme Shoes") with an owner, an admin, an agent, a viewer and a pending invitation;
 * tenant B ("Beta Bikes") with its own owner, a pending invitation, and nothing shared with A.
 */
export async function twoTenants(t: T, as: ReturnType<typeof setup>["as"]) {
  const ownerA = await signUp(as, "olivia@acme.test");
  const a = await ownerA.client.mutation(api.tenants.create, SETTINGS);
  const tenantA = a.tenantId;
  const adminA = await addMember(t, as, ownerA.client, tenantA, "adam@acme.test", "admin");
  const agentA = await addMember(t, as, ownerA.client, tenantA, "agnes@acme.test", "agent");
  const viewerA = await addMember(t, as, ownerA.client, tenantA, "victor@acme.test", "viewer");
  const invitationA = await ownerA.client.mutation(api.invitations.create, {
    tenantId: tenantA,
    email: "pending@acme.test",
    role: "agent",
  });
  const ownerAMembershipId = await t.run(async (ctx) => {
    const m = await ctx.db
      .query("memberships")
      .withIndex("by_tenant_user", (q) => q.eq("tenantId", tenantA).eq("userId", ownerA.userId))
      .unique();
    return m!._id;
  });

  const ownerB = await signUp(as, "bruno@beta.test");
  const b = await ownerB.client.mutation(api.tenants.create, {
    name: "Beta Bikes",
    currency: "USD",
    timeZone: "America/New_York",
    defaultCountry: "US",
  });
  const tenantB = b.tenantId;
  const agentB = await addMember(t, as, ownerB.client, tenantB, "bea@beta.test", "agent");
  const invitationB = await ownerB.client.mutation(api.invitations.create, {
    tenantId: tenantB,
    email: "pending@beta.test",
    role: "viewer",
  });
  await t.finishAllScheduledFunctions(vi.runAllTimers);

  return {
    tenantA,
    slugA: a.slug,
    nameA: SETTINGS.name,
    ownerA: { ...ownerA, membershipId: ownerAMembershipId },
    adminA,
    agentA,
    viewerA,
    invitationA,
    tenantB,
    ownerB,
    agentB,
    invitationB,
    /** Members of A by role, for "a member below the minimum role". */
    memberOfA(role: Role): Client {
      return { owner: ownerA.client, admin: adminA.client, agent: agentA.client, viewer: viewerA.client }[
        role
      ];
    },
    /** Strings that would reveal something about tenant A if an outsider's error contained them. */
    secretsOfA(): string[] {
      return [
        SETTINGS.name,
        a.slug,
        tenantA,
        ownerA.email,
        adminA.email,
        agentA.email,
        viewerA.email,
        "pending@acme.test",
        ownerA.userId,
        adminA.userId,
        agentA.userId,
        viewerA.userId,
        ownerAMembershipId,
        adminA.membershipId,
        agentA.membershipId,
        viewerA.membershipId,
        invitationA,
      ];
    },
  };
}

export type World = Awaited<ReturnType<typeof twoTenants>>;

/** Every row of every table, to prove a refused call changed nothing. */
export async function snapshot(t: T) {
  return await t.run(async (ctx) => {
    const out: Record<string, unknown[]> = {};
    for (const table of Object.keys(schema.tables).sort()) {
      out[table] = await ctx.db.query(table as keyof typeof schema.tables).collect();
    }
    return out;
  });
}

/** The `{ code, message, field? }` of the ConvexError the promise rejects with. */
export async function errorOf(
  promise: Promise<unknown>,
): Promise<{ code: string; message: string; field?: string }> {
  try {
    await promise;
  } catch (error) {
    const data = (error as { data?: unknown }).data;
    if (data && typeof data === "object" && "code" in data) return data as never;
    throw new Error(`Expected a ConvexError with a code, got: ${String(error)}`, { cause: error });
  }
  throw new Error("Expected the call to be refused, but it succeeded");
}

/** Asserts the promise rejects with a ConvexError with `code` (and `field`, when given). */
/**
 * A refusal a function returns instead of throwing (answers to invitations: what they counted
 * must survive the failure), with its code; returns it.
 */
export async function expectRefused(promise: Promise<unknown>, code: string) {
  const result = (await promise) as { ok: boolean; code?: string; message?: string; retryAfterMs?: number };
  expect(result.ok, JSON.stringify(result)).toBe(false);
  expect(result.code, result.message).toBe(code);
  return result as { ok: false; code: string; message: string; retryAfterMs?: number };
}

export async function expectCode(promise: Promise<unknown>, code: string, field?: string) {
  const error = await errorOf(promise);
  expect(error.code, error.message).toBe(code);
  if (field !== undefined) expect(error.field).toBe(field);
  return error;
}

// ---------------------------------------------------------------- the deployed functions

export type RegisteredFunction = {
  isQuery?: boolean;
  isMutation?: boolean;
  isAction?: boolean;
  isPublic?: boolean;
  isInternal?: boolean;
  /** The `returns` validator as Convex exports it to the deployment: JSON, "null" when none. */
  exportReturns?: () => string;
  [ACCESS]?: Access;
};

export type DeployedFunction = {
  /** `module:export`, as clients call it. */
  name: string;
  module: string;
  kind: "query" | "mutation" | "action";
  visibility: "public" | "internal";
  access: Access | undefined;
  /** The declared `returns` validator (Convex's JSON form), or null when it declares none. */
  returns: unknown;
};

export function isRegistered(value: unknown): value is RegisteredFunction {
  return (
    typeof value === "function" &&
    ((value as RegisteredFunction).isQuery === true ||
      (value as RegisteredFunction).isMutation === true ||
      (value as RegisteredFunction).isAction === true)
  );
}

/** `../../convex/dir/file.ts` → `dir/file`, the module path Convex deploys it under. */
export function modulePath(file: string): string {
  return file.replace(/^.*?\/convex\//, "").replace(/\.[cm]?[jt]sx?$/, "");
}

/** Every registered function exported by the given (eagerly imported) modules. */
export function deployedFunctions(loaded: Record<string, Record<string, unknown>>): DeployedFunction[] {
  const out: DeployedFunction[] = [];
  for (const [file, exports] of Object.entries(loaded)) {
    const module = modulePath(file);
    for (const [exportName, value] of Object.entries(exports)) {
      if (!isRegistered(value)) continue;
      out.push({
        name: exportName === "default" ? module : `${module}:${exportName}`,
        module,
        kind: value.isQuery ? "query" : value.isMutation ? "mutation" : "action",
        visibility: value.isPublic === true ? "public" : "internal",
        access: value[ACCESS],
        returns: JSON.parse(value.exportReturns?.() ?? "null"),
      });
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** Calls a deployed function by name as `client`, whatever its kind. */
export function call(
  client: Client | T,
  fn: DeployedFunction,
  args: Record<string, unknown>,
): Promise<unknown> {
  if (fn.kind === "query") return client.query(makeFunctionReference<"query">(fn.name), args);
  if (fn.kind === "mutation") return client.mutation(makeFunctionReference<"mutation">(fn.name), args);
  return client.action(makeFunctionReference<"action">(fn.name), args);
}
