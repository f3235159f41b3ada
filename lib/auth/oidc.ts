/**
 * OpenID Connect pieces shared by the browser and device logins, on oauth4webapi: discovery,
 * the per-request options (plain http only for loopback issuers), ID-token verification
 * (signature against the JWKS plus iss/aud/exp, and nonce when one was sent) and the mapping of
 * OAuth failures to user-facing errors.
 *
 * This module loads oauth4webapi, so only login code imports it (dynamically).
 */
import * as oauth from "oauth4webapi";
import {
  limitedFetch,
  MAX_AUTH_RESPONSE_BYTES,
  ResponseTooLargeError,
} from "../http/capped-body.ts";
import { CliError, ExitCode, InterruptedError } from "../core/errors.ts";
import { isLoopbackHost } from "./endpoints.ts";

/** The scopes every interactive login asks for; `offline_access` yields a refresh token. */
export const LOGIN_SCOPES = ["openid", "profile", "email", "offline_access"];

/** The request options datumctl passes to every oauth4webapi call. */
export interface SharedHttpOptions {
  signal?: AbortSignal;
  headers?: Record<string, string>;
  [oauth.allowInsecureRequests]?: boolean;
  [oauth.customFetch]?: typeof fetch;
}

/** oauth4webapi's fetches, each answer read within {@link MAX_AUTH_RESPONSE_BYTES}. */
const authFetch = limitedFetch(MAX_AUTH_RESPONSE_BYTES);

/**
 * Request options for a server: plain http is tolerated only on loopback, and no answer
 * (discovery, JWKS, token, device authorization) is read past {@link MAX_AUTH_RESPONSE_BYTES}.
 */
export function httpOptions(url: string, signal?: AbortSignal): SharedHttpOptions {
  const u = new URL(url);
  const options: SharedHttpOptions = {
    signal: signal ?? AbortSignal.timeout(30_000),
    headers: { "user-agent": "datumctl" },
    [oauth.customFetch]: authFetch,
  };
  if (u.protocol === "http:" && isLoopbackHost(u.hostname)) {
    options[oauth.allowInsecureRequests] = true;
  }
  return options;
}

/** The public client datumctl logs in as (no secret). */
export function publicClient(clientId: string): oauth.Client {
  return { client_id: clientId, token_endpoint_auth_method: "none" };
}

/** Fetches and validates the issuer's discovery document. */
export async function discover(issuer: string): Promise<oauth.AuthorizationServer> {
  const issuerUrl = new URL(issuer);
  try {
    const response = await oauth.discoveryRequest(issuerUrl, {
      ...httpOptions(issuer),
      algorithm: "oidc",
    });
    return await oauth.processDiscoveryResponse(issuerUrl, response);
  } catch (err) {
    if (err instanceof ResponseTooLargeError) throw err;
    throw new CliError(
      "DISCOVERY_FAILED",
      `cannot read the sign-in configuration of ${issuer}: ${describe(err)}`,
      {
        hint: "Check the address (--auth-endpoint) and your network connection.",
        exitCode: ExitCode.unavailable,
        retryable: true,
        cause: err,
      },
    );
  }
}

/** Who signed in, from a verified ID token. */
export interface VerifiedIdentity {
  subject: string;
  email: string;
  name?: string;
}

/**
 * Verifies the ID token of an already processed token response (claims were checked by the
 * `process*Response` call) against the issuer's JWKS and returns the identity in it.
 * `response` must be the very `Response` object that was processed.
 */
