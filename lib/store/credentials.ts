/**
 * The credential store: login secrets in the OS keychain, or in a private file when there is no
 * usable keychain. Layout and JSON match Go datumctl so both tools read each
 * other's logins.
 *
 * The store gets, sets and deletes raw secrets under well-known keys, with typed helpers for
 * credentials, `active_user` and `known_users`. Where secrets live can be told without loading the
 * keychain addon.
 *
 * Backend choice, per process: `DATUMCTL_CREDENTIALS_STORE=keychain|file` forces one. Otherwise
 * the file is used once it holds anything (sticky, exactly as datumctl does, so the two tools
 * never look in different places), else the keychain; the first keychain failure switches the
 * process to the file and produces the one warning the user sees.
 */
import { CliError, ExitCode } from "../core/errors.ts";
import {
  leftoverWritesOf,
  readTextIfExists,
  recoverLeftoverWrite,
  tightenDatumctlDir,
  withFileLock,
  writePrivateFile,
  writeTargetOf,
} from "./files.ts";
import { datumctlDir } from "./paths.ts";

/** The keychain service every datumctl secret lives under. */
export const CREDENTIALS_SERVICE = "datumctl-auth";
/** Key holding the user key of the last login (kept for datumctl compatibility). */
export const ACTIVE_USER_KEY = "active_user";
/** Key holding a JSON array (as a string) of every stored user key. */
export const KNOWN_USERS_KEY = "known_users";

/** An OAuth token as Go's `oauth2.Token` serialises it. */
export interface StoredToken {
  access_token: string;
  token_type?: string;
  refresh_token?: string;
  /** RFC 3339 instant; Go's zero time (`0001-01-01T00:00:00Z`) means "never expires". */
  expiry?: string;
  expires_in?: number;
  [extra: string]: unknown;
}

/** What a service-account login needs to mint new assertions. */
export interface StoredServiceAccount {
  client_email: string;
  client_id: string;
  private_key_id: string;
  /** Legacy: the PEM inline. New logins keep it in {@link private_key_path} instead. */
  private_key?: string;
  private_key_path?: string;
  token_uri: string;
  scope?: string;
  [extra: string]: unknown;
}

/** One login's secrets and metadata (Go datumctl's `StoredCredentials`). */
export interface StoredCredentials {
  hostname: string;
  api_hostname: string;
  client_id: string;
  endpoint_auth_url: string;
  endpoint_token_url: string;
  scopes: string[];
  token: StoredToken;
  user_name: string;
  user_email: string;
  subject: string;
  credential_type?: string;
  service_account?: StoredServiceAccount;
  [extra: string]: unknown;
}

/**
 * True when the login is a service account (`login --credentials`; Go datumctl wrote
 * `datum_service_account`), whose tokens are minted from its key rather than a refresh token.
 */
export function isServiceAccountCredential(creds: Pick<StoredCredentials, "credential_type">) {
  return creds.credential_type === "service_account" ||
    creds.credential_type === "datum_service_account";
}

/** Where secrets are kept. */
export type StorageKind = "keychain" | "file";

function dirOf(path: string): string {
  return path.slice(0, Math.max(path.lastIndexOf("/"), 1));
}

/** `~/.datumctl/credentials.json`, the insecure fallback store (`{service: {key: secret}}`). */
export function credentialsFilePath(env?: (name: string) => string | undefined): string {
  return `${datumctlDir(env)}/credentials.json`;
}

type FileStore = Record<string, Record<string, string>>;

const UNREADABLE_HINT =
  "Fix or move the file aside; datumctl will not overwrite a file it cannot read.";

function parseFileStore(text: string, path: string): FileStore {
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CliError(
      "CREDENTIALS_INVALID",
      `cannot parse ${path}${jsonSyntaxProblem(text, err)}`,
      {
        hint: UNREADABLE_HINT,
        exitCode: ExitCode.dataError,
      },
    );
  }
  const shapeOk = typeof value === "object" && value !== null && !Array.isArray(value) &&
    Object.values(value).every((inner) =>
      typeof inner === "object" && inner !== null && !Array.isArray(inner) &&
      Object.values(inner).every((secret) => typeof secret === "string")
    );
  if (!shapeOk) {
    throw new CliError(
      "CREDENTIALS_INVALID",
      `cannot parse ${path}: expected {"<service>": {"<key>": "<secret>"}}`,
      { hint: UNREADABLE_HINT, exitCode: ExitCode.dataError },
    );
  }
  return value as FileStore;
}

