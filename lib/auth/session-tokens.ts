/**
 * Token sources behind every API call: {@link StoredSessionTokens} for a stored login (refresh
 * token or service-account key) and {@link StaticTokens} for `DATUM_TOKEN`.
 *
 * A stored login is renewed shortly before it expires, under a cross-process file lock, after
 * re-reading the credential store: a token another process just obtained is adopted instead of
 * spending the same refresh token twice (which a rotating server would treat as replay). Rotated
 * refresh tokens are stored; the old one is kept when none comes back. `invalid_grant` and
 * `invalid_request` mean the login is gone: exit 77 with "session expired; run `datumctl login`".
 * From the moment the refresh request is sent until its answer is durably stored, SIGINT and
 * SIGTERM wait: the server has already retired the old refresh token, so stopping in between
 * would lose the login. A write a harder kill interrupted is recovered under the same lock.
 * A failure that may pass (network, 5xx, `temporarily_unavailable`) is retryable (exit 69), and
 * while the current token has not expired yet it is served instead of failing the call.
 *
 * A long-running process (a tunnel) gets an interface to refresh ahead of time, rather than when a
 * call meets an expired token.
 */
import { CliError, ExitCode } from "../core/errors.ts";
import { withFileLock, withSignalsDeferred } from "../store/files.ts";
import { datumctlDir } from "../store/paths.ts";
import {
  type CredentialStore,
  isServiceAccountCredential,
  type StoredCredentials,
} from "../store/credentials.ts";
import type { TokenSource } from "./token-source.ts";
import { refreshDue, refreshDueAt, storedTokenFrom, tokenExpiry } from "./stored-token.ts";
import { postTokenRequest, TokenEndpointError } from "./token-endpoint.ts";
import { clientIdForAuthHost, hostOf, issuerFromAuthHostname, PRODUCTION } from "./endpoints.ts";

/** The `datumctl login …` command line that recreates a login for these credentials. */
export function loginCommandFor(
  creds: Pick<StoredCredentials, "hostname" | "api_hostname" | "client_id">,
  server?: string,
): string {
  const parts = ["datumctl login"];
  const apiHost = server ? hostOf(server) : creds.api_hostname && hostOf(creds.api_hostname);
  server ??= /^https?:\/\//.test(creds.api_hostname ?? "") ? creds.api_hostname : undefined;
  if (apiHost && apiHost !== PRODUCTION.apiHost) {
    parts.push(`--endpoint ${server ?? issuerFromAuthHostname(apiHost)}`);
  }
  const derivedAuth = apiHost?.startsWith("api.") ? `auth.${apiHost.slice(4)}` : undefined;
  if (creds.hostname && creds.hostname !== PRODUCTION.authHost && creds.hostname !== derivedAuth) {
    parts.push(`--auth-endpoint ${issuerFromAuthHostname(creds.hostname)}`);
  }
  if (creds.client_id && creds.client_id !== clientIdForAuthHost(creds.hostname ?? "")) {
    parts.push(`--client-id ${creds.client_id}`);
  }
  return parts.join(" ");
}

/**
 * True when a refresh failed for a reason that may pass on its own (no network, a 5xx, a
 * timeout, `temporarily_unavailable`): retry later. A rejected login (exit 77) or a broken key
 * or configuration (65, 78) is permanent.
 */
export function isTransientRefreshError(err: unknown): boolean {
  if (err instanceof TokenEndpointError) return isTransientOAuthError(err);
  if (err instanceof CliError) {
    return err.retryable || !PERMANENT_EXIT_CODES.has(err.exitCode);
  }
  return true;
}

const PERMANENT_EXIT_CODES = new Set<number>([
  ExitCode.usage,
  ExitCode.dataError,
  ExitCode.noPermission,
  ExitCode.config,
]);

function isTransientOAuthError(err: TokenEndpointError): boolean {
  return err.status >= 500 || err.status === 429 ||
    err.error === "temporarily_unavailable" || err.error === "server_error" ||
    err.error === "slow_down";
}

function transientRefreshError(err: TokenEndpointError, what: string): CliError {
  return new CliError(
    "TOKEN_ENDPOINT_FAILED",
    `${what} failed for now (HTTP ${err.status}: ${err.message})`,
    {
      hint: "Try again in a moment.",
      exitCode: ExitCode.unavailable,
      retryable: true,
      cause: err,
    },
  );
}

async function lockPathFor(userKey: string, env?: (name: string) => string | undefined) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(userKey));
  const hex = [...new Uint8Array(digest)].slice(0, 12).map((b) => b.toString(16).padStart(2, "0"))
    .join("");
  return `${datumctlDir(env)}/locks/refresh-${hex}`;
}

/**
 * Runs `fn` holding the lock every refresh of `userKey`'s login holds, after finishing any
 * store write a killed process left behind: whatever `fn` reads is the newest token, and no
 * refresh can rotate it meanwhile (logout revokes under it).
 */
