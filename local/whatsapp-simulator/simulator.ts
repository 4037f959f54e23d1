/**
 * The WhatsApp simulator's behaviour, independent of HTTP: Cloud API and WAHA sends with
 * Meta's and WAHA's validation and limits, the message lifecycle (sent, delivered, read,
 * failed) reported through signed webhooks, simulated users writing in, templates and their
 * review, pricing. server.ts maps HTTP onto this; the phone page reads snapshot().
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import {
  bsuidOf,
  countryOf,
  graphError,
  invalidParam,
  missingParam,
  numericId,
  priceUsd,
  statusError,
  unknownObject,
  wahaMessageId,
  wamid,
  ulid,
  type GraphError,
} from "./meta";
import { checkTemplateParameters, renderTemplate, validateNewTemplate } from "./templates";
import {
  DEFAULT_KNOBS,
  type Charge,
  type CloudNumberConfig,
  type InjectedError,
  type Knobs,
  type SimConfig,
  type SimMessage,
  type SimTemplate,
  type SimUser,
  type TemplateSeed,
  type WahaSessionConfig,
} from "./types";
import { WebhookDispatcher } from "./webhooks";

export type Answer = { status: number; body: unknown; headers?: Record<string, string> };

export type SimulatorOptions = {
  config?: Partial<SimConfig>;
  knobs?: Partial<Knobs>;
  /** Seed for the fault knobs' dice, so a test run can be repeated exactly. */
  seed?: number;
  /** Keep state (config, templates, users, messages, charges, knobs) in this JSON file. */
  stateFile?: string;
};

/** What a simulated user sends (POST /_sim/users/:number/messages). */
export type UserMessageInput = {
  /** The business: a Cloud phone_number_id or display number, or a WAHA session (or its number). */
  to: string;
  provider?: "cloud" | "waha";
  name?: string;
  type?: string;
  text?: string;
  caption?: string;
  /** Media: where the file is (only recorded; a media id is made up). */
  link?: string;
  mimeType?: string;
  filename?: string;
  voice?: boolean;
  latitude?: number;
  longitude?: number;
  locationName?: string;
  address?: string;
  /** interactive: button_reply (default) or list_reply; button: payload + text. */
  interactive?: "button_reply" | "list_reply";
  id?: string;
  title?: string;
  description?: string;
  payload?: string;
  /** reaction: the message reacted to, and the emoji (none = removed). */
  messageId?: string;
  emoji?: string;
  /** A reply to this message id; or a forward. */
  replyTo?: string;
  forwarded?: boolean;
  /** When the user wrote (ms; default now). An old value leaves the 24 h window closed. */
  timestamp?: number;
  /** WAHA: use the user's @lid id instead of the phone number for this message. */
  asLid?: boolean;
  /**
   * Cloud API: name the user by their business-scoped user id alone in this message's webhook,
   * no phone number (a user who chose a username); see the cloudUserIds knob.
   */
  bsuidOnly?: boolean;
  /** Merged into the Cloud API message object as is (for shapes not covered above). */
  raw?: Record<string, unknown>;
};

/** A simulated user stops or resumes marketing messages (POST /_sim/users/:number/marketing). */
export type MarketingPreferenceInput = {
  /** The business: a Cloud phone_number_id or display number. */
  to: string;
  value: "stop" | "resume";
  /** The user's profile name, sent in the webhook's `contacts`. */
  name?: string;
  /** When the user changed it (ms; default now): an old value makes a late webhook. */
  timestamp?: number;
  /** Name the user by their business-scoped user id alone (see UserMessageInput.bsuidOnly). */
  bsuidOnly?: boolean;
};

type Business =
  | { provider: "cloud"; key: string; number: CloudNumberConfig }
  | { provider: "waha"; key: string; session: WahaSessionConfig };

const MAX_MESSAGES = 5_000;
const DEFAULT_WAHA_EVENTS = ["message", "message.ack", "session.status"];
const ACK_NAMES: Record<number, string> = {
  [-1]: "ERROR",
  0: "PENDING",
  1: "SERVER",
  2: "DEVICE",
  3: "READ",
  4: "PLAYED",
};
const WAHA_ENVIRONMENT = { version: "2025.6.1", engine: "WEBJS", tier: "CORE", browser: null };
/** A 1×1 PNG served for every simulated media file. */
const PIXEL = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==",
  "base64",
);

