/** Meta's and WAHA's wire details the simulator reproduces: error bodies, ids, escaping, signatures. */
import { createHash, createHmac, randomBytes } from "node:crypto";

/** Meta's titles and details for the codes the simulator produces (Cloud API error reference). */
export const CLOUD_ERRORS: Record<number, { message: string; details?: string; httpStatus: number }> = {
  1: { message: "An unknown error occurred", httpStatus: 500 },
  2: { message: "An unexpected error has occurred. Please retry your request later.", httpStatus: 503 },
  4: { message: "(#4) Application request limit reached", httpStatus: 400 },
  10: { message: "(#10) Application does not have permission for this action", httpStatus: 403 },
  100: { message: "(#100) Invalid parameter", httpStatus: 400 },
  190: { message: "Invalid OAuth access token - Cannot parse access token", httpStatus: 401 },
  368: { message: "Temporarily blocked for policies violations", httpStatus: 400 },
  80007: { message: "(#80007) Rate limit issues", httpStatus: 400 },
  130429: {
    message: "(#130429) Rate limit hit",
    details: "Cloud API message throughput has been reached.",
    httpStatus: 400,
  },
  131000: {
    message: "Something went wrong",
    details: "Message failed to send due to an unknown error.",
    httpStatus: 500,
  },
  131008: { message: "(#131008) Required parameter is missing", httpStatus: 400 },
  131009: { message: "(#131009) Parameter value is not valid", httpStatus: 400 },
  131016: {
    message: "(#131016) Service unavailable",
    details: "A service is temporarily unavailable. Please check the status page and try again later.",
    httpStatus: 503,
  },
  131026: {
    message: "Message undeliverable",
    details: "Message Undeliverable.",
    httpStatus: 400,
  },
  131047: {
    message: "Re-engagement message",
    details:
      "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
    httpStatus: 400,
  },
  131048: {
    message: "Spam rate limit hit",
    details:
      "Message failed to send because there are restrictions on how many messages can be sent from this phone number.",
    httpStatus: 400,
  },
  131049: {
    message: "This message was not delivered to maintain healthy ecosystem engagement.",
    details: "In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
    httpStatus: 400,
  },
  131050: {
    message: "User has stopped marketing messages",
    details:
      "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business.",
    httpStatus: 400,
  },
  131051: {
    message: "Unsupported message type",
    details: "Message type is not currently supported.",
    httpStatus: 400,
  },
  131056: {
    message: "(#131056) (Business Account, Consumer Account) pair rate limit hit",
    details:
      "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.",
    httpStatus: 400,
  },
  131057: {
    message: "(#131057) Account in maintenance mode",
    details: "Business Account is in maintenance mode.",
    httpStatus: 503,
  },
  132000: {
    message: "(#132000) Number of parameters does not match the expected number of params",
    httpStatus: 400,
  },
  132001: { message: "(#132001) Template name does not exist in the translation", httpStatus: 404 },
  132012: {
    message: "(#132012) Parameter format does not match format in the created template",
    httpStatus: 400,
  },
};

export type GraphError = {
  status: number;
  body: {
    error: {
      message: string;
      type: string;
      code: number;
      error_subcode?: number;
      error_user_title?: string;
      error_user_msg?: string;
      error_data?: { messaging_product: "whatsapp"; details: string };
      fbtrace_id: string;
    };
  };
};

export function fbtraceId(): string {
  return (
    "A" +
    randomBytes(16)
      .toString("base64")
      .replace(/[^A-Za-z0-9]/g, "")
      .slice(0, 22)
  );
}

/** A Graph API error answer in Meta's shape. */
export function graphError(
  code: number,
  overrides: {
    message?: string;
    details?: string;
    status?: number;
    subcode?: number;
    userTitle?: string;
    userMsg?: string;
  } = {},
): GraphError {
  const known = CLOUD_ERRORS[code];
  const details = overrides.details ?? known?.details;
  const error: GraphError["body"]["error"] = {
    message: overrides.message ?? known?.message ?? `(#${code}) Error`,
    type: "OAuthException",
    code,
    fbtrace_id: fbtraceId(),
  };
  if (overrides.subcode !== undefined) error.error_subcode = overrides.subcode;
  if (overrides.userTitle) error.error_user_title = overrides.userTitle;
  if (overrides.userMsg) error.error_user_msg = overrides.userMsg;
  if (details) error.error_data = { messaging_product: "whatsapp", details };
  return { status: overrides.status ?? known?.httpStatus ?? 400, body: { error } };
}

/** `(#100) The parameter to is required.` */
export function missingParam(name: string): GraphError {
  return graphError(100, { message: `(#100) The parameter ${name} is required.` });
}

export function invalidParam(message: string, details?: string): GraphError {
  return graphError(100, { message: `(#100) ${message}`, details });
}

