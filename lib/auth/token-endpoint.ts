/**
 * A plain `fetch` client for the two token-endpoint grants that run on every command, not just
 * at login: `refresh_token` and the service-account `jwt-bearer` exchange. Keeping them off
 * oauth4webapi means ordinary commands never load it.
 */
import { MAX_AUTH_RESPONSE_BYTES, readLimitedText } from "../http/capped-body.ts";
import { CliError, ExitCode } from "../core/errors.ts";
import { isLoopbackHost } from "./endpoints.ts";
import type { TokenEndpointAnswer } from "./stored-token.ts";

/** The token endpoint answered with an OAuth error (`error` is e.g. `invalid_grant`). */
export class TokenEndpointError extends Error {
  readonly error: string;
  readonly description?: string;
  readonly status: number;
  constructor(error: string, status: number, description?: string) {
    super(description ? `${error}: ${description}` : error);
    this.name = "TokenEndpointError";
    this.error = error;
    this.status = status;
    this.description = description;
  }
}

/**
 * POSTs a form to `tokenUrl` (https, or http on loopback; 30 s timeout) and returns the token
 * answer, read up to {@link MAX_AUTH_RESPONSE_BYTES} (a longer one is refused, exit 65). OAuth errors become {@link TokenEndpointError}; network failures a retryable
 * {@link CliError} (exit 69).
 */
export async function postTokenRequest(
  tokenUrl: string,
  form: Record<string, string>,
): Promise<TokenEndpointAnswer> {
  const url = new URL(tokenUrl);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopbackHost(url.hostname))) {
    throw new CliError("TOKEN_URL_INSECURE", `the token endpoint ${url.origin} is not https`, {
      hint: "Run 'datumctl login' again against an https sign-in server.",
      exitCode: ExitCode.config,
    });
  }
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        accept: "application/json",
        "user-agent": "datumctl",
      },
      body: new URLSearchParams(form),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    const reason = err instanceof Error && err.name === "TimeoutError"
      ? "no answer within 30 s"
      : err instanceof Error
      ? err.message
      : String(err);
    throw new CliError("TOKEN_ENDPOINT_UNREACHABLE", `cannot reach ${url.origin}: ${reason}`, {
      hint: "Check your network connection and try again.",
      exitCode: ExitCode.unavailable,
      retryable: true,
      cause: err,
    });
  }
  const text = await readLimitedText(
    response,
    MAX_AUTH_RESPONSE_BYTES,
    `the answer of the token endpoint ${url.origin}`,
  );
  let body: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed === "object") body = parsed;
  } catch { /* handled below */ }
  if (!response.ok || typeof body.access_token !== "string") {
    if (typeof body.error === "string") {
      throw new TokenEndpointError(
        body.error,
        response.status,
        typeof body.error_description === "string" ? body.error_description : undefined,
      );
    }
    const retryable = response.status >= 500;
    throw new CliError(
      "TOKEN_ENDPOINT_FAILED",
      `the token endpoint ${url.origin} answered ${response.status} without a token`,
      {
        hint: retryable ? "Try again in a moment." : "Run 'datumctl login' again.",
        exitCode: retryable ? ExitCode.unavailable : ExitCode.error,
        retryable,
      },
    );
  }
  return {
    access_token: body.access_token as string,
    token_type: typeof body.token_type === "string" ? body.token_type : undefined,
    refresh_token: typeof body.refresh_token === "string" ? body.refresh_token : undefined,
    expires_in: typeof body.expires_in === "number"
      ? body.expires_in
      : typeof body.expires_in === "string"
      ? Number(body.expires_in)
      : undefined,
  };
}
