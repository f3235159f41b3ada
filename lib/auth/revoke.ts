/**
 * Token revocation (RFC 7009) for logout: the refresh token of a login is revoked at the
 * `revocation_endpoint` its issuer announces in OIDC discovery, so a copy of it (a backup, a
 * synced dotfile) stops working once the user logs out.
 *
 * This module loads oauth4webapi, so only logout imports it.
 */
import * as oauth from "oauth4webapi";
import { CliError, ExitCode } from "../core/errors.ts";
import { isServiceAccountCredential, type StoredCredentials } from "../store/credentials.ts";
import { issuerFromAuthHostname } from "./endpoints.ts";
import { discover, httpOptions, publicClient } from "./oidc.ts";

/** How long one revocation (discovery included) may take before logout gives up on it. */
export const REVOCATION_TIMEOUT_MS = 10_000;

/**
 * Revokes the refresh token in `creds` at its issuer. Returns `false` when there was nothing to
 * revoke (a service account, no refresh token); throws a {@link CliError} saying why when the
 * issuer has no revocation endpoint or did not accept the request. The message never contains
 * the token.
 */
export async function revokeRefreshToken(creds: StoredCredentials): Promise<boolean> {
  const token = creds.token.refresh_token;
  if (!token || isServiceAccountCredential(creds)) return false;
  const issuer = issuerFromAuthHostname(creds.hostname);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(revocationFailed(issuer, `no answer within ${REVOCATION_TIMEOUT_MS / 1000} s`)),
      REVOCATION_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([revoke(issuer, creds.client_id, token), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function revoke(issuer: string, clientId: string, token: string): Promise<boolean> {
  const as = await discover(issuer).catch((err) => {
    throw revocationFailed(issuer, `no sign-in configuration (${reasonOf(err.cause ?? err)})`);
  });
  if (!as.revocation_endpoint) {
    throw revocationFailed(issuer, "it announces no revocation endpoint");
  }
  const options = httpOptions(as.revocation_endpoint, AbortSignal.timeout(REVOCATION_TIMEOUT_MS));
  try {
    const response = await oauth.revocationRequest(
      as,
      publicClient(clientId),
      oauth.None(),
      token,
      {
        ...options,
        additionalParameters: { token_type_hint: "refresh_token" },
      },
    );
    await oauth.processRevocationResponse(response);
  } catch (err) {
    throw revocationFailed(issuer, reasonOf(err));
  }
  return true;
}

function reasonOf(err: unknown): string {
  if (err instanceof oauth.ResponseBodyError) {
    return `HTTP ${err.status}: ${err.error}${
      err.error_description ? ` (${err.error_description})` : ""
    }`;
  }
  if (err instanceof Error && err.name === "TimeoutError") return "no answer in time";
  if (err instanceof Error) return err.message.split("\n")[0];
  return String(err);
}

function revocationFailed(issuer: string, reason: string): CliError {
  return new CliError("REVOCATION_FAILED", `could not revoke the login at ${issuer}: ${reason}`, {
    exitCode: ExitCode.unavailable,
    retryable: true,
  });
}