/** The object an id names does not exist or this token may not see it (code 100, subcode 33). */
export function unknownObject(id: string, method: "GET" | "POST" | "DELETE"): GraphError {
  return graphError(100, {
    subcode: 33,
    message: `Unsupported ${method.toLowerCase()} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api`,
  });
}

/** The `errors[]` entry of a failed status webhook. */
export function statusError(code: number, details?: string) {
  const known = CLOUD_ERRORS[code];
  const title = (known?.message ?? `Error ${code}`).replace(/^\(#\d+\)\s*/, "");
  return {
    code,
    title,
    message: title,
    error_data: { details: details ?? known?.details ?? title },
    href: "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
  };
}

/** A WhatsApp message id as the Cloud API writes them: `wamid.` + base64 of an opaque key. */
export function wamid(user: string): string {
  const key = Buffer.concat([
    Buffer.from([0x1c, 0x18, user.length]),
    Buffer.from(user),
    Buffer.from([0x15, 0x02, 0x00, 0x11, 0x18, 0x12]),
    Buffer.from(randomBytes(9).toString("hex").toUpperCase()),
    Buffer.from([0x00]),
  ]);
  return `wamid.${key.toString("base64")}`;
}

/** A WAHA (WEBJS) message id: `<fromMe>_<chat id>_<hex id>`. */
export function wahaMessageId(fromMe: boolean, chat: string): string {
  return `${fromMe}_${chat}_${
    (fromMe ? "3EB0" : "") +
    randomBytes(fromMe ? 8 : 10)
      .toString("hex")
      .toUpperCase()
  }`;
}

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** A ULID (WAHA's event ids are `evt_<ulid>`). */
export function ulid(now = Date.now()): string {
  let time = "";
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  let rand = "";
  for (const byte of randomBytes(16)) rand += CROCKFORD[byte % 32];
  return time + rand;
}

/** A 15-digit numeric id (template ids; fits a JSON number exactly, as Meta sends them). */
export function numericId(): string {
  return String(100_000_000_000_000 + Math.floor(Math.random() * 800_000_000_000_000));
}

/**
 * JSON as Meta's webhooks write it: "/" escaped and non-ASCII as \uXXXX escapes. A receiver
 * must verify the signature over these exact bytes; re-serialising the parsed body does not
 * reproduce them.
 */
export function metaJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/\//g, "\\/")
    .replace(/[\u007f-\uffff]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
}

export function hubSignature(secret: string, body: string): string {
  return "sha256=" + createHmac("sha256", secret).update(body, "utf8").digest("hex");
}

export function wahaHmac(key: string, body: string): string {
  return createHmac("sha512", key).update(body, "utf8").digest("hex");
}

/**
 * A user's business-scoped user id, stable per number: the country of the number, a dot and
 * digits (as Meta's "US.13491208655302741918"). One portfolio per simulator, so one per user.
 */
export function bsuidOf(number: string): string {
  const country = countryOf(number);
  const hash = createHash("sha256").update(`bsuid:${number}`).digest("hex");
  return `${country === "other" ? "US" : country}.${BigInt(`0x${hash.slice(0, 15)}`)
    .toString()
    .padStart(17, "1")}`;
}

/** Country of a number by its calling code (the rate table's keys; "other" otherwise). */
export function countryOf(number: string): string {
  const prefixes: [string, string][] = [
    ["1", "US"],
    ["34", "ES"],
    ["44", "GB"],
    ["49", "DE"],
    ["52", "MX"],
    ["55", "BR"],
    ["62", "ID"],
    ["91", "IN"],
  ];
  const hit = prefixes.filter(([p]) => number.startsWith(p)).sort((a, b) => b[0].length - a[0].length)[0];
  return hit?.[1] ?? "other";
}

/**
 * USD per delivered template message by category and recipient country: a small illustrative
 * table in the shape of Meta's per-message pricing (July 2025), not Meta's current rates.
 * Service (non-template) messages and utility templates inside the window are free.
 */
export const RATES_USD: Record<string, Record<string, number>> = {
  marketing: {
    US: 0.025,
    ES: 0.0615,
    GB: 0.0529,
    DE: 0.1365,
    MX: 0.0305,
    BR: 0.0625,
    ID: 0.0411,
    IN: 0.0107,
    other: 0.0604,
  },
  utility: {
    US: 0.004,
    ES: 0.02,
    GB: 0.022,
    DE: 0.0456,
    MX: 0.0085,
    BR: 0.0068,
    ID: 0.025,
    IN: 0.0014,
    other: 0.0077,
  },
  authentication: {
    US: 0.0135,
    ES: 0.0218,
    GB: 0.0358,
    DE: 0.0636,
    MX: 0.0239,
    BR: 0.0315,
    ID: 0.0275,
    IN: 0.0014,
    other: 0.0353,
  },
};

export function priceUsd(category: string, country: string): number {
  const table = RATES_USD[category];
  return table ? (table[country] ?? table.other) : 0;
}