export async function withRefreshLock<T>(
  userKey: string,
  store: CredentialStore,
  env: ((name: string) => string | undefined) | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  return await withFileLock(await lockPathFor(userKey, env), async () => {
    await store.recoverInterruptedWrites();
    return await fn();
  });
}

/** Mints a fresh token for a service-account login from its stored key. */
async function renewServiceAccount(creds: StoredCredentials): Promise<StoredCredentials> {
  const sa = creds.service_account;
  if (!sa) {
    throw new CliError(
      "CREDENTIALS_INVALID",
      "the stored service-account login lacks its key details",
      {
        hint: `Run '${loginCommandFor(creds)} --credentials KEYFILE' again.`,
        exitCode: ExitCode.noPermission,
      },
    );
  }
  let privateKey = sa.private_key;
  if (sa.private_key_path) {
    try {
      privateKey = await Deno.readTextFile(sa.private_key_path);
    } catch {
      throw new CliError(
        "CREDENTIALS_INVALID",
        `the service-account key file ${sa.private_key_path} is missing`,
        {
          hint: `Run '${loginCommandFor(creds)} --credentials KEYFILE' again.`,
          exitCode: ExitCode.noPermission,
        },
      );
    }
  }
  try {
    // A new assertion (fresh iat/exp/jti) is signed for every exchange. Imported here: every
    // command with a stored login loads this module, few of them a service-account one.
    const { exchangeServiceAccountKey } = await import("./service-account.ts");
    const answer = await exchangeServiceAccountKey(
      {
        client_id: sa.client_id,
        private_key_id: sa.private_key_id,
        private_key: privateKey ?? "",
        scope: sa.scope,
      },
      sa.token_uri || creds.endpoint_token_url,
    );
    return { ...creds, token: storedTokenFrom(answer) };
  } catch (err) {
    const cause = err instanceof CliError ? err.cause : undefined;
    if (cause instanceof TokenEndpointError && isTransientOAuthError(cause)) {
      throw transientRefreshError(cause, "minting a service-account token");
    }
    throw err;
  }
}

/** Spends the refresh token of an interactive login. */
async function renewWithRefreshToken(creds: StoredCredentials): Promise<StoredCredentials> {
  const expired = () =>
    new CliError(
      "SESSION_EXPIRED",
      `session expired for ${creds.user_email || "this login"}; run \`datumctl login\``,
      {
        hint: `Run '${loginCommandFor(creds)}' to sign in again.`,
        exitCode: ExitCode.noPermission,
      },
    );
  if (!creds.token.refresh_token) throw expired();
  try {
    const answer = await postTokenRequest(creds.endpoint_token_url, {
      grant_type: "refresh_token",
      refresh_token: creds.token.refresh_token,
      client_id: creds.client_id,
    });
    return { ...creds, token: storedTokenFrom(answer, creds.token) };
  } catch (err) {
    if (
      err instanceof TokenEndpointError &&
      (err.error === "invalid_grant" || err.error === "invalid_request")
    ) {
      throw expired();
    }
    if (err instanceof TokenEndpointError && isTransientOAuthError(err)) {
      throw transientRefreshError(err, "refreshing the login");
    }
    if (err instanceof TokenEndpointError) {
      throw new CliError("REFRESH_FAILED", `refreshing the login failed: ${err.message}`, {
        hint: `Run '${loginCommandFor(creds)}' to sign in again.`,
        exitCode: ExitCode.noPermission,
        cause: err,
      });
    }
    throw err;
  }
}

/** Renews `creds` by whatever means its login type allows. */
export async function renewCredentials(creds: StoredCredentials): Promise<StoredCredentials> {
  return isServiceAccountCredential(creds)
    ? await renewServiceAccount(creds)
    : await renewWithRefreshToken(creds);
}

/** A token source that can be refreshed ahead of time by a long-running process. */
export interface KeptTokenSource extends TokenSource {
  /** When the current token becomes due for a refresh; `undefined` if it never expires. */
  refreshDueAt(): Date | undefined;
  /** Refreshes now if the token is due (or `force`); throws whatever the refresh threw. */
  refreshIfDue(options?: { force?: boolean }): Promise<void>;
}

/** True when `tokens` can be refreshed ahead of time ({@link KeptTokenSource}). */
export function isKeptTokenSource(tokens: TokenSource): tokens is KeptTokenSource {
  const t = tokens as Partial<KeptTokenSource>;
  return typeof t.refreshDueAt === "function" && typeof t.refreshIfDue === "function";
}

/** A token still usable for a while: not expired (a token without expiry counts as usable). */
function stillUsable(token: StoredCredentials["token"], now = Date.now()): boolean {
  const expiry = tokenExpiry(token);
  return !expiry || expiry.getTime() > now + 1_000;
}

