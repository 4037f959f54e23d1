/**
 * Checks stored documents against a schema, as Convex does before accepting a push. Works on
 * the validator JSON that `defineTable(...).export()` produces (convex/values validators.js):
 *
 *   { type: "string" | "number" | "bigint" | "boolean" | "null" | "bytes" | "any" }
 *   { type: "literal", value: <convexToJson(value)> }
 *   { type: "id", tableName }
 *   { type: "array", value: <element> }
 *   { type: "object", value: { [field]: { fieldType, optional } } }
 *   { type: "record", keys: <key validator>, values: { fieldType, optional } }
 *   { type: "union", value: [<member>, ...] }
 */
import { jsonToConvex, type JSONValue, type Value } from "convex/values";

export type ValidatorJson =
  | { type: "any" | "null" | "number" | "bigint" | "boolean" | "string" | "bytes" }
  | { type: "literal"; value: JSONValue }
  | { type: "id"; tableName: string }
  | { type: "array"; value: ValidatorJson }
  | { type: "object"; value: Record<string, FieldJson> }
  | { type: "record"; keys: ValidatorJson; values: FieldJson }
  | { type: "union"; value: ValidatorJson[] };

type FieldJson = { fieldType: ValidatorJson; optional: boolean };

/** Answers which table an id belongs to (null when it is not an id of any table). */
export type TableOfId = (id: string) => string | null;

/** Returns a description of the first mismatch, or null when the document matches. */
export function validateDocument(
  validator: ValidatorJson,
  doc: Record<string, unknown>,
  tableOf: TableOfId,
): string | null {
  const fields = { ...doc };
  delete fields._id;
  delete fields._creationTime;
  return check(validator, fields, "", tableOf);
}

function check(validator: ValidatorJson, value: unknown, at: string, tableOf: TableOfId): string | null {
  const where = at || "(document)";
  switch (validator.type) {
    case "any":
      return null;
    case "null":
      return value === null ? null : `${where}: expected null`;
    case "number":
      return typeof value === "number" ? null : `${where}: expected a number`;
    case "bigint":
      return typeof value === "bigint" ? null : `${where}: expected a bigint`;
    case "boolean":
      return typeof value === "boolean" ? null : `${where}: expected a boolean`;
    case "string":
      return typeof value === "string" ? null : `${where}: expected a string`;
    case "bytes":
      return value instanceof ArrayBuffer ? null : `${where}: expected bytes`;
    case "literal": {
      const expected = jsonToConvex(validator.value);
      return sameLiteral(value, expected) ? null : `${where}: expected ${JSON.stringify(validator.value)}`;
    }
    case "id":
      if (typeof value !== "string") return `${where}: expected an id`;
      return tableOf(value) === validator.tableName
        ? null
        : `${where}: expected an id of table "${validator.tableName}"`;
    case "array":
      if (!Array.isArray(value)) return `${where}: expected an array`;
      for (let i = 0; i < value.length; i++) {
        const problem = check(validator.value, value[i], `${at}[${i}]`, tableOf);
        if (problem) return problem;
      }
      return null;
    case "record": {
      if (!isPlainObject(value)) return `${where}: expected an object`;
      for (const [key, item] of Object.entries(value)) {
        if (item === undefined) continue;
        const keyProblem = check(validator.keys, key, `${at}.${key} (key)`, tableOf);
        if (keyProblem) return keyProblem;
        const problem = check(validator.values.fieldType, item, `${at}.${key}`, tableOf);
        if (problem) return problem;
      }
      return null;
    }
    case "union":
      return validator.value.some((member) => check(member, value, at, tableOf) === null)
        ? null
        : `${where}: matches none of the union's members`;
    case "object": {
      if (!isPlainObject(value)) return `${where}: expected an object`;
      for (const [key, { fieldType, optional }] of Object.entries(validator.value)) {
        if (value[key] === undefined) {
          if (!optional) return `${at}.${key}: required field is missing`;
        } else {
          const problem = check(fieldType, value[key], `${at}.${key}`, tableOf);
          if (problem) return problem;
        }
      }
      for (const key of Object.keys(value)) {
        if (!(key in validator.value)) return `${at}.${key}: field is not in the schema`;
      }
      return null;
    }
    default:
      // A validator kind this server does not know: refuse rather than accept anything.
      return `${where}: unknown validator type ${JSON.stringify((validator as { type?: unknown }).type)}`;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof ArrayBuffer)
  );
}

function sameLiteral(value: unknown, expected: Value): boolean {
  if (typeof expected === "number" && typeof value === "number") return Object.is(value, expected);
  return value === expected;
}
