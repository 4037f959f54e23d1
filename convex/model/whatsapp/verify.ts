/**
 * Before a channel is saved, the provider confirms that the secrets given really open it: the
 * Cloud API token must read the phone number (Graph `GET /{phone-number-id}` answers with that
 * id), and the WAHA API key must read the session. Otherwise anyone could register someone
 * else's phone_number_id with a made-up token and receive that number's messages, while its
 * real owner is refused. Runs in actions; failures become INVALID errors on the field to fix.
 */
import * as Cloud from "../../providers/whatsappCloud";
import * as Waha from "../../providers/waha";
import type { ProviderError } from "../../providers/whatsappErrors";
import { allowPrivateProviderUrls, whatsappGraphUrl } from "../../env";
import { refusedTarget } from "../../providers/outboundUrls";
import { fail } from "../errors";

const TIMEOUT_MS = 10_000;

export type CloudCheck = {
  graphUrl: string;
  phoneNumberId: string;
  accessToken: string;
  fetch?: typeof fetch;
};

export type WahaCheck = {
  baseUrl: string;
  session: string;
  apiKey: string;
  fetch?: typeof fetch;
  allowPrivateTargets?: boolean;
};

function unreachable(error: ProviderError): boolean {
  return error.httpStatus === undefined || error.class === "retryable" || error.class === "throttled";
}

/** The number as Meta describes it to this token; throws INVALID when the token cannot read it. */
export async function verifyCloudNumber(check: CloudCheck): Promise<Cloud.CloudPhoneNumber> {
  const result = await Cloud.getPhoneNumber({ ...check, timeoutMs: TIMEOUT_MS });
  if (result.ok) {
    if (result.phoneNumber.id !== check.phoneNumberId) {
      fail("INVALID", "The token cannot read this phone number", "phoneNumberId");
    }
    return result.phoneNumber;
  }
  const error = result.error;
  if (error.code === 190 || error.httpStatus === 401) {
    fail(
      "INVALID",
      "Meta does not accept this access token: it is wrong or has expired. Paste a current one",
      "accessToken",
    );
  }
  if (unreachable(error)) {
    fail("INVALID", `Meta could not be asked about this number right now (${error.message}); try again`);
  }
  // 100 with subcode 33 ("Unsupported get request"), 10 (no permission), or any other refusal.
  fail(
    "INVALID",
    "The token cannot read this phone number: check the phone number ID, and that the token has access to its WhatsApp Business Account",
    "phoneNumberId",
  );
}

/** The session's status as the WAHA server reports it to this key; throws INVALID otherwise. */
export async function verifyWahaSession(check: WahaCheck): Promise<Waha.WahaSessionStatus> {
  const refused = refusedTarget(check.baseUrl, { allowPrivate: check.allowPrivateTargets === true });
  if (refused) fail("INVALID", `Switchboard does not call this address: ${refused}`, "baseUrl");
  const result = await Waha.sessionStatus({ ...check, timeoutMs: TIMEOUT_MS });
  if (result.ok) return result.session;
  const error = result.error;
  if (error.httpStatus === undefined) {
    fail("INVALID", `The WAHA server at ${check.baseUrl} cannot be reached (${error.message})`, "baseUrl");
  }
  if (error.httpStatus === 401 || error.httpStatus === 403) {
    fail("INVALID", "The WAHA server does not accept this API key", "apiKey");
  }
  if (error.httpStatus === 404) {
    fail("INVALID", `The WAHA server has no session named ${check.session}`, "session");
  }
  fail("INVALID", `The WAHA server could not report the session (${error.message}); try again`, "baseUrl");
}

/** Asks the provider; what it answered is kept with the channel. */
export async function verifyWithProvider(
  check: { kind: "cloud"; phoneNumberId: string; accessToken: string } | ({ kind: "waha" } & WahaCheck),
): Promise<{ wahaStatus?: string }> {
  if (check.kind === "cloud") {
    await verifyCloudNumber({
      graphUrl: whatsappGraphUrl(),
      phoneNumberId: check.phoneNumberId,
      accessToken: check.accessToken,
    });
    return {};
  }
  const session = await verifyWahaSession({ ...check, allowPrivateTargets: allowPrivateProviderUrls() });
  return { wahaStatus: session.status };
}

/** The channel's health as its provider reports it now, or why it could not be read. */
export async function readHealth(
  check: { kind: "cloud"; phoneNumberId: string; accessToken: string } | ({ kind: "waha" } & WahaCheck),
): Promise<
  | { ok: true; update: { wahaStatus?: string; qualityRating?: string; messagingTier?: string } }
  | { ok: false; message: string }
> {
  if (check.kind === "cloud") {
    const result = await Cloud.getPhoneNumber({
      graphUrl: whatsappGraphUrl(),
      phoneNumberId: check.phoneNumberId,
      accessToken: check.accessToken,
      timeoutMs: TIMEOUT_MS,
    });
    if (!result.ok) return { ok: false, message: `Meta did not answer: ${result.error.message}` };
    return {
      ok: true,
      update: {
        qualityRating: result.phoneNumber.qualityRating,
        messagingTier: result.phoneNumber.messagingLimitTier,
      },
    };
  }
  const result = await Waha.sessionStatus({
    ...check,
    allowPrivateTargets: allowPrivateProviderUrls(),
    timeoutMs: TIMEOUT_MS,
  });
  if (!result.ok) return { ok: false, message: `The WAHA server did not answer: ${result.error.message}` };
  return { ok: true, update: { wahaStatus: result.session.status } };
}