/** Tokens of a login stored in the credential store under `userKey`. */
export class StoredSessionTokens implements KeptTokenSource {
  #creds: StoredCredentials;
  readonly #userKey: string;
  readonly #store: CredentialStore;
  readonly #env?: (name: string) => string | undefined;

  constructor(
    userKey: string,
    creds: StoredCredentials,
    store: CredentialStore,
    env?: (name: string) => string | undefined,
  ) {
    this.#userKey = userKey;
    this.#creds = creds;
    this.#store = store;
    this.#env = env;
  }

  /** The credentials as last read or renewed. */
  get credentials(): StoredCredentials {
    return this.#creds;
  }

  expiry(): Promise<Date | undefined> {
    return Promise.resolve(tokenExpiry(this.#creds.token));
  }

  refreshDueAt(): Date | undefined {
    return refreshDueAt(this.#creds.token);
  }

  async refreshIfDue(options: { force?: boolean } = {}): Promise<void> {
    if (!options.force && !refreshDue(this.#creds.token)) return;
    await this.#refresh(!!options.force);
  }

  async accessToken(options: { forceRefresh?: boolean } = {}): Promise<string> {
    if (!options.forceRefresh && !refreshDue(this.#creds.token)) {
      return this.#creds.token.access_token;
    }
    try {
      await this.#refresh(!!options.forceRefresh);
    } catch (err) {
      // Early refreshes exist to avoid this moment: the token still works, so use it.
      if (!options.forceRefresh && isTransientRefreshError(err) && stillUsable(this.#creds.token)) {
        return this.#creds.token.access_token;
      }
      throw err;
    }
    return this.#creds.token.access_token;
  }

  async #refresh(force: boolean): Promise<void> {
    const seen = this.#creds.token.access_token;
    await withRefreshLock(this.#userKey, this.#store, this.#env, async () => {
      const stored = await this.#store.getCredentials(this.#userKey);
      if (!stored) {
        throw new CliError(
          "CREDENTIALS_GONE",
          `The stored credentials for ${this.#userKey} are no longer available — the session may have been logged out.`,
          { hint: "Run 'datumctl login'", exitCode: ExitCode.noPermission },
        );
      }
      this.#creds = stored;
      const expiry = tokenExpiry(stored.token);
      const stillValid = !expiry || expiry.getTime() > Date.now();
      // Another process (or a re-login) already replaced the token we saw: use theirs.
      if (stored.token.access_token !== seen && stillValid) return;
      if (!force && !refreshDue(stored.token)) return;
      // Storing the answer is the first thing done with it.
      this.#creds = await withSignalsDeferred(async () => {
        const renewed = await renewCredentials(stored);
        await this.#store.putCredentials(this.#userKey, renewed);
        return renewed;
      });
    });
  }
}

/** A token handed in from outside (`DATUM_TOKEN`); it cannot be refreshed. */
export class StaticTokens implements TokenSource {
  readonly #token: string;
  readonly #expiry?: Date;
  constructor(token: string, expiry?: Date) {
    this.#token = token;
    this.#expiry = expiry;
  }
  accessToken(): Promise<string> {
    return Promise.resolve(this.#token);
  }
  expiry(): Promise<Date | undefined> {
    return Promise.resolve(this.#expiry);
  }
}

/** Tokens minted in memory from a service-account key file (`DATUM_CREDENTIALS`). */
export class KeyFileTokens implements KeptTokenSource {
  #creds: StoredCredentials | undefined;
  readonly #mint: () => Promise<StoredCredentials>;
  readonly #renew: (creds: StoredCredentials) => Promise<StoredCredentials>;
  constructor(
    mint: () => Promise<StoredCredentials>,
    renew: (creds: StoredCredentials) => Promise<StoredCredentials> = renewCredentials,
  ) {
    this.#mint = mint;
    this.#renew = renew;
  }
  refreshDueAt(): Date | undefined {
    return this.#creds ? refreshDueAt(this.#creds.token) : new Date(0);
  }
  async refreshIfDue(options: { force?: boolean } = {}): Promise<void> {
    if (!this.#creds) this.#creds = await this.#mint();
    else if (options.force || refreshDue(this.#creds.token)) {
      this.#creds = await this.#renew(this.#creds);
    }
  }
  async accessToken(options: { forceRefresh?: boolean } = {}): Promise<string> {
    try {
      await this.refreshIfDue({ force: options.forceRefresh });
    } catch (err) {
      const creds = this.#creds;
      if (
        creds && !options.forceRefresh && isTransientRefreshError(err) && stillUsable(creds.token)
      ) {
        return creds.token.access_token;
      }
      throw err;
    }
    return this.#creds!.token.access_token;
  }
  expiry(): Promise<Date | undefined> {
    return Promise.resolve(this.#creds ? tokenExpiry(this.#creds.token) : undefined);
  }
}