/**
 * Where and what a JSON syntax error is, without any of the text around it: the parser's own
 * message may quote the file, and this file holds tokens.
 */
function jsonSyntaxProblem(text: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const at = /^(.*?) in JSON at position (\d+)/.exec(message);
  if (at && !/^Unexpected token/.test(at[1]) && !/["`]/.test(at[1])) {
    const before = text.slice(0, Number(at[2]));
    const line = before.split("\n").length;
    const column = before.length - before.lastIndexOf("\n");
    return ` (line ${line}, column ${column}): ${at[1].toLowerCase()}`;
  }
  if (/^Unexpected end of JSON input/.test(message)) return ": the JSON ends too early";
  return ": not valid JSON";
}

/**
 * Where secrets live right now, judged without loading the keychain addon: the forced store,
 * else the file once it holds anything, else the keychain. Cheap enough for `whoami`.
 */
export async function storageKindHint(
  env: (name: string) => string | undefined = Deno.env.get,
): Promise<StorageKind> {
  const forced = forcedStorage(env);
  if (forced) return forced;
  return (await fileHasContent(credentialsFilePath(env))) ? "file" : "keychain";
}

function forcedStorage(env: (name: string) => string | undefined): StorageKind | undefined {
  const value = env("DATUMCTL_CREDENTIALS_STORE");
  if (value === undefined || value === "") return undefined;
  if (value === "keychain" || value === "file") return value;
  throw new CliError(
    "CONFIG_INVALID",
    `DATUMCTL_CREDENTIALS_STORE must be "keychain" or "file", not "${value}"`,
    { hint: "Unset it to let datumctl choose.", exitCode: ExitCode.config },
  );
}

async function fileHasContent(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).size > 0;
  } catch {
    return false;
  }
}

/** Options for {@link CredentialStore}. */
export interface CredentialStoreOptions {
  env?: (name: string) => string | undefined;
  /** Receives the one-time fallback warning when the keychain fails. */
  warn?: (message: string) => void;
}

/** Reads and writes login secrets in the keychain or the fallback file (see module doc). */
export class CredentialStore {
  readonly filePath: string;
  readonly #env: (name: string) => string | undefined;
  readonly #warn: (message: string) => void;
  #kind: StorageKind | undefined;
  #forced: boolean;
  #fallbackReason: string | undefined;
  #warned = false;

  constructor(options: CredentialStoreOptions = {}) {
    this.#env = options.env ?? Deno.env.get;
    this.#warn = options.warn ?? (() => {});
    this.filePath = credentialsFilePath(this.#env);
    this.#kind = forcedStorage(this.#env);
    this.#forced = this.#kind !== undefined;
  }

  /** The backend in use, deciding it if no call has yet. */
  async kind(): Promise<StorageKind> {
    if (this.#forced && this.#kind === "keychain" && (await fileHasContent(this.filePath))) {
      // Go datumctl reads a non-empty file first: a login written to the keychain now would be
      // invisible to it, and one user's secrets would be split across two stores.
      throw new CliError(
        "CREDENTIALS_SPLIT",
        `DATUMCTL_CREDENTIALS_STORE=keychain, but ${this.filePath} still holds logins`,
        {
          hint: "Unset DATUMCTL_CREDENTIALS_STORE to keep using the file, or run " +
            "'DATUMCTL_CREDENTIALS_STORE=file datumctl logout --all' and log in again to move " +
            "to the keychain.",
          exitCode: ExitCode.config,
        },
      );
    }
    if (this.#kind === undefined) {
      this.#kind = (await fileHasContent(this.filePath)) ? "file" : "keychain";
    }
    return this.#kind;
  }

  /** Why the keychain was abandoned in this process, if it was. */
  get fallbackReason(): string | undefined {
    return this.#fallbackReason;
  }

  /** The fallback warning line (without a newline), if the keychain failed in this process. */
  get fallbackWarning(): string | undefined {
    if (!this.#fallbackReason) return undefined;
    return `warning: system keyring unavailable (${this.#fallbackReason}); falling back to insecure file storage at ${this.filePath}`;
  }

  async #viaKeychain<T>(op: () => Promise<T>, fallback: () => Promise<T>): Promise<T> {
    const { KeychainUnavailableError } = await import("./keychain.ts");
    try {
      return await op();
    } catch (err) {
      if (!(err instanceof KeychainUnavailableError)) throw err;
      if (this.#forced) {
        throw new CliError("KEYCHAIN_UNAVAILABLE", `the ${err.message}`, {
          hint:
            "DATUMCTL_CREDENTIALS_STORE=keychain forbids the file fallback; unset it or fix the keychain.",
          exitCode: ExitCode.config,
          cause: err,
        });
      }
      this.#kind = "file";
      this.#fallbackReason = err.reason;
      if (!this.#warned) {
        this.#warned = true;
        this.#warn(this.fallbackWarning!);
      }
      return await fallback();
    }
  }

  async #readFile(): Promise<FileStore> {
    await tightenDatumctlDir(dirOf(this.filePath));
    const text = await readTextIfExists(this.filePath);
    return text === undefined ? {} : parseFileStore(text, this.filePath);
  }