export async function identityFromTokenResponse(
  as: oauth.AuthorizationServer,
  response: Response,
  result: oauth.TokenEndpointResponse,
): Promise<VerifiedIdentity> {
  if (!result.id_token) {
    throw new CliError("ID_TOKEN_MISSING", "the sign-in server returned no ID token", {
      hint: "The login cannot tell who you are without one; check the client's OIDC settings.",
      exitCode: ExitCode.noPermission,
    });
  }
  try {
    await oauth.validateApplicationLevelSignature(as, response, httpOptions(as.issuer));
  } catch (err) {
    if (err instanceof ResponseTooLargeError) throw err; // the JWKS answer, not the token
    throw new CliError(
      "ID_TOKEN_INVALID",
      `the ID token from ${as.issuer} failed verification: ${describe(err)}`,
      {
        hint: "Nothing was stored. Try again; if it persists, report it.",
        exitCode: ExitCode.noPermission,
        cause: err,
      },
    );
  }
  const claims = oauth.getValidatedIdTokenClaims(result)!;
  const email = typeof claims.email === "string" ? claims.email : "";
  if (!claims.sub) {
    throw new CliError("ID_TOKEN_INVALID", "the ID token carries no subject (sub) claim", {
      exitCode: ExitCode.noPermission,
    });
  }
  if (!email) {
    throw new CliError(
      "ID_TOKEN_INVALID",
      "could not extract the email claim from the ID token, which is required for user identification",
      {
        hint: "Make sure the 'email' scope is granted to this client.",
        exitCode: ExitCode.noPermission,
      },
    );
  }
  const name = typeof claims.name === "string" && claims.name ? claims.name : undefined;
  return { subject: claims.sub, email, name };
}

/** A short description of an oauth4webapi (or any) error, never containing a token. */
export function describe(err: unknown): string {
  if (err instanceof oauth.ResponseBodyError) {
    return err.error_description ? `${err.error}: ${err.error_description}` : err.error;
  }
  if (err instanceof oauth.AuthorizationResponseError) {
    return err.error_description ? `${err.error}: ${err.error_description}` : err.error;
  }
  if (err instanceof Error) {
    if (err.name === "TimeoutError") return "no answer within 30 s";
    return err.message;
  }
  return String(err);
}

/** Turns a failure while talking to the token endpoint into a user-facing error. */
export function oauthFailure(what: string, err: unknown): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof oauth.ResponseBodyError) {
    return new CliError("LOGIN_FAILED", `${what} failed: ${describe(err)}`, {
      hint: "Run 'datumctl login' again.",
      exitCode: ExitCode.noPermission,
      cause: err,
    });
  }
  if (err instanceof oauth.OperationProcessingError) {
    return new CliError("LOGIN_FAILED", `${what} failed: ${describe(err)}`, {
      hint: "Nothing was stored. Run 'datumctl login' again.",
      exitCode: ExitCode.noPermission,
      cause: err,
    });
  }
  const network = err instanceof TypeError || (err instanceof Error && err.name === "TimeoutError");
  return new CliError("LOGIN_FAILED", `${what} failed: ${describe(err)}`, {
    hint: network ? "Check your network connection and try again." : "Run 'datumctl login' again.",
    exitCode: network ? ExitCode.unavailable : ExitCode.error,
    retryable: network,
    cause: err,
  });
}

/**
 * Turns Ctrl-C (and SIGTERM) into a rejected promise while a login waits on the user, so the
 * CLI exits with 130 and `Aborted.` instead of dying mid-write.
 */
export class InterruptWatch {
  readonly interrupted: Promise<never>;
  #reject!: (err: Error) => void;
  #handlers: Array<[Deno.Signal, () => void]> = [];

  constructor() {
    this.interrupted = new Promise<never>((_, reject) => {
      this.#reject = reject;
    });
    // Nobody may be awaiting yet; an unhandled rejection must not crash the process.
    this.interrupted.catch(() => {});
    const signals: Deno.Signal[] = Deno.build.os === "windows"
      ? ["SIGINT", "SIGBREAK"]
      : ["SIGINT", "SIGTERM"];
    for (const signal of signals) {
      const handler = () => this.#reject(new InterruptedError());
      try {
        Deno.addSignalListener(signal, handler);
        this.#handlers.push([signal, handler]);
      } catch { /* signal not supported here */ }
    }
  }

  /** Waits `ms`, or rejects at once on an interrupt. */
  async sleep(ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, ms);
        }),
        this.interrupted,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops listening for signals. */
  dispose(): void {
    for (const [signal, handler] of this.#handlers) {
      try {
        Deno.removeSignalListener(signal, handler);
      } catch { /* already gone */ }
    }
    this.#handlers = [];
  }
}
