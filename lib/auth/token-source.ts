/**
 * The one interface every API caller uses to get a bearer token, whatever minted it (a stored
 * OIDC session with refresh, a service-account key, or a raw `DATUM_TOKEN`), and
 * {@link subjectOf}, the login's user id.
 */
import { CliError, ExitCode } from "../core/errors.ts";

/** Identity of whoever the token belongs to, as saved at login. */
export interface Identity {
  email: string;
  name?: string;
  /** The OIDC `sub` (Zitadel user id); selects the user control plane. */
  subject: string;
}

/** Where the credential came from; `whoami` reports it. */
export type CredentialKind = "session" | "service-account" | "DATUM_TOKEN" | "DATUM_CREDENTIALS";

/** Hands out a valid access token, refreshing (under a cross-process lock) when needed. */
export interface TokenSource {
  /**
   * A currently valid access token. `forceRefresh` refreshes even if the token looks valid
   * (used once after a 401).
   */
  accessToken(options?: { forceRefresh?: boolean }): Promise<string>;
  /** When the current token expires, when known. */
  expiry(): Promise<Date | undefined>;
}

/** A resolved login: who, against which API, and how to get tokens. */
export interface AuthContext {
  kind: CredentialKind;
  identity: Identity;
  /** API base URL with scheme, no trailing slash, e.g. `https://api.datum.net`. */
  apiBase: string;
  /** The config session name, when the credential belongs to a stored session. */
  sessionName?: string;
  tokens: TokenSource;
  /** Extra CA certificates (PEM) to trust for `apiBase`: the session's and `SSL_CERT_FILE`. */
  caCertificates?: string[];
}

/**
 * The login's user id (`sub`), which the user control plane's URL needs. Throws a clear error
 * when the token did not say and the server's SelfSubjectReview did not either (rather than
 * asking for `users//…`).
 */
export function subjectOf(auth: AuthContext): string {
  if (auth.identity.subject) return auth.identity.subject;
  throw new CliError(
    "NO_SUBJECT",
    `cannot tell which user the ${
      auth.kind === "DATUM_TOKEN" ? "DATUM_TOKEN" : "login"
    } belongs to: it is not a JWT and the server's SelfSubjectReview did not name a user`,
    {
      hint:
        "Check that the token is valid for this endpoint (DATUM_ENDPOINT), or log in with 'datumctl login'.",
      exitCode: ExitCode.noPermission,
    },
  );
}