  async #fileGet(key: string): Promise<string | undefined> {
    return (await this.#readFile())[CREDENTIALS_SERVICE]?.[key];
  }

  async #fileUpdate<T>(change: (store: FileStore) => T): Promise<T> {
    return await withFileLock(this.filePath, async () => {
      await this.#recoverLocked();
      const store = await this.#readFile();
      const result = change(store);
      for (const [service, entries] of Object.entries(store)) {
        if (Object.keys(entries).length === 0) delete store[service];
      }
      if (Object.keys(store).length === 0) {
        // An empty file would still pin datumctl to file storage; remove it instead. A link
        // (a dotfiles repo) is the user's: its target is emptied, so no secret stays there.
        if ((await writeTargetOf(this.filePath)) !== this.filePath) {
          await writePrivateFile(this.filePath, "");
        } else await Deno.remove(this.filePath).catch(() => {});
      } else {
        await writePrivateFile(this.filePath, JSON.stringify(store, null, 2));
      }
      return result;
    });
  }

  /**
   * Finishes or discards a write of the file store that a killed process left as a temp file
   * (see {@link recoverLeftoverWrite}): a refresh must never spend a refresh token whose
   * successor sits in such a file. Cheap when there is nothing to do.
   */
  async recoverInterruptedWrites(): Promise<void> {
    if ((await leftoverWritesOf(this.filePath)).length === 0) return;
    await withFileLock(this.filePath, () => this.#recoverLocked());
  }

  async #recoverLocked(): Promise<void> {
    const outcome = await recoverLeftoverWrite(this.filePath, (text) => {
      try {
        parseFileStore(text, this.filePath);
        return true;
      } catch {
        return false;
      }
    });
    // The recovered file holds the newest secrets; read them from there from now on.
    if (outcome.recovered && !this.#forced) this.#kind = "file";
  }

  /** The raw secret under `key`, or `undefined`. */
  async get(key: string): Promise<string | undefined> {
    if ((await this.kind()) === "file") return await this.#fileGet(key);
    const { keychainGet } = await import("./keychain.ts");
    return await this.#viaKeychain(
      () => keychainGet(CREDENTIALS_SERVICE, key),
      () => this.#fileGet(key),
    );
  }

  /** Stores `secret` under `key`. */
  async set(key: string, secret: string): Promise<void> {
    const toFile = () =>
      this.#fileUpdate((store) => {
        (store[CREDENTIALS_SERVICE] ??= {})[key] = secret;
      });
    if ((await this.kind()) === "file") return await toFile();
    const { keychainSet } = await import("./keychain.ts");
    await this.#viaKeychain(() => keychainSet(CREDENTIALS_SERVICE, key, secret), toFile);
  }

  /** Deletes the secret under `key`; returns whether one existed. */
  async delete(key: string): Promise<boolean> {
    const fromFile = () =>
      this.#fileUpdate((store) => {
        const entries = store[CREDENTIALS_SERVICE];
        if (!entries || !(key in entries)) return false;
        delete entries[key];
        return true;
      });
    if ((await this.kind()) === "file") {
      if ((await this.#fileGet(key)) === undefined) return false;
      return await fromFile();
    }
    const { keychainDelete } = await import("./keychain.ts");
    return await this.#viaKeychain(() => keychainDelete(CREDENTIALS_SERVICE, key), fromFile);
  }

  /** The credentials stored under `userKey`, or `undefined` when there are none. */
  async getCredentials(userKey: string): Promise<StoredCredentials | undefined> {
    const raw = await this.get(userKey);
    if (raw === undefined || raw === "") return undefined;
    return parseStoredCredentials(raw, await this.#describe(userKey));
  }

  /** Stores credentials under `userKey`. An `id_token` is never persisted. */
  async putCredentials(userKey: string, creds: StoredCredentials): Promise<void> {
    const token = { ...creds.token };
    delete token.id_token;
    await this.set(userKey, JSON.stringify({ ...creds, token }));
  }

  async #describe(key: string): Promise<string> {
    return (await this.kind()) === "file"
      ? `the entry "${key}" in ${this.filePath}`
      : `the keychain entry ${CREDENTIALS_SERVICE}/${key}`;
  }

  /** The user keys listed in `known_users`. */
  async knownUsers(): Promise<string[]> {
    const raw = await this.get(KNOWN_USERS_KEY);
    if (!raw) return [];
    try {
      const list = JSON.parse(raw);
      return Array.isArray(list) ? list.filter((k): k is string => typeof k === "string") : [];
    } catch {
      return [];
    }
  }

  /** Adds `userKey` to `known_users` when missing. */
  async addKnownUser(userKey: string): Promise<void> {
    const list = await this.knownUsers();
    if (list.includes(userKey)) return;
    await this.set(KNOWN_USERS_KEY, JSON.stringify([...list, userKey]));
  }

  /** Removes `userKeys` from `known_users` (deleting the entry when it empties). */
  async removeKnownUsers(userKeys: string[]): Promise<void> {
    const list = await this.knownUsers();
    const kept = list.filter((k) => !userKeys.includes(k));
    if (kept.length === list.length) return;
    if (kept.length === 0) await this.delete(KNOWN_USERS_KEY);
    else await this.set(KNOWN_USERS_KEY, JSON.stringify(kept));
  }

  /** The user key in `active_user`, if any. */
  async activeUser(): Promise<string | undefined> {
    return (await this.get(ACTIVE_USER_KEY)) || undefined;
  }

  /** Points `active_user` at `userKey`, or deletes it when `undefined`. */
  async setActiveUser(userKey: string | undefined): Promise<void> {
    if (userKey === undefined) await this.delete(ACTIVE_USER_KEY);
    else await this.set(ACTIVE_USER_KEY, userKey);
  }
}

/** Parses a StoredCredentials JSON blob; `where` names its location in errors. */
export function parseStoredCredentials(raw: string, where: string): StoredCredentials {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw new CliError(
      "CREDENTIALS_INVALID",
      `cannot parse ${where}${jsonSyntaxProblem(raw, err)}`,
      {
        hint: "Run 'datumctl login' again to replace it.",
        exitCode: ExitCode.dataError,
      },
    );
  }
  const creds = value as Partial<StoredCredentials> | null;
  if (
    !creds || typeof creds !== "object" || !creds.token ||
    typeof creds.token.access_token !== "string"
  ) {
    throw new CliError(
      "CREDENTIALS_INVALID",
      `${where} is missing token information`,
      { hint: "Run 'datumctl login' again to replace it.", exitCode: ExitCode.dataError },
    );
  }
  return {
    hostname: "",
    api_hostname: "",
    client_id: "",
    endpoint_auth_url: "",
    endpoint_token_url: "",
    scopes: [],
    user_name: "",
    user_email: "",
    subject: "",
    ...creds,
  } as StoredCredentials;
}