/** Unique users per rolling 24 h for a messaging limit tier (TIER_2K, 2000, TIER_UNLIMITED); null: unlimited. */
export function tierLimit(tier: string): number | null {
  const upper = tier.trim().toUpperCase();
  if (upper === "TIER_UNLIMITED" || upper === "UNLIMITED") return null;
  const m = /^(?:TIER_)?(\d+)(K)?$/.exec(upper);
  return m ? Number(m[1]) * (m[2] ? 1_000 : 1) : 250;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const digitsOf = (s: string) => s.replace(/[^\d]/g, "");
const seconds = (ms: number) => String(Math.floor(ms / 1000));

function isAnswer(value: object): value is Answer {
  return "body" in value && "status" in value;
}

function wahaError(status: number, message: string | string[], error?: string): Answer {
  const names: Record<number, string> = { 400: "Bad Request", 401: "Unauthorized", 404: "Not Found" };
  return { status, body: { statusCode: status, message, error: error ?? names[status] } };
}

export class Simulator {
  knobs: Knobs;
  readonly cloud = new Map<string, CloudNumberConfig>();
  readonly waha = new Map<string, WahaSessionConfig>();
  readonly templates = new Map<string, SimTemplate>();
  readonly users = new Map<string, SimUser>();
  readonly messages: SimMessage[] = [];
  /**
   * Counts kept however many messages are kept: accepted sends per user (digits) and Cloud API
   * sends refused with 130429 (GET /_sim/counters; crash tests check nobody got a message twice).
   */
  readonly counters = { sentTo: new Map<string, number>(), throttled: 0 };
  readonly charges: Charge[] = [];
  readonly injected: InjectedError[] = [];
  readonly apiCalls: {
    at: number;
    provider: string;
    method: string;
    path: string;
    status: number;
    code?: number;
  }[] = [];
  readonly media = new Map<string, { mimeType: string; bytes: Buffer }>();
  readonly webhooks: WebhookDispatcher;
  /** The URL the simulator is reachable at (set by server.ts once it listens). */
  baseUrl = "";
  version = 0;

  /** The dice every fault knob rolls (seeded with options.seed). */
  readonly random: () => number;
  private readonly listeners = new Set<() => void>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly sendTimes = new Map<string, number[]>();
  private readonly pairBuckets = new Map<string, { tokens: number; at: number }>();
  /** Portfolio → user → when a business-initiated template last reached them (messaging limit). */
  private readonly reached = new Map<string, Map<string, number>>();
  /** User → when they were delivered marketing templates (the per-user marketing cap). */
  private readonly marketingTimes = new Map<string, number[]>();
  private readonly conversations = new Map<string, { id: string; expiresAt: number }>();
  private saveTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly options: SimulatorOptions = {}) {
    this.random = options.seed === undefined ? Math.random : mulberry32(options.seed);
    this.knobs = structuredClone(DEFAULT_KNOBS);
    this.webhooks = new WebhookDispatcher(
      () => this.knobs,
      this.random,
      () => this.changed(false),
    );
    if (options.stateFile && existsSync(options.stateFile)) this.load(options.stateFile);
    if (options.config) this.configure(options.config);
    if (options.knobs) this.setKnobs(options.knobs);
  }

  // ------------------------------------------------------------------ configuration and state

  /** Adds or replaces numbers, sessions and templates (by phone_number_id / session / id). */
  configure(config: Partial<SimConfig>, replace = false) {
    if (replace) {
      this.cloud.clear();
      this.waha.clear();
    }
    for (const n of config.cloud ?? []) {
      if (!n.phoneNumberId || !n.wabaId || !n.accessToken || !n.appSecret) {
        throw new Error("A Cloud number needs phoneNumberId, wabaId, accessToken and appSecret");
      }
      const previous = this.cloud.get(n.phoneNumberId);
      this.cloud.set(n.phoneNumberId, {
        qualityRating: "GREEN",
        messagingLimitTier: "TIER_2K",
        verifiedName: "Simulated Business",
        ...previous,
        ...n,
        displayNumber: digitsOf(n.displayNumber ?? previous?.displayNumber ?? n.phoneNumberId),
      });
    }
    for (const s of config.waha ?? []) {
      if (!s.session || !s.apiKey) throw new Error("A WAHA session needs session and apiKey");
      const previous = this.waha.get(s.session);
      this.waha.set(s.session, { status: "WORKING", ...previous, ...s });
    }
    for (const t of config.templates ?? []) this.addTemplate(t);
    this.changed();
  }

  setKnobs(partial: Partial<Knobs>) {
    const next = { ...this.knobs, ...partial };
    if (partial.statusDelaysMs)
      next.statusDelaysMs = { ...this.knobs.statusDelaysMs, ...partial.statusDelaysMs };
    this.knobs = next;
    this.changed();
    return this.knobs;
  }

  inject(errors: InjectedError[]) {
    this.injected.push(...errors);
    this.changed();
  }

  /** Forgets traffic (messages, users, webhooks, charges, limits); `all` also config and templates. */
  reset(all = false) {
    this.messages.splice(0);
    this.counters.sentTo.clear();
    this.counters.throttled = 0;
    this.charges.splice(0);
    this.injected.splice(0);
    this.apiCalls.splice(0);
    this.users.clear();
    this.sendTimes.clear();
    this.pairBuckets.clear();
    this.reached.clear();
    this.marketingTimes.clear();
    this.conversations.clear();
    this.webhooks.clear();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (all) {
      this.cloud.clear();
      this.waha.clear();
      this.templates.clear();
      this.knobs = structuredClone(DEFAULT_KNOBS);
    }
    this.changed();
  }

  addTemplate(seed: TemplateSeed): SimTemplate {
    const template: SimTemplate = {
      parameter_format: "POSITIONAL",
      status: "APPROVED",
      ...seed,
      id: seed.id ?? numericId(),
      category: String(seed.category).toUpperCase(),
      createdAt: Date.now(),
    };
    this.templates.set(template.id, template);
    this.changed();
    return template;
  }

  /** Called on every change: wakes the phone page's event stream and saves the state file. */
  private changed(persist = true) {
    this.version += 1;
    for (const listener of this.listeners) listener();
    if (persist && this.options.stateFile && !this.saveTimer && !this.closed) {
      this.saveTimer = setTimeout(() => {
        this.saveTimer = null;
        this.save();
      }, 200);
    }
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private save() {
    const file = this.options.stateFile;
    if (!file) return;
    const data = {
      config: { cloud: [...this.cloud.values()], waha: [...this.waha.values()] },
      templates: [...this.templates.values()],
      users: [...this.users.values()],
      messages: this.messages.slice(-1000),
      charges: this.charges.slice(-1000),
      knobs: this.knobs,
    };
    writeFileSync(file + ".tmp", JSON.stringify(data, null, 2));
    renameSync(file + ".tmp", file);
  }

  private load(file: string) {
    const data = JSON.parse(readFileSync(file, "utf8")) as {
      config?: SimConfig;
      templates?: SimTemplate[];
      users?: SimUser[];
      messages?: SimMessage[];
      charges?: Charge[];
      knobs?: Partial<Knobs>;
    };
    for (const n of data.config?.cloud ?? []) this.cloud.set(n.phoneNumberId, n);
    for (const s of data.config?.waha ?? []) this.waha.set(s.session, s);
    for (const t of data.templates ?? []) this.templates.set(t.id, t);
    for (const u of data.users ?? []) this.users.set(u.number, u);
    this.messages.push(...(data.messages ?? []));
    this.charges.push(...(data.charges ?? []));
    if (data.knobs) this.knobs = { ...this.knobs, ...data.knobs };
  }

  snapshot() {
    const totals: Record<string, number> = {};
    for (const c of this.charges) totals[c.business] = (totals[c.business] ?? 0) + c.priceUsd;
    return {
      url: this.baseUrl,
      version: this.version,
      config: { cloud: [...this.cloud.values()], waha: [...this.waha.values()] },
      knobs: this.knobs,
      templates: [...this.templates.values()],
      users: [...this.users.values()],
      messages: this.messages.slice(-500),
      charges: this.charges.slice(-500),
      chargesUsd: totals,
      injected: this.injected,
      apiCalls: this.apiCalls.slice(-200),
      webhooks: this.webhooks.log.slice(-200),
    };
  }

  recordCall(provider: string, method: string, path: string, answer: Answer) {
    const code = (answer.body as { error?: { code?: number } } | undefined)?.error?.code;
    this.apiCalls.push({ at: Date.now(), provider, method, path, status: answer.status, code });
    if (this.apiCalls.length > 2_000) this.apiCalls.splice(0, 1_000);
    this.changed(false);
  }

  private schedule(ms: number, fn: () => void) {
    if (this.closed) return;
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        if (!this.closed) fn();
      },
      Math.max(0, ms),
    );
    this.timers.add(timer);
  }

  /** Resolves once no status is scheduled and no webhook is queued or in flight. */
  async idle(timeoutMs = 15_000) {
    const deadline = Date.now() + timeoutMs;
    while (this.timers.size > 0) {
      if (Date.now() > deadline) throw new Error("Simulator still busy after " + timeoutMs + " ms");
      await new Promise((r) => setTimeout(r, 10));
    }
    await this.webhooks.idle(Math.max(0, deadline - Date.now()));
  }

  close() {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.webhooks.close();
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = null;
    }
    this.save();
  }

  private user(number: string, name?: string): SimUser {
    const digits = digitsOf(number);
    let user = this.users.get(digits);
    if (!user) {
      user = {
        number: digits,
        name: name || `User ${digits.slice(-4)}`,
        lid: `${String(Math.floor(1e14 + Math.random() * 8e14))}@lid`,
        bsuid: bsuidOf(digits),
        lastWrote: {},
      };
      this.users.set(digits, user);
    } else if (name) user.name = name;
    user.bsuid ??= bsuidOf(digits);
    return user;
  }

  /** The user with this business-scoped user id, if the simulator knows them. */
  private userByBsuid(bsuid: string): SimUser | undefined {
    return [...this.users.values()].find((u) => (u.bsuid ?? bsuidOf(u.number)) === bsuid);
  }

  /** How a Cloud webhook names the user: the knob, or the BSUID alone for this one message. */
  private userIds(bsuidOnly: boolean | undefined): Knobs["cloudUserIds"] {
    return bsuidOnly ? "bsuid" : this.knobs.cloudUserIds;
  }

  /** The user as a Cloud webhook's `contacts` names them. */
  private cloudContact(user: SimUser, ids: Knobs["cloudUserIds"]): Record<string, unknown> {
    const bsuid = user.bsuid ?? bsuidOf(user.number);
    if (ids === "phone") return { profile: { name: user.name }, wa_id: user.number };
    if (ids === "both") return { profile: { name: user.name }, wa_id: user.number, user_id: bsuid };
    return { profile: { name: user.name }, user_id: bsuid };
  }

  private pushMessage(message: SimMessage) {
    if (message.direction === "out")
      this.counters.sentTo.set(message.user, (this.counters.sentTo.get(message.user) ?? 0) + 1);
    this.messages.push(message);
    if (this.messages.length > MAX_MESSAGES) this.messages.splice(0, this.messages.length - MAX_MESSAGES);
  }

  private takeInjected(business: string): InjectedError | undefined {
    const index = this.injected.findIndex((e) => !e.business || e.business === business);
    return index < 0 ? undefined : this.injected.splice(index, 1)[0];
  }

  // ------------------------------------------------------------------ Cloud API

  /** Bearer token → the numbers it may act for, or Meta's 401 (code 190). */
  private cloudAuth(authorization: string | undefined): CloudNumberConfig[] | GraphError {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1];
    if (!token) {
      return graphError(190, {
        status: 401,
        message: "An access token is required to request this resource.",
      });
    }
    const numbers = [...this.cloud.values()].filter((n) => n.accessToken === token);
    if (numbers.length === 0) return graphError(190, { status: 401 });
    const expiredAt = numbers.find(
      (n) => n.tokenExpiresAt !== undefined && n.tokenExpiresAt <= Date.now(),
    )?.tokenExpiresAt;
    if (expiredAt !== undefined) {
      return graphError(190, {
        status: 401,
        subcode: 463,
        message: `Error validating access token: Session has expired on ${new Date(expiredAt).toUTCString()}. The current time is ${new Date().toUTCString()}.`,
      });
    }
    return numbers;
  }

  private graph(error: GraphError): Answer {
    return { status: error.status, body: error.body };
  }

  /** POST /{version}/{phone-number-id}/messages */
  cloudSend(
    version: string,
    phoneNumberId: string,
    authorization: string | undefined,
    body: unknown,
  ): Answer {
    const numbers = this.cloudAuth(authorization);
    if (!Array.isArray(numbers)) return this.graph(numbers);
    const number = numbers.find((n) => n.phoneNumberId === phoneNumberId);
    if (!number) return this.graph(unknownObject(phoneNumberId, "POST"));

    const b = (body && typeof body === "object" && !Array.isArray(body) ? body : {}) as Record<
      string,
      unknown
    >;
    if (b.messaging_product === undefined) return this.graph(missingParam("messaging_product"));
    if (b.messaging_product !== "whatsapp") {
      return this.graph(
        invalidParam(
          `Param messaging_product must be one of {WHATSAPP} - got "${String(b.messaging_product)}".`,
        ),
      );
    }
    if (b.recipient_type !== undefined && b.recipient_type !== "individual") {
      return this.graph(
        invalidParam(`Param recipient_type must be one of {INDIVIDUAL} - got "${String(b.recipient_type)}".`),
      );
    }
    // A phone number in `to`, or (since 2026) a business-scoped user id in `recipient`; `to` wins.
    const byBsuid = (b.to === undefined || b.to === "") && b.recipient !== undefined && b.recipient !== "";
    if (!byBsuid && (b.to === undefined || b.to === "")) return this.graph(missingParam("to"));
    const bsuidUser = byBsuid && typeof b.recipient === "string" ? this.userByBsuid(b.recipient) : undefined;
    if (byBsuid && !bsuidUser) {
      return this.graph(
        graphError(100, { message: "(#100) Invalid parameter", details: "Invalid 'recipient' parameter." }),
      );
    }
    const to = bsuidUser ? bsuidUser.number : digitsOf(String(b.to));
    if (!bsuidUser && (typeof b.to !== "string" || to.length < 7 || to.length > 15)) {
      return this.graph(
        graphError(100, { message: "(#100) Invalid parameter", details: "Invalid 'to' parameter." }),
      );
    }
    const type = b.type === undefined ? "text" : String(b.type);
    const types = [
      "audio",
      "contacts",
      "document",
      "image",
      "interactive",
      "location",
      "reaction",
      "sticker",
      "template",
      "text",
      "video",
    ];
    if (!types.includes(type)) {
      return this.graph(
        invalidParam(
          `Param type must be one of {${types.map((t) => t.toUpperCase()).join(", ")}} - got "${type}".`,
        ),
      );
    }
    const content = b[type] as Record<string, unknown> | undefined;
    if (!content || typeof content !== "object") return this.graph(missingParam(type));
    if (b.biz_opaque_callback_data !== undefined) {
      if (typeof b.biz_opaque_callback_data !== "string" || b.biz_opaque_callback_data.length > 512) {
        return this.graph(
          invalidParam("Param biz_opaque_callback_data must be a string of at most 512 characters."),
        );
      }
    }
    let text: string | undefined;
    let template: SimTemplate | undefined;
    if (type === "text") {
      if (typeof content.body !== "string" || !content.body) return this.graph(missingParam("text['body']"));
      if (content.body.length > 4096)
        return this.graph(invalidParam("Param text['body'] must be at most 4096 characters long."));
      text = content.body;
    } else if (["image", "video", "document", "audio", "sticker"].includes(type)) {
      if (content.link === undefined && content.id === undefined) {
        return this.graph(invalidParam(`Param ${type} must contain either an id or a link.`));
      }
      if (content.link !== undefined && !/^https?:\/\/\S+$/.test(String(content.link))) {
        return this.graph(invalidParam(`Param ${type}['link'] must be a valid http or https URL.`));
      }
      if (content.caption !== undefined && (type === "audio" || type === "sticker")) {
        return this.graph(invalidParam(`Param ${type}['caption'] is not allowed for ${type} messages.`));
      }
      text = typeof content.caption === "string" ? content.caption : `[${type}]`;
    } else if (type === "template") {
      if (typeof content.name !== "string" || !content.name)
        return this.graph(missingParam("template['name']"));
      const language = (content.language as { code?: unknown } | undefined)?.code;
      if (typeof language !== "string" || !language)
        return this.graph(missingParam("template['language']['code']"));
      if (content.components !== undefined && !Array.isArray(content.components)) {
        return this.graph(invalidParam("Param template['components'] must be an array."));
      }
    }

    const injected = this.takeInjected(phoneNumberId);
    if (injected && (injected.on ?? "api") === "api") {
      return this.graph(
        graphError(injected.code, {
          status: injected.httpStatus,
          message: injected.message,
          details: injected.details,
        }),
      );
    }

    // Throughput: accepted messages in the last second, per number.
    const now = Date.now();
    const limit = number.throughputPerSecond ?? this.knobs.throughputPerSecond;
    const recent = (this.sendTimes.get(phoneNumberId) ?? []).filter((t) => t > now - 1000);
    this.sendTimes.set(phoneNumberId, recent);
    if (recent.length >= limit) {
      this.counters.throttled++;
      return this.graph(graphError(130429));
    }

    if (type === "template") {
      const name = String(content.name);
      const language = String((content.language as { code: string }).code);
      template = [...this.templates.values()].find(
        (t) =>
          t.wabaId === number.wabaId && t.name === name && t.language === language && t.status === "APPROVED",
      );
      if (!template) {
        return this.graph(
          graphError(132001, { details: `template name (${name}) does not exist in ${language}` }),
        );
      }
      const mismatch = checkTemplateParameters(template, content.components);
      if (mismatch) return this.graph(mismatch);
      text = renderTemplate(template, content.components);
    }

    const user = this.user(to);
    const windowOpen = (user.lastWrote[phoneNumberId] ?? 0) > now - this.knobs.windowHours * 3_600_000;
    // Meta accepts the send and reports 131050 by status webhook.
    const marketingStopped =
      template?.category === "MARKETING" && user.marketingStopped?.[phoneNumberId] !== undefined;
    if (!template && !windowOpen && this.knobs.windowClosedAs === "error") {
      return this.graph(graphError(131047));
    }

    // Pair limit: a token bucket per (number, user).
    const pairKey = `${phoneNumberId}|${to}`;
    const bucket = this.pairBuckets.get(pairKey) ?? { tokens: this.knobs.pairBurst, at: now };
    bucket.tokens = Math.min(
      this.knobs.pairBurst,
      bucket.tokens + (now - bucket.at) / this.knobs.pairIntervalMs,
    );
    bucket.at = now;
    this.pairBuckets.set(pairKey, bucket);
    if (bucket.tokens < 1) return this.graph(graphError(131056));
    bucket.tokens -= 1;
    recent.push(now);

    // Business-initiated: a template outside the user's window (counts toward the messaging limit).
    const businessInitiated = !!template && !windowOpen;
    const limited = template ? this.limitFailure(number, to, template, businessInitiated, now) : null;
    if (limited && this.knobs.limitsAs === "error") return this.graph(graphError(limited));
    if (!limited && !marketingStopped) {
      if (businessInitiated) this.reachedOf(number).set(to, now);
      if (template?.category === "MARKETING")
        this.marketingTimes.set(to, [...(this.marketingTimes.get(to) ?? []), now]);
    }

    const category = template ? template.category.toLowerCase() : "service";
    const free = category === "service" || (category === "utility" && windowOpen);
    const message: SimMessage = {
      id: wamid(to),
      provider: "cloud",
      business: phoneNumberId,
      user: to,
      direction: "out",
      type,
      text,
      content,
      status: "accepted",
      statusAt: now,
      at: now,
      callbackData: typeof b.biz_opaque_callback_data === "string" ? b.biz_opaque_callback_data : undefined,
      toBsuid: bsuidUser ? true : undefined,
      template: template ? { name: template.name, language: template.language, category } : undefined,
      pricing: {
        billable: !free,
        category,
        type: free ? "free_customer_service" : "regular",
        country: countryOf(to),
        priceUsd: free ? 0 : priceUsd(category, countryOf(to)),
      },
    };
    this.pushMessage(message);
    this.changed();

    const failure =
      injected?.on === "status"
        ? { code: injected.code, details: injected.details, afterSent: true }
        : marketingStopped
          ? { code: 131050, afterSent: false }
          : limited
            ? { code: limited, afterSent: false }
            : !template && !windowOpen
              ? { code: 131047, afterSent: false }
              : this.random() < this.knobs.failShare
                ? { code: this.knobs.failCode, afterSent: true }
                : null;
    this.cloudLifecycle(number, message, version, failure);

    return {
      status: 200,
      body: {
        messaging_product: "whatsapp",
        contacts: [
          bsuidUser
            ? { input: String(b.recipient), user_id: bsuidUser.bsuid ?? bsuidOf(to) }
            : { input: String(b.to), wa_id: to },
        ],
        messages: [template ? { id: message.id, message_status: "accepted" } : { id: message.id }],
      },
    };
  }

  /** The portfolio's users reached by business-initiated templates (user → when, last). */
  private reachedOf(number: CloudNumberConfig): Map<string, number> {
    const portfolio = number.portfolioId ?? number.wabaId;
    let map = this.reached.get(portfolio);
    if (!map) {
      map = new Map();
      this.reached.set(portfolio, map);
    }
    return map;
  }

  /** Users the number's portfolio reached in the last 24 h and its limit (null: unlimited). */
  messagingLimit(phoneNumberId: string): { tier: string; limit: number | null; reached: number } | null {
    const number = this.cloud.get(phoneNumberId);
    if (!number) return null;
    const since = Date.now() - 24 * 3_600_000;
    const reached = [...this.reachedOf(number).values()].filter((at) => at > since).length;
    const tier = number.messagingLimitTier ?? "TIER_250";
    return { tier, limit: tierLimit(tier), reached };
  }

  /**
   * Why WhatsApp refuses this template now, as an error code, or null: the spam rate limit
   * (131048, which also flags the number's quality), the portfolio's messaging limit, marketing
   * to a US number (131049) and the per-user marketing cap (131049).
   */
  private limitFailure(
    number: CloudNumberConfig,
    to: string,
    template: SimTemplate,
    businessInitiated: boolean,
    now: number,
  ): number | null {
    const spam = number.spamShare ?? this.knobs.spamShare;
    if (spam > 0 && this.random() < spam) {
      if (number.qualityRating !== "RED")
        this.qualityUpdate(number.phoneNumberId, { event: "FLAGGED", qualityRating: "RED" });
      return 131048;
    }
    if (businessInitiated) {
      const limit = tierLimit(number.messagingLimitTier ?? "TIER_250");
      const reached = this.reachedOf(number);
      const since = now - 24 * 3_600_000;
      if (limit !== null && !((reached.get(to) ?? 0) > since)) {
        let count = 0;
        for (const [user, at] of reached) {
          if (at > since) count++;
          else reached.delete(user);
        }
        if (count >= limit) return this.knobs.messagingLimitCode;
      }
    }
    if (template.category !== "MARKETING") return null;
    if (this.knobs.usMarketingBlocked && /^1\d{10}$/.test(to)) return 131049;
    if (this.knobs.marketingCapUsers.includes(to)) return 131049;
    const cap = this.knobs.marketingPerUserPer24h;
    if (cap !== null) {
      const recent = (this.marketingTimes.get(to) ?? []).filter((at) => at > now - 24 * 3_600_000);
      this.marketingTimes.set(to, recent);
      if (recent.length >= cap) return 131049;
    }
    return null;
  }

  private cloudLifecycle(
    number: CloudNumberConfig,
    message: SimMessage,
    version: string,
    failure: { code: number; details?: string; afterSent: boolean } | null,
  ) {
    const delays = this.knobs.statusDelaysMs;
    const read = this.random() < this.knobs.readShare;
    if (failure && !failure.afterSent) {
      this.schedule(delays.sent, () => this.cloudStatus(number, message, version, "failed", failure));
      return;
    }
    this.schedule(delays.sent, () => this.cloudStatus(number, message, version, "sent"));
    if (failure) {
      this.schedule(delays.delivered, () => this.cloudStatus(number, message, version, "failed", failure));
      return;
    }
    this.schedule(delays.delivered, () => this.cloudStatus(number, message, version, "delivered"));
    if (read) this.schedule(delays.read, () => this.cloudStatus(number, message, version, "read"));
  }

  private conversationFor(number: CloudNumberConfig, user: string, category: string, now: number) {
    const key = `${number.phoneNumberId}|${user}|${category}`;
    let conversation = this.conversations.get(key);
    if (!conversation || conversation.expiresAt <= now) {
      conversation = { id: randomBytes(16).toString("hex"), expiresAt: now + 24 * 3_600_000 };
      this.conversations.set(key, conversation);
    }
    return conversation;
  }

  /** Moves a message to `status` and sends Meta's status webhook for it. */
  private cloudStatus(
    number: CloudNumberConfig,
    message: SimMessage,
    version: string,
    status: "sent" | "delivered" | "read" | "failed",
    failure?: { code: number; details?: string },
  ) {
    const now = Date.now();
    const previous = message.status;
    message.status = status;
    message.statusAt = now;
    const ids = this.userIds(message.toBsuid);
    const entry: Record<string, unknown> = { id: message.id, status, timestamp: seconds(now) };
    if (ids !== "bsuid") entry.recipient_id = message.user;
    if (ids !== "phone") entry.recipient_user_id = this.user(message.user).bsuid;
    if (message.callbackData) entry.biz_opaque_callback_data = message.callbackData;
    const pricing = message.pricing!;
    if (status === "failed") {
      const error = statusError(failure!.code, failure!.details);
      entry.errors = [error];
      message.error = { code: failure!.code, title: error.title };
    } else {
      // Pricing rides on "sent" and on one of delivered/read; conversation too before Graph v24.
      const priced =
        status === "sent" || status === "delivered" || (status === "read" && previous === "sent");
      const major = Number(/^v(\d+)/.exec(version)?.[1] ?? 23);
      if (priced && major < 24) {
        const conversation = this.conversationFor(number, message.user, pricing.category, now);
        entry.conversation = {
          id: conversation.id,
          ...(status === "sent" ? { expiration_timestamp: seconds(conversation.expiresAt) } : {}),
          origin: { type: pricing.category },
        };
      }
      if (priced) {
        entry.pricing = {
          billable: pricing.billable,
          pricing_model: "PMP",
          type: pricing.type,
          category: pricing.category,
        };
      }
      if (status === "delivered" && pricing.billable) {
        this.charges.push({
          messageId: message.id,
          business: number.phoneNumberId,
          country: pricing.country,
          category: pricing.category,
          priceUsd: pricing.priceUsd,
          at: now,
        });
      }
    }
    this.changed();
    this.sendCloudMessagesWebhook(number, "status", { statuses: [entry] });
  }

  /** GET /{version}/{waba-id}/message_templates */
  cloudListTemplates(wabaId: string, authorization: string | undefined, query: URLSearchParams): Answer {
    const numbers = this.cloudAuth(authorization);
    if (!Array.isArray(numbers)) return this.graph(numbers);
    if (!numbers.some((n) => n.wabaId === wabaId)) return this.graph(unknownObject(wabaId, "GET"));
    const status = query.get("status")?.toUpperCase();
    const name = query.get("name");
    const all = [...this.templates.values()]
      .filter((t) => t.wabaId === wabaId)
      .filter((t) => !status || status.split(",").includes(t.status))
      .filter((t) => !name || t.name.includes(name))
      // A stable sort: templates created in the same millisecond stay in creation order.
      .sort((a, b) => a.createdAt - b.createdAt);
    const limit = Math.min(Math.max(Number(query.get("limit") ?? 25) || 25, 1), 1000);
    const decode = (c: string | null) => (c ? Number(Buffer.from(c, "base64").toString("utf8")) || 0 : 0);
    const encode = (n: number) => Buffer.from(String(n)).toString("base64");
    const start = query.get("after") ? decode(query.get("after")) : 0;
    const page = all.slice(start, start + limit);
    const fields = query.get("fields");
    const data = page.map((t) => this.templateFields(t, fields));
    const paging: Record<string, unknown> = {
      cursors: { before: encode(start), after: encode(start + page.length) },
    };
    if (start + page.length < all.length) {
      paging.next = `${this.baseUrl}/v23.0/${wabaId}/message_templates?limit=${limit}&after=${encode(start + page.length)}`;
    }
    return { status: 200, body: { data, paging } };
  }

  private templateFields(t: SimTemplate, fields: string | null): Record<string, unknown> {
    const full: Record<string, unknown> = {
      name: t.name,
      parameter_format: t.parameter_format,
      components: t.components,
      language: t.language,
      status: t.status,
      category: t.category,
      id: t.id,
    };
    if (t.rejected_reason) full.rejected_reason = t.rejected_reason;
    if (t.quality_score) full.quality_score = { score: t.quality_score, date: Math.floor(Date.now() / 1000) };
    if (t.correct_category) full.correct_category = t.correct_category;
    if (!fields) return full;
    const wanted = new Set(fields.split(",").map((f) => f.trim()));
    wanted.add("id");
    return Object.fromEntries(Object.entries(full).filter(([k]) => wanted.has(k)));
  }

  /** POST /{version}/{waba-id}/message_templates */
  cloudCreateTemplate(wabaId: string, authorization: string | undefined, body: unknown): Answer {
    const numbers = this.cloudAuth(authorization);
    if (!Array.isArray(numbers)) return this.graph(numbers);
    if (!numbers.some((n) => n.wabaId === wabaId)) return this.graph(unknownObject(wabaId, "POST"));
    const b = (body && typeof body === "object" ? body : {}) as Record<string, unknown>;
    const invalid = validateNewTemplate(b);
    if (invalid) return this.graph(invalid);
    const name = String(b.name);
    const language = String(b.language);
    if (
      [...this.templates.values()].some(
        (t) => t.wabaId === wabaId && t.name === name && t.language === language,
      )
    ) {
      return this.graph(
        graphError(100, {
          message: "Invalid parameter",
          subcode: 2388024,
          userTitle: "Message template already exists",
          userMsg: `There is already ${language} content for this template. You can create a new template and try again.`,
        }),
      );
    }
    if ([...this.templates.values()].filter((t) => t.wabaId === wabaId).length >= 250) {
      return this.graph(
        graphError(100, {
          message: "Invalid parameter",
          subcode: 2388025,
          userTitle: "Message template limit reached",
          userMsg: "This WhatsApp Business Account has reached its limit of 250 message templates.",
        }),
      );
    }
    const template = this.addTemplate({
      wabaId,
      name,
      language,
      category: String(b.category).toUpperCase(),
      status: "PENDING",
      parameter_format: String(b.parameter_format ?? "POSITIONAL").toUpperCase() as "POSITIONAL" | "NAMED",
      components: b.components as Record<string, unknown>[],
    });
    this.autoApprove(template.id);
    return { status: 200, body: { id: template.id, status: template.status, category: template.category } };
  }

  /** POST /{version}/{template-id}: edits a template's components or category; it goes back to review. */
  cloudEditTemplate(id: string, authorization: string | undefined, body: unknown): Answer {
    const numbers = this.cloudAuth(authorization);
    if (!Array.isArray(numbers)) return this.graph(numbers);
    const template = this.templates.get(id);
    if (!template || !numbers.some((n) => n.wabaId === template.wabaId)) {
      return this.graph(unknownObject(id, "POST"));
    }
    if (!["APPROVED", "REJECTED", "PAUSED"].includes(template.status)) {
      return this.graph(
        graphError(100, {
          message: "Invalid parameter",
          subcode: 2388098,
          userTitle: "Message template can't be edited",
          userMsg: `A template can be edited only when it is approved, rejected or paused (this one is ${template.status}).`,
        }),
      );
    }
    const b = (body && typeof body === "object" ? body : {}) as Record<string, unknown>;
    const next = {
      name: template.name,
      language: template.language,
      category: b.category ?? template.category,
      parameter_format: b.parameter_format ?? template.parameter_format,
      components: b.components ?? template.components,
    };
    const invalid = validateNewTemplate(next);
    if (invalid) return this.graph(invalid);
    template.category = String(next.category).toUpperCase();
    template.parameter_format = String(next.parameter_format).toUpperCase() as "POSITIONAL" | "NAMED";
    template.components = next.components as Record<string, unknown>[];
    template.status = "PENDING";
    delete template.rejected_reason;
    this.changed();
    this.autoApprove(template.id);
    return { status: 200, body: { success: true, id: template.id, category: template.category } };
  }

  /** DELETE /{version}/{waba-id}/message_templates?name=…[&hsm_id=…] */
  cloudDeleteTemplate(wabaId: string, authorization: string | undefined, query: URLSearchParams): Answer {
    const numbers = this.cloudAuth(authorization);
    if (!Array.isArray(numbers)) return this.graph(numbers);
    if (!numbers.some((n) => n.wabaId === wabaId)) return this.graph(unknownObject(wabaId, "DELETE"));
    const name = query.get("name");
    if (!name) return this.graph(missingParam("name"));
    const hsmId = query.get("hsm_id");
    const doomed = [...this.templates.values()].filter(
      (t) => t.wabaId === wabaId && t.name === name && (!hsmId || t.id === hsmId),
    );
    if (doomed.length === 0) {
      return this.graph(
        graphError(100, {
          message: "Invalid parameter",
          subcode: 2593002,
          userTitle: "Message template not found",
          userMsg: `There is no message template named ${name}${hsmId ? ` with id ${hsmId}` : ""}.`,
        }),
      );
    }
    for (const t of doomed) this.templates.delete(t.id);
    this.changed();
    return { status: 200, body: { success: true } };
  }

  private autoApprove(id: string) {
    const auto = this.knobs.autoApproveTemplatesMs;
    if (auto === null || auto === undefined) return;
    this.schedule(auto, () => {
      if (this.templates.get(id)?.status === "PENDING") this.setTemplateStatus(id, "APPROVED");
    });
  }

  /** GET /{version}/{id}: a template, a phone number or a media object. */
  cloudGetObject(id: string, authorization: string | undefined, query: URLSearchParams): Answer {
    const numbers = this.cloudAuth(authorization);
    if (!Array.isArray(numbers)) return this.graph(numbers);
    const template = this.templates.get(id);
    if (template && numbers.some((n) => n.wabaId === template.wabaId)) {
      return { status: 200, body: this.templateFields(template, query.get("fields")) };
    }
    const number = numbers.find((n) => n.phoneNumberId === id);
    if (number) {
      const full: Record<string, unknown> = {
        verified_name: number.verifiedName,
        display_phone_number: number.displayNumber,
        quality_rating: number.qualityRating,
        messaging_limit_tier: number.messagingLimitTier,
        // The portfolio-level field Meta reads the limit from since 2025-10-07.
        whatsapp_business_manager_messaging_limit: number.messagingLimitTier,
        code_verification_status: "VERIFIED",
        platform_type: "CLOUD_API",
        throughput: { level: "STANDARD" },
        id: number.phoneNumberId,
      };
      const fields = query.get("fields");
      if (!fields) return { status: 200, body: full };
      const wanted = new Set([...fields.split(",").map((f) => f.trim()), "id"]);
      return { status: 200, body: Object.fromEntries(Object.entries(full).filter(([k]) => wanted.has(k))) };
    }
    const media = this.media.get(id);
    if (media) {
      return {
        status: 200,
        body: {
          messaging_product: "whatsapp",
          url: `${this.baseUrl}/_sim/media/${id}`,
          mime_type: media.mimeType,
          sha256: randomBytes(32).toString("hex"),
          file_size: media.bytes.length,
          id,
        },
      };
    }
    return this.graph(unknownObject(id, "GET"));
  }

  // ------------------------------------------------------------------ templates review, quality

  /** A review outcome (APPROVED, REJECTED, PAUSED, DISABLED, REINSTATED, …) and its webhook. */
  setTemplateStatus(id: string, event: string, reason?: string): SimTemplate | null {
    const template = this.templates.get(id);
    if (!template) return null;
    const upper = event.toUpperCase();
    template.status = upper === "REINSTATED" ? "APPROVED" : upper === "FLAGGED" ? template.status : upper;
    if (upper === "REJECTED") template.rejected_reason = reason ?? "INVALID_FORMAT";
    else delete template.rejected_reason;
    this.changed();
    const value: Record<string, unknown> = {
      event: upper,
      message_template_id: Number(template.id),
      message_template_name: template.name,
      message_template_language: template.language,
      reason: reason ?? (upper === "REJECTED" ? "INVALID_FORMAT" : "NONE"),
      message_template_category: template.category,
    };
    this.cloudBusinessWebhook(template.wabaId, "message_template_status_update", value, "template_status");
    return template;
  }

  /**
   * Meta re-categorises a template. `announce`: the advance notice (template_category_update with
   * correct_category and the time it takes effect, ≈ 24 h ahead; the category stays for now);
   * otherwise the change itself (previous_category → new_category).
   */
  setTemplateCategory(id: string, category: string, announce: boolean): SimTemplate | null {
    const template = this.templates.get(id);
    if (!template) return null;
    const to = category.toUpperCase();
    const value: Record<string, unknown> = {
      message_template_id: Number(template.id),
      message_template_name: template.name,
      message_template_language: template.language,
    };
    if (announce) {
      template.correct_category = to;
      Object.assign(value, {
        correct_category: to,
        new_category: template.category,
        category_update_timestamp: Math.floor(Date.now() / 1000) + 24 * 60 * 60,
      });
    } else {
      Object.assign(value, { previous_category: template.category, new_category: to });
      template.category = to;
      delete template.correct_category;
    }
    this.changed();
    this.cloudBusinessWebhook(template.wabaId, "template_category_update", value, "template_category");
    return template;
  }

  /** A template's quality score changes (message_template_quality_update). */
  setTemplateQuality(id: string, score: string): SimTemplate | null {
    const template = this.templates.get(id);
    if (!template) return null;
    const previous = template.quality_score ?? "UNKNOWN";
    template.quality_score = score.toUpperCase();
    this.changed();
    this.cloudBusinessWebhook(
      template.wabaId,
      "message_template_quality_update",
      {
        previous_quality_score: previous,
        new_quality_score: template.quality_score,
        message_template_id: Number(template.id),
        message_template_name: template.name,
        message_template_language: template.language,
      },
      "template_quality",
    );
    return template;
  }

  /** A quality or messaging-tier change of a number, and its phone_number_quality_update webhook. */
  qualityUpdate(phoneNumberId: string, update: { event?: string; tier?: string; qualityRating?: string }) {
    const number = this.cloud.get(phoneNumberId);
    if (!number) return null;
    const event = (update.event ?? "FLAGGED").toUpperCase();
    if (update.tier) number.messagingLimitTier = update.tier;
    number.qualityRating =
      update.qualityRating ??
      (event === "FLAGGED" ? "RED" : event === "UNFLAGGED" ? "GREEN" : number.qualityRating);
    this.changed();
    this.cloudBusinessWebhook(
      number.wabaId,
      "phone_number_quality_update",
      {
        display_phone_number: number.displayNumber,
        event,
        current_limit: number.messagingLimitTier,
        max_daily_conversations_per_business: number.messagingLimitTier,
      },
      "quality",
      [number],
    );
    return number;
  }

  /** WABA-level webhooks go once to each distinct webhook URL of the WABA's numbers. */
  private cloudBusinessWebhook(
    wabaId: string,
    field: string,
    value: Record<string, unknown>,
    kind: string,
    numbers = [...this.cloud.values()].filter((n) => n.wabaId === wabaId),
  ) {
    const seen = new Set<string>();
    for (const n of numbers) {
      if (!n.webhookUrl || seen.has(n.webhookUrl + "|" + n.appSecret)) continue;
      seen.add(n.webhookUrl + "|" + n.appSecret);
      this.webhooks.send({
        provider: "cloud",
        url: n.webhookUrl,
        appSecret: n.appSecret,
        kind,
        payload: {
          object: "whatsapp_business_account",
          entry: [{ id: wabaId, time: Math.floor(Date.now() / 1000), changes: [{ field, value }] }],
        },
        drop: kind.startsWith("template") && this.knobs.dropTemplateWebhooks,
      });
    }
  }

  /**
   * A webhook about one business number: `field: "messages"` (inbound messages or statuses) or
   * `field: "user_preferences"`, its value starting with the number's metadata.
   */
  private sendCloudMessagesWebhook(
    number: {
      webhookUrl?: string;
      appSecret: string;
      wabaId: string;
      displayNumber: string;
      phoneNumberId: string;
    },
    kind: "status" | "message" | "user_preferences",
    body: Record<string, unknown>,
    field: "messages" | "user_preferences" = "messages",
  ): void {
    if (!number.webhookUrl) return;
    this.webhooks.send({
      provider: "cloud",
      url: number.webhookUrl,
      appSecret: number.appSecret,
      kind,
      payload: {
        object: "whatsapp_business_account",
        entry: [
          {
            id: number.wabaId,
            changes: [
              {
                field,
                value: {
                  messaging_product: "whatsapp",
                  metadata: {
                    display_phone_number: number.displayNumber,
                    phone_number_id: number.phoneNumberId,
                  },
                  ...body,
                },
              },
            ],
          },
        ],
      },
    });
  }

  // ------------------------------------------------------------------ WAHA

  private wahaAuth(apiKey: string | undefined): WahaSessionConfig[] | Answer {
    const sessions = [...this.waha.values()].filter((s) => apiKey && s.apiKey === apiKey);
    return sessions.length ? sessions : wahaError(401, "Unauthorized");
  }

  private wahaSessionFor(apiKey: string | undefined, name: string): WahaSessionConfig | Answer {
    const sessions = this.wahaAuth(apiKey);
    if (isAnswer(sessions)) return sessions;
    const session = sessions.find((s) => s.session === name);
    if (!session) {
      return wahaError(
        404,
        `We didn't find a session with name '${name}'. Please start it first by using POST /api/sessions/${name}/start request`,
      );
    }
    return session;
  }

  private wahaMe(session: WahaSessionConfig) {
    const number = session.number ?? digitsOf(session.session).padEnd(11, "0").slice(0, 15);
    return { id: `${number}@c.us`, pushName: session.pushName ?? "Simulated WAHA" };
  }

  /** POST /api/sendText and /api/sendImage */
  wahaSend(kind: "text" | "image", apiKey: string | undefined, body: unknown): Answer {
    const b = (body && typeof body === "object" ? body : {}) as Record<string, unknown>;
    const name = typeof b.session === "string" && b.session ? b.session : "default";
    const s = this.wahaSessionFor(apiKey, name);
    if (isAnswer(s)) return s;

    const problems: string[] = [];
    if (typeof b.chatId !== "string" || !b.chatId) problems.push("chatId should not be empty");
    else if (!/^[\d-]+@(c\.us|g\.us|lid|s\.whatsapp\.net)$/.test(b.chatId))
      problems.push("chatId must be a valid chat id");
    if (kind === "text" && (typeof b.text !== "string" || !b.text)) problems.push("text should not be empty");
    const file = b.file as
      { url?: unknown; data?: unknown; mimetype?: unknown; filename?: unknown } | undefined;
    if (kind === "image") {
      if (!file || typeof file !== "object") problems.push("file should not be empty");
      else {
        if (file.url === undefined && file.data === undefined) problems.push("file must have url or data");
        if (file.url !== undefined && !/^https?:\/\/\S+$/.test(String(file.url)))
          problems.push("file.url must be a URL address");
        if (typeof file.mimetype !== "string" || !file.mimetype)
          problems.push("file.mimetype should not be empty");
      }
    }
    if (problems.length) return wahaError(400, problems);

    const injected = this.takeInjected(s.session);
    if (injected && (injected.on ?? "api") === "api") {
      const status = injected.httpStatus ?? injected.code;
      if (status === 422) return this.wahaNotWorking(s, injected.details ?? "STARTING");
      return wahaError(
        status,
        injected.message ?? `Simulated error ${status}`,
        status >= 500 ? "Internal Server Error" : undefined,
      );
    }
    if ((s.status ?? "WORKING") !== "WORKING") return this.wahaNotWorking(s, s.status ?? "STOPPED");

    const chat = String(b.chatId);
    const userNumber = this.userOfChat(chat);
    const me = this.wahaMe(s);
    const now = Date.now();
    const id = wahaMessageId(true, chat);
    const text = kind === "text" ? String(b.text) : typeof b.caption === "string" ? b.caption : "[image]";
    const message: SimMessage = {
      id,
      provider: "waha",
      business: s.session,
      user: userNumber,
      direction: "out",
      type: kind,
      text,
      content: b,
      status: "accepted",
      statusAt: now,
      at: now,
    };
    this.pushMessage(message);
    this.changed();
    const failure = injected?.on === "status" || this.random() < this.knobs.failShare;
    this.wahaLifecycle(s, message, chat, failure);
    if (this.wahaEvents(s).includes("message.any")) {
      this.wahaWebhook(s, "message.any", {
        id,
        timestamp: Math.floor(now / 1000),
        from: me.id,
        fromMe: true,
        source: "api",
        to: chat,
        body: text,
        hasMedia: kind === "image",
        ack: 0,
        ackName: "PENDING",
        replyTo: null,
        _data: {},
      });
    }
    const [, , rawId] = id.split("_");
    return {
      status: 201,
      body: {
        id: { fromMe: true, remote: chat, id: rawId, _serialized: id },
        ack: 0,
        hasMedia: kind === "image",
        body: text,
        type: kind === "text" ? "chat" : "image",
        timestamp: Math.floor(now / 1000),
        from: me.id,
        to: chat,
        deviceType: "web",
        isForwarded: false,
        fromMe: true,
        hasQuotedMsg: typeof b.reply_to === "string",
        _data: {
          id: { fromMe: true, remote: chat, id: rawId, _serialized: id },
          body: text,
          type: kind === "text" ? "chat" : "image",
        },
      },
    };
  }

  private wahaNotWorking(s: WahaSessionConfig, status: string): Answer {
    return {
      status: 422,
      body: {
        error: "Session status is not as expected. Try again later or restart the session",
        session: s.session,
        status,
        expected: ["WORKING"],
      },
    };
  }

  private userOfChat(chat: string): string {
    if (chat.endsWith("@lid")) {
      const user = [...this.users.values()].find((u) => u.lid === chat);
      if (user) return user.number;
    }
    return digitsOf(chat.split("@")[0]);
  }

  private wahaEvents(s: WahaSessionConfig) {
    return s.events ?? DEFAULT_WAHA_EVENTS;
  }

  private wahaLifecycle(s: WahaSessionConfig, message: SimMessage, chat: string, failure: boolean) {
    const delays = this.knobs.statusDelaysMs;
    const read = this.random() < this.knobs.readShare;
    this.schedule(delays.sent, () => this.wahaAck(s, message, chat, 1));
    if (failure) {
      this.schedule(delays.delivered, () => this.wahaAck(s, message, chat, -1));
      return;
    }
    this.schedule(delays.delivered, () => this.wahaAck(s, message, chat, 2));
    if (read) this.schedule(delays.read, () => this.wahaAck(s, message, chat, 3));
  }

  private wahaAck(s: WahaSessionConfig, message: SimMessage, chat: string, ack: number) {
    message.status = ack === -1 ? "failed" : ack === 1 ? "sent" : ack === 2 ? "delivered" : "read";
    message.statusAt = Date.now();
    if (ack === -1) message.error = { code: -1, title: "ERROR" };
    this.changed();
    this.wahaWebhook(s, "message.ack", {
      id: message.id,
      from: this.wahaMe(s).id,
      to: chat,
      participant: null,
      fromMe: true,
      ack,
      ackName: ACK_NAMES[ack],
    });
  }

  private wahaWebhook(s: WahaSessionConfig, event: string, payload: Record<string, unknown>) {
    if (!s.webhookUrl || !this.wahaEvents(s).includes(event)) return;
    const now = Date.now();
    this.webhooks.send({
      provider: "waha",
      url: s.webhookUrl,
      hmacKey: s.hmacKey,
      kind: event,
      payload: {
        id: `evt_${ulid(now)}`,
        timestamp: now,
        session: s.session,
        metadata: {},
        engine: "WEBJS",
        me: (s.status ?? "WORKING") === "WORKING" ? this.wahaMe(s) : null,
        environment: WAHA_ENVIRONMENT,
        event,
        payload,
      },
    });
  }

  /** GET /api/sessions/:session */
  wahaSessionInfo(apiKey: string | undefined, name: string): Answer {
    const session = this.wahaSessionFor(apiKey, name);
    if (isAnswer(session)) return session;
    return { status: 200, body: this.wahaSessionBody(session) };
  }

  /** GET /api/sessions */
  wahaSessionList(apiKey: string | undefined): Answer {
    const sessions = this.wahaAuth(apiKey);
    if (isAnswer(sessions)) return sessions;
    return { status: 200, body: sessions.map((s) => this.wahaSessionBody(s)) };
  }

  private wahaSessionBody(s: WahaSessionConfig) {
    const status = s.status ?? "WORKING";
    return {
      name: s.session,
      status,
      config: {
        webhooks: s.webhookUrl
          ? [{ url: s.webhookUrl, events: this.wahaEvents(s), hmac: s.hmacKey ? { key: "***" } : null }]
          : [],
      },
      me: status === "WORKING" ? this.wahaMe(s) : null,
      engine: { engine: "WEBJS" },
    };
  }

  /** A session's status changes (e.g. to SCAN_QR_CODE) and the session.status webhook says so. */
  setWahaStatus(name: string, status: string) {
    const session = this.waha.get(name);
    if (!session) return null;
    session.status = status.toUpperCase();
    this.changed();
    this.wahaWebhook(session, "session.status", { name: session.session, status: session.status });
    return session;
  }

  // ------------------------------------------------------------------ simulated users

  private business(to: string, provider?: "cloud" | "waha"): Business | null {
    const digits = digitsOf(to);
    if (provider !== "waha") {
      const number =
        this.cloud.get(to) ?? [...this.cloud.values()].find((n) => digits && n.displayNumber === digits);
      if (number) return { provider: "cloud", key: number.phoneNumberId, number };
    }
    if (provider !== "cloud") {
      const session =
        this.waha.get(to) ??
        [...this.waha.values()].find((s) => digits && this.wahaMe(s).id === `${digits}@c.us`);
      if (session) return { provider: "waha", key: session.session, session };
    }
    return null;
  }

  private newMedia(mimeType: string): string {
    const id = String(1_000_000_000_000_000 + Math.floor(Math.random() * 8_000_000_000_000_000)).slice(0, 16);
    this.media.set(id, { mimeType, bytes: PIXEL });
    return id;
  }

  /** A simulated user writes to a business number: the message, and the signed inbound webhook. */
  userWrites(number: string, input: UserMessageInput): Answer {
    const digits = digitsOf(number);
    if (digits.length < 7 || digits.length > 15)
      return { status: 400, body: { error: "The user's number must have 7–15 digits" } };
    const business = this.business(String(input.to ?? ""), input.provider);
    if (!business)
      return { status: 404, body: { error: `No Cloud number or WAHA session matches "${input.to}"` } };
    const user = this.user(digits, input.name);
    const at = input.timestamp ?? Date.now();
    user.lastWrote[business.key] = Math.max(user.lastWrote[business.key] ?? 0, at);
    const type = input.type ?? "text";
    const built =
      business.provider === "cloud"
        ? this.cloudInbound(business.number, user, type, input, at)
        : this.wahaInbound(business.session, user, type, input, at);
    if (isAnswer(built)) return built;
    const message: SimMessage = {
      id: built.id,
      provider: business.provider,
      business: business.key,
      user: user.number,
      direction: "in",
      type,
      text: built.text,
      content: built.content,
      status: "received",
      statusAt: at,
      at,
    };
    this.pushMessage(message);
    this.changed();
    return { status: 200, body: { id: built.id, provider: business.provider, business: business.key } };
  }

  private cloudInbound(
    number: CloudNumberConfig,
    user: SimUser,
    type: string,
    input: UserMessageInput,
    at: number,
  ): { id: string; text?: string; content: unknown } | Answer {
    const id = wamid(user.number);
    const ids = this.userIds(input.bsuidOnly);
    const message: Record<string, unknown> = { id, timestamp: seconds(at), type };
    if (ids !== "bsuid") message.from = user.number;
    if (ids !== "phone") message.from_user_id = user.bsuid;
    let text: string | undefined;
    switch (type) {
      case "text":
        if (!input.text) return { status: 400, body: { error: "A text message needs text" } };
        message.text = { body: input.text };
        text = input.text;
        break;
      case "image":
      case "video":
      case "audio":
      case "document":
      case "sticker": {
        const mimeType =
          input.mimeType ??
          {
            image: "image/jpeg",
            video: "video/mp4",
            audio: "audio/ogg; codecs=opus",
            document: "application/pdf",
            sticker: "image/webp",
          }[type];
        const media: Record<string, unknown> = {
          id: this.newMedia(mimeType),
          mime_type: mimeType,
          sha256: randomBytes(32).toString("base64"),
        };
        if (input.caption && type !== "audio" && type !== "sticker") media.caption = input.caption;
        if (type === "document") media.filename = input.filename ?? "document.pdf";
        if (type === "audio") media.voice = input.voice ?? true;
        if (type === "sticker") media.animated = false;
        message[type] = media;
        text = input.caption ?? `[${type}]`;
        break;
      }
      case "location":
        message.location = {
          latitude: input.latitude ?? 40.4168,
          longitude: input.longitude ?? -3.7038,
          ...(input.locationName ? { name: input.locationName } : {}),
          ...(input.address ? { address: input.address } : {}),
        };
        text = `[location ${input.latitude ?? 40.4168}, ${input.longitude ?? -3.7038}]`;
        break;
      case "interactive": {
        const kind = input.interactive ?? "button_reply";
        const reply: Record<string, unknown> = { id: input.id ?? "btn_1", title: input.title ?? "Yes" };
        if (kind === "list_reply" && input.description) reply.description = input.description;
        message.interactive = { type: kind, [kind]: reply };
        text = String(reply.title);
        break;
      }
      case "button":
        message.button = {
          payload: input.payload ?? input.title ?? "Yes",
          text: input.title ?? input.text ?? "Yes",
        };
        text = String((message.button as { text: string }).text);
        break;
      case "reaction":
        if (!input.messageId) return { status: 400, body: { error: "A reaction needs messageId" } };
        message.reaction = { message_id: input.messageId, ...(input.emoji ? { emoji: input.emoji } : {}) };
        text = input.emoji ? `reacted ${input.emoji}` : "removed a reaction";
        break;
      case "contacts":
        message.contacts = [
          {
            name: {
              formatted_name: input.title ?? "Ana López",
              first_name: (input.title ?? "Ana López").split(" ")[0],
            },
            phones: [
              {
                phone: `+${input.payload ?? "34600999888"}`,
                wa_id: input.payload ?? "34600999888",
                type: "CELL",
              },
            ],
          },
        ];
        text = "[contact]";
        break;
      case "unsupported":
        message.errors = [
          {
            code: 131051,
            title: "Message type unknown",
            message: "Message type unknown",
            error_data: { details: "Message type is currently not supported." },
          },
        ];
        text = "[unsupported]";
        break;
      default:
        if (!input.raw)
          return {
            status: 400,
            body: { error: `Unknown message type "${type}"; pass raw for other shapes` },
          };
    }
    if (input.replyTo) message.context = { from: number.displayNumber, id: input.replyTo };
    else if (input.forwarded) message.context = { forwarded: true };
    if (input.raw) Object.assign(message, input.raw);
    this.sendCloudMessagesWebhook(number, "message", {
      contacts: [this.cloudContact(user, ids)],
      messages: [message],
    });
    return { id, text, content: message };
  }

  private wahaInbound(
    session: WahaSessionConfig,
    user: SimUser,
    type: string,
    input: UserMessageInput,
    at: number,
  ): { id: string; text?: string; content: unknown } | Answer {
    const chat = input.asLid || this.knobs.wahaLid ? user.lid : `${user.number}@c.us`;
    const id = wahaMessageId(false, chat);
    const me = this.wahaMe(session);
    let text: string;
    let media: Record<string, unknown> | null = null;
    let location: Record<string, unknown> | undefined;
    if (type === "text") {
      if (!input.text) return { status: 400, body: { error: "A text message needs text" } };
      text = input.text;
    } else if (["image", "video", "audio", "document"].includes(type)) {
      const mimeType =
        input.mimeType ??
        {
          image: "image/jpeg",
          video: "video/mp4",
          audio: "audio/ogg; codecs=opus",
          document: "application/pdf",
        }[type]!;
      const mediaId = this.newMedia(mimeType);
      const extension = mimeType.split("/")[1].split(";")[0];
      media = {
        url: `${this.baseUrl}/api/files/${session.session}/${mediaId}.${extension}`,
        mimetype: mimeType,
        filename: type === "document" ? (input.filename ?? "document.pdf") : null,
        error: null,
      };
      text = input.caption ?? "";
    } else if (type === "location") {
      location = {
        latitude: String(input.latitude ?? 40.4168),
        longitude: String(input.longitude ?? -3.7038),
        description: input.locationName ?? input.address ?? "",
      };
      text = "";
    } else {
      return {
        status: 400,
        body: { error: `WAHA users send text, image, video, audio, document or location, not "${type}"` },
      };
    }
    const payload: Record<string, unknown> = {
      id,
      timestamp: Math.floor(at / 1000),
      from: chat,
      fromMe: false,
      source: "app",
      to: me.id,
      participant: null,
      body: text,
      hasMedia: media !== null,
      media,
      ack: 1,
      ackName: "SERVER",
      replyTo: input.replyTo ? { id: input.replyTo, participant: me.id, body: null } : null,
      _data: { notifyName: user.name, type: type === "text" ? "chat" : type === "audio" ? "ptt" : type },
    };
    if (location) payload.location = location;
    this.wahaWebhook(session, "message", payload);
    this.wahaWebhook(session, "message.any", payload);
    return { id, text: text || `[${type}]`, content: payload };
  }

  /**
   * A simulated user stops or resumes marketing messages from a Cloud number (WhatsApp's own
   * control): the signed `user_preferences` webhook goes to the number's webhook URL, and while
   * stopped, marketing templates to the user are accepted and then fail with 131050.
   */
  setMarketingPreference(number: string, input: MarketingPreferenceInput): Answer {
    const digits = digitsOf(number);
    if (digits.length < 7 || digits.length > 15)
      return { status: 400, body: { error: "The user's number must have 7–15 digits" } };
    const value = typeof input.value === "string" ? input.value.toLowerCase() : "";
    if (value !== "stop" && value !== "resume")
      return { status: 400, body: { error: 'value must be "stop" or "resume"' } };
    if (input.timestamp !== undefined && !(typeof input.timestamp === "number" && input.timestamp > 0))
      return { status: 400, body: { error: "timestamp must be milliseconds since the epoch" } };
    const business = this.business(String(input.to ?? ""));
    if (!business)
      return { status: 404, body: { error: `No Cloud number or WAHA session matches "${input.to}"` } };
    if (business.provider !== "cloud") {
      return {
        status: 400,
        body: {
          error: `"${input.to}" is a WAHA session: stopping marketing messages is a Cloud API feature`,
        },
      };
    }
    const user = this.user(digits, input.name);
    const at = input.timestamp ?? Date.now();
    const stopped = { ...user.marketingStopped };
    if (value === "stop") stopped[business.key] = at;
    else delete stopped[business.key];
    user.marketingStopped = stopped;
    this.changed();
    this.sendCloudMessagesWebhook(
      business.number,
      "user_preferences",
      {
        contacts: [this.cloudContact(user, this.userIds(input.bsuidOnly))],
        user_preferences: [
          {
            ...(this.userIds(input.bsuidOnly) === "bsuid" ? {} : { wa_id: user.number }),
            ...(this.userIds(input.bsuidOnly) === "phone" ? {} : { user_id: user.bsuid }),
            detail: `User requested to ${value} marketing messages`,
            category: "marketing_messages",
            value,
            timestamp: Math.floor(at / 1000),
          },
        ],
      },
      "user_preferences",
    );
    return {
      status: 200,
      body: { user: user.number, business: business.key, value, stopped: value === "stop" },
    };
  }

  /** The phone page marks a business message read (when statuses are not automatic). */
  markRead(messageId: string): boolean {
    const message = this.messages.find((m) => m.id === messageId && m.direction === "out");
    if (!message || message.status === "read" || message.status === "failed") return false;
    if (message.provider === "cloud") {
      const number = this.cloud.get(message.business);
      if (!number) return false;
      this.cloudStatus(number, message, "v23.0", "read");
    } else {
      const session = this.waha.get(message.business);
      if (!session) return false;
      this.wahaAck(session, message, `${message.user}@c.us`, 3);
    }
    return true;
  }

  mediaFile(id: string) {
    return this.media.get(id.replace(/\.[a-z0-9]+$/i, ""));
  }
}
