/**
 * The device login (RFC 8628) for machines without a usable browser: show a URL and a code,
 * then poll the token endpoint until the person approves on any device.
 *
 * The URL and code go to stderr (plus a QR code when stderr is a terminal); polling honours the
 * server's `interval` (5 s when absent) and `slow_down`; denied and expired codes end with their
 * own messages; Ctrl-C aborts with exit 130.
 */
import * as oauth from "oauth4webapi";
import { CliError, ExitCode } from "../core/errors.ts";
import {
  httpOptions,
  identityFromTokenResponse,
  InterruptWatch,
  LOGIN_SCOPES,
  oauthFailure,
  publicClient,
} from "./oidc.ts";
import { clientIdForAuthHost, type LoginEndpoints } from "./endpoints.ts";
import type { GrantResult, LoginReporter } from "./browser-flow.ts";

const DEFAULT_INTERVAL_S = 5;

/** Renders a QR code for the terminal, or nothing if the encoder is unavailable. */
async function qrCode(text: string): Promise<string | undefined> {
  try {
    const { renderUnicodeCompact } = await import("uqr");
    return renderUnicodeCompact(text, { border: 1 });
  } catch {
    return undefined;
  }
}

/**
 * Runs the device login against `as` and returns the verified identity and tokens. Nothing is
 * stored here.
 */
export async function deviceLogin(
  as: oauth.AuthorizationServer,
  endpoints: LoginEndpoints,
  reporter: LoginReporter,
): Promise<GrantResult> {
  if (!as.device_authorization_endpoint) {
    // Zitadel serves it at a fixed path even when discovery is trimmed.
    if (!clientIdForAuthHost(endpoints.authHost)) {
      throw new CliError(
        "DEVICE_FLOW_UNSUPPORTED",
        `${as.issuer} does not offer device login`,
        { hint: "Run 'datumctl login' on a machine with a browser.", exitCode: ExitCode.config },
      );
    }
    as = {
      ...as,
      device_authorization_endpoint: `${endpoints.issuer}/oauth/v2/device_authorization`,
    };
  }
  const client = publicClient(endpoints.clientId);
  let device: oauth.DeviceAuthorizationResponse;
  try {
    const response = await oauth.deviceAuthorizationRequest(
      as,
      client,
      oauth.None(),
      { scope: LOGIN_SCOPES.join(" ") },
      httpOptions(as.device_authorization_endpoint!),
    );
    device = await oauth.processDeviceAuthorizationResponse(as, client, response);
  } catch (err) {
    throw oauthFailure("starting the device login", err);
  }

  const url = device.verification_uri_complete ?? device.verification_uri;
  reporter.say("To sign in, open this URL in a browser on any device:");
  reporter.say(`  ${url}`);
  reporter.say(`and check that it shows the code: ${device.user_code}`);
  if (reporter.interactive) {
    const qr = await qrCode(url);
    // One line at a time: the reporter shows each line as a single sanitised line.
    if (qr) { for (const line of qr.replace(/\n+$/, "").split("\n")) reporter.say(line); }
  }
  reporter.say("Waiting for approval (Ctrl-C to cancel)...");

  let intervalMs = (device.interval ?? DEFAULT_INTERVAL_S) * 1000;
  const deadline = Date.now() + device.expires_in * 1000;
  const watch = new InterruptWatch();
  try {
    while (true) {
      await watch.sleep(intervalMs);
      let response: Response;
      try {
        response = await Promise.race([
          oauth.deviceCodeGrantRequest(
            as,
            client,
            oauth.None(),
            device.device_code,
            httpOptions(as.token_endpoint ?? as.issuer),
          ),
          watch.interrupted,
        ]);
      } catch (err) {
        throw oauthFailure("checking the device login", err);
      }
      let tokens: oauth.TokenEndpointResponse;
      try {
        tokens = await oauth.processDeviceCodeResponse(as, client, response);
      } catch (err) {
        if (err instanceof oauth.ResponseBodyError) {
          // The server decides first (it may still hand out tokens approved at the last
          // moment, or say expired_token); our own clock only ends a poll that got no verdict.
          if (err.error === "authorization_pending" || err.error === "slow_down") {
            if (err.error === "slow_down") intervalMs += 5000;
            if (Date.now() > deadline) throw expired();
            continue;
          }
          if (err.error === "access_denied") {
            throw new CliError("LOGIN_DENIED", "the sign-in request was denied", {
              hint: "Run 'datumctl login --no-browser' again and approve the request.",
              exitCode: ExitCode.noPermission,
            });
          }
          if (err.error === "expired_token") throw expired();
        }
        throw oauthFailure("the device login", err);
      }
      const identity = await identityFromTokenResponse(as, response, tokens);
      return { identity, tokens };
    }
  } finally {
    watch.dispose();
  }
}

function expired(): CliError {
  return new CliError("LOGIN_EXPIRED", "the sign-in code expired before it was approved", {
    hint: "Run 'datumctl login --no-browser' again and approve the new code sooner.",
    exitCode: ExitCode.noPermission,
  });
}
