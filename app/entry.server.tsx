// Remix's default Node streaming renderer (bots and SPA mode wait for everything; browsers get
// the shell first), plus the boot-time env check and error reporting through Sentry and pino.
import { PassThrough } from "node:stream";
import type {
  AppLoadContext,
  EntryContext,
  HandleDataRequestFunction,
  HandleErrorFunction,
} from "@remix-run/node";
import { createReadableStreamFromReadable } from "@remix-run/node";
import { isRouteErrorResponse, RemixServer } from "@remix-run/react";
import { addEventProcessor, wrapHandleErrorWithSentry } from "@sentry/remix";
import { isbot } from "isbot";
import { renderToPipeableStream } from "react-dom/server";
import { getEnv } from "./lib/env.server";
import { logger } from "./lib/logger.server";
import { NonceContext } from "./lib/nonce";
import { announceRateLimitBackend } from "./lib/rate-limit.server";
import { scrubEvent } from "./lib/sentry-scrub";
import {
  baseSecurityHeaders,
  documentSecurityHeaders,
  newNonce,
  servedOverHttps,
} from "./lib/security-headers.server";

// Validate configuration when the server loads this module, so a bad deploy fails at start
// with every problem listed instead of on the first request.
getEnv();
// Where rate limits are counted; production without Redis warns here (docs/decisions/025).
announceRateLimitBackend();

// Sentry is started by instrument.server.mjs (before the build loads); what it sends is scrubbed
// of secrets and personal data here, where the app's rules live.
addEventProcessor((event) => scrubEvent(event));

const ABORT_DELAY = 5_000;

export const handleError: HandleErrorFunction = wrapHandleErrorWithSentry((error, args) => {
  const request = args.request as Request;
  // Aborted requests (client went away, navigation replaced) are not errors worth reporting,
  // and neither are expected responses such as a 404 for an unknown URL.
  if (request.signal.aborted) return;
  const { pathname } = new URL(request.url);
  if (error instanceof Response || isRouteErrorResponse(error)) {
    if (error.status >= 500) logger.error({ status: error.status, path: pathname }, "error response");
    return;
  }
  logger.error({ err: error, method: request.method, path: pathname }, "request failed");
});

/** Data requests (client navigations, form posts) get the same headers as documents, minus the CSP. */
export const handleDataRequest: HandleDataRequestFunction = (response, { request }) => {
  for (const [name, value] of Object.entries(
    baseSecurityHeaders(servedOverHttps(request, getEnv().APP_URL)),
  )) {
    response.headers.set(name, value);
  }
  return response;
};

export default function handleRequest(
  request: Request,
  responseStatusCode: number,
  responseHeaders: Headers,
  remixContext: EntryContext,
  _loadContext: AppLoadContext,
) {
  // A fresh nonce for this document: only scripts carrying it run (the CSP header below).
  const nonce = newNonce();
  for (const [name, value] of Object.entries(documentSecurityHeaders(getEnv(), request, nonce))) {
    responseHeaders.set(name, value);
  }
  const userAgent = request.headers.get("user-agent");
  const waitForAll = (userAgent !== null && isbot(userAgent)) || remixContext.isSpaMode;

  return new Promise<Response>((resolve, reject) => {
    let shellRendered = false;
    const onReady = () => {
      shellRendered = true;
      const body = new PassThrough();
      const stream = createReadableStreamFromReadable(body);
      responseHeaders.set("Content-Type", "text/html");
      resolve(new Response(stream, { headers: responseHeaders, status: responseStatusCode }));
      pipe(body);
    };

    const { pipe, abort } = renderToPipeableStream(
      <NonceContext.Provider value={nonce}>
        <RemixServer context={remixContext} url={request.url} abortDelay={ABORT_DELAY} nonce={nonce} />
      </NonceContext.Provider>,
      {
        nonce,
        onAllReady: waitForAll ? onReady : undefined,
        onShellReady: waitForAll ? undefined : onReady,
        onShellError(error: unknown) {
          reject(error);
        },
        onError(error: unknown) {
          responseStatusCode = 500;
          // Errors before the shell reject above and are logged by handleError; these happen
          // while streaming, after the status was sent.
          if (shellRendered) logger.error({ err: error }, "streaming render failed");
        },
      },
    );

    setTimeout(abort, ABORT_DELAY);
  });
}
