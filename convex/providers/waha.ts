/**
 * WAHA (a self-hosted WhatsApp HTTP API), for actions only: sendText, sendImage by URL and the
 * session's status. Same contract as whatsappCloud.ts: bounded by a timeout, never throws for
 * provider failures, errors classified (classifyWahaAnswer). WAHA has no callback data: the
 * returned message id is what its message.ack webhooks carry, so callers store it.
 */
import {
  callProvider,
  classify,
  classifyWahaAnswer,
  type HttpOutcome,
  type ProviderError,
  type SendResult,
} from "./whatsappErrors";
import { refusedTarget } from "./outboundUrls";

export type { ProviderError, SendResult };

export type WahaConfig = {
  /** e.g. http://waha.internal:3000 */
  baseUrl: string;
  /** Sent as X-Api-Key. */
  apiKey: string;
  session: string;
  /** Per call, default 10 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /**
   * Lets baseUrl be a loopback or private address (outboundUrls.ts). Only the embedded default
   * sets it (ALLOW_PRIVATE_PROVIDER_URLS); otherwise such a call is refused without being made.
   */
  allowPrivateTargets?: boolean;
};

export type WahaSendCommon = {
  /** A phone number (digits, "+" and spaces are fine) or a chat id ("…@c.us", "…@lid"). */
  to: string;
  /** The id of the message this one replies to. */
  replyTo?: string;
};

/** STOPPED, STARTING, SCAN_QR_CODE, WORKING, FAILED. */
export type WahaSessionStatus = {
  name: string;
  status: string;
  me?: { id: string; pushName?: string };
  engine?: string;
};

type Result<T> = ({ ok: true } & T) | { ok: false; error: ProviderError };

/** `34600111222@c.us` from a phone number; chat ids pass through. */
export function chatId(to: string): string {
  return to.includes("@") ? to.trim() : `${to.replace(/[^\d]/g, "")}@c.us`;
}

type Outcome = HttpOutcome | { kind: "refused"; message: string };

async function call(
  config: WahaConfig,
  method: "GET" | "POST",
  path: string,
  body?: unknown,
): Promise<Outcome> {
  const url = `${config.baseUrl.replace(/\/+$/, "")}${path}`;
  const refused = refusedTarget(url, { allowPrivate: config.allowPrivateTargets === true });
  if (refused) return { kind: "refused", message: `Refused to call ${config.baseUrl}: ${refused}` };
  return await callProvider(
    url,
    { method, headers: { "x-api-key": config.apiKey }, body },
    { timeoutMs: config.timeoutMs, fetch: config.fetch },
  );
}

function failure(outcome: Outcome): ProviderError | null {
  // A person must change the address: nothing is sent until then.
  if (outcome.kind === "refused") return { class: "auth", message: outcome.message, action: "stop_channel" };
  if (outcome.kind !== "answer") return classify(outcome);
  if (outcome.status < 200 || outcome.status >= 300) {
    return classifyWahaAnswer(outcome.status, outcome.body, outcome.headers);
  }
  return null;
}

/**
 * The sent message's id, whichever engine answered: WEBJS gives `id._serialized`
 * ("true_<chat>_<id>"), NOWEB and GOWS `key.id`, some versions a plain string `id`.
 */
export function messageIdOf(body: unknown): string | undefined {
  const b = body as
    { id?: unknown; key?: { id?: unknown; remoteJid?: unknown; fromMe?: unknown } } | undefined;
  if (typeof b?.id === "string") return b.id;
  const serialized = (b?.id as { _serialized?: unknown } | undefined)?._serialized;
  if (typeof serialized === "string") return serialized;
  if (typeof b?.key?.id === "string") return b.key.id;
  return undefined;
}

async function send(
  config: WahaConfig,
  endpoint: string,
  body: Record<string, unknown>,
): Promise<SendResult> {
  const outcome = await call(config, "POST", `/api/${endpoint}`, body);
  const error = failure(outcome);
  if (error) return { ok: false, error };
  const answer = outcome as HttpOutcome & { kind: "answer" };
  const id = messageIdOf(answer.body);
  if (!id) {
    return {
      ok: false,
      error: {
        class: "permanent",
        httpStatus: answer.status,
        message: `Unexpected answer from WAHA (no message id): ${answer.text.slice(0, 200)}`,
      },
    };
  }
  return { ok: true, providerMessageId: id };
}

export function sendText(
  config: WahaConfig,
  message: WahaSendCommon & { text: string },
): Promise<SendResult> {
  return send(config, "sendText", {
    session: config.session,
    chatId: chatId(message.to),
    text: message.text,
    ...(message.replyTo ? { reply_to: message.replyTo } : {}),
  });
}

export function sendImage(
  config: WahaConfig,
  message: WahaSendCommon & { url: string; mimetype?: string; filename?: string; caption?: string },
): Promise<SendResult> {
  return send(config, "sendImage", {
    session: config.session,
    chatId: chatId(message.to),
    file: {
      mimetype: message.mimetype ?? "image/jpeg",
      url: message.url,
      ...(message.filename ? { filename: message.filename } : {}),
    },
    ...(message.caption !== undefined ? { caption: message.caption } : {}),
    ...(message.replyTo ? { reply_to: message.replyTo } : {}),
  });
}

/** `GET /api/sessions/{session}`: the session's status and, once linked, its own number. */
export async function sessionStatus(config: WahaConfig): Promise<Result<{ session: WahaSessionStatus }>> {
  const outcome = await call(config, "GET", `/api/sessions/${encodeURIComponent(config.session)}`);
  const error = failure(outcome);
  if (error) return { ok: false, error };
  const answer = outcome as HttpOutcome & { kind: "answer" };
  const b = answer.body as
    | { name?: unknown; status?: unknown; me?: { id?: unknown; pushName?: unknown } | null; engine?: unknown }
    | undefined;
  if (typeof b?.status !== "string") {
    return {
      ok: false,
      error: {
        class: "permanent",
        httpStatus: answer.status,
        message: "Unexpected answer from WAHA (no status)",
      },
    };
  }
  const session: WahaSessionStatus = {
    name: typeof b.name === "string" ? b.name : config.session,
    status: b.status,
  };
  if (b.me && typeof b.me.id === "string") {
    session.me = { id: b.me.id, ...(typeof b.me.pushName === "string" ? { pushName: b.me.pushName } : {}) };
  }
  const engine = (b.engine as { engine?: unknown } | undefined)?.engine ?? b.engine;
  if (typeof engine === "string") session.engine = engine;
  return { ok: true, session };
}
