/* eslint-disable */
/**
 * Generated `api` utility.
 *
 * THIS CODE IS AUTOMATICALLY GENERATED.
 *
 * To regenerate, run `npx convex dev`.
 * @module
 */

import type {
  ApiFromModules,
  FilterApi,
  FunctionReference,
} from "convex/server";
import type * as admin from "../admin.js";
import type * as audit from "../audit.js";
import type * as crons from "../crons.js";
import type * as emails from "../emails.js";
import type * as env from "../env.js";
import type * as functions from "../functions.js";
import type * as http from "../http.js";
import type * as invitations from "../invitations.js";
import type * as members from "../members.js";
import type * as model_audit from "../model/audit.js";
import type * as model_emails from "../model/emails.js";
import type * as model_errors from "../model/errors.js";
import type * as model_invitations from "../model/invitations.js";
import type * as model_system from "../model/system.js";
import type * as model_tenancy from "../model/tenancy.js";
import type * as model_users from "../model/users.js";
import type * as providers_email from "../providers/email.js";
import type * as system from "../system.js";
import type * as tenants from "../tenants.js";
import type * as users from "../users.js";
import type * as version from "../version.js";

/**
 * A utility for referencing Convex functions in your app's API.
 *
 * Usage:
 * ```js
 * const myFunctionReference = api.myModule.myFunction;
 * ```
 */
declare const fullApi: ApiFromModules<{
  admin: typeof admin;
  audit: typeof audit;
  crons: typeof crons;
  emails: typeof emails;
  env: typeof env;
  functions: typeof functions;
  http: typeof http;
  invitations: typeof invitations;
  members: typeof members;
  "model/audit": typeof model_audit;
  "model/emails": typeof model_emails;
  "model/errors": typeof model_errors;
  "model/invitations": typeof model_invitations;
  "model/system": typeof model_system;
  "model/tenancy": typeof model_tenancy;
  "model/users": typeof model_users;
  "providers/email": typeof providers_email;
  system: typeof system;
  tenants: typeof tenants;
  users: typeof users;
  version: typeof version;
}>;
export declare const api: FilterApi<
  typeof fullApi,
  FunctionReference<any, "public">
>;
export declare const internal: FilterApi<
  typeof fullApi,
  FunctionReference<any, "internal">
>;
